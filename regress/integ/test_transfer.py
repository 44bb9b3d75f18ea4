"""Transfers against the real daemon, as root and as an ordinary user: a
100 MB round trip checked by SHA-256 (and HASH, XMD5), resume after a real
interruption (REST+RETR, REST+STOR, APPE), ABOR during a large RETR, STAT
and NOOP during transfers, and STOR without a data connection."""
import ftplib
import hashlib
import io
import os
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from moatlib import (Daemon, Runner, free_port, make_file,  # noqa: E402
                     proc_title, put_file, sha256_file)
from ftpraw import Ctl  # noqa: E402

BIG = 100 * 1024 * 1024
MB = 1 << 20
TMP = tempfile.mkdtemp(prefix="moat-xfer-")


def digests(path):
    s, m = hashlib.sha256(), hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MB), b""):
            s.update(chunk)
            m.update(chunk)
    return s.hexdigest(), m.hexdigest()


def rst_close(sock):
    """Close with a reset: the transfer is cut, not finished."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    sock.close()


def t_big(d, src, want_sha, want_md5):
    f = d.ftp(timeout=60)
    with open(src, "rb") as fp:
        f.storbinary("STOR big.bin", fp, blocksize=MB)
    assert f.size("big.bin") == BIG
    assert sha256_file(os.path.join(d.home("alice"), "big.bin")) == want_sha
    h = hashlib.sha256()
    n = [0]

    def sink(b):
        h.update(b)
        n[0] += len(b)
    f.retrbinary("RETR big.bin", sink, blocksize=MB)
    assert n[0] == BIG and h.hexdigest() == want_sha, n[0]
    assert f.sendcmd("HASH big.bin") == "213 SHA-256 0-%d %s big.bin" % (
        BIG, want_sha)
    assert f.sendcmd("XMD5 big.bin") == "250 " + want_md5
    assert f.sendcmd("XSHA256 big.bin") == "250 " + want_sha
    f.delete("big.bin")
    f.quit()


def t_resume_retr(d):
    size = 40 * MB
    src = put_file(d, "r.bin", size, 7)
    want = sha256_file(src)
    f = d.ftp(timeout=30)
    f.voidcmd("TYPE I")
    conn = f.transfercmd("RETR r.bin")
    part = bytearray()
    while len(part) < 5 * MB:
        part += conn.recv(MB)
    rst_close(conn)                     # cut mid-transfer
    try:
        resp = f.voidresp()
    except ftplib.all_errors as e:
        resp = str(e)
    assert resp[:3] in ("426", "451"), resp
    f.voidcmd("NOOP")
    # resume from what we have
    h = hashlib.sha256(part)
    conn = f.transfercmd("RETR r.bin", rest=len(part))
    got = len(part)
    while True:
        b = conn.recv(MB)
        if not b:
            break
        h.update(b)
        got += len(b)
    conn.close()
    f.voidresp()
    assert got == size and h.hexdigest() == want, got
    f.quit()


def t_resume_stor(d, how):
    """Cut an upload with a reset; SIZE says what arrived; REST+STOR (or
    APPE) sends the rest; the digests match."""
    size = 30 * MB
    src = make_file(os.path.join(TMP, "up-%s.bin" % how), size, 11)
    want = sha256_file(src)
    f = d.ftp(timeout=30)
    f.voidcmd("TYPE I")
    conn = f.transfercmd("STOR u.bin")
    with open(src, "rb") as fp:
        conn.sendall(fp.read(8 * MB))
    time.sleep(0.2)
    rst_close(conn)
    try:
        resp = f.voidresp()
    except ftplib.all_errors as e:
        resp = str(e)
    assert resp[:3] in ("226", "426", "451"), resp
    have = f.size("u.bin")
    assert 0 < have <= 8 * MB, have
    if how == "REST":
        conn = f.transfercmd("STOR u.bin", rest=have)
    else:
        conn = f.transfercmd("APPE u.bin")
    with open(src, "rb") as fp:
        fp.seek(have)
        for chunk in iter(lambda: fp.read(MB), b""):
            conn.sendall(chunk)
    conn.close()
    f.voidresp()
    assert f.size("u.bin") == size
    assert sha256_file(os.path.join(d.home("alice"), "u.bin")) == want
    assert f.sendcmd("XSHA256 u.bin") == "250 " + want
    f.delete("u.bin")
    f.quit()
    os.unlink(src)


def t_abor(d, oob):
    """ABOR during a large RETR: 426 then 226, the session goes on.
    oob: the ABOR as ftplib sends it (MSG_OOB); else plain with Telnet
    IP/Synch bytes in front."""
    put_file(d, "a.bin", 64 * MB, 3)
    f = d.ftp(timeout=20)
    f.voidcmd("TYPE I")
    conn = f.transfercmd("RETR a.bin")
    got = 0
    while got < 2 * MB:
        got += len(conn.recv(MB))
    if oob:
        resp = f.abort()                # sends ABOR with MSG_OOB
        assert resp[:3] == "426", resp
    else:
        f.sock.sendall(b"\xff\xf4\xff\xf2ABOR\r\n")
        resp = f.getline()
        assert resp[:3] == "426", resp
    resp = f.getline()
    assert resp[:3] == "226", resp
    conn.close()
    # usable afterwards: commands and a whole transfer
    f.voidcmd("NOOP")
    assert f.pwd() == "/"
    h = hashlib.sha256()
    f.retrbinary("RETR a.bin", h.update, blocksize=MB)
    assert h.hexdigest() == sha256_file(os.path.join(d.home("alice"),
                                                     "a.bin"))
    # ABOR during a STOR: 426, 226, and the part that came is kept
    conn = f.transfercmd("STOR part.bin")
    conn.sendall(b"p" * (3 * MB))
    time.sleep(0.3)
    if oob:
        resp = f.abort()
        assert resp[:3] == "426", resp
    else:
        f.sock.sendall(b"ABOR\r\n")
        resp = f.getline()
        assert resp[:3] == "426", resp
    resp = f.getline()
    assert resp[:3] == "226", resp
    conn.close()
    have = f.size("part.bin")
    assert 0 < have <= 3 * MB, have
    f.voidcmd("NOOP")
    f.quit()


def t_stat_noop_during(d):
    """STAT and NOOP are answered while a RETR and a STOR run."""
    size = 48 * MB
    src = put_file(d, "s.bin", size, 5)
    want = sha256_file(src)
    c = Ctl(d)
    c.expect("TYPE I", 200)
    addr = c.pasv()
    conn = socket.create_connection(addr, 15)
    conn.settimeout(15)
    c.expect("RETR s.bin", 150)
    h = hashlib.sha256()
    got = 0
    while got < 4 * MB:
        b = conn.recv(MB)
        h.update(b)
        got += len(b)
    code, text = c.cmd("STAT")
    assert code in (211, 212, 213), text
    c.expect("NOOP", 200)
    while True:
        b = conn.recv(MB)
        if not b:
            break
        h.update(b)
        got += len(b)
    conn.close()
    code, text = c.resp()
    assert code == 226, text
    assert got == size and h.hexdigest() == want
    # and during a STOR
    addr = c.pasv()
    conn = socket.create_connection(addr, 15)
    c.expect("STOR t.bin", 150)
    with open(src, "rb") as fp:
        conn.sendall(fp.read(16 * MB))
        code, text = c.cmd("STAT")
        assert code in (211, 212, 213), text
        c.expect("NOOP", 200)
        for chunk in iter(lambda: fp.read(MB), b""):
            conn.sendall(chunk)
    conn.close()
    code, text = c.resp()
    assert code == 226, text
    assert sha256_file(os.path.join(d.home("alice"), "t.bin")) == want
    # commands other than ABOR/STAT/NOOP wait for the transfer to end
    addr = c.pasv()
    conn = socket.create_connection(addr, 15)
    c.expect("STOR w.bin", 150)
    conn.sendall(b"x" * MB)
    c.send("PWD")
    time.sleep(0.3)
    conn.sendall(b"y" * MB)
    conn.close()
    code, text = c.resp()
    assert code == 226, text
    code, text = c.resp()
    assert code == 257, text
    assert os.path.getsize(os.path.join(d.home("alice"), "w.bin")) == 2 * MB
    c.expect("QUIT", 221)
    c.close()


def t_stor_without_data(d):
    """STOR before PASV/PORT is a 425 and leaves an existing file alone."""
    put_file(d, "keep.bin", 4096, 1)
    c = Ctl(d)
    c.expect("STOR keep.bin", 425)
    c.expect("APPE keep.bin", 425)
    c.expect("STOU", 425)
    c.expect("RETR keep.bin", 425)
    assert os.path.getsize(os.path.join(d.home("alice"), "keep.bin")) == 4096
    assert sorted(os.listdir(d.home("alice"))) == ["keep.bin"]
    c.close()


def t_stor_data_fails(d):
    """A data connection that never comes (data_timeout) leaves the file
    being overwritten whole."""
    put_file(d, "keep.bin", 4096, 1)
    c = Ctl(d)
    c.pasv()
    c.expect("STOR keep.bin", 150)
    code, text = c.resp()
    assert code == 425, text
    assert os.path.getsize(os.path.join(d.home("alice"), "keep.bin")) == 4096
    free = free_port()                  # nobody listens there
    c.expect("PORT 127,0,0,1,%d,%d" % (free >> 8, free & 255), 200)
    c.expect("STOR keep.bin", 150)
    code, text = c.resp()
    assert code == 425, text
    assert os.path.getsize(os.path.join(d.home("alice"), "keep.bin")) == 4096
    c.expect("NOOP", 200)
    c.close()


def t_fifo(d):
    """A FIFO in the home is no file to transfer: RETR, STOR and APPE of it
    get 550 at once (they used to block the session in open() for ever)."""
    p = os.path.join(d.home("alice"), "pipe")
    os.mkfifo(p)
    st = os.stat(d.home("alice"))
    os.chown(p, st.st_uid, st.st_gid)
    c = Ctl(d, timeout=10)
    for verb in ("RETR pipe", "STOR pipe", "APPE pipe"):
        t0 = time.time()
        c.pasv()
        code, text = c.cmd(verb)
        assert code == 550 and "regular" in text, (verb, text)
        assert time.time() - t0 < 5, verb
    c.expect("NOOP", 200)
    c.close()


def t_rest_cleared(d):
    """A REST is for the next transfer only: any other command but the data
    connection's setup drops it, so it cannot cut a later STOR's file."""
    p = put_file(d, "data.txt", 0, 0)
    with open(p, "wb") as f:
        f.write(b"0123456789")
    c = Ctl(d)
    c.expect("TYPE I", 200)
    c.expect("REST 4", 350)
    c.expect("PWD", 257)
    c.expect("SIZE data.txt", 213)
    c.data("PASV", "LIST")
    got, (code, text) = c.data("PASV", "STOR data.txt", b"ABC")
    assert code == 226, text
    with open(p, "rb") as f:
        assert f.read() == b"ABC"
    # in ASCII mode a restart marker counts stream bytes: refused
    c.expect("TYPE A", 200)
    c.expect("REST 2", 350)
    c.pasv()
    c.expect("RETR data.txt", 504)
    c.expect("REST 2", 350)
    c.expect("STOR data.txt", 504)
    with open(p, "rb") as f:
        assert f.read() == b"ABC"
    # REST, then PASV and TYPE: still a resumed upload
    c.expect("REST 2", 350)
    c.expect("TYPE I", 200)
    got, (code, text) = c.data("PASV", "STOR data.txt", b"xyz")
    assert code == 226, text
    with open(p, "rb") as f:
        assert f.read() == b"ABxyz"
    c.close()


def t_failed_upload_leaves_nothing(d):
    """An upload whose data connection fails (or whose REST is past the
    end) leaves no new empty file behind; an existing file stays whole."""
    home = d.home("alice")
    c = Ctl(d)
    free = free_port()                  # nobody listens there
    for verb in ("STOR new.bin", "APPE new2.bin", "STOU"):
        c.expect("PORT 127,0,0,1,%d,%d" % (free >> 8, free & 255), 200)
        code, text = c.cmd(verb)
        if code == 150:
            code, text = c.resp()
        assert code == 425, (verb, text)
    c.pasv()
    c.expect("REST 100", 350)
    code, text = c.cmd("STOR ghost.bin")
    assert code == 554, text
    assert os.listdir(home) == [], os.listdir(home)
    c.expect("NOOP", 200)
    c.close()


def t_upload_race_keeps_file(d):
    """Session A's STOR whose data connection never comes must not take
    away the file session B uploaded meanwhile (nothing is made before the
    data connection is up); a STOR onto a dangling link makes its target
    inside the home, as always."""
    home = d.home("alice")
    st = os.stat(home)
    os.symlink("target.txt", os.path.join(home, "dangling"))
    os.lchown(os.path.join(home, "dangling"), st.st_uid, st.st_gid)
    a, b = Ctl(d), d.ftp(timeout=20)
    a.pasv()
    a.expect("STOR y", 150)
    time.sleep(1.5)
    conn = b.transfercmd("STOR y")      # B's file, empty for now
    code, text = a.resp()               # A's data_timeout (4 s) passes
    assert code == 425, text
    conn.sendall(b"B's data")
    conn.close()
    b.voidresp()
    with open(os.path.join(home, "y"), "rb") as f:
        assert f.read() == b"B's data"
    b.storbinary("STOR dangling", io.BytesIO(b"hello"))
    with open(os.path.join(home, "target.txt"), "rb") as f:
        assert f.read() == b"hello"
    a.close()
    b.quit()


def t_appe_together(d):
    """Two sessions appending to one file at once both land at its end:
    the second APPE took the size at its start as its offset and wrote
    over the first one's data."""
    put_file(d, "log.txt", 0, 0)
    a, b = Ctl(d), Ctl(d)
    ca = socket.create_connection(a.pasv(), 15)
    a.expect("APPE log.txt", 150)
    cb = socket.create_connection(b.pasv(), 15)
    b.expect("APPE log.txt", 150)
    ca.sendall(b"A" * 1000)
    ca.close()
    assert a.resp()[0] == 226
    cb.sendall(b"B" * 1000)
    cb.close()
    assert b.resp()[0] == 226
    with open(os.path.join(d.home("alice"), "log.txt"), "rb") as f:
        assert f.read() == b"A" * 1000 + b"B" * 1000
    a.close()
    b.close()


