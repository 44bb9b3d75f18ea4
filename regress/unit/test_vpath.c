/*
 * Virtual paths: lexical joining (vpath_join, vpath_base) and confined
 * resolution (vpath_open, vpath_parent) against a temp home that holds
 * symlinks pointing out of it.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include <check.h>

#include "daemon/session.h"
#include "daemon/vpath.h"

static char		tmpdir[64];
static char		home[256];
static struct session	sess;

static void	setup(void);
static void	teardown(void);
static int	rm_entry(const char *, const struct stat *, int, struct FTW *);
static void	put_file(const char *, const char *);
static void	read_vpath(const char *, char *, size_t);

static const struct {
	const char	*cwd;
	const char	*arg;
	const char	*want;
} joins[] = {
	{ "/",		"..",			"/" },
	{ "/",		"../../etc/passwd",	"/etc/passwd" },
	{ "/a/b",	"../../../../etc",	"/etc" },
	{ "/",		"//",			"/" },
	{ "/",		"/./a/",		"/a" },
	{ "/",		"/a/.",			"/a" },
	{ "/x",		"a/b/..",		"/x/a" },
	{ "/x",		"y",			"/x/y" },
	{ "/x/y",	"/abs",			"/abs" },
	{ "/x",		"",			"/x" },
	{ "/x",		".",			"/x" },
	{ "/x",		"..",			"/" },
	{ "/",		"a//b///c",		"/a/b/c" },
	{ "/",		"...",			"/..." },
	{ "/",		"..a/.b",		"/..a/.b" },
	{ "/",		"中文目录/文件.txt",	"/中文目录/文件.txt" },
	{ "/",		"a b/ c ",		"/a b/ c " },
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
put_file(const char *path, const char *data)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_eq(fputs(data, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * home/                  the session's "/"
 *   f                    "inside"
 *   sub/                 empty
 *   etc/passwd           "decoy": where /etc/passwd lands inside the home
 *   esc  -> /etc
 *   abs  -> /etc/passwd
 *   shadow -> /etc/shadow
 *   up   -> ../../../..
 *   rel  -> ../outside
 *   out  -> <tmpdir>/outside (absolute: a regression escapes into tmp only)
 * outside/secret         must never be reachable
 */
