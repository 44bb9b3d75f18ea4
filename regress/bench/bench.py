#!/usr/bin/python3
"""moatftpd against vsftpd and pure-ftpd, on loopback.  `make bench` runs it.

Installs what is missing (vsftpd, iperf3; pure-ftpd's binary is unpacked
from its .deb into build/bench, because Debian's vsftpd and pure-ftpd
packages conflict), starts every server on its own 127.0.0.1 port with the
same account (one yescrypt hash, made by `moatadm useradd` and given to a
system user with `chpasswd -e`, so a login costs the same everywhere), then
runs each figure BENCH_RUNS times, alternating the servers, and prints the
medians: one row per figure, the absolute number per server, then
moatftpd's ratio to each peer (above 1 means moatftpd does better, whether
the figure is a rate or a time).  The same table goes to BENCH_JSON.
Under each big transfer, two rows give the CPU seconds per GiB that curl
and the server spent on it (the server's from a control group holding all
its processes, so that a process nobody waits for is counted too).

Parameters (environment), full run defaults in brackets:
  BENCH_SIZE      big file for RETR/STOR/verify, bytes or 4M/1G   [1G]
  BENCH_SECS      length of the login run                         [20]
  BENCH_CLIENTS   parallel login clients                          [8]
  BENCH_SESSIONS  idle logged-in sessions                         [1000]
  BENCH_DIRFILES  files in the listed directory                   [10000]
  BENCH_UPLOADS   small uploads in one session                    [2000]
  BENCH_SMALL     size of each small upload                       [4096]
  BENCH_RUNS      runs per figure and server                      [3]
  BENCH_IDLE_RUNS runs of the idle-sessions figure (each logs in
                  BENCH_SESSIONS times per server)                [1]
  BENCH_IPERF_SECS  iperf3 run                                    [5]
  BENCH_SERVERS   which servers        [moatftpd vsftpd pure-ftpd]
  BENCH_FIGURES   which figures, numbers 1-10 [all]
  BENCH_JSON      where the JSON goes                   [build/bench.json]

Must run as root (system user, servers that chroot).  Standard library only.
"""
import atexit
import concurrent.futures
import datetime
import ftplib
import hashlib
import json
import multiprocessing
import os
import platform
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integ"))
import moatlib  # noqa: E402

REPO = moatlib.REPO
BUILD = moatlib.BUILD


def env(name, default):
    """A parameter; unset and empty (make exports empty ones) mean default."""
    return os.environ.get(name) or default


def size_env(name, default):
    v = env(name, default).strip().upper()
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(v[-1:], 1)
    return int(v.rstrip("KMG")) * mult


SIZE = size_env("BENCH_SIZE", "1G")
SECS = float(env("BENCH_SECS", "20"))
CLIENTS = int(env("BENCH_CLIENTS", "8"))
SESSIONS = int(env("BENCH_SESSIONS", "1000"))
DIRFILES = int(env("BENCH_DIRFILES", "10000"))
UPLOADS = int(env("BENCH_UPLOADS", "2000"))
SMALL = size_env("BENCH_SMALL", "4096")
RUNS = int(env("BENCH_RUNS", "3"))
IDLE_RUNS = int(env("BENCH_IDLE_RUNS", "1"))
IPERF_SECS = int(env("BENCH_IPERF_SECS", "5"))
SERVERS = env("BENCH_SERVERS", "moatftpd vsftpd pure-ftpd").split()
FIGS = env("BENCH_FIGURES", "all")
FIGS = set(range(1, 11)) if FIGS == "all" else \
    {int(x) for x in FIGS.replace(",", " ").split()}
JSON_OUT = env("BENCH_JSON", os.path.join(BUILD, "bench.json"))
PFDIR = os.path.join(BUILD, "bench", "pure-ftpd")
LIMIT = SESSIONS + 64           # max clients / per ip / per user
TMO = 120                       # seconds, any one client call


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def human(n):
    for unit, m in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= m and n % m == 0:
            return "%d %s" % (n // m, unit)
    return "%d B" % n


# ---- tools -----------------------------------------------------------------
def apt_install(pkgs):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log("installing " + " ".join(pkgs))
    subprocess.run(["apt-get", "update", "-q"], env=env,
                   stdout=subprocess.DEVNULL, check=False)
    subprocess.run(["apt-get", "install", "-y", "-q",
                    "--no-install-recommends"] + pkgs, env=env,
                   stdout=subprocess.DEVNULL, check=True)


def installed(pkg):
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                       capture_output=True, text=True)
    return "ok installed" in p.stdout


