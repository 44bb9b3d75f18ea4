/* IPC: typed messages with optional fd passing, the shape of imsg. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "privsep/ipc.h"
#include "privsep/privsep.h"
#include "shared/log.h"

struct ipc_hdr {
	uint32_t	type;
	uint32_t	len;
};

/* Every message that carries a descriptor, and what it must be. */
static const struct {
	uint32_t	 type;
	enum ipc_fdkind	 kind;
} fdkinds[] = {
	/* the control connection: TCP, or the jail's TLS relay pair */
	{ MSG_HANDOFF,		IPC_FD_STREAM },
	/* the session's end of the relay channel */
	{ MSG_RELAY,		IPC_FD_SEQPACKET },
	/* a raw TCP data connection, to the relay */
	{ MSG_DATA_TLS,		IPC_FD_STREAM },
	/* the plaintext end of a data connection, from the relay */
	{ MSG_DATA_TLS_OK,	IPC_FD_STREAM },
	/* a client's TCP connection, to a pre-forked spare */
	{ MSG_CONN,		IPC_FD_STREAM },
};

enum ipc_fdkind
ipc_fdkind(uint32_t type)
{
	size_t	i;

	for (i = 0; i < sizeof(fdkinds) / sizeof(fdkinds[0]); i++)
		if (fdkinds[i].type == type)
			return fdkinds[i].kind;
	return IPC_FD_NONE;
}

int
ipc_fd_is(int fd, enum ipc_fdkind kind)
{
	struct stat	st;
	socklen_t	len = sizeof(int);
	int		type, want;

	switch (kind) {
	case IPC_FD_STREAM:
		want = SOCK_STREAM;
		break;
	case IPC_FD_SEQPACKET:
		want = SOCK_SEQPACKET;
		break;
	default:
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    len != sizeof(int) || type != want)
		return -1;
	return 0;
}

int
ipc_send(int sock, uint32_t type, const void *data, size_t len, int fd)
{
	struct ipc_hdr	 hdr;
	struct iovec	 iov[2];
	struct msghdr	 msg;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct cmsghdr	*cmsg;
	ssize_t		 n;

	if (len > IPC_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	hdr.type = type;
	hdr.len = (uint32_t)len;
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = len;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = len ? 2 : 1;
	if (fd != -1) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != sizeof(hdr) + len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int
ipc_decode(const void *buf, size_t n, struct ipc_msg *m)
{
	struct ipc_hdr	hdr;

	if (n < sizeof(hdr))
		return -1;
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.len > IPC_MAX || (size_t)hdr.len != n - sizeof(hdr))
		return -1;
	m->type = hdr.type;
	m->len = hdr.len;
	memcpy(m->data, (const char *)buf + sizeof(hdr), hdr.len);
	return 0;
}

int
ipc_recv(int sock, struct ipc_msg *m)
{
	unsigned char	 raw[sizeof(struct ipc_hdr) + IPC_MAX + 1];
	struct iovec	 iov;
	struct msghdr	 msg;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cmsgbuf;
	struct cmsghdr	*cmsg;
	ssize_t		 n;
	int		 nfds = 0;

	m->fd = -1;
	iov.iov_base = raw;
	iov.iov_len = sizeof(raw);
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n == -1)
		return -1;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level == SOL_SOCKET &&
		    cmsg->cmsg_type == SCM_RIGHTS) {
			size_t	k, cnt = (cmsg->cmsg_len - CMSG_LEN(0)) /
			    sizeof(int);
			int	fd;

			for (k = 0; k < cnt; k++) {
				memcpy(&fd, CMSG_DATA(cmsg) + k * sizeof(int),
				    sizeof(int));
				if (nfds++ == 0)
					m->fd = fd;
				else
					close(fd);
			}
		}
	}
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || nfds > 1 ||
	    ipc_decode(raw, (size_t)n, m) == -1)
		goto bad;
	if (m->fd != -1 && ipc_fd_is(m->fd, ipc_fdkind(m->type)) == -1) {
		log_warnx("%s: message %u came with a descriptor that is not "
		    "what it carries", __func__, m->type);
		goto bad;
	}
	return 1;
bad:
	if (m->fd != -1)
		close(m->fd);
	m->fd = -1;
	errno = EBADMSG;
	return -1;
}

int
ipc_get(const struct ipc_msg *m, void *out, size_t len)
{
	if (m->len != len)
		return -1;
	memcpy(out, m->data, len);
	return 0;
}
