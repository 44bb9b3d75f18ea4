/*
 * seccomp filters (libseccomp), one per role. The jail gets an allow-list:
 * socket I/O, TLS needs (memory, randomness, time), exit, and no open. The
 * session may use files and the data channel, but never exec, ptrace,
 * mount, module or key calls, nor sockets other than inet/inet6/unix. A
 * denied call raises SIGSYS; the handler logs the role and the syscall
 * number, and the process dies.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "privsep/privsep.h"
#include "shared/log.h"

static const char	*sc_role = "?";

static const int jail_allow[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom),
	SCMP_SYS(sendto), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(close),
	SCMP_SYS(socketpair), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
	SCMP_SYS(shutdown), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(madvise), SCMP_SYS(mprotect), SCMP_SYS(futex),
	SCMP_SYS(getrandom), SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep), SCMP_SYS(getpid),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(lseek), SCMP_SYS(time),
};

#ifdef MOAT_SANITIZE
/*
 * Only in the ASan/UBSan build (make sanitize, make fuzz): the sanitizer
 * runtime sets up an alternate signal stack and, on a finding, installs
 * handlers and aborts itself. Allowed so that a finding in the jail ends
 * as the sanitizer's report and abort, not as SIGSYS.
 */
static const int jail_allow_sanitize[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigaction), SCMP_SYS(gettid),
	SCMP_SYS(tgkill), SCMP_SYS(sched_yield),
};
#endif

/* Denied to the session whatever else it does. */
static const int session_deny[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(ptrace),
	SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
	SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root),
	SCMP_SYS(chroot), SCMP_SYS(unshare), SCMP_SYS(setns),
	SCMP_SYS(init_module), SCMP_SYS(finit_module),
	SCMP_SYS(delete_module), SCMP_SYS(kexec_load),
	SCMP_SYS(kexec_file_load), SCMP_SYS(bpf), SCMP_SYS(perf_event_open),
	SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(keyctl),
	SCMP_SYS(reboot), SCMP_SYS(swapon), SCMP_SYS(swapoff),
	SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(setreuid),
	SCMP_SYS(setregid), SCMP_SYS(setresuid), SCMP_SYS(setresgid),
	SCMP_SYS(setgroups), SCMP_SYS(mknod), SCMP_SYS(mknodat),
	SCMP_SYS(userfaultfd), SCMP_SYS(open_by_handle_at),
	SCMP_SYS(name_to_handle_at), SCMP_SYS(acct), SCMP_SYS(settimeofday),
	SCMP_SYS(clock_settime), SCMP_SYS(syslog), SCMP_SYS(iopl),
	SCMP_SYS(ioperm), SCMP_SYS(personality), SCMP_SYS(fanotify_init),
};

static void
sigsys(int sig, siginfo_t *si, void *uc)
{
	char	buf[128];
	int	n;

	(void)sig;
	(void)uc;
	n = snprintf(buf, sizeof(buf), "moatftpd[%ld]: seccomp: %s made a "
	    "forbidden system call %d\n", (long)getpid(), sc_role,
	    si->si_syscall);
	if (n > 0 && write(STDERR_FILENO, buf, (size_t)n) == -1) {
		/* nowhere else to say it */
	}
	_exit(159);	/* 128 + SIGSYS: the master logs the role */
}

static void
trap_handler(const char *role)
{
	struct sigaction	sa;

	sc_role = role;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		fatal("sigaction SIGSYS");
}

static void
load(scmp_filter_ctx ctx, const char *role)
{
	int	rv;

#ifdef MOAT_VALGRIND
	/*
	 * Only `make valgrind` builds this: valgrind cannot run under a
	 * filter (it has no seccomp(2), and a filter set through prctl traps
	 * its own system calls), so that build never loads one.
	 */
	log_warnx("seccomp (%s): not loaded in a valgrind build", role);
	seccomp_release(ctx);
	return;
#endif
	if ((rv = seccomp_load(ctx)) != 0) {
		errno = -rv;
		fatal("seccomp_load (%s)", role);
	}
	seccomp_release(ctx);
}

void
sandbox_seccomp_jail(void)
{
	scmp_filter_ctx	ctx;
	size_t		i;

	trap_handler("jail");
	if ((ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL)
		fatalx("seccomp_init");
	for (i = 0; i < sizeof(jail_allow) / sizeof(jail_allow[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, jail_allow[i], 0) != 0)
			fatalx("seccomp rule %d", jail_allow[i]);
#ifdef MOAT_SANITIZE
	for (i = 0; i < sizeof(jail_allow_sanitize) /
	    sizeof(jail_allow_sanitize[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    jail_allow_sanitize[i], 0) != 0)
			fatalx("seccomp rule %d", jail_allow_sanitize[i]);
#endif
	/* syslog(3) may reconnect to /dev/log: unix sockets only */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(connect), 0) != 0)
		fatalx("seccomp rule socket");
	load(ctx, "jail");
}

void
sandbox_seccomp_session(void)
{
	scmp_filter_ctx	ctx;
	size_t		i;

	trap_handler("session");
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		fatalx("seccomp_init");
	for (i = 0; i < sizeof(session_deny) / sizeof(session_deny[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_TRAP, session_deny[i], 0) != 0)
			fatalx("seccomp rule %d", session_deny[i]);
	/* sockets: inet, inet6 and unix only */
	if (seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_GT, AF_INET6)) != 0)
		fatalx("seccomp socket rule");
	for (i = 0; i < AF_INET6; i++) {
		if (i == AF_UNIX || i == AF_INET)
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, i)) != 0)
			fatalx("seccomp socket rule");
	}
	load(ctx, "session");
}
