/* FEAT: what the server offers. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "shared/digest.h"
#include "shared/feat.h"

static const char *const feats[] = {
	"UTF8", "EPRT", "EPSV", "MDTM", "MFMT", "SIZE", "REST STREAM", "TVFS",
};

const char *const mlst_facts[MLST_NFACTS] = {
	"type", "size", "modify", "perm", "unique",
};

unsigned int
mlst_bit(const char *name, size_t nlen)
{
	size_t	i;

	for (i = 0; i < MLST_NFACTS; i++)
		if (strlen(mlst_facts[i]) == nlen &&
		    strncasecmp(name, mlst_facts[i], nlen) == 0)
			return 1u << i;
	return 0;
}

unsigned int
mlst_parse(const char *list)
{
	unsigned int	mask = 0;
	size_t		n;

	while (*list != '\0') {
		n = strcspn(list, ";");
		mask |= mlst_bit(list, n);
		list += n;
		if (*list == ';')
			list++;
	}
	return mask;
}

size_t
ftp_feat(char *buf, size_t len, int tls, int hash_algo, unsigned int mlst)
{
	static const int algos[] = { DIGEST_SHA256, DIGEST_SHA1, DIGEST_MD5,
	    DIGEST_SHA512 };
	size_t	o = 0, i;
	int	n;

#define PUT(...) do {							\
	n = snprintf(buf + o, len - o, __VA_ARGS__);			\
	if (n < 0 || (size_t)n >= len - o)				\
		return o;						\
	o += (size_t)n;							\
} while (0)

	PUT("211-Features:\r\n");
	if (tls)
		PUT(" AUTH TLS\r\n AUTH SSL\r\n PBSZ\r\n PROT\r\n CCC\r\n");
	for (i = 0; i < sizeof(feats) / sizeof(feats[0]); i++)
		PUT(" %s\r\n", feats[i]);
	PUT(" MLST ");
	for (i = 0; i < MLST_NFACTS; i++)
		PUT("%s%s;", mlst_facts[i], mlst & (1u << i) ? "*" : "");
	PUT("\r\n HASH ");
	for (i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
		PUT("%s%s%s", i ? ";" : "", digest_name(algos[i]),
		    algos[i] == hash_algo ? "*" : "");
	PUT("\r\n211 End\r\n");
#undef PUT
	return o;
}
