#!/usr/bin/python3
"""LeakSanitizer over the client's exit paths (not a test_* file: run.sh
does not pick it up; `make client-leaks` builds with ASan and runs it).

Each case runs build-asan/moatftp with detect_leaks=1 against a TLS
moatftpd and fails on any leak report: several TLS data connections (each
resumes a pooled session), the shell on stdin, refused certificate, refused
login, a stale part file started over, trees, a lost control connection.
The daemon runs with detect_leaks=0 (its children _exit with memory held).
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
import moatlib  # noqa: E402

CLIENT_ASAN = "detect_leaks=1:abort_on_error=0:exitcode=23"


def main():
    d = moatlib.Daemon(tls=True, users={"alice": 1 << 30})
    d.start()
    work, home = tempfile.mkdtemp(), tempfile.mkdtemp()
    with open(os.path.join(work, "up.bin"), "wb") as f:
        f.write(os.urandom(300000))
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
           "MOATFTP_PASSWORD": d.passwords["alice"],
           "ASAN_OPTIONS": CLIENT_ASAN}
    tgt = "alice@127.0.0.1:%d" % d.port
    ca = ["--cafile", d.cert]
    cases = [
        ("transfers", ca + [tgt, "put -f up.bin", "get -f up.bin", "ls",
                            "put -f up.bin", "get -f up.bin"], None, b""),
        ("active", ["--active"] + ca + [tgt, "ls", "get -f up.bin"], None,
         b""),
        ("shell", ca + [tgt], None, b"ls\nget -f up.bin\nquit\n"),
        ("untrusted", [tgt, "pwd"], None, b""),
        ("bad password", ca + [tgt, "pwd"], "wrong", b""),
        ("refused get", ca + [tgt, "get nosuchfile"], None, b""),
        # a stale part file: resumed, mismatch, discarded, again from 0
        ("stale part", ca + [tgt, "get -f up.bin"], None, b""),
        ("tree", ca + [tgt, "put -r tree", "get -r tree back",
                       "get -r tree back", "del -d -y tree"], None, b""),
    ]
    os.makedirs(os.path.join(work, "tree", "sub"))
    with open(os.path.join(work, "tree", "sub", "f"), "wb") as f:
        f.write(os.urandom(1000))
    passed = failed = 0
    for name, argv, pw, stdin in cases:
        if name == "stale part":
            with open(os.path.join(work, "up.bin.moatpart"), "wb") as f:
                f.write(os.urandom(100000))
        e = dict(env)
        if pw:
            e["MOATFTP_PASSWORD"] = pw
        p = subprocess.run([moatlib.MOATFTP] + argv, cwd=work, env=e,
                           input=stdin, capture_output=True, timeout=120)
        err = p.stderr.decode(errors="replace")
        if "LeakSanitizer" in err or p.returncode == 23:
            failed += 1
            print("FAIL %s\n%s" % (name, err))
        else:
            passed += 1
            print("ok   %s (rc %d)" % (name, p.returncode))
    # the server goes away in the middle of an upload
    with open(os.path.join(work, "big.bin"), "wb") as f:
        f.write(os.urandom(64 << 20))
    p = subprocess.Popen([moatlib.MOATFTP] + ca + [tgt, "put -f big.bin"],
                         cwd=work, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    time.sleep(1)
    for pid in d.children():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    _, err = p.communicate(timeout=60)
    if b"LeakSanitizer" in err or p.returncode == 23:
        failed += 1
        print("FAIL lost connection\n%s" % err.decode(errors="replace"))
    else:
        passed += 1
        print("ok   lost connection (rc %d)" % p.returncode)
    d.stop()
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
