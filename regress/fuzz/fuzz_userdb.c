/*
 * libFuzzer: the user db parser (shared/userdb.c userdb_parse). Whatever
 * parses must format back to text that parses to the same db.
 */
#include <sys/types.h>

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/userdb.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct userdb	 a, b;
	char		 err[256];
	char		*t1, *t2;
	size_t		 n1, n2;

	if (userdb_parse(&a, (const char *)data, size, err, sizeof(err)) == -1) {
		assert(strlen(err) < sizeof(err));
		return 0;
	}
	t1 = userdb_format(&a, &n1);
	assert(t1 != NULL);
	if (userdb_parse(&b, t1, n1, err, sizeof(err)) != 0)
		abort();	/* formatted text must parse */
	assert(a.nusers == b.nusers);
	t2 = userdb_format(&b, &n2);
	assert(t2 != NULL && n1 == n2 && memcmp(t1, t2, n1) == 0);
	for (size_t i = 0; i < a.nusers; i++)
		assert(userdb_find(&b, a.users[i].name) != NULL);
	free(t1);
	free(t2);
	userdb_free(&a);
	userdb_free(&b);
	return 0;
}
