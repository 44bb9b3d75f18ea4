"""Integration test of moatadm: every command, good and bad input.

Run as: /usr/bin/python3 regress/integ/test_admin.py
Binaries come from $MOAT_BUILD (default <repo>/build). Standard library only.
Each case runs in a fresh temp directory with its own config; bad input
must exit 2 with exactly one "moatadm: ..." line on stderr and leave the
user db byte-for-byte unchanged.
"""

import os
import pty
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import warnings

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("MOAT_BUILD", os.path.join(REPO, "build"))
MOATADM = os.path.join(BUILD, "moatadm")
ROOT = os.geteuid() == 0
NOBODY = 65534

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # noqa: E402 -- to check hashes; gone in Python 3.13
except ImportError:
    crypt = None

passed = 0
failed = 0


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        if isinstance(detail, bytes):
            detail = detail.decode(errors="replace")
        print("FAIL: %s%s" % (what, (": " + str(detail)) if detail else ""))
    return cond


class Env:
    """A temp directory with a config, a db path and a home root."""

    def __init__(self, base, name="t", db_sub=""):
        self.dir = os.path.join(base, name)
        os.mkdir(self.dir)
        self.db = os.path.join(self.dir, db_sub, "users.db")
        self.home_root = os.path.join(self.dir, "home")
        self.pidfile = os.path.join(self.dir, "moatftpd.pid")
        self.cert = os.path.join(self.dir, "cert.pem")
        self.key = os.path.join(self.dir, "key.pem")
        self.conf = os.path.join(self.dir, "moatftpd.conf")
        with open(self.conf, "w") as f:
            f.write('user_db = "%s";\n' % self.db)
            f.write('home_root = "%s";\n' % self.home_root)
            f.write("uid_min = 20000;\nuid_max = 20100;\n")
            f.write('pidfile = "%s";\n' % self.pidfile)
            f.write('tls_cert = "%s";\n' % self.cert)
            f.write('tls_key = "%s";\n' % self.key)

    def run(self, *args, stdin=None, user=None):
        """Run moatadm -c CONF args; (rc, stdout, stderr). No tty."""
        kw = {}
        if user is not None:
            kw["user"] = user
            kw["group"] = user
            kw["extra_groups"] = []
        p = subprocess.run([MOATADM, "-c", self.conf] + list(args),
                           input=stdin.encode() if stdin is not None
                           else None,
                           stdin=None if stdin is not None
                           else subprocess.DEVNULL,
                           capture_output=True, timeout=60,
                           start_new_session=True, **kw)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def dbtext(self):
        try:
            with open(self.db, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def users(self):
        """The db as {name: [fields]}; checks every line has 7 fields."""
        text = self.dbtext()
        out = {}
        if text is None:
            return out
        for line in text.decode().splitlines():
            f = line.split(":")
            check(len(f) == 7, "db line has 7 fields", line)
            out[f[0]] = f
        return out

    def ok(self, what, *args, stdin=None, user=None):
        rc, out, err = self.run(*args, stdin=stdin, user=user)
        check(rc == 0, what + ": exit 0", "rc=%d err=%r" % (rc, err))
        check(not os.path.exists(self.db + ".tmp"),
              what + ": no temp file left")
        return out, err

    def bad(self, what, *args, stdin=None, rc=2, want=None):
        """A command that must fail with rc, one line, db unchanged."""
        before = self.dbtext()
        homes = sorted(os.listdir(self.home_root)) \
            if os.path.isdir(self.home_root) else None
        got, out, err = self.run(*args, stdin=stdin)
        check(got == rc, what + ": exit %d" % rc,
              "rc=%d err=%r" % (got, err))
        one_line(what, err)
        if want is not None:
            check(want in err, what + ": message mentions %r" % want, err)
        check(self.dbtext() == before, what + ": db unchanged")
        after = sorted(os.listdir(self.home_root)) \
            if os.path.isdir(self.home_root) else None
        check(after == homes, what + ": homes unchanged", "%r" % after)
        return err


def one_line(what, err):
    check(err.count("\n") == 1 and err.startswith("moatadm: "),
          what + ": exactly one 'moatadm:' line on stderr", repr(err))


def fs_total(path):
    st = os.statvfs(path)
    return st.f_blocks * st.f_frsize


def pty_run(argv, script, timeout=30):
    """Run argv on a new pty; script is [(expect, send)], send None for
    nothing. Returns (status, transcript)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    buf = b""
    deadline = time.time() + timeout
    pos = 0

    def read_some():
        nonlocal buf
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return False
            if not data:
                return False
            buf += data
        return True

    alive = True
    for expect, send in script:
        while alive and expect.encode() not in buf[pos:]:
            if time.time() > deadline:
                break
            alive = read_some()
        i = buf.find(expect.encode(), pos)
        if i == -1:
            check(False, "pty: saw %r" % expect, repr(buf[pos:]))
            break
        pos = i + len(expect)
        if send is not None:
            os.write(fd, send.encode())
    while alive and time.time() < deadline:
        alive = read_some()
        if not alive:
            break
        wpid, status = os.waitpid(pid, os.WNOHANG)
        if wpid == pid:
            while read_some() and select.select([fd], [], [], 0)[0]:
                pass
            os.close(fd)
            return os.waitstatus_to_exitcode(status), buf.decode(
                errors="replace")
    if time.time() >= deadline:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), buf.decode(errors="replace")


# ---- cases ----------------------------------------------------------------

def t_global(base):
    e = Env(base, "global")
    rc, out, err = e.run()
    check(rc == 2, "no command: exit 2", err)
    one_line("no command", err)
    e.bad("unknown command", "frobnicate", want="frobnicate")
    rc, out, err = e.run("-x", "list")
    check(rc == 2, "unknown global option: exit 2")
    one_line("unknown global option", err)
    p = subprocess.run([MOATADM, "-c", os.path.join(e.dir, "nope.conf"),
                        "list"], capture_output=True, start_new_session=True)
    check(p.returncode == 1, "missing config: exit 1")
    one_line("missing config", p.stderr.decode())
    out, _ = e.ok("list on an absent db", "list")
    check(out == "", "absent db lists nothing")
    check(e.dbtext() is None, "list does not create the db")
    e.bad("show on an absent db", "show", "alice", want="alice")
    rc, out, err = e.run("-h")
    check(rc == 0 and "useradd" in out and "gencert" in out, "-h: usage")


def t_useradd(base):
    e = Env(base, "useradd", db_sub="etc/moatftpd")
    e.ok("useradd alice", "useradd", "alice", "--password-stdin",
         stdin="password1\n")
    st = os.stat(e.db)
    check(stat.S_IMODE(st.st_mode) == 0o600, "new db mode 0600",
          oct(st.st_mode))
    check(os.path.isdir(os.path.dirname(e.db)), "db directory created")
    u = e.users()
    a = u.get("alice")
    if check(a is not None, "alice in db"):
        check(a[1].startswith("$y$"), "yescrypt hash", a[1])
        check(a[2:6] == ["20000", "20000", "0", "-"],
              "uid/gid 20000, quota 0, no flags", repr(a))
        check(a[6] == os.path.join(e.home_root, "alice"), "default home")
        if crypt is not None:
            check(crypt.crypt("password1", a[1]) == a[1],
                  "hash verifies password1")
    h = os.path.join(e.home_root, "alice")
    hs = os.stat(h)
    check(stat.S_ISDIR(hs.st_mode) and stat.S_IMODE(hs.st_mode) == 0o700,
          "home mode 0700", oct(hs.st_mode))
    if ROOT:
        check((hs.st_uid, hs.st_gid) == (20000, 20000),
              "home owned by 20000:20000", "%d:%d" % (hs.st_uid, hs.st_gid))
        check(os.stat(e.db).st_uid == 0, "db owned by root")

    e.ok("useradd bob --quota 10M", "useradd", "bob", "--quota", "10M",
         "--password-stdin", stdin="a long passphrase\n")
    b = e.users()["bob"]
    check(b[2] == "20001" and b[4] == str(10 << 20), "bob uid 20001, 10M",
          repr(b))
    custom = os.path.join(e.dir, "elsewhere", "carol")
    e.ok("useradd --home=", "useradd", "carol", "--home=" + custom,
         "--quota=1.5M", "--password-stdin", stdin="password1")
    c = e.users()["carol"]
    check(c[6] == custom and c[4] == "1572864", "carol home and quota",
          repr(c))
    check(os.path.isdir(custom), "custom home created")

    # A deleted account's home, kept, keeps its uid from new accounts;
    # once nothing owns it, the lowest free uid is reused.
    e.ok("userdel bob", "userdel", "bob")
    e.ok("useradd dave", "useradd", "dave", "--password-stdin",
         stdin="password1\n")
    if ROOT:
        check(e.users()["dave"][2] == "20003",
              "uid of a kept home not reused", e.users()["dave"][2])
    shutil.rmtree(os.path.join(e.home_root, "bob"))
    e.ok("useradd fred", "useradd", "fred", "--password-stdin",
         stdin="password1\n")
    check(e.users()["fred"][2] == "20001", "lowest free uid reused",
          e.users()["fred"][2])

    pw = "--password-stdin"
    for name in ["Bad", "1abc", "a:b", "-x", "a b", "x" * 33, ""]:
        e.bad("useradd invalid name %r" % name, "useradd", name, pw,
              stdin="password1\n")
    e.bad("useradd duplicate", "useradd", "alice", pw, stdin="password1\n",
          want="exists")
    for size in ["10Q", "-1", "16E", "", "1.5", "ten", " 1M"]:
        e.bad("useradd bad size %r" % size, "useradd", "erin", "--quota",
              size, pw, stdin="password1\n", want="size")
    big = str(fs_total(e.dir) * 2)
    e.bad("useradd quota > partition", "useradd", "erin", "--quota", big,
          pw, stdin="password1\n", want="larger than the partition")
    e.bad("useradd short password", "useradd", "erin", pw,
          stdin="short\n", want="too short")
    e.bad("useradd empty password", "useradd", "erin", pw, stdin="")
    e.bad("useradd long password", "useradd", "erin", pw,
          stdin="x" * 300 + "\n", want="too long")
    e.bad("useradd relative home", "useradd", "erin", "--home", "rel",
          pw, stdin="password1\n")
    e.bad("useradd home with ..", "useradd", "erin", "--home",
          e.home_root + "/../x", pw, stdin="password1\n")
    os.mkdir(os.path.join(e.home_root, "frank"))
    e.bad("useradd existing home", "useradd", "frank", pw,
          stdin="password1\n", want="exists")
    os.rmdir(os.path.join(e.home_root, "frank"))
    e.bad("useradd unknown option", "useradd", "erin", "--shell", "/bin/sh",
          pw, stdin="password1\n")
    e.bad("useradd missing option value", "useradd", "erin", "--quota")
    e.bad("useradd two names", "useradd", "erin", "fred", pw,
          stdin="password1\n")
    e.bad("useradd no tty, no --password-stdin", "useradd", "erin",
          want="terminal")
    e.bad("useradd wizard without a tty", "useradd")
    e.bad("useradd options without a name", "useradd", "--quota", "1M")

    # A full uid range.
    e2 = Env(base, "fullrange")
    with open(e2.conf) as f:
        text = f.read().replace("uid_max = 20100", "uid_max = 20001")
    with open(e2.conf, "w") as f:
        f.write(text)
    e2.ok("useradd 1/2", "useradd", "u1", pw, stdin="password1\n")
    e2.ok("useradd 2/2", "useradd", "u2", pw, stdin="password1\n")
    e2.bad("useradd no free uid", "useradd", "u3", pw, stdin="password1\n",
           rc=1, want="no free uid")


def t_wizard(base):
    e = Env(base, "wizard")
    st, out = pty_run([MOATADM, "-c", e.conf, "useradd"], [
        ("User name: ", "Bad!\n"),
        ("invalid user name", None),
        ("User name: ", "carol\n"),
        ("Password: ", "password1\n"),
        ("Retype password: ", "password2\n"),
        ("do not match", None),
        ("Password: ", "short\n"),
        ("Retype password: ", "short\n"),
        ("too short", None),
        ("Password: ", "password1\n"),
        ("Retype password: ", "password1\n"),
        ("free of", None),
        ("Quota", "5Q\n"),
        ("invalid size", None),
        ("Quota", "5M\n"),
        ("Created carol", None),
    ])
    check(st == 0, "wizard: exit 0", "status %d: %r" % (st, out))
    check("password1" not in out, "wizard: password not echoed")
    c = e.users().get("carol")
    if check(c is not None, "wizard: carol in db", out):
        check(c[4] == str(5 << 20) and c[2] == "20000",
              "wizard: quota 5M, uid 20000", repr(c))
        if crypt is not None:
            check(crypt.crypt("password1", c[1]) == c[1],
                  "wizard: password set")
    hs = os.stat(os.path.join(e.home_root, "carol"))
    check(stat.S_IMODE(hs.st_mode) == 0o700, "wizard: home 0700")

    # Empty quota = unlimited.
    st, out = pty_run([MOATADM, "-c", e.conf, "useradd"], [
        ("User name: ", "dave\n"),
        ("Password: ", "password1\n"),
        ("Retype password: ", "password1\n"),
        ("Quota", "\n"),
        ("unlimited", None),
    ])
    check(st == 0 and e.users()["dave"][4] == "0",
          "wizard: empty quota is unlimited", out)

    # Three bad answers give up with status 2, db unchanged.
    before = e.dbtext()
    st, out = pty_run([MOATADM, "-c", e.conf, "useradd"], [
        ("User name: ", "carol\n"),
        ("exists", None),
        ("User name: ", "carol\n"),
        ("User name: ", "carol\n"),
    ])
    check(st == 2, "wizard: three bad names exit 2", "%d %r" % (st, out))
    check(e.dbtext() == before, "wizard: db unchanged after giving up")

    # passwd on a terminal with mismatched passwords.
    st, out = pty_run([MOATADM, "-c", e.conf, "passwd", "carol"], [
        ("Password: ", "password7\n"),
        ("Retype password: ", "password8\n"),
        ("do not match", None),
    ])
    check(st == 2, "passwd tty mismatch: exit 2", out)
    check(e.dbtext() == before, "passwd tty mismatch: db unchanged")
    st, out = pty_run([MOATADM, "-c", e.conf, "passwd", "carol"], [
        ("Password: ", "password7\n"),
        ("Retype password: ", "password7\n"),
    ])
    c = e.users()["carol"]
    check(st == 0, "passwd tty: exit 0", out)
    if crypt is not None:
        check(crypt.crypt("password7", c[1]) == c[1], "passwd tty: changed")


def t_passwd_lock(base):
    e = Env(base, "passwd")
    pw = "--password-stdin"
    e.ok("useradd", "useradd", "alice", pw, stdin="password1\n")
    old = e.users()["alice"][1]
    e.ok("passwd", "passwd", "alice", pw, stdin="password2\n")
    new = e.users()["alice"][1]
    check(new != old and new.startswith("$y$"), "passwd changes the hash")
    if crypt is not None:
        check(crypt.crypt("password2", new) == new, "new password verifies")
    e.bad("passwd unknown user", "passwd", "nobody", pw,
          stdin="password1\n", want="no such user")
    e.bad("passwd invalid name", "passwd", "Bad", pw, stdin="password1\n")
    e.bad("passwd short", "passwd", "alice", pw, stdin="1234567\n",
          want="too short")
    e.bad("passwd no name", "passwd")
    e.bad("passwd with a NUL byte", "passwd", "alice", pw,
          stdin="password1\0tail\n", want="NUL")
    e.bad("passwd no tty", "passwd", "alice", want="terminal")

    e.ok("lock", "lock", "alice")
    a = e.users()["alice"]
    check(a[5] == "locked" and a[1] == "!" + new, "lock: flag and '!' hash",
          repr(a))
    before = e.dbtext()
    e.ok("lock again", "lock", "alice")
    check(e.dbtext() == before, "lock twice changes nothing")
    e.ok("passwd while locked", "passwd", "alice", pw,
         stdin="password3\n")
    a = e.users()["alice"]
    check(a[5] == "locked" and a[1].startswith("!$y$"),
          "passwd keeps the lock", repr(a))
    e.ok("unlock", "unlock", "alice")
    a = e.users()["alice"]
    check(a[5] == "-" and a[1].startswith("$y$"), "unlock restores",
          repr(a))
    if crypt is not None:
        check(crypt.crypt("password3", a[1]) == a[1], "unlocked verifies")
    e.ok("unlock again", "unlock", "alice")
    e.bad("lock unknown", "lock", "bob", want="no such user")
    e.bad("unlock unknown", "unlock", "bob")
    e.bad("lock no name", "lock")
    e.bad("lock two names", "lock", "alice", "bob")


def t_quota(base):
    e = Env(base, "quota")
    pw = "--password-stdin"
    e.ok("useradd", "useradd", "alice", pw, "--quota", "10M",
         stdin="password1\n")
    e.ok("useradd", "useradd", "bob", pw, stdin="password1\n")

    def q(name):
        return int(e.users()[name][4])

    e.ok("quota absolute", "quota", "alice", "20M")
    check(q("alice") == 20 << 20, "quota 20M")
    e.ok("quota +", "quota", "alice", "+1.5M")
    check(q("alice") == (20 << 20) + (3 << 19), "quota +1.5M")
    e.ok("quota -", "quota", "alice", "-512K")
    check(q("alice") == (21 << 20), "quota -512K")
    e.ok("quota 0 = unlimited", "quota", "bob", "0")
    check(q("bob") == 0, "bob unlimited")
    e.ok("quota with unit suffix", "quota", "bob", "1GiB")
    check(q("bob") == 1 << 30, "quota 1GiB")

    e.bad("quota unknown user", "quota", "carol", "1M", want="no such user")
    e.bad("quota garbage", "quota", "alice", "lots", want="invalid size")
    e.bad("quota +garbage", "quota", "alice", "+1X")
    e.bad("quota overflow", "quota", "alice", "16E")
    e.bad("quota under a byte is not 'no limit'", "quota", "alice",
          "0.0001K", want="invalid size")
    total = fs_total(e.dir)
    e.bad("quota > partition", "quota", "alice", str(total + 1),
          want="larger than the partition")
    e.bad("quota > partition with --force", "quota", "alice",
          str(total + 1), "--force")
    e.bad("quota below zero", "quota", "alice", "-1T")
    e.bad("quota to exactly 0 by -", "quota", "alice", "-21M")
    e.ok("quota 0", "quota", "alice", "0")
    e.bad("quota + on unlimited", "quota", "alice", "+1M",
          want="unlimited")
    e.bad("quota missing size", "quota", "alice")
    e.bad("quota extra arg", "quota", "alice", "1M", "2M")
    e.bad("quota unknown option", "quota", "alice", "1M", "--hard")

    # The whole partition: allowed, but more than is free -> a warning.
    out, err = e.ok("quota = partition", "quota", "alice", str(total))
    check("warning" in err and err.count("\n") == 1,
          "sum over free space warns", repr(err))
    check(q("alice") == total, "quota = partition stored")
    out, err = e.ok("quota --force", "quota", "bob", "2G", "--force")
    check(err == "", "--force: no warning", repr(err))
    e.ok("quota back", "quota", "alice", "10M")

    # SIGHUP to a running moatftpd named by the pidfile.
    fake = os.path.join(e.dir, "moatftpd")
    shutil.copy("/bin/sleep", fake)
    p = subprocess.Popen([fake, "60"])
    with open(e.pidfile, "w") as f:
        f.write("%d\n" % p.pid)
    e.ok("quota with daemon", "quota", "alice", "11M")
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    check(rc == -signal.SIGHUP, "daemon got SIGHUP", "rc=%r" % rc)
    # Not a moatftpd: left alone.
    p = subprocess.Popen(["/bin/sleep", "60"])
    with open(e.pidfile, "w") as f:
        f.write("%d\n" % p.pid)
    e.ok("quota with other process in pidfile", "quota", "alice", "12M")
    time.sleep(0.2)
    check(p.poll() is None, "non-moatftpd process not signalled")
    p.kill()
    p.wait()
    with open(e.pidfile, "w") as f:
        f.write("garbage\n")
    e.ok("quota with bad pidfile", "quota", "alice", "13M")
    os.unlink(e.pidfile)
    e.ok("quota without pidfile", "quota", "alice", "14M")


def t_list_show(base):
    e = Env(base, "list")
    pw = "--password-stdin"
    e.ok("useradd", "useradd", "alice", pw, "--quota", "10M",
         stdin="password1\n")
    e.ok("useradd", "useradd", "bob", pw, stdin="password1\n")
    e.ok("lock", "lock", "bob")
    h = os.path.join(e.home_root, "alice")
    os.makedirs(os.path.join(h, "d", "e"))
    with open(os.path.join(h, "f"), "wb") as f:
        f.write(b"x" * 3000)
    with open(os.path.join(h, "d", "e", "g"), "wb") as f:
        f.write(b"y" * 1000)
    os.symlink("/etc/passwd", os.path.join(h, "link"))
    out, err = e.ok("list", "list")
    lines = out.splitlines()
    check(len(lines) == 2, "list: one line per account", out)
    al = [x for x in lines if x.split()[0] == "alice"]
    bl = [x for x in lines if x.split()[0] == "bob"]
    if check(len(al) == 1 and len(bl) == 1, "list: alice and bob", out):
        f = al[0].split()
        check(f[1] == "20000" and f[2] == "4000B/10M" and f[3] == "-" and
              f[4] == h, "list: alice fields", al[0])
        f = bl[0].split()
        check(f[2] == "0B/unlimited" and f[3] == "locked",
              "list: bob fields", bl[0])
    check("$y$" not in out, "list: no hash")
    e.bad("list extra arg", "list", "alice")

    out, err = e.ok("show", "show", "alice")
    check("$y$" not in out and e.users()["alice"][1] not in out,
          "show: hash not shown")
    for want in ["alice", "20000", h, "4000 bytes", "10M", "10481760"]:
        check(want in out, "show: mentions %r" % want, out)
    out, err = e.ok("show locked", "show", "bob")
    check("locked" in out and "unlimited" in out, "show: bob", out)
    e.bad("show unknown", "show", "carol", want="no such user")
    e.bad("show no name", "show")


def t_userdel(base):
    e = Env(base, "userdel")
    pw = "--password-stdin"
    for n in ["alice", "bob", "carol", "dave"]:
        e.ok("useradd " + n, "useradd", n, pw, stdin="password1\n")
    e.ok("userdel keeps home", "userdel", "alice")
    check("alice" not in e.users(), "alice gone from db")
    check(os.path.isdir(os.path.join(e.home_root, "alice")),
          "home kept without --purge")

    # --purge removes the tree but never follows a link out of it.
    outside = os.path.join(e.dir, "outside")
    os.makedirs(os.path.join(outside, "keep"))
    with open(os.path.join(outside, "keep", "precious"), "w") as f:
        f.write("do not delete\n")
    h = os.path.join(e.home_root, "bob")
    os.makedirs(os.path.join(h, "a", "b", "c"))
    with open(os.path.join(h, "a", "b", "c", "file"), "w") as f:
        f.write("data\n")
    os.symlink(outside, os.path.join(h, "out"))
    os.symlink(os.path.join(outside, "keep"), os.path.join(h, "a", "keep"))
    os.mkfifo(os.path.join(h, "fifo"))
    e.ok("userdel --purge", "userdel", "bob", "--purge")
    check(not os.path.lexists(h), "purged home is gone")
    check(os.path.isfile(os.path.join(outside, "keep", "precious")),
          "purge did not follow links")
    check("bob" not in e.users(), "bob gone from db")

    # A home that is a symlink is refused, and the account stays.
    h = os.path.join(e.home_root, "carol")
    os.rmdir(h)
    os.symlink(outside, h)
    e.bad("userdel --purge symlinked home", "userdel", "carol", "--purge",
          want="refusing")
    check(os.path.isfile(os.path.join(outside, "keep", "precious")),
          "symlinked home not followed")
    os.unlink(h)
    e.ok("userdel --purge missing home", "userdel", "carol", "--purge")

    e.bad("userdel unknown", "userdel", "alice", want="no such user")
    e.bad("userdel invalid", "userdel", "A")
    e.bad("userdel no name", "userdel")
    e.bad("userdel unknown option", "userdel", "dave", "--force")
    check("dave" in e.users(), "dave still there")


def deep_tree(top, levels, files, links):
    """Make top/d/d/.../d, levels deep, through directory descriptors (the
    path is too long to name). files and links map a level (0 is top) to
    (name, size) and (name, target)."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in range(levels + 1):
            if i in files:
                name, size = files[i]
                f = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                            0o644, dir_fd=fd)
                os.write(f, b"z" * size)
                os.close(f)
            if i in links:
                os.symlink(links[i][1], links[i][0], dir_fd=fd)
            if i == levels:
                break
            os.mkdir("d", dir_fd=fd)
            nfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
    finally:
        os.close(fd)


