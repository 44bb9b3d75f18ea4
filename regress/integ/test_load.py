"""Load: 200 concurrent clients against max_clients=20 (the rest wait in the
master's queue). Each logs in, uploads a few files of random content between
1 KiB and 5 MiB, downloads them back and checks every digest, overwrites one
and checks it again. A client may see nothing but success, a silent wait in
the queue, or a clean 421 refusal at connect (then it retries).

Afterwards: not one byte lost or corrupted, the ledger agrees with the disk
for every account, a new login works, no process is left behind and the
master holds exactly the descriptors it held before.

Run as: /usr/bin/python3 regress/integ/test_load.py
"""
import ftplib
import hashlib
import io
import math
import os
import random
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from moatlib import Daemon, Runner  # noqa: E402

KiB = 1024
MiB = 1024 * KiB
CLIENTS = 200
FILES = 2
USERS = ["load%d" % i for i in range(10)]
BUDGET = 150 * MiB		# uploaded in all; as much again comes back
DEADLINE = 100			# seconds for the whole run of clients


def plan(seed=7):
    """Sizes of every client's files: log-uniform in [1 KiB, 5 MiB], with
    both edges present, scaled down (never below 1 KiB) to the budget."""
    rnd = random.Random(seed)
    lo, hi = math.log(KiB), math.log(5 * MiB)
    sizes = [[int(math.exp(rnd.uniform(lo, hi))) for _ in range(FILES)]
             for _ in range(CLIENTS)]
    sizes[0][0], sizes[1][0] = KiB, 5 * MiB
    total = sum(map(sum, sizes))
    if total > BUDGET:
        big = [(c, k) for c in range(2, CLIENTS) for k in range(FILES)]
        rnd.shuffle(big)
        for c, k in big:
            if total <= BUDGET:
                break
            cut = sizes[c][k] - KiB
            sizes[c][k] = KiB
            total -= cut
    return sizes


def sha(b):
    return hashlib.sha256(b).hexdigest()


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


class Client:
    def __init__(self, d, idx, sizes):
        self.d = d
        self.idx = idx
        self.sizes = sizes
        self.user = USERS[idx % len(USERS)]
        self.refusals = 0
        self.error = None
        self.moved = 0

    def connect(self):
        """A logged-in session; a 421 at connect is retried (bounded)."""
        for attempt in range(40):
            f = ftplib.FTP(timeout=90)
            try:
                f.connect("127.0.0.1", self.d.port)
            except ftplib.error_temp as e:
                f.close()
                if not str(e).startswith("421"):
                    raise
                self.refusals += 1
                time.sleep(0.2 + random.random() * 0.5)
                continue
            f.login(self.user, self.d.passwords[self.user])
            return f
        raise AssertionError("refused 40 times")

    def put(self, f, name, data):
        r = f.storbinary("STOR " + name, io.BytesIO(data),
                         blocksize=256 * KiB)
        assert r.startswith("226"), r
        self.moved += len(data)

    def get(self, f, name):
        h = hashlib.sha256()
        n = [0]

        def take(b):
            h.update(b)
            n[0] += len(b)
        r = f.retrbinary("RETR " + name, take, blocksize=256 * KiB)
        assert r.startswith("226"), r
        self.moved += n[0]
        return h.hexdigest(), n[0]

    def run(self):
        try:
            rnd = random.Random(1000 + self.idx)
            f = self.connect()
            try:
                names, digests = [], []
                for k, size in enumerate(self.sizes):
                    name = "c%03d-%d.bin" % (self.idx, k)
                    data = rnd.randbytes(size)
                    self.put(f, name, data)
                    names.append(name)
                    digests.append((sha(data), size))
                    del data
                for name, want in zip(names, digests):
                    got = self.get(f, name)
                    assert got == want, "%s: got %r want %r" % (name, got,
                                                                want)
                    assert f.size(name) == want[1], name
                # overwrite the first with something else, check again
                data = rnd.randbytes(KiB + self.idx)
                self.put(f, names[0], data)
                assert self.get(f, names[0]) == (sha(data), len(data))
                self.final = {names[0]: (sha(data), len(data))}
                for name, want in zip(names[1:], digests[1:]):
                    self.final[name] = want
                f.quit()
            finally:
                f.close()
        except Exception as e:  # noqa: BLE001 - collected and reported
            self.error = "client %d (%s): %r" % (self.idx, self.user, e)


def disk_usage(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def t_load():
    users = {u: None for u in USERS}
    users[USERS[0]] = "10G"		# one account charged against a limit
    d = Daemon(extra={"max_clients": "20", "queue_max": "300",
                      "queue_timeout": "60", "max_per_ip": "1000",
                      "max_per_user": "1000"}, users=users).start()
    try:
        master = d.proc.pid
        assert open("/proc/%d/comm" % master).read().strip() == "moatftpd"
        # the spares' sockets are the master's too: count with all four
        wait_for(lambda: not d.children() and len(d.spares()) == 4, 10,
                 "the probe's monitor to go, four spares")
        fds_before = fd_count(master)
        sizes = plan()
        clients = [Client(d, i, sizes[i]) for i in range(CLIENTS)]
        threads = [threading.Thread(target=c.run, daemon=True)
                   for c in clients]
        t0 = time.time()
        peak = [0]
        for t in threads:
            t.start()
        # watch the process count: never more than max_clients sessions
        # (each may have a jail or TLS relay beside it)
        while any(t.is_alive() for t in threads):
            if time.time() - t0 > DEADLINE:
                raise AssertionError("clients still running after %d s" %
                                     DEADLINE)
            kids = d.children()
            peak[0] = max(peak[0], len(kids))
            time.sleep(0.2)
        elapsed = time.time() - t0
        errors = [c.error for c in clients if c.error]
        assert not errors, "%d clients failed:\n%s" % (
            len(errors), "\n".join(errors[:10]))
        moved = sum(c.moved for c in clients)
        refusals = sum(c.refusals for c in clients)
        print("     %d clients, %.0f MiB moved in %.1f s, %d refusals, "
              "peak %d processes" % (CLIENTS, moved / MiB, elapsed,
                                     refusals, peak[0]))
        assert peak[0] <= 2 * 20, "peak %d processes" % peak[0]
        # every file on disk is what its client last stored
        for c in clients:
            home = d.home(c.user)
            for name, (digest, size) in c.final.items():
                p = os.path.join(home, name)
                assert os.path.getsize(p) == size, p
                with open(p, "rb") as fh:
                    assert sha(fh.read()) == digest, p
        # the daemon is healthy, and the ledger agrees with the disk
        for u in USERS:
            f = d.ftp(u)
            r = f.sendcmd("SITE QUOTA")
            m = re.match(r"200 used=(\d+) limit=(\d+)", r)
            assert m, r
            assert int(m.group(1)) == disk_usage(d.home(u)), (u, r)
            if u == USERS[0]:
                assert int(m.group(2)) == 10 << 30, r
            f.quit()
        # no process left, no descriptor leaked in the master
        wait_for(lambda: not d.children() and len(d.spares()) == 4, 10,
                 "every session to exit, four spares")
        wait_for(lambda: fd_count(master) == fds_before, 5,
                 "master descriptors back to %d (now %d: %s)" % (
                     fds_before, fd_count(master),
                     sorted(os.listdir("/proc/%d/fd" % master))))
        log = d.read_log()
        assert "died of signal" not in log, [
            line for line in log.splitlines() if "died of signal" in line]
    finally:
        d.stop()


r = Runner("load")
r.run(t_load)
r.done()
