"""TLS: real clients (curl, lftp, ftplib) against the real daemon; what is
refused; which process runs as whom and where; bad handshakes; failed logins;
and the private key, which the jail/relay holds and the session never does.

Run as root for the process and memory checks (they are skipped otherwise).
"""
import ftplib
import io
import os
import random
import re
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from moatlib import (Daemon, Runner, IS_ROOT, NOBODY,  # noqa: E402
                     ReuseFTP_TLS, expect_error, make_file, put_file,
                     sha256_file)

NOREUSE = {"tls_require_reuse": "false"}
RELAYED = "data connection without resumption: TLS in the relay"


# -- helpers ---------------------------------------------------------------

def stock(d, user="alice", login=True):
    """The standard library's FTP_TLS: data connections never resume."""
    f = ftplib.FTP_TLS(context=d.ssl_context(), timeout=15)
    f.encoding = "utf-8"
    f.connect("127.0.0.1", d.port)
    if login:
        f.login(user, d.passwords[user])
        f.prot_p()
    return f


def ftplib_roundtrip(d, f):
    """Upload, list, download, resumed download and resumed upload."""
    data = random.Random(7).randbytes(300001)
    f.storbinary("STOR up.bin", io.BytesIO(data))
    assert "up.bin" in f.nlst(), f.nlst()
    lines = []
    f.retrlines("LIST", lines.append)
    assert any(line.endswith(" up.bin") for line in lines), lines
    facts = [x for x in f.mlsd()]
    assert any(n == "up.bin" and int(fx["size"]) == len(data)
               for n, fx in facts), facts
    buf = io.BytesIO()
    f.retrbinary("RETR up.bin", buf.write)
    assert buf.getvalue() == data, "download differs"
    buf = io.BytesIO()
    f.retrbinary("RETR up.bin", buf.write, rest=123456)
    assert buf.getvalue() == data[123456:], "resumed download differs"
    f.storbinary("STOR part.bin", io.BytesIO(data[:100000]))
    f.storbinary("STOR part.bin", io.BytesIO(data[100000:]), rest=100000)
    assert f.size("part.bin") == len(data)
    with open(os.path.join(d.home("alice"), "part.bin"), "rb") as fh:
        assert fh.read() == data, "resumed upload differs"
    f.delete("up.bin")
    f.delete("part.bin")


def wait_for(cond, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def proc_root(pid):
    try:
        return os.readlink("/proc/%d/root" % pid)
    except OSError:
        return None


def proc_ids(pid):
    """(uids, gids) as lists of 4 from /proc/PID/status."""
    uids = gids = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                uids = [int(x) for x in line.split()[1:]]
            elif line.startswith("Gid:"):
                gids = [int(x) for x in line.split()[1:]]
    return uids, gids


def procs_rooted_at(d, path):
    path = os.path.realpath(path)
    return [p for p in d.children() if proc_root(p) == path]


def raw_connect(d):
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    greet = recv_reply(s)
    assert greet.startswith(b"220"), greet
    return s


def recv_reply(s):
    buf = b""
    while not re.search(rb"(^|\n)\d{3} [^\n]*\r?\n$", buf):
        c = s.recv(4096)
        if not c:
            break
        buf += c
    return buf


def read_until_closed(s, timeout=15):
    """Everything the server sends until it closes; fails if it does not."""
    s.settimeout(timeout)
    got = b""
    try:
        while True:
            c = s.recv(4096)
            if not c:
                return got
            got += c
    except ConnectionResetError:
        return got
    except socket.timeout:
        raise AssertionError("the server did not close the connection")


def client_hello(host="localhost"):
    """The bytes of a real TLS ClientHello."""
    ctx = ssl.create_default_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=host)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def still_serves(d):
    f = d.ftp()
    f.storbinary("STOR ok.txt", io.BytesIO(b"fine\n"))
    buf = io.BytesIO()
    f.retrbinary("RETR ok.txt", buf.write)
    assert buf.getvalue() == b"fine\n"
    f.delete("ok.txt")
    f.quit()


def no_crash(d):
    log = d.read_log()
    for bad in ("seccomp:", "fatal", "signal 11", "SIGSEGV", "SIGABRT",
                "killed by signal"):
        assert bad not in log, "%r in the log:\n%s" % (bad, log[-3000:])


# -- clients ---------------------------------------------------------------

