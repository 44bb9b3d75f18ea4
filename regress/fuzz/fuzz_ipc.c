/*
 * libFuzzer: the IPC message decoder (privsep/ipc.c). The input is decoded
 * as raw bytes (ipc_decode) and also sent as one datagram over a
 * SOCK_SEQPACKET pair to ipc_recv, the path the monitor really reads.
 * A decoded message must take exactly its own length from ipc_get.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <assert.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "privsep/ipc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	sp[2] = { -1, -1 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ipc_msg	m, r;
	static unsigned char	out[IPC_MAX + 1];
	int			rc;

	if (ipc_decode(data, size, &m) == 0) {
		assert(m.len <= IPC_MAX);
		assert(ipc_get(&m, out, m.len) == 0);
		assert(ipc_get(&m, out, m.len + 1) == -1);
		if (m.len > 0)
			assert(ipc_get(&m, out, m.len - 1) == -1);
	}
	if (sp[0] == -1 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		return 0;
	if (size > IPC_MAX + 64 ||
	    send(sp[1], data, size, MSG_NOSIGNAL) != (ssize_t)size)
		return 0;
	rc = ipc_recv(sp[0], &r);
	if (size == 0) {
		/* an empty datagram reads as 0 bytes: never a message */
		assert(rc != 1);
		return 0;
	}
	assert(rc == 1 || rc == -1);
	if (rc == 1) {
		assert(r.fd == -1);
		assert(r.len == size - (size - r.len));
		assert(ipc_decode(data, size, &m) == 0 && m.type == r.type &&
		    m.len == r.len && memcmp(m.data, r.data, r.len) == 0);
	}
	return 0;
}
