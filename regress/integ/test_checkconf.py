"""moatftpd -t: the start's own checks, run without starting. A setup that
-t passes starts; one a start refuses, -t refuses too, with one line per
problem naming the file, and changes nothing on the way (no pidfile, no
scoreboard, no xferlog, no jail_dir, no listener left bound). -t -n only
parses the file. Every case runs as root and as an ordinary user."""
import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from moatlib import IS_ROOT, Daemon, Runner, free_port  # noqa: E402

MODES = (True, False) if IS_ROOT else (False,)


def problems(p):
    """The lines -t printed on stderr, "moatftpd: " taken off."""
    return [ln[len("moatftpd: "):] if ln.startswith("moatftpd: ") else ln
            for ln in p.stderr.splitlines()]


def refused(d, *words, n=1):
    """-t fails, prints no settings, and exactly n of its lines hold every
    one of words."""
    p = d.configtest()
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert p.stdout == "", p.stdout
    assert "configuration OK" not in p.stderr, p.stderr
    hits = [ln for ln in problems(p) if all(w in ln for w in words)]
    assert len(hits) == n, (words, p.stderr)
    return p


def start_fails(d, *words):
    """A real start fails too, and says the same."""
    try:
        d.start()
    except RuntimeError as e:
        assert all(w in str(e) for w in words), (words, str(e))
        d.proc = None
        d.log.close()
        return
    raise AssertionError("moatftpd started")


def bound(port):
    """True if something holds 127.0.0.1:port."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def good_config(root):
    """Exit 0, the effective settings on stdout, "configuration OK" alone
    on stderr; nothing left behind; and the daemon then starts."""
    d = Daemon(root=root, tls=True)
    try:
        os.rmdir(os.path.join(d.dir, "empty"))  # a start makes it (root)
        before = sorted(os.listdir(d.dir))
        p = d.configtest()
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert p.stderr == "configuration OK\n", p.stderr
        assert 'listen = ["127.0.0.1:%d"];' % d.port in p.stdout, p.stdout
        assert 'user_db = "%s/users.db";' % d.dir in p.stdout, p.stdout
        assert 'tls_cert = "%s";' % d.cert in p.stdout, p.stdout
        assert sorted(os.listdir(d.dir)) == before, os.listdir(d.dir)
        assert not bound(d.port)
        os.mkdir(os.path.join(d.dir, "empty"))
        if d.as_user:
            os.chown(os.path.join(d.dir, "empty"), 65534, 65534)
        d.start()
        f = d.ftp()
        assert f.nlst() == []
        f.quit()
        # the running daemon holds the address and the pidfile: -t (as
        # the init script's reload runs it) still passes
        p = d.configtest()
        assert p.returncode == 0, (p.stdout, p.stderr)
    finally:
        d.stop()


def cert_key_mismatch(root):
    """A key that is not the certificate's: one line naming both files."""
    d = Daemon(root=root, tls=True)
    try:
        other = os.path.join(d.dir, "other-key.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-out", other],
                       check=True, capture_output=True)
        if d.as_user:
            os.chown(other, 65534, 65534)
        d.settings["tls_key"] = '"%s"' % other
        d.write_conf()
        refused(d, "TLS", other, d.cert, "does not match")
        start_fails(d, other, "does not match")
    finally:
        d.stop()


def cert_missing(root):
    d = Daemon(root=root, tls=True)
    try:
        os.unlink(d.cert)
        refused(d, "TLS", d.cert)
        # a key the daemon may not read (as an ordinary user only: root
        # reads every file)
        if not d.root:
            d.adm("gencert", "--cn", "localhost")
            os.chmod(d.key, 0)
            refused(d, "TLS", d.key)
    finally:
        d.stop()


def userdb_world_writable(root):
    d = Daemon(root=root)
    try:
        db = os.path.join(d.dir, "users.db")
        os.chmod(db, 0o666)
        refused(d, db, "world writable")
        start_fails(d, db, "world writable")
    finally:
        d.stop()


def userdb_unparsable(root):
    d = Daemon(root=root)
    try:
        db = os.path.join(d.dir, "users.db")
        with open(db, "a") as f:
            f.write("bob:not a valid line\n")
        refused(d, "%s:2:" % db)
    finally:
        d.stop()


def userdb_missing_and_foreign(root):
    d = Daemon(root=root)
    try:
        db = os.path.join(d.dir, "users.db")
        os.rename(db, db + ".away")
        refused(d, db, "No such file")
        os.rename(db + ".away", db)
        if IS_ROOT:     # owned by someone else than the daemon's user
            os.chown(db, 1234, 1234)
            os.chmod(db, 0o644)     # readable: the owner is what is wrong
            refused(d, db, "must be owned by uid")
    finally:
        d.stop()


def home_root_missing(root):
    """Accounts live in home_root and it is gone: -t says so, and so does a
    start; with no account in it, a missing home_root is fine (moatadm
    useradd makes it)."""
    d = Daemon(root=root)
    try:
        shutil.rmtree(d.home_root)
        refused(d, "home_root", d.home_root, d.conf, "No such file")
        start_fails(d, "home_root", d.home_root)
        with open(d.home_root, "w"):
            pass
        refused(d, "home_root", d.home_root, "not a directory")
        os.unlink(d.home_root)
        d.adm("userdel", "alice")
        p = d.configtest()
        assert p.returncode == 0, (p.stdout, p.stderr)
    finally:
        d.stop()


