/* Human sizes: strict parse with binary units, format via humanize_number. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <bsd/libutil.h>
#include <bsd/string.h>

#include "shared/size.h"

#define SIZE_FRAC_MAX	9	/* decimal places accepted after the point */

static const struct {
	char	 letter;
	unsigned shift;
} size_units[] = {
	{ 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 }, { 'P', 50 },
	{ 'E', 60 },
};

static int	size_suffix(const char *s, unsigned *shift);

/*
 * The suffix after the number: "", "B", or a unit letter optionally
 * followed by "B" or "iB". 0 and *shift set, or -1.
 */
static int
size_suffix(const char *s, unsigned *shift)
{
	size_t	i;

	*shift = 0;
	if (*s == '\0')
		return 0;
	if ((s[0] == 'b' || s[0] == 'B') && s[1] == '\0')
		return 0;
	for (i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++)
		if (toupper((unsigned char)s[0]) == size_units[i].letter)
			break;
	if (i == sizeof(size_units) / sizeof(size_units[0]))
		return -1;
	*shift = size_units[i].shift;
	s++;
	if (*s == '\0' || strcasecmp(s, "B") == 0 || strcasecmp(s, "iB") == 0)
		return 0;
	return -1;
}

int
size_parse(const char *s, uint64_t *out)
{
	unsigned __int128	 whole = 0, frac = 0, scale = 1, v;
	unsigned		 shift, nfrac = 0;
	const char		*p = s;

	if (s == NULL || !isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (unsigned)(*p - '0');
		if (whole > UINT64_MAX)
			goto bad;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		for (; isdigit((unsigned char)*p); p++) {
			if (++nfrac > SIZE_FRAC_MAX)
				goto bad;
			frac = frac * 10 + (unsigned)(*p - '0');
			scale *= 10;
		}
	}
	if (size_suffix(p, &shift) == -1)
		goto bad;
	/* A fraction of a byte is meaningless. */
	if (nfrac > 0 && shift == 0)
		goto bad;
	v = whole << shift;
	if (v > UINT64_MAX)
		goto bad;
	v += (frac << shift) / scale;	/* rounds down to whole bytes */
	/* only a plain 0 is zero: "0.0001K" would be no limit at all */
	if (v > UINT64_MAX || (v == 0 && (whole != 0 || frac != 0)))
		goto bad;
	*out = (uint64_t)v;
	return 0;
 bad:
	errno = EINVAL;
	return -1;
}

char *
size_format(uint64_t n, char *buf, size_t len)
{
	char	tmp[8];

	if (len == 0)
		return buf;
	if (n > INT64_MAX) {
		/* Beyond humanize_number's int64_t: only exbibytes remain. */
		(void)snprintf(tmp, sizeof(tmp), "%uE",
		    (unsigned)(n >> 60));
	} else if (humanize_number(tmp, 5, (int64_t)n, "", HN_AUTOSCALE,
	    HN_DECIMAL | HN_NOSPACE | HN_B) == -1)
		(void)snprintf(tmp, sizeof(tmp), "?");
	(void)strlcpy(buf, tmp, len);
	return buf;
}
