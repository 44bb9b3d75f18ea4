#!/bin/sh
# Run every integration test (regress/integ/test_*.py and test_*.sh),
# MOAT_JOBS at a time, and print the totals. MOAT_TESTS="a b" runs only those.
set -u
cd "$(dirname "$0")/../.." || exit 1
PY=/usr/bin/python3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM
tests=${MOAT_TESTS:-$(ls regress/integ/test_*.py regress/integ/test_*.sh 2>/dev/null)}
run_one() {
	t=$1
	name=$(basename "$t")
	start=$(date +%s)
	case "$t" in
	*.py) timeout $((600 * ${MOAT_SLOW:-1})) "$PY" "$t" >"$out/$name.log" 2>&1 ;;
	*.sh) timeout $((600 * ${MOAT_SLOW:-1})) sh "$t" >"$out/$name.log" 2>&1 ;;
	esac
	echo $? >"$out/$name.rc"
	echo "== $name ($(($(date +%s) - start)) s)" >>"$out/$name.log"
}
# MOAT_JOBS files at a time (default 4: most of a test is waiting on
# sockets and timers, and the machine has two cores). A finished file has
# its .rc; `jobs` cannot count here, as it runs in a subshell in a pipeline.
started=0
for t in $tests; do
	while [ $((started - $(find "$out" -name '*.rc' | wc -l))) -ge \
	    "${MOAT_JOBS:-4}" ]; do
		sleep 0.2
	done
	run_one "$t" &
	started=$((started + 1))
done
wait
fail=0 passed=0 failed=0
for t in $tests; do
	name=$(basename "$t")
	cat "$out/$name.log"
	rc=$(cat "$out/$name.rc")
	p=$(grep -Eo '[0-9]+ passed' "$out/$name.log" | tail -1 | cut -d' ' -f1)
	f=$(grep -Eo '[0-9]+ failed' "$out/$name.log" | tail -1 | cut -d' ' -f1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" -ne 0 ]; then
		fail=1
		[ "${f:-0}" -eq 0 ] && failed=$((failed + 1))
		echo "!! $name exited $rc"
	fi
done
echo "integration: $passed passed, $failed failed"
exit $fail
