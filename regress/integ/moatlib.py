"""Test harness: start a real moatftpd on a free loopback port in a temp dir.

Standard library only (run with /usr/bin/python3). Every daemon is killed by
PID and its directory removed when the test ends, so tests run side by side.
"""
import atexit
import ftplib
import hashlib
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("MOAT_BUILD", os.path.join(REPO, "build"))
# How much slower than a plain build this one runs: `make sanitize` sets 4
# (ASan+UBSan). Deadlines and "it was quick" bounds scale by it; what must
# be true whatever the speed does not.
SLOW = int(os.environ.get("MOAT_SLOW", "1"))
MOATFTPD = os.path.join(BUILD, "moatftpd")
MOATADM = os.path.join(BUILD, "moatadm")
MOATFTP = os.path.join(BUILD, "moatftp")
IS_ROOT = os.geteuid() == 0
NOBODY = 65534

_live = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _cleanup():
    for d in list(_live):
        d.stop()


atexit.register(_cleanup)


class Daemon:
    """A moatftpd in its own temp dir.

    root=True runs as root (chroot + setuid); root=False runs as an ordinary
    user (nobody when the test runs as root), confined by Landlock.
    """

    def __init__(self, root=True, tls=False, extra=None, users=None):
        self.root = root and IS_ROOT
        self.as_user = IS_ROOT and not root
        self.dir = tempfile.mkdtemp(prefix="moatftpd-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        base = random.randrange(20000, 60000, 200)
        self.tls = tls
        self.conf = os.path.join(self.dir, "moatftpd.conf")
        self.logfile = os.path.join(self.dir, "log")
        self.home_root = os.path.join(self.dir, "home")
        self.cert = os.path.join(self.dir, "cert.pem")
        self.key = os.path.join(self.dir, "key.pem")
        os.makedirs(os.path.join(self.dir, "empty"))
        self.settings = {
            "listen": '["127.0.0.1:%d"]' % self.port,
            "user_db": '"%s/users.db"' % self.dir,
            "home_root": '"%s"' % self.home_root,
            "jail_dir": '"%s/empty"' % self.dir,
            "pidfile": '"%s/moatftpd.pid"' % self.dir,
            "xferlog": '"%s/xferlog"' % self.dir,
            "pasv_min_port": str(base),
            "pasv_max_port": str(base + 199),
            "login_fail_delay": "0",
            "tls_cert": '"%s"' % (self.cert if tls else ""),
            "tls_key": '"%s"' % (self.key if tls else ""),
        }
        if extra:
            self.settings.update(extra)
        self.write_conf()
        if self.as_user:
            for root_, dirs, files in os.walk(self.dir):
                os.chown(root_, NOBODY, NOBODY)
                for f in files:
                    os.chown(os.path.join(root_, f), NOBODY, NOBODY)
        if tls:
            self.adm("gencert", "--cn", "localhost")
        self.passwords = {}
        for name, quota in (users or {"alice": None}).items():
            self.add_user(name, quota=quota)
        self.proc = None
        _live.append(self)

    # -- setup ----------------------------------------------------------
    def write_conf(self):
        with open(self.conf, "w") as f:
            for k, v in self.settings.items():
                f.write("%s = %s;\n" % (k, v))
        if self.as_user:
            os.chown(self.conf, NOBODY, NOBODY)

    def _wrap(self, argv):
        if self.as_user:
            return ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                    "--clear-groups", "--"] + argv
        return argv

    def adm(self, *args, input=None, check=True):
        p = subprocess.run(self._wrap([MOATADM, "-c", self.conf] + list(args)),
                           input=input, capture_output=True, text=True,
                           timeout=60)
        if check and p.returncode != 0:
            raise RuntimeError("moatadm %s: %s" % (args, p.stderr))
        return p

    def add_user(self, name, password=None, quota=None):
        password = password or ("pw-%s-%08x" % (name, random.getrandbits(32)))
        args = ["useradd", name, "--password-stdin"]
        if quota:
            args += ["--quota", str(quota)]
        self.adm(*args, input=password + "\n")
        self.passwords[name] = password
        return password

    def configtest(self, *opts):
        """moatftpd -t (and opts) on this daemon's file, as its user."""
        return subprocess.run(self._wrap([MOATFTPD, "-t"] + list(opts) +
                                         ["-c", self.conf]),
                              capture_output=True, text=True, timeout=60)

    def home(self, name):
        return os.path.join(self.home_root, name)

    # -- life cycle -------------------------------------------------------
    def start(self, debug=True, wait=True, pass_fds=()):
        argv = [MOATFTPD, "-f", "-c", self.conf] + (["-d"] if debug else [])
        for attempt in range(3):
            self.log = open(self.logfile, "ab")
            self.proc = subprocess.Popen(self._wrap(argv), stdout=self.log,
                                         stderr=subprocess.STDOUT,
                                         pass_fds=pass_fds)
            if not wait:
                break
            try:
                self.wait_ready()
                break
            except RuntimeError:
                if attempt == 2 or not self._port_taken():
                    raise
                self._new_port()
        self._trace()
        return self

    def _port_taken(self):
        """free_port() only found a port free: a test running beside this
        one may have bound it since. Only for the default listen line."""
        return self.settings["listen"] == '["127.0.0.1:%d"]' % self.port \
            and "Address already in use" in self.read_log()

    def _new_port(self):
        self.log.close()
        open(self.logfile, "wb").close()    # the failed start's lines go
        self.port = free_port()
        self.settings["listen"] = '["127.0.0.1:%d"]' % self.port
        self.write_conf()

    def _trace(self):
        """MOAT_STRACE=DIR: follow the daemon with strace -f, one file per
        process in DIR (a developer's aid: it shows which system calls each
        role makes, for the seccomp lists in privsep/seccomp.c)."""
        out = os.environ.get("MOAT_STRACE")
        self.tracer = None
        if not out:
            return
        os.makedirs(out, exist_ok=True)
        self.tracer = subprocess.Popen(
            ["strace", "-f", "-ff", "-qq", "-o",
             os.path.join(out, os.path.basename(self.dir)),
             "-p", str(self.proc.pid)], stderr=subprocess.DEVNULL)
        time.sleep(0.3)

    def wait_ready(self, timeout=30 * SLOW):
        """Wait for the master's "moatftpd started" line (logged once the
        listeners are bound), without using a connection slot; with a quiet
        log_level, fall back to a connect probe and let the master reap it."""
        deadline = time.time() + timeout
        quiet = self.settings.get("log_level", '"info"') in ('"err"', '"warn"')
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("moatftpd exited %d:\n%s" %
                                   (self.proc.returncode, self.read_log()))
            if not quiet and "moatftpd started" in self.read_log():
                return
            if quiet:
                try:
                    socket.create_connection(("127.0.0.1", self.port),
                                             0.2).close()
                    time.sleep(0.5)
                    return
                except OSError:
                    pass
            time.sleep(0.02)
        raise RuntimeError("moatftpd did not start:\n" + self.read_log())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "tracer", None) is not None:
            try:
                self.tracer.wait(5)  # it ends with the last tracee
            except subprocess.TimeoutExpired:
                self.tracer.terminate()
                self.tracer.wait()
            self.tracer = None
        if self.proc is not None:
            self.log.close()
        self.proc = None
        if self in _live:
            _live.remove(self)
        if os.environ.get("MOAT_KEEP"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def read_log(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def children(self, spares=False):
        """PIDs of every descendant of the master. Pre-forked spares (and a
        child that has no title of its own yet) only with spares=True."""
        kids, todo = [], [self.proc.pid]
        master = proc_title(self.proc.pid)
        while todo:
            pid = todo.pop()
            try:
                with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                    c = [int(x) for x in f.read().split()]
            except OSError:
                c = []
            if not spares:
                c = [k for k in c if b"[spare" not in proc_title(k) and
                     proc_title(k) != master]
            kids += c
            todo += c
        return kids

    def spares(self):
        """PIDs of the pre-forked spare monitors."""
        return [k for k in self.children(spares=True)
                if proc_title(k).startswith(b"moatftpd: [spare]")]

    # -- clients ----------------------------------------------------------
    def ftp(self, user="alice", password=None, login=True, timeout=15):
        if self.tls:
            f = ReuseFTP_TLS(context=self.ssl_context(), timeout=timeout)
        else:
            f = ftplib.FTP(timeout=timeout)
        f.encoding = "utf-8"
        f.connect("127.0.0.1", self.port)
        if login:
            f.login(user, password or self.passwords[user])
            if self.tls:
                f.prot_p()
        return f

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        return ctx

    def url(self, path="/"):
        return "ftp://127.0.0.1:%d%s" % (self.port, path)

    def curl(self, *args, user="alice", check=True):
        argv = ["curl", "-sS", "--max-time", "60",
                "-u", "%s:%s" % (user, self.passwords[user])]
        if self.tls:
            argv += ["--ssl-reqd", "--cacert", self.cert]
        p = subprocess.run(argv + list(args), capture_output=True, timeout=90)
        if check and p.returncode != 0:
            raise RuntimeError("curl %s: rc %d %s" % (args, p.returncode,
                                                      p.stderr))
        return p


class ReuseFTP_TLS(ftplib.FTP_TLS):
    """ftplib's FTP_TLS does not resume the control session on data
    connections; real clients (curl, lftp, FileZilla) do. This one does."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn,
                                            server_hostname=self.host,
                                            session=self.sock.session)
        return conn, size


def proc_status(pid):
    """/proc/PID/status as {field: [words]}."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            k, _, v = ln.partition(":")
            out[k] = v.split()
    return out


def proc_title(pid):
    """The process title (/proc/PID/cmdline), b"" once it is gone."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read()
    except OSError:
        return b""


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_file(path, size, seed=0):
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, 1 << 20)
            f.write(rnd.randbytes(n))
            left -= n
    return path


def put_file(d, name, size, seed, user="alice"):
    """A file the user owns in their home, written by the admin."""
    p = make_file(os.path.join(d.home(user), name), size, seed)
    st = os.stat(d.home(user))
    os.chown(p, st.st_uid, st.st_gid)
    return p


class Runner:
    """Runs test functions, prints one line each and the closing count."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def run(self, fn, *args):
        label = fn.__name__ + ("" if not args else repr(args))
        t0 = time.time()
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 - report every failure
            self.failed += 1
            import traceback
            print("FAIL %s.%s: %s" % (self.name, label, e))
            traceback.print_exc(file=sys.stdout)
        else:
            self.passed += 1
            print("ok   %s.%s (%.1fs)" % (self.name, label, time.time() - t0))
        sys.stdout.flush()

    def done(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed,
                                            self.failed))
        sys.exit(1 if self.failed else 0)


def expect_error(code, fn, *args):
    """Call an ftplib method and check it fails with this reply code."""
    try:
        fn(*args)
    except ftplib.all_errors as e:
        got = str(e)[:3]
        if got != str(code):
            raise AssertionError("expected %s, got %r" % (code, str(e)))
        return str(e)
    raise AssertionError("expected %s, got success" % code)
