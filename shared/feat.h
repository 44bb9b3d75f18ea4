/* The FEAT reply (RFC 2389), the same before and after login. */
#ifndef MOAT_FEAT_H
#define MOAT_FEAT_H

#include <stddef.h>

/* Build the multi-line 211 reply; tls: AUTH TLS offered; hash_algo: the
 * selected HASH algorithm (enum digest_algo). Returns its length. */
size_t	ftp_feat(char *buf, size_t len, int tls, int hash_algo,
	    unsigned int mlst);

/* MLST/MLSD facts (RFC 3659 7.9), a bit each in the order of mlst_facts
 * ("type", "size", "modify", "perm", "unique"); all are on by default. */
#define MLST_NFACTS	5
#define MLST_ALL	((1u << MLST_NFACTS) - 1)
extern const char *const mlst_facts[MLST_NFACTS];
/* OPTS MLST "fact;fact;...": the facts named (any case), others ignored. */
unsigned int	mlst_parse(const char *list);
/* "type;size;..." into buf: every fact with a '*' after those in mask
 * (FEAT), or those in mask alone (the reply to OPTS MLST). -1 if cut. */
int		mlst_names(char *buf, size_t len, unsigned int mask, int all);
/* The fact of a "name=value" token (nlen bytes of name): its bit, or 0. */
unsigned int	mlst_bit(const char *name, size_t nlen);

#endif
