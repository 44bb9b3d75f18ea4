/* moatftp: the client's state and the interfaces between its files. */
#ifndef MOAT_CLIENT_H
#define MOAT_CLIENT_H

#include <sys/types.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "shared/ftpreply.h"
#include "shared/limits.h"

#define CL_HOST_MAX	256
#define CL_USER_MAX	256
#define CL_TIMEOUT	120		/* seconds, any single network wait */
/* A digest (HASH, XMD5) may take CL_DIGEST_FLOOR seconds, one more for
 * each CL_DIGEST_RATE bytes of the file, CL_DIGEST_MAX at most. */
#define CL_DIGEST_FLOOR	600
#define CL_DIGEST_RATE	(8ULL * 1024 * 1024)
#define CL_DIGEST_MAX	(7ULL * 24 * 3600)
#define CL_DEPTH_MAX	64		/* get -r / put -r / del -d nesting */
#define CL_TICKETS	8		/* TLS session tickets kept */
#define CL_PART_SUFFIX	".moatpart"

enum tls_mode { TLS_OFF, TLS_AUTO, TLS_REQUIRE };

/* Server features from FEAT. */
#define FEAT_MLSD	0x01
#define FEAT_SIZE	0x02
#define FEAT_REST	0x04
#define FEAT_EPSV	0x08
#define FEAT_HASH	0x10
#define FEAT_XMD5	0x20
#define FEAT_XSHA256	0x40
#define FEAT_UTF8	0x80
#define FEAT_MLST	0x100

struct opts {
	char		 host[CL_HOST_MAX];
	char		 port[8];
	char		 user[CL_USER_MAX];
	int		 tls;		/* enum tls_mode */
	const char	*cafile;
	int		 hash;		/* DIGEST_MD5 or DIGEST_SHA256 */
	int		 passive;
	int		 quiet;
	int		 verbose;
};

struct ftp {
	int			 fd;
	SSL_CTX			*ctx;
	SSL			*ssl;
	SSL_SESSION		*sess;		/* newest control session */
	/* Unused tickets (control and data connections, newest last):
	 * TLS 1.3 servers with a stateful cache accept each one once. */
	SSL_SESSION		*pool[CL_TICKETS];
	int			 npool;
	X509			*cert;		/* control peer certificate */
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	struct sockaddr_storage	 local;
	socklen_t		 locallen;
	char			 rbuf[FTP_LINE_MAX];
	size_t			 rlen;
	struct ftp_rparser	 rp;
	struct ftp_reply	*reply;		/* &rp.r */
	int			 verbose;
	int			 passive;
	int			 epsv_failed;
	int			 dead;		/* control connection lost */
	/* Ctrl-Cs that end a wait for a reply (and the connection, which
	 * is then out of step): 1 for commands, 2 in the shell */
	int			 intr_max;
	unsigned int		 feat;
	int			 hash_algo;	/* set by OPTS HASH, -1 none */
#define HASH_ALGO_REFUSED	(-2)		/* OPTS HASH said no */
	char			 banner[256];
	char			 err[512];	/* why the last call failed */
};

struct data {
	int	 fd;
	SSL	*ssl;
	int	 eof;
};

struct client {
	struct opts	 o;
	struct ftp	 f;
	char		 cwd[MOAT_PATH_MAX];
	char		 home[MOAT_PATH_MAX];
	int		 interactive;	/* stdin is a terminal */
	int		 tty;		/* stdout is a terminal */
	int		 color;		/* tty and no NO_COLOR */
	int		 connected;
};

/* Ctrl-Cs since the command began (0, 1, 2 at most). */
extern volatile sig_atomic_t	cl_interrupted;

