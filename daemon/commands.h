/* Handlers of the post-login commands, grouped by the file that owns them.
 * The dispatch table is in session.c. */
#ifndef MOAT_COMMANDS_H
#define MOAT_COMMANDS_H

#include "daemon/session.h"

/* session.c: protocol state */
void	cmd_user(struct session *, const char *);
void	cmd_pass(struct session *, const char *);
void	cmd_quit(struct session *, const char *);
void	cmd_syst(struct session *, const char *);
void	cmd_feat(struct session *, const char *);
void	cmd_opts(struct session *, const char *);
void	cmd_noop(struct session *, const char *);
void	cmd_help(struct session *, const char *);
void	cmd_stat(struct session *, const char *);
void	cmd_type(struct session *, const char *);
void	cmd_mode(struct session *, const char *);
void	cmd_stru(struct session *, const char *);
void	cmd_site(struct session *, const char *);
void	cmd_auth(struct session *, const char *);
void	cmd_pbsz(struct session *, const char *);
void	cmd_prot(struct session *, const char *);
void	cmd_ccc(struct session *, const char *);
void	cmd_abor(struct session *, const char *);

/* fsops.c: the file system, inside the home */
void	cmd_pwd(struct session *, const char *);
void	cmd_cwd(struct session *, const char *);
void	cmd_cdup(struct session *, const char *);
void	cmd_mkd(struct session *, const char *);
void	cmd_rmd(struct session *, const char *);
void	cmd_dele(struct session *, const char *);
void	cmd_rnfr(struct session *, const char *);
void	cmd_rnto(struct session *, const char *);
void	cmd_size(struct session *, const char *);
void	cmd_mdtm(struct session *, const char *);
void	cmd_mfmt(struct session *, const char *);

/* listing.c: LIST, NLST, MLSD, MLST */
void	cmd_list(struct session *, const char *);
void	cmd_nlst(struct session *, const char *);
void	cmd_mlsd(struct session *, const char *);
void	cmd_mlst(struct session *, const char *);

/* hashcmd.c: HASH and the X* digests */
void	cmd_hash(struct session *, const char *);
void	cmd_xmd5(struct session *, const char *);
void	cmd_xsha1(struct session *, const char *);
void	cmd_xsha256(struct session *, const char *);
/* OPTS HASH [algo]: called by cmd_opts */
void	opts_hash(struct session *, const char *);

/* datachan.c: PASV, EPSV, PORT, EPRT */
void	cmd_pasv(struct session *, const char *);
void	cmd_epsv(struct session *, const char *);
void	cmd_port(struct session *, const char *);
void	cmd_eprt(struct session *, const char *);

/* transfer.c: RETR, STOR, STOU, APPE, REST, ALLO */
void	cmd_retr(struct session *, const char *);
void	cmd_stor(struct session *, const char *);
void	cmd_stou(struct session *, const char *);
void	cmd_appe(struct session *, const char *);
void	cmd_rest(struct session *, const char *);
void	cmd_allo(struct session *, const char *);

#endif
