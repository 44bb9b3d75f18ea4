"""Leak check of the master: run moatftpd -f under valgrind (master only:
the forked monitors, jails and sessions are silenced with
--child-silent-after-fork), do MOAT_SESSIONS (default 1000) quick logins,
SIGTERM, and fail if the master's leak summary shows definitely or
indirectly lost bytes, or any error. Run by `make valgrind`; not an
integration test (it is slow), hence no test_ prefix.
"""
import ftplib
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from moatlib import MOATFTPD, Daemon  # noqa: E402

SESSIONS = int(os.environ.get("MOAT_SESSIONS", "1000"))
WORKERS = 4


class VgDaemon(Daemon):
    def start(self, debug=False, wait=True):
        self.vglog = os.path.join(self.dir, "vg.%p")
        argv = ["valgrind", "--leak-check=full", "--trace-children=no",
                "--error-exitcode=1",
                "--log-file=" + self.vglog,
                MOATFTPD, "-f", "-d", "-c", self.conf]
        self.log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(self._wrap(argv), stdout=self.log,
                                     stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready(timeout=60)
        return self


def main():
    # no fail delay, room for the workers; sessions stay short
    d = VgDaemon(extra={"max_per_user": "20", "max_per_ip": "50",
                        "max_clients": "50", "prefork_spares": "2"})
    # yescrypt under valgrind takes most of a second per login: give alice
    # a cheap SHA-256 crypt hash so 1000 logins fit in minutes
    h = subprocess.run(["openssl", "passwd", "-5", "-salt", "vgsalt",
                        d.passwords["alice"]], capture_output=True,
                       text=True, check=True).stdout.strip()
    db = os.path.join(d.dir, "users.db")
    with open(db) as f:
        lines = f.read().splitlines()
    with open(db + ".tmp", "w") as f:
        for ln in lines:
            parts = ln.split(":")
            if parts[0] == "alice":
                parts[1] = h
            f.write(":".join(parts) + "\n")
    os.chmod(db + ".tmp", 0o600)
    os.rename(db + ".tmp", db)
    d.start()
    done = [0]
    errors = []
    lock = threading.Lock()

    def worker(n):
        for _ in range(n):
            try:
                f = ftplib.FTP(timeout=60)
                f.connect("127.0.0.1", d.port)
                f.login("alice", d.passwords["alice"])
                f.voidcmd("NOOP")
                f.quit()
                with lock:
                    done[0] += 1
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

    t0 = time.time()
    per = SESSIONS // WORKERS
    threads = [threading.Thread(target=worker, args=(per,))
               for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.time() - t0
    pid = d.proc.pid
    d.proc.send_signal(signal.SIGTERM)
    rc = d.proc.wait(120)
    with open(os.path.join(d.dir, "vg.%d" % pid)) as f:
        report = f.read()
    print("%d logins (%d errors) in %.0fs under valgrind; master exit %d" %
          (done[0], len(errors), took, rc))
    summary = report[report.find("HEAP SUMMARY"):]
    print(summary)
    lost = {k: int(v.replace(",", "")) for k, v in re.findall(
        r"(definitely|indirectly) lost: ([\d,]+) bytes", report)}
    m = re.search(r"ERROR SUMMARY: (\d+) errors", report)
    nerr = int(m.group(1)) if m else -1
    d.stop()
    ok = (done[0] == per * WORKERS and not errors and
          lost.get("definitely", 0) == 0 and lost.get("indirectly", 0) == 0
          and nerr == 0)
    if errors:
        print("first errors:", errors[:3])
    print("valgrind master: %s" % ("ok" if ok else "FAILED"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
