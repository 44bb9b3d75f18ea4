"""Confinement against the real daemon, as root (chroot + setuid) and as an
ordinary user (Landlock + RESOLVE_IN_ROOT): '..' and absolute paths stay in
the home, symlinks the admin planted do not lead out, two users cannot see
or touch each other's files, new files belong to the account, and the
session process runs as the account with no way back to root."""
import ftplib
import hashlib
import io
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from moatlib import (Daemon, Runner, NOBODY, expect_error,  # noqa: E402
                    proc_status)
from ftpraw import Ctl, wait_for  # noqa: E402

SECRET = b"outside the home: must never be served\n"


def file_state(path):
    st = os.lstat(path)
    with open(path, "rb") as f:
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode,
                hashlib.sha256(f.read()).hexdigest())


def tree_state(top):
    out = {}
    for root, dirs, files in os.walk(top):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            out[p] = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode)
    return out


def db_ids(d, name):
    with open(os.path.join(d.dir, "users.db")) as f:
        for ln in f:
            fields = ln.rstrip("\n").split(":")
            if fields[0] == name:
                return int(fields[2]), int(fields[3])
    raise KeyError(name)


def account_ids(d, name):
    """What the files and the session of an account run as."""
    return db_ids(d, name) if d.root else (NOBODY, NOBODY)


def plant(d, name, link, target):
    """The admin puts a symlink into a home (owned like the home)."""
    p = os.path.join(d.home(name), link)
    os.symlink(target, p)
    st = os.stat(d.home(name))
    os.lchown(p, st.st_uid, st.st_gid)
    return p


def etc_untouched():
    """None of the attacks reached /etc. (Not a comparison with a copy taken
    before: tests running beside this one may add system users.)"""
    for name in ("moatdir", "mine.txt", "moat-evil", "evil.txt"):
        assert not os.path.lexists(os.path.join("/etc", name)), name
    st = os.stat("/etc/passwd")
    assert time.gmtime(st.st_mtime).tm_year != 2000, "MFMT reached it"
    with open("/etc/passwd", "rb") as f:
        text = f.read()
    assert text.startswith(b"root:") and b"pwned" not in text, text[:200]


def outside(d):
    """A directory next to the homes with a secret in it."""
    top = os.path.join(d.dir, "outside")
    os.makedirs(top, exist_ok=True)
    with open(os.path.join(top, "secret.txt"), "wb") as f:
        f.write(SECRET)
    os.chmod(top, 0o777)
    os.chmod(os.path.join(top, "secret.txt"), 0o666)
    return top


def retr(c, how, name):
    got, (code, text) = c.data(how, "RETR " + name)
    return got, code, text


# -- paths ---------------------------------------------------------------------

