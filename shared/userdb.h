/*
 * The user database: a text file, one account a line,
 *	name:hash:uid:gid:quota_bytes:flags:home
 * Root-owned 0600 in root mode. Writers lock, write a temp file, fsync, rename.
 */
#ifndef MOAT_USERDB_H
#define MOAT_USERDB_H

#include <sys/types.h>
#include <stdint.h>

#include "shared/limits.h"

#define USER_F_LOCKED	0x01

struct user {
	char		name[MOAT_NAME_MAX + 1];
	char		hash[MOAT_HASH_MAX + 1];
	uid_t		uid;
	gid_t		gid;
	uint64_t	quota;		/* bytes; 0 = unlimited */
	unsigned	flags;		/* USER_F_* */
	char		home[4096];	/* absolute path */
};

struct userdb {
	struct user	*users;
	size_t		 nusers;
	size_t		 cap;
};

/* 0 if name is a valid account name: [a-z_][a-z0-9_.-]{0,31}, else -1. */
int	 userdb_valid_name(const char *name);
/* 0 if home is usable in the db: absolute, printable, no ':', no "." or
 * ".." component, shorter than struct user's home; else -1. */
int	 userdb_valid_home(const char *home);
/*
 * Parse the text of a db into db (which it initializes). Returns 0, or -1 with a message "line N: why"
 * in err. Rejects: wrong field count, bad name, duplicate name or uid,
 * bad numbers, unknown flags, relative home, ':' or newline in a field.
 */
int	 userdb_parse(struct userdb *db, const char *text, size_t len,
	    char *err, size_t errlen);
/* Read and parse a file. -1 with err set ("PATH: why" / "PATH:N: why"). */
int	 userdb_load(struct userdb *db, const char *path, char *err,
	    size_t errlen);
/* Format the db as text into a malloc'd buffer; NULL on ENOMEM. */
char	*userdb_format(const struct userdb *db, size_t *lenp);
/* Write atomically: lock PATH.lock, write PATH.tmp 0600, fsync, rename,
 * fsync dir. 0; -1 with err set (the old db stays); 1 with err set: the
 * new db is in place but its directory could not be synced. */
int	 userdb_save(const struct userdb *db, const char *path, char *err,
	    size_t errlen);
/* The same, for a caller that already holds userdb_lock(path). */
int	 userdb_save_locked(const struct userdb *db, const char *path,
	    char *err, size_t errlen);
/* Take the writer lock (flock on PATH.lock); returns fd or -1. */
int	 userdb_lock(const char *path);
void	 userdb_unlock(int fd);
struct user *userdb_find(const struct userdb *db, const char *name);
struct user *userdb_find_uid(const struct userdb *db, uid_t uid);
/* Append a copy of u; -1 on ENOMEM or duplicate name/uid. */
int	 userdb_add(struct userdb *db, const struct user *u);
int	 userdb_remove(struct userdb *db, const char *name);
/* Lowest free uid in [min,max], or (uid_t)-1 if none. */
uid_t	 userdb_free_uid(const struct userdb *db, uid_t min, uid_t max);
/* Frees and wipes (explicit_bzero) every hash. */
void	 userdb_free(struct userdb *db);

#endif
