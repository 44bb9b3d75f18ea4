/* FEAT: what the server offers. */
#include <stdio.h>
#include <string.h>

#include "shared/digest.h"
#include "shared/feat.h"

static const char *const feats[] = {
	"UTF8", "EPRT", "EPSV", "MDTM", "MFMT", "SIZE", "REST STREAM", "TVFS",
	"MLST type*;size*;modify*;perm*;unique*;",
};

size_t
ftp_feat(char *buf, size_t len, int tls, int hash_algo)
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
	PUT(" HASH ");
	for (i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
		PUT("%s%s%s", i ? ";" : "", digest_name(algos[i]),
		    algos[i] == hash_algo ? "*" : "");
	PUT("\r\n211 End\r\n");
#undef PUT
	return o;
}