def curl_all():
    """curl --ssl-reqd under the default (reuse required): curl resumes."""
    d = Daemon(tls=True).start()
    tmp = tempfile.mkdtemp(prefix="moat-tls-")
    try:
        src = make_file(os.path.join(tmp, "src.bin"), 700001, seed=3)
        d.curl("-T", src, d.url("/c.bin"))
        p = d.curl(d.url("/"))
        assert b"c.bin" in p.stdout, p.stdout
        p = d.curl("-l", d.url("/"))
        assert p.stdout.split() == [b"c.bin"], p.stdout
        out = os.path.join(tmp, "out.bin")
        d.curl("-o", out, d.url("/c.bin"))
        assert sha256_file(out) == sha256_file(src)
        # resume a download: keep the first part, curl -C - fetches the rest
        with open(src, "rb") as f:
            whole = f.read()
        part = os.path.join(tmp, "part.bin")
        with open(part, "wb") as f:
            f.write(whole[:250000])
        d.curl("-C", "-", "-o", part, d.url("/c.bin"))
        assert sha256_file(part) == sha256_file(src), "resumed download"
        # resume an upload: the server has the first part
        half = os.path.join(tmp, "half.bin")
        with open(half, "wb") as f:
            f.write(whole[:300000])
        d.curl("-T", half, d.url("/r.bin"))
        d.curl("-C", "-", "-T", src, d.url("/r.bin"))
        assert sha256_file(os.path.join(d.home("alice"), "r.bin")) == \
            sha256_file(src), "resumed upload"
        log = d.read_log()
        assert "TLS session reuse required" not in log, log[-2000:]
        assert RELAYED not in log
        no_crash(d)
    finally:
        d.stop()
        subprocess.run(["rm", "-rf", tmp])


def lftp_all():
    """lftp with ssl-force and protected data."""
    d = Daemon(tls=True).start()
    tmp = tempfile.mkdtemp(prefix="moat-tls-")
    try:
        src = make_file(os.path.join(tmp, "src.bin"), 600001, seed=4)
        with open(src, "rb") as f:
            whole = f.read()
        part = os.path.join(tmp, "part.bin")
        with open(part, "wb") as f:
            f.write(whole[:200000])
        half = os.path.join(tmp, "half.bin")
        with open(half, "wb") as f:
            f.write(whole[:222222])
        out = os.path.join(tmp, "out.bin")
        script = os.path.join(tmp, "script")
        with open(script, "w") as f:
            f.write("\n".join([
                "set cmd:fail-exit yes",
                "set net:max-retries 1",
                "set net:timeout 15",
                "set ftp:ssl-force true",
                "set ftp:ssl-protect-data true",
                "set ssl:ca-file %s" % d.cert,
                "set ssl:verify-certificate yes",
                "set xfer:clobber on",
                "open -u alice,%s -p %d 127.0.0.1" % (d.passwords["alice"],
                                                       d.port),
                "put %s -o l.bin" % src,
                "cls -1",
                "get l.bin -o %s" % out,
                "get -c l.bin -o %s" % part,
                "put %s -o l2.bin" % half,
                "put -c %s -o l2.bin" % src,
                "quit",
                ""]))
        p = subprocess.run(["lftp", "-f", script], capture_output=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr,
                                   d.read_log()[-3000:])
        assert b"l.bin" in p.stdout, p.stdout
        assert sha256_file(out) == sha256_file(src), "download"
        assert sha256_file(part) == sha256_file(src), "resumed download"
        assert sha256_file(os.path.join(d.home("alice"), "l2.bin")) == \
            sha256_file(src), "resumed upload"
        log = d.read_log()
        assert "AUTH TLS" in log and "PROT P" in log, log[-2000:]
        assert "TLS session reuse required" not in log
        no_crash(d)
    finally:
        d.stop()
        subprocess.run(["rm", "-rf", tmp])