static void
setup(void)
{
	char	p[512], t[512];

	strlcpy(tmpdir, "/tmp/test_vpath.XXXXXX", sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert((size_t)snprintf(home, sizeof(home), "%s/home", tmpdir) <
	    sizeof(home));
	ck_assert_int_eq(mkdir(home, 0755), 0);
	snprintf(p, sizeof(p), "%s/outside", tmpdir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/outside/secret", tmpdir);
	put_file(p, "secret");
	snprintf(p, sizeof(p), "%s/f", home);
	put_file(p, "inside");
	snprintf(p, sizeof(p), "%s/sub", home);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/etc", home);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/etc/passwd", home);
	put_file(p, "decoy");
	snprintf(p, sizeof(p), "%s/esc", home);
	ck_assert_int_eq(symlink("/etc", p), 0);
	snprintf(p, sizeof(p), "%s/abs", home);
	ck_assert_int_eq(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/shadow", home);
	ck_assert_int_eq(symlink("/etc/shadow", p), 0);
	snprintf(p, sizeof(p), "%s/up", home);
	ck_assert_int_eq(symlink("../../../..", p), 0);
	snprintf(p, sizeof(p), "%s/rel", home);
	ck_assert_int_eq(symlink("../outside", p), 0);
	snprintf(p, sizeof(p), "%s/out", home);
	snprintf(t, sizeof(t), "%s/outside", tmpdir);
	ck_assert_int_eq(symlink(t, p), 0);

	memset(&sess, 0, sizeof(sess));
	strlcpy(sess.cwd, "/", sizeof(sess.cwd));
	sess.rootfd = open(home, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(sess.rootfd, 0);
}

static void
teardown(void)
{
	close(sess.rootfd);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Read what vpath points to, "" if it cannot be opened. */
static void
read_vpath(const char *vpath, char *buf, size_t len)
{
	ssize_t	n;
	int	fd;

	buf[0] = '\0';
	if ((fd = vpath_open(&sess, vpath, O_RDONLY, 0)) == -1)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

START_TEST(test_join_table)
{
	char	out[MOAT_PATH_MAX];

	ck_assert_int_eq(vpath_join(joins[_i].cwd, joins[_i].arg, out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, joins[_i].want);
}
END_TEST

START_TEST(test_join_control_bytes)
{
	static const char *const bad[] = { "a\rb", "a\nb", "\001x", "x\177",
	    "\t", "dir/\033[2J" };
	char	out[MOAT_PATH_MAX];
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(vpath_join("/", bad[i], out, sizeof(out)), -1);
	/* in the cwd too: nothing the user typed gets through */
	ck_assert_int_eq(vpath_join("/", "ok", out, sizeof(out)), 0);
}
END_TEST

START_TEST(test_join_too_long)
{
	char	*name, out[MOAT_PATH_MAX];

	ck_assert_ptr_nonnull(name = malloc(8192));
	memset(name, 'a', 8191);
	name[8191] = '\0';
	ck_assert_int_eq(vpath_join("/", name, out, sizeof(out)), -1);
	name[4096] = '\0';		/* "/" + 4096 bytes: no room for NUL */
	ck_assert_int_eq(vpath_join("/", name, out, sizeof(out)), -1);
	name[4094] = '\0';		/* "/" + 4094 + NUL fits */
	ck_assert_int_eq(vpath_join("/", name, out, sizeof(out)), 0);
	ck_assert_uint_eq(strlen(out), 4095);
	/* long cwd plus a short arg */
	name[0] = '/';
	ck_assert_int_eq(vpath_join(name, "bbbbbbbbbb", out, sizeof(out)), -1);
	free(name);
	/* a short output buffer */
	ck_assert_int_eq(vpath_join("/", "abcdef", out, 4), -1);
	ck_assert_int_eq(vpath_join("/", "..", out, 2), 0);
	ck_assert_str_eq(out, "/");
	ck_assert_int_eq(vpath_join("/", "a", out, 1), -1);
}
END_TEST

START_TEST(test_base)
{
	ck_assert_str_eq(vpath_base("/"), "/");
	ck_assert_str_eq(vpath_base("/a"), "a");
	ck_assert_str_eq(vpath_base("/a/b.txt"), "b.txt");
	ck_assert_str_eq(vpath_base("/中文/文件"), "文件");
}
END_TEST

START_TEST(test_open_inside)
{
	char	buf[64];
	int	fd;

	read_vpath("/f", buf, sizeof(buf));
	ck_assert_str_eq(buf, "inside");
	ck_assert_int_ge(fd = vpath_open(&sess, "/", O_RDONLY | O_DIRECTORY,
	    0), 0);
	close(fd);
	ck_assert_int_ge(fd = vpath_open(&sess, "/sub", O_PATH | O_DIRECTORY,
	    0), 0);
	close(fd);
	ck_assert_int_eq(vpath_open(&sess, "/f", O_RDONLY | O_DIRECTORY, 0),
	    -1);
	ck_assert_int_eq(errno, ENOTDIR);
	ck_assert_int_eq(vpath_open(&sess, "/nope", O_RDONLY, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_open_symlinks_stay_inside)
{
	char	buf[64];

	/* Absolute targets resolve against the home: the decoy, never /etc. */
	read_vpath("/esc/passwd", buf, sizeof(buf));
	ck_assert_str_eq(buf, "decoy");
	read_vpath("/abs", buf, sizeof(buf));
	ck_assert_str_eq(buf, "decoy");
	/* ".." chains stop at the home. */
	read_vpath("/up/f", buf, sizeof(buf));
	ck_assert_str_eq(buf, "inside");
	read_vpath("/up/etc/passwd", buf, sizeof(buf));
	ck_assert_str_eq(buf, "decoy");
	/* ../outside from the home is /outside inside it: not there. */
	ck_assert_int_eq(vpath_open(&sess, "/rel/secret", O_RDONLY, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* Unjoined ".." handed straight to vpath_open cannot climb either. */
	ck_assert_int_eq(vpath_open(&sess, "../outside/secret", O_RDONLY, 0),
	    -1);
	ck_assert_int_eq(vpath_open(&sess, "/../../outside/secret", O_RDONLY,
	    0), -1);
	read_vpath("/../../f", buf, sizeof(buf));
	ck_assert_str_eq(buf, "inside");
}
END_TEST

START_TEST(test_open_no_decoy)
{
	/* /etc/shadow exists outside; the home has no etc/shadow. */
	ck_assert_int_eq(vpath_open(&sess, "/esc/shadow", O_RDONLY, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(vpath_open(&sess, "/shadow", O_RDONLY, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(vpath_open(&sess, "/esc/shadow", O_PATH, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_open_create)
{
	char		p[512];
	struct stat	st;
	int		fd;

	ck_assert_int_ge(fd = vpath_open(&sess, "/sub/new",
	    O_WRONLY | O_CREAT | O_EXCL, 0600), 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/sub/new", home);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(unlink(p), 0);
	/* O_CREAT through a symlink pointing out lands inside (or fails). */
	fd = vpath_open(&sess, "/out/planted", O_WRONLY | O_CREAT, 0600);
	if (fd != -1)
		close(fd);
	snprintf(p, sizeof(p), "%s/outside/planted", tmpdir);
	ck_assert_int_eq(access(p, F_OK), -1);
	/* and reading through it finds nothing */
	ck_assert_int_eq(vpath_open(&sess, "/out/secret", O_RDONLY, 0), -1);
}
END_TEST

START_TEST(test_parent)
{
	char		base[256];
	struct stat	st;
	int		fd;

	ck_assert_int_ge(fd = vpath_parent(&sess, "/sub/x", base,
	    sizeof(base)), 0);
	ck_assert_str_eq(base, "x");
	ck_assert_int_eq(fstatat(fd, "", &st, AT_EMPTY_PATH), 0);
	ck_assert(S_ISDIR(st.st_mode));
	close(fd);
	ck_assert_int_ge(fd = vpath_parent(&sess, "/f", base, sizeof(base)),
	    0);
	ck_assert_str_eq(base, "f");
	ck_assert_int_eq(fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISREG(st.st_mode));
	close(fd);
	/* the home has no parent */
	ck_assert_int_eq(vpath_parent(&sess, "/", base, sizeof(base)), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* a base longer than the buffer */
	ck_assert_int_eq(vpath_parent(&sess, "/sub/abcdefgh", base, 4), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	/* the parent through an escaping symlink stays inside */
	ck_assert_int_ge(fd = vpath_parent(&sess, "/esc/passwd", base,
	    sizeof(base)), 0);
	ck_assert_int_eq(fstatat(fd, base, &st, 0), 0);
	ck_assert_uint_eq((uintmax_t)st.st_size, 5);	/* "decoy" */
	close(fd);
	ck_assert_int_eq(vpath_parent(&sess, "/rel/secret", base,
	    sizeof(base)), -1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("vpath");
	TCase	*tj = tcase_create("join");
	TCase	*to = tcase_create("open");
	SRunner	*sr;
	int	 nfail;

	tcase_add_loop_test(tj, test_join_table, 0,
	    (int)(sizeof(joins) / sizeof(joins[0])));
	tcase_add_test(tj, test_join_control_bytes);
	tcase_add_test(tj, test_join_too_long);
	tcase_add_test(tj, test_base);
	suite_add_tcase(s, tj);

	/* Once, in the parent: a failed test still gets its files removed. */
	tcase_add_unchecked_fixture(to, setup, teardown);
	tcase_add_test(to, test_open_inside);
	tcase_add_test(to, test_open_symlinks_stay_inside);
	tcase_add_test(to, test_open_no_decoy);
	tcase_add_test(to, test_open_create);
	tcase_add_test(to, test_parent);
	suite_add_tcase(s, to);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
