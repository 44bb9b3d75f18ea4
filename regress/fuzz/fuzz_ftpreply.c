/*
 * libFuzzer: the client's reply parsers (shared/ftpreply.c): whole replies
 * (ftpreply_parse), line by line (ftpreply_feed), and what replies carry
 * (PASV, EPSV, PWD, HASH, key=value). Results must stay inside their
 * buffers and in range.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/ftpreply.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ftp_reply		r;
	static struct ftp_rparser	p;
	static char			text[FTP_LINE_MAX + 1];
	const char	*buf = (const char *)data, *nl;
	char		path[512], algo[32], hex[160];
	uint8_t		addr[4];
	uint16_t	port;
	uint64_t	start, end, v;
	size_t		used, off, n;
	int		rc;

	/* whole replies, one after another */
	for (off = 0; off < size; off += used) {
		rc = ftpreply_parse(buf + off, size - off, &r, &used);
		if (rc != 1)
			break;
		assert(used > 0 && used <= size - off);
		assert(r.code >= 100 && r.code <= 599);
		assert(r.textlen < sizeof(r.text));
		assert(strlen(r.first) < sizeof(r.first));
		assert(strlen(r.last) < sizeof(r.last));
	}
	/* line by line */
	ftpreply_init(&p);
	for (off = 0; off < size; off += n) {
		nl = memchr(buf + off, '\n', size - off);
		n = nl == NULL ? size - off : (size_t)(nl - (buf + off)) + 1;
		rc = ftpreply_feed(&p, buf + off, n);
		if (rc == -1)
			break;
		if (rc == 1) {
			assert(p.r.code >= 100 && p.r.code <= 599);
			ftpreply_init(&p);
		}
	}
	/* the payload parsers take a NUL-terminated text */
	n = size < FTP_LINE_MAX ? size : FTP_LINE_MAX;
	memcpy(text, buf, n);
	text[n] = '\0';
	(void)ftpreply_pasv(text, addr, &port);
	if (ftpreply_epsv(text, &port) == 0)
		assert(port > 0);
	if (ftpreply_pwd(text, path, sizeof(path)) == 0)
		assert(strlen(path) < sizeof(path));
	if (ftpreply_hash(text, algo, sizeof(algo), &start, &end, hex,
	    sizeof(hex)) == 0)
		assert(strlen(algo) < sizeof(algo) && strlen(hex) < sizeof(hex));
	(void)ftpreply_kv(text, "used", &v);
	(void)ftpreply_kv(text, "", &v);
	return 0;
}
