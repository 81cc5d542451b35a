#!/bin/sh
# check_good.sh VIGILD FILE — `vigild -c FILE --check-config` must exit 0. FILE's directory is
# copied to a temporary one first, so nothing is ever written next to the sources.
set -u
if [ $# -ne 2 ]; then
	echo "usage: check_good.sh VIGILD FILE" >&2
	exit 2
fi
vigild=$1
file=$2
if [ ! -x "$vigild" ]; then
	echo "FAIL: $vigild is not built"
	exit 1
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
dir=$(dirname "$file")
cp -R "$dir" "$tmp/conf" || exit 1
copy="$tmp/conf/$(basename "$file")"
"$vigild" -c "$copy" --check-config >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "FAIL: exit code $rc, expected 0"
	echo "--- stdout"; cat "$tmp/out"
	echo "--- stderr"; cat "$tmp/err"
	exit 1
fi
if [ -e "$tmp/conf/state" ]; then
	echo "FAIL: --check-config created the state directory"
	exit 1
fi
echo "PASS: $(basename "$file"): $(cat "$tmp/out")"
exit 0
