/* FTP reply parsing and the parsers for reply payloads. No I/O here. */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "shared/ftpreply.h"

#define LIST_TOK_MAX	12

static size_t	strip_eol(const char *, size_t);
static int	reply_code(const char *, size_t);
static void	text_add(struct ftp_reply *, const char *, size_t);
static void	copy_text(char *, size_t, const char *, size_t);
static int	parse_u64(const char *, size_t, uint64_t *);
static int	parse_octet(const char **, unsigned int *);
static int	pasv_at(const char *, uint8_t *, uint16_t *);
static int	is_hex(const char *, size_t);
static int	mlsd_fact(struct ftp_entry *, const char *, size_t);
static int	mlsd_facts(const char *, size_t, struct ftp_entry *,
		    const char **);
static int	parse_modify(const char *, size_t, time_t *);
static int	month_of(const char *, size_t);
static int	list_date(const char **, const size_t *, int, time_t,
		    time_t *);

static const char *const months[12] = { "jan", "feb", "mar", "apr", "may",
	"jun", "jul", "aug", "sep", "oct", "nov", "dec" };

static size_t
strip_eol(const char *line, size_t len)
{
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	return len;
}

/* The code of "ddd" at line start, or -1. */
static int
reply_code(const char *line, size_t len)
{
	if (len < 3 || line[0] < '1' || line[0] > '5' ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

static void
copy_text(char *dst, size_t dstlen, const char *src, size_t len)
{
	if (len >= dstlen)
		len = dstlen - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void
text_add(struct ftp_reply *r, const char *s, size_t len)
{
	size_t	need = len + (r->textlen > 0 ? 1 : 0);

	if (r->textlen + need >= sizeof(r->text)) {
		r->truncated = 1;
		return;
	}
	if (r->textlen > 0)
		r->text[r->textlen++] = '\n';
	memcpy(r->text + r->textlen, s, len);
	r->textlen += len;
	r->text[r->textlen] = '\0';
}

void
ftpreply_init(struct ftp_rparser *p)
{
	p->inside = 0;
	p->r.code = 0;
	p->r.multiline = 0;
	p->r.truncated = 0;
	p->r.nlines = 0;
	p->r.first[0] = p->r.last[0] = p->r.text[0] = '\0';
	p->r.textlen = 0;
}

int
ftpreply_feed(struct ftp_rparser *p, const char *line, size_t len)
{
	struct ftp_reply	*r = &p->r;
	int			 code;

	len = strip_eol(line, len);
	if (len >= FTP_LINE_MAX || memchr(line, '\0', len) != NULL)
		return -1;
	if (++r->nlines > FTP_LINES_MAX)
		return -1;
	code = reply_code(line, len);
	if (!p->inside) {
		if (code == -1 || (len > 3 && line[3] != ' ' && line[3] != '-'))
			return -1;
		r->code = code;
		copy_text(r->first, sizeof(r->first), line + 4 - (len == 3),
		    len > 3 ? len - 4 : 0);
		text_add(r, r->first, strlen(r->first));
		if (len > 3 && line[3] == '-') {
			p->inside = 1;
			r->multiline = 1;
			return 0;
		}
		strlcpy(r->last, r->first, sizeof(r->last));
		return 1;
	}
	if (code == r->code && (len == 3 || line[3] == ' ')) {
		copy_text(r->last, sizeof(r->last), line + 4 - (len == 3),
		    len > 3 ? len - 4 : 0);
		text_add(r, r->last, strlen(r->last));
		p->inside = 0;
		return 1;
	}
	if (code == r->code && line[3] == '-')
		text_add(r, line + 4, len - 4);
	else
		text_add(r, line, len);
	return 0;
}

int
ftpreply_parse(const char *buf, size_t len, struct ftp_reply *r, size_t *used)
{
	struct ftp_rparser		 p;
	const char			*nl;
	size_t				 off = 0, n;
	int				 rv;

	ftpreply_init(&p);
	while (off < len) {
		nl = memchr(buf + off, '\n', len - off);
		if (nl == NULL)
			return len - off >= FTP_LINE_MAX ? -1 : 0;
		n = (size_t)(nl - (buf + off)) + 1;
		if ((rv = ftpreply_feed(&p, buf + off, n)) == -1)
			return -1;
		off += n;
		if (rv == 1) {
			memcpy(r, &p.r, sizeof(*r));
			*used = off;
			return 1;
		}
	}
	return 0;
}

/* Digits only, no sign, no overflow. */
static int
parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
parse_octet(const char **sp, unsigned int *out)
{
	const char	*s = *sp;
	unsigned int	 v = 0;
	int		 n = 0;

	while (isdigit((unsigned char)*s) && n < 4) {
		v = v * 10 + (unsigned int)(*s++ - '0');
		n++;
	}
	if (n == 0 || n > 3 || v > 255)
		return -1;
	*sp = s;
	*out = v;
	return 0;
}

static int
pasv_at(const char *s, uint8_t *addr, uint16_t *port)
{
	unsigned int	v[6];
	int		i;

	for (i = 0; i < 6; i++) {
		if (i > 0 && *s++ != ',')
			return -1;
		if (parse_octet(&s, &v[i]) == -1)
			return -1;
	}
	if (isdigit((unsigned char)*s))
		return -1;
	for (i = 0; i < 4; i++)
		addr[i] = (uint8_t)v[i];
	*port = (uint16_t)(v[4] * 256 + v[5]);
	return *port == 0 ? -1 : 0;
}

int
ftpreply_pasv(const char *text, uint8_t addr[4], uint16_t *port)
{
	const char	*s;

	for (s = text; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			continue;
		if (s > text && (isdigit((unsigned char)s[-1]) ||
		    s[-1] == '-'))
			continue;
		if (pasv_at(s, addr, port) == 0)
			return 0;
	}
	return -1;
}

int
ftpreply_epsv(const char *text, uint16_t *port)
{
	const char	*s, *e;
	uint64_t	 v;
	char		 d;

	if ((s = strchr(text, '(')) == NULL)
		return -1;
	d = s[1];
	if (d < 33 || d > 126 || isdigit((unsigned char)d) ||
	    s[2] != d || s[3] != d)
		return -1;
	s += 4;
	if ((e = strchr(s, d)) == NULL || e[1] != ')')
		return -1;
	if (parse_u64(s, (size_t)(e - s), &v) == -1 || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int
ftpreply_pwd(const char *text, char *path, size_t len)
{
	const char	*s;
	size_t		 n = 0;

	if (len == 0 || (s = strchr(text, '"')) == NULL)
		return -1;
	for (s++; *s != '\0'; s++) {
		if (*s == '"') {
			if (s[1] != '"')
				break;
			s++;
		}
		/* shown in the prompt and by pwd: no terminal escapes */
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return -1;
		if (n + 1 >= len)
			return -1;
		path[n++] = *s;
	}
	if (*s != '"' || n == 0)
		return -1;
	path[n] = '\0';
	return 0;
}

static int
is_hex(const char *s, size_t len)
{
	size_t	i;

	if (len != 32 && len != 40 && len != 64 && len != 128)
		return 0;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int
ftpreply_hash(const char *text, char *algo, size_t algolen, uint64_t *start,
    uint64_t *end, char *hex, size_t hexlen)
{
	const char	*tok[3], *dash;
	size_t		 tl[3], i, n = 0;
	const char	*s = text, *h;
	size_t		 hl;

	while (n < 3) {
		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		tok[n] = s;
		while (*s != ' ' && *s != '\0')
			s++;
		tl[n] = (size_t)(s - tok[n]);
		n++;
	}
	if (n >= 1 && is_hex(tok[0], tl[0])) {
		algo[0] = '\0';
		*start = *end = 0;
		h = tok[0];
		hl = tl[0];
	} else if (n == 3) {
		if (tl[0] == 0 || tl[0] >= algolen)
			return -1;
		memcpy(algo, tok[0], tl[0]);
		algo[tl[0]] = '\0';
		dash = memchr(tok[1], '-', tl[1]);
		if (dash == NULL ||
		    parse_u64(tok[1], (size_t)(dash - tok[1]), start) == -1 ||
		    parse_u64(dash + 1, tl[1] - (size_t)(dash - tok[1]) - 1,
		    end) == -1 || *end < *start)
			return -1;
		if (!is_hex(tok[2], tl[2]))
			return -1;
		h = tok[2];
		hl = tl[2];
	} else
		return -1;
	if (hl >= hexlen)
		return -1;
	for (i = 0; i < hl; i++)
		hex[i] = (char)tolower((unsigned char)h[i]);
	hex[hl] = '\0';
	return 0;
}

int
ftpreply_kv(const char *text, const char *key, uint64_t *val)
{
	const char	*s = text, *t;
	size_t		 kl = strlen(key), tl;

	if (kl == 0)
		return -1;
	while (*s != '\0') {
		while (*s == ' ' || *s == ',' || *s == ';')
			s++;
		t = s;
		while (*s != '\0' && *s != ' ' && *s != ',' && *s != ';')
			s++;
		tl = (size_t)(s - t);
		if (tl > kl && strncasecmp(t, key, kl) == 0 && t[kl] == '=')
			return parse_u64(t + kl + 1, tl - kl - 1, val);
	}
	return -1;
}

static int
parse_modify(const char *s, size_t len, time_t *out)
{
	struct tm	tm;
	uint64_t	v[6];
	static const size_t w[6] = { 4, 2, 2, 2, 2, 2 };
	size_t		i, off = 0;
	time_t		t;

	if (len < 14 || (len > 14 && s[14] != '.'))
		return -1;
	for (i = 0; i < 6; i++) {
		if (parse_u64(s + off, w[i], &v[i]) == -1)
			return -1;
		off += w[i];
	}
	if (v[0] < 1970 || v[0] > 9999 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
	    v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)v[0] - 1900;
	tm.tm_mon = (int)v[1] - 1;
	tm.tm_mday = (int)v[2];
	tm.tm_hour = (int)v[3];
	tm.tm_min = (int)v[4];
	tm.tm_sec = (int)v[5];
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = t;
	return 0;
}

static int
mlsd_fact(struct ftp_entry *e, const char *f, size_t len)
{
	const char	*eq = memchr(f, '=', len);
	size_t		 kl, vl;
	const char	*v;

	if (eq == NULL || eq == f)
		return -1;
	kl = (size_t)(eq - f);
	v = eq + 1;
	vl = len - kl - 1;
	if (kl == 4 && strncasecmp(f, "type", 4) == 0) {
		if (vl == 4 && strncasecmp(v, "file", 4) == 0)
			e->type = FTP_ENT_FILE;
		else if (vl == 3 && strncasecmp(v, "dir", 3) == 0)
			e->type = FTP_ENT_DIR;
		else if (vl == 4 && strncasecmp(v, "cdir", 4) == 0)
			e->type = FTP_ENT_CDIR;
		else if (vl == 4 && strncasecmp(v, "pdir", 4) == 0)
			e->type = FTP_ENT_PDIR;
		else if (vl >= 13 && strncasecmp(v, "OS.unix=slink", 13) == 0)
			e->type = FTP_ENT_LINK;
		else if (vl >= 15 && strncasecmp(v, "OS.unix=symlink", 15) == 0)
			e->type = FTP_ENT_LINK;
		else
			e->type = FTP_ENT_OTHER;
	} else if ((kl == 4 && strncasecmp(f, "size", 4) == 0) ||
	    (kl == 4 && strncasecmp(f, "sizd", 4) == 0)) {
		if (parse_u64(v, vl, &e->size) == -1)
			return -1;
		e->has_size = 1;
	} else if (kl == 6 && strncasecmp(f, "modify", 6) == 0) {
		if (parse_modify(v, vl, &e->mtime) == -1)
			return -1;
		e->has_mtime = 1;
	}
	return 0;
}

/*
 * A name from a listing is one path component the client may print and
 * join to a path: no '/' (a server could point `del -d` or `get -r` out of
 * the tree), no control bytes (terminal escapes), and it fits.
 */
static int
entry_name_ok(const char *name, size_t nl, size_t cap)
{
	size_t	i;

	if (nl == 0 || nl >= cap)
		return 0;
	for (i = 0; i < nl; i++)
		if (name[i] == '/' || (unsigned char)name[i] < 0x20 ||
		    name[i] == 0x7f)
			return 0;
	return 1;
}

/* "fact=v;fact=v; name": the facts into e, *name after the space. */
static int
mlsd_facts(const char *line, size_t len, struct ftp_entry *e,
    const char **name)
{
	const char	*sp, *f, *semi;

	memset(e, 0, sizeof(*e));
	e->type = FTP_ENT_OTHER;
	if ((sp = memchr(line, ' ', len)) == NULL)
		return -1;
	for (f = line; f < sp; f = semi + 1) {
		if ((semi = memchr(f, ';', (size_t)(sp - f))) == NULL)
			return -1;
		if (semi > f && mlsd_fact(e, f, (size_t)(semi - f)) == -1)
			return -1;
	}
	*name = sp + 1;
	return 0;
}

int
ftpreply_mlst(const char *text, struct ftp_entry *e)
{
	const char	*line, *nl, *name;
	size_t		 len;

	/* the entry line starts with a space; so may the reply's own text
	 * (" Listing x", RFC 3659's example): a line that does not parse as
	 * facts is passed over */
	for (line = text; ; line = nl + 1) {
		if ((nl = strchr(line, '\n')) != NULL)
			len = (size_t)(nl - line);
		else
			len = strlen(line);
		len = strip_eol(line, len);
		if (len > 1 && line[0] == ' ' &&
		    mlsd_facts(line + 1, len - 1, e, &name) == 0 &&
		    name != line + len)
			return 0;
		if (nl == NULL)
			return -1;
	}
}

int
ftpreply_mlsd(const char *line, struct ftp_entry *e)
{
	const char	*name;
	size_t		 len = strip_eol(line, strlen(line)), nl;

	if (mlsd_facts(line, len, e, &name) == -1)
		return -1;
	nl = len - (size_t)(name - line);
	if (nl == 0)
		return -1;
	if (!entry_name_ok(name, nl, sizeof(e->name))) {
		copy_text(e->name, sizeof(e->name), name, nl);
		return FTPREPLY_BADNAME;
	}
	memcpy(e->name, name, nl);
	e->name[nl] = '\0';
	return 0;
}

static int
month_of(const char *s, size_t len)
{
	int	i;

	if (len != 3)
		return -1;
	for (i = 0; i < 12; i++)
		if (strncasecmp(s, months[i], 3) == 0)
			return i;
	return -1;
}

/* tok[m] month, tok[m+1] day, tok[m+2] "HH:MM" or year. */
static int
list_date(const char **tok, const size_t *tl, int m, time_t now, time_t *out)
{
	struct tm	tm, nowtm;
	uint64_t	day, a, b;
	const char	*c;
	int		mon;

	if ((mon = month_of(tok[m], tl[m])) == -1 ||
	    parse_u64(tok[m + 1], tl[m + 1], &day) == -1 || day < 1 || day > 31)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mon = mon;
	tm.tm_mday = (int)day;
	c = memchr(tok[m + 2], ':', tl[m + 2]);
	if (c != NULL) {
		if (parse_u64(tok[m + 2], (size_t)(c - tok[m + 2]), &a) == -1 ||
		    parse_u64(c + 1, tl[m + 2] - (size_t)(c - tok[m + 2]) - 1,
		    &b) == -1 || a > 23 || b > 59)
			return -1;
		tm.tm_hour = (int)a;
		tm.tm_min = (int)b;
		if (gmtime_r(&now, &nowtm) == NULL)
			return -1;
		tm.tm_year = nowtm.tm_year;
		if ((*out = timegm(&tm)) == (time_t)-1)
			return -1;
		if (*out > now + 86400) {
			tm.tm_year--;
			*out = timegm(&tm);
		}
		return 0;
	}
	if (tl[m + 2] != 4 || parse_u64(tok[m + 2], 4, &a) == -1 || a < 1900)
		return -1;
	tm.tm_year = (int)a - 1900;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

int
ftpreply_list(const char *line, time_t now, struct ftp_entry *e)
{
	const char	*tok[LIST_TOK_MAX], *s, *name, *arrow;
	size_t		 tl[LIST_TOK_MAX], len, nl;
	int		 n = 0, m;

	memset(e, 0, sizeof(*e));
	len = strip_eol(line, strlen(line));
	if (len == 0 || (len >= 6 && strncasecmp(line, "total ", 6) == 0))
		return 1;
	for (s = line; n < LIST_TOK_MAX && s < line + len; n++) {
		while (s < line + len && *s == ' ')
			s++;
		if (s == line + len)
			break;
		tok[n] = s;
		while (s < line + len && *s != ' ')
			s++;
		tl[n] = (size_t)(s - tok[n]);
	}
	if (n < 7 || tl[0] < 10 || strchr("-dlcbps", line[0]) == NULL)
		return -1;
	for (m = 3; m <= 5 && m + 3 <= n; m++) {
		if (month_of(tok[m], tl[m]) == -1)
			continue;
		if (list_date(tok, tl, m, now, &e->mtime) == 0)
			break;
	}
	if (m > 5 || m + 3 > n || parse_u64(tok[m - 1], tl[m - 1], &e->size))
		return -1;
	e->has_size = e->has_mtime = 1;
	name = tok[m + 2] + tl[m + 2];
	if (name < line + len && *name == ' ')
		name++;
	nl = len - (size_t)(name - line);
	switch (line[0]) {
	case '-':
		e->type = FTP_ENT_FILE;
		break;
	case 'd':
		e->type = FTP_ENT_DIR;
		break;
	case 'l':
		e->type = FTP_ENT_LINK;
		arrow = NULL;
		for (s = name; s + 4 <= name + nl; s++)
			if (memcmp(s, " -> ", 4) == 0) {
				arrow = s;
				break;
			}
		if (arrow != NULL)
			nl = (size_t)(arrow - name);
		break;
	default:
		e->type = FTP_ENT_OTHER;
		break;
	}
	if (nl == 0)
		return -1;
	if (!entry_name_ok(name, nl, sizeof(e->name))) {
		copy_text(e->name, sizeof(e->name), name, nl);
		return FTPREPLY_BADNAME;
	}
	memcpy(e->name, name, nl);
	e->name[nl] = '\0';
	if (strcmp(e->name, ".") == 0)
		e->type = FTP_ENT_CDIR;
	else if (strcmp(e->name, "..") == 0)
		e->type = FTP_ENT_PDIR;
	return 0;
}
