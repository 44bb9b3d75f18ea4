/* User database: parser, formatter, atomic save, lookups. */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include <bsd/string.h>

#include "shared/userdb.h"

#define H	"$y$j9T$FDM/LUDNG8yfVpwtH5p5x/$fQsb8dODtD9lRMJz3CyFYmQMq51uxVhk6tjvqgPxcN0"

static const char good_db[] =
    "alice:" H ":20000:20000:0:-:/srv/ftp/alice\n"
    "bob:!" H ":20001:20001:10737418240:locked:/srv/ftp/bob\n"
    "_c.d-e9:*:20002:30000:18446744073709551615:-:/\n";

static const struct {
	const char	*text;
	const char	*err;		/* expected prefix */
} bad_dbs[] = {
	{ "alice:x:1:1:0:-\n", "line 1: wrong number" },
	{ "alice:x:1:1:0:-:/h:extra\n", "line 1: wrong number" },
	{ "alice:x:1:1:0:-:/h\nbob\n", "line 2: wrong number" },
	{ "Alice:x:1:1:0:-:/h\n", "line 1: bad user name" },
	{ "9al:x:1:1:0:-:/h\n", "line 1: bad user name" },
	{ ":x:1:1:0:-:/h\n", "line 1: bad user name" },
	{ "a b:x:1:1:0:-:/h\n", "line 1: bad user name" },
	{ "abcdefghijabcdefghijabcdefghijabc:x:1:1:0:-:/h\n",
	  "line 1: bad user name" },
	{ "alice::1:1:0:-:/h\n", "line 1: bad password hash" },
	{ "alice:x y:1:1:0:-:/h\n", "line 1: bad password hash" },
	{ "alice:x:0:1:0:-:/h\n", "line 1: uid 0" },
	{ "alice:x:1:0:0:-:/h\n", "line 1: gid 0" },
	{ "alice:x:-1:1:0:-:/h\n", "line 1: bad uid" },
	{ "alice:x:+1:1:0:-:/h\n", "line 1: bad uid" },
	{ "alice:x: 1:1:0:-:/h\n", "line 1: bad uid" },
	{ "alice:x:01:1:0:-:/h\n", "line 1: bad uid" },
	{ "alice:x:4294967295:1:0:-:/h\n", "line 1: bad uid" },
	{ "alice:x:1x:1:0:-:/h\n", "line 1: bad uid" },
	{ "alice:x::1:0:-:/h\n", "line 1: bad uid" },
	{ "alice:x:1:z:0:-:/h\n", "line 1: bad gid" },
	{ "alice:x:1:1:18446744073709551616:-:/h\n", "line 1: bad quota" },
	{ "alice:x:1:1:-5:-:/h\n", "line 1: bad quota" },
	{ "alice:x:1:1:1K:-:/h\n", "line 1: bad quota" },
	{ "alice:x:1:1:0::/h\n", "line 1: bad flags" },
	{ "alice:x:1:1:0:admin:/h\n", "line 1: bad flags" },
	{ "alice:x:1:1:0:locked,locked:/h\n", "line 1: bad flags" },
	{ "alice:x:1:1:0:locked,:/h\n", "line 1: bad flags" },
	{ "alice:x:1:1:0:-:h\n", "line 1: bad home" },
	{ "alice:x:1:1:0:-:\n", "line 1: bad home" },
	{ "alice:x:1:1:0:-:/a/../b\n", "line 1: bad home" },
	{ "alice:x:1:1:0:-:/a/..\n", "line 1: bad home" },
	{ "alice:x:1:1:0:-:/h\r\n", "line 1: bad home" },
	{ "alice:x:1:1:0:-:/h\tx\n", "line 1: bad home" },
	{ "alice:x:1:1:0:-:/h\n\nbob:x:2:2:0:-:/h\n", "line 2: empty line" },
	{ "\n", "line 1: empty line" },
	{ "alice:x:1:1:0:-:/h\nalice:x:2:2:0:-:/h\n",
	  "line 2: duplicate user name" },
	{ "alice:x:1:1:0:-:/h\nbob:x:1:2:0:-:/h\n", "line 2: duplicate uid" },
};

static char	tmpdir[64];
static char	dbpath[128];

