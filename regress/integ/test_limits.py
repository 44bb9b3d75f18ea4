"""Limits and the wait queue (DESIGN.md section 3): max_clients with a FIFO
queue that sends nothing until a slot frees, queue_max and queue_timeout
refusals, max_per_ip, max_per_user, clients leaving the queue, SIGHUP
changing max_clients under live sessions, and a log line naming the client
address for every refusal.

Raw sockets time the greetings; ftplib holds the live sessions.
Run as: /usr/bin/python3 regress/integ/test_limits.py
"""
import ftplib
import io
import os
import select
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from moatlib import SLOW, Daemon, Runner  # noqa: E402

BUSY = b"421 Too many users, try again later.\r\n"
PER_IP = b"421 Too many connections from your address.\r\n"
PER_USER = "421 Too many sessions for this user."


class Raw:
    """A plain TCP connection to the daemon, read without blocking."""

    def __init__(self, d, src="127.0.0.1"):
        self.s = socket.socket()
        self.s.settimeout(5)
        self.s.bind((src, 0))
        self.s.connect(("127.0.0.1", d.port))
        self.t0 = time.time()
        self.buf = b""

    def silent(self, secs):
        """True if nothing (not even EOF) arrives within secs."""
        r, _, _ = select.select([self.s], [], [], secs)
        return not r

    def line(self, timeout=3.0 * SLOW):
        """The next reply line (with CRLF), b"" on EOF; fails on timeout."""
        deadline = time.time() + timeout
        while b"\r\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("no reply within %.1f s (got %r)" %
                                     (timeout, self.buf))
            r, _, _ = select.select([self.s], [], [], left)
            if not r:
                continue
            data = self.s.recv(4096)
            if not data:
                out, self.buf = self.buf, b""
                return out
            self.buf += data
        out, _, self.buf = self.buf.partition(b"\r\n")
        return out + b"\r\n"

    def eof(self, timeout=3.0):
        """The server closes the connection (nothing more after the line)."""
        assert not self.buf, "more after the refusal: %r" % self.buf
        rest = self.line(timeout)
        assert rest == b"", "more after the refusal: %r" % rest

    def cmd(self, text, timeout=3.0):
        self.s.sendall(text.encode() + b"\r\n")
        return self.line(timeout)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def greeted(raw, timeout=3.0):
    got = raw.line(timeout)
    assert got.startswith(b"220"), "expected 220, got %r" % got
    return got


def refused(raw, want, timeout=2.0):
    got = raw.line(timeout)
    assert got == want, "expected %r, got %r" % (want, got)
    raw.eof()


