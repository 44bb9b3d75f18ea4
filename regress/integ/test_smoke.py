"""Smoke: the daemon starts as root and as an ordinary user, and serves a
login, an upload, a listing and a download with ftplib and curl."""
import io
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from moatlib import Daemon, Runner, IS_ROOT  # noqa: E402


def roundtrip(root):
    d = Daemon(root=root).start()
    try:
        f = d.ftp()
        f.storbinary("STOR a.txt", io.BytesIO(b"hello\n"))
        assert f.nlst() == ["a.txt"], f.nlst()
        buf = io.BytesIO()
        f.retrbinary("RETR a.txt", buf.write)
        assert buf.getvalue() == b"hello\n"
        f.quit()
        p = d.curl(d.url("/a.txt"))
        assert p.stdout == b"hello\n", p.stdout
        log = d.read_log()
        mode = "root mode" if root and IS_ROOT else "unprivileged mode"
        assert mode in log, log
    finally:
        d.stop()


r = Runner("smoke")
r.run(roundtrip, True)
r.run(roundtrip, False)
r.done()
