/* The monotonic clock, in milliseconds: deadlines and timeouts. */
#ifndef MOAT_CLOCK_H
#define MOAT_CLOCK_H

long	mono_ms(void);

#endif
