/* Human sizes: "600M", "1.5G", "4096" <-> bytes. Binary units (K = 1024). */
#ifndef MOAT_SIZE_H
#define MOAT_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Parse "123", "10K", "600M", "2G", "1T" (case-insensitive, optional "B"/"iB").
 * 0 and *out set, or -1 on a bad or overflowing value. */
int	size_parse(const char *s, uint64_t *out);
/* "1.5G" style, via humanize_number; returns buf. */
char	*size_format(uint64_t n, char *buf, size_t len);

#endif
