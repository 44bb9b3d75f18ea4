/*
 * Unit tests: privsep/ipc.c over a real SOCK_SEQPACKET pair. A descriptor
 * must be what its message type carries (ipc_fdkind): the wrong kind is
 * closed and the message refused as malformed; the channel goes on.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep/ipc.h"
#include "privsep/privsep.h"

static int	sp[2];

static void
setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
}

static void
teardown(void)
{
	close(sp[0]);
	close(sp[1]);
}

static int
nfds(void)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*e;
	int		 n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Send fd (then close our copy) with type; what ipc_recv says. */
static int
pass(uint32_t type, int fd, struct ipc_msg *m)
{
	int	rv;

	ck_assert_int_eq(ipc_send(sp[1], type, "x", 1, fd), 0);
	if (fd != -1)
		close(fd);
	errno = 0;
	rv = ipc_recv(sp[0], m);
	if (rv == -1)
		ck_assert_int_eq(errno, EBADMSG);
	return rv;
}

static int
sock(int type)
{
	int	s[2];

	ck_assert_int_eq(socketpair(AF_UNIX, type, 0, s), 0);
	close(s[1]);
	return s[0];
}

START_TEST(right_kinds)
{
	struct ipc_msg	m;
	int		tcp;

	ck_assert_int_eq(pass(MSG_HANDOFF, sock(SOCK_STREAM), &m), 1);
	ck_assert_int_ne(m.fd, -1);
	ck_assert_int_eq(ipc_fd_is(m.fd, IPC_FD_STREAM), 0);
	close(m.fd);
	ck_assert_int_ne(tcp = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(pass(MSG_DATA_TLS, tcp, &m), 1);
	close(m.fd);
	ck_assert_int_eq(pass(MSG_DATA_TLS_OK, sock(SOCK_STREAM), &m), 1);
	close(m.fd);
	ck_assert_int_eq(pass(MSG_RELAY, sock(SOCK_SEQPACKET), &m), 1);
	ck_assert_int_eq(ipc_fd_is(m.fd, IPC_FD_SEQPACKET), 0);
	close(m.fd);
	/* no descriptor at all: the receiver checks m.fd itself */
	ck_assert_int_eq(pass(MSG_HANDOFF, -1, &m), 1);
	ck_assert_int_eq(m.fd, -1);
	ck_assert_int_eq(pass(MSG_AUTH, -1, &m), 1);
	ck_assert_int_eq(m.fd, -1);
}
END_TEST

START_TEST(wrong_kinds)
{
	struct ipc_msg	m;
	int		before, p[2], fd;

	before = nfds();
	/* not a socket */
	ck_assert_int_eq(pipe(p), 0);
	close(p[1]);
	ck_assert_int_eq(pass(MSG_HANDOFF, p[0], &m), -1);
	ck_assert_int_eq(m.fd, -1);
	ck_assert_int_ne(fd = open("/dev/null", O_RDONLY), -1);
	ck_assert_int_eq(pass(MSG_DATA_TLS, fd, &m), -1);
	ck_assert_int_ne(fd = open(".", O_RDONLY | O_DIRECTORY), -1);
	ck_assert_int_eq(pass(MSG_DATA_TLS_OK, fd, &m), -1);
	/* a socket of another type */
	ck_assert_int_eq(pass(MSG_HANDOFF, sock(SOCK_DGRAM), &m), -1);
	ck_assert_int_eq(pass(MSG_HANDOFF, sock(SOCK_SEQPACKET), &m), -1);
	ck_assert_int_eq(pass(MSG_DATA_TLS, socket(AF_INET, SOCK_DGRAM, 0),
	    &m), -1);
	ck_assert_int_eq(pass(MSG_RELAY, sock(SOCK_STREAM), &m), -1);
	/* a descriptor on a message that carries none, or of no known type */
	ck_assert_int_eq(pass(MSG_AUTH, sock(SOCK_STREAM), &m), -1);
	ck_assert_int_eq(pass(MSG_AUTH_RESULT, sock(SOCK_STREAM), &m), -1);
	ck_assert_int_eq(pass(MSG_DATA_DONE, sock(SOCK_STREAM), &m), -1);
	ck_assert_int_eq(pass(9999, sock(SOCK_STREAM), &m), -1);
	/* every refused descriptor was closed */
	ck_assert_int_eq(nfds(), before);
	/* and the channel goes on */
	ck_assert_int_eq(pass(MSG_RELAY, sock(SOCK_SEQPACKET), &m), 1);
	close(m.fd);
	ck_assert_int_eq(nfds(), before);
}
END_TEST

START_TEST(fd_is)
{
	int	s, fd;

	s = sock(SOCK_STREAM);
	ck_assert_int_eq(ipc_fd_is(s, IPC_FD_STREAM), 0);
	ck_assert_int_eq(ipc_fd_is(s, IPC_FD_SEQPACKET), -1);
	ck_assert_int_eq(ipc_fd_is(s, IPC_FD_NONE), -1);
	close(s);
	ck_assert_int_eq(ipc_fd_is(s, IPC_FD_STREAM), -1);	/* closed */
	ck_assert_int_eq(ipc_fd_is(-1, IPC_FD_STREAM), -1);
	ck_assert_int_ne(fd = open("/dev/null", O_RDONLY), -1);
	ck_assert_int_eq(ipc_fd_is(fd, IPC_FD_STREAM), -1);
	close(fd);
	ck_assert_int_eq(ipc_fdkind(MSG_HANDOFF), IPC_FD_STREAM);
	ck_assert_int_eq(ipc_fdkind(MSG_RELAY), IPC_FD_SEQPACKET);
	ck_assert_int_eq(ipc_fdkind(MSG_DATA_TLS), IPC_FD_STREAM);
	ck_assert_int_eq(ipc_fdkind(MSG_DATA_TLS_OK), IPC_FD_STREAM);
	ck_assert_int_eq(ipc_fdkind(MSG_AUTH), IPC_FD_NONE);
	ck_assert_int_eq(ipc_fdkind(MSG_DATA_DONE), IPC_FD_NONE);
	ck_assert_int_eq(ipc_fdkind(0), IPC_FD_NONE);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("ipc");
	TCase	*tc = tcase_create("ipc");
	SRunner	*sr;
	int	 nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, right_kinds);
	tcase_add_test(tc, wrong_kinds);
	tcase_add_test(tc, fd_is);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
