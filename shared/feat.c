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

int
mlst_names(char *buf, size_t len, unsigned int mask, int all)
{
	size_t	o = 0, i;
	int	n, on;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	for (i = 0; i < MLST_NFACTS; i++) {
		on = (mask & (1u << i)) != 0;
		if (!all && !on)
			continue;
		n = snprintf(buf + o, len - o, "%s%s;", mlst_facts[i],
		    all && on ? "*" : "");
		if (n < 0 || (size_t)n >= len - o)
			return -1;
		o += (size_t)n;
	}
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
	char	facts[64];
	size_t	o = 0, i;
	int	n;

	if (mlst_names(facts, sizeof(facts), mlst, 1) == -1)
		return 0;
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
	PUT(" MLST %s\r\n HASH ", facts);
	for (i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
		PUT("%s%s%s", i ? ";" : "", digest_name(algos[i]),
		    algos[i] == hash_algo ? "*" : "");
	PUT("\r\n211 End\r\n");
#undef PUT
	return o;
}