def ftplib_reuse_default():
    """The resuming ftplib client under the default, stock FTP_TLS gets 522."""
    d = Daemon(tls=True).start()
    try:
        f = d.ftp()
        ftplib_roundtrip(d, f)
        f.quit()
        g = stock(d)
        # the server refuses the data handshake before showing any
        # certificate; the client's handshake fails and 522 is on control
        for call in (lambda: g.nlst(),
                     lambda: g.storbinary("STOR x", io.BytesIO(b"x"))):
            try:
                call()
            except ftplib.all_errors + (ssl.SSLError,) as e:
                assert not isinstance(e, ftplib.Error), e
            else:
                raise AssertionError("a transfer without resumption worked")
            msg = expect_error(522, g.getresp)
            assert "TLS session reuse required." in msg, msg
        assert not os.path.exists(os.path.join(d.home("alice"), "x")) or \
            os.path.getsize(os.path.join(d.home("alice"), "x")) == 0
        assert g.voidcmd("NOOP").startswith("200")
        g.quit()
        assert RELAYED not in d.read_log()
        no_crash(d)
    finally:
        d.stop()


def ftplib_stock_noreuse(root):
    """tls_require_reuse = false: stock FTP_TLS is served through the relay;
    a resuming client still resumes in the session."""
    d = Daemon(root=root, tls=True, extra=NOREUSE).start()
    try:
        f = stock(d)
        ftplib_roundtrip(d, f)
        f.quit()
        n = d.read_log().count(RELAYED)
        assert n >= 8, "expected every transfer relayed, got %d" % n
        g = d.ftp()
        ftplib_roundtrip(d, g)
        g.quit()
        assert d.read_log().count(RELAYED) == n, "a resumption was relayed"
        no_crash(d)
    finally:
        d.stop()


def noreuse_many_and_abort():
    """Relayed data: many transfers in a row, big files, an aborted RETR,
    and two sessions side by side."""
    d = Daemon(tls=True, extra=NOREUSE).start()
    try:
        big = random.Random(9).randbytes(3 << 20)
        f, g = stock(d), stock(d)
        f.storbinary("STOR big.bin", io.BytesIO(big))
        for i in range(5):
            for c in (f, g):
                buf = io.BytesIO()
                c.retrbinary("RETR big.bin", buf.write)
                assert buf.getvalue() == big, "round %d" % i
        # abort a download part way: the session and the relay go on
        conn = f.transfercmd("RETR big.bin")
        conn.recv(65536)
        conn.close()
        try:
            f.voidresp()
        except ftplib.all_errors:
            pass
        assert f.voidcmd("NOOP").startswith("200")
        buf = io.BytesIO()
        f.retrbinary("RETR big.bin", buf.write)
        assert buf.getvalue() == big
        f.quit()
        g.quit()
        no_crash(d)
    finally:
        d.stop()


# -- refusals and features --------------------------------------------------

def refusals():
    d = Daemon(tls=True).start()
    try:
        p = ftplib.FTP(timeout=10)
        p.connect("127.0.0.1", d.port)
        msg = expect_error(530, p.sendcmd, "USER alice")
        assert "TLS required." in msg, msg
        msg = expect_error(530, p.sendcmd, "PASS " + d.passwords["alice"])
        assert "TLS required." in msg, msg
        feat = p.sendcmd("FEAT")
        for want in ("AUTH TLS", "PBSZ", "PROT"):
            assert re.search(r"(?m)^ %s\b" % want, feat), feat
        p.close()

        f = d.ftp()
        feat = f.sendcmd("FEAT")
        for want in ("AUTH TLS", "PBSZ", "PROT"):
            assert re.search(r"(?m)^ %s\b" % want, feat), feat
        msg = expect_error(534, f.sendcmd, "CCC")
        f.prot_c()
        msg = expect_error(521, f.nlst)
        f.prot_p()
        assert f.nlst() == []
        assert f.voidcmd("NOOP").startswith("200")
        f.quit()

        # AUTH SSL is taken as AUTH TLS
        s = raw_connect(d)
        s.sendall(b"AUTH SSL\r\n")
        r = recv_reply(s)
        assert r.startswith(b"234"), r
        t = d.ssl_context().wrap_socket(s, server_hostname="localhost")
        t.sendall(b"USER alice\r\n")
        assert recv_reply(t).startswith(b"331")
        t.sendall(b"PASS %s\r\n" % d.passwords["alice"].encode())
        assert recv_reply(t).startswith(b"230")
        t.sendall(b"QUIT\r\n")
        assert recv_reply(t).startswith(b"221")
        t.close()
        no_crash(d)
    finally:
        d.stop()


class StealFTP_TLS(ftplib.FTP_TLS):
    """Wraps its data connections with another connection's TLS session,
    as an attacker who captured that ticket would."""

    stolen = None

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        conn = self.context.wrap_socket(conn, server_hostname=self.host,
                                        session=self.stolen)
        return conn, size