/* ftp.c: the control and data connections */
int	ftp_open(struct client *, const char *pass);
void	ftp_close(struct client *);
/* Send a command and read its reply; the reply code, or -1 on I/O error. */
int	ftp_cmd(struct ftp *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	ftp_send(struct ftp *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	ftp_getreply(struct ftp *);
/* How long each reply may take to come (CL_TIMEOUT unless set): 0, -1. */
int	ftp_reply_timeout(struct ftp *, time_t);
/* Open a data connection for cmd (RETR, STOR, MLSD...): 0, or -1 with the
 * reason in err; offset > 0 sends REST first, and -2 says the server
 * answered it with a refusal. */
int	ftp_data_open(struct client *, struct data *, uint64_t offset,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
ssize_t	data_read(struct data *, void *, size_t);
int	data_write(struct data *, const void *, size_t);
/* Close; abort=1 sends ABOR. Reads the final reply: 0 if 2xx, else -1. */
int	data_close(struct ftp *, struct data *, int abort);
/* Remote path helpers. */
int	rpath_join(char *, size_t, const char *dir, const char *name);
const char *path_base(const char *);
int	ftp_pwd(struct client *);
void	ftp_seterr(struct ftp *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* err = the last reply, made safe to print. */
void	ftp_seterr_reply(struct ftp *);

/* tls.c: TLS contexts, verification and pinning */
int	tls_init(struct client *);
int	tls_start_control(struct client *);
int	tls_start_data(struct client *, struct data *);
ssize_t	tls_read(SSL *, void *, size_t);
/* close_notify, then read what the server still sends (tickets). */
void	tls_close_data(struct data *);
int	tls_write(SSL *, const void *, size_t);
void	tls_free(struct ftp *);
const char *tls_version(struct ftp *);

/* cmds.c: the command table */
int	cmd_run_line(struct client *, const char *line);
int	cmd_run_argv(struct client *, int argc, char **argv);
const char *const *cmd_names(void);
/* Which argument kind a command completes: 'l' local, 'r' remote, 0 none. */
int	cmd_completes(const char *name);
int	ask_yes(const char *prompt);
/* A local path with a leading ~ or ~/ made $HOME: 0, or -1 (said why). */
int	local_path(const char *cmd, const char *in, char *out, size_t len);

/* list.c: remote listings */
struct rlist {
	struct ftp_entry	*ent;
	size_t			 n;
	size_t			 cap;
	size_t			 nbad;	/* names left out: control bytes, '/' */
};
/* The listing of path (NULL: cwd); with what ("get"...), a warning line
 * for each name left out. 0, -1, or -2: past a size limit (a tree that
 * met one stops whole). */
int	rlist_fetch(struct client *, const char *path, struct rlist *,
	    const char *what);
void	rlist_free(struct rlist *);
void	rlist_sort(struct rlist *);
int	cmd_ls(struct client *, int, char **);
int	cmd_lls(struct client *, int, char **);

/* xfer.c: one file each way, resumed and verified */
#define XF_FORCE	0x01	/* -f: replace the file at the destination */
#define XF_TREE		0x02	/* get -r, put -r: a file of the same size
				 * there already is taken as done */
int	xfer_get(struct client *, const char *remote, const char *localdir,
	    int flags);
int	xfer_put(struct client *, const char *local, const char *remotedir,
	    int flags);
/* Last component of a path, without trailing slashes: 0 or -1. */
int	base_name(const char *, char *, size_t);
/* 0 + hex, 1 if the server offers no digest, -1 on error. size: the
 * file's, for how long the server may take. */
int	xfer_server_digest(struct client *, const char *path, uint64_t size,
	    char *hex);

/* tree.c: get -r, put -r, del -d: 0, -1, or -2 when a listing went past
 * a limit and the whole tree stopped (one message said so) */
int	tree_get(struct client *, const char *remote, const char *localdir,
	    int flags, int depth);
int	tree_put(struct client *, const char *local, const char *remotedir,
	    int flags, int depth);
int	tree_del(struct client *, const char *dir, int depth);
int	remote_is_dir(struct client *, const char *path);
/* What path names itself, a link not followed: FTP_ENT_*, -1 (f.err). */
int	remote_type(struct client *, const char *path);

/* progress.c */
struct progress {
	char		name[64];
	uint64_t	total;		/* UINT64_MAX: unknown */
	uint64_t	start;		/* resumed offset */
	uint64_t	done;		/* bytes so far, offset included */
	double		t0;
	double		t1;		/* the data ended; 0 not yet */
	double		last;
	int		tty;
	int		quiet;
	int		color;
};
double	now_sec(void);
void	progress_start(struct progress *, struct client *, const char *name,
	    uint64_t total, uint64_t start);
void	progress_update(struct progress *, uint64_t done);
/* The data is all there: the time and rate stop here, not after the
 * server's digest, which may take long. */
void	progress_done(struct progress *);
void	progress_end(struct progress *, int ok, const char *note);

/* shell.c: interactive loop */
int	shell_run(struct client *);

/* netrc.c: passwords */
int	netrc_lookup(const char *host, const char *user, char *login,
	    size_t loginlen, char *pass, size_t passlen);

/* pin.c: known_hosts */
int	pin_lookup(const char *hostport, char *hex, size_t len);
int	pin_add(const char *hostport, const char *hex);

#endif