def t_dotdot(d):
    top = outside(d)
    before = tree_state(top)
    c = Ctl(d)
    for cmd in ("CWD ..", "CDUP", "XCUP", "CWD ../../..", "CWD /..",
                "CWD ../../../../../../../../", "CWD /./../."):
        c.expect(cmd, 250)
        assert '"/"' in c.expect("PWD", 257), cmd
    for path in ("../../etc/passwd", "/etc/passwd", "/../../etc/passwd",
                 "..\\..\\etc\\passwd", "../" * 40 + "etc/passwd",
                 os.path.join(top, "secret.txt"),
                 "../../outside/secret.txt", "../../../" + top.lstrip("/") +
                 "/secret.txt"):
        got, code, text = retr(c, "PASV", path)
        assert code == 550 and got is None, (path, text)
        for verb in ("SIZE", "MDTM", "XMD5", "HASH"):
            c.expect("%s %s" % (verb, path), 550)
        c.expect("DELE " + path, 550)
        c.expect("RNFR " + path, 550)
        c.expect("MFMT 20000101000000 " + path, 550)
    c.expect("CWD /etc", 550)
    c.expect("CWD " + top, 550)
    # writes through '..' land in the home, never beside it
    _, (code, text) = c.data("PASV", "STOR ../../dotdot.txt", b"in\n")
    assert code == 226, text
    c.expect("MKD ../../../dotdir", 257)
    assert os.path.isfile(os.path.join(d.home("alice"), "dotdot.txt"))
    assert os.path.isdir(os.path.join(d.home("alice"), "dotdir"))
    for p in (os.path.join(d.dir, "dotdot.txt"), os.path.join(d.dir, "dotdir"),
              os.path.join(d.home_root, "dotdot.txt"), "/dotdot.txt",
              "/dotdir"):
        assert not os.path.exists(p), p
    _, (code, text) = c.data("PASV", "STOR /etc/evil.txt", b"x")
    assert code == 550, text
    _, (code, text) = c.data("PASV", "STOR " + top + "/evil.txt", b"x")
    assert code == 550, text
    # the listings of '..' are the home's
    got, (code, _) = c.data("PASV", "NLST ../..")
    assert sorted(got.decode().split()) == ["dotdir", "dotdot.txt"], got
    got, (code, _) = c.data("PASV", "LIST /../..")
    assert "secret" not in got.decode() and "home" not in got.decode(), got
    c.expect("QUIT", 221)
    c.close()
    assert tree_state(top) == before
    etc_untouched()
    assert not os.path.exists("/etc/evil.txt")


def t_symlinks(d):
    """Symlinks the admin planted, pointing outside: nothing outside is
    revealed or modified, whatever the command."""
    top = outside(d)
    plant(d, "alice", "etc", "/etc")
    plant(d, "alice", "pw", "/etc/passwd")
    plant(d, "alice", "out", top)
    plant(d, "alice", "sec", os.path.join(top, "secret.txt"))
    plant(d, "alice", "rel", "../../outside/secret.txt")
    before = tree_state(top)
    etc_before = sorted(os.listdir("/etc"))
    c = Ctl(d)
    for how in ("PASV", "PORT"):
        for name in ("pw", "sec", "rel", "etc/passwd", "out/secret.txt",
                     "etc/hostname"):
            got, code, text = retr(c, how, name)
            assert code == 550 and got is None, (name, text)
    for name in ("pw", "sec", "rel", "etc/passwd", "out/secret.txt"):
        for verb in ("SIZE", "MDTM", "XMD5", "XSHA1", "XSHA256", "HASH"):
            c.expect("%s %s" % (verb, name), 550)
        # the link itself may be described (never followed): a symlink's
        # own facts, or 550 for a path through a link to a directory
        code, text = c.cmd("MLST " + name)
        assert code == 550 or (code == 250 and
                               "type=OS.unix=symlink" in text), (name, text)
        assert "secret" not in text
    for name in ("etc", "out"):
        c.expect("CWD " + name, 550)
        assert '"/"' in c.expect("PWD", 257)
        for verb in ("LIST", "NLST", "MLSD"):
            got, (code, text) = c.data("PASV", "%s %s" % (verb, name))
            shown = (got or b"").decode("utf-8", "replace")
            for leak in ("passwd", "shadow", "hostname", "secret"):
                assert leak not in shown, (verb, name, shown)
        got, (code, text) = c.data("PASV", "LIST %s/" % name)
        assert "passwd" not in (got or b"").decode() and \
            "secret" not in (got or b"").decode(), got
    # writes through the links
    for name in ("pw", "sec", "rel", "etc/passwd", "etc/moat-evil",
                 "out/secret.txt", "out/new.txt"):
        for verb in ("STOR", "APPE"):
            _, (code, text) = c.data("PASV", "%s %s" % (verb, name),
                                     b"pwned::0:0::/:/bin/sh\n")
            assert code == 550, (verb, name, text)
    for cmd in ("MKD etc/moatdir", "MKD out/moatdir", "RMD etc", "RMD out",
                "DELE etc/passwd", "DELE out/secret.txt",
                "RNFR etc/passwd", "RNFR out/secret.txt",
                "MFMT 20000101000000 etc/passwd",
                "MFMT 20000101000000 out/secret.txt"):
        c.expect(cmd, 550)
    # renaming into a link to a directory outside does not move the file out
    _, (code, _) = c.data("PASV", "STOR mine.txt", b"mine\n")
    assert code == 226
    c.expect("RNFR mine.txt", 350)
    c.expect("RNTO out/mine.txt", 550)
    c.expect("RNFR mine.txt", 350)
    c.expect("RNTO etc/mine.txt", 550)
    # the links themselves may be touched: that changes only the home
    c.expect("MFMT 20000101000000 pw", 213)
    c.expect("RNFR sec", 350)
    c.expect("RNTO sec2", 250)
    c.expect("DELE sec2", 250)
    c.expect("DELE pw", 250)
    c.expect("DELE out", 250)
    c.expect("QUIT", 221)
    c.close()
    assert tree_state(top) == before
    etc_untouched()
    assert sorted(os.listdir("/etc")) == etc_before
    assert os.path.islink(os.path.join(d.home("alice"), "etc"))
    for name in ("sec", "sec2", "pw", "out"):
        assert not os.path.lexists(os.path.join(d.home("alice"), name))