def t_deep(base):
    """A home far deeper than one descriptor per level allows (MKD builds
    one): show counts it, userdel --purge removes it, links stay unfollowed.
    """
    e = Env(base, "deep")
    pw = "--password-stdin"
    e.ok("useradd", "useradd", "alice", pw, stdin="password1\n")
    outside = os.path.join(e.dir, "outside")
    os.makedirs(os.path.join(outside, "keep"))
    with open(os.path.join(outside, "keep", "precious"), "wb") as f:
        f.write(b"p" * 50000)
    h = os.path.join(e.home_root, "alice")
    deep_tree(h, 600, {300: ("mid", 678), 600: ("bottom", 8000)},
              {450: ("out", outside),
               599: ("keep", os.path.join(outside, "keep"))})
    out, err = e.ok("show deep home", "show", "alice")
    check("(8678 bytes)" in out, "show: deep home counted, links not "
          "followed", out)
    out, err = e.ok("list deep home", "list")
    f = out.split()
    check(len(f) > 2 and f[2] == "8678B/unlimited", "list: deep home", out)
    e.ok("userdel --purge deep home", "userdel", "alice", "--purge")
    check(not os.path.lexists(h), "deep home is gone")
    check(os.path.getsize(os.path.join(outside, "keep", "precious")) ==
          50000, "purge of deep home did not follow links")
    check("alice" not in e.users(), "alice gone from db")


