/*
 * Integer literals that libconfig 1.5 would take wrongly. It reads a
 * number without the L suffix into 32 bits, so "uid_min = 4294987296;"
 * silently becomes 20000 and passes every range check. This reads the
 * file's text the way libconfig's scanner does (strings, comments, names,
 * numbers) and refuses such a number with its line.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/cfgnum.h"

#define CFGNUM_INCLUDE_MAX	10	/* as libconfig's own include depth */

static int	scan_file(const char *, int, char *, size_t);
static int	scan_text(const char *, const char *, int, char *, size_t);
static int	check_number(const char *, size_t, const char *, int, char *,
		    size_t);

/* One number token s[0..n): 0, or -1 (err set) if it would wrap. */
static int
check_number(const char *s, size_t n, const char *file, int line,
    char *err, size_t errlen)
{
	char		 buf[64];
	const char	*p = buf;
	uintmax_t	 v;
	char		*end;
	int		 neg = 0, hex;

	if (n >= sizeof(buf)) {
		(void)snprintf(err, errlen, "%s:%d: number too long", file,
		    line);
		return -1;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
	if (!hex && strpbrk(p, ".eE") != NULL)
		return 0;		/* a float */
	if (n > 0 && (buf[n - 1] == 'L' || buf[n - 1] == 'l'))
		return 0;		/* 64-bit, as written */
	errno = 0;
	v = strtoumax(p, &end, hex ? 16 : 10);
	if (*end != '\0')
		return 0;		/* not a number: libconfig says why */
	if (errno == ERANGE || (hex && v > UINT32_MAX) ||
	    (!hex && v > (neg ? (uintmax_t)INT32_MAX + 1 : INT32_MAX))) {
		(void)snprintf(err, errlen, "%s:%d: %s does not fit in 32 "
		    "bits (write %sL for a 64-bit number)", file, line, buf,
		    buf);
		return -1;
	}
	return 0;
}

/* Scan text (NUL-terminated) of file; follows @include. */
static int
scan_text(const char *t, const char *file, int depth, char *err,
    size_t errlen)
{
	char		 inc[PATH_MAX];
	const char	*q;
	size_t		 n;
	int		 line = 1, in_include = 0;

	while (*t != '\0') {
		if (*t == '\n') {
			line++;
			t++;
		} else if (*t == '#' || (t[0] == '/' && t[1] == '/')) {
			t += strcspn(t, "\n");
		} else if (t[0] == '/' && t[1] == '*') {
			for (t += 2; *t != '\0' && !(t[0] == '*' && t[1] == '/');
			    t++)
				line += *t == '\n';
			t += *t != '\0' ? 2 : 0;
		} else if (*t == '"') {
			for (q = ++t; *t != '\0' && *t != '"'; t++) {
				if (*t == '\\' && t[1] != '\0')
					t++;
				line += *t == '\n';
			}
			n = (size_t)(t - q);
			if (in_include) {
				in_include = 0;
				if (n >= sizeof(inc)) {
					(void)snprintf(err, errlen, "%s:%d: "
					    "@include path too long", file,
					    line);
					return -1;
				}
				memcpy(inc, q, n);
				inc[n] = '\0';
				if (scan_file(inc, depth + 1, err, errlen) ==
				    -1)
					return -1;
			}
			t += *t != '\0';
		} else if (strncmp(t, "@include", 8) == 0) {
			in_include = 1;
			t += 8;
		} else if (isalpha((unsigned char)*t) || *t == '*') {
			while (isalnum((unsigned char)*t) || *t == '_' ||
			    *t == '-' || *t == '*')
				t++;
		} else if (isdigit((unsigned char)*t) || ((*t == '-' ||
		    *t == '+') && (isdigit((unsigned char)t[1]) ||
		    t[1] == '.'))) {
			q = t++;
			while (isalnum((unsigned char)*t) || *t == '.' ||
			    ((*t == '-' || *t == '+') &&
			    (t[-1] == 'e' || t[-1] == 'E')))
				t++;
			if (check_number(q, (size_t)(t - q), file, line, err,
			    errlen) == -1)
				return -1;
		} else
			t++;
	}
	return 0;
}

static int
scan_file(const char *path, int depth, char *err, size_t errlen)
{
	FILE	*fp;
	char	*text = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	int	 rv;

	if (depth > CFGNUM_INCLUDE_MAX) {
		(void)snprintf(err, errlen, "%s: @include nested too deep",
		    path);
		return -1;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* the whole file as one "line": getdelim stops at NUL only */
	n = getdelim(&text, &cap, '\0', fp);
	if (n == -1 && ferror(fp)) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(text);
		(void)fclose(fp);
		return -1;
	}
	(void)fclose(fp);
	rv = scan_text(n == -1 ? "" : text, path, depth, err, errlen);
	free(text);
	return rv;
}

int
cfgnum_check(const char *path, char *err, size_t errlen)
{
	return scan_file(path, 0, err, errlen);
}
