/*
 * libFuzzer: the client's MLSD, MLST and LIST parsers (shared/ftpreply.c
 * ftpreply_mlsd, ftpreply_mlst, ftpreply_list) fed one arbitrary line.
 * A parsed entry has a NUL-terminated name inside its buffer and a known
 * type.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "shared/ftpreply.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		line[FTP_LINE_MAX + 1];
	static struct ftp_entry	e;
	size_t			n;
	int			rc;

	n = size < FTP_LINE_MAX ? size : FTP_LINE_MAX;
	memcpy(line, data, n);
	line[n] = '\0';
	memset(&e, 0xa5, sizeof(e));
	if ((rc = ftpreply_mlsd(line, &e)) == 0 || rc == FTPREPLY_BADNAME) {
		assert(memchr(e.name, '\0', sizeof(e.name)) != NULL);
		assert(e.type >= FTP_ENT_FILE && e.type <= FTP_ENT_OTHER);
	}
	memset(&e, 0xa5, sizeof(e));
	if (ftpreply_mlst(line, &e) == 0)
		assert(e.type >= FTP_ENT_FILE && e.type <= FTP_ENT_OTHER);
	memset(&e, 0xa5, sizeof(e));
	rc = ftpreply_list(line, (time_t)1700000000, &e);
	assert(rc >= FTPREPLY_BADNAME && rc <= 1);
	if (rc == FTPREPLY_BADNAME)
		assert(memchr(e.name, '\0', sizeof(e.name)) != NULL);
	if (rc == 0) {
		assert(memchr(e.name, '\0', sizeof(e.name)) != NULL);
		assert(e.type >= FTP_ENT_FILE && e.type <= FTP_ENT_OTHER);
	}
	return 0;
}
