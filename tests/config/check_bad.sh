#!/bin/sh
# check_bad.sh VIGILD FILE — `vigild -c FILE --check-config` must exit 100 and print, on stderr,
# the fragment named by FILE's "; expect: ..." line (and nothing on stdout).
set -u
if [ $# -ne 2 ]; then
	echo "usage: check_bad.sh VIGILD FILE" >&2
	exit 2
fi
vigild=$1
file=$2
expect=$(sed -n 's/^; expect: //p' "$file" | head -n 1)
if [ -z "$expect" ]; then
	echo "FAIL: $file has no '; expect: ' line"
	exit 1
fi
if [ ! -x "$vigild" ]; then
	echo "FAIL: $vigild is not built"
	exit 1
fi
# 16-unknown-var relies on this variable being unset.
unset VIGIL_TEST_UNSET_VAR

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
"$vigild" -c "$file" --check-config >"$tmp/out" 2>"$tmp/err"
rc=$?
fail=0
if [ "$rc" -ne 100 ]; then
	echo "FAIL: exit code $rc, expected 100"
	fail=1
fi
if ! grep -qF -e "$expect" "$tmp/err"; then
	echo "FAIL: stderr does not contain: $expect"
	fail=1
fi
if ! grep -q '^vigild: ' "$tmp/err"; then
	echo "FAIL: stderr does not start with 'vigild: '"
	fail=1
fi
if [ -s "$tmp/out" ]; then
	echo "FAIL: stdout is not empty"
	fail=1
fi
# Without --check-config too: the same refusal, before anything is created or started.
statedir="$(dirname "$file")/state"
[ -e "$statedir" ] && rm -rf "$statedir"
timeout 10 "$vigild" -c "$file" >"$tmp/out2" 2>"$tmp/err2"
rc=$?
if [ "$rc" -ne 100 ]; then
	echo "FAIL: without --check-config: exit code $rc, expected 100"
	fail=1
fi
if ! grep -qF -e "$expect" "$tmp/err2"; then
	echo "FAIL: without --check-config: stderr does not contain: $expect"
	fail=1
fi
if [ -e "$statedir" ]; then
	echo "FAIL: a refused configuration created $statedir"
	rm -rf "$statedir"
	fail=1
fi
if [ "$fail" -ne 0 ]; then
	echo "--- stdout"; cat "$tmp/out"
	echo "--- stderr"; cat "$tmp/err"
	exit 1
fi
echo "PASS: $(basename "$file"): $(cat "$tmp/err")"
exit 0
