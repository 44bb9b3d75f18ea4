/*
 * Typed, length-checked messages over a SOCK_SEQPACKET socketpair, with an
 * optional descriptor (SCM_RIGHTS). The receiver checks sizes exactly.
 */
#ifndef MOAT_IPC_H
#define MOAT_IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_MAX		4096

struct ipc_msg {
	uint32_t	type;
	size_t		len;
	int		fd;		/* -1 if none */
	unsigned char	data[IPC_MAX];
};

/* The descriptor a message type carries (the table is in ipc.c). */
enum ipc_fdkind {
	IPC_FD_NONE,		/* none: one that comes anyway is refused */
	IPC_FD_STREAM,		/* a SOCK_STREAM socket (TCP or socketpair) */
	IPC_FD_SEQPACKET,	/* a SOCK_SEQPACKET socket (an IPC channel) */
};

/* 0 or -1. fd = -1 to send none. */
int	ipc_send(int sock, uint32_t type, const void *data, size_t len, int fd);
/* 1 a message, 0 peer closed, -1 error or malformed (a short header, more
 * than one descriptor, a truncated message, a descriptor that is not what
 * ipc_fdkind() says the type carries: it is closed, errno EBADMSG). A
 * message may still come without its descriptor: m->fd is then -1. */
int	ipc_recv(int sock, struct ipc_msg *m);
/* What a message type carries: IPC_FD_NONE for a type it does not know. */
enum ipc_fdkind	ipc_fdkind(uint32_t type);
/* 0 if fd is of that kind (fstat S_ISSOCK, then SO_TYPE), else -1. */
int	ipc_fd_is(int fd, enum ipc_fdkind kind);
/* Copy exactly len bytes of payload: -1 if the size differs. */
int	ipc_get(const struct ipc_msg *m, void *out, size_t len);
/* Decode a message from raw bytes (for tests and fuzzing). */
int	ipc_decode(const void *buf, size_t n, struct ipc_msg *m);

#endif