def t_home_overlap(base):
    """No home may hold home_root or overlap another account's home, however
    the path is spelt (repeated slashes, a link); userdel --purge checks the
    same, so it never removes another account's files."""
    e = Env(base, "overlap")
    pw = "--password-stdin"
    root = e.home_root
    e.bad("useradd home = home_root, spelt with //", "useradd", "mallory",
          "--home", root.replace("/home", "//home"), pw,
          stdin="password1\n", want="holds home_root")
    check(not os.path.exists(root), "home_root not made for mallory")
    e.bad("useradd home above home_root", "useradd", "mallory", "--home",
          e.dir, pw, stdin="password1\n", want="holds home_root")
    e.ok("useradd bob", "useradd", "bob", pw, stdin="password1\n")
    bob = os.path.join(root, "bob")
    e.bad("useradd home inside bob's", "useradd", "carol", "--home",
          root + "//bob/carol", pw, stdin="password1\n", want="user bob")
    os.symlink(bob, os.path.join(e.dir, "link"))
    e.bad("useradd home = bob's through a link", "useradd", "carol",
          "--home", os.path.join(e.dir, "link", "c"), pw,
          stdin="password1\n", want="user bob")
    os.symlink("loop", os.path.join(e.dir, "loop"))
    e.bad("useradd home that cannot be resolved", "useradd", "carol",
          "--home", os.path.join(e.dir, "loop", "c"), pw,
          stdin="password1\n", rc=1, want="cannot resolve")
    e.ok("useradd --home folded", "useradd", "dave", "--home",
         e.dir + "//elsewhere///dave/", pw, stdin="password1\n")
    check(e.users()["dave"][6] == os.path.join(e.dir, "elsewhere", "dave"),
          "home stored without repeated or trailing slashes",
          e.users()["dave"][6])
    with open(os.path.join(bob, "important"), "w") as f:
        f.write("keep\n")

    # A db written by hand (or by an older moatadm) with such homes: the
    # purge is refused and nothing is removed.
    with open(e.db) as f:
        text = f.read()
    line = [ln for ln in text.splitlines() if ln.startswith("dave:")][0]
    f = line.split(":")
    f[0], f[2], f[3] = "mallory", "20050", "20050"
    f[6] = root.replace("/home", "//home")
    f2 = list(f)
    f2[0], f2[2], f2[3], f2[6] = "eve", "20051", "20051", root + "//bob"
    with open(e.db, "a") as fh:
        fh.write(":".join(f) + "\n" + ":".join(f2) + "\n")
    e.bad("purge of //home_root", "userdel", "mallory", "--purge",
          want="holds home_root")
    e.bad("purge of a home shared through //", "userdel", "eve", "--purge",
          want="overlaps the home of user bob")
    check(os.path.isfile(os.path.join(bob, "important")),
          "bob's files survive")