def wait_for(pred, timeout=5.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def log_has(d, text, timeout=3.0):
    wait_for(lambda: text in d.read_log(), timeout, "log line %r" % text)


def start(**kw):
    """A started daemon with no connection yet."""
    d = Daemon(**kw).start()
    try:
        wait_for(lambda: not d.children(), 5, "no children at start")
    except AssertionError:
        d.stop()
        raise
    return d


def quit_all(clients):
    for c in clients:
        try:
            c.quit()
        except (ftplib.all_errors, AttributeError):
            c.close()


def close_all(raws):
    for r in raws:
        r.close()


# ----------------------------------------------------------------------
def t_queue_order():
    """4th and 5th wait in silence, 6th refused at once, FIFO greeting."""
    d = start(extra={"max_clients": "3", "queue_max": "2",
                      "queue_timeout": "2"})
    live, raws = [], []
    try:
        live = [d.ftp() for _ in range(3)]
        q4 = Raw(d)
        raws.append(q4)
        time.sleep(0.05)
        q5 = Raw(d)
        raws.append(q5)
        assert q4.silent(0.3), "4th connection greeted while full"
        assert q5.silent(0.01), "5th connection greeted while full"
        q6 = Raw(d)
        raws.append(q6)
        t = time.time()
        refused(q6, BUSY, timeout=1.0 * SLOW)
        assert time.time() - t < 1.0 * SLOW, "6th refusal was not at once"
        # the live sessions are untouched
        for c in live:
            assert c.voidcmd("NOOP").startswith("200")
        # one quits: the first waiter (and only it) is served
        live.pop(0).quit()
        greeted(q4, 1.0 * SLOW)
        assert q5.silent(0.2), "5th greeted with no free slot"
        live.pop(0).quit()
        greeted(q5, 1.0 * SLOW)
        # the served waiters are full sessions
        assert q4.cmd("USER alice").startswith(b"331")
        assert q4.cmd("PASS " + d.passwords["alice"]).startswith(b"230")
        assert q4.cmd("NOOP").startswith(b"200")
        assert q5.cmd("QUIT").startswith(b"221")
        log_has(d, "refused 127.0.0.1: queue full")
    finally:
        quit_all(live)
        close_all(raws)
        d.stop()


def t_queue_timeout():
    """A waiting connection gets 421 after queue_timeout, not before."""
    d = start(extra={"max_clients": "3", "queue_max": "2",
                      "queue_timeout": "2"})
    live, raws = [], []
    try:
        live = [d.ftp() for _ in range(3)]
        q = Raw(d)
        raws.append(q)
        assert q.silent(1.5), "queued connection answered early"
        got = q.line(3.0)
        waited = time.time() - q.t0
        assert got == BUSY, got
        q.eof()
        assert 1.8 <= waited <= 4.0, "timed out after %.2f s" % waited
        log_has(d, "refused 127.0.0.1: queue_timeout reached")
        # the place it held is free again: a new one waits, then is served
        q2 = Raw(d)
        raws.append(q2)
        q3 = Raw(d)
        raws.append(q3)
        assert q2.silent(0.2) and q3.silent(0.01)
        live.pop().quit()
        greeted(q2, 1.0 * SLOW)
        for c in live:
            assert c.voidcmd("NOOP").startswith("200")
    finally:
        quit_all(live)
        close_all(raws)
        d.stop()


def t_queue_leave():
    """A client that hangs up while queued frees its place at once."""
    d = start(extra={"max_clients": "3", "queue_max": "2",
                      "queue_timeout": "2"})
    live, raws = [], []
    try:
        live = [d.ftp() for _ in range(3)]
        q4, q5 = Raw(d), Raw(d)
        raws += [q4, q5]
        assert q4.silent(0.2) and q5.silent(0.01)
        q4.close()
        time.sleep(0.2)
        q6 = Raw(d)		# would be refused if q4 still held a place
        raws.append(q6)
        assert q6.silent(0.3), "6th refused although a waiter left: %r" % \
            q6.line(0.1)
        log_has(d, "a waiting client left the queue")
        live.pop(0).quit()
        greeted(q5, 1.0 * SLOW)		# not the one that left
        assert q6.silent(0.2)
        live.pop(0).quit()
        greeted(q6, 1.0 * SLOW)
        # no monitor was ever forked for the one that left: 3 sessions,
        # q5 and q6 (the harness waits for the log, it makes no probe)
        forks = d.read_log().count(": monitor ")
        assert forks == 5, "%d monitors forked, want 5" % forks
    finally:
        quit_all(live)
        close_all(raws)
        d.stop()


def t_max_per_ip():
    d = start(extra={"max_per_ip": "2"})
    raws = []
    try:
        a, b = Raw(d), Raw(d)
        raws += [a, b]
        greeted(a)
        greeted(b)
        c = Raw(d)
        raws.append(c)
        t = time.time()
        refused(c, PER_IP, 1.0 * SLOW)
        assert time.time() - t < 1.0 * SLOW
        log_has(d, "refused 127.0.0.1: max_per_ip reached")
        # another address is not counted with these
        e, f = Raw(d, "127.0.0.2"), Raw(d, "127.0.0.2")
        raws += [e, f]
        greeted(e)
        greeted(f)
        g = Raw(d, "127.0.0.2")
        raws.append(g)
        refused(g, PER_IP, 1.0 * SLOW)
        log_has(d, "refused 127.0.0.2: max_per_ip reached")
        # a logged-in session counts too
        assert a.cmd("USER alice").startswith(b"331")
        assert a.cmd("PASS " + d.passwords["alice"]).startswith(b"230")
        h = Raw(d)
        raws.append(h)
        refused(h, PER_IP, 1.0 * SLOW)
        # once one goes, the address may connect again
        b.cmd("QUIT")
        b.close()

        def one_more():
            r = Raw(d)
            raws.append(r)
            return r.line(2.0).startswith(b"220")
        wait_for(one_more, 5, "a connection after one closed")
    finally:
        close_all(raws)
        d.stop()


def t_max_per_user():
    d = start(extra={"max_per_user": "2"},
               users={"alice": None, "bob": None})
    live = []
    try:
        live = [d.ftp("alice"), d.ftp("alice")]
        f = d.ftp("alice", login=False)
        try:
            f.login("alice", d.passwords["alice"])
        except ftplib.error_temp as e:
            assert str(e) == PER_USER, str(e)
        else:
            raise AssertionError("third session of alice accepted")
        # the server closed that connection after the 421
        f.sock.settimeout(3)
        assert f.file.readline() == "", "connection still open"
        f.close()
        log_has(d, "refused alice from 127.0.0.1: too many sessions "
                "for this user")
        # other accounts are not affected
        live.append(d.ftp("bob"))
        for c in live:
            assert c.voidcmd("NOOP").startswith("200")
        # when one of alice's sessions ends, she may log in again
        live.pop(0).quit()

        def again():
            try:
                live.append(d.ftp("alice"))
                return True
            except ftplib.error_temp as e:
                assert str(e) == PER_USER, str(e)
                return False
        wait_for(again, 5, "a new alice session after one quit")
        # and the limit still holds
        g = d.ftp("alice", login=False)
        try:
            g.login("alice", d.passwords["alice"])
        except ftplib.error_temp as e:
            assert str(e) == PER_USER, str(e)
        else:
            raise AssertionError("limit no longer enforced")
        g.close()
    finally:
        quit_all(live)
        d.stop()


def t_sighup_max_clients():
    """SIGHUP changes max_clients for new connections; live ones stay."""
    d = start(extra={"max_clients": "2", "queue_max": "5",
                      "queue_timeout": "30"})
    live, raws = [], []
    try:
        live = [d.ftp() for _ in range(2)]
        q = Raw(d)
        raws.append(q)
        assert q.silent(0.3)
        # raise the limit: the waiter is served, nobody is dropped
        d.settings["max_clients"] = "4"
        d.write_conf()
        d.signal(signal.SIGHUP)
        greeted(q, 2.0)
        log_has(d, "reloaded")
        n = Raw(d)
        raws.append(n)
        greeted(n, 2.0)
        over = Raw(d)
        raws.append(over)
        assert over.silent(0.3), "5th served with max_clients=4"
        for i, c in enumerate(live):
            c.storbinary("STOR hup%d" % i, io.BytesIO(b"x" * 1000))
        over.close()
        # lower it below the live count: no session is dropped
        q.cmd("QUIT")
        n.cmd("QUIT")
        live += [d.ftp(), d.ftp()]	# 4 live again
        d.settings["max_clients"] = "1"
        d.write_conf()
        d.signal(signal.SIGHUP)
        wait_for(lambda: d.read_log().count("reloaded") >= 2, 3,
                 "second reload")
        w = Raw(d)
        raws.append(w)
        assert w.silent(0.3), "served above the lowered max_clients"
        for c in live:
            assert c.voidcmd("NOOP").startswith("200")
        assert sorted(live[0].nlst()) == ["hup0", "hup1"]
        # it is served only when the live count drops below the new limit
        for _ in range(3):
            live.pop().quit()
        assert w.silent(0.4), "served with 1 live session and max_clients=1"
        live.pop().quit()
        greeted(w, 2.0)
    finally:
        quit_all(live)
        close_all(raws)
        d.stop()


def t_refusals_logged():
    """Every refusal kind above leaves one line with the address."""
    d = start(extra={"max_clients": "1", "queue_max": "0",
                      "queue_timeout": "1", "max_per_ip": "1"})
    raws = []
    try:
        a = Raw(d, "127.0.0.3")
        raws.append(a)
        greeted(a)
        b = Raw(d, "127.0.0.4")		# global limit, queue of 0
        raws.append(b)
        refused(b, BUSY, 1.0 * SLOW)
        c = Raw(d, "127.0.0.3")		# per address
        raws.append(c)
        refused(c, PER_IP, 1.0 * SLOW)
        log_has(d, "refused 127.0.0.4: queue full")
        log_has(d, "refused 127.0.0.3: max_per_ip reached")
        log = d.read_log()
        assert log.count("refused ") == 2, log
    finally:
        close_all(raws)
        d.stop()


r = Runner("limits")
r.run(t_queue_order)
r.run(t_queue_timeout)
r.run(t_queue_leave)
r.run(t_max_per_ip)
r.run(t_max_per_user)
r.run(t_sighup_max_clients)
r.run(t_refusals_logged)
r.done()
