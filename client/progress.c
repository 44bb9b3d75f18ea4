/*
 * Transfer progress: a bar redrawn at most 10 times a second on a terminal,
 * one final line per file everywhere (none with -q).
 */
#include <sys/ioctl.h>
#include <sys/types.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <bsd/string.h>

#include "client/client.h"
#include "shared/size.h"

#define PROG_NAME_COLS	24		/* the name column, when there is room */
#define PROG_NAME_MIN	8
#define PROG_BAR_MIN	10
#define PROG_REDRAW	0.1		/* seconds between redraws */

#define C_GREEN		"\033[32m"
#define C_YELLOW	"\033[33m"
#define C_RED		"\033[31m"
#define C_OFF		"\033[0m"

static void	draw(struct progress *, double);
static void	hms(double, char *, size_t);
static void	put_name(const char *, int, int);
static int	term_cols(void);

double
now_sec(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
term_cols(void)
{
	struct winsize	ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

static void
hms(double s, char *buf, size_t len)
{
	long	t = s < 0 ? 0 : s > 359999 ? 359999 : (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60,
		    t % 60);
	else
		snprintf(buf, len, "%02ld:%02ld", t / 60, t % 60);
}

void
progress_start(struct progress *p, struct client *c, const char *name,
    uint64_t total, uint64_t start)
{
	size_t	n;

	/* Cut the name at a UTF-8 character boundary. */
	n = strlcpy(p->name, name, sizeof(p->name));
	if (n >= sizeof(p->name)) {
		n = sizeof(p->name) - 1;
		while (n > 0 && ((unsigned char)p->name[n] & 0xc0) == 0x80)
			n--;
		p->name[n] = '\0';
	}
	p->total = total;
	p->start = p->done = start;
	p->t0 = now_sec();
	p->t1 = 0;
	p->last = 0;
	p->tty = c->tty;
	p->quiet = c->o.quiet;
	p->color = c->color;
	if (p->tty && !p->quiet)
		draw(p, p->t0);
}

/*
 * The name in at most w terminal columns, cut between two characters, and
 * padded with spaces to exactly w when pad. A byte that is no character in
 * the locale, or a character that cannot be shown (a control character: a
 * server's name or a local one must not drive the terminal), is a '?'.
 */
static void
put_name(const char *s, int w, int pad)
{
	mbstate_t	ps;
	wchar_t		wc;
	size_t		n;
	int		cw;

	memset(&ps, 0, sizeof(ps));
	while (*s != '\0' && w > 0) {
		n = mbrtowc(&wc, s, MB_CUR_MAX, &ps);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0 ||
		    (cw = wcwidth(wc)) < 0) {
			memset(&ps, 0, sizeof(ps));
			putchar('?');
			w--;
			s++;
			continue;
		}
		if (cw > w)
			break;
		fwrite(s, 1, n, stdout);
		w -= cw;
		s += n;
	}
	if (pad)
		printf("%*s", w, "");
}

static void
draw(struct progress *p, double t)
{
	char	 done[16], total[16], rate[16], el[32], eta[32], bar[256];
	char	 left[96], right[96], tail[sizeof(left) + sizeof(bar) +
		    sizeof(right) + 8];
	double	 elapsed = t - p->t0, bps;
	int	 pct = 0, cols, room, namew, width, fill, i;

	bps = elapsed > 0 ? (double)(p->done - p->start) / elapsed : 0;
	size_format(p->done, done, sizeof(done));
	size_format(bps > 0 ? (uint64_t)bps : 0, rate, sizeof(rate));
	hms(elapsed, el, sizeof(el));
	if (p->total != UINT64_MAX && p->total > 0) {
		pct = (int)(p->done * 100 / p->total);
		if (pct > 100)
			pct = 100;
		size_format(p->total, total, sizeof(total));
		if (bps > 0)
			hms((double)(p->total - (p->done < p->total ? p->done :
			    p->total)) / bps, eta, sizeof(eta));
		else
			strlcpy(eta, "--:--", sizeof(eta));
	} else {
		strlcpy(total, "?", sizeof(total));
		strlcpy(eta, "--:--", sizeof(eta));
	}
	(void)snprintf(left, sizeof(left), "%6s/%-6s %s", done, total, el);
	(void)snprintf(right, sizeof(right), "%3d%% %6s/s ETA %s", pct, rate,
	    eta);
	/*
	 * The line stays short of the last column: one that wraps leaves a
	 * copy behind at every redraw. The bar takes what the name and the
	 * numbers leave; on a narrow terminal the name shrinks, then the bar
	 * goes, then the line is cut.
	 */
	cols = term_cols();
	room = cols - 1 - (int)(strlen(left) + strlen(right)) - 2;
	namew = PROG_NAME_COLS;
	width = room - namew - 3;			/* "[" "] " */
	if (width < PROG_BAR_MIN) {
		namew = room - 3 - PROG_BAR_MIN;
		if (namew < PROG_NAME_MIN)
			namew = PROG_NAME_MIN;
		width = room - namew - 3;
	}
	if (width > (int)sizeof(bar) - 1)
		width = (int)sizeof(bar) - 1;
	if (width >= PROG_BAR_MIN) {
		fill = width * pct / 100;
		for (i = 0; i < width; i++)
			bar[i] = i < fill ? '#' : (i == fill ? '>' : '.');
		bar[width] = '\0';
		(void)snprintf(tail, sizeof(tail), "%s [%s] %s", left, bar,
		    right);
	} else
		(void)snprintf(tail, sizeof(tail), "%s %s", left, right);
	putchar('\r');
	put_name(p->name, namew, 1);
	printf(" %.*s\033[K", cols - 2 - namew, tail);
	fflush(stdout);
}

void
progress_update(struct progress *p, uint64_t done)
{
	double	t;

	p->done = done;
	if (!p->tty || p->quiet)
		return;
	t = now_sec();
	if (t - p->last < PROG_REDRAW)
		return;
	p->last = t;
	draw(p, t);
}

void
progress_done(struct progress *p)
{
	p->t1 = now_sec();
	if (p->tty && !p->quiet)
		draw(p, p->t1);
}

/* ok: 1 done, 0 failed (the caller prints why); note: "verified MD5"... */
void
progress_end(struct progress *p, int ok, const char *note)
{
	char	 size[16], rate[16], el[32];
	double	 elapsed = (p->t1 > 0 ? p->t1 : now_sec()) - p->t0, bps;
	int	 warn = note != NULL && strncmp(note, "not ", 4) == 0;

	if (p->quiet)
		return;
	if (p->tty) {
		printf("\r\033[K");
		fflush(stdout);
	}
	if (!ok)
		return;
	bps = elapsed > 0 ? (double)(p->done - p->start) / elapsed : 0;
	size_format(p->done, size, sizeof(size));
	size_format(bps > 0 ? (uint64_t)bps : 0, rate, sizeof(rate));
	hms(elapsed, el, sizeof(el));
	put_name(p->name, INT_MAX, 0);
	printf("  %s  %s  %s/s  %s%s%s\n", size, el, rate,
	    p->color ? (warn ? C_YELLOW : C_GREEN) : "",
	    note != NULL ? note : "done", p->color ? C_OFF : "");
	fflush(stdout);
}