def ticket_of_another_session():
    """A ticket from alice's control connection does not open a data
    connection of bob's session: each session resumes only its own."""
    d = Daemon(tls=True, users={"alice": None, "bob": None}).start()
    try:
        ctx = d.ssl_context()       # one context: Python may offer the ticket
        a = ftplib.FTP_TLS(context=ctx, timeout=15)
        a.connect("127.0.0.1", d.port)
        a.login("alice", d.passwords["alice"])
        a.prot_p()
        a.voidcmd("NOOP")           # TLS 1.3 tickets come after the handshake
        b = StealFTP_TLS(context=ctx, timeout=15)
        b.connect("127.0.0.1", d.port)
        b.login("bob", d.passwords["bob"])
        b.prot_p()
        # the control: bob's own session works
        b.stolen = b.sock.session
        assert b.nlst() == []
        # alice's session on bob's data connection: refused
        b.stolen = a.sock.session
        assert b.stolen is not None and b.stolen != b.sock.session
        try:
            b.nlst()
            raise AssertionError("a data connection resumed alice's ticket")
        except (ConnectionError, ssl.SSLError):
            pass                    # the server closed it mid-handshake
        expect_error(522, b.getresp)
        assert "did not resume" in d.read_log()
        assert b.voidcmd("NOOP").startswith("200")
        b.stolen = b.sock.session
        assert b.nlst() == []
        a.quit()
        b.quit()
        no_crash(d)
    finally:
        d.stop()


def tls12_no_tickets(root):
    """A TLS 1.2 client that takes no tickets (curl sets SSL_OP_NO_TICKET)
    resumes the control session by its session ID, and only its own."""
    d = Daemon(root=root, tls=True,
               users={"alice": None, "bob": None}).start()
    tmp = tempfile.mkdtemp(prefix="moat-tls-")
    try:
        src = make_file(os.path.join(tmp, "src.bin"), 300001, seed=5)
        d.curl("--tls-max", "1.2", "-T", src, d.url("/c12.bin"))
        out = os.path.join(tmp, "out.bin")
        d.curl("--tls-max", "1.2", "-o", out, d.url("/c12.bin"))
        assert sha256_file(out) == sha256_file(src), "curl TLS 1.2"
        ctx = d.ssl_context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.options |= ssl.OP_NO_TICKET
        a = StealFTP_TLS(context=ctx, timeout=15)
        a.connect("127.0.0.1", d.port)
        a.login("alice", d.passwords["alice"])
        a.prot_p()
        assert a.sock.version() == "TLSv1.2", a.sock.version()
        assert not a.sock.session.has_ticket
        a.stolen = a.sock.session
        assert a.nlst() == ["c12.bin"]
        b = StealFTP_TLS(context=ctx, timeout=15)
        b.connect("127.0.0.1", d.port)
        b.login("bob", d.passwords["bob"])
        b.prot_p()
        b.stolen = b.sock.session
        assert b.nlst() == []
        # alice's session ID on bob's data connection: refused
        b.stolen = a.sock.session
        try:
            b.nlst()
            raise AssertionError("a data connection resumed alice's ID")
        except (ConnectionError, ssl.SSLError):
            pass
        expect_error(522, b.getresp)
        a.quit()
        b.quit()
        no_crash(d)
    finally:
        d.stop()
        subprocess.run(["rm", "-rf", tmp])


# -- who runs where -----------------------------------------------------------

def process_identity():
    d = Daemon(tls=True).start()
    try:
        jail_dir = os.path.realpath(os.path.join(d.dir, "empty"))
        home = os.path.realpath(d.home("alice"))
        st = os.stat(home)
        assert st.st_uid != 0
        # before login: the jail
        f = ReuseFTP_TLS(context=d.ssl_context(), timeout=15)
        f.connect("127.0.0.1", d.port)
        f.auth()
        jails = wait_for(lambda: procs_rooted_at(d, jail_dir), what="jail")
        assert len(jails) == 1, jails
        jail = jails[0]
        uids, gids = proc_ids(jail)
        assert uids == [NOBODY] * 4 and gids == [NOBODY] * 4, (uids, gids)
        # after login: the same process is the relay; the session is alice
        f.login("alice", d.passwords["alice"])
        f.prot_p()
        assert f.nlst() == []
        relays = procs_rooted_at(d, jail_dir)
        assert relays == [jail], (relays, jail)
        uids, gids = proc_ids(jail)
        assert uids == [NOBODY] * 4 and gids == [NOBODY] * 4, (uids, gids)
        sessions = procs_rooted_at(d, home)
        assert len(sessions) == 1, sessions
        uids, gids = proc_ids(sessions[0])
        assert uids == [st.st_uid] * 4 and gids == [st.st_gid] * 4, \
            (uids, gids, st.st_uid)
        f.quit()
        wait_for(lambda: not procs_rooted_at(d, jail_dir) and
                 not procs_rooted_at(d, home), what="processes to exit")
    finally:
        d.stop()


