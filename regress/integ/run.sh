#!/bin/sh
# Run every integration test (regress/integ/test_*.py and test_*.sh), two at a
# time, and print the totals. MOAT_TESTS="a b" runs only those.
set -u
cd "$(dirname "$0")/../.."
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
for t in $tests; do
	run_one "$t" &
	# two at a time: the machine has two cores
	while [ "$(jobs -p | wc -l)" -ge 2 ]; do sleep 0.2; done
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
