/*
 * seccomp filters (libseccomp): an allow-list for each role, loaded last.
 *
 *   jail     socket I/O, TLS needs (memory, randomness, time), exit; no open
 *   monitor  authentication (read the user db, crypt, sleep, the jail's
 *            exit) and the drop (chroot, set*id, Landlock, prctl, rlimits,
 *            the session's filter); since the monitor then becomes the
 *            session and filters stack, its list also holds the session's
 *   session  files beneath its root, the data channel (inet, inet6 and
 *            unix sockets only), memory (mremap fails), time, exit; no
 *            exec, ptrace, mount, module, key or id calls
 *
 * Every other call raises SIGSYS. The handler sends the role and the call's
 * number to the master over a datagram socket made before the first fork
 * (the master logs it, with the sender's pid from SCM_CREDENTIALS), and the
 * process exits with 159 (128 + SIGSYS). No role may change the SIGSYS
 * handler once its filter is in force.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "privsep/privsep.h"
#include "shared/clock.h"
#include "shared/log.h"

#define SC_MAGIC	0x6d6f6174u	/* "moat" */

/* What a dying process sends to the master. */
struct sc_report {
	uint32_t	magic;
	uint32_t	role;		/* enum sandbox_role */
	int32_t		nr;		/* the forbidden call */
	uint32_t	arch;		/* AUDIT_ARCH_*, as libseccomp's tokens */
};

static const char *const role_names[] = {
	[ROLE_JAIL] = "jail",
	[ROLE_SESSION] = "session",
	[ROLE_MONITOR] = "monitor",
};

static int		sc_role = -1;
static int		sc_report_fd = -1;	/* the children's end */

/* Memory, time, signals, exit, logging: what every role does. */
static const int base_allow[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom),
	SCMP_SYS(sendto), SCMP_SYS(connect),	/* syslog(3) reconnecting */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap),
	SCMP_SYS(madvise), SCMP_SYS(mprotect), SCMP_SYS(futex),
	SCMP_SYS(getrandom), SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(time), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(getpid), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(lseek), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
	/* the kernel's restart of a poll or sleep that a stop interrupted
	 * (SIGSTOP/SIGCONT, a debugger attaching) */
	SCMP_SYS(restart_syscall),
};

/* The jail: its two sockets (and the relay's socketpair), nothing else. */
static const int jail_allow[] = {
	SCMP_SYS(mremap), SCMP_SYS(socketpair), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
	SCMP_SYS(shutdown),
};

/* The session: files beneath its root, and the data channel. */
static const int session_allow[] = {
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(openat),
	SCMP_SYS(openat2), SCMP_SYS(statx), SCMP_SYS(getdents64),
	SCMP_SYS(mkdirat), SCMP_SYS(unlinkat), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(readlinkat), SCMP_SYS(ftruncate),
	SCMP_SYS(fallocate), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	SCMP_SYS(fadvise64), SCMP_SYS(utimensat), SCMP_SYS(fchmod),
	SCMP_SYS(fstatfs), SCMP_SYS(statfs), SCMP_SYS(umask),
	SCMP_SYS(fgetxattr), SCMP_SYS(fsetxattr), SCMP_SYS(flistxattr),
	SCMP_SYS(fremovexattr), SCMP_SYS(sendfile), SCMP_SYS(splice),
	SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3),
	SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept),
	SCMP_SYS(accept4), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(shutdown),
	SCMP_SYS(geteuid), SCMP_SYS(getuid), SCMP_SYS(getegid),
	SCMP_SYS(getgid), SCMP_SYS(gettid), SCMP_SYS(getppid),
	SCMP_SYS(sched_yield), SCMP_SYS(getrusage), SCMP_SYS(uname),
	SCMP_SYS(prlimit64), SCMP_SYS(getrlimit),
};

/* The monitor, before it becomes the session: authentication and the drop. */
static const int monitor_allow[] = {
	SCMP_SYS(mremap), SCMP_SYS(wait4), SCMP_SYS(chroot), SCMP_SYS(chdir),
	SCMP_SYS(setgroups), SCMP_SYS(setresgid), SCMP_SYS(setresuid),
	SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(prctl),
	SCMP_SYS(setrlimit), SCMP_SYS(landlock_create_ruleset),
	SCMP_SYS(landlock_add_rule), SCMP_SYS(landlock_restrict_self),
	SCMP_SYS(seccomp), SCMP_SYS(set_robust_list),
};

