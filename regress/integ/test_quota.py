"""Quota (DESIGN.md section 4): the shared ledger charged before every write,
552 when the limit is reached with the partial file kept and charged,
concurrent sessions of one account never passing the limit, delete /
overwrite / rename giving space back, moatadm quota applied to live sessions
through SIGHUP, ALLO, a limit below usage, TLS, ledger slot reuse, and
moatadm show/list/quota.

Run as: /usr/bin/python3 regress/integ/test_quota.py
"""
import ftplib
import hashlib
import os
import re
import random
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from moatlib import Daemon, Runner, put_file  # noqa: E402
from ftpraw import Ctl  # noqa: E402

KiB = 1024
MiB = 1024 * KiB
XFER_BUF = 256 * KiB		# shared/limits.h MOAT_XFER_BUF
FULL = "421 Too many accounts in use, try again later."

SUFFIX = {"": 0, "B": 0, "K": 10, "M": 20, "G": 30, "T": 40, "P": 50,
          "E": 60}


def human_ok(text, n):
    """A humanized size (600K, 1.5M, 0B) that stands for about n bytes."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([BKMGTPE]?)", text)
    assert m, "bad humanized size %r" % text
    v = float(m.group(1)) * (1 << SUFFIX[m.group(2)])
    assert abs(v - n) <= max(0.1 * n, 1), "%r is not about %d" % (text, n)


def site_quota(f):
    """SITE QUOTA as a dict of ints (and the _h fields checked)."""
    r = f.sendcmd("SITE QUOTA")
    m = re.fullmatch(r"200 used=(\d+) limit=(\d+) free=(\d+) used_h=(\S+) "
                     r"limit_h=(\S+) free_h=(\S+)", r)
    assert m, "bad SITE QUOTA reply %r" % r
    q = {"used": int(m.group(1)), "limit": int(m.group(2)),
         "free": int(m.group(3))}
    human_ok(m.group(4), q["used"])
    if q["limit"] == 0:
        assert m.group(5) == "unlimited" and m.group(6) == "unlimited", r
    else:
        human_ok(m.group(5), q["limit"])
        human_ok(m.group(6), q["free"])
        assert q["free"] == max(q["limit"] - q["used"], 0), r
    return q


def disk_usage(d, user="alice"):
    total = 0
    for root, _, files in os.walk(d.home(user)):
        for name in files:
            p = os.path.join(root, name)
            if os.path.isfile(p) and not os.path.islink(p):
                total += os.path.getsize(p)
    return total


def check_quota(f, d, limit, user="alice"):
    """SITE QUOTA agrees with the disk and the limit."""
    q = site_quota(f)
    disk = disk_usage(d, user)
    assert q["used"] == disk, "ledger says %d, disk has %d" % (q["used"],
                                                               disk)
    assert q["limit"] == limit, "limit %d, want %d" % (q["limit"], limit)
    return q


def stor(f, name, data):
    """STOR; the final reply text, whether 226 or an error. Tolerates the
    server closing the data connection early (as it does on 552)."""
    try:
        conn = f.transfercmd("STOR " + name)
    except ftplib.all_errors as e:
        return str(e)
    try:
        view = memoryview(data)
        for i in range(0, len(data), 64 * KiB):
            conn.sendall(view[i:i + 64 * KiB])
        if hasattr(conn, "unwrap"):
            conn.unwrap()
    except OSError:
        pass
    finally:
        conn.close()
    try:
        return f.voidresp()
    except ftplib.all_errors as e:
        return str(e)


def content(n, seed):
    return random.Random(seed).randbytes(n)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def file_sha(d, name, user="alice"):
    with open(os.path.join(d.home(user), name), "rb") as fh:
        return sha(fh.read())


def wait_for(pred, timeout=5.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


# ----------------------------------------------------------------------
def t_flow(tls):
    """One session through the whole life of a 1 MiB quota."""
    d = Daemon(tls=tls, users={"alice": "1M"}).start()
    f = None
    try:
        f = d.ftp()
        check_quota(f, d, MiB)
        q = site_quota(f)
        assert q["used"] == 0 and q["free"] == MiB, q
        a = content(600 * KiB, 1)
        r = stor(f, "a.bin", a)
        assert r.startswith("226"), r
        assert file_sha(d, "a.bin") == sha(a)
        q = check_quota(f, d, MiB)
        assert q["used"] == 600 * KiB, q
        # the second does not fit: 552, partial kept and charged
        r = stor(f, "b.bin", content(600 * KiB, 2))
        assert r.startswith("552"), r
        q = check_quota(f, d, MiB)
        assert q["used"] <= MiB, q
        assert q["free"] < XFER_BUF, q
        part = os.path.getsize(os.path.join(d.home("alice"), "b.bin"))
        assert part < 600 * KiB and q["used"] == 600 * KiB + part, (part, q)
        assert content(600 * KiB, 2).startswith(
            open(os.path.join(d.home("alice"), "b.bin"), "rb").read())
        # ALLO: beyond free is 552, within is 200
        e = None
        try:
            f.sendcmd("ALLO %d" % (q["free"] + 1))
        except ftplib.error_perm as x:
            e = str(x)
        assert e and e.startswith("552"), e
        r = f.sendcmd("ALLO %d" % q["free"])
        assert r.startswith("200"), r
        # an accepted ALLO lets the STOR through
        f.sendcmd("ALLO %d" % q["free"])
        r = stor(f, "small.bin", b"x" * 10)
        assert r.startswith("226"), r
        f.delete("small.bin")
        # delete gives the space back
        f.delete("b.bin")
        q = check_quota(f, d, MiB)
        assert q["used"] == 600 * KiB, q
        # overwrite with something smaller gives the difference back
        a2 = content(100 * KiB, 3)
        r = stor(f, "a.bin", a2)
        assert r.startswith("226"), r
        q = check_quota(f, d, MiB)
        assert q["used"] == 100 * KiB, q
        # overwrite with something larger is charged the difference only
        a3 = content(900 * KiB, 4)
        r = stor(f, "a.bin", a3)
        assert r.startswith("226"), r
        assert file_sha(d, "a.bin") == sha(a3)
        q = check_quota(f, d, MiB)
        assert q["used"] == 900 * KiB, q
        # rename over another file releases the replaced one; a plain
        # rename changes nothing
        r = stor(f, "c.bin", content(100 * KiB, 5))
        assert r.startswith("226"), r
        f.rename("c.bin", "d.bin")
        q = check_quota(f, d, MiB)
        assert q["used"] == 1000 * KiB, q
        f.rename("d.bin", "a.bin")
        q = check_quota(f, d, MiB)
        assert q["used"] == 100 * KiB, q
        # full again, then the admin raises the limit: the same session
        # sees it without reconnecting
        r = stor(f, "e.bin", content(900 * KiB, 6))
        assert r.startswith("226"), r
        r = stor(f, "f.bin", content(600 * KiB, 7))
        assert r.startswith("552"), r
        f.delete("f.bin")
        p = d.adm("quota", "alice", "2M")
        assert p.returncode == 0, p.stderr
        wait_for(lambda: site_quota(f)["limit"] == 2 * MiB, 5,
                 "the new limit in the live session")
        q = check_quota(f, d, 2 * MiB)
        r = stor(f, "f.bin", content(600 * KiB, 7))
        assert r.startswith("226"), r
        q = check_quota(f, d, 2 * MiB)
        assert q["used"] == 1600 * KiB, q
        # a limit below usage is accepted; nothing more fits until deletes
        p = d.adm("quota", "alice", "1M")
        assert p.returncode == 0, p.stderr
        wait_for(lambda: site_quota(f)["limit"] == MiB, 5,
                 "the lowered limit in the live session")
        q = check_quota(f, d, MiB)
        assert q["used"] == 1600 * KiB and q["free"] == 0, q
        r = stor(f, "g.bin", b"y" * 10)
        assert r.startswith("552"), r
        f.delete("g.bin")
        try:
            f.sendcmd("ALLO 1")
            raise AssertionError("ALLO 1 accepted over the limit")
        except ftplib.error_perm as x:
            assert str(x).startswith("552"), x
        f.delete("f.bin")			# 1000 KiB left: still full
        r = stor(f, "g.bin", content(30 * KiB, 8))
        assert r.startswith("552"), r
        f.delete("g.bin")
        f.delete("a.bin")			# 900 KiB left
        r = stor(f, "g.bin", content(30 * KiB, 8))
        assert r.startswith("226"), r
        q = check_quota(f, d, MiB)
        assert q["used"] == 930 * KiB, q
        # a new session agrees (and sees what the admin set)
        g = d.ftp()
        check_quota(g, d, MiB)
        g.quit()
        f.quit()
        f = None
        # moatadm show and list print used and limit
        used = disk_usage(d)
        p = d.adm("show", "alice")
        assert re.search(r"^used:\s+\S+ \(%d bytes\)$" % used, p.stdout,
                         re.M), p.stdout
        assert re.search(r"^limit:\s+\S+ \(%d bytes\)$" % MiB, p.stdout,
                         re.M), p.stdout
        assert re.search(r"^free:\s+\S+ \(%d bytes\)$" % (MiB - used),
                         p.stdout, re.M), p.stdout
        p = d.adm("list")
        m = re.search(r"^alice\s+\d+\s+(\S+)/(\S+)\s", p.stdout, re.M)
        assert m, p.stdout
        human_ok(m.group(1), used)
        human_ok(m.group(2), MiB)
    finally:
        if f is not None:
            f.close()
        d.stop()


def t_concurrent(tls):
    """4 sessions of one account upload 400 KiB each against 1 MiB."""
    d = Daemon(tls=tls, users={"alice": "1M"}).start()
    sessions = []
    try:
        sessions = [d.ftp() for _ in range(4)]
        data = [content(400 * KiB, 100 + i) for i in range(4)]
        results = [None] * 4
        barrier = threading.Barrier(4)

        def up(i):
            try:
                barrier.wait(10)
                results[i] = stor(sessions[i], "p%d.bin" % i, data[i])
            except Exception as e:  # noqa: BLE001 - reported below
                results[i] = "exception %r" % e
        threads = [threading.Thread(target=up, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
            assert not t.is_alive(), "an upload hung"
        ok = 0
        for i, r in enumerate(results):
            path = os.path.join(d.home("alice"), "p%d.bin" % i)
            if r.startswith("226"):
                ok += 1
                assert file_sha(d, "p%d.bin" % i) == sha(data[i]), i
            else:
                assert r.startswith("552"), (i, r)
                if os.path.exists(path):
                    size = os.path.getsize(path)
                    assert size < 400 * KiB, (i, size)
                    with open(path, "rb") as fh:
                        assert data[i].startswith(fh.read()), i
        assert ok <= 2, results
        stored = disk_usage(d)
        assert stored <= MiB, "stored %d > 1 MiB" % stored
        for s in sessions:
            q = check_quota(s, d, MiB)
        assert q["free"] < XFER_BUF, q
        # deleting everything gives all of it back, seen by every session
        for i in range(4):
            try:
                sessions[0].delete("p%d.bin" % i)
            except ftplib.error_perm:
                pass
        for s in sessions:
            q = check_quota(s, d, MiB)
            assert q["used"] == 0, q
        for s in sessions:
            s.quit()
        sessions = []
    finally:
        for s in sessions:
            s.close()
        d.stop()


def t_same_file_twice():
    """Two sessions writing the same file: the quota charges what the file
    grows by, not every byte written (1.5 MiB were charged for a 1 MiB file
    before, and 512 KiB stayed charged after DELE)."""
    d = Daemon(users={"alice": "100M"}).start()
    try:
        a, b = Ctl(d), Ctl(d)
        host, port = a.pasv()
        ca = socket.create_connection((host, port), 15)
        code, text = a.cmd("STOR x")
        assert code == 150, text
        ca.sendall(b"A" * 512 * KiB)
        time.sleep(0.5)
        got, (code, text) = b.data("PASV", "STOR x", b"B" * MiB)
        assert code == 226, text
        ca.sendall(b"A" * 512 * KiB)
        ca.close()
        code, text = a.resp()
        assert code == 226, text
        assert os.path.getsize(os.path.join(d.home("alice"), "x")) == MiB
        f = d.ftp()
        q = check_quota(f, d, 100 * MiB)
        assert q["used"] == MiB, q
        f.delete("x")
        q = check_quota(f, d, 100 * MiB)
        assert q["used"] == 0, q
        f.quit()
        a.close()
        b.close()
    finally:
        d.stop()


def t_same_file_together():
    """Two sessions sending one file at the same moment: each write is
    charged what the file grows by as it is when the write lands (both
    took the size before the other's write and were charged the same
    growth, up to a block, for good: it outlived DELE). A race, so tried
    30 times; it showed in about one try in five."""
    d = Daemon(users={"alice": "100M"}).start()
    try:
        a, b, f = Ctl(d), Ctl(d), d.ftp()
        for i in range(30):
            conns = [socket.create_connection(c.pasv(), 15) for c in (a, b)]
            for c in (a, b):
                c.send("STOR x")
            for c in (a, b):
                code, text = c.resp()
                assert code == 150, text

            def send(conn):
                for _ in range(64):
                    conn.sendall(b"z" * 16 * KiB)
                conn.close()
            ts = [threading.Thread(target=send, args=(c,)) for c in conns]
            for t in ts:
                t.start()
            for t in ts:
                t.join(30)
                assert not t.is_alive(), "an upload hung"
            for c in (a, b):
                code, text = c.resp()
                assert code == 226, text
            q = check_quota(f, d, 100 * MiB)
            assert q["used"] == MiB, (i, q)
            f.delete("x")
            q = check_quota(f, d, 100 * MiB)
            assert q["used"] == 0, (i, q)
        f.quit()
        a.close()
        b.close()
    finally:
        d.stop()


def t_overwrite_after_dele():
    """A STOR over a file that another session deletes before the data
    connection comes: the deleted file's size was given back by DELE, and
    the cut of the overwrite gave it back a second time (the ledger fell
    below what the other files hold, and that much more could be
    stored)."""
    d = Daemon(users={"alice": "10M"}).start()
    try:
        put_file(d, "keep", 300 * KiB, 1)
        put_file(d, "x", 500 * KiB, 2)
        a, b = Ctl(d), d.ftp()
        check_quota(b, d, 10 * MiB)
        addr = a.pasv()
        code, text = a.cmd("STOR x")
        assert code == 150, text
        b.delete("x")
        conn = socket.create_connection(addr, 15)
        conn.sendall(b"q" * 10)
        conn.close()
        code, text = a.resp()
        assert code == 226, text
        q = check_quota(b, d, 10 * MiB)
        assert q["used"] == 300 * KiB, q
        a.close()
        b.quit()
    finally:
        d.stop()


def t_gone_while_written():
    """A file deleted (DELE) or replaced (RNTO over it) by another session
    while an upload still writes it: what the upload wrote after it left
    the home is given back once the upload ends (it stayed charged for a
    file that no longer exists, until every session of the account was
    gone)."""
    d = Daemon(users={"alice": "10M"}).start()
    try:
        a, b = Ctl(d), d.ftp()
        for how in ("DELE", "RNTO"):
            ca = socket.create_connection(a.pasv(), 15)
            code, text = a.cmd("STOR x")
            assert code == 150, text
            ca.sendall(b"A" * 512 * KiB)
            wait_for(lambda: site_quota(b)["used"] == 512 * KiB, 5,
                     "the first half to be written")
            if how == "DELE":
                b.delete("x")
            else:
                r = stor(b, "y", b"y" * 1000)
                assert r.startswith("226"), r
                b.rename("y", "x")
            ca.sendall(b"A" * 512 * KiB)
            ca.close()
            code, text = a.resp()
            assert code == 226, text
            q = check_quota(b, d, 10 * MiB)
            assert q["used"] == (0 if how == "DELE" else 1000), (how, q)
            for n in os.listdir(d.home("alice")):
                b.delete(n)
        a.close()
        b.quit()
    finally:
        d.stop()


def t_dele_during_writes():
    """DELE and RNTO over a file while another session's upload writes
    it, block after block: the size they give back and the unlink or
    rename happen under the file's size lock, so no write lands between
    the two (its growth stayed charged, for a file that no longer
    existed). A race: many DELE and RNTO during each of 12 uploads."""
    d = Daemon(users={"alice": "200M"}).start()
    try:
        a, b, f = Ctl(d), Ctl(d), d.ftp()
        assert stor(f, "y", b"").startswith("226")
        for i in range(12):
            conn = socket.create_connection(a.pasv(), 15)
            code, text = a.cmd("STOR x")
            assert code == 150, text
            stop = threading.Event()

            def send():
                for _ in range(256):
                    conn.sendall(b"w" * 16 * KiB)
                stop.set()
                conn.close()
            t = threading.Thread(target=send)
            t.start()
            n = 0
            while not stop.is_set() and n < 2000:
                if i % 2 == 0:
                    b.cmd("DELE x")
                else:
                    b.cmd("RNFR y")
                    b.cmd("RNTO x")
                    b.cmd("RNFR x")
                    b.cmd("RNTO y")
                n += 1
            t.join(60)
            assert not t.is_alive(), "the upload hung"
            code, text = a.resp()
            assert code == 226, text
            q = check_quota(f, d, 200 * MiB)
            assert q["used"] == disk_usage(d), (i, q, disk_usage(d))
        for n in os.listdir(d.home("alice")):
            f.delete(n)
        q = check_quota(f, d, 200 * MiB)
        assert q["used"] == 0, q
        f.quit()
        a.close()
        b.close()
    finally:
        d.stop()


def t_ledger_reuse():
    """ledger_slots=16: idle entries are reused; 16 live accounts fill it."""
    names = ["u%02d" % i for i in range(20)]
    d = Daemon(extra={"ledger_slots": "16", "max_per_ip": "100",
                      "max_clients": "100"},
               users={n: "100K" for n in names}).start()
    live = []
    try:
        for i, n in enumerate(names):
            f = d.ftp(n)
            q = check_quota(f, d, 100 * KiB, n)
            assert q["used"] == 0, (n, q)
            r = stor(f, "x", b"z" * (1000 + i))
            assert r.startswith("226"), (n, r)
            q = check_quota(f, d, 100 * KiB, n)
            assert q["used"] == 1000 + i, (n, q)
            f.quit()
        # u00's slot went to a later account: a new login rescans its home
        f = d.ftp("u00")
        q = check_quota(f, d, 100 * KiB, "u00")
        assert q["used"] == 1000, q
        f.quit()
        wait_for(lambda: not d.children(), 5, "sessions to end")
        # 16 accounts with live sessions use every slot
        live = [d.ftp(n) for n in names[:16]]
        g = d.ftp(names[16], login=False)
        try:
            g.login(names[16], d.passwords[names[16]])
            raise AssertionError("17th account logged in with 16 slots")
        except ftplib.error_temp as e:
            assert str(e) == FULL, str(e)
        g.close()
        assert "quota ledger full" in d.read_log()
        live.pop(3).quit()

        def again():
            try:
                live.append(d.ftp(names[16]))
                return True
            except ftplib.error_temp as e:
                assert str(e) == FULL, str(e)
                return False
        wait_for(again, 5, "a slot after one account logged out")
        q = check_quota(live[-1], d, 100 * KiB, names[16])
        assert q["used"] == 1016, q
        for s in live:
            s.voidcmd("NOOP")
            s.quit()
        live = []
    finally:
        for s in live:
            s.close()
        d.stop()


def t_stale_login():
    """A connection made before `moatadm quota` logs in after it: the new
    limit stays for every session (the monitor's user db is older)."""
    d = Daemon(users={"alice": "1M"}).start()
    a = b = None
    try:
        a = d.ftp()
        check_quota(a, d, MiB)
        b = d.ftp(login=False)
        d.adm("quota", "alice", "2M")
        wait_for(lambda: site_quota(a)["limit"] == 2 * MiB, 5,
                 "the new limit")
        b.login("alice", d.passwords["alice"])
        check_quota(b, d, 2 * MiB)
        check_quota(a, d, 2 * MiB)
        r = stor(a, "big.bin", content(1536 * KiB, 9))
        assert r.startswith("226"), r
        a.quit()
        b.quit()
        a = b = None
    finally:
        for c in (a, b):
            if c is not None:
                c.close()
        d.stop()


def t_adm_partition():
    """moatadm quota refuses a limit larger than the partition."""
    d = Daemon(users={"alice": "1M"})
    try:
        st = os.statvfs(d.home("alice"))
        total = st.f_blocks * st.f_frsize
        before = d.adm("show", "alice").stdout
        for size in (str(total + MiB), "15E"):
            p = d.adm("quota", "alice", size, check=False)
            assert p.returncode == 2, (size, p.returncode, p.stderr)
            assert "larger than the partition" in p.stderr, p.stderr
            assert d.adm("show", "alice").stdout == before
        p = d.adm("quota", "alice", "+15E", check=False)
        assert p.returncode == 2, p.returncode
        # within the partition it is taken
        p = d.adm("quota", "alice", "3M")
        assert "(%d bytes)" % (3 * MiB) in d.adm("show", "alice").stdout
    finally:
        d.stop()


r = Runner("quota")
r.run(t_flow, False)
r.run(t_flow, True)
r.run(t_concurrent, False)
r.run(t_concurrent, True)
r.run(t_stale_login)
r.run(t_same_file_twice)
r.run(t_same_file_together)
r.run(t_gone_while_written)
r.run(t_overwrite_after_dele)
r.run(t_dele_during_writes)
r.run(t_ledger_reuse)
r.run(t_adm_partition)
r.done()
