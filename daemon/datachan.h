/* The data connection: PASV/EPSV listen, PORT/EPRT connect, optional TLS.
 * While data flows the control channel is watched for ABOR, STAT, NOOP. */
#ifndef MOAT_DATACHAN_H
#define MOAT_DATACHAN_H

#include <sys/types.h>
#include <openssl/ssl.h>

struct session;

struct dataconn {
	int	 fd;
	SSL	*ssl;
	int	 aborted;	/* ABOR seen on the control channel, or
				   the control channel gone (ctl_gone) */
	int	 ctl_gone;	/* no ABOR: the client (or a signal) ended
				   the control channel's input */
	int	 ctl_held;	/* another command waits for the transfer's
				   end: stop watching the control channel */
	int	 relayed;	/* TLS is done by the relay; fd is plaintext */
	int	 finished;	/* relayed: the relay said it ended well */
	int	 tls_end;	/* TLS read ended after data was returned:
				   1 close_notify, -1 error; the next
				   data_read reports it */
	uint32_t relay_id;
};

/*
 * Check the session may transfer (a mode set; PROT P when TLS data is
 * required), send "150 <what>", then accept or connect. On failure the
 * reply (425/521/522) has been sent; returns -1.
 */
int	data_open(struct session *s, struct dataconn *dc, const char *what);
/* Whole-buffer write; -1 on error or ABOR (dc->aborted set). */
int	data_write(struct session *s, struct dataconn *dc, const void *buf,
	    size_t n);
/* Read up to n bytes; 0 at EOF, -1 on error or ABOR. */
ssize_t	data_read(struct session *s, struct dataconn *dc, void *buf, size_t n);
/* sendfile from fd (plain) or read+SSL_write (TLS); returns bytes sent, or
 * -1 on error/ABOR. */
int64_t	data_sendfile(struct session *s, struct dataconn *dc, int fd,
	    uint64_t off, uint64_t len);
/* A download is all written: through the TLS relay, wait until the relay
 * says the client took it all (close_notify sent). 0, or -1: it did not. */
int	data_finish(struct session *s, struct dataconn *dc);
/* Close; clean TLS shutdown when ok. Resets the data mode. */
void	data_close(struct session *s, struct dataconn *dc);
/* Answer commands that came in during a transfer (ABOR, STAT, NOOP);
 * returns 1 when ABOR was received. */
int	data_check_control(struct session *s, struct dataconn *dc);
/* Drop any pending PASV listener / PORT address. */
void	data_reset(struct session *s);

#endif
