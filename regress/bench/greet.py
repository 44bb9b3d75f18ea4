"""Time to the 220 greeting with and without pre-forked spares: two
moatftpd side by side (prefork_spares = 0 and 4), serial connections,
interleaved in rounds of 20, 200 each by default. Prints p50 and p90 per
daemon and the ratio. Not a test; run as root:

    /usr/bin/python3 regress/bench/greet.py [connections]
"""
import os
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integ"))
from moatlib import Daemon  # noqa: E402


def main():
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    spares = (0, 4)
    ds = {n: Daemon(users={"alice": None},
                    extra={"prefork_spares": str(n)}).start(debug=False)
          for n in spares}
    res = {n: [] for n in spares}
    try:
        time.sleep(1)
        for _ in range(max(1, total // 20)):
            for n in spares:
                for _ in range(20):
                    t = time.perf_counter()
                    s = socket.create_connection(("127.0.0.1", ds[n].port))
                    line = s.makefile("rb").readline()
                    res[n].append((time.perf_counter() - t) * 1000)
                    if not line.startswith(b"220"):
                        raise RuntimeError("no 220: %r" % line)
                    s.close()
                    time.sleep(0.02)    # let the spare be replaced
        p50 = {}
        for n in spares:
            v = sorted(res[n])
            p50[n] = statistics.median(v)
            print("prefork_spares = %d: time to 220 p50 %.2f ms, p90 %.2f ms"
                  " (%d connections)" % (n, p50[n], v[int(len(v) * 0.9)],
                                        len(v)))
        print("ratio p50 (0 / 4): %.2f" % (p50[0] / p50[4]))
    finally:
        for d in ds.values():
            d.stop()


main()