def xferlog_last(d):
    with open(os.path.join(d.dir, "xferlog")) as f:
        return f.read().splitlines()[-1].split()


def t_cut_retr_logged(d):
    """A RETR cut short is logged (xferlog, STAT) with the bytes it sent,
    marked incomplete."""
    put_file(d, "c.bin", 64 * MB, 5)
    f = d.ftp(timeout=20)
    f.voidcmd("TYPE I")
    conn = f.transfercmd("RETR c.bin")
    got = 0
    while got < 4 * MB:
        got += len(conn.recv(MB))
    rst_close(conn)
    try:
        f.voidresp()
    except ftplib.all_errors:
        pass
    f.voidcmd("NOOP")
    rec = xferlog_last(d)
    assert rec[-1] == "i" and rec[-5] == "alice", rec
    assert int(rec[7]) >= 4 * MB, rec
    assert "bytes out" in f.sendcmd("STAT")
    f.quit()


def t_abor_before_connect(d):
    """ABOR while the server waits for the client to open the PASV data
    connection ends the wait at once (it took data_timeout before)."""
    put_file(d, "w.bin", 4096, 2)
    c = Ctl(d)
    c.pasv()
    c.expect("RETR w.bin", 150)
    t0 = time.time()
    c.send("ABOR")
    assert c.resp()[0] == 426
    assert c.resp()[0] == 226
    assert time.time() - t0 < 3, time.time() - t0
    c.expect("NOOP", 200)
    # an ABOR sent in the same write as the RETR is seen too
    c.pasv()
    t0 = time.time()
    c.send(b"RETR w.bin\r\nABOR\r\n")
    assert c.resp()[0] == 150
    assert c.resp()[0] == 426
    assert c.resp()[0] == 226
    assert time.time() - t0 < 3, time.time() - t0
    c.expect("NOOP", 200)
    c.close()


