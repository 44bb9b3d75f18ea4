/* Integer literals libconfig 1.5 would cut to 32 bits (see cfgnum.c). */
#ifndef MOAT_CFGNUM_H
#define MOAT_CFGNUM_H

#include <stddef.h>

/* 0, or -1 with "file:line: message" (or "file: error") in err. */
int	cfgnum_check(const char *path, char *err, size_t errlen);

#endif
