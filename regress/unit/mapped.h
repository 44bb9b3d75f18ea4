/* For the unit tests of shared memory a process gives up (ledger_confine,
 * scoreboard_confine): is a page still mapped here? */
#ifndef MOAT_TEST_MAPPED_H
#define MOAT_TEST_MAPPED_H

#include <sys/mman.h>

#include <stddef.h>
#include <stdint.h>

/* Is the page holding p mapped in this process? (pg: the page size) */
static inline int
mapped(const void *p, size_t pg)
{
	unsigned char	v;

	return mincore((void *)((uintptr_t)p & ~(uintptr_t)(pg - 1)), pg,
	    &v) == 0;
}

#endif
