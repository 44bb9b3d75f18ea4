/*
 * Start over with every library symbol resolved at load time.
 *
 * Three of the libraries we load bind lazily (libseccomp, libconfig and
 * libc itself; the others are linked with -z now): a function is looked
 * up at its first call and its address written into the library's GOT.
 * The master forks two processes for every connection (the monitor and
 * the jail), and the calls they make first, libseccomp's above all, were
 * resolved again in each: a symbol lookup, then a copy-on-write fault on
 * the GOT page. With LD_BIND_NOW the loader resolves everything once, in
 * the master, and every child shares those pages untouched.
 *
 * Measured here, serial connections to the greeting: 18.6 ms of CPU per
 * connection without, 16.5 ms with (three interleaved runs of 400).
 */
#include <sys/auxv.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/bindnow.h"

#ifdef MOAT_VALGRIND
/* valgrind would not follow the exec: that build stays as it started */
void
bindnow_reexec(char *argv[])
{
	(void)argv;
}
#else
void
bindnow_reexec(char *argv[])
{
	const char	*v = getenv("LD_BIND_NOW");
	char		 self[PATH_MAX];
	ssize_t		 n;

	if ((v != NULL && *v != '\0') || getauxval(AT_SECURE) != 0)
		return;		/* done already, or the loader would drop it */
	n = readlink("/proc/self/exe", self, sizeof(self));
	if (n <= 0 || (size_t)n >= sizeof(self)) {
		fprintf(stderr, "moatftpd: /proc/self/exe: %s; library "
		    "symbols stay lazily bound\n", n == -1 ? strerror(errno) :
		    "name too long");
		return;
	}
	self[n] = '\0';
	if (setenv("LD_BIND_NOW", "1", 1) == -1) {
		fprintf(stderr, "moatftpd: setenv: %s\n", strerror(errno));
		return;
	}
	execv(self, argv);
	fprintf(stderr, "moatftpd: exec %s: %s; library symbols stay lazily "
	    "bound\n", self, strerror(errno));
	(void)unsetenv("LD_BIND_NOW");
}
#endif