def t_kill_no_abor_reply(d):
    """A session ended by SIGTERM (moatadm kick) during a RETR says 426 and
    421, and no "226 ABOR" for an ABOR nobody sent."""
    put_file(d, "k.bin", 64 * MB, 6)
    f = d.ftp(timeout=20)
    f.voidcmd("TYPE I")
    conn = f.transfercmd("RETR k.bin")
    conn.recv(MB)
    sess = [k for k in d.children()
            if proc_title(k).startswith(b"moatftpd: alice@")]
    assert len(sess) == 1, sess
    os.kill(sess[0], signal.SIGTERM)
    replies = []
    while True:
        try:
            replies.append(f.getline()[:3])
        except (EOFError, OSError):
            break
    conn.close()
    assert replies == ["426", "421"], replies


def clean_home(d):
    h = d.home("alice")
    for n in os.listdir(h):
        p = os.path.join(h, n)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.unlink(p)


def main():
    r = Runner("transfer")
    src = make_file(os.path.join(TMP, "big.bin"), BIG, 42)
    want_sha, want_md5 = digests(src)
    try:
        for root in (True, False):
            d = Daemon(root=root).start()
            tag = "root" if root else "user"
            try:
                for fn, args in ((t_stor_without_data, ()),
                                 (t_big, (src, want_sha, want_md5)),
                                 (t_resume_retr, ()),
                                 (t_resume_stor, ("REST",)),
                                 (t_resume_stor, ("APPE",)),
                                 (t_appe_together, ()),
                                 (t_abor, (False,)), (t_abor, (True,)),
                                 (t_stat_noop_during, ()), (t_fifo, ()),
                                 (t_rest_cleared, ()),
                                 (t_failed_upload_leaves_nothing, ()),
                                 (t_cut_retr_logged, ()),
                                 (t_kill_no_abor_reply, ()),
                                 (t_abor_before_connect, ())):
                    clean_home(d)

                    def case(fn=fn, args=args):
                        fn(d, *args)
                    shown = [a for a in args if a in (True, False, "REST", "APPE")]
                    case.__name__ = "%s%s[%s]" % (
                        fn.__name__[2:], "".join("(%s)" % a for a in shown),
                        tag)
                    r.run(case)
            finally:
                d.stop()
            d = Daemon(root=root, extra={"data_timeout": "2"}).start()
            try:
                def stor_data_fails(d=d):
                    t_stor_data_fails(d)
                stor_data_fails.__name__ = "stor_data_fails[%s]" % tag
                r.run(stor_data_fails)
            finally:
                d.stop()
            d = Daemon(root=root, extra={"data_timeout": "4"}).start()
            try:
                def upload_race_keeps_file(d=d):
                    t_upload_race_keeps_file(d)
                upload_race_keeps_file.__name__ = \
                    "upload_race_keeps_file[%s]" % tag
                r.run(upload_race_keeps_file)
            finally:
                d.stop()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    r.done()


main()