def t_uid_pick(base):
    """New uids skip system users and groups (nobody, 65534)."""
    e = Env(base, "uidpick")
    with open(e.conf, "a") as f:
        f.write("")
    text = open(e.conf).read().replace("uid_min = 20000;\nuid_max = 20100;",
                                       "uid_min = 65534;\nuid_max = 65540;")
    with open(e.conf, "w") as f:
        f.write(text)
    e.ok("useradd past nobody", "useradd", "alice", "--password-stdin",
         stdin="password1\n")
    uid = int(e.users()["alice"][2])
    check(uid > 65534, "uid of nobody skipped", str(uid))


def t_gencert(base):
    e = Env(base, "gencert")
    e.ok("gencert", "gencert")
    ks, cs = os.stat(e.key), os.stat(e.cert)
    check(stat.S_IMODE(ks.st_mode) == 0o600, "key mode 0600",
          oct(ks.st_mode))
    check(stat.S_IMODE(cs.st_mode) == 0o644, "cert mode 0644",
          oct(cs.st_mode))
    check(not os.path.exists(e.key + ".tmp") and
          not os.path.exists(e.cert + ".tmp"), "gencert: no temp files")
    check(open(e.key).read().startswith("-----BEGIN PRIVATE KEY-----"),
          "key is PEM")
    check(open(e.cert).read().startswith("-----BEGIN CERTIFICATE-----"),
          "cert is PEM")
    openssl = shutil.which("openssl")
    if openssl:
        p = subprocess.run([openssl, "x509", "-in", e.cert, "-noout",
                            "-subject", "-ext", "subjectAltName",
                            "-enddate"], capture_output=True, text=True)
        check("CN = localhost" in p.stdout or "CN=localhost" in p.stdout,
              "cert CN localhost", p.stdout + p.stderr)
        check("DNS:localhost" in p.stdout and "IP Address:127.0.0.1" in
              p.stdout, "cert SAN localhost + 127.0.0.1", p.stdout)
        p = subprocess.run([openssl, "verify", "-CAfile", e.cert, e.cert],
                           capture_output=True, text=True)
        check(p.returncode == 0, "cert verifies against itself", p.stdout)
        k = subprocess.run([openssl, "pkey", "-in", e.key, "-pubout"],
                           capture_output=True, text=True).stdout
        c = subprocess.run([openssl, "x509", "-in", e.cert, "-noout",
                            "-pubkey"], capture_output=True, text=True).stdout
        check(k != "" and k == c, "key matches cert")

    e.ok("gencert --cn --days", "gencert", "--cn", "ftp.example.org",
         "--days", "30")
    if openssl:
        p = subprocess.run([openssl, "x509", "-in", e.cert, "-noout",
                            "-subject", "-ext", "subjectAltName",
                            "-checkend", str(31 * 86400)],
                           capture_output=True, text=True)
        check("ftp.example.org" in p.stdout and
              "DNS:ftp.example.org" in p.stdout, "cert CN/SAN example",
              p.stdout)
        check("127.0.0.1" not in p.stdout, "no loopback IP for others")
        check(p.returncode == 1, "cert expires within 31 days")
    cert = open(e.cert).read()
    for args in (["--days", "0"], ["--days", "abc"], ["--days", "-5"],
                 ["--cn", "bad name"], ["--cn", ""], ["--cn", "a" * 65],
                 ["--cn", "a:b"], ["--cn", "1.2.3.999"], ["--cn", "-a.b"],
                 ["--cn", "a-.b"], ["--cn", "a..b"], ["--cn", "x." * 2 + "1"],
                 ["--bits", "4096"], ["extra"], ["--days"]):
        e.bad("gencert %r" % args, "gencert", *args)
    check(open(e.cert).read() == cert, "bad gencert left the cert alone")
    for cn in ("::1", "192.0.2.7", "*.example.org", "x1-y.example"):
        e.ok("gencert --cn %s" % cn, "gencert", "--cn", cn)

    # An admin's key.pem.old is not ours to take.
    with open(e.key + ".old", "w") as f:
        f.write("backup\n")
    e.ok("gencert keeps key.pem.old", "gencert")
    check(open(e.key + ".old").read() == "backup\n", "key.pem.old kept")
    os.unlink(e.key + ".old")
    # The key and certificate change together: a certificate that cannot
    # be put in place leaves the old key, or no key if there was none.
    key = open(e.key).read()
    os.rename(e.cert, e.cert + ".keep")
    os.makedirs(os.path.join(e.cert, "sub"))
    rc, out, err = e.run("gencert")
    check(rc == 1 and "Is a directory" in err, "gencert onto a directory",
          err)
    check(open(e.key).read() == key, "the old key stays with its cert")
    os.unlink(e.key)
    rc, out, err = e.run("gencert")
    check(rc == 1 and not os.path.exists(e.key),
          "no key left without its cert", err)
    check(not [n for n in os.listdir(e.dir) if ".moatadm-" in n],
          "no copy of the old key left")
    shutil.rmtree(e.cert)
    os.rename(e.cert + ".keep", e.cert)