# -- users ---------------------------------------------------------------------

def t_two_users(d):
    fa = d.ftp("alice")
    fa.storbinary("STOR a.txt", io.BytesIO(b"alice's\n"))
    fa.mkd("adir")
    fb = d.ftp("bob")
    fb.storbinary("STOR b.txt", io.BytesIO(b"bob's\n"))
    assert fa.nlst() == ["a.txt", "adir"] or sorted(fa.nlst()) == \
        ["a.txt", "adir"], fa.nlst()
    assert fb.nlst() == ["b.txt"], fb.nlst()
    home_a = d.home("alice")
    # bob, by every path he could try
    plant(d, "bob", "to_alice", home_a)
    plant(d, "bob", "a_file", os.path.join(home_a, "a.txt"))
    plant(d, "bob", "rel_alice", "../alice/a.txt")
    for path in ("/a.txt", "../alice/a.txt", "/../alice/a.txt",
                 home_a + "/a.txt", "to_alice/a.txt", "a_file",
                 "rel_alice"):
        expect_error(550, fb.retrbinary, "RETR " + path, lambda b: None)
        expect_error(550, fb.size, path)
        if path not in ("a_file", "rel_alice"):   # those are bob's links
            expect_error(550, fb.delete, path)
            expect_error(550, fb.sendcmd, "RNFR " + path)
        if path != "/a.txt":            # that one is bob's own /a.txt
            expect_error(550, fb.storbinary, "APPE " + path,
                         io.BytesIO(b"bob was here\n"))
    for path in ("../alice", "/../alice/adir", home_a, "to_alice"):
        expect_error(550, fb.cwd, path)
        expect_error(550, fb.rmd, path + "/adir")
        expect_error(550, fb.mkd, path + "/bobdir")
        assert fb.pwd() == "/"
    fb.delete("a_file")                 # removes bob's link, not the file
    assert os.path.isfile(os.path.join(home_a, "a.txt"))
    lines = []
    fb.retrlines("LIST ..", lines.append)
    names = sorted(ln.split(" -> ")[0].split()[-1] for ln in lines)
    assert names == ["b.txt", "rel_alice", "to_alice"], lines
    with open(os.path.join(home_a, "a.txt"), "rb") as f:
        assert f.read() == b"alice's\n"
    assert sorted(os.listdir(home_a)) == ["a.txt", "adir"]
    # and alice cannot reach bob
    expect_error(550, fa.retrbinary, "RETR ../bob/b.txt", lambda b: None)
    expect_error(550, fa.delete, "../bob/b.txt")
    expect_error(550, fa.cwd, "../bob")
    if d.root:
        ua, _ = db_ids(d, "alice")
        ub, _ = db_ids(d, "bob")
        assert ua != ub
        for name, uid in (("alice", ua), ("bob", ub)):
            st = os.stat(d.home(name))
            assert st.st_uid == uid and st.st_mode & 0o077 == 0, \
                (name, oct(st.st_mode), st.st_uid)
    fa.quit()
    fb.quit()


