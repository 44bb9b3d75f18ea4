#ifndef MOAT_BINDNOW_H
#define MOAT_BINDNOW_H

/* Exec this program again with LD_BIND_NOW=1, unless it already has it;
 * on failure say so on stderr and return. Call first in main. */
void	bindnow_reexec(char *argv[]);

#endif
