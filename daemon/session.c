/*
 * The session: after login, as the user, inside the home. One loop reads a
 * command, looks its verb up in one table and calls the handler.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <bsd/unistd.h>
#include <bsd/libutil.h>

#include "daemon/commands.h"
#include "daemon/datachan.h"
#include "daemon/master.h"
#include "daemon/quota.h"
#include "daemon/session.h"
#include "shared/digest.h"
#include "shared/feat.h"
#include "shared/log.h"
#include "shared/scoreboard.h"
#include "shared/size.h"
#include "shared/tls.h"

#define C_ARG		0x01	/* needs an argument */
#define C_KEEP		0x02	/* leaves a pending REST and ALLO alone */

static const struct command {
	const char	*verb;
	cmd_handler	 fn;
	int		 flags;
	const char	*help;
} commands[] = {
	{ "ABOR", cmd_abor, 0, "abort a transfer" },
	{ "ALLO", cmd_allo, C_ARG | C_KEEP, "reserve space: ALLO <bytes>" },
	{ "APPE", cmd_appe, C_ARG | C_KEEP, "append to a file" },
	{ "AUTH", cmd_auth, C_ARG, "AUTH TLS (before login)" },
	{ "CCC", cmd_ccc, 0, "clear command channel (refused)" },
	{ "CDUP", cmd_cdup, 0, "change to the parent directory" },
	{ "CWD", cmd_cwd, C_ARG, "change directory" },
	{ "DELE", cmd_dele, C_ARG, "delete a file" },
	{ "EPRT", cmd_eprt, C_ARG | C_KEEP, "active data connection: EPRT |af|addr|port|" },
	{ "EPSV", cmd_epsv, C_KEEP, "extended passive mode" },
	{ "FEAT", cmd_feat, 0, "list features" },
	{ "HASH", cmd_hash, C_ARG, "digest of a file (OPTS HASH selects)" },
	{ "HELP", cmd_help, 0, "this help" },
	{ "LIST", cmd_list, 0, "list a directory (ls -l)" },
	{ "MDTM", cmd_mdtm, C_ARG | C_KEEP, "modification time" },
	{ "MFMT", cmd_mfmt, C_ARG, "set modification time" },
	{ "MKD", cmd_mkd, C_ARG, "make a directory" },
	{ "MLSD", cmd_mlsd, 0, "machine listing of a directory" },
	{ "MLST", cmd_mlst, 0, "machine listing of one entry" },
	{ "MODE", cmd_mode, C_ARG | C_KEEP, "transfer mode (S only)" },
	{ "NLST", cmd_nlst, 0, "names in a directory" },
	{ "NOOP", cmd_noop, C_KEEP, "do nothing" },
	{ "OPTS", cmd_opts, C_ARG | C_KEEP, "options: UTF8, MLST, HASH" },
	{ "PASS", cmd_pass, 0, "password" },
	{ "PASV", cmd_pasv, C_KEEP, "passive mode" },
	{ "PBSZ", cmd_pbsz, C_ARG | C_KEEP, "protection buffer size (0)" },
	{ "PORT", cmd_port, C_ARG | C_KEEP, "active data connection: PORT h1,h2,h3,h4,p1,p2" },
	{ "PROT", cmd_prot, C_ARG | C_KEEP, "data protection: P or C" },
	{ "PWD", cmd_pwd, 0, "print the current directory" },
	{ "QUIT", cmd_quit, 0, "log out" },
	{ "REST", cmd_rest, C_ARG | C_KEEP, "restart offset for RETR/STOR" },
	{ "RETR", cmd_retr, C_ARG | C_KEEP, "download a file" },
	{ "RMD", cmd_rmd, C_ARG, "remove an empty directory" },
	{ "RNFR", cmd_rnfr, C_ARG, "rename from" },
	{ "RNTO", cmd_rnto, C_ARG, "rename to" },
	{ "SITE", cmd_site, C_ARG, "SITE HELP, SITE QUOTA" },
	{ "SIZE", cmd_size, C_ARG | C_KEEP, "size of a file" },
	{ "STAT", cmd_stat, C_KEEP, "session status" },
	{ "STOR", cmd_stor, C_ARG | C_KEEP, "upload a file" },
	{ "STOU", cmd_stou, C_KEEP, "upload to a unique name" },
	{ "STRU", cmd_stru, C_ARG | C_KEEP, "file structure (F only)" },
	{ "SYST", cmd_syst, 0, "system type" },
	{ "TYPE", cmd_type, C_ARG | C_KEEP, "transfer type: A or I" },
	{ "USER", cmd_user, C_ARG, "user name" },
	{ "XCUP", cmd_cdup, 0, "= CDUP" },
	{ "XCWD", cmd_cwd, C_ARG, "= CWD" },
	{ "XMD5", cmd_xmd5, C_ARG, "MD5 of a file" },
	{ "XMKD", cmd_mkd, C_ARG, "= MKD" },
	{ "XPWD", cmd_pwd, 0, "= PWD" },
	{ "XRMD", cmd_rmd, C_ARG, "= RMD" },
	{ "XSHA1", cmd_xsha1, C_ARG, "SHA-1 of a file" },
	{ "XSHA256", cmd_xsha256, C_ARG, "SHA-256 of a file" },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static volatile sig_atomic_t	stop_requested;	/* the signal */
static struct session		*sig_session;

/* Why the session ends, by signal: the 421 text. */
static const struct {
	int		 sig;
	const char	*msg;
} stop_msgs[] = {
	{ SIGUSR2, "Server shutting down." },
	{ SIGTERM, "Session terminated by the server." },
};

/*
 * SIGUSR2 (shutdown): end when idle, let a transfer finish. SIGTERM (kick,
 * or the end of shutdown_grace): end now. Ending means shutting the
 * control's read side, which wakes the command reader (and aborts a
 * transfer); the loop then answers 421 and exits.
 */
static void
sigstop(int sig)
{
	struct session	*s = sig_session;
	int		 saved = errno;

	stop_requested = sig;
	if (s != NULL && (sig == SIGTERM || s->act == NULL ||
	    atomic_load(&s->act->xfer_start) == 0))
		(void)shutdown(s->io.fd, SHUT_RD);
	errno = saved;
}

static const char *
stop_msg(void)
{
	size_t	i;

	for (i = 0; i < sizeof(stop_msgs) / sizeof(stop_msgs[0]); i++)
		if (stop_msgs[i].sig == stop_requested)
			return stop_msgs[i].msg;
	return stop_msgs[0].msg;
}

static void
session_exit(struct session *s, int code, const char *msg)
    __attribute__((noreturn));

static void
session_exit(struct session *s, int code, const char *msg)
{
	if (code != 0)
		(void)ftpio_reply(&s->io, code, "%s", msg);
	log_info("logout %s from %s: %llu bytes in (%u files), %llu bytes out "
	    "(%u files)", s->user, s->peerstr, (unsigned long long)s->bytes_in,
	    s->files_in, (unsigned long long)s->bytes_out, s->files_out);
	_exit(0);
}

void
reply(struct session *s, int code, const char *fmt, ...)
{
	char	buf[MOAT_REPLY_MAX];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_debug("-> %d %s", code, buf);
	if (ftpio_reply(&s->io, code, "%s", buf) == -1)
		session_exit(s, 0, NULL);
}

void
reply_raw(struct session *s, const char *text, size_t len)
{
	if (ftpio_write(&s->io, text, len) == -1)
		session_exit(s, 0, NULL);
}

void
cmd_user(struct session *s, const char *arg)
{
	(void)arg;
	reply(s, 530, "Already logged in; cannot change user.");
}

void
cmd_pass(struct session *s, const char *arg)
{
	(void)arg;
	reply(s, 503, "Already logged in.");
}

void
cmd_quit(struct session *s, const char *arg)
{
	(void)arg;
	session_exit(s, 221, "Goodbye.");
}

void
cmd_syst(struct session *s, const char *arg)
{
	(void)arg;
	reply(s, 215, "UNIX Type: L8");
}

void
cmd_feat(struct session *s, const char *arg)
{
	char	buf[1024];
	size_t	n;

	(void)arg;
	n = ftp_feat(buf, sizeof(buf), s->cfg->tls_cert[0] != '\0',
	    s->hash_algo, s->mlst);
	reply_raw(s, buf, n);
}

void
cmd_opts(struct session *s, const char *arg)
{
	size_t	vl = strcspn(arg, " ");
	const char *rest = arg[vl] == ' ' ? arg + vl + 1 : "";

	if (vl == 4 && strncasecmp(arg, "UTF8", 4) == 0) {
		s->utf8 = strcasecmp(rest, "OFF") != 0;
		reply(s, 200, "UTF8 set to %s.", s->utf8 ? "on" : "off");
	} else if (vl == 4 && strncasecmp(arg, "MLST", 4) == 0) {
		char	list[64];

		/* RFC 3659 7.9: the facts named are on, all others off; the
		 * reply names those now on */
		s->mlst = mlst_parse(rest);
		if (mlst_names(list, sizeof(list), s->mlst, 0) == -1)
			fatalx("%s: MLST facts too long", __func__);
		reply(s, 200, "MLST OPTS%s%s", list[0] != '\0' ? " " : "",
		    list);
	} else if (vl == 4 && strncasecmp(arg, "HASH", 4) == 0)
		opts_hash(s, rest);
	else
		reply(s, 501, "Option not understood.");
}

void
cmd_noop(struct session *s, const char *arg)
{
	(void)arg;
	reply(s, 200, "NOOP ok.");
}

void
cmd_help(struct session *s, const char *arg)
{
	char	buf[4096];
	size_t	o = 0, i;
	int	n;

	if (*arg != '\0') {
		for (i = 0; i < NCOMMANDS; i++)
			if (strcasecmp(arg, commands[i].verb) == 0) {
				reply(s, 214, "%s: %s", commands[i].verb,
				    commands[i].help);
				return;
			}
		reply(s, 502, "Unknown command.");
		return;
	}
	o = (size_t)snprintf(buf, sizeof(buf),
	    "214-The following commands are recognized:\r\n");
	for (i = 0; i < NCOMMANDS; i++) {
		n = snprintf(buf + o, sizeof(buf) - o, "%s%-8s%s",
		    i % 8 == 0 ? " " : "", commands[i].verb,
		    i % 8 == 7 || i == NCOMMANDS - 1 ? "\r\n" : "");
		if (n < 0 || (size_t)n >= sizeof(buf) - o)
			break;
		o += (size_t)n;
	}
	n = snprintf(buf + o, sizeof(buf) - o, "214 Help OK.\r\n");
	if (n > 0 && (size_t)n < sizeof(buf) - o)
		o += (size_t)n;
	reply_raw(s, buf, o);
}

void
cmd_stat(struct session *s, const char *arg)
{
	char	buf[1024];
	int	n;

	if (*arg != '\0') {
		reply(s, 504, "STAT with a path is not supported; use MLST.");
		return;
	}
	n = snprintf(buf, sizeof(buf),
	    "211-moatftpd status:\r\n"
	    " Connected from %s\r\n"
	    " Logged in as %s\r\n"
	    " TYPE: %s, MODE: Stream, STRU: File\r\n"
	    " Control: %s, data: %s\r\n"
	    " %llu bytes in, %llu bytes out\r\n"
	    "211 End of status.\r\n", s->peerstr, s->user,
	    s->type_ascii ? "ASCII" : "BINARY",
	    s->tls ? "TLS" : "plain", s->prot_p ? "TLS" : "plain",
	    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out);
	if (n > 0 && (size_t)n < sizeof(buf))
		reply_raw(s, buf, (size_t)n);
}

void
cmd_type(struct session *s, const char *arg)
{
	if (strcasecmp(arg, "I") == 0 || strcasecmp(arg, "L 8") == 0) {
		s->type_ascii = 0;
		reply(s, 200, "Switching to Binary mode.");
	} else if (strcasecmp(arg, "A") == 0 || strcasecmp(arg, "A N") == 0) {
		s->type_ascii = 1;
		reply(s, 200, "Switching to ASCII mode.");
	} else
		reply(s, 504, "Type not supported.");
}

void
cmd_mode(struct session *s, const char *arg)
{
	if (strcasecmp(arg, "S") == 0)
		reply(s, 200, "Mode set to S.");
	else
		reply(s, 504, "Only stream mode is supported.");
}

void
cmd_stru(struct session *s, const char *arg)
{
	if (strcasecmp(arg, "F") == 0)
		reply(s, 200, "Structure set to F.");
	else
		reply(s, 504, "Only file structure is supported.");
}

static void
site_quota(struct session *s)
{
	uint64_t	used, limit, freeb;
	char		hu[16], hl[16], hf[16];

	if (quota_get(s, &used, &limit, &freeb) == -1) {
		reply(s, 200, "used=0 limit=0 free=0 (no quota)");
		return;
	}
	size_format(used, hu, sizeof(hu));
	if (limit == 0) {
		reply(s, 200, "used=%llu limit=0 free=0 used_h=%s limit_h="
		    "unlimited free_h=unlimited", (unsigned long long)used, hu);
		return;
	}
	size_format(limit, hl, sizeof(hl));
	size_format(freeb, hf, sizeof(hf));
	reply(s, 200, "used=%llu limit=%llu free=%llu used_h=%s limit_h=%s "
	    "free_h=%s", (unsigned long long)used, (unsigned long long)limit,
	    (unsigned long long)freeb, hu, hl, hf);
}

void
cmd_site(struct session *s, const char *arg)
{
	if (strcasecmp(arg, "QUOTA") == 0)
		site_quota(s);
	else if (strcasecmp(arg, "HELP") == 0) {
		static const char help[] =
		    "214-SITE commands:\r\n"
		    " SITE QUOTA   used, limit and free bytes of your quota\r\n"
		    " SITE HELP    this list\r\n"
		    "214 End.\r\n";

		reply_raw(s, help, sizeof(help) - 1);
	} else
		reply(s, 504, "Unknown SITE command.");
}

void
cmd_auth(struct session *s, const char *arg)
{
	(void)arg;
	reply(s, 503, "AUTH must come before login.");
}

void
cmd_pbsz(struct session *s, const char *arg)
{
	(void)arg;
	if (!s->tls) {
		reply(s, 503, "PBSZ requires AUTH TLS first.");
		return;
	}
	s->pbsz = 1;
	reply(s, 200, "PBSZ=0");
}

void
cmd_prot(struct session *s, const char *arg)
{
	if (!s->tls || !s->pbsz) {
		reply(s, 503, "PROT requires PBSZ first.");
		return;
	}
	if (strcasecmp(arg, "P") == 0 || strcasecmp(arg, "C") == 0) {
		s->prot_p = toupper((unsigned char)arg[0]) == 'P';
		reply(s, 200, "Protection level set to %c.",
		    s->prot_p ? 'P' : 'C');
	} else if (strcasecmp(arg, "S") == 0 || strcasecmp(arg, "E") == 0)
		reply(s, 536, "Protection level not supported.");
	else
		reply(s, 504, "Unknown protection level.");
}

void
cmd_ccc(struct session *s, const char *arg)
{
	(void)arg;
	reply(s, 534, "CCC refused: the control channel stays encrypted.");
}

void
cmd_abor(struct session *s, const char *arg)
{
	(void)arg;
	data_reset(s);
	reply(s, 225, "No transfer to abort.");
}

/* Run one command line. Also used during transfers by datachan.c. */
void
session_dispatch(struct session *s, char *line)
{
	struct sb_activity *e = s->act;
	const char	*arg;
	size_t		 vl, i;
	char		 vis[MOAT_CMD_MAX * 4];

	vl = strcspn(line, " ");
	arg = line[vl] == ' ' ? line + vl + 1 : "";
	if (log_getlevel() >= LOG_LVL_DEBUG)
		log_debug("<- %s", strncasecmp(line, "PASS", 4) == 0 ?
		    "PASS ****" : log_vis(vis, sizeof(vis), line));
	for (i = 0; i < NCOMMANDS; i++)
		if (strlen(commands[i].verb) == vl &&
		    strncasecmp(line, commands[i].verb, vl) == 0)
			break;
	if (i == NCOMMANDS) {
		reply(s, 502, "Command not implemented.");
		return;
	}
	if ((commands[i].flags & C_ARG) && *arg == '\0') {
		reply(s, 501, "%s needs an argument.", commands[i].verb);
		return;
	}
	if (e != NULL) {
		/* `moatadm who` shows it: never a password */
		(void)snprintf(e->cmd, sizeof(e->cmd), "%s",
		    commands[i].fn == cmd_pass ? "PASS ****" : line);
		atomic_store(&e->last, (int64_t)time(NULL));
	}
	/* RNFR must be followed by RNTO; REST (and ALLO) by a transfer, with
	 * only the data connection's setup between: a REST left over from
	 * long ago must not cut the file of a later STOR */
	if (strcmp(commands[i].verb, "RNTO") != 0 &&
	    strcmp(commands[i].verb, "RNFR") != 0)
		s->rnfr[0] = '\0';
	if (!(commands[i].flags & C_KEEP)) {
		s->rest = 0;
		s->allo = 0;
	}
	commands[i].fn(s, arg);
	if (e != NULL)
		(void)strlcpy(e->cmd, "idle", sizeof(e->cmd));
	setproctitle("%s@%s", s->user, s->peerstr);
}

void
session_main(struct session_args *a)
{
	static struct session	 ss;
	struct session		*s = &ss;
	struct sigaction	 sa;
	char			 line[MOAT_CMD_MAX];
	int			 r;

	memset(s, 0, sizeof(*s));
	s->cfg = a->cfg;
	ftpio_init(&s->io, a->ctlfd, NULL, NULL);
	memcpy(s->io.in, a->pending, a->npending);
	s->io.inlen = a->npending;
	(void)strlcpy(s->user, a->user, sizeof(s->user));
	s->uid = a->uid;
	s->gid = a->gid;
	s->peer = a->peer;
	s->local = a->local;
	(void)strlcpy(s->peerstr, a->peerstr, sizeof(s->peerstr));
	s->sessid = a->sessid;
	s->tls = a->tls;
	s->pbsz = a->pbsz;
	s->prot_p = a->prot_p;
	s->utf8 = a->utf8;
	s->data_ctx = a->data_ctx;
	/* resume only tickets of this session's own control connection */
	if (s->data_ctx != NULL && s->tls &&
	    tls_require_token(s->data_ctx, a->tls_token) == -1)
		fatalx("TLS ticket check: %s", tls_errstr());
	/* the control session: a TLS 1.2 client without tickets resumes
	 * it by session ID */
	if (s->data_ctx != NULL && s->tls && a->ntls_sess > 0 &&
	    tls_import_session(s->data_ctx, a->tls_sess, a->ntls_sess) == -1)
		log_warnx("TLS session of the control not kept: %s",
		    tls_errstr());
	s->relayfd = a->relayfd;
	s->ledger = a->ledger;
	s->slot = a->slot;
	s->act = a->act;
	s->pasv_fd = -1;
	s->hash_algo = DIGEST_SHA256;
	s->mlst = MLST_ALL;
	(void)strlcpy(s->cwd, "/", sizeof(s->cwd));
	log_settag("#%lu %s %s", s->sessid, s->user, s->peerstr);
	s->rootfd = open(a->chrooted ? "/" : a->home,
	    O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->rootfd == -1)
		session_exit(s, 421, "Cannot open your home directory.");
	sig_session = s;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sigstop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	quota_init(s, a->need_scan, a->chrooted ? "/" : a->home);
	setproctitle("%s@%s", s->user, s->peerstr);
	log_info("session of %s (uid %ld) in %s%s", s->user, (long)s->uid,
	    a->home, a->chrooted ? " (chroot)" : " (Landlock)");
	reply(s, 230, "User %s logged in.", s->user);
	for (;;) {
		if (stop_requested)
			session_exit(s, 421, stop_msg());
		r = ftpio_getline(&s->io, line, sizeof(line),
		    (int)(s->cfg->idle_timeout * 1000));
		if (r == FTPIO_TIMEOUT)
			session_exit(s, 421, "Idle timeout, closing control "
			    "connection.");
		if (r == FTPIO_TOOLONG) {
			reply(s, 500, "Command line too long.");
			continue;
		}
		if (r != FTPIO_LINE) {
			if (stop_requested)
				continue;
			session_exit(s, 0, NULL);
		}
		session_dispatch(s, line);
	}
}