def t_db_safety(base):
    e = Env(base, "safety")
    pw = "--password-stdin"
    e.ok("useradd", "useradd", "alice", pw, stdin="password1\n")
    # A malformed db is reported with its line and never rewritten.
    good = e.dbtext()
    with open(e.db, "ab") as f:
        f.write(b"broken line\n")
    bad = e.dbtext()
    rc, out, err = e.run("quota", "alice", "1M")
    check(rc == 1, "malformed db: exit 1", err)
    one_line("malformed db", err)
    check(e.db + ":2:" in err, "malformed db: file:line", err)
    check(e.dbtext() == bad, "malformed db not rewritten")
    with open(e.db, "wb") as f:
        f.write(good)
    os.chmod(e.db, 0o600)

    if ROOT:
        os.chmod(e.db, 0o660)
        rc, out, err = e.run("list")
        check(rc == 1, "group-writable db refused as root", err)
        one_line("group-writable db", err)
        os.chmod(e.db, 0o606)
        rc, out, err = e.run("lock", "alice")
        check(rc == 1, "world-writable db refused as root", err)
        os.chmod(e.db, 0o600)
        os.chown(e.db, NOBODY, NOBODY)
        rc, out, err = e.run("show", "alice")
        check(rc == 1, "db not owned by root refused", err)
        one_line("db not owned by root", err)
        os.chown(e.db, 0, 0)
        check(e.dbtext() == good, "refused db unchanged")

    # Concurrent writers never lose an update or tear the file.
    e.ok("quota before the race", "quota", "alice", "1M")
    procs = []
    for i in range(12):
        procs.append(subprocess.Popen(
            [MOATADM, "-c", e.conf, "useradd", "user%d" % i, pw],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True))
    for i in range(6):
        procs.append(subprocess.Popen(
            [MOATADM, "-c", e.conf, "quota", "alice", "+1M"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True))
    for i, p in enumerate(procs):
        _, err = p.communicate(b"password1\n" if i < 12 else None,
                               timeout=120)
        check(p.returncode == 0, "concurrent command %d ok" % i, err)
    u = e.users()
    check(len(u) == 13, "all 12 concurrent useradds landed", repr(list(u)))
    uids = [f[2] for f in u.values()]
    check(len(set(uids)) == len(uids), "concurrent uids distinct")
    check(u["alice"][4] == str(7 << 20), "no quota update lost",
          u["alice"][4])


def t_nonroot(base):
    """As an ordinary user: db and homes belong to that user."""
    if not ROOT:
        return
    os.chmod(base, 0o755)
    e = Env(base, "nonroot", db_sub="db")
    os.chown(e.dir, NOBODY, NOBODY)
    os.chmod(e.conf, 0o644)
    pw = "--password-stdin"
    e.ok("nonroot useradd", "useradd", "alice", pw, stdin="password1\n",
         user=NOBODY)
    st = os.stat(e.db)
    check(st.st_uid == NOBODY and stat.S_IMODE(st.st_mode) == 0o600,
          "nonroot: db owned by the user, 0600")
    hs = os.stat(os.path.join(e.home_root, "alice"))
    check(hs.st_uid == NOBODY and stat.S_IMODE(hs.st_mode) == 0o700,
          "nonroot: home owned by the invoking user, 0700",
          "%d %o" % (hs.st_uid, hs.st_mode))
    check(e.users()["alice"][2] == "20000", "nonroot: uid from the range")
    e.ok("nonroot quota", "quota", "alice", "1M", user=NOBODY)
    e.ok("nonroot list", "list", user=NOBODY)
    e.ok("nonroot userdel --purge", "userdel", "alice", "--purge",
         user=NOBODY)
    check(not os.path.exists(os.path.join(e.home_root, "alice")),
          "nonroot: purged")
    # A db owned by someone else is refused.
    os.chown(e.db, 0, 0)
    rc, out, err = e.run("list", user=NOBODY)
    check(rc == 1, "nonroot: foreign db refused", err)


def main():
    if not os.access(MOATADM, os.X_OK):
        print("cannot run %s (build it, or set MOAT_BUILD)" % MOATADM)
        print("0 passed, 1 failed")
        return 1
    base = tempfile.mkdtemp(prefix="moat-admin-")
    try:
        for t in (t_global, t_useradd, t_wizard, t_passwd_lock, t_quota,
                  t_list_show, t_userdel, t_deep, t_home_overlap,
                  t_uid_pick, t_gencert, t_db_safety,
                  t_nonroot):
            before = failed
            try:
                t(base)
            except Exception as ex:  # a crash fails the case, not the run
                check(False, "%s raised" % t.__name__, repr(ex))
            print("%-16s %s" % (t.__name__,
                                "ok" if failed == before else "FAILED"))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