static void
setup(void)
{
	(void)strlcpy(tmpdir, "/tmp/test_userdb.XXXXXX", sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	(void)snprintf(dbpath, sizeof(dbpath), "%s/users.db", tmpdir);
}

static void
teardown(void)
{
	char	cmd[256];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

static char *
slurp(const char *path, size_t *lenp)
{
	static char	buf[65536];
	ssize_t		n;
	int		fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	ck_assert(n >= 0);
	buf[n] = '\0';
	if (lenp != NULL)
		*lenp = (size_t)n;
	return buf;
}

static void
spew(const char *path, const char *text)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

START_TEST(test_parse_good)
{
	struct userdb	 db;
	struct user	*u;
	char		 err[256] = "";

	ck_assert_int_eq(userdb_parse(&db, good_db, strlen(good_db), err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(db.nusers, 3);
	ck_assert_ptr_nonnull(u = userdb_find(&db, "alice"));
	ck_assert_str_eq(u->hash, H);
	ck_assert_uint_eq(u->uid, 20000);
	ck_assert_uint_eq(u->quota, 0);
	ck_assert_uint_eq(u->flags, 0);
	ck_assert_str_eq(u->home, "/srv/ftp/alice");
	ck_assert_ptr_nonnull(u = userdb_find(&db, "bob"));
	ck_assert_uint_eq(u->flags, USER_F_LOCKED);
	ck_assert_uint_eq(u->quota, 10737418240ULL);
	ck_assert_ptr_nonnull(u = userdb_find_uid(&db, 20002));
	ck_assert_str_eq(u->name, "_c.d-e9");
	ck_assert_uint_eq(u->gid, 30000);
	ck_assert_uint_eq(u->quota, UINT64_MAX);
	ck_assert_ptr_null(userdb_find(&db, "carol"));
	ck_assert_ptr_null(userdb_find_uid(&db, 1));
	userdb_free(&db);
	ck_assert_uint_eq(db.nusers, 0);
	ck_assert_ptr_null(db.users);

	/* empty, and no final newline */
	ck_assert_int_eq(userdb_parse(&db, "", 0, err, sizeof(err)), 0);
	ck_assert_uint_eq(db.nusers, 0);
	userdb_free(&db);
	ck_assert_int_eq(userdb_parse(&db, "a:x:1:1:0:-:/h", 14, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(db.nusers, 1);
	userdb_free(&db);
}
END_TEST

START_TEST(test_parse_bad)
{
	struct userdb	db;
	char		err[256] = "";

	ck_assert_int_eq(userdb_parse(&db, bad_dbs[_i].text,
	    strlen(bad_dbs[_i].text), err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, bad_dbs[_i].err,
	    strlen(bad_dbs[_i].err)) == 0, "'%s': got '%s', want '%s'",
	    bad_dbs[_i].text, err, bad_dbs[_i].err);
	ck_assert_uint_eq(db.nusers, 0);
	ck_assert_ptr_null(db.users);
}
END_TEST

START_TEST(test_parse_nul)
{
	struct userdb	db;
	char		err[256];
	const char	text[] = "a:x:1:1:0:-:/h\nb:x:2:2:0:-:/\0h\n";

	ck_assert_int_eq(userdb_parse(&db, text, sizeof(text) - 1, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "line 2: NUL byte");
}
END_TEST

START_TEST(test_valid_name)
{
	ck_assert_int_eq(userdb_valid_name("a"), 0);
	ck_assert_int_eq(userdb_valid_name("_"), 0);
	ck_assert_int_eq(userdb_valid_name("a-b.c_9"), 0);
	ck_assert_int_eq(userdb_valid_name(
	    "abcdefghijabcdefghijabcdefghijab"), 0);	/* 32 */
	ck_assert_int_eq(userdb_valid_name(
	    "abcdefghijabcdefghijabcdefghijabc"), -1);	/* 33 */
	ck_assert_int_eq(userdb_valid_name(""), -1);
	ck_assert_int_eq(userdb_valid_name(NULL), -1);
	ck_assert_int_eq(userdb_valid_name("-a"), -1);
	ck_assert_int_eq(userdb_valid_name(".a"), -1);
	ck_assert_int_eq(userdb_valid_name("1a"), -1);
	ck_assert_int_eq(userdb_valid_name("aB"), -1);
	ck_assert_int_eq(userdb_valid_name("a:b"), -1);
	ck_assert_int_eq(userdb_valid_name("a/b"), -1);
	ck_assert_int_eq(userdb_valid_name("a\n"), -1);
}
END_TEST

START_TEST(test_roundtrip)
{
	struct userdb	 db, db2;
	char		*text, err[256];
	size_t		 len;

	ck_assert_int_eq(userdb_parse(&db, good_db, strlen(good_db), err,
	    sizeof(err)), 0);
	ck_assert_ptr_nonnull(text = userdb_format(&db, &len));
	ck_assert_uint_eq(len, strlen(good_db));
	ck_assert_str_eq(text, good_db);
	ck_assert_int_eq(userdb_parse(&db2, text, len, err, sizeof(err)), 0);
	ck_assert_uint_eq(db2.nusers, db.nusers);
	ck_assert_int_eq(memcmp(db.users, db2.users,
	    db.nusers * sizeof(*db.users)), 0);
	free(text);
	userdb_free(&db);
	userdb_free(&db2);

	memset(&db, 0, sizeof(db));
	ck_assert_ptr_nonnull(text = userdb_format(&db, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(text, "");
	free(text);
}
END_TEST

START_TEST(test_add_remove)
{
	struct userdb	db;
	struct user	u;

	memset(&db, 0, sizeof(db));
	memset(&u, 0, sizeof(u));
	(void)strlcpy(u.name, "alice", sizeof(u.name));
	(void)strlcpy(u.hash, H, sizeof(u.hash));
	(void)strlcpy(u.home, "/h/alice", sizeof(u.home));
	u.uid = u.gid = 100;
	ck_assert_int_eq(userdb_add(&db, &u), 0);
	ck_assert_int_eq(userdb_add(&db, &u), -1);	/* duplicate name */
	(void)strlcpy(u.name, "bob", sizeof(u.name));
	ck_assert_int_eq(userdb_add(&db, &u), -1);	/* duplicate uid */
	u.uid = u.gid = 101;
	ck_assert_int_eq(userdb_add(&db, &u), 0);
	(void)strlcpy(u.name, "Bad", sizeof(u.name));
	u.uid = 102;
	ck_assert_int_eq(userdb_add(&db, &u), -1);	/* bad name */
	ck_assert_uint_eq(db.nusers, 2);
	ck_assert_int_eq(userdb_remove(&db, "carol"), -1);
	ck_assert_int_eq(userdb_remove(&db, "alice"), 0);
	ck_assert_uint_eq(db.nusers, 1);
	ck_assert_str_eq(db.users[0].name, "bob");
	ck_assert_ptr_null(userdb_find(&db, "alice"));
	userdb_free(&db);
}
END_TEST

START_TEST(test_many)
{
	struct userdb	db, db2;
	struct user	u;
	char		*text, err[256];
	size_t		 len, i;

	memset(&db, 0, sizeof(db));
	memset(&u, 0, sizeof(u));
	(void)strlcpy(u.hash, H, sizeof(u.hash));
	(void)strlcpy(u.home, "/h", sizeof(u.home));
	for (i = 0; i < 1000; i++) {
		(void)snprintf(u.name, sizeof(u.name), "u%zu", i);
		u.uid = u.gid = (uid_t)(1000 + i);
		ck_assert_int_eq(userdb_add(&db, &u), 0);
	}
	ck_assert_ptr_nonnull(text = userdb_format(&db, &len));
	ck_assert_int_eq(userdb_parse(&db2, text, len, err, sizeof(err)), 0);
	ck_assert_uint_eq(db2.nusers, 1000);
	ck_assert_uint_eq(userdb_free_uid(&db2, 1000, 5000), 2000);
	free(text);
	userdb_free(&db);
	userdb_free(&db2);
}
END_TEST

START_TEST(test_free_uid)
{
	struct userdb	db;
	char		err[256];
	const char	text[] =
	    "a:x:20000:20000:0:-:/h\n"
	    "b:x:20002:20002:0:-:/h\n"
	    "c:x:20001:20003:0:-:/h\n";	/* gid 20003 is taken too */

	ck_assert_int_eq(userdb_parse(&db, text, strlen(text), err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(userdb_free_uid(&db, 20000, 20100), 20004);
	ck_assert_uint_eq(userdb_free_uid(&db, 19000, 20100), 19000);
	ck_assert_uint_eq(userdb_free_uid(&db, 20001, 20001), (uid_t)-1);
	ck_assert_uint_eq(userdb_free_uid(&db, 20000, 20003), (uid_t)-1);
	ck_assert_uint_eq(userdb_free_uid(&db, 20000, 20004), 20004);
	ck_assert_uint_eq(userdb_free_uid(&db, 20005, 20000), (uid_t)-1);
	userdb_free(&db);
	memset(&db, 0, sizeof(db));
	ck_assert_uint_eq(userdb_free_uid(&db, 5, 5), 5);
}
END_TEST

START_TEST(test_save_load)
{
	struct userdb	 db, db2;
	struct stat	 st;
	char		 err[256], tmp[160], *text;

	ck_assert_int_eq(userdb_parse(&db, good_db, strlen(good_db), err,
	    sizeof(err)), 0);
	ck_assert_int_eq(userdb_save(&db, dbpath, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(dbpath, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_ptr_nonnull(text = slurp(dbpath, NULL));
	ck_assert_str_eq(text, good_db);
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", dbpath);
	ck_assert_int_eq(access(tmp, F_OK), -1);	/* no leftovers */
	ck_assert_int_eq(userdb_load(&db2, dbpath, err, sizeof(err)), 0);
	ck_assert_uint_eq(db2.nusers, 3);
	userdb_free(&db2);
	userdb_free(&db);
}
END_TEST

START_TEST(test_load_errors)
{
	struct userdb	db;
	char		err[256], want[256];

	ck_assert_int_eq(userdb_load(&db, dbpath, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ENOENT);
	(void)snprintf(want, sizeof(want), "%s: ", dbpath);
	ck_assert(strncmp(err, want, strlen(want)) == 0);
	spew(dbpath, "a:x:1:1:0:-:/h\nb:x:2:2:0:bogus:/h\n");
	ck_assert_int_eq(userdb_load(&db, dbpath, err, sizeof(err)), -1);
	(void)snprintf(want, sizeof(want), "%s:2: bad flags", dbpath);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(userdb_load(&db, tmpdir, err, sizeof(err)), -1);
	/* a db others may write is no db: any of them could add an account */
	spew(dbpath, "a:x:1:1:0:-:/h\n");
	ck_assert_int_eq(chmod(dbpath, 0620), 0);
	ck_assert_int_eq(userdb_load(&db, dbpath, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not group or world writable"));
	ck_assert_int_eq(chmod(dbpath, 0602), 0);
	ck_assert_int_eq(userdb_load(&db, dbpath, err, sizeof(err)), -1);
	ck_assert_int_eq(chmod(dbpath, 0644), 0);
	ck_assert_int_eq(userdb_load(&db, dbpath, err, sizeof(err)), 0);
	userdb_free(&db);
	/* nor one that is not the reader's own (as root: give it away) */
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(dbpath, 1, 1), 0);
		ck_assert_int_eq(userdb_load(&db, dbpath, err, sizeof(err)),
		    -1);
		ck_assert_ptr_nonnull(strstr(err, "must be owned by uid 0"));
	}
}
END_TEST

START_TEST(test_save_failure_keeps_old)
{
	struct userdb	 db;
	struct user	*u;
	char		 err[256], tmp[160], *text;
	const char	 old[] = "a:x:1:1:0:-:/h\n";

	spew(dbpath, old);
	ck_assert_int_eq(userdb_load(&db, dbpath, err, sizeof(err)), 0);
	u = userdb_find(&db, "a");
	u->quota = 42;

	/* The temp file cannot be created: a directory is in the way. */
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", dbpath);
	ck_assert_int_eq(mkdir(tmp, 0700), 0);
	ck_assert_int_eq(userdb_save(&db, dbpath, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(text = slurp(dbpath, NULL));
	ck_assert_str_eq(text, old);
	ck_assert_int_eq(rmdir(tmp), 0);

	/* A db that would not parse back is never written. */
	(void)strlcpy(u->home, "relative", sizeof(u->home));
	ck_assert_int_eq(userdb_save(&db, dbpath, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "refusing") != NULL, "err '%s'", err);
	ck_assert_str_eq(slurp(dbpath, NULL), old);
	(void)strlcpy(u->home, "/h", sizeof(u->home));
	(void)strlcpy(u->hash, "a:b", sizeof(u->hash));
	ck_assert_int_eq(userdb_save(&db, dbpath, err, sizeof(err)), -1);
	ck_assert_str_eq(slurp(dbpath, NULL), old);
	ck_assert_int_eq(access(tmp, F_OK), -1);

	/* and then a good save replaces it whole */
	(void)strlcpy(u->hash, "x", sizeof(u->hash));
	ck_assert_int_eq(userdb_save(&db, dbpath, err, sizeof(err)), 0);
	ck_assert_str_eq(slurp(dbpath, NULL), "a:x:1:1:42:-:/h\n");
	userdb_free(&db);
}
END_TEST

START_TEST(test_lock)
{
	char	lock[160];
	int	fd, fd2;

	ck_assert_int_ne(fd = userdb_lock(dbpath), -1);
	(void)snprintf(lock, sizeof(lock), "%s.lock", dbpath);
	ck_assert_int_eq(access(lock, F_OK), 0);
	/* a second writer is held off */
	ck_assert_int_ne(fd2 = open(lock, O_RDWR), -1);
	ck_assert_int_eq(flock(fd2, LOCK_EX | LOCK_NB), -1);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	userdb_unlock(fd);
	ck_assert_int_eq(flock(fd2, LOCK_EX | LOCK_NB), 0);
	(void)close(fd2);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("userdb");
	TCase	*tc = tcase_create("parse"), *tf = tcase_create("file");
	SRunner	*sr;
	int	 nfail;

	tcase_add_test(tc, test_parse_good);
	tcase_add_loop_test(tc, test_parse_bad, 0,
	    sizeof(bad_dbs) / sizeof(bad_dbs[0]));
	tcase_add_test(tc, test_parse_nul);
	tcase_add_test(tc, test_valid_name);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_add_remove);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_free_uid);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_add_test(tf, test_save_load);
	tcase_add_test(tf, test_load_errors);
	tcase_add_test(tf, test_save_failure_keeps_old);
	tcase_add_test(tf, test_lock);
	suite_add_tcase(s, tf);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
