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

/* 0 or -1. fd = -1 to send none. */
int	ipc_send(int sock, uint32_t type, const void *data, size_t len, int fd);
/* 1 a message, 0 peer closed, -1 error or malformed (a short header, more
 * than one descriptor, a truncated message). */
int	ipc_recv(int sock, struct ipc_msg *m);
/* Copy exactly len bytes of payload: -1 if the size differs. */
int	ipc_get(const struct ipc_msg *m, void *out, size_t len);
/* Decode a message from raw bytes (for tests and fuzzing). */
int	ipc_decode(const void *buf, size_t n, struct ipc_msg *m);

#endif