# -- bad input on the control and data connections -----------------------

def bad_control_tls():
    d = Daemon(tls=True, extra={"login_timeout": "5"}).start()
    try:
        keep = d.ftp()          # a logged-in session that must live on
        base = len(d.children())
        hello = client_hello()
        cases = {
            "garbage": b"\x00\xffGARBAGE\r\n" * 200,
            "truncated": hello[:len(hello) // 2],
            "plaintext": b"USER alice\r\nPASS x\r\n",
        }
        for name, payload in cases.items():
            s = raw_connect(d)
            s.sendall(b"AUTH TLS\r\n")
            r = recv_reply(s)
            assert r.startswith(b"234"), (name, r)
            s.sendall(payload)
            if name == "truncated":
                s.shutdown(socket.SHUT_WR)
            got = read_until_closed(s)
            assert b"331" not in got and b"230" not in got, (name, got)
            s.close()
        # plaintext pipelined right behind AUTH TLS is never obeyed
        s = raw_connect(d)
        s.sendall(b"AUTH TLS\r\nUSER alice\r\n")
        got = read_until_closed(s)
        assert got.startswith(b"234") and b"331" not in got, got
        s.close()
        # a truncated hello held open ends at login_timeout, not never
        s = raw_connect(d)
        s.sendall(b"AUTH TLS\r\n")
        recv_reply(s)
        s.sendall(hello[:40])
        t0 = time.time()
        read_until_closed(s, timeout=20)
        assert time.time() - t0 < 15
        s.close()
        wait_for(lambda: len(d.children()) <= base, what="jails to exit")
        assert "TLS handshake failed" in d.read_log()
        keep.storbinary("STOR k.txt", io.BytesIO(b"k"))
        assert keep.nlst() == ["k.txt"]
        keep.quit()
        still_serves(d)
        no_crash(d)
    finally:
        d.stop()


def data_conn(f, cmd):
    """PASV, send cmd, connect: the raw data socket and the 150 reply."""
    host, port = ftplib.parse227(f.sendcmd("PASV"))
    s = socket.create_connection((host, port), timeout=10)
    f.putcmd(cmd)
    return s


def bad_data_tls(reuse):
    extra = {"data_timeout": "5"}
    if not reuse:
        extra.update(NOREUSE)
    d = Daemon(tls=True, extra=extra).start()
    try:
        f = d.ftp() if reuse else stock(d)
        hello = client_hello()
        for name, payload in (("garbage", b"\x00\xffGARBAGE" * 100),
                              ("truncated", hello[:len(hello) // 2]),
                              ("plaintext", b"hello\r\n")):
            s = data_conn(f, "NLST")
            try:
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass    # the server may have closed it already
            t0 = time.time()
            r1 = f.getline()
            assert r1.startswith("150"), (name, r1)
            try:
                r2 = f.getresp()
            except ftplib.all_errors as e:
                r2 = str(e)
            assert r2.startswith("425"), (name, r2)
            assert time.time() - t0 < 10, name
            s.close()
            assert f.voidcmd("NOOP").startswith("200")
        assert f.nlst() == []    # a proper data connection still works
        f.quit()
        still_serves(d)
        no_crash(d)
    finally:
        d.stop()


def upload_reset(reuse):
    """An upload the client resets (no close_notify) is not a success, in
    the session's own TLS and through the relay."""
    d = Daemon(tls=True, extra=None if reuse else NOREUSE).start()
    try:
        f = d.ftp() if reuse else stock(d)
        for _ in range(3):
            conn = f.transfercmd("STOR cut.bin")
            conn.sendall(random.Random(1).randbytes(400000))
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
            conn.close()        # a reset, no close_notify
            try:
                resp = f.getresp()
            except ftplib.all_errors as e:
                resp = str(e)
            assert resp[:3] in ("426", "451"), resp
            assert f.voidcmd("NOOP").startswith("200")
        assert (RELAYED in d.read_log()) == (not reuse)
        ftplib_roundtrip(d, f)
        f.quit()
        no_crash(d)
    finally:
        d.stop()


def abor_not_reading(reuse):
    """ABOR during a TLS download whose client has stopped reading is
    answered at once (426, 226), in the session's own TLS and through the
    relay; neither blocks in a write the client will never take."""
    extra = {"data_timeout": "30"}
    if not reuse:
        extra.update(NOREUSE)
    d = Daemon(tls=True, extra=extra).start()
    try:
        put_file(d, "big.bin", 64 << 20, 4)
        f = d.ftp(timeout=20) if reuse else stock(d)
        conn = f.transfercmd("RETR big.bin")
        got = 0
        while got < 4 << 20:
            got += len(conn.recv(1 << 16))
        time.sleep(1)                   # the server's buffers fill up
        t0 = time.time()
        f.sock.sendall(b"ABOR\r\n")
        r1 = f.getline()
        r2 = f.getline()
        took = time.time() - t0
        assert r1[:3] == "426" and r2[:3] == "226", (r1, r2)
        assert took < 5, took
        conn.close()
        assert f.voidcmd("NOOP").startswith("200")
        f.quit()
        no_crash(d)
    finally:
        d.stop()


def relayed_abort():
    """An aborted relayed download ends without close_notify (a cut file
    never looks whole), and frees its place in the relay: more aborted
    downloads than the relay's four places, their sockets left open, and
    a whole download after them."""
    d = Daemon(tls=True, extra=NOREUSE).start()
    try:
        put_file(d, "big.bin", 16 << 20, 6)
        f = stock(d)
        f.voidcmd("TYPE I")
        host, port = f.makepasv()
        ds = socket.create_connection((host, port), 15)
        f.putcmd("RETR big.bin")
        assert f.getresp()[:3] == "150"
        ctx = d.ssl_context()
        # see a missing close_notify (Python ignores it by default)
        ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
        conn = ctx.wrap_socket(ds, server_hostname="localhost",
                               suppress_ragged_eofs=False)
        conn.recv(65536)
        f.sock.sendall(b"ABOR\r\n")
        assert f.getline()[:3] == "426"
        assert f.getline()[:3] == "226"
        conn.settimeout(10)
        clean = False
        try:
            while True:
                if conn.recv(1 << 16) == b"":
                    clean = True        # close_notify: looks whole
                    break
        except (ssl.SSLError, OSError):
            pass
        assert not clean, "an aborted download ended with close_notify"
        held = [conn]
        for _ in range(5):
            conn = f.transfercmd("RETR big.bin")
            conn.recv(65536)
            f.sock.sendall(b"ABOR\r\n")
            assert f.getline()[:3] == "426"
            assert f.getline()[:3] == "226"
            held.append(conn)
        ftplib_roundtrip(d, f)
        for c in held:
            c.close()
        f.quit()
        no_crash(d)
    finally:
        d.stop()


def relayed_download_reset():
    """A relayed download that the client resets before it took it all is
    no success (426, and xferlog says incomplete), although the session
    wrote the whole file to the relay: the session waits for the relay to
    say the client has it all."""
    d = Daemon(tls=True, extra=NOREUSE).start()
    try:
        put_file(d, "f.bin", 200 * 1024, 5)
        f = stock(d)
        host, port = f.makepasv()
        ds = socket.socket()
        ds.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        ds.connect((host, port))
        f.putcmd("RETR f.bin")
        assert f.getresp()[:3] == "150"
        t = d.ssl_context().wrap_socket(ds, server_hostname="localhost")
        time.sleep(2)                   # read nothing, then a reset
        t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        t.close()
        try:
            resp = f.getresp()
        except ftplib.all_errors as e:
            resp = str(e)
        assert resp[:3] == "426", resp
        assert RELAYED in d.read_log()
        with open(os.path.join(d.dir, "xferlog")) as fh:
            rec = fh.read().splitlines()[-1].split()
        assert rec[8] == "/f.bin" and rec[-1] == "i", rec
        # a client's close_notify before the end is no success either
        host, port = f.makepasv()
        ds = socket.create_connection((host, port), 15)
        f.putcmd("RETR f.bin")
        assert f.getresp()[:3] == "150"
        t = d.ssl_context().wrap_socket(ds, server_hostname="localhost")
        t.recv(4096)
        try:
            t.unwrap()
        except (ssl.SSLError, OSError):
            pass
        ds.close()
        try:
            resp = f.getresp()
        except ftplib.all_errors as e:
            resp = str(e)
        assert resp[:3] == "426", resp
        ftplib_roundtrip(d, f)          # and a whole one is complete
        f.quit()
        no_crash(d)
    finally:
        d.stop()


# -- failed logins -------------------------------------------------------------

def login_failures():
    d = Daemon(tls=True, extra={"login_fail_delay": "1",
                                "max_login_failures": "3"}).start()
    try:
        f = ReuseFTP_TLS(context=d.ssl_context(), timeout=20)
        f.connect("127.0.0.1", d.port)
        f.auth()
        for i, user in enumerate(("alice", "nosuchuser", "alice")):
            t0 = time.time()
            try:
                f.login(user, "wrong-password")
            except ftplib.error_perm as e:
                assert i < 2 and str(e).startswith("530"), (i, e)
            except ftplib.error_temp as e:
                assert i == 2 and str(e).startswith("421"), (i, e)
            else:
                raise AssertionError("a wrong password was accepted")
            took = time.time() - t0
            assert took >= 0.9, "attempt %d took %.2fs" % (i, took)
        # the connection is closed after the 421
        f.sock.settimeout(5)
        try:
            assert f.sock.recv(100) == b""
        except socket.timeout:
            raise AssertionError("connection left open after the 421")
        except (ConnectionResetError, ssl.SSLError):
            pass
        f.close()
        log = wait_for(lambda: (lambda l: l if l.count("login failed")
                                >= 3 else None)(d.read_log()),
                       what="three failures logged")
        assert len(re.findall(r'login failed for "alice" from 127\.0\.0\.1',
                              log)) == 2, log
        assert re.search(r'login failed for "nosuchuser" from 127\.0\.0\.1',
                         log), log
        still_serves(d)
    finally:
        d.stop()


# -- the private key is in the relay, never in the session -----------------

def private_number(keyfile):
    text = subprocess.run(["openssl", "pkey", "-in", keyfile, "-text",
                           "-noout"], capture_output=True, text=True,
                          check=True).stdout
    m = re.search(r"(?m)^(priv|privateExponent):\s*\n((?:\s+[0-9a-f:]+\n)+)",
                  text)
    assert m, text
    raw = bytes.fromhex(re.sub(r"[^0-9a-f]", "", m.group(2)))
    raw = raw.lstrip(b"\0")
    assert len(raw) >= 30, raw.hex()
    return raw


def memory_has(pid, needles):
    """Does any readable mapping of pid contain one of needles?"""
    longest = max(len(n) for n in needles)
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", buffering=0) as mem:
        for line in maps:
            parts = line.split()
            if "r" not in parts[1] or (len(parts) > 5 and
                                       parts[5] in ("[vvar]", "[vsyscall]")):
                continue
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if hi - lo > 1 << 30:
                # ASan's shadow (terabytes, make sanitize): shadow bytes,
                # never data, and reading it fills the target's memory
                continue
            prev = b""
            off = lo
            while off < hi:
                n = min(hi - off, 1 << 22)
                try:
                    mem.seek(off)
                    chunk = mem.read(n)
                except OSError:
                    break
                hay = prev + chunk
                if any(x in hay for x in needles):
                    return True
                prev = hay[-(longest - 1):]
                off += n
    return False


def key_not_in_session(reuse):
    d = Daemon(tls=True, extra=None if reuse else NOREUSE).start()
    try:
        priv = private_number(d.key)
        piece = priv[8:24]
        needles = [piece, piece[::-1]]
        assert not memory_has(d.proc.pid, needles), \
            "the master holds the key; every session would inherit it"
        f = d.ftp() if reuse else stock(d)
        jail_dir = os.path.realpath(os.path.join(d.dir, "empty"))
        relays = procs_rooted_at(d, jail_dir)
        sessions = procs_rooted_at(d, d.home("alice"))
        assert len(relays) == 1 and len(sessions) == 1, (relays, sessions)
        assert not memory_has(sessions[0], needles), \
            "the TLS private key is in the session's memory after login"
        f.storbinary("STOR m.bin", io.BytesIO(b"m" * 100000))
        assert f.nlst() == ["m.bin"]
        buf = io.BytesIO()
        f.retrbinary("RETR m.bin", buf.write)
        assert buf.getvalue() == b"m" * 100000
        if not reuse:
            assert RELAYED in d.read_log()
        assert memory_has(relays[0], needles), \
            "the key is not found in the relay: the scan cannot see it"
        assert not memory_has(sessions[0], needles), \
            "the TLS private key is in the session's memory"
        f.quit()
    finally:
        d.stop()


def s_client(d, sess_out, lines=b"", until=None):
    """openssl s_client: AUTH TLS (TLS 1.2, whose ticket comes with the
    handshake), then lines; returns the process (still running when until,
    a bytes, is awaited in its output)."""
    p = subprocess.Popen(["openssl", "s_client", "-starttls", "ftp",
                          "-connect", "127.0.0.1:%d" % d.port, "-tls1_2",
                          "-sess_out", sess_out, "-quiet"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    p.stdin.write(lines)
    p.stdin.flush()
    if until is None:
        p.stdin.close()
        p.wait(timeout=20)
        return p
    got = b""
    deadline = time.monotonic() + 20
    while until not in got and time.monotonic() < deadline:
        chunk = p.stdout.read1(4096)
        if not chunk:
            break
        got += chunk
    assert until in got, got
    return p


def ticket_key_name(sess_file):
    """The first 16 bytes of the session's ticket: OpenSSL's key name, the
    first 16 of the 80 bytes of ticket keys that made it."""
    text = subprocess.run(["openssl", "sess_id", "-in", sess_file, "-noout",
                           "-text"], capture_output=True, text=True,
                          check=True).stdout
    rows = re.findall(r"^\s+00[0-9a-f]0 - ((?:[0-9a-f]{2}[ -]){16})", text,
                      re.M)
    assert len(rows) >= 1, text
    return bytes.fromhex(rows[0].replace("-", " ").replace(" ", ""))


def ticket_keys_per_connection():
    """Each connection has ticket keys of its own. A session holds the keys
    of its own connection's tickets (its data connections resume them), and
    not those of another connection: with them, a session taken over by
    its user could open the tickets other users' clients were given (under
    TLS 1.2 a ticket holds the connection's master secret)."""
    d = Daemon(tls=True).start()
    a_pem = os.path.join(d.dir, "a.pem")
    b_pem = os.path.join(d.dir, "b.pem")
    b = None
    try:
        s_client(d, a_pem, b"QUIT\r\n")
        ka = ticket_key_name(a_pem)
        b = s_client(d, b_pem, b"USER alice\r\nPASS %s\r\n" %
                     d.passwords["alice"].encode(), until=b"230 ")
        kb = ticket_key_name(b_pem)
        assert ka != kb, "two connections got tickets under the same keys"
        sessions = procs_rooted_at(d, d.home("alice"))
        assert len(sessions) == 1, sessions
        assert memory_has(sessions[0], [kb]), \
            "its own key name is not found in the session: the scan is blind"
        assert not memory_has(sessions[0], [ka]), \
            "another connection's ticket keys are in the session's memory"
        assert not memory_has(d.proc.pid, [ka, kb]), \
            "the master holds a connection's ticket keys"
    finally:
        if b is not None:
            b.kill()
            b.wait()
        d.stop()


r = Runner("tls")
ONLY = set(sys.argv[1:])     # test names to run; all when none are given


def run(fn, *args):
    if not ONLY or fn.__name__ in ONLY:
        r.run(fn, *args)


run(refusals)
run(ticket_of_another_session)
run(tls12_no_tickets, True)
run(tls12_no_tickets, False)
run(curl_all)
run(lftp_all)
run(ftplib_reuse_default)
run(ftplib_stock_noreuse, True)
run(ftplib_stock_noreuse, False)
run(noreuse_many_and_abort)
run(bad_control_tls)
run(bad_data_tls, True)
run(bad_data_tls, False)
run(upload_reset, True)
run(upload_reset, False)
run(abor_not_reading, True)
run(abor_not_reading, False)
run(relayed_download_reset)
run(relayed_abort)
run(login_failures)
if IS_ROOT:
    run(process_identity)
    run(key_not_in_session, True)
    run(key_not_in_session, False)
    run(ticket_keys_per_connection)
r.done()