#ifdef MOAT_SANITIZE
/*
 * Only in the ASan/UBSan build (make sanitize, make fuzz): on a finding the
 * sanitizer runtime sets up an alternate stack, reads /proc/self/maps,
 * installs handlers and aborts itself. Allowed so that a finding ends as
 * the sanitizer's report and abort, not as SIGSYS. (Its handlers are for
 * SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT: the base rule allows those.)
 */
static const int sanitize_allow[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(gettid), SCMP_SYS(tgkill),
	SCMP_SYS(sched_yield), SCMP_SYS(openat), SCMP_SYS(readlink),
	SCMP_SYS(readlinkat), SCMP_SYS(prctl), SCMP_SYS(getppid),
	SCMP_SYS(sched_getaffinity),
};
#endif

static void
sigsys(int sig, siginfo_t *si, void *uc)
{
	struct sc_report	r;
	char			buf[128];
	int			n;

	(void)sig;
	(void)uc;
	r.magic = SC_MAGIC;
	r.role = (uint32_t)sc_role;
	r.nr = si->si_syscall;
	r.arch = si->si_arch;
	if (sc_report_fd == -1 || send(sc_report_fd, &r, sizeof(r),
	    MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof(r)) {
		/* no master to tell (a test program): say it here */
		n = snprintf(buf, sizeof(buf), "moatftpd[%ld]: seccomp: %s "
		    "made a forbidden system call %d\n", (long)getpid(),
		    role_names[sc_role], si->si_syscall);
		if (n > 0 && write(STDERR_FILENO, buf, (size_t)n) == -1) {
			/* nowhere else to say it */
		}
	}
	_exit(159);
}

int
seccomp_report_open(void)
{
	int	sp[2], on = 1;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) == -1)
		return -1;
	if (setsockopt(sp[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1 ||
	    fcntl(sp[0], F_SETFL, O_NONBLOCK) == -1 ||
	    shutdown(sp[1], SHUT_RD) == -1) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	sc_report_fd = sp[1];
	return sp[0];
}

int
seccomp_report_fd(void)
{
	return sc_report_fd;
}

void
seccomp_report_drain(int fd)
{
	struct sc_report	 r;
	struct ucred		 uc;
	struct iovec		 iov;
	struct msghdr		 msg;
	struct cmsghdr		*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(struct ucred))];
	}			 cbuf;
	static long		 window;	/* this second's start */
	static unsigned		 logged, dropped;
	char			*name;
	ssize_t			 n;
	int			 i;

	/* a bounded batch: a flood cannot hold the master here */
	for (i = 0; i < 32; i++) {
		memset(&msg, 0, sizeof(msg));
		memset(&uc, 0, sizeof(uc));
		iov.iov_base = &r;
		iov.iov_len = sizeof(r);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		if ((n = recvmsg(fd, &msg, MSG_DONTWAIT)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("%s: recvmsg", __func__);
			return;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
		    cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_CREDENTIALS &&
			    cm->cmsg_len == CMSG_LEN(sizeof(uc)))
				memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
		/* at most 10 lines a second: a session may forge reports */
		if (mono_ms() - window >= 1000) {
			if (dropped > 0)
				log_warnx("seccomp: %u more reports not logged",
				    dropped);
			window = mono_ms();
			logged = dropped = 0;
		}
		if (++logged > 10) {
			dropped++;
			continue;
		}
		if (n != (ssize_t)sizeof(r) || (msg.msg_flags & MSG_TRUNC) ||
		    r.magic != SC_MAGIC || r.role >= sizeof(role_names) /
		    sizeof(role_names[0]) || role_names[r.role] == NULL) {
			log_warnx("seccomp: malformed report from pid %ld",
			    (long)uc.pid);
			continue;
		}
		name = seccomp_syscall_resolve_num_arch(r.arch, r.nr);
		log_warnx("seccomp: killed the %s (pid %ld, uid %ld): forbidden "
		    "system call %d (%s)", role_names[r.role], (long)uc.pid,
		    (long)uc.uid, r.nr, name != NULL ? name : "unknown");
		free(name);
	}
}

