/*
 * moatadm: accounts, quotas, passwords and certificates.
 * main.c dispatches from a table; each command lives in a file named
 * after its concern; common.c holds what they share.
 */
#ifndef MOAT_ADMIN_H
#define MOAT_ADMIN_H

#include <sys/types.h>
#include <stdint.h>

#include "shared/config.h"
#include "shared/userdb.h"

/* Exit statuses. */
#define ADM_OK		0
#define ADM_EIO		1	/* the system failed us */
#define ADM_EUSAGE	2	/* the caller gave us something wrong */

struct adm {
	struct config	 conf;
	struct userdb	 db;
	int		 lockfd;	/* -1 unless the db is locked */
	int		 root;		/* running as root */
};

/* One long option of a command: "--name" or "--name=value". */
struct adm_opt {
	const char	 *name;		/* without the dashes */
	int		  has_arg;
	const char	**arg;		/* set to the value, if has_arg */
	int		 *set;		/* set to 1, if not */
};

/* A command: the table in main.c maps names to these. */
typedef int (*adm_cmd_fn)(struct adm *, int, char **);

/* common.c */
int	 adm_bad(const char *, ...) __attribute__((format(printf, 1, 2)));
int	 adm_fail(const char *, ...) __attribute__((format(printf, 1, 2)));
int	 adm_failw(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 adm_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
int	 adm_args(int, char **, const struct adm_opt *, size_t, char **,
	    size_t, size_t, const char *);
int	 adm_db_open(struct adm *, int, int);
int	 adm_db_save(struct adm *);
void	 adm_db_close(struct adm *);
struct user *adm_user(struct adm *, const char *, int *);
int	 adm_fs(const char *, uint64_t *, uint64_t *);
int	 adm_quota_check(struct adm *, const struct user *, const char *,
	    uint64_t, int);
int	 adm_read_password(int, char *, size_t);
void	 adm_hup_daemon(const struct adm *);
char	*adm_fmt_size(uint64_t, char *, size_t);

/* homes.c */
void	 adm_path_fold(const char *, char *, size_t);
int	 adm_home_check(const struct adm *, const char *,
	    const struct user *, const char *);

/* tree.c */
int	 tree_usage(const char *, uint64_t *);
int	 tree_remove(const char *);

/* useradd.c */
int	 cmd_useradd(struct adm *, int, char **);

/* account.c */
int	 cmd_passwd(struct adm *, int, char **);
int	 cmd_lock(struct adm *, int, char **);
int	 cmd_unlock(struct adm *, int, char **);
int	 cmd_userdel(struct adm *, int, char **);

/* quota.c */
int	 cmd_quota(struct adm *, int, char **);
int	 cmd_list(struct adm *, int, char **);
int	 cmd_show(struct adm *, int, char **);

/* gencert.c */
int	 cmd_gencert(struct adm *, int, char **);

/* who.c */
int	 cmd_who(struct adm *, int, char **);
int	 cmd_kick(struct adm *, int, char **);

#endif
