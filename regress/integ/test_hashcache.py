"""The digest cache of HASH (xattr user.moatftp.<algo>, stamped with size
and mtime): STOR after OPTS HASH stamps the digest it computed while
receiving; HASH answers from a matching stamp and recomputes on a changed
file; an overwrite drops old stamps; a resumed upload and two uploads to
one file at once stamp nothing; our client's verified put leaves the MD5
it was checked against; ABOR stops a long HASH. As root and as an
ordinary user."""
import hashlib
import io
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from moatlib import MOATFTP, SLOW, Daemon, Runner  # noqa: E402

TMP = tempfile.mkdtemp(prefix="moat-hcache-")
XA = "user.moatftp."


def xattrs(path):
    try:
        names = os.listxattr(path)
    except OSError:
        return {}
    return {n[len(XA):]: os.getxattr(path, n).decode()
            for n in names if n.startswith(XA)}


def data(n, seed):
    return hashlib.sha256(b"%d" % seed).digest() * (n // 32) + b"x" * (n % 32)


def stor(f, name, blob, rest=None):
    f.storbinary("STOR " + name, io.BytesIO(blob), rest=rest)


def hash_of(f, name):
    r = f.sendcmd("HASH " + name)
    assert r.startswith("213 "), r
    return r.split()[3]


def t_stor_stamps(d):
    f = d.ftp()
    assert f.sendcmd("OPTS HASH SHA-256").startswith("200")
    blob = data(300000, 1)
    stor(f, "a.bin", blob)
    p = os.path.join(d.home("alice"), "a.bin")
    x = xattrs(p)
    want = hashlib.sha256(blob).hexdigest()
    assert "sha256" in x and x["sha256"].endswith(" " + want), x
    st = os.stat(p)
    assert x["sha256"].split()[0] == str(st.st_size), x
    assert hash_of(f, "a.bin") == want
    f.quit()


def t_no_opts_no_stamp(d):
    """A client that never said OPTS HASH pays nothing at STOR time."""
    f = d.ftp()
    blob = data(100000, 2)
    stor(f, "b.bin", blob)
    p = os.path.join(d.home("alice"), "b.bin")
    assert "sha256" not in xattrs(p), xattrs(p)
    # the first HASH computes and stamps; the next answers from the stamp
    want = hashlib.sha256(blob).hexdigest()
    assert hash_of(f, "b.bin") == want
    x = xattrs(p)
    assert x.get("sha256", "").endswith(want), x
    # proof that it is read: a forged digest under a matching stamp is served
    fake = "0" * 64
    os.setxattr(p, XA + "sha256", (x["sha256"][:-64] + fake).encode())
    assert hash_of(f, "b.bin") == fake
    # a changed file (size and mtime) is recomputed and stamped again
    with open(p, "ab") as fp:
        fp.write(b"more")
    want = hashlib.sha256(blob + b"more").hexdigest()
    assert hash_of(f, "b.bin") == want
    assert xattrs(p)["sha256"].endswith(want)
    # the same size and mtime but a broken value: recomputed, not trusted
    os.setxattr(p, XA + "sha256", b"garbage")
    assert hash_of(f, "b.bin") == want
    # XMD5 has its own attribute
    r = f.sendcmd("XMD5 b.bin")
    assert r.split()[1] == hashlib.md5(blob + b"more").hexdigest(), r
    assert "md5" in xattrs(p)
    f.quit()


def t_overwrite_drops(d):
    """An overwrite of the same size within one clock tick keeps the mtime
    resolution from telling: the old stamps must go with the STOR."""
    f = d.ftp()
    one, two = data(5000, 3), data(5000, 4)
    stor(f, "c.bin", one)
    assert hash_of(f, "c.bin") == hashlib.sha256(one).hexdigest()
    p = os.path.join(d.home("alice"), "c.bin")
    st0 = os.stat(p)
    stor(f, "c.bin", two)
    # force the collision: same size, same mtime as the stamped version,
    # so only a dropped (or replaced) stamp gives the new digest
    os.utime(p, ns=(st0.st_atime_ns, st0.st_mtime_ns))
    assert hash_of(f, "c.bin") == hashlib.sha256(two).hexdigest()
    f.quit()


def t_resume_no_stamp(d):
    f = d.ftp()
    f.sendcmd("OPTS HASH SHA-256")
    blob = data(200000, 5)
    stor(f, "r.bin", blob[:50000])
    stor(f, "r.bin", blob[50000:], rest=50000)
    p = os.path.join(d.home("alice"), "r.bin")
    assert "sha256" not in xattrs(p), xattrs(p)
    assert hash_of(f, "r.bin") == hashlib.sha256(blob).hexdigest()
    f.quit()


def t_two_writers(d):
    """Two uploads to one file at once: neither may stamp its own stream."""
    a, b = d.ftp(), d.ftp()
    for f in (a, b):
        f.sendcmd("OPTS HASH SHA-256")
    ca = a.transfercmd("STOR w.bin")
    ca.sendall(data(100000, 6))
    time.sleep(0.2)
    cb = b.transfercmd("STOR w.bin")
    cb.sendall(data(50000, 7))
    cb.close()
    b.voidresp()
    ca.sendall(data(1000, 8))
    ca.close()
    a.voidresp()
    p = os.path.join(d.home("alice"), "w.bin")
    assert "sha256" not in xattrs(p), xattrs(p)
    with open(p, "rb") as fp:
        want = hashlib.sha256(fp.read()).hexdigest()
    assert hash_of(a, "w.bin") == want
    # the next lone upload clears the mark and stamps again
    blob = data(4000, 9)
    stor(a, "w.bin", blob)
    assert xattrs(p).get("sha256", "").endswith(
        hashlib.sha256(blob).hexdigest()), xattrs(p)
    a.quit()
    b.quit()


def t_appe_after_other(d):
    """APPE writes at the end the file has when its data arrives: an upload
    that another session finished while this one's data connection was
    being made is not part of its stream, so it stamps no digest (it
    stamped the digest of its own bytes alone for the whole file)."""
    import socket
    a, b = d.ftp(), d.ftp()
    a.sendcmd("OPTS HASH SHA-256")
    a.voidcmd("TYPE I")
    for name, pre in (("ap0.bin", False), ("ap1.bin", True)):
        if pre:
            stor(b, name, b"")
        host, port = a.makepasv()
        a.putcmd("APPE " + name)    # the file is opened now
        time.sleep(0.3)
        stor(b, name, data(1000, 11))
        conn = socket.create_connection((host, port), 15)
        assert a.getresp().startswith("150"), name
        conn.sendall(data(500, 12))
        conn.close()
        a.voidresp()
        p = os.path.join(d.home("alice"), name)
        with open(p, "rb") as fp:
            disk = fp.read()
        assert len(disk) == 1500, len(disk)
        want = hashlib.sha256(disk).hexdigest()
        assert not xattrs(p).get("sha256", "").endswith(
            hashlib.sha256(data(500, 12)).hexdigest()), xattrs(p)
        assert hash_of(a, name) == want, name
    a.quit()
    b.quit()


def t_client_put(d):
    """moatftp announces MD5 before the upload; the server stamps it."""
    src = os.path.join(TMP, "put.bin")
    blob = data(1 << 20, 10)
    with open(src, "wb") as fp:
        fp.write(blob)
    env = dict(os.environ, MOATFTP_PASSWORD=d.passwords["alice"], HOME=TMP)
    import subprocess
    p = subprocess.run([MOATFTP, "-q", "--tls=off", "-P", str(d.port),
                        "alice@127.0.0.1", "put " + src], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    x = xattrs(os.path.join(d.home("alice"), "put.bin"))
    assert x.get("md5", "").endswith(hashlib.md5(blob).hexdigest()), x


def t_hash_abort(d):
    """ABOR stops a HASH that is still reading: a 16 GiB sparse file takes
    SHA-256 over ten seconds here, and the answer to ABOR comes at once
    (451 for the HASH, 226 for the ABOR). Nothing is stamped, and the
    session goes on."""
    p = os.path.join(d.home("alice"), "huge.bin")
    with open(p, "wb") as fp:
        fp.truncate(16 << 30)
    try:
        f = d.ftp(timeout=60 * SLOW)
        f.putcmd("HASH huge.bin")
        time.sleep(0.3)
        t0 = time.time()
        f.putcmd("ABOR")
        first, second = f.getline(), f.getline()
        took = time.time() - t0
        assert first.startswith("451 "), (first, second)
        assert second.startswith("226 "), (first, second)
        assert took < 3 * SLOW, took
        assert "sha256" not in xattrs(p), xattrs(p)
        assert f.sendcmd("NOOP").startswith("200")
        f.quit()
    finally:
        os.unlink(p)


def main():
    r = Runner("hashcache")
    for root in (True, False):
        d = Daemon(root=root).start()
        for t in (t_stor_stamps, t_no_opts_no_stamp, t_overwrite_drops,
                  t_resume_no_stamp, t_two_writers, t_appe_after_other,
                  t_client_put,
                  t_hash_abort):
            r.run(t, d)
        d.stop()
    import shutil
    shutil.rmtree(TMP, ignore_errors=True)
    r.done()


if __name__ == "__main__":
    main()