def pureftpd_binary():
    """pure-ftpd's binary without its package (it conflicts with vsftpd)."""
    for b in ("/usr/sbin/pure-ftpd", os.path.join(PFDIR, "usr/sbin/pure-ftpd")):
        if os.access(b, os.X_OK):
            break
    else:
        tmp = tempfile.mkdtemp(prefix="moatbench-deb-")
        os.chmod(tmp, 0o755)    # apt's download user must write here
        try:
            subprocess.run(["apt-get", "download", "pure-ftpd"], cwd=tmp,
                           capture_output=True, check=False)
            debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
            if not debs:
                subprocess.run(["apt-get", "update", "-q"],
                               stdout=subprocess.DEVNULL, check=False)
                subprocess.run(["apt-get", "download", "pure-ftpd"], cwd=tmp,
                               stdout=subprocess.DEVNULL, check=True)
                debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
            deb = os.path.join(tmp, debs[0])
            deps = subprocess.run(["dpkg-deb", "-f", deb, "Depends"],
                                  capture_output=True, text=True).stdout
            libs = []
            for alt in deps.split(","):
                name = alt.split("|")[0].split("(")[0].strip()
                if name.startswith("lib") and not installed(name):
                    libs.append(name)
            if libs:
                apt_install(libs)
            os.makedirs(PFDIR, exist_ok=True)
            subprocess.run(["dpkg", "-x", deb, PFDIR], check=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        b = os.path.join(PFDIR, "usr/sbin/pure-ftpd")
    ldd = subprocess.run(["ldd", b], capture_output=True, text=True).stdout
    if "not found" in ldd:
        raise RuntimeError("pure-ftpd needs libraries:\n" + ldd)
    return b


def ensure_tools():
    need = []
    if "vsftpd" in SERVERS and not os.access("/usr/sbin/vsftpd", os.X_OK):
        need.append("vsftpd")
    for tool, pkg in (("iperf3", "iperf3"), ("curl", "curl")):
        if shutil.which(tool) is None:
            need.append(pkg)
    if need:
        apt_install(need)
        if "vsftpd" in need:    # the package starts one on port 21
            subprocess.run(["service", "vsftpd", "stop"], capture_output=True)
    return pureftpd_binary() if "pure-ftpd" in SERVERS else None


# ---- processes -------------------------------------------------------------
def descendants(pid):
    out, todo = [pid], [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            kids = []
        out += kids
        todo += kids
    return out


TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(root):
    """CPU seconds of a server so far: its processes alive now, and all
    those they have reaped (utime, stime, cutime, cstime of each).  Misses
    a process whose parent exits without waiting for it (vsftpd's)."""
    total = 0
    for p in descendants(root):
        try:
            with open("/proc/%d/stat" % p) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        total += sum(int(x) for x in fields[11:15])
    return total / TICK


def cgroup_base():
    """Where to make a CPU-accounting control group: (directory, kind),
    cgroup v2 first, then v1's cpuacct; (None, None) without either."""
    v1 = None
    with open("/proc/self/mounts") as f:
        for ln in f:
            dev, mnt, fstype, opts = ln.split()[:4]
            if fstype == "cgroup2":
                return mnt, 2
            if fstype == "cgroup" and "cpuacct" in opts.split(","):
                v1 = mnt
    return (v1, 1) if v1 else (None, None)


class CpuMeter:
    """The CPU time of every process a server ever runs: a control group
    that its processes join at start and its children inherit.  Without
    cgroups, the process tree (tree_cpu)."""

    def __init__(self, name, root):
        self.root, self.dir = root, None
        base, self.kind = cgroup_base()
        if base is None:
            return
        d = os.path.join(base, "moatbench-%d-%s" % (os.getpid(), name))
        try:
            os.mkdir(d)
            for p in descendants(root):
                with open(os.path.join(d, "cgroup.procs"), "w") as f:
                    f.write(str(p))
            self.dir = d
        except OSError as e:
            log("no control group for %s (%s): CPU from the process tree"
                % (name, e))
            self.remove(d)

    def seconds(self):
        if self.dir is None:
            return tree_cpu(self.root)
        if self.kind == 1:
            with open(os.path.join(self.dir, "cpuacct.usage")) as f:
                return int(f.read()) / 1e9
        with open(os.path.join(self.dir, "cpu.stat")) as f:
            for ln in f:
                k, v = ln.split()
                if k == "usage_usec":
                    return int(v) / 1e6
        raise RuntimeError("no usage_usec in %s/cpu.stat" % self.dir)

    def source(self):
        return "cgroup v%d" % self.kind if self.dir else "process tree"

    def remove(self, d=None):
        d = d or self.dir
        if d is None:
            return
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                left = f.read().split()
            parent = os.path.join(os.path.dirname(d), "cgroup.procs")
            for p in left:
                with open(parent, "w") as f:
                    f.write(p)
            os.rmdir(d)
        except OSError as e:
            log("control group %s not removed: %s" % (d, e))


def settle(root, count, timeout=5.0):
    """Wait until the server is back to `count` processes (the session
    has exited and been reaped), so that its CPU is in the parent's."""
    deadline = time.time() + timeout
    while len(descendants(root)) > count and time.time() < deadline:
        time.sleep(0.02)


def pss_kib(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for ln in f:
                    if ln.startswith("Pss:"):
                        total += int(ln.split()[1])
                        break
        except OSError:
            pass
    return total


def wait_port(port, proc, what, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited %d" % (what, proc.returncode))
        try:
            s = socket.create_connection(("127.0.0.1", port), 0.5)
            s.settimeout(5)
            s.recv(4096)
            s.close()
            time.sleep(0.1)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on %d" % (what, port))


_procs = []


def stop_all():
    for p in _procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


# ---- servers ---------------------------------------------------------------
class Server:
    """One FTP server in two instances: plain, and TLS required."""
    name = ""
    mlsd = True

    def __init__(self, user, password):
        self.user, self.password = user, password

    def pids(self):
        return descendants(self.proc.pid)

    def home(self, tls=False):
        raise NotImplementedError

    def port(self, tls=False):
        return self.tls_port if tls else self.plain_port

    def root(self, tls=False):
        return self.procs[tls].pid


class Moat(Server):
    name = "moatftpd"

    def start(self):
        self.d = {}
        for tls in (False, True):
            d = moatlib.Daemon(root=True, tls=tls, extra={
                "max_clients": str(LIMIT), "max_per_ip": str(LIMIT),
                "max_per_user": str(LIMIT), "queue_max": str(LIMIT),
                "idle_timeout": "3600",
                "tls_require_reuse": "true"})
            d.add_user(self.user, password=self.password)
            d.start(debug=False)
            self.d[tls] = d
        self.plain_port, self.tls_port = self.d[False].port, self.d[True].port
        self.proc = self.d[False].proc
        self.cert, self.key = self.d[True].cert, self.d[True].key

    def pids(self):
        return descendants(self.d[False].proc.pid)

    def root(self, tls=False):
        return self.d[tls].proc.pid

    def home(self, tls=False):
        return self.d[tls].home(self.user)

    def user_hash(self):
        with open(os.path.join(self.d[False].dir, "users.db")) as f:
            for ln in f:
                if ln.startswith(self.user + ":"):
                    return ln.split(":")[1]
        raise RuntimeError("no hash for " + self.user)

    def stop(self):
        for d in self.d.values():
            d.stop()


class Vsftpd(Server):
    name = "vsftpd"
    mlsd = False

    def start(self, sysuser_home, cert, key, work):
        self.h = sysuser_home
        self.proc = None
        self.procs = {}
        for tls in (False, True):
            port = moatlib.free_port()
            base = random.randrange(20000, 60000, 200)
            conf = os.path.join(work, "vsftpd-%s.conf" % ("tls" if tls else
                                                          "plain"))
            lines = [
                "listen=YES", "listen_ipv6=NO", "background=NO",
                "listen_address=127.0.0.1", "listen_port=%d" % port,
                "anonymous_enable=NO", "local_enable=YES", "write_enable=YES",
                "local_umask=022", "chroot_local_user=YES",
                "allow_writeable_chroot=YES", "pam_service_name=vsftpd",
                "userlist_enable=NO", "pasv_min_port=%d" % base,
                "pasv_max_port=%d" % (base + 199), "max_clients=%d" % LIMIT,
                "max_per_ip=%d" % LIMIT, "idle_session_timeout=3600",
                "xferlog_enable=YES",
                "xferlog_file=%s/vsftpd-xfer-%d.log" % (work, port),
                "vsftpd_log_file=%s/vsftpd-%d.log" % (work, port),
                "delay_failed_login=0", "dirlist_enable=YES"]
            if tls:
                lines += ["ssl_enable=YES", "rsa_cert_file=" + cert,
                          "rsa_private_key_file=" + key,
                          "force_local_logins_ssl=YES",
                          "force_local_data_ssl=YES", "ssl_ciphers=HIGH",
                          "require_ssl_reuse=YES"]
            with open(conf, "w") as f:
                f.write("\n".join(lines) + "\n")
            p = subprocess.Popen(["/usr/sbin/vsftpd", conf],
                                 stdout=subprocess.DEVNULL,
                                 stderr=open(os.path.join(work, "vsftpd.err"),
                                             "ab"))
            _procs.append(p)
            wait_port(port, p, "vsftpd")
            self.procs[tls] = p
            if tls:
                self.tls_port = port
            else:
                self.plain_port = port
                self.proc = p

    def home(self, tls=False):
        return self.h

    def stop(self):
        for p in self.procs.values():
            p.terminate()
            p.wait(10)


class PureFtpd(Server):
    name = "pure-ftpd"

    def start(self, binary, sysuser_home, cert, key, work):
        self.h = sysuser_home
        self.procs = {}
        pem = os.path.join(work, "pure-ftpd.pem")
        with open(pem, "w") as f:
            f.write(open(key).read() + open(cert).read())
        os.chmod(pem, 0o600)
        # pure-ftpd lowers -c to half the passive port range ("so we don't
        # run out of ports", ftpd.c): 200 ports made it refuse the 101st
        # login of figure 6, so it gets two ports per allowed client
        span = min(max(200, 2 * LIMIT), 60000)
        for tls in (False, True):
            port = moatlib.free_port()
            base = random.randrange(min(20000, 65536 - span), 65536 - span + 1)
            argv = [binary, "-S", "127.0.0.1,%d" % port, "-l", "unix", "-E",
                    "-A", "-H", "-p", "%d:%d" % (base, base + span - 1),
                    "-c", str(LIMIT), "-C", str(LIMIT), "-I", "60",
                    "-u", "1", "-U", "133:022",
                    "-O", "clf:%s/pure-xfer-%d.log" % (work, port)]
            argv += ["-Y", "3", "-2", pem, "-J", "HIGH"] if tls else \
                ["-Y", "0"]
            p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                 stderr=open(os.path.join(work, "pure.err"),
                                             "ab"))
            _procs.append(p)
            wait_port(port, p, "pure-ftpd")
            self.procs[tls] = p
            if tls:
                self.tls_port = port
            else:
                self.plain_port = port
                self.proc = p

    def home(self, tls=False):
        return self.h

    def stop(self):
        for p in self.procs.values():
            p.terminate()
            p.wait(10)


class SysUser:
    def __init__(self, name, pwhash, home):
        self.name, self.home = name, home
        subprocess.run(["useradd", "-M", "-d", home, "-s", "/bin/bash",
                        "-U", name], check=True)
        subprocess.run(["chpasswd", "-e"], input="%s:%s\n" % (name, pwhash),
                       text=True, check=True)
        os.makedirs(home, exist_ok=True)
        self.uid = int(subprocess.run(["id", "-u", name], capture_output=True,
                                      text=True).stdout)
        self.gid = int(subprocess.run(["id", "-g", name], capture_output=True,
                                      text=True).stdout)
        os.chown(home, self.uid, self.gid)
        os.chmod(home, 0o755)

    def remove(self):
        subprocess.run(["userdel", self.name], capture_output=True)


# ---- FTP clients -----------------------------------------------------------
def resp(f):
    """Read one reply (multi-line aware); returns (code, last line)."""
    ln = f.readline(8192)
    if not ln:
        raise EOFError("closed")
    code = ln[:3]
    if ln[3:4] == b"-":
        while True:
            ln = f.readline(8192)
            if not ln:
                raise EOFError("closed")
            if ln[:3] == code and ln[3:4] == b" ":
                break
    return int(code), ln


def login(port, user, password, quit_=True):
    s = socket.create_connection(("127.0.0.1", port), TMO)
    f = s.makefile("rb")
    steps = [(None, 220), ("USER " + user, 331), ("PASS " + password, 230)]
    if quit_:
        steps.append(("QUIT", 221))
    for cmd, want in steps:
        if cmd:
            s.sendall(cmd.encode() + b"\r\n")
        code, ln = resp(f)
        if code != want:
            raise RuntimeError("%s: got %r" % (cmd, ln))
    if quit_:
        f.close()
        s.close()
        return None
    return s, f


def curl(srv, tls, *args):
    argv = ["curl", "-sS", "--max-time", "600", "-u",
            "%s:%s" % (srv.user, srv.password), "-w",
            "%{time_pretransfer} %{time_total} %{size_download} "
            "%{size_upload}\n"]
    if tls:
        argv += ["--ssl-reqd", "-k"]
    root, meter = srv.root(tls), srv.meter[tls]
    count = len(descendants(root))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sbefore = meter.seconds()
    p = subprocess.run(argv + list(args), capture_output=True, text=True,
                       timeout=900)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError("curl %s: rc %d %s" % (" ".join(args),
                                                 p.returncode, p.stderr))
    settle(root, count)
    CTX.cpu = (after.ru_utime + after.ru_stime - before.ru_utime -
               before.ru_stime, meter.seconds() - sbefore)
    pre, tot, down, up = p.stdout.split()[-4:]
    return float(pre), float(tot), int(down), int(up)


def url(srv, tls, path):
    return "ftp://127.0.0.1:%d/%s" % (srv.port(tls), path)


# ---- figures ---------------------------------------------------------------
class Ctx:
    pass


def with_cpu(key, rate):
    """A transfer's rate, and the CPU seconds per GiB that the client
    (curl) and the server (all its processes) spent on it."""
    gib = SIZE / float(1 << 30)
    return {key: rate, key + "_ccpu": CTX.cpu[0] / gib,
            key + "_scpu": CTX.cpu[1] / gib}


def fig_retr(srv, tls):
    pre, tot, down, _ = curl(srv, tls, "-o", "/dev/null",
                             url(srv, tls, "big.bin"))
    if down != SIZE:
        raise RuntimeError("RETR got %d of %d bytes" % (down, SIZE))
    return with_cpu("retr_tls" if tls else "retr_plain",
                    SIZE / (tot - pre) / 1e6)


def warm_page_cache():
    """Write and drop a file as large as the upload, so that the upload
    gets page-cache memory the (virtual) machine has already touched: in a
    VM that returns free memory to its host, the first touch of a page
    costs several times the copy, and whichever server came first after a
    pause paid for it."""
    p = os.path.join(CTX.work, "warm")
    buf = bytes(1 << 20)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(SIZE >> 20):
            os.write(fd, buf)
    finally:
        os.close(fd)
        os.unlink(p)


def fig_stor(srv, tls):
    target = os.path.join(srv.home(tls), "up.bin")
    warm_page_cache()
    pre, tot, _, up = curl(srv, tls, "-T", CTX.big, url(srv, tls, "up.bin"))
    size = os.path.getsize(target)
    os.unlink(target)
    if up != SIZE or size != SIZE:
        raise RuntimeError("STOR sent %d, stored %d of %d" % (up, size, SIZE))
    return with_cpu("stor_tls" if tls else "stor_plain",
                    SIZE / (tot - pre) / 1e6)


def _login_worker(port, user, password, until, q):
    n = 0
    try:
        while time.time() < until:
            login(port, user, password)
            n += 1
        q.put(("ok", n))
    except Exception as e:  # noqa: BLE001 - reported to the parent
        q.put(("err", "%s after %d logins" % (e, n)))


def _greet_worker(port, until, q):
    lat = []
    try:
        # at least one greeting: a loaded machine may start this late
        while not lat or time.time() < until:
            t0 = time.perf_counter()
            s = socket.create_connection(("127.0.0.1", port), TMO)
            f = s.makefile("rb")
            code, _ = resp(f)
            lat.append((time.perf_counter() - t0) * 1000)
            if code != 220:
                raise RuntimeError("greeting %d" % code)
            s.sendall(b"QUIT\r\n")
            try:
                resp(f)
            except (OSError, EOFError):
                pass
            f.close()
            s.close()
            time.sleep(0.02)
        q.put(("ok", lat))
    except Exception as e:  # noqa: BLE001
        q.put(("err", str(e)))


def fig_logins(srv):
    """Logins per second by CLIENTS processes for SECS, and the time to
    the greeting measured meanwhile by one more process."""
    q = multiprocessing.Queue()
    start = time.time() + 0.3
    until = start + SECS
    ps = [multiprocessing.Process(target=_login_worker,
                                  args=(srv.plain_port, srv.user,
                                        srv.password, until, q))
          for _ in range(CLIENTS)]
    ps.append(multiprocessing.Process(target=_greet_worker,
                                      args=(srv.plain_port, until, q)))
    meter = srv.meter[False]
    cpu0 = meter.seconds()
    for p in ps:
        p.start()
    res = [q.get(timeout=SECS + TMO) for _ in ps]
    t_end = time.time()
    cpu = meter.seconds() - cpu0
    for p in ps:
        p.join(30)
    errs = [r[1] for r in res if r[0] == "err"]
    if errs:
        raise RuntimeError("; ".join(errs))
    lat = [x for r in res if isinstance(r[1], list) for x in r[1]]
    n = sum(r[1] for r in res if isinstance(r[1], int))
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return {"logins": n / max(t_end - start, SECS),
            "login_cpu": cpu * 1000 / max(n, 1),
            "greet50": statistics.median(lat), "greet99": p99}


def fig_idle(srv):
    base = pss_kib(srv.pids())
    socks = []

    def one(_):
        return login(srv.plain_port, srv.user, srv.password, quit_=False)

    try:
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            for r in ex.map(one, range(SESSIONS)):
                socks.append(r)
        time.sleep(1.0)
        pids = srv.pids()
        total = pss_kib(pids)
    finally:
        for s, f in socks:
            try:
                s.sendall(b"QUIT\r\n")
            except OSError:
                pass
            f.close()
            s.close()
    CTX.idle_detail.setdefault(srv.name, []).append(
        {"total_kib": total, "baseline_kib": base, "processes": len(pids)})
    # wait for the server to reap them, so the next figure starts clean
    deadline = time.time() + 30
    while time.time() < deadline and len(srv.pids()) > len(CTX.base_pids[
            srv.name]) + 2:
        time.sleep(0.2)
    return total / SESSIONS


def _list_once(srv, verb):
    ftp = ftplib.FTP(timeout=TMO)
    ftp.connect("127.0.0.1", srv.plain_port)
    ftp.login(srv.user, srv.password)
    ftp.cwd("many")
    t0 = time.perf_counter()
    try:
        conn = ftp.transfercmd(verb)
    except ftplib.error_perm:
        ftp.close()
        return None             # no MLSD
    data = bytearray()
    while True:
        b = conn.recv(1 << 18)
        if not b:
            break
        data += b
    conn.close()
    ftp.voidresp()
    ms = (time.perf_counter() - t0) * 1000
    ftp.quit()
    lines = data.count(b"\n")
    if lines < DIRFILES:
        raise RuntimeError("%s gave %d lines for %d files" % (verb, lines,
                                                             DIRFILES))
    return ms


def fig_list(srv):
    return {"list": _list_once(srv, "LIST"),
            "mlsd": _list_once(srv, "MLSD") if srv.mlsd else None}


def fig_small(srv):
    """UPLOADS small STORs in one session, each with its own EPSV/PASV and
    data connection. Python's ftplib, not curl: curl 7.88, when the 229
    reply is already there as it polls, sleeps up to 1 s before it
    connects, which made the fastest server look the slowest."""
    updir = os.path.join(srv.home(), "up")
    for fn in os.listdir(updir):
        os.unlink(os.path.join(updir, fn))
    w = len(str(UPLOADS))
    names = ["f" + str(i).zfill(w) for i in range(1, UPLOADS + 1)]
    ftp = ftplib.FTP(timeout=TMO)
    ftp.connect("127.0.0.1", srv.plain_port)
    ftp.login(srv.user, srv.password)
    ftp.voidcmd("TYPE I")
    t0 = time.perf_counter()
    for n in names:
        with open(os.path.join(CTX.smalldir, n), "rb") as f:
            blob = f.read()
        conn = ftp.transfercmd("STOR up/" + n)
        conn.sendall(blob)
        conn.close()
        ftp.voidresp()
    dt = time.perf_counter() - t0
    ftp.quit()
    n = len(os.listdir(updir))
    if n != UPLOADS:
        raise RuntimeError("%d of %d small files arrived" % (n, UPLOADS))
    return UPLOADS / dt


def fig_verify(srv, algo="md5"):
    """Our client's verified put (digest `algo`) against a plain upload,
    same file, same server; both timed from start to exit, login
    included."""
    home = srv.home()
    env = dict(os.environ, MOATFTP_PASSWORD=srv.password, HOME=CTX.work)
    for fn in ("verify.bin", ".verify.bin.moatpart", "plain.bin"):
        if os.path.exists(os.path.join(home, fn)):
            os.unlink(os.path.join(home, fn))
    warm_page_cache()           # as for figure 2, before each upload
    meter = srv.meter[False]
    c0, s0 = resource.getrusage(resource.RUSAGE_CHILDREN), meter.seconds()
    t0 = time.perf_counter()
    p = subprocess.run([moatlib.MOATFTP, "-q", "--tls=off", "-P",
                        str(srv.plain_port), "--hash=" + algo,
                        "%s@127.0.0.1" % srv.user,
                        "put " + CTX.verify_src], env=env,
                       capture_output=True, text=True, timeout=900)
    t_put = time.perf_counter() - t0
    settle(srv.root(False), len(CTX.base_pids["moatftpd"]))
    c1, s1 = resource.getrusage(resource.RUSAGE_CHILDREN), meter.seconds()
    if p.returncode != 0 or os.path.getsize(os.path.join(home,
                                                          "verify.bin")) != SIZE:
        raise RuntimeError("moatftp put: rc %d %s" % (p.returncode, p.stderr))
    # The unverified upload: Python's ftplib with 256 KiB blocks. Not
    # curl -T: curl 7.88 may sleep up to 1 s between the 229 reply and the
    # data connection (see fig_small), which would flatter the ratio.
    warm_page_cache()
    u0, s2 = resource.getrusage(resource.RUSAGE_SELF), meter.seconds()
    t0 = time.perf_counter()
    ftp = ftplib.FTP(timeout=TMO)
    ftp.connect("127.0.0.1", srv.plain_port)
    ftp.login(srv.user, srv.password)
    with open(CTX.verify_src, "rb") as f:
        ftp.storbinary("STOR plain.bin", f, blocksize=1 << 18)
    ftp.quit()
    t_plain = time.perf_counter() - t0
    settle(srv.root(False), len(CTX.base_pids["moatftpd"]))
    u1, s3 = resource.getrusage(resource.RUSAGE_SELF), meter.seconds()

    def cpu(a, b):
        return b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime
    CTX.verify_detail.append({
        "hash": algo, "put_s": t_put, "plain_s": t_plain,
        "put_client_cpu_s": cpu(c0, c1), "put_server_cpu_s": s1 - s0,
        "plain_client_cpu_s": cpu(u0, u1), "plain_server_cpu_s": s3 - s2})
    for fn in ("verify.bin", "plain.bin"):
        os.unlink(os.path.join(home, fn))
    return t_put / t_plain


def fig_verify_get(srv):
    """Our client's verified get of big.bin against curl -o /dev/null of the
    same file plus one local MD5 pass over it (what an unverified download
    followed by a manual check costs). Both timed from start to exit."""
    env = dict(os.environ, MOATFTP_PASSWORD=srv.password, HOME=CTX.work)
    dest = os.path.join(CTX.work, "getdir")
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    t0 = time.perf_counter()
    p = subprocess.run([moatlib.MOATFTP, "-q", "--tls=off", "-P",
                        str(srv.plain_port), "%s@127.0.0.1" % srv.user,
                        "get big.bin " + dest], env=env,
                       capture_output=True, text=True, timeout=900)
    t_get = time.perf_counter() - t0
    got = os.path.join(dest, "big.bin")
    if p.returncode != 0 or os.path.getsize(got) != SIZE:
        raise RuntimeError("moatftp get: rc %d %s" % (p.returncode, p.stderr))
    t0 = time.perf_counter()
    subprocess.run(["curl", "-sS", "--max-time", "900", "-o", "/dev/null",
                    "-u", "%s:%s" % (srv.user, srv.password),
                    "ftp://127.0.0.1:%d/big.bin" % srv.plain_port],
                   check=True, timeout=900)
    h = hashlib.md5()
    with open(got, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    t_plain = time.perf_counter() - t0
    shutil.rmtree(dest, ignore_errors=True)
    return t_get / t_plain


def iperf():
    port = moatlib.free_port()
    s = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p",
                          str(port)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _procs.append(s)
    try:
        for _ in range(50):
            time.sleep(0.1)
            p = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port),
                                "-t", str(IPERF_SECS), "-J"],
                               capture_output=True, text=True,
                               timeout=IPERF_SECS + 60)
            if p.returncode == 0:
                j = json.loads(p.stdout)
                return j["end"]["sum_received"]["bits_per_second"] / 8e6
        return None
    finally:
        if s.poll() is None:
            s.kill()
        s.wait()


# ---- table -----------------------------------------------------------------
ROWS = [
    # key, figure number, label, unit, higher is better
    ("retr_plain", 1, "RETR %s plain" % human(SIZE), "MB/s", True),
    ("retr_plain_ccpu", 1, "  curl CPU, RETR plain", "s/GiB", False),
    ("retr_plain_scpu", 1, "  server CPU, RETR plain", "s/GiB", False),
    ("stor_plain", 2, "STOR %s plain" % human(SIZE), "MB/s", True),
    ("stor_plain_ccpu", 2, "  curl CPU, STOR plain", "s/GiB", False),
    ("stor_plain_scpu", 2, "  server CPU, STOR plain", "s/GiB", False),
    ("retr_tls", 3, "RETR %s TLS" % human(SIZE), "MB/s", True),
    ("retr_tls_ccpu", 3, "  curl CPU, RETR TLS", "s/GiB", False),
    ("retr_tls_scpu", 3, "  server CPU, RETR TLS", "s/GiB", False),
    ("stor_tls", 3, "STOR %s TLS" % human(SIZE), "MB/s", True),
    ("stor_tls_ccpu", 3, "  curl CPU, STOR TLS", "s/GiB", False),
    ("stor_tls_scpu", 3, "  server CPU, STOR TLS", "s/GiB", False),
    ("logins", 4, "logins/s, %d clients, %gs" % (CLIENTS, SECS), "1/s", True),
    ("login_cpu", 4, "  server CPU per login", "ms", False),
    ("greet50", 5, "time to 220 under 4, p50", "ms", False),
    ("greet99", 5, "time to 220 under 4, p99", "ms", False),
    ("idle", 6, "%d idle sessions, PSS per session" % SESSIONS, "KiB",
     False),
    ("list", 7, "LIST of %d files" % DIRFILES, "ms", False),
    ("mlsd", 7, "MLSD of %d files" % DIRFILES, "ms", False),
    ("small", 8, "%d STOR of %s, one session" % (UPLOADS, human(SMALL)),
     "files/s", True),
    ("verify", 9, "moatftp verified put / plain STOR, %s" % human(SIZE),
     "time ratio", False),
    ("verify_sha256", 9, "  the same with --hash=sha256", "time ratio",
     False),
    ("verify_get", 10, "moatftp verified get / curl + md5, %s" % human(SIZE),
     "time ratio", False),
]


def fmt(v):
    if v is None:
        return "-"
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def table(results, servers):
    peers = [s for s in servers if s != "moatftpd"]
    head = ["figure", "unit"] + servers + \
        ["moat/" + p for p in peers if "moatftpd" in servers]
    rows = []
    out = []
    for key, num, label, unit, higher in ROWS:
        if num not in FIGS:
            continue
        vals = results.get(key, {})
        med = {s: (statistics.median(vals[s]) if vals.get(s) else None)
               for s in servers}
        ratio = {}
        for p in peers:
            m, o = med.get("moatftpd"), med.get(p)
            ratio[p] = None if not m or not o else (m / o if higher else o / m)
        rows.append([label, unit] + [fmt(med[s]) for s in servers] +
                    [fmt(ratio[p]) for p in peers if "moatftpd" in servers])
        out.append({"key": key, "figure": num, "label": label, "unit": unit,
                    "higher_is_better": higher, "median": med,
                    "runs": {s: vals.get(s, []) for s in servers},
                    "ratio": ratio})
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(head, widths)) +
             " |", "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(
            (c.ljust(w) if i < 2 else c.rjust(w))
            for i, (c, w) in enumerate(zip(r, widths))) + " |")
    return "\n".join(lines), out


