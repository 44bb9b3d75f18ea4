#!/bin/sh
# A tiny run of the benchmark (regress/bench/bench.py): 4 MiB files, 2 s of
# logins, 20 idle sessions, one run each.  Checks that the table and the
# JSON come out with a value for every server and figure; never a number
# threshold.  Needs root (the benchmark adds a system user); skipped
# otherwise.  Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1

if [ "$(id -u)" -ne 0 ]; then
	echo "skip bench smoke: needs root"
	echo "0 passed, 0 failed"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/moat-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

pass=0
fail=0
ok()  { pass=$((pass + 1)); printf 'ok   %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$1"; }

BENCH_SIZE=4M BENCH_SECS=2 BENCH_CLIENTS=4 BENCH_SESSIONS=20 \
BENCH_DIRFILES=300 BENCH_UPLOADS=30 BENCH_RUNS=1 BENCH_IPERF_SECS=1 \
BENCH_JSON="$tmp/bench.json" \
	timeout 500 /usr/bin/python3 regress/bench/bench.py \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 0 ]; then ok "bench exits 0"; else bad "bench exits $rc"; fi

# the table: a header naming the servers and the ratios, one row a figure
if grep -q '^| figure .*| moatftpd | vsftpd | pure-ftpd | moat/vsftpd | moat/pure-ftpd |$' "$tmp/out"; then
	ok "table header"
else
	bad "table header"
fi
rows=$(grep -c '^| [A-Za-z0-9]' "$tmp/out")
# 13 figure rows plus the header
if [ "$rows" -eq 14 ]; then ok "table rows"; else bad "table rows: $rows"; fi
# under each of the four big transfers, curl's CPU and the server's
cpu=$(grep -c '^|   \(curl\|server\) CPU, \(RETR\|STOR\) \(plain\|TLS\) ' "$tmp/out")
if [ "$cpu" -eq 8 ]; then ok "CPU rows"; else bad "CPU rows: $cpu"; fi
if grep -q '^server CPU: all processes of each server, from its ' "$tmp/out"; then
	ok "server CPU line"
else
	bad "server CPU line"
fi
if grep -q '^loopback ceiling (iperf3' "$tmp/out"; then
	ok "loopback line"
else
	bad "loopback line"
fi

if /usr/bin/python3 - "$tmp/bench.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["servers"] == ["moatftpd", "vsftpd", "pure-ftpd"], d["servers"]
assert not d["errors"], d["errors"]
keys = [f["key"] for f in d["figures"]]
assert len(keys) == 23, keys
assert sum(k.endswith(("_ccpu", "_scpu")) for k in keys) == 8, keys
for f in d["figures"]:
    for s in d["servers"]:
        v = f["median"][s]
        if f["key"] in ("verify", "verify_sha256", "verify_get") and \
                s != "moatftpd":
            assert v is None, (f["key"], s)
        elif f["key"] == "mlsd" and s == "vsftpd":   # vsftpd has no MLSD
            assert v is None, (f["key"], s)
        else:
            assert isinstance(v, (int, float)), (f["key"], s, v)
    assert set(f["ratio"]) == {"vsftpd", "pure-ftpd"}, f["ratio"]
assert d["table"] and d["params"]["BENCH_SIZE"] == 4 << 20
PY
then
	ok "json"
else
	bad "json"
fi
if [ "$fail" -ne 0 ]; then
	echo "--- stdout"; cat "$tmp/out"; echo "--- stderr"; tail -40 "$tmp/err"
fi
echo "bench smoke: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
