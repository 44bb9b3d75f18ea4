/* The monotonic clock, in milliseconds. */
#include <time.h>

#include "shared/clock.h"

long
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}