static void
trap_handler(int role)
{
	struct sigaction	sa;
	int			installed = sc_role != -1;

	sc_role = role;
	/* the monitor's filter already forbids touching the handler */
	if (installed)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		fatal("sigaction SIGSYS");
}

static void
allow(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0) != 0)
			fatalx("seccomp rule %d", calls[i]);
}

#define ALLOW(ctx, list)	allow((ctx), (list), sizeof(list) / sizeof((list)[0]))

/* socket(2) for the given families only. */
static void
allow_socket(scmp_filter_ctx ctx, const int *families, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i])) != 0)
			fatalx("seccomp socket rule");
}

/* A filter with the base list, and signal handlers other than SIGSYS's. */
static scmp_filter_ctx
filter_new(int role)
{
	scmp_filter_ctx	ctx;

	trap_handler(role);
	if ((ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL)
		fatalx("seccomp_init");
	ALLOW(ctx, base_allow);
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(rt_sigaction), 1,
	    SCMP_A0(SCMP_CMP_NE, SIGSYS)) != 0)
		fatalx("seccomp rule rt_sigaction");
	/* abort(3) signals the process itself, and nothing else */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid())) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid())) != 0)
		fatalx("seccomp rule kill");
#ifdef MOAT_SANITIZE
	{
		size_t	i;

		/* the base rules above may name the same calls: skip those */
		for (i = 0; i < sizeof(sanitize_allow) /
		    sizeof(sanitize_allow[0]); i++)
			(void)seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    sanitize_allow[i], 0);
	}
#endif
	return ctx;
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

static const int inet_families[] = { AF_UNIX, AF_INET, AF_INET6 };

void
sandbox_seccomp_jail(void)
{
	scmp_filter_ctx	ctx = filter_new(ROLE_JAIL);

	ALLOW(ctx, jail_allow);
	/* no new sockets: chrooted, syslog(3) reconnecting could reach only
	 * abstract Unix sockets (other services'), and without root any
	 * socket path of the daemon's user. It fails instead of killing the
	 * jail: a short-lived jail loses its log lines after a syslogd
	 * restart, nothing more */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket),
	    0) != 0)
		fatalx("%s: seccomp_rule_add socket", __func__);
	/* prctl only to clear its parent-death signal, on becoming the relay
	 * (see jail_handoff) */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 2,
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_PDEATHSIG),
	    SCMP_A1(SCMP_CMP_EQ, 0)) != 0)
		fatalx("%s: seccomp_rule_add prctl", __func__);
	/* fcntl only to make a relayed data socket non-blocking */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 2,
	    SCMP_A1(SCMP_CMP_EQ, F_SETFL),
	    SCMP_A2(SCMP_CMP_EQ, O_RDWR | O_NONBLOCK)) != 0)
		fatalx("%s: seccomp_rule_add fcntl", __func__);
	load(ctx, "jail");
}

void
sandbox_seccomp_session(void)
{
	scmp_filter_ctx	ctx = filter_new(ROLE_SESSION);

	ALLOW(ctx, session_allow);
	allow_socket(ctx, inet_families, 3);
	/* no mremap: growing the one ledger or scoreboard page it kept
	 * would map the pages beside it, other sessions' (ledger_confine).
	 * It fails rather than kills: glibc's realloc copies instead */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mremap),
	    0) != 0)
		fatalx("%s: seccomp_rule_add mremap", __func__);
	load(ctx, "session");
}

void
sandbox_seccomp_monitor(pid_t jail)
{
	scmp_filter_ctx	ctx = filter_new(ROLE_MONITOR);

	ALLOW(ctx, session_allow);
	ALLOW(ctx, monitor_allow);
	allow_socket(ctx, inet_families, 3);
	/* it kills its own jail, and no one else */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)jail)) != 0)
		fatalx("seccomp rule kill");
	load(ctx, "monitor");
}