def jail_problems(root):
    """As root: jail_user must exist, jail_dir be root's and not writable
    by others (a missing one a start makes, if it can)."""
    d = Daemon(root=root)
    try:
        if not d.root:
            # an ordinary user's daemon has no jail user or jail_dir
            d.settings["jail_user"] = '"no-such-user-here"'
            d.settings["jail_dir"] = '"/nonexistent/empty"'
            d.write_conf()
            assert d.configtest().returncode == 0
            return
        d.settings["jail_user"] = '"no-such-user-here"'
        d.write_conf()
        refused(d, d.conf, "jail_user", "no-such-user-here")
        d.settings.pop("jail_user")
        wjail = os.path.join(d.dir, "wjail")
        os.mkdir(wjail)
        os.chmod(wjail, 0o777)
        d.settings["jail_dir"] = '"%s"' % wjail
        d.write_conf()
        refused(d, "jail_dir", wjail, "must be owned by root")
        d.settings["jail_dir"] = '"%s/no/such/dir"' % d.dir
        d.write_conf()
        refused(d, "jail_dir", "%s/no/such/dir" % d.dir)
        assert not os.path.exists(os.path.join(d.dir, "no"))
    finally:
        d.stop()


def listen_unusable(root):
    """An address in use (with no moatftpd running) or not on this host."""
    d = Daemon(root=root)
    try:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", d.port))
        s.listen(1)
        try:
            refused(d, d.conf, "127.0.0.1:%d" % d.port, "in use")
        finally:
            s.close()
        d.settings["listen"] = '["192.0.2.1:%d"]' % d.port
        d.write_conf()
        refused(d, d.conf, "192.0.2.1:%d" % d.port, "assign")
        # two a start could not both listen on (bound alone, they could)
        for two in ('"127.0.0.1:%d", "127.0.0.1:%d"',
                    '"0.0.0.0:%d", "127.0.0.1:%d"'):
            d.settings["listen"] = "[%s]" % (two % (d.port, d.port))
            d.write_conf()
            refused(d, d.conf, '"127.0.0.1:%d": clashes with' % d.port)
            start_fails(d, "127.0.0.1:%d" % d.port)
        # two ports on one address are fine
        d.settings["listen"] = '["127.0.0.1:%d", "127.0.0.1:%d"]' % (
            d.port, free_port())
        d.write_conf()
        p = d.configtest()
        assert p.returncode == 0, p.stderr
    finally:
        d.stop()


def pidfile_dir_missing(root):
    d = Daemon(root=root)
    try:
        pf = os.path.join(d.dir, "no-such-dir", "moatftpd.pid")
        d.settings["pidfile"] = '"%s"' % pf
        d.write_conf()
        refused(d, d.conf, "pidfile", pf, "No such file")
        start_fails(d, pf)
    finally:
        d.stop()


def xferlog_unwritable(root):
    d = Daemon(root=root)
    try:
        xl = os.path.join(d.dir, "no-such-dir", "xferlog")
        d.settings["xferlog"] = '"%s"' % xl
        d.write_conf()
        refused(d, d.conf, "xferlog", xl, "No such file")
        start_fails(d, xl)
        # a link is refused (the daemon opens it O_NOFOLLOW)
        xl = os.path.join(d.dir, "xferlog-link")
        os.symlink(os.path.join(d.dir, "xferlog-real"), xl)
        d.settings["xferlog"] = '"%s"' % xl
        d.write_conf()
        refused(d, "xferlog", xl)
        assert not os.path.exists(os.path.join(d.dir, "xferlog-real"))
    finally:
        d.stop()


def every_problem(root):
    """Several problems: each its own line, after the first too."""
    d = Daemon(root=root, tls=True)
    try:
        os.unlink(d.cert)
        os.chmod(os.path.join(d.dir, "users.db"), 0o666)
        d.settings["pidfile"] = '"%s/nodir/pid"' % d.dir
        d.settings["xferlog"] = '"%s/nodir/xferlog"' % d.dir
        d.write_conf()
        p = refused(d, d.cert)
        lines = problems(p)
        for words in (("users.db",), ("pidfile",), ("xferlog",)):
            assert sum(all(w in ln for w in words) for ln in lines) == 1, \
                (words, p.stderr)
        assert len(lines) == 4, p.stderr
    finally:
        d.stop()


def parse_only(root):
    """-t -n checks the file alone: the settings of a setup whose files
    are missing, and still file:line errors."""
    d = Daemon(root=root, tls=True)
    try:
        os.unlink(d.cert)
        shutil.rmtree(d.home_root)
        p = d.configtest("-n")
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert 'tls_cert = "%s";' % d.cert in p.stdout, p.stdout
        with open(d.conf, "a") as f:
            f.write("bogus_key = 1;\n")
        p = d.configtest("-n")
        assert p.returncode == 1, p
        assert "%s:%d: unknown key" % (d.conf, len(d.settings) + 1) \
            in p.stderr, p.stderr
    finally:
        d.stop()


r = Runner("checkconf")
for mode in MODES:
    r.run(good_config, mode)
    r.run(cert_key_mismatch, mode)
    r.run(cert_missing, mode)
    r.run(userdb_world_writable, mode)
    r.run(userdb_unparsable, mode)
    r.run(userdb_missing_and_foreign, mode)
    r.run(home_root_missing, mode)
    r.run(jail_problems, mode)
    r.run(listen_unusable, mode)
    r.run(pidfile_dir_missing, mode)
    r.run(xferlog_unwritable, mode)
    r.run(every_problem, mode)
    r.run(parse_only, mode)
r.done()
