/*
 * libFuzzer: virtual path joining (daemon/vpath.c vpath_join). The input is
 * "cwd\0arg"; cwd is first normalised from "/", as the session does. A
 * joined path is absolute, has no empty, "." or ".." component, and no
 * trailing slash except "/".
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "daemon/vpath.h"
#include "shared/limits.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const char *p)
{
	const char	*c, *q;
	size_t		 n;

	assert(p[0] == '/');
	if (p[1] == '\0')
		return;
	for (c = p + 1; ; c = q + 1) {
		q = strchr(c, '/');
		n = q == NULL ? strlen(c) : (size_t)(q - c);
		assert(n > 0);
		assert(!(n == 1 && c[0] == '.'));
		assert(!(n == 2 && c[0] == '.' && c[1] == '.'));
		for (size_t i = 0; i < n; i++)
			assert((unsigned char)c[i] >= 0x20 && c[i] != 0x7f);
		if (q == NULL)
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	buf[MOAT_PATH_MAX * 3];
	char		cwd[MOAT_PATH_MAX], out[MOAT_PATH_MAX], again[MOAT_PATH_MAX];
	const char	*arg;
	size_t		outlen;

	if (size >= sizeof(buf) - 2)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	buf[size + 1] = '\0';
	arg = buf + strlen(buf) + 1;
	if (vpath_join("/", buf, cwd, sizeof(cwd)) == -1)
		return 0;
	check(cwd);
	/* a small out buffer too, so truncation paths run */
	outlen = size > 0 ? (size_t)data[0] % sizeof(out) : sizeof(out);
	if (outlen < 2)
		outlen = sizeof(out);
	if (vpath_join(cwd, arg, out, outlen) == -1)
		return 0;
	assert(strlen(out) < outlen);
	check(out);
	/* idempotent: joining a normal path again changes nothing */
	assert(vpath_join("/", out, again, sizeof(again)) == 0);
	assert(strcmp(out, again) == 0);
	return 0;
}
