#!/usr/bin/python3
"""moatftp integration tests: the real client against a vsftpd started here
(a throwaway Unix user, self-signed TLS, rate-limited so transfers can be cut)
and against moatftpd (through moatlib). Standard library only.

Run: /usr/bin/python3 regress/integ/test_client.py   (binaries: $MOAT_BUILD)
"""
import fcntl
import hashlib
import os
import pty
import pwd
import re
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeftp  # noqa: E402
import moatlib  # noqa: E402

MOATFTP = moatlib.MOATFTP
CN_FILE = "中文文件.txt"
CN_DIR = "目录"


def md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def wait_port(port, proc, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start on port %d" % port)


def make_cert(d, name, cn="localhost"):
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=" + cn, "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class Vsftpd:
    """vsftpd on a free loopback port, one throwaway Unix user."""

    has_hash = False
    name = "vsftpd"

    def __init__(self, rate=4000000):
        self.dir = tempfile.mkdtemp(prefix="moatcli-vs-")
        os.chmod(self.dir, 0o755)
        self.user = "mcli%d" % (os.getpid() % 100000)
        self.password = "pw-%d-secret" % os.getpid()
        self.root = os.path.join(self.dir, "home")
        os.makedirs(self.root)
        subprocess.run(["userdel", self.user], capture_output=True)
        subprocess.run(["useradd", "-M", "-d", self.root, "-s", "/bin/bash",
                        self.user], check=True, capture_output=True)
        subprocess.run(["chpasswd"], input="%s:%s\n" % (self.user,
                       self.password), text=True, check=True)
        shutil.chown(self.root, self.user, self.user)
        os.makedirs("/var/run/vsftpd/empty", exist_ok=True)
        self.cert, self.key = make_cert(self.dir, "cert")
        self.cert2, self.key2 = make_cert(self.dir, "cert2")
        self.rate = rate
        self.proc = None
        self.start(self.cert, self.key)

    def start(self, cert, key):
        self.port = moatlib.free_port()
        base = 30000 + (os.getpid() % 300) * 100
        conf = os.path.join(self.dir, "vsftpd.conf")
        with open(conf, "w") as f:
            f.write("\n".join([
                "listen=YES", "listen_ipv6=NO", "listen_address=127.0.0.1",
                "listen_port=%d" % self.port, "background=NO",
                "anonymous_enable=NO", "local_enable=YES", "write_enable=YES",
                "pasv_min_port=%d" % base, "pasv_max_port=%d" % (base + 99),
                "chroot_local_user=YES", "allow_writeable_chroot=YES",
                "local_root=" + self.root, "force_dot_files=YES",
                "secure_chroot_dir=/var/run/vsftpd/empty",
                "pam_service_name=vsftpd", "seccomp_sandbox=NO",
                "local_max_rate=%d" % self.rate, "local_umask=022",
                "ssl_enable=YES", "rsa_cert_file=" + cert,
                "rsa_private_key_file=" + key, "require_ssl_reuse=YES",
                "force_local_logins_ssl=NO", "force_local_data_ssl=NO",
                "xferlog_enable=NO", ""]))
        self.proc = subprocess.Popen(["vsftpd", conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)

    def restart(self, cert, key):
        self.kill()
        self.start(cert, key)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self):
        self.kill()
        subprocess.run(["userdel", self.user], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def target(self):
        return "%s@127.0.0.1:%d" % (self.user, self.port)

    def rpath(self, *names):
        return os.path.join(self.root, *names)


class Moatd:
    """moatftpd through moatlib; alice has a 1 GiB quota, bob 200000 bytes."""

    has_hash = True
    name = "moatftpd"

    def __init__(self):
        self.d = moatlib.Daemon(tls=True, users={"alice": 1 << 30,
                                                 "bob": 200000})
        self.d.start()
        self.user, self.port = "alice", self.d.port
        self.password = self.d.passwords["alice"]
        self.cert = self.d.cert
        self.root = self.d.home("alice")

    def stop(self):
        self.d.stop()

    def target(self, user="alice"):
        return "%s@127.0.0.1:%d" % (user, self.port)

    def rpath(self, *names):
        return os.path.join(self.root, *names)


class Env:
    """A client home (known_hosts, netrc) and a local work dir."""

    def __init__(self, srv):
        self.srv = srv
        self.dir = tempfile.mkdtemp(prefix="moatcli-")
        self.home = os.path.join(self.dir, "home")
        self.work = os.path.join(self.dir, "work")
        os.makedirs(self.home)
        os.makedirs(self.work)

    def env(self, password=True, **extra):
        e = {"PATH": "/usr/bin:/bin", "HOME": self.home, "LANG": "C.UTF-8",
             "TERM": "xterm"}
        if password:
            e["MOATFTP_PASSWORD"] = self.srv.password
        # LeakSanitizer's own settings, if any, reach the client
        if "LSAN_OPTIONS" in os.environ:
            e["LSAN_OPTIONS"] = os.environ["LSAN_OPTIONS"]
        e.update(extra)
        return e

    def argv(self, *cmds, opts=(), cafile=True, target=None):
        a = [MOATFTP] + list(opts)
        if cafile:
            a += ["--cafile", self.srv.cert]
        return a + [target or self.srv.target()] + list(cmds)

    def run(self, *cmds, opts=(), cafile=True, env=None, target=None,
            timeout=120, input=None):
        return subprocess.run(self.argv(*cmds, opts=opts, cafile=cafile,
                                        target=target),
                              cwd=self.work, env=env or self.env(),
                              capture_output=True, timeout=timeout,
                              input=input if input is not None else b"")

    def ok(self, *cmds, **kw):
        p = self.run(*cmds, **kw)
        if p.returncode != 0:
            raise AssertionError("%s: rc %d\n%s%s" % (cmds, p.returncode,
                                 p.stdout.decode(errors="replace"),
                                 p.stderr.decode(errors="replace")))
        return p.stdout.decode(), p.stderr.decode()

    def fail(self, *cmds, want=None, **kw):
        p = self.run(*cmds, **kw)
        err = p.stderr.decode()
        if p.returncode == 0:
            raise AssertionError("%s: expected failure, got rc 0" % (cmds,))
        lines = [x for x in err.splitlines() if x.strip()]
        if not lines:
            raise AssertionError("%s: failed without a message" % (cmds,))
        if want and not re.search(want, err):
            raise AssertionError("%s: stderr %r lacks %r" % (cmds, err, want))
        return p.stdout.decode(), err

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def lp(self, *names):
        return os.path.join(self.work, *names)


class FakeEnv(Env):
    """An Env for a fakeftp.FakeFTP: plain FTP, no certificate."""

    def argv(self, *cmds, opts=(), cafile=False, target=None):
        return Env.argv(self, *cmds, opts=["--tls=off"] + list(opts),
                        cafile=False, target=target)


def give(srv, *paths):
    """Hand files made by the test to the account that owns the server's
    home, so the server may replace them."""
    st = os.stat(srv.root)
    for p in paths:
        os.chown(p, st.st_uid, st.st_gid)


def run_pty(argv, env, cwd, dialogue=(), timeout=60, cols=None):
    """Run argv on a pseudo-terminal (cols columns wide if given);
    dialogue: (expect-bytes, send-bytes). Returns (rc, output bytes)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            if cols is not None:
                fcntl.ioctl(0, termios.TIOCSWINSZ,
                            struct.pack("HHHH", 24, cols, 0, 0))
            os.chdir(cwd)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b""
    deadline = time.time() + timeout
    steps = list(dialogue)
    pos = 0                         # expects match only output after pos
    try:
        while time.time() < deadline:
            if steps and steps[0][0] in out[pos:]:
                pos = out.index(steps[0][0], pos) + len(steps[0][0])
                if steps[0][1] == b"\x03":
                    # a person's Ctrl-C comes after the prompt is drawn and
                    # the line editor waits in read(); one sent in the same
                    # instant as the prompt can land before that read
                    time.sleep(0.3)
                os.write(fd, steps.pop(0)[1])
                continue
            r, _, _ = select.select([fd], [], [], 0.2)
            if not r:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        if time.time() >= deadline:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out


def kill_midway(env, srv, cmd, watch, size):
    """Start the client, SIGKILL it once watch (a part file) has some but
    not all bytes. Returns the part size left."""
    p = subprocess.Popen(env.argv(cmd), cwd=env.work, env=env.env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    try:
        while time.time() < deadline and p.poll() is None:
            try:
                n = os.path.getsize(watch)
            except OSError:
                n = 0
            if n > 0:
                break
            time.sleep(0.002)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait()
    # the server may still be flushing what it got
    last, stable = -1, 0
    for _ in range(100):
        n = os.path.getsize(watch) if os.path.exists(watch) else 0
        stable = stable + 1 if n == last else 0
        if stable >= 3:
            break
        last = n
        time.sleep(0.05)
    if not 0 < last < size:
        raise AssertionError("cut at %d of %d bytes: not midway" % (last,
                             size))
    return last


# ---------------------------------------------------------------- tests

def t_roundtrip(srv):
    e = Env(srv)
    try:
        moatlib.make_file(e.lp("a.bin"), 300000, seed=1)
        out, _ = e.ok("put a.bin")
        assert "a.bin" in out, out
        assert ("MD5 verified" if srv.has_hash else "not verified") in out, \
            out
        assert md5(srv.rpath("a.bin")) == md5(e.lp("a.bin"))
        assert not os.path.exists(srv.rpath(".a.bin.moatpart"))
        out, _ = e.ok("get a.bin newdir/sub")     # missing localdir created
        assert md5(e.lp("newdir", "sub", "a.bin")) == md5(e.lp("a.bin"))
        assert not os.path.exists(e.lp("newdir", "sub", "a.bin.moatpart"))
        if srv.has_hash:
            out, _ = e.ok("get -f a.bin newdir", opts=["--hash=sha256"])
            assert "SHA-256 verified" in out, out
        out, _ = e.ok("get -f a.bin", opts=["--active"])
        assert md5(e.lp("a.bin")) == md5(srv.rpath("a.bin"))
    finally:
        e.cleanup()


def t_clash(srv):
    e = Env(srv)
    try:
        moatlib.make_file(e.lp("c.bin"), 1000, seed=2)
        e.ok("put c.bin")
        _, err = e.fail("put c.bin", want="remote file exists: c.bin")
        _, err = e.fail("get c.bin", want="local file exists: c.bin")
        assert len(err.strip().splitlines()) == 1, err
        moatlib.make_file(e.lp("c.bin"), 2000, seed=3)
        e.ok("put -f c.bin")
        assert os.path.getsize(srv.rpath("c.bin")) == 2000
        moatlib.make_file(e.lp("c.bin"), 10, seed=4)
        e.ok("get -f c.bin")
        assert os.path.getsize(e.lp("c.bin")) == 2000
        # -f does not replace a directory: refused before any byte comes
        # (it downloaded all, then failed at the rename, part file left)
        os.unlink(e.lp("c.bin"))
        os.mkdir(e.lp("c.bin"))
        _, err = e.fail("get -f c.bin", want="c.bin: is a directory")
        assert len(err.strip().splitlines()) == 1, err
        assert not os.path.exists(e.lp("c.bin.moatpart"))
        os.rmdir(e.lp("c.bin"))
    finally:
        e.cleanup()


def t_commands(srv):
    e = Env(srv)
    try:
        moatlib.make_file(e.lp("f.txt"), 5000, seed=5)
        e.ok("mkdir ct")
        out, _ = e.ok("cd ct", "mkdir d1", "cd d1", "pwd", "put f.txt", "mkdir sub",
                      "ls", "cd ..", "mv d1/f.txt d1/g.txt", "ls d1",
                      "rmdir d1/sub", "del -f d1/g.txt", "rmdir d1", "ls")
        lines = out.splitlines()
        assert "/ct/d1" in lines, out
        # ls inside d1: the directory first, then the file, then counts
        i = next(k for k, x in enumerate(lines) if x.endswith("sub/"))
        assert lines[i + 1].endswith("f.txt") and "4.9K" in lines[i + 1], out
        assert lines[i + 2].startswith("1 directory, 1 file"), out
        assert any(x.endswith("g.txt") for x in lines), out
        assert lines[-1].startswith("0 directories, 0 files"), out
        assert not os.path.exists(srv.rpath("ct", "d1"))
        # a tree, deleted with -y; refused without it when not a terminal
        os.makedirs(e.lp("t", "a", "b"))
        for n, p in enumerate(["t/x", "t/a/y", "t/a/b/z"]):
            moatlib.make_file(e.lp(p), 100 * n + 1, seed=n)
        e.ok("put -r t")
        assert os.path.getsize(srv.rpath("t", "a", "b", "z")) == 201
        e.fail("del -d t", want="not confirmed")
        assert os.path.exists(srv.rpath("t"))
        e.ok("del -d -y t")
        assert not os.path.exists(srv.rpath("t"))
        # local commands
        os.makedirs(e.lp("loc"))
        out, _ = e.ok("lcd loc", "lpwd", "lls")
        assert out.splitlines()[0].endswith("/work/loc"), out
        assert "0 directories, 0 files" in out, out
        out, _ = e.ok("help")
        for c in ("ls", "get", "put", "del", "mv", "show", "quota", "lcd",
                  "lls", "lpwd", "exit"):
            assert re.search(r"^  %s\b" % c, out, re.M), c
        out, _ = e.ok("help get")
        assert "usage: get [-r] [-f] remote [localdir]" in out, out
        out, _ = e.ok("show")
        assert "user:    %s" % srv.user in out and "cwd:     /" in out, out
        assert "TLSv1" in out, out
        out, _ = e.ok("pwd", "exit", "mkdir never")
        assert not os.path.exists(srv.rpath("never"))
    finally:
        e.cleanup()


def t_bad_args(srv):
    e = Env(srv)
    try:
        moatlib.make_file(e.lp("x"), 10)
        for cmd, want in [
                ("frobnicate", "unknown command"),
                ("get", "usage: get"), ("put", "usage: put"),
                ("get -z x", "unknown option"), ("del x", "-f .* or -d"),
                ("del -f -d x", "-f .* or -d"), ("mv a", "usage: mv"),
                ("mkdir", "usage: mkdir"), ("pwd extra", "usage: pwd"),
                ("cd /no/such", "cd: /no/such"),
                ("rmdir nosuch", "rmdir: nosuch"),
                ("del -f nosuch", "del: nosuch"),
                ("mv nosuch b", "mv: nosuch"),
                ("get nosuch", "get: nosuch"),
                ("put nosuch.local", "put: nosuch.local"),
                ("put .", "not a file name|not a regular file"),
                ("ls /no/such/dir", "ls: /no/such/dir"),
                ("lcd /no/such", "lcd: /no/such"),
                ("lls /no/such", "lls: /no/such"),
                ("help nosuch", "no such command"),
                ("get 'unterminated", "unmatched quote")]:
            _, err = e.fail(cmd, want=want)
            assert len(err.strip().splitlines()) == 1, (cmd, err)
        # stops at the first failure
        e.fail("cd /no/such", "mkdir after")
        assert not os.path.exists(srv.rpath("after"))
        assert not os.path.exists(e.lp("nosuch.moatpart"))
    finally:
        e.cleanup()


def t_exit_codes(srv):
    e = Env(srv)
    try:
        p = e.run("ls", env=e.env(MOATFTP_PASSWORD="wrong-password"))
        assert p.returncode == 1 and b"login failed" in p.stderr, p.stderr
        p = e.run("ls", target="%s@127.0.0.1:%d" % (srv.user,
                                                    moatlib.free_port()))
        assert p.returncode == 1 and b"refused" in p.stderr, p.stderr
        p = subprocess.run([MOATFTP, "--tls=maybe", "h"], capture_output=True,
                           timeout=10)
        assert p.returncode == 2 and b"--tls=maybe" in p.stderr
        p = subprocess.run([MOATFTP], capture_output=True, timeout=10)
        assert p.returncode == 2 and b"usage" in p.stderr
        p = subprocess.run([MOATFTP, "-P", "0", "h"], capture_output=True,
                           timeout=10)
        assert p.returncode == 2
        # no password source and no terminal
        p = e.run("ls", env=e.env(password=False))
        assert p.returncode == 1 and b"no password" in p.stderr, p.stderr
        # plain FTP refused by --tls=require only if the server lacks TLS;
        # --tls=off works against a server that allows it
        out, _ = e.ok("pwd", opts=["--tls=off"], cafile=False) \
            if srv.name == "vsftpd" else ("/\n", "")
        assert out.strip() == "/", out
    finally:
        e.cleanup()


def t_stdin_status(srv):
    """Commands on stdin (not a terminal) all run; the exit status is 1
    if any failed, 0 if all succeeded."""
    e = Env(srv)
    try:
        p = e.run(input=b"cd /no/such\npwd\n")
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert b"cd: /no/such" in p.stderr, p.stderr
        assert p.stdout.strip() == b"/", p.stdout       # pwd still ran
        p = e.run(input=b"pwd\nmkdir /no/such/dir\nexit\n")
        assert p.returncode == 1, (p.returncode, p.stderr)
        p = e.run(input=b"pwd\nls\n")
        assert p.returncode == 0, (p.returncode, p.stderr)
        p = e.run(input=b"get " + b"x" * 5000 + b"\npwd\n")
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert b"line too long" in p.stderr, p.stderr
    finally:
        e.cleanup()


def t_tilde(srv):
    """~ and ~/ in local paths are $HOME (get's directory, put's file,
    lcd, lls), as help's "get -r photos ~/backup" shows."""
    e = Env(srv)
    try:
        home_file = os.path.join(e.home, "t.bin")
        moatlib.make_file(home_file, 2000, seed=42)
        os.makedirs(srv.rpath("tdir"), exist_ok=True)
        give(srv, srv.rpath("tdir"))
        e.ok("put ~/t.bin", "put ~/t.bin tdir")
        assert md5(srv.rpath("t.bin")) == md5(home_file)
        e.ok("get t.bin ~/dl", "get -r tdir ~/tree")
        assert md5(os.path.join(e.home, "dl", "t.bin")) == md5(home_file)
        assert os.path.exists(os.path.join(e.home, "tree", "tdir", "t.bin"))
        assert not os.path.exists(e.lp("~")), os.listdir(e.work)
        out, _ = e.ok("lcd ~", "lpwd", "lls ~/dl", "lcd", "lpwd")
        lines = out.splitlines()
        assert lines.count(e.home) == 4, out
        assert any(x.endswith("t.bin") for x in lines), out
        # ~user is not expanded: it stays a name
        e.fail("lls ~nosuchuser", want="lls: ~nosuchuser")
    finally:
        e.cleanup()


def t_verbose_quiet(srv):
    e = Env(srv)
    try:
        moatlib.make_file(e.lp("q.bin"), 1000)
        out, err = e.ok("put q.bin", opts=["-v"])
        assert "-> PASS ****" in err, err
        assert srv.password not in err and srv.password not in out
        assert "<- 230" in err, err
        out, err = e.ok("get -f q.bin", "pwd", opts=["-q"])
        assert out == "/\n", repr(out)
        assert err == "", err
    finally:
        e.cleanup()


def t_netrc(srv):
    e = Env(srv)
    try:
        nrc = os.path.join(e.home, ".netrc")
        with open(nrc, "w") as f:
            f.write("machine other login x password y\n"
                    "machine 127.0.0.1 login %s password %s\n" %
                    (srv.user, srv.password))
        os.chmod(nrc, 0o600)
        out, _ = e.ok("pwd", env=e.env(password=False),
                      target="127.0.0.1:%d" % srv.port)
        assert out.strip() == "/", out
        os.chmod(nrc, 0o644)        # readable by others: ignored
        e.fail("pwd", env=e.env(password=False), want="readable by others")
    finally:
        e.cleanup()


def t_resume_download(srv):
    e = Env(srv)
    try:
        size = 12 << 20 if srv.name == "vsftpd" else 160 << 20
        moatlib.make_file(srv.rpath("big.bin"), size, seed=7)
        if srv.name == "vsftpd":
            shutil.chown(srv.rpath("big.bin"), srv.user, srv.user)
        cut = kill_midway(e, srv, "get big.bin", e.lp("big.bin.moatpart"),
                          size)
        assert not os.path.exists(e.lp("big.bin"))
        out, _ = e.ok("get big.bin")
        if srv.has_hash:
            assert "resuming big.bin from %d" % cut in out, out
        else:   # nothing could check a resumed file: start over
            assert "starting big.bin over: the server offers no digest" \
                in out, out
        assert md5(e.lp("big.bin")) == md5(srv.rpath("big.bin"))
        assert not os.path.exists(e.lp("big.bin.moatpart"))
    finally:
        e.cleanup()


def t_resume_upload(srv):
    e = Env(srv)
    try:
        size = 12 << 20 if srv.name == "vsftpd" else 160 << 20
        moatlib.make_file(e.lp("up.bin"), size, seed=8)
        cut = kill_midway(e, srv, "put up.bin", srv.rpath(".up.bin.moatpart"),
                          size)
        assert not os.path.exists(srv.rpath("up.bin"))
        out, _ = e.ok("put up.bin")
        if srv.has_hash:
            assert "resuming up.bin from %d" % cut in out, out
        else:
            assert "starting up.bin over: the server offers no digest" \
                in out, out
        assert md5(srv.rpath("up.bin")) == md5(e.lp("up.bin"))
        assert not os.path.exists(srv.rpath(".up.bin.moatpart"))
    finally:
        e.cleanup()


def _children(pid):
    kids, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                c = [int(x) for x in f.read().split()]
        except OSError:
            c = []
        kids += c
        todo += c
    return kids


def _wait_size(path, proc, deadline):
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return
        time.sleep(0.005)


def t_interrupt_drop(srv):
    """Ctrl-C (SIGINT) and a dropped connection both leave a part file;
    vsftpd offers no digest to check a resumed file, so the next run
    starts it over."""
    e = Env(srv)
    try:
        size = 12 << 20
        moatlib.make_file(srv.rpath("int.bin"), size, seed=14)
        shutil.chown(srv.rpath("int.bin"), srv.user, srv.user)
        part = e.lp("int.bin.moatpart")
        p = subprocess.Popen(e.argv("get int.bin"), cwd=e.work, env=e.env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _wait_size(part, p, time.time() + 30)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        assert p.returncode == 1 and b"interrupted" in err, (out, err)
        assert b"part file kept" in err, err
        cut1 = os.path.getsize(part)
        assert 0 < cut1 < size, cut1
        # the next run resumes; the server drops it midway
        p = subprocess.Popen(e.argv("get int.bin"), cwd=e.work, env=e.env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while time.time() < deadline and os.path.getsize(part) < cut1 + \
                (1 << 20):
            time.sleep(0.005)
        for pid in _children(srv.proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        out, err = p.communicate(timeout=60)
        assert b"starting int.bin over: the server offers no digest" in \
            out, out
        assert p.returncode == 1, (out, err)
        assert len(err.strip().splitlines()) == 1, err
        cut2 = os.path.getsize(part)
        assert cut1 < cut2 < size, (cut1, cut2)
        out, _ = e.ok("get int.bin")
        assert "starting int.bin over" in out, out
        assert md5(e.lp("int.bin")) == md5(srv.rpath("int.bin"))
    finally:
        e.cleanup()


def t_stale_part(srv):
    """A part file that does not match the server's file (left from an
    older version) is found out by the digest after resuming: it is
    discarded and the file downloaded again from byte 0; so is a stale
    part file on the server for an upload. Neither fails for ever."""
    e = Env(srv)
    try:
        moatlib.make_file(srv.rpath("cor.bin"), 500000, seed=9)
        with open(srv.rpath("cor.bin"), "rb") as f:
            prefix = bytearray(f.read(200000))
        prefix[1000] ^= 0xff
        with open(e.lp("cor.bin.moatpart"), "wb") as f:
            f.write(prefix)
        out, err = e.ok("get cor.bin")
        assert "resuming cor.bin from 200000" in out, out
        assert "MD5 mismatch after resuming from 200000: part file " \
            "discarded, starting over" in err, err
        assert md5(e.lp("cor.bin")) == md5(srv.rpath("cor.bin"))
        assert not os.path.exists(e.lp("cor.bin.moatpart"))
        # the same for -f over an existing file, with SHA-256
        moatlib.make_file(e.lp("cor.bin.moatpart"), 300000, seed=30)
        _, err = e.ok("get -f cor.bin", opts=["--hash=sha256"])
        assert "SHA-256 mismatch after resuming" in err, err
        assert md5(e.lp("cor.bin")) == md5(srv.rpath("cor.bin"))
        # upload over a stale remote part file
        moatlib.make_file(e.lp("su.bin"), 400000, seed=31)
        moatlib.make_file(srv.rpath(".su.bin.moatpart"), 150000, seed=32)
        give(srv, srv.rpath(".su.bin.moatpart"))
        out, err = e.ok("put su.bin")
        assert "resuming su.bin from 150000" in out, out
        assert "mismatch after resuming from 150000" in err, err
        assert md5(srv.rpath("su.bin")) == md5(e.lp("su.bin"))
        assert not os.path.exists(srv.rpath(".su.bin.moatpart"))
    finally:
        e.cleanup()


def t_part_symlink(srv):
    """A local part file that is a symbolic link is refused: the download
    never writes through it into the file it points to."""
    e = Env(srv)
    try:
        moatlib.make_file(srv.rpath("sl.bin"), 50000, seed=33)
        victim = os.path.join(e.dir, "victim")
        with open(victim, "wb") as f:
            f.write(b"precious")
        os.symlink(victim, e.lp("sl.bin.moatpart"))
        _, err = e.fail("get sl.bin", want="part file is a symbolic link")
        with open(victim, "rb") as f:
            assert f.read() == b"precious"
        assert not os.path.exists(e.lp("sl.bin"))
        os.unlink(e.lp("sl.bin.moatpart"))
        os.mkfifo(e.lp("sl.bin.moatpart"))
        e.fail("get sl.bin", want="part file is not a regular file")
    finally:
        e.cleanup()


def t_control_names(srv):
    """get -r of a directory holding names with terminal escapes: each is
    named in a warning, escaped, and the tree download fails instead of
    leaving them out silently. ls warns the same way."""
    e = Env(srv)
    try:
        top = srv.rpath("cn")
        os.makedirs(top)
        for n in ("ok.txt", "bad\x1b]0;TITLE\x07name", "x\x1b[2Jy"):
            moatlib.make_file(os.path.join(top, n), 100, seed=41)
        p = e.run("get -r cn back")
        err = p.stderr.decode(errors="replace")
        assert p.returncode == 1, (p.returncode, err)
        assert b"\x1b" not in p.stderr and b"\x07" not in p.stderr, err
        warns = [x for x in err.splitlines() if "skipped a name" in x]
        assert len(warns) == 2, err
        assert any("cn: skipped a name with a control character or a "
                   "slash: bad\\033]0;TITLE\\aname" in x for x in warns), err
        assert os.path.exists(e.lp("back", "cn", "ok.txt"))
        out, err = e.ok("ls cn")
        assert "ok.txt" in out and err.count("skipped a name") == 2, err
    finally:
        e.cleanup()


def t_fake_ftp_url():
    """An ftp:// address does not lower TLS: against a server without TLS
    the client gives up before sending the password, unless --tls says
    otherwise."""
    fake = fakeftp.FakeFTP()
    e = Env(fake)
    try:
        url = "ftp://fake@127.0.0.1:%d" % fake.port
        _, err = e.fail("pwd", cafile=False, target=url,
                        want="server refuses TLS")
        assert fake.commands("PASS") == [], fake.log
        out, err = e.ok("pwd", cafile=False, target=url,
                        opts=["--tls=auto"])
        assert out.strip() == "/" and "in clear" in err, (out, err)
    finally:
        fake.stop()
        e.cleanup()


def t_fake_pwd_escapes():
    """A PWD reply whose path holds terminal escapes is refused: pwd says
    so, escaped; show and the prompt print "?"; nothing raw reaches the
    terminal."""
    fake = fakeftp.FakeFTP(pwd="/\x1b]0;PWNED\x07\x1b[2J\x1b[31mred")
    e = FakeEnv(fake)
    try:
        p = e.run("pwd")
        assert p.returncode == 1, p
        assert b"\x1b" not in p.stdout + p.stderr, p
        assert b"pwd: unusable reply (server: 257 \"/\\033]0;PWNED" in \
            p.stderr, p.stderr
        out, _ = e.ok("show")
        assert "cwd:     ?" in out and "home:    ?" in out, out
        assert "\x1b" not in out, out
        rc, out = run_pty(e.argv(), e.env(), e.work, dialogue=[
            (b"fake@127.0.0.1:?> ", b"exit\r")])
        assert rc == 0 and b"PWNED" not in out, out
    finally:
        fake.stop()
        e.cleanup()


def t_fake_netrc_nologin():
    """A ~/.netrc entry with a password and no login: the client logs in
    as the user it would name anyway (the local one), not as "USER "."""
    fake = fakeftp.FakeFTP()
    e = FakeEnv(fake)
    try:
        nrc = os.path.join(e.home, ".netrc")
        with open(nrc, "w") as f:
            f.write("machine 127.0.0.1 password nrc-secret\n")
        os.chmod(nrc, 0o600)
        out, _ = e.ok("pwd", env=e.env(password=False),
                      target="127.0.0.1:%d" % fake.port)
        assert fake.commands("USER") == [pwd.getpwuid(os.getuid()).pw_name], \
            fake.log
        assert fake.commands("PASS") == ["nrc-secret"], fake.log
    finally:
        fake.stop()
        e.cleanup()


NEW = b"NEWCONTENT" * 10000
OLD = b"OLDCONTENT" * 3000


def fake_get(fake, part=None, cmds=("get f.bin",), ok=True, opts=()):
    """Run the client against fake with f.bin.moatpart holding part.
    Returns (env, stdout, stderr); the caller cleans env up."""
    e = FakeEnv(fake)
    if part is not None:
        with open(e.lp("f.bin.moatpart"), "wb") as f:
            f.write(part)
    if ok:
        out, err = e.ok(*cmds, opts=opts)
    else:
        out, err = e.fail(*cmds, opts=opts)
    return e, out, err


def t_fake_no_digest():
    """A server with no digest command: a stale part file is not resumed
    (the result could not be checked), the file comes whole."""
    fake = fakeftp.FakeFTP(files={"f.bin": NEW}, digest=None,
                           feat=["MLSD", "SIZE", "EPSV", "REST STREAM"])
    try:
        e, out, _ = fake_get(fake, OLD)
        assert "starting f.bin over: the server offers no digest" in out, \
            out
        assert "not verified" in out, out
        with open(e.lp("f.bin"), "rb") as f:
            assert f.read() == NEW
        assert fake.commands("REST") == [], fake.log
        e.cleanup()
    finally:
        fake.stop()


def t_fake_no_size():
    """A server without SIZE: the client cannot tell a stale or too long
    part file, so it starts from 0 instead of renaming it."""
    fake = fakeftp.FakeFTP(files={"f.bin": NEW},
                           feat=["MLSD", "EPSV", "REST STREAM", "XMD5"])
    try:
        e, out, _ = fake_get(fake, NEW + OLD)   # longer than the file
        assert "starting f.bin over: the server does not tell the " \
            "file's size" in out, out
        with open(e.lp("f.bin"), "rb") as f:
            assert f.read() == NEW
        assert fake.commands("REST") == [], fake.log
        e.cleanup()
    finally:
        fake.stop()


def t_fake_no_rest():
    """A part file and a server without REST (not offered, or refused):
    the download starts over instead of failing for ever."""
    for feat, why in [(["MLSD", "SIZE", "EPSV", "XMD5"],
                       "the server does not offer REST"),
                      (["MLSD", "SIZE", "EPSV", "REST STREAM", "XMD5"],
                       "the server refused REST")]:
        fake = fakeftp.FakeFTP(files={"f.bin": NEW}, feat=feat, rest=False)
        try:
            e, out, _ = fake_get(fake, NEW[:30000])
            assert "starting f.bin over: " + why in out, out
            with open(e.lp("f.bin"), "rb") as f:
                assert f.read() == NEW
            assert fake.commands("RETR") == ["f.bin"], fake.log
            e.cleanup()
        finally:
            fake.stop()


def t_fake_wrong_digest():
    """A digest that never matches: the resumed try and the one from byte
    0 both fail, and then the client stops and keeps the part file."""
    fake = fakeftp.FakeFTP(files={"f.bin": NEW}, digest="wrong")
    try:
        e, _, err = fake_get(fake, NEW[:30000], ok=False)
        assert "MD5 mismatch after resuming from 30000" in err, err
        assert re.search(r"MD5 MISMATCH: local [0-9a-f]{32}, server "
                         r"[0-9a-f]{32}; part file kept", err), err
        assert len(fake.commands("RETR")) == 2, fake.log
        assert fake.commands("REST") == ["30000"], fake.log
        with open(e.lp("f.bin.moatpart"), "rb") as f:
            assert f.read() == NEW
        assert not os.path.exists(e.lp("f.bin"))
        e.cleanup()
    finally:
        fake.stop()


def t_fake_busy_keeps_part():
    """A server busy for a moment (a 4xx to SIZE, a 421 to SIZE or REST) is
    an error: the part file of an interrupted download is kept whole, not
    taken for stale and thrown away."""
    class Busy(fakeftp.FakeFTP):
        how = None

        def cmd_SIZE(self, arg):
            if self.how == "size450":
                self.send("450 File busy, try later.")
                return None
            if self.how == "size421":
                self.send("421 Too many users, closing control connection.")
                return "quit"
            return fakeftp.FakeFTP.cmd_SIZE(self, arg)

        def cmd_REST(self, arg):
            if self.how == "rest421":
                self.send("421 Idle too long, closing control connection.")
                return "quit"
            return fakeftp.FakeFTP.cmd_REST(self, arg)

    for how in ("size450", "size421", "rest421"):
        fake = Busy(files={"f.bin": NEW})
        fake.how = how
        try:
            e, _, err = fake_get(fake, NEW[:30000], ok=False)
            with open(e.lp("f.bin.moatpart"), "rb") as f:
                assert f.read() == NEW[:30000], how
            assert "starting f.bin over" not in err, (how, err)
            e.cleanup()
        finally:
            fake.stop()


def t_fake_mlst_layout():
    """An MLST reply whose first line's text starts with a space ("250-
    Listing d", RFC 3659's own example) still gives del -d its entry."""
    class Mlst(fakeftp.FakeFTP):
        def cmd_MLST(self, arg):
            p = self.path(arg)
            if not self.is_dir(p):
                self.send("550 No such file.")
                return
            self.send("250- Listing %s" % arg)
            self.send(" type=dir;modify=20240101000000; /%s" % p)
            self.send("250 End")

        def cmd_MLSD(self, arg):
            if self.path(arg) == "":
                self.send("550 Permission denied.")
            else:
                fakeftp.FakeFTP.cmd_MLSD(self, arg)

        def cmd_RMD(self, arg):
            self.send("250 Removed.")

    fake = Mlst(dirs=("", "d"))
    e = FakeEnv(fake)
    try:
        e.ok("del -d -y d")
        assert fake.commands("RMD") == ["d"], fake.log
        assert fake.commands("LIST") == [], fake.log
    finally:
        fake.stop()
        e.cleanup()


def t_fake_hash_other_algo():
    """A server whose HASH does not speak our algorithm (OPTS HASH MD5
    refused) and that has no XMD5: a part file is not resumed (it could
    not be checked), the file is fetched once, and OPTS HASH is asked
    once."""
    class Sha(fakeftp.FakeFTP):
        def cmd_OPTS(self, arg):
            if arg.upper().startswith("HASH"):
                self.send("501 Only SHA-256 here.")
            else:
                self.send("200 OK.")

        def cmd_HASH(self, arg):
            data = self.files[self.path(arg)]
            self.send("213 SHA-256 0-%d %s %s" % (
                len(data), hashlib.sha256(data).hexdigest(), arg))

    fake = Sha(files={"f.bin": NEW}, digest=None,
               feat=["MLSD", "SIZE", "EPSV", "REST STREAM", "UTF8",
                     "HASH SHA-256*"])
    try:
        e, out, _ = fake_get(fake, NEW[:30000])
        assert "starting f.bin over: the server offers no digest" in out, \
            out
        assert len(fake.commands("RETR")) == 1, fake.log
        assert fake.commands("REST") == [], fake.log
        assert len([a for a in fake.commands("OPTS")
                    if a.upper().startswith("HASH")]) == 1, fake.log
        with open(e.lp("f.bin"), "rb") as f:
            assert f.read() == NEW
        e.cleanup()
    finally:
        fake.stop()


def t_quota(srv):
    e = Env(srv)
    try:
        if srv.name == "vsftpd":
            e.fail("quota", want="not supported")
            out, _ = e.ok("show")
            assert "quota:   not reported" in out, out
            return
        moatlib.make_file(e.lp("qq.bin"), 100000)
        e.ok("put qq.bin")
        out, _ = e.ok("quota")
        assert re.search(r"used .* of 1.0G, .* free", out), out
        # bob has 200000 bytes: a 300000-byte upload is refused
        env = e.env(MOATFTP_PASSWORD=srv.d.passwords["bob"])
        moatlib.make_file(e.lp("huge.bin"), 300000)
        p = e.run("put huge.bin", env=env, target=srv.target("bob"))
        assert p.returncode == 1 and b"quota exceeded" in p.stderr, p.stderr
        assert not os.path.exists(os.path.join(srv.d.home("bob"),
                                               "huge.bin"))
    finally:
        e.cleanup()


def t_trees_chinese(srv):
    e = Env(srv)
    try:
        os.makedirs(e.lp(CN_DIR, "子目录"))
        moatlib.make_file(e.lp(CN_DIR, CN_FILE), 3000, seed=10)
        moatlib.make_file(e.lp(CN_DIR, "子目录", "b c.bin"), 70000, seed=11)
        moatlib.make_file(e.lp(CN_FILE), 1234, seed=12)
        e.ok("put " + CN_FILE, "put -r " + CN_DIR)
        out, _ = e.ok("ls", "ls " + CN_DIR)
        assert CN_FILE in out and CN_DIR + "/" in out, out
        assert md5(srv.rpath(CN_DIR, "子目录", "b c.bin")) == \
            md5(e.lp(CN_DIR, "子目录", "b c.bin"))
        e.ok("get -r %s back" % CN_DIR, "get %s back" % CN_FILE,
             "get '%s/子目录/b c.bin' back" % CN_DIR)
        for p in [(CN_DIR, CN_FILE), (CN_DIR, "子目录", "b c.bin")]:
            assert md5(e.lp("back", *p)) == md5(e.lp(*p)), p
        assert md5(e.lp("back", CN_FILE)) == md5(e.lp(CN_FILE))
        assert md5(e.lp("back", "b c.bin")) == md5(e.lp(CN_DIR, "子目录",
                                                        "b c.bin"))
        # again, as after a cut: what is complete is skipped, not refused
        os.unlink(e.lp("back", CN_DIR, "子目录", "b c.bin"))
        out, _ = e.ok("get -r %s back" % CN_DIR)
        assert "%s: already here, same size: skipped" % \
            os.path.join("back", CN_DIR, CN_FILE) in out, out
        assert md5(e.lp("back", CN_DIR, "子目录", "b c.bin")) == \
            md5(e.lp(CN_DIR, "子目录", "b c.bin"))
        # a local file of another size is not taken as done
        with open(e.lp("back", CN_DIR, CN_FILE), "ab") as f:
            f.write(b"x")
        e.fail("get -r %s back" % CN_DIR, want="local file exists")
        e.ok("get -r -f %s back" % CN_DIR)
        assert md5(e.lp("back", CN_DIR, CN_FILE)) == md5(e.lp(CN_DIR,
                                                              CN_FILE))
        # put -r again: the same
        out, _ = e.ok("put -r " + CN_DIR)
        assert "%s/%s: already on the server, same size: skipped" % \
            (CN_DIR, CN_FILE) in out, out
        e.fail("put %s %s" % (CN_FILE, CN_DIR), want="remote file exists")
    finally:
        e.cleanup()


def t_links(srv):
    """del -d on a symbolic link to a directory deletes the link, never
    what is in the directory; get -r follows links to files only and
    skips one to a directory or to nothing with a warning."""
    e = Env(srv)
    try:
        top = srv.rpath("lk")
        os.makedirs(os.path.join(top, "real", "sub"))
        for p in ("real/keep.txt", "real/sub/deep.txt", "f.txt"):
            moatlib.make_file(os.path.join(top, p), 1000, seed=40)
        os.symlink("real", os.path.join(top, "ln"))
        os.symlink("f.txt", os.path.join(top, "lf"))
        os.symlink("nowhere", os.path.join(top, "dang"))
        st = os.stat(srv.root)
        for d, dirs, files in os.walk(top):
            for n in [d] + [os.path.join(d, x) for x in dirs + files]:
                os.lchown(n, st.st_uid, st.st_gid)
        out, err = e.ok("get -r lk back")
        for n in ("ln", "dang"):
            assert "lk/%s: symbolic link to a directory or to nothing: " \
                "skipped" % n in err, err
        assert md5(e.lp("back", "lk", "lf")) == md5(os.path.join(top,
                                                                 "f.txt"))
        assert os.path.exists(e.lp("back", "lk", "real", "sub", "deep.txt"))
        assert not os.path.lexists(e.lp("back", "lk", "ln"))
        out, _ = e.ok("del -d -y lk/ln")
        assert "lk/ln is a symbolic link: deleting the link only" in out, out
        assert not os.path.lexists(os.path.join(top, "ln"))
        assert os.path.exists(os.path.join(top, "real", "keep.txt"))
        assert os.path.exists(os.path.join(top, "real", "sub", "deep.txt"))
        # the same from inside the directory (the link's listing is .)
        os.symlink("real", os.path.join(top, "ln2"))
        os.lchown(os.path.join(top, "ln2"), st.st_uid, st.st_gid)
        e.ok("cd lk", "del -d -y ln2")
        assert not os.path.lexists(os.path.join(top, "ln2"))
        assert os.path.exists(os.path.join(top, "real", "sub", "deep.txt"))
        e.ok("del -d -y lk")
        assert not os.path.exists(top)
    finally:
        e.cleanup()


def t_put_tree_links(srv):
    """put -r follows a symbolic link to a file, as get -r does, and
    names what it skips (a link to a directory or to nothing, a FIFO)
    instead of leaving it out without a word."""
    e = Env(srv)
    try:
        top = e.lp("pl")
        os.makedirs(os.path.join(top, "real"))
        moatlib.make_file(os.path.join(top, "real", "f.txt"), 1000, seed=43)
        os.symlink("real/f.txt", os.path.join(top, "lf"))
        os.symlink("real", os.path.join(top, "ld"))
        os.symlink("nowhere", os.path.join(top, "dang"))
        os.mkfifo(os.path.join(top, "fifo"))
        out, err = e.ok("put -r pl")
        assert md5(srv.rpath("pl", "lf")) == md5(os.path.join(top, "real",
                                                              "f.txt"))
        for n in ("ld", "dang"):
            assert "pl/%s: symbolic link to a directory or to nothing: " \
                "skipped" % n in err, err
            assert not os.path.lexists(srv.rpath("pl", n))
        assert "pl/fifo: not a regular file: skipped" in err, err
        assert not os.path.lexists(srv.rpath("pl", "fifo"))
    finally:
        e.cleanup()


def t_progress(srv):
    e = Env(srv)
    try:
        moatlib.make_file(srv.rpath("p.bin"), 6 << 20 if srv.name ==
                          "vsftpd" else 64 << 20, seed=13)
        os.chmod(srv.rpath("p.bin"), 0o644)
        rc, out = run_pty(e.argv("get p.bin"), e.env(), e.work)
        assert rc == 0, out
        assert b"\r" in out and b"ETA" in out and b"%" in out, out
        assert re.search(rb"\x1b\[3[23]m", out), out  # colour on a tty
        assert re.search(rb"p\.bin .*/s", out), out
        os.unlink(e.lp("p.bin"))
        rc, out = run_pty(e.argv("get p.bin", "ls"), e.env(NO_COLOR="1"),
                          e.work)
        assert rc == 0 and b"\x1b[3" not in out and b"\x1b[1" not in out, out
        os.unlink(e.lp("p.bin"))
        out, _ = e.ok("get p.bin")              # piped: final line only
        assert "\r" not in out and "ETA" not in out and "\x1b" not in out
        assert len(out.splitlines()) == 1 and out.startswith("p.bin"), out
    finally:
        e.cleanup()


def bar_lines(out):
    """The progress bar's redraws in a terminal's output, as text."""
    return [x.replace(b"\x1b[K", b"").decode()
            for x in out.split(b"\r") if b"%" in x]


def t_progress_width(srv):
    """The bar never reaches the terminal's last column, whatever its
    width: a line that wraps leaves a copy behind at every redraw (an
    80-column terminal got 81 characters)."""
    e = Env(srv)
    try:
        moatlib.make_file(srv.rpath("w.bin"), 48 << 20, seed=16)
        os.chmod(srv.rpath("w.bin"), 0o644)
        for cols in (None, 40, 60, 80, 132):
            rc, out = run_pty(e.argv("get -f w.bin"), e.env(), e.work,
                              cols=cols)
            assert rc == 0, out
            bars = bar_lines(out)
            assert bars, out
            width = cols or 80          # a terminal that says nothing
            assert max(len(x) for x in bars) < width, (cols, bars)
            if width >= 80:
                assert re.search(r"\[#*>?\.*\]", bars[-1]), bars
    finally:
        e.cleanup()


def t_progress_utf8(srv):
    """A long UTF-8 name is cut between two characters, never inside one,
    and padded by the columns it takes, not by its bytes: the bar keeps
    its place and stays valid UTF-8."""
    e = Env(srv)
    try:
        name = "ab" + "文件" * 8 + ".bin"
        moatlib.make_file(srv.rpath(name), 32 << 20, seed=17)
        os.chmod(srv.rpath(name), 0o644)
        rc, out = run_pty(e.argv("get '%s'" % name), e.env(), e.work)
        assert rc == 0, out
        bars = [x.replace(b"\x1b[K", b"") for x in out.split(b"\r")
                if b"%" in x]
        assert bars, out
        for b in bars:
            text = b.decode()           # strict: no character cut in two
            cols = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1
                       for ch in text)
            assert cols == 79, (cols, text)
            assert text.startswith("ab文件"), text
    finally:
        e.cleanup()


def t_interactive(srv):
    e = Env(srv)
    try:
        moatlib.make_file(e.lp("local-one.txt"), 10)
        os.makedirs(srv.rpath("remotedir-x"), exist_ok=True)
        if srv.name == "vsftpd":
            shutil.chown(srv.rpath("remotedir-x"), srv.user, srv.user)
        prompt = ("%s@127.0.0.1:/> " % srv.user).encode()
        rc, out = run_pty(e.argv(), e.env(), e.work, dialogue=[
            (prompt, b"hel\t\r"),                      # command completion
            (b"commands", b"put local-o\t\r"),          # local path
            (b"local-one.txt", b"cd remotedir-\t\r"),   # remote path
            (b":/remotedir-x> ", b"pwd\r"),
            (b"/remotedir-x\r\n", b"exit\r")])
        assert rc == 0, out
        assert b"commands (help CMD" in out, out
        assert os.path.exists(srv.rpath("local-one.txt")), out
        assert b":/remotedir-x> " in out, out
    finally:
        e.cleanup()


def t_interactive_intr(srv):
    """Ctrl-C at the prompt and during a transfer keeps the shell; the next
    get finds the part file (and starts it over: vsftpd has no digest)."""
    e = Env(srv)
    try:
        moatlib.make_file(srv.rpath("ii.bin"), 12 << 20, seed=15)
        os.chmod(srv.rpath("ii.bin"), 0o644)
        prompt = ("%s@127.0.0.1:/> " % srv.user).encode()
        rc, out = run_pty(e.argv(), e.env(), e.work, dialogue=[
            (prompt, b"\x03"), (prompt, b"get ii.bin\r"),
            (b"ETA 00:0", b"\x03"), (b"interrupted", b""),
            (prompt, b"get ii.bin\r"), (b"starting ii.bin over", b""),
            (prompt, b"exit\r")], timeout=60)
        assert rc == 0, out
        assert b"part file kept" in out, out
        assert md5(e.lp("ii.bin")) == md5(srv.rpath("ii.bin"))
    finally:
        e.cleanup()


def t_tls_pinning(srv):
    e = Env(srv)
    try:
        kh = os.path.join(e.home, ".config", "moatftp", "known_hosts")
        # not trusted, no terminal: refused with the fingerprint shown
        _, err = e.fail("pwd", cafile=False, want="untrusted certificate")
        assert re.search(r"[0-9a-f]{64}", err), err
        assert not os.path.exists(kh)
        # first use on a terminal: the user says yes, the pin is written
        rc, out = run_pty(e.argv("pwd", cafile=False), e.env(), e.work,
                          dialogue=[(b"(yes/no)? ", b"yes\r")])
        assert rc == 0, out
        assert b"SHA-256 fingerprint" in out, out
        with open(kh) as f:
            line = f.read().strip()
        assert re.fullmatch(r"127\.0\.0\.1:%d [0-9a-f]{64}" % srv.port,
                            line), line
        # later runs check the pin, with no terminal
        out, _ = e.ok("pwd", cafile=False)
        assert out.strip() == "/"
        # saying no on a terminal refuses
        e2 = Env(srv)
        rc, out = run_pty(e2.argv("pwd", cafile=False), e2.env(), e2.work,
                          dialogue=[(b"(yes/no)? ", b"no\r")])
        e2.cleanup()
        assert rc == 1 and b"not accepted" in out, out
        # a changed certificate is refused loudly, even on a terminal
        port = srv.port
        srv.restart(srv.cert2, srv.key2)
        with open(kh, "w") as f:
            f.write(line.replace(str(port), str(srv.port)) + "\n")
        _, err = e.fail("pwd", cafile=False, want="HAS CHANGED")
        assert "refused" in err, err
        rc, out = run_pty(e.argv("pwd", cafile=False), e.env(), e.work)
        assert rc == 1 and b"HAS CHANGED" in out, out
        # --cafile with the wrong CA: refused as well
        e.fail("pwd", want="changed")
    finally:
        srv.restart(srv.cert, srv.key)
        e.cleanup()


def t_fake_rate_excludes_digest():
    """The time and rate a transfer ends with are the data's: the wait for
    the server's digest (hours for a huge file) is not counted in them."""
    fake = fakeftp.FakeFTP(files={"f.bin": NEW}, digest_delay=4)
    e = FakeEnv(fake)
    try:
        out, _ = e.ok("get f.bin")
        assert re.match(r"f\.bin  98K  00:0[01]  .*/s  MD5 verified$", out), \
            out
    finally:
        fake.stop()
        e.cleanup()


def t_fake_name_escapes():
    """A server's file name with terminal escapes (here one that clears
    the screen) is shown with '?' for each control character in the line a
    transfer ends with; the local file keeps the name as it is."""
    name = "e\x1b[2Jx.bin"
    fake = fakeftp.FakeFTP(files={name: NEW})
    e = FakeEnv(fake)
    try:
        out, _ = e.ok("get " + name)
        assert "\x1b" not in out, repr(out)
        assert out.startswith("e?[2Jx.bin  98K"), repr(out)
        with open(e.lp(name), "rb") as f:
            assert f.read() == NEW
    finally:
        fake.stop()
        e.cleanup()


def t_fake_intr_reply():
    """Ctrl-C while the client waits for a reply (here the digest of a
    file, which may take hours on a huge one) ends the command at once,
    not when the reply comes: the connection, out of step, is closed and
    the part file kept whole for the next run."""
    fake = fakeftp.FakeFTP(files={"f.bin": NEW}, digest_delay=60)
    e = FakeEnv(fake)
    p = None
    try:
        p = subprocess.Popen(e.argv("get f.bin"), cwd=e.work, env=e.env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while time.time() < deadline and not fake.commands("XMD5"):
            time.sleep(0.05)
        time.sleep(0.3)
        t0 = time.time()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=90)
        assert time.time() - t0 < 10, time.time() - t0
        assert p.returncode == 1, (out, err)
        assert b"interrupted" in err, err
        assert not os.path.exists(e.lp("f.bin"))
        with open(e.lp("f.bin.moatpart"), "rb") as f:
            assert f.read() == NEW
    finally:
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()
        fake.stop()
        e.cleanup()


def t_fake_intr_before_wait():
    """A Ctrl-C that lands after the data ended but before the wait for
    the digest began (no read for it to break) ends the command too: the
    digest is not waited for, and the part file is kept. gdb raises SIGINT
    in the client at progress_done (the data all in), as a person's Ctrl-C would."""
    if not shutil.which("gdb"):
        print("skip t_fake_intr_before_wait: no gdb")
        return
    fake = fakeftp.FakeFTP(files={"f.bin": NEW}, digest_delay=60)
    e = FakeEnv(fake)
    try:
        argv = ["gdb", "-nx", "-batch", "-q",
                "-ex", "set breakpoint pending on",
                "-ex", "handle SIGINT nostop noprint pass",
                "-ex", "break progress_done",
                "-ex", "run",
                "-ex", "call (int)raise(2)",
                "-ex", "delete",
                "-ex", "continue",
                "--args"] + e.argv("get f.bin")
        t0 = time.time()
        p = subprocess.run(argv, cwd=e.work, env=e.env(),
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=120)
        took = time.time() - t0
        out = p.stdout + p.stderr
        assert b"exited with code 01" in out, out
        assert took < 30, (took, out)
        assert not os.path.exists(e.lp("f.bin"))
        with open(e.lp("f.bin.moatpart"), "rb") as f:
            assert f.read() == NEW
    finally:
        fake.stop()
        e.cleanup()


class BigTree(fakeftp.FakeFTP):
    """Every directory holds 200000 directories, all the way down."""

    LISTING = b"".join(b"type=dir; d%06d\r\n" % i for i in range(200000))

    def is_dir(self, p):
        return True

    def listing(self, path):
        return self.LISTING


def t_fake_bigtree():
    """get -r of a tree whose every directory lists 200000 more: the
    listings held level after level are bounded (256 MiB); past that the
    whole download stops with one message instead of eating memory (the
    client runs under a 1 GiB address space limit, and 120 s; not the
    sanitizer build, whose shadow memory needs far more address space)."""
    fake = BigTree()
    e = FakeEnv(fake)

    def limit():
        if moatlib.SLOW == 1:
            resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    try:
        p = subprocess.run(e.argv("get -r top"), cwd=e.work, env=e.env(),
                           capture_output=True, timeout=120 * moatlib.SLOW,
                           preexec_fn=limit)
        err = p.stderr.decode(errors="replace")
        assert p.returncode == 1, (p.returncode, err)
        assert err.splitlines() == ["moatftp: get: top/d000000: listings "
                                    "too large (over 256 MiB held at "
                                    "once)"], err
        assert fake.commands("MLSD") == ["top", "top/d000000"], \
            fake.commands("MLSD")
    finally:
        fake.stop()
        e.cleanup()


class SlowDigest:
    """t_fake_slow_digest, in two halves: the client starts before the
    other tests and is checked after them, so its wait overlaps theirs.
    The server takes 130 s to answer XMD5, longer than the client's
    control timeout (CL_TIMEOUT, 120 s): as for a digest of a huge file,
    the client must wait for it."""

    def __init__(self):
        self.fake = fakeftp.FakeFTP(files={"f.bin": NEW}, digest_delay=130)
        self.e = FakeEnv(self.fake)
        self.t0 = time.time()
        self.p = subprocess.Popen(self.e.argv("get f.bin"), cwd=self.e.work,
                                  env=self.e.env(), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)

    def t_fake_slow_digest(self):
        try:
            out, err = self.p.communicate(timeout=400)
            assert self.p.returncode == 0, (out, err)
            assert time.time() - self.t0 >= 130
            assert b"MD5 verified" in out, out
            with open(self.e.lp("f.bin"), "rb") as f:
                assert f.read() == NEW
        finally:
            self.stop()

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.fake.stop()
        self.e.cleanup()


FAKE = [t_fake_no_digest, t_fake_no_size, t_fake_no_rest,
        t_fake_wrong_digest, t_fake_bigtree, t_fake_ftp_url,
        t_fake_pwd_escapes, t_fake_netrc_nologin, t_fake_busy_keeps_part,
        t_fake_mlst_layout, t_fake_hash_other_algo, t_fake_intr_reply,
        t_fake_intr_before_wait,
        t_fake_name_escapes,
        t_fake_rate_excludes_digest]

COMMON = [t_roundtrip, t_clash, t_commands, t_bad_args, t_exit_codes,
          t_stdin_status, t_tilde, t_verbose_quiet, t_netrc,
          t_resume_download,
          t_resume_upload, t_trees_chinese, t_links, t_put_tree_links,
          t_progress,
          t_interactive, t_quota]


def main():
    r = moatlib.Runner("client")
    if not os.access(MOATFTP, os.X_OK):
        print("no %s: run make build/moatftp" % MOATFTP)
        r.failed += 1
        r.done()
    servers = []
    if moatlib.IS_ROOT and shutil.which("vsftpd"):
        servers.append(Vsftpd)
    else:
        print("skip vsftpd tests: needs root and vsftpd")
    if os.access(moatlib.MOATFTPD, os.X_OK):
        servers.append(Moatd)
    else:
        print("skip moatftpd tests: no %s" % moatlib.MOATFTPD)
    only = os.environ.get("MOAT_CLIENT_TESTS", "").split()
    slow = None
    if not only or "t_fake_slow_digest" in only:
        slow = SlowDigest()
    try:
        run_servers(r, servers, only)
    finally:
        if slow is not None:
            r.run(_named(slow.t_fake_slow_digest, None))
    r.done()


def run_servers(r, servers, only):
    for cls in servers:
        try:
            srv = cls()
        except Exception as ex:  # noqa: BLE001
            print("FAIL client.start %s: %s" % (cls.name, ex))
            r.failed += 1
            continue
        try:
            tests = list(COMMON)
            if srv.name == "vsftpd":
                tests += [t_tls_pinning, t_interrupt_drop, t_interactive_intr]
            else:
                tests += [t_stale_part, t_part_symlink, t_control_names,
                          t_progress_width, t_progress_utf8]
            for t in tests:
                if only and t.__name__ not in only:
                    continue
                r.run(_named(t, srv))
        finally:
            srv.stop()
    for t in FAKE:      # fakeftp servers, started by each test
        if not only or t.__name__ in only:
            r.run(_named(t, None))


def _named(t, srv):
    def f():
        if srv is None:
            t()
        else:
            t(srv)
    f.__name__ = t.__name__[2:] + ("[%s]" % srv.name if srv else "")
    return f


if __name__ == "__main__":
    main()