# ---- main ------------------------------------------------------------------
def make_file(path, size):
    chunk = os.urandom(1 << 20)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, len(chunk))
            f.write(chunk[:n])
            left -= n
            if left and left % (64 << 20) == 0:
                chunk = os.urandom(1 << 20)


def populate(home, uid, gid, need_many=True):
    dst = os.path.join(home, "big.bin")
    shutil.copyfile(CTX.big, dst)
    os.chown(dst, uid, gid)
    for d in ("up", "many") if need_many else ():
        p = os.path.join(home, d)
        os.makedirs(p, exist_ok=True)
        os.chown(p, uid, gid)
    if need_many:
        many = os.path.join(home, "many")
        for i in range(DIRFILES):
            fn = os.path.join(many, "file-%05d.dat" % i)
            with open(fn, "wb") as f:
                f.write(b"x" * (i % 512))
            os.chown(fn, uid, gid)


def owner(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid


CTX = Ctx()


def main():
    if os.geteuid() != 0:
        sys.exit("bench: run as root (it adds a system user and starts "
                 "servers that chroot)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(LIMIT * 4 + 256, 4096)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want),
                                                max(hard, want)))
    pf = ensure_tools()
    CTX.work = tempfile.mkdtemp(prefix="moatbench-")
    os.chmod(CTX.work, 0o755)
    CTX.idle_detail, CTX.verify_detail = {}, []
    user = "mb%06x" % random.getrandbits(24)
    password = "bench-%08x" % random.getrandbits(32)
    sysuser = None
    servers = {}
    t_start = time.time()
    try:
        log("test files in " + CTX.work)
        CTX.big = os.path.join(CTX.work, "big.bin")
        make_file(CTX.big, SIZE)
        vdir = os.path.join(CTX.work, "v")
        os.makedirs(vdir)
        CTX.verify_src = os.path.join(vdir, "verify.bin")
        os.link(CTX.big, CTX.verify_src)
        CTX.smalldir = os.path.join(CTX.work, "small")
        os.makedirs(CTX.smalldir)
        w = len(str(UPLOADS))
        blob = os.urandom(SMALL)
        for i in range(1, UPLOADS + 1):
            with open(os.path.join(CTX.smalldir, "f" + str(i).zfill(w)),
                      "wb") as f:
                f.write(blob)
        for fn in (CTX.work, vdir, CTX.smalldir):
            os.chmod(fn, 0o755)

        moat = Moat(user, password)
        moat.start()
        servers["moatftpd"] = moat
        for tls in (False, True):
            h = moat.home(tls)
            populate(h, *owner(h), need_many=not tls)
        if "vsftpd" in SERVERS or "pure-ftpd" in SERVERS:
            sysuser = SysUser(user, moat.user_hash(),
                              os.path.join(CTX.work, "syshome"))
            populate(sysuser.home, sysuser.uid, sysuser.gid)
        if "vsftpd" in SERVERS:
            v = Vsftpd(user, password)
            v.start(sysuser.home, moat.cert, moat.key, CTX.work)
            servers["vsftpd"] = v
        if "pure-ftpd" in SERVERS:
            p = PureFtpd(user, password)
            p.start(pf, sysuser.home, moat.cert, moat.key, CTX.work)
            servers["pure-ftpd"] = p
        order = [s for s in SERVERS if s in servers]
        for n in order:
            servers[n].meter = {tls: CpuMeter("%s-%s" % (n, "tls" if tls
                                                        else "plain"),
                                              servers[n].root(tls))
                                for tls in (False, True)}
        CTX.base_pids = {n: servers[n].pids() for n in order}
        # every server must take this login before we measure anything
        for n in order:
            for tls in (False,):
                login(servers[n].port(tls), user, password)

        results = {}
        errors = {}

        def record(key, name, v):
            if v is not None:
                results.setdefault(key, {}).setdefault(name, []).append(v)

        plan = []
        if 1 in FIGS:
            plan.append(("retr_plain", lambda s: fig_retr(s, False)))
        if 2 in FIGS:
            plan.append(("stor_plain", lambda s: fig_stor(s, False)))
        if 3 in FIGS:
            plan.append(("retr_tls", lambda s: fig_retr(s, True)))
            plan.append(("stor_tls", lambda s: fig_stor(s, True)))
        if 4 in FIGS or 5 in FIGS:
            plan.append(("logins", fig_logins))
        if 6 in FIGS:
            plan.append(("idle", fig_idle))
        if 7 in FIGS:
            plan.append(("list", fig_list))
        if 8 in FIGS:
            plan.append(("small", fig_small))
        for key, fn in plan:
            for r in range(IDLE_RUNS if key == "idle" else RUNS):
                rot = order[r % len(order):] + order[:r % len(order)]
                for name in rot:
                    t0 = time.time()
                    try:
                        v = fn(servers[name])
                    except Exception as e:  # noqa: BLE001 - in the table
                        errors.setdefault(key, {})[name] = str(e)[:500]
                        log("%s %s run %d: FAILED %s" % (key, name, r + 1,
                                                         str(e)[:300]))
                        continue
                    if isinstance(v, dict):
                        for k, x in v.items():
                            record(k, name, x)
                    else:
                        record(key, name, v)
                    log("%s %s run %d: %s (%.1fs)" % (key, name, r + 1,
                                                       v, time.time() - t0))
        if 9 in FIGS:
            for r in range(RUNS):
                for key, algo in (("verify", "md5"),
                                  ("verify_sha256", "sha256")):
                    try:
                        record(key, "moatftpd", fig_verify(moat, algo))
                    except Exception as e:  # noqa: BLE001
                        errors.setdefault(key, {})["moatftpd"] = \
                            str(e)[:500]
                        log("%s run %d: FAILED %s" % (key, r + 1, e))
        if 10 in FIGS:
            for r in range(RUNS):
                try:
                    record("verify_get", "moatftpd", fig_verify_get(moat))
                except Exception as e:  # noqa: BLE001
                    errors.setdefault("verify_get", {})["moatftpd"] = \
                        str(e)[:500]
                    log("verify_get run %d: FAILED %s" % (r + 1, e))
        loop = iperf()

        text, rows = table(results, order)
        now = datetime.datetime.now(datetime.timezone.utc)
        params = {"BENCH_SIZE": SIZE, "BENCH_SECS": SECS,
                  "BENCH_CLIENTS": CLIENTS, "BENCH_SESSIONS": SESSIONS,
                  "BENCH_DIRFILES": DIRFILES, "BENCH_UPLOADS": UPLOADS,
                  "BENCH_SMALL": SMALL, "BENCH_RUNS": RUNS,
                  "BENCH_IDLE_RUNS": IDLE_RUNS}
        head = ("moatftpd benchmark, %s, %s, %d CPUs, medians of %d runs"
                % (now.strftime("%Y-%m-%d %H:%M UTC"), platform.node(),
                   os.cpu_count(), RUNS))
        print(head)
        print(text)
        print("loopback ceiling (iperf3 -c 127.0.0.1, %d s): %s MB/s"
              % (IPERF_SECS, fmt(loop)))
        print("server CPU: all processes of each server, from its %s"
              % servers["moatftpd"].meter[False].source())
        if errors:
            for key, e in errors.items():
                for name, msg in e.items():
                    print("error: %s %s: %s" % (key, name, msg))
        doc = {"title": head, "date": now.isoformat(), "host": platform.node(),
               "cpus": os.cpu_count(), "params": params,
               "servers": order, "figures": rows, "loopback_MBps": loop,
               "server_cpu_from": {n: servers[n].meter[False].source()
                                   for n in order},
               "idle_detail": CTX.idle_detail,
               "verify_detail": CTX.verify_detail, "errors": errors,
               "seconds": time.time() - t_start, "table": text}
        os.makedirs(os.path.dirname(os.path.abspath(JSON_OUT)), exist_ok=True)
        with open(JSON_OUT, "w") as f:
            json.dump(doc, f, indent=1)
        print("json: " + JSON_OUT)
    finally:
        for s in servers.values():
            try:
                s.stop()
            except Exception:  # noqa: BLE001 - keep cleaning up
                pass
            for m in getattr(s, "meter", {}).values():
                m.remove()
        stop_all()
        if sysuser:
            sysuser.remove()
        shutil.rmtree(CTX.work, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    main()