def t_ownership(d):
    uid, gid = account_ids(d, "alice")
    c = Ctl(d)
    _, (code, _) = c.data("PASV", "STOR new.txt", b"x\n")
    assert code == 226
    _, (code, _) = c.data("PASV", "APPE app.txt", b"x\n")
    assert code == 226
    _, (code, text) = c.data("PASV", "STOU", b"x\n")
    assert code == 226, text
    c.expect("MKD newdir", 257)
    _, (code, _) = c.data("EPRT", "STOR newdir/deep.txt", b"x\n")
    assert code == 226
    c.expect("QUIT", 221)
    c.close()
    h = d.home("alice")
    names = os.listdir(h)
    assert len(names) == 4, names
    for n in names + ["newdir/deep.txt"]:
        st = os.lstat(os.path.join(h, n))
        assert (st.st_uid, st.st_gid) == (uid, gid), (n, st.st_uid,
                                                       st.st_gid, uid, gid)
        assert st.st_mode & 0o002 == 0, (n, oct(st.st_mode))


def session_pid(d, user):
    def find():
        for pid in d.children():
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    if f.read().startswith(b"moatftpd: %s@" % user.encode()):
                        return pid
            except OSError:
                pass
        return None
    pid = wait_for(find)
    assert pid, "no session process for %s" % user
    return pid


def t_process(d):
    """The session runs as the account, inside the home, and cannot get
    root back: four uids the account's, no capabilities, no_new_privs,
    seccomp filter."""
    uid, gid = account_ids(d, "alice")
    fa = d.ftp("alice")
    fb = d.ftp("bob")
    for name, f in (("alice", fa), ("bob", fb)):
        u, g = account_ids(d, name)
        pid = session_pid(d, name)
        st = proc_status(pid)
        assert st["Uid"] == [str(u)] * 4, st["Uid"]
        assert st["Gid"] == [str(g)] * 4, st["Gid"]
        assert "0" not in st["Groups"], st["Groups"]
        for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
            assert int(st[cap][0], 16) == 0, (cap, st[cap])
        assert st["NoNewPrivs"] == ["1"], st["NoNewPrivs"]
        assert st["Seccomp"] == ["2"], st["Seccomp"]
        root = os.readlink("/proc/%d/root" % pid)
        if d.root:
            assert root == os.path.realpath(d.home(name)), root
        else:
            assert root == "/", root
        # the session answers while we look
        assert f.pwd() == "/"
        f.voidcmd("NOOP")
    if d.root:
        # no root process is left per session: the monitor became the
        # session and the jail is gone
        for pid in d.children():
            st = proc_status(pid)
            if st["Uid"][0] == "0":
                with open("/proc/%d/cmdline" % pid, "rb") as fp:
                    title = fp.read()
                assert b"alice" not in title and b"bob" not in title, title
    fa.quit()
    fb.quit()
    assert uid > 0


def clean_homes(d):
    import shutil
    for name in d.passwords:
        h = d.home(name)
        for n in os.listdir(h):
            p = os.path.join(h, n)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)


def main():
    r = Runner("confine")
    for root in (True, False):
        d = Daemon(root=root, users={"alice": None, "bob": None}).start()
        tag = "root" if root else "user"
        try:
            for fn in (t_dotdot, t_symlinks, t_two_users, t_ownership,
                       t_process):
                clean_homes(d)

                def case(fn=fn):
                    fn(d)
                case.__name__ = "%s[%s]" % (fn.__name__[2:], tag)
                r.run(case)
        finally:
            d.stop()
    r.done()


main()
