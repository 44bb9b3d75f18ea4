"""Running as a Unix daemon: pidfile and a second instance, SIGHUP (limits,
listeners, a bad file), SIGTERM with a transfer in flight, SIGUSR1 and the
xferlog, `moatadm who` and `kick`, PROXY protocol v1/v2, process titles,
and the init script driven for real."""
import ftplib
import io
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from moatlib import (SLOW, Daemon, Runner, MOATFTPD, REPO, free_port,  # noqa: E402
                     make_file)

INIT = os.path.join(REPO, "conf", "moatftpd.init")


def wait_for(cond, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            v = cond()
        except OSError:     # not listening yet, say
            v = None
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive for our purposes
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def title(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().split(b"\0")[0].decode().strip()


def read_pid(path):
    with open(path) as f:
        return int(f.read().strip())


def banner(port, header=b"", timeout=8):
    """Connect, send header, return what the server sends first ("" if it
    closes without a word)."""
    s = socket.create_connection(("127.0.0.1", port), timeout)
    if header:
        s.sendall(header)
    data = b""
    try:
        while not data.endswith(b"\n"):
            try:
                b = s.recv(512)
            except ConnectionResetError:
                b = b""
            if not b:
                break
            data += b
    finally:
        s.close()
    return data.decode("utf-8", "replace")


class SlowStor:
    """STOR in a thread, CHUNK bytes every PAUSE seconds, NCHUNKS times."""

    def __init__(self, d, name, nchunks=40, chunk=64 * 1024, pause=0.05):
        self.f = d.ftp()
        self.name, self.n, self.chunk, self.pause = name, nchunks, chunk, pause
        self.result = None
        self.started = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()
        assert self.started.wait(10), "STOR did not start"

    def run(self):
        try:
            self.f.voidcmd("TYPE I")
            conn = self.f.transfercmd("STOR " + self.name)
            self.started.set()
            for _ in range(self.n):
                conn.sendall(b"x" * self.chunk)
                time.sleep(self.pause)
            conn.close()
            self.result = self.f.voidresp()
        except Exception as e:  # noqa: BLE001 - the test looks at it
            self.result = e
        finally:
            self.started.set()

    def join(self, timeout=60):
        self.t.join(timeout)
        assert not self.t.is_alive(), "STOR thread hung"
        return self.result


# -- pidfile, daemon(3), a second instance ---------------------------------

def pidfile_and_second_instance():
    d = Daemon()
    pidfile = os.path.join(d.dir, "moatftpd.pid")
    try:
        p = subprocess.run([MOATFTPD, "-c", d.conf], capture_output=True,
                           text=True, timeout=20)
        assert p.returncode == 0, p.stderr
        pid = wait_for(lambda: os.path.exists(pidfile) and
                       os.path.getsize(pidfile) > 0 and read_pid(pidfile),
                       what="pidfile")
        assert alive(pid)
        assert open("/proc/%d/comm" % pid).read() == "moatftpd\n"
        assert title(pid) == "moatftpd: master", title(pid)
        assert os.path.exists(pidfile + ".sb")
        assert os.stat(pidfile + ".sb").st_mode & 0o777 == 0o600
        wait_for(lambda: banner(d.port).startswith("220"), what="220")
        # a second instance is refused, naming the first
        for extra in ([], ["-f"]):
            q = subprocess.run([MOATFTPD, "-c", d.conf] + extra,
                               capture_output=True, text=True, timeout=20)
            assert q.returncode != 0, q
            assert "already running with pid %d" % pid in q.stderr, q.stderr
        assert read_pid(pidfile) == pid
        assert banner(d.port).startswith("220")
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not alive(pid), what="the master to exit")
        assert not os.path.exists(pidfile), "pidfile left behind"
        assert not os.path.exists(pidfile + ".sb"), "scoreboard left"
    finally:
        if os.path.exists(pidfile):
            try:
                os.kill(read_pid(pidfile), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        d.stop()


# -- SIGHUP ----------------------------------------------------------------

def hup_max_clients_live_transfer():
    d = Daemon(extra={"max_clients": "3", "queue_max": "0"}).start()
    try:
        st = SlowStor(d, "live.bin", nchunks=40, pause=0.05)
        assert banner(d.port).startswith("220")
        d.settings["max_clients"] = "1"
        d.write_conf()
        d.signal(signal.SIGHUP)
        wait_for(lambda: "reloaded" in d.read_log(), what="reload")
        got = banner(d.port)
        assert got.startswith("421 Too many users"), got
        r = st.join()
        assert isinstance(r, str) and r.startswith("226"), r
        size = os.path.getsize(os.path.join(d.home("alice"), "live.bin"))
        assert size == 40 * 64 * 1024, size
        # and back up again
        d.settings["max_clients"] = "5"
        d.write_conf()
        d.signal(signal.SIGHUP)
        wait_for(lambda: d.read_log().count("reloaded") >= 2, what="reload")
        wait_for(lambda: banner(d.port).startswith("220"), what="220")
    finally:
        d.stop()


def hup_listeners_and_bad_config():
    d = Daemon().start()
    try:
        old, new = d.port, free_port()
        d.settings["listen"] = '["127.0.0.1:%d"]' % new
        d.write_conf()
        d.signal(signal.SIGHUP)
        wait_for(lambda: "listening on 127.0.0.1:%d" % new in d.read_log(),
                 what="the new listener")
        assert banner(new).startswith("220")
        try:
            got = banner(old, timeout=2)
        except OSError:
            got = "refused"
        assert got == "refused", got
        assert "stopped listening on 127.0.0.1:%d" % old in d.read_log()
        # a bad file keeps the old configuration and says why
        with open(d.conf, "a") as f:
            f.write("max_clients = \"lots\";\n")
        d.signal(signal.SIGHUP)
        wait_for(lambda: "keeping the old configuration" in d.read_log(),
                 what="the refusal")
        assert re.search(r"moatftpd\.conf:\d+", d.read_log()), d.read_log()
        assert banner(new).startswith("220")
        # a listener that cannot be bound keeps the old one too
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        busy = blocker.getsockname()[1]
        d.settings["listen"] = '["127.0.0.1:%d"]' % busy
        d.write_conf()
        d.signal(signal.SIGHUP)
        wait_for(lambda: "cannot listen as configured" in d.read_log(),
                 what="the bind failure")
        blocker.close()
        assert banner(new).startswith("220")
    finally:
        d.stop()


# -- SIGTERM ---------------------------------------------------------------

def term_lets_transfer_finish():
    d = Daemon(extra={"shutdown_grace": "20"}).start()
    try:
        idle = d.ftp()
        st = SlowStor(d, "grace.bin", nchunks=30, pause=0.06)
        time.sleep(0.3)
        t0 = time.time()
        d.signal(signal.SIGTERM)
        # the idle session goes at once, with 421 (a timeout is a failure)
        idle.sock.settimeout(3)
        t1 = time.time()
        try:
            idle.getresp()
            raise AssertionError("idle session survived SIGTERM")
        except ftplib.error_temp as e:
            assert str(e).startswith("421"), e
        except socket.timeout:
            raise AssertionError("idle session still open 3 s after SIGTERM")
        except (EOFError, ConnectionResetError):
            pass
        assert time.time() - t1 < 2.5
        r = st.join()
        assert isinstance(r, str) and r.startswith("226"), r
        rc = d.proc.wait(20)
        assert rc == 0, rc
        assert time.time() - t0 < 20
        size = os.path.getsize(os.path.join(d.home("alice"), "grace.bin"))
        assert size == 30 * 64 * 1024, size
        assert "moatftpd stopped" in d.read_log()
    finally:
        d.stop()


# -- xferlog ---------------------------------------------------------------

def xferlog_lines(d, name="xferlog"):
    with open(os.path.join(d.dir, name)) as f:
        return [ln for ln in f.read().split("\n") if ln]


def check_xferlog_line(ln, size, path, ttype, direction, user, status):
    f = ln.split()
    assert len(f) == 18, f
    t = time.strptime(" ".join(f[0:5]), "%a %b %d %H:%M:%S %Y")
    assert abs(time.mktime(t) - time.time()) < 120, ln
    assert int(f[5]) >= 1, ln                  # transfer-time
    assert f[6] == "127.0.0.1", ln             # remote-host
    assert int(f[7]) == size, ln               # file-size
    assert f[8] == path, ln                    # filename
    assert f[9] == ttype, ln                   # a / b
    assert f[10] == "_", ln                    # special-action-flag
    assert f[11] == direction, ln              # o / i
    assert f[12] == "r", ln                    # access-mode: real user
    assert f[13] == user, ln                   # username
    assert f[14] == "ftp", ln                  # service-name
    assert f[15] == "0", ln                    # authentication-method
    assert f[16] == "*", ln                    # authenticated-user-id
    assert f[17] == status, ln                 # c / i


def xferlog_format_and_reopen():
    d = Daemon().start()
    try:
        xl = os.path.join(d.dir, "xferlog")
        f = d.ftp()
        f.storbinary("STOR up.bin", io.BytesIO(b"z" * 1000))
        f.retrbinary("RETR up.bin", lambda b: None)
        f.storlines("STOR t.txt", io.BytesIO(b"one\ntwo\n"))
        f.retrlines("RETR t.txt", lambda b: None)
        lines = xferlog_lines(d)
        assert len(lines) == 4, lines
        check_xferlog_line(lines[0], 1000, "/up.bin", "b", "i", "alice", "c")
        check_xferlog_line(lines[1], 1000, "/up.bin", "b", "o", "alice", "c")
        check_xferlog_line(lines[2], 8, "/t.txt", "a", "i", "alice", "c")
        check_xferlog_line(lines[3], 8, "/t.txt", "a", "o", "alice", "c")
        assert os.stat(xl).st_mode & 0o777 == 0o640
        # rotate: rename, SIGUSR1, a new file gets the next line
        os.rename(xl, xl + ".1")
        d.signal(signal.SIGUSR1)
        wait_for(lambda: "reopened " + xl in d.read_log(), what="reopen")
        assert os.path.exists(xl)
        g = d.ftp()         # a session started after the reopen
        g.retrbinary("RETR up.bin", lambda b: None)
        g.quit()
        new = xferlog_lines(d)
        assert len(new) == 1, new
        check_xferlog_line(new[0], 1000, "/up.bin", "b", "o", "alice", "c")
        assert len(xferlog_lines(d, "xferlog.1")) == 4
        f.quit()
    finally:
        d.stop()


def access_log_login_logout():
    d = Daemon().start()
    try:
        f = d.ftp()
        f.quit()
        log = wait_for(lambda: "logout alice" in d.read_log() and
                       d.read_log(), what="logout line")
        m = re.search(r"#(\d+) 127\.0\.0\.1 login alice from 127\.0\.0\.1",
                      log)
        assert m, log
        sid = m.group(1)
        assert re.search(r"#%s alice 127\.0\.0\.1 logout alice from "
                         r"127\.0\.0\.1" % sid, log), log
    finally:
        d.stop()


# -- moatadm who / kick ----------------------------------------------------

def who_lines(d, user="alice"):
    p = d.adm("who")
    assert p.stdout.startswith("PID"), p.stdout
    return [ln for ln in p.stdout.splitlines()[1:] if ln.split()[1] == user]


def who_and_kick():
    d = Daemon().start()
    try:
        idle = d.ftp()
        st = SlowStor(d, "watched.bin", nchunks=80 * SLOW, pause=0.05)
        seen = []
        deadline = time.time() + 10
        while len(seen) < 3 and time.time() < deadline:
            for ln in who_lines(d):
                m = re.search(r"STOR /watched\.bin .*\((\d+) bytes\) "
                              r"\S+/s$", ln)
                if m and (not seen or int(m.group(1)) > seen[-1]):
                    seen.append(int(m.group(1)))
            time.sleep(0.25)
        assert len(seen) >= 3, (seen, d.adm("who").stdout)
        lines = who_lines(d)
        assert len(lines) == 2, lines
        xfer = [ln for ln in lines if "watched.bin" in ln][0]
        other = [ln for ln in lines if "watched.bin" not in ln][0]
        f = xfer.split()
        assert f[2] == "127.0.0.1" and re.match(r"\d\d:\d\d:\d\d$", f[3]), f
        assert re.match(r"\d+:\d\d$", f[4]), f
        assert other.split()[5] == "idle", other
        xpid, ipid = int(f[0]), int(other.split()[0])
        assert title(xpid) == "moatftpd: alice@127.0.0.1 STOR /watched.bin", \
            title(xpid)
        # kick by pid: the idle session gets 421 and goes
        p = d.adm("kick", str(ipid))
        assert "kicked %d" % ipid in p.stdout, p.stdout
        try:
            idle.getresp()
            raise AssertionError("kicked session still answers")
        except ftplib.error_temp as e:
            assert str(e).startswith("421"), e
        except (EOFError, OSError):
            pass
        wait_for(lambda: not alive(ipid), what="the kicked session")
        # kick by name ends the transfer
        p = d.adm("kick", "alice")
        assert "kicked %d" % xpid in p.stdout, p.stdout
        wait_for(lambda: not alive(xpid), what="the kicked transfer")
        r = st.join()
        assert not (isinstance(r, str) and r.startswith("226")), r
        assert who_lines(d) == []
        # nothing to kick, and a pid that is not a session
        assert d.adm("kick", "alice", check=False).returncode == 1
        assert d.adm("kick", str(os.getpid()), check=False).returncode == 1
        assert d.adm("kick", str(d.proc.pid), check=False).returncode == 1
        assert alive(d.proc.pid)
        assert d.adm("kick", check=False).returncode == 2
    finally:
        d.stop()


# -- PROXY protocol --------------------------------------------------------

def v1(src, sport=40000):
    fam = "TCP6" if ":" in src else "TCP4"
    dst = "::1" if ":" in src else "127.0.0.1"
    return ("PROXY %s %s %s %d 21\r\n" % (fam, src, dst, sport)).encode()


def v2(src, sport=40000):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    addr = socket.inet_aton(src) + socket.inet_aton("127.0.0.1") + \
        struct.pack("!HH", sport, 21)
    return sig + bytes([0x21, 0x11]) + struct.pack("!H", len(addr)) + addr


def proxy_protocol():
    d = Daemon(extra={"proxy_protocol": "true", "max_per_ip": "1"}).start()
    try:
        # v1: the session's address is the proxied one
        s = socket.create_connection(("127.0.0.1", d.port), 10)
        s.sendall(v1("127.0.0.2"))
        fp = s.makefile("rb")
        assert fp.readline().startswith(b"220")
        s.sendall(b"USER alice\r\n")
        assert fp.readline().startswith(b"331")
        s.sendall(("PASS %s\r\n" % d.passwords["alice"]).encode())
        assert fp.readline().startswith(b"230")
        log = wait_for(lambda: "login alice from 127.0.0.2" in d.read_log()
                       and d.read_log(), what="the proxied login")
        assert re.search(r"#\d+ 127\.0\.0\.2 login alice", log), log
        # the data channel checks the proxied address too
        s.sendall(b"EPSV\r\n")
        m = re.search(rb"\|\|\|(\d+)\|", fp.readline())
        assert m
        dc = socket.create_connection(("127.0.0.1", int(m.group(1))), 10,
                                      source_address=("127.0.0.2", 0))
        s.sendall(b"LIST\r\n")
        assert fp.readline().startswith(b"150")
        while dc.recv(4096):
            pass
        dc.close()
        assert fp.readline().startswith(b"226")
        # max_per_ip counts the proxied address: v2 for the same one
        got = banner(d.port, v2("127.0.0.2"))
        assert got.startswith("421 Too many connections"), got
        # another proxied address is fine, over v2 and v1 (IPv6)
        assert banner(d.port, v2("192.0.2.10")).startswith("220")
        assert banner(d.port, v1("2001:db8::1")).startswith("220")
        s.close()
        # malformed or missing headers: closed without a word
        for bad in (b"GARBAGE\r\n", b"PROXY TCP4 1.2.3.999 127.0.0.1 1 2\r\n",
                    b"USER alice\r\n", b"\r\n\r\n\x00\r\nQUIT\n\x31\x11\x00\x0c"):
            assert banner(d.port, bad) == "", bad
        t0 = time.time()
        assert banner(d.port, b"", timeout=15) == ""
        assert 3 <= time.time() - t0 < 12, time.time() - t0
        assert "no PROXY protocol header in" in d.read_log()
        assert "no valid PROXY protocol header" in d.read_log()
    finally:
        d.stop()


def proxy_from():
    """Only peers in proxy_from may send a PROXY header: any other is
    closed at once (before the 5 s header wait) and logged; the list is
    re-read on SIGHUP; a bad prefix is a file:line error."""
    d = Daemon(extra={"proxy_protocol": "true",
                      "proxy_from": '["192.0.2.0/24", "2001:db8::/32"]'})
    d.start()
    try:
        for hdr in (v1("198.51.100.1"), v2("198.51.100.1"), b""):
            t0 = time.time()
            assert banner(d.port, hdr) == "", hdr
            assert time.time() - t0 < 3, time.time() - t0
        wait_for(lambda: "refused 127.0.0.1: not in proxy_from"
                 in d.read_log(), what="the proxy_from refusal")
        assert "no PROXY protocol header" not in d.read_log()
        # 127.0.0.0/8 covers the test's peer: accepted after a reload
        d.settings["proxy_from"] = '["::1", "127.0.0.0/8"]'
        d.write_conf()
        d.signal(signal.SIGHUP)
        wait_for(lambda: "reloaded" in d.read_log(), what="the reload")
        got = banner(d.port, v1("198.51.100.1"))
        assert got.startswith("220"), got
        # a bad prefix: the config test names file and line, and a reload
        # keeps the list it had
        d.settings["proxy_from"] = '["10.1.2.3/8"]'
        d.write_conf()
        p = subprocess.run([MOATFTPD, "-t", "-c", d.conf],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 1, p
        line = [k for k in d.settings].index("proxy_from") + 1
        want = "%s:%d: proxy_from: bad prefix \"10.1.2.3/8\"" % (d.conf,
                                                                 line)
        assert want in p.stderr, p.stderr
        d.signal(signal.SIGHUP)
        wait_for(lambda: "keeping the old configuration" in d.read_log(),
                 what="the refused reload")
        assert banner(d.port, v1("198.51.100.1")).startswith("220")
    finally:
        d.stop()


# -- process titles --------------------------------------------------------

def process_titles():
    d = Daemon().start()
    try:
        assert title(d.proc.pid) == "moatftpd: master", title(d.proc.pid)
        s = socket.create_connection(("127.0.0.1", d.port), 10)
        assert s.recv(100).startswith(b"220")
        want = {"moatftpd: [jail] 127.0.0.1", "moatftpd: [monitor] 127.0.0.1"}
        wait_for(lambda: want <= {title(p) for p in d.children()
                                  if alive(p)}, what="jail/monitor titles")
        s.close()
        f = d.ftp()
        make_file(os.path.join(d.home("alice"), "big.iso"), 64 << 20)
        os.chown(os.path.join(d.home("alice"), "big.iso"),
                 *[os.stat(d.home("alice"))[i] for i in (4, 5)])
        conn = f.transfercmd("RETR big.iso")
        conn.recv(65536)
        titles = wait_for(lambda: [title(p) for p in d.children()
                                   if alive(p) and "RETR" in title(p)],
                          what="the transfer title")
        assert titles == ["moatftpd: alice@127.0.0.1 RETR /big.iso"], titles
        conn.close()
        try:
            f.voidresp()
        except ftplib.all_errors:
            pass
        wait_for(lambda: "moatftpd: alice@127.0.0.1" in
                 {title(p) for p in d.children() if alive(p)},
                 what="the idle title")
        f.close()
    finally:
        d.stop()


# -- the init script -------------------------------------------------------

def init_script():
    d = Daemon(extra={"shutdown_grace": "5"})
    defaults = os.path.join(d.dir, "default")
    with open(defaults, "w") as f:
        f.write('DAEMON="%s"\nCONF="%s"\nSTOP_TIMEOUT=15\n' % (MOATFTPD,
                                                                d.conf))
    env = dict(os.environ, MOATFTPD_DEFAULTS=defaults)
    pidfile = os.path.join(d.dir, "moatftpd.pid")

    def run(*args):
        return subprocess.run(["sh", INIT] + list(args), env=env,
                              capture_output=True, text=True, timeout=60)
    try:
        p = run("status")
        assert p.returncode == 3, (p.returncode, p.stdout, p.stderr)
        p = run("start")
        assert p.returncode == 0, (p.stdout, p.stderr)
        pid = read_pid(pidfile)
        p = run("status")
        assert p.returncode == 0 and "running (pid %d)" % pid in p.stdout, p
        assert banner(d.port).startswith("220")
        p = run("start")
        assert p.returncode == 0 and "already running" in p.stdout, p
        # reload applies a new listener
        new = free_port()
        d.settings["listen"] = '["127.0.0.1:%d"]' % new
        d.write_conf()
        p = run("reload")
        assert p.returncode == 0, (p.stdout, p.stderr)
        wait_for(lambda: banner(new).startswith("220"), what="new port")
        assert read_pid(pidfile) == pid
        # a bad file: reload refuses and the daemon keeps running
        with open(d.conf, "a") as f:
            f.write("bogus_key = 1;\n")
        p = run("reload")
        assert p.returncode == 6, (p.returncode, p.stdout, p.stderr)
        d.settings["listen"] = '["127.0.0.1:%d"]' % new
        d.write_conf()
        assert alive(pid)
        p = run("stop")
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert not alive(pid)
        assert not os.path.exists(pidfile)
        p = run("status")
        assert p.returncode == 3, p
        p = run("stop")
        assert p.returncode == 0 and "not running" in p.stdout, p
    finally:
        if os.path.exists(pidfile):
            try:
                os.kill(read_pid(pidfile), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        d.stop()


r = Runner("daemon")
r.run(pidfile_and_second_instance)
r.run(hup_max_clients_live_transfer)
r.run(hup_listeners_and_bad_config)
r.run(term_lets_transfer_finish)
r.run(xferlog_format_and_reopen)
r.run(access_log_login_logout)
r.run(who_and_kick)
r.run(proxy_protocol)
r.run(proxy_from)
r.run(process_titles)
r.run(init_script)
r.done()
