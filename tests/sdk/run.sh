#!/bin/sh
# run.sh — the plugin SDK as a third-party author meets it: installed into a temporary prefix,
# the guide's tutorial followed step by step, every example built out of tree (CMake, then
# plain cc + pkg-config), unit-tested with the fake host, and loaded into a real vigild.
#
# usage: run.sh BUILD_DIR SOURCE_DIR EXAMPLES_RUNNER
# environment (set by CTest): VIGILD VIGILCTL VICTIM VIGIL_PLUGIN_DIR CMAKE CC PKG_CONFIG NM,
# SDK_LIBDIR (CMAKE_INSTALL_LIBDIR of the build, default lib) and SDK_SANITIZE (compiler flags
# for the examples and unit tests of a sanitizer build)
#
# Every wait has a deadline; every process this script starts carries SDK_RUN_MARK in its
# environment and is killed, and the temporary directory removed, however the script ends.
set -eu

if [ $# -ne 3 ]; then
	echo "usage: run.sh BUILD_DIR SOURCE_DIR EXAMPLES_RUNNER" >&2
	exit 2
fi
build=$1
src=$2
runner=$3
: "${CMAKE:=cmake}" "${CC:=cc}" "${PKG_CONFIG:=pkg-config}" "${NM:=nm}" "${SDK_SANITIZE:=}"
: "${SDK_LIBDIR:=lib}"
: "${VIGILD:?}" "${VIGILCTL:?}" "${VICTIM:?}" "${VIGIL_PLUGIN_DIR:?}"
build_plugins=$VIGIL_PLUGIN_DIR
examples="hello_monitor fixed_delay_policy jsonl_store webhook_frontend"
strict="-std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror"
# What the examples and unit tests are built with (the headers are checked with $strict alone).
cflags_ex="$strict${SDK_SANITIZE:+ $SDK_SANITIZE}"

work=$(mktemp -d /tmp/vigil-sdk-XXXXXX)
PREFIX=$work/prefix

# Kills every process whose environment holds our mark (vigild, its children, vigilctl).
kill_marked() {
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[ "$pid" = "$$" ] && continue
		if tr '\0' '\n' 2>/dev/null <"$d/environ" | grep -qxF "SDK_RUN_MARK=$work"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

cleanup() {
	rc=$?
	trap - EXIT INT TERM
	kill_marked
	# The test harness keeps each vigild's state in /tmp/vigil-test-*; a test that failed
	# half-way leaves its directory behind: ours are those whose config names $work.
	for d in /tmp/vigil-test-*; do
		if [ -f "$d/vigil.ini" ] && grep -qF "$work" "$d/vigil.ini" 2>/dev/null; then
			rm -rf "$d"
		fi
	done
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

step() {
	echo "== $*"
}

fail() {
	echo "FAIL: $*"
	exit 1
}

# Runs a command quietly; shows its output only when it fails.
quiet() {
	if ! "$@" >"$work/cmd.log" 2>&1; then
		cat "$work/cmd.log"
		fail "$*"
	fi
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds, up to SECONDS; polls every 50 ms.
wait_for() {
	limit=$1
	shift
	deadline=$(($(date +%s) + limit))
	until "$@"; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# Fails unless the plugin exports exactly vigil_plugin_entry_v1.
check_exports() {
	quiet "$CMAKE" -DNM="$NM" -DFILE="$1" -P "$src/tests/abi/check-exports.cmake"
}

# ---------------------------------------------------------------------------------------------
step "install the SDK (component sdk) into $PREFIX"
quiet "$CMAKE" --install "$build" --prefix "$PREFIX" --component sdk
for f in include/vigil-1/vigil/sdk.h include/vigil-1/vigil/testing.h \
	share/vigil-1/vigil-plugin.map "$SDK_LIBDIR/pkgconfig/vigil-plugin-1.pc" \
	"$SDK_LIBDIR/cmake/VigilPluginSDK/VigilPluginSDKConfig.cmake" \
	"$SDK_LIBDIR/cmake/VigilPluginSDK/VigilPluginSDKConfigVersion.cmake" \
	share/vigil-1/examples/hello_monitor/hello.c; do
	[ -f "$PREFIX/$f" ] || fail "not installed: $f"
done
for ex in $examples; do
	[ -f "$PREFIX/share/vigil-1/examples/$ex/CMakeLists.txt" ] || fail "example $ex not installed"
done
for f in "$src"/sdk/schema/*; do
	[ ! -e "$f" ] || [ -f "$PREFIX/share/vigil-1/${f##*/}" ] || fail "schema ${f##*/} not installed"
done
# The SDK needs nothing from the tree it was built in.
if grep -rlF -e "$src" -e "$build" "$PREFIX"; then
	fail "the installed files above name the source or build tree"
fi

step "every header compiles on its own ($strict)"
for h in "$PREFIX"/include/vigil-1/vigil/*.h; do
	printf '#include <vigil/%s>\n' "${h##*/}" >"$work/h.c"
	quiet "$CC" $strict -I"$PREFIX/include/vigil-1" -fsyntax-only "$work/h.c"
done

step "pkg-config vigil-plugin-1"
PKG_CONFIG_PATH=$PREFIX/$SDK_LIBDIR/pkgconfig
export PKG_CONFIG_PATH
quiet "$PKG_CONFIG" --exists --print-errors vigil-plugin-1
abi_major=$("$PKG_CONFIG" --variable=abi_major vigil-plugin-1)
abi_minor=$("$PKG_CONFIG" --variable=abi_minor vigil-plugin-1)
[ "$("$PKG_CONFIG" --modversion vigil-plugin-1)" = "$abi_major.$abi_minor" ] ||
	fail "Version is not the ABI $abi_major.$abi_minor"
grep -q "^#define VIGIL_ABI_MAJOR $abi_major\$" "$PREFIX/include/vigil-1/vigil/vigil.h" ||
	fail "abi_major = $abi_major disagrees with vigil.h"
grep -q "^#define VIGIL_ABI_MINOR $abi_minor\$" "$PREFIX/include/vigil-1/vigil/vigil.h" ||
	fail "abi_minor = $abi_minor disagrees with vigil.h"
cflags=$(echo $("$PKG_CONFIG" --cflags vigil-plugin-1)) # (echo drops pkg-config's trailing blank)
[ "$cflags" = "-I$PREFIX/include/vigil-1" ] || fail "Cflags: $cflags"
[ "$("$PKG_CONFIG" --variable=plugindir vigil-plugin-1)" = "$PREFIX/$SDK_LIBDIR/vigil/plugins" ] ||
	fail "plugindir: $("$PKG_CONFIG" --variable=plugindir vigil-plugin-1)"
[ -f "$("$PKG_CONFIG" --variable=version_script vigil-plugin-1)" ] ||
	fail "version_script: $("$PKG_CONFIG" --variable=version_script vigil-plugin-1)"
quiet "$PKG_CONFIG" --atleast-version="$abi_major.$abi_minor" vigil-plugin-1

step "find_package(VigilPluginSDK) refuses another major and a newer minor"
for want in "$((abi_major + 1)).0" "$abi_major.$((abi_minor + 1))"; do
	mkdir -p "$work/version/$want"
	printf 'cmake_minimum_required(VERSION 3.18)\nproject(v LANGUAGES C)\nfind_package(VigilPluginSDK %s REQUIRED)\n' \
		"$want" >"$work/version/$want/CMakeLists.txt"
	if "$CMAKE" -S "$work/version/$want" -B "$work/version/$want/build" \
		-DCMAKE_PREFIX_PATH="$PREFIX" >"$work/cmd.log" 2>&1; then
		fail "find_package(VigilPluginSDK $want) accepted SDK $abi_major.$abi_minor"
	fi
	grep -q "VigilPluginSDK" "$work/cmd.log" || fail "no useful message: $(cat "$work/cmd.log")"
done

# ---------------------------------------------------------------------------------------------
# docs/plugin-guide.md, section 1, command for command, with the files as the installed guide
# lists them (the listings must also be the installed example, word for word).
step "tutorial: from an empty directory to a loaded plugin (the installed guide)"
guide=$PREFIX/share/doc/vigil-1/plugin-guide.md
[ -f "$guide" ] || fail "the plugin guide is not installed: $guide"
mkdir "$work/tutorial" "$work/listings"
for f in CMakeLists.txt hello.c vigil.ini; do
	awk -v want="$f" '
		$0 == "<!-- sdk-test: file " want " -->" { armed = 1; next }
		armed && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }
	' "$guide" >"$work/listings/$f"
	[ -s "$work/listings/$f" ] || fail "the guide has no listing of $f"
done
for f in CMakeLists.txt hello.c; do
	if ! cmp -s "$work/listings/$f" "$PREFIX/share/vigil-1/examples/hello_monitor/$f"; then
		diff -u "$PREFIX/share/vigil-1/examples/hello_monitor/$f" "$work/listings/$f" || true
		fail "the guide's $f is not the installed examples/hello_monitor/$f"
	fi
done

"$PKG_CONFIG" --modversion vigil-plugin-1
[ "$("$PKG_CONFIG" --variable=prefix vigil-plugin-1)" = "$PREFIX" ] || fail "prefix"
cd "$work/tutorial"
mkdir hello && cd hello
cp "$PREFIX/share/vigil-1/examples/hello_monitor/hello.c" \
	"$PREFIX/share/vigil-1/examples/hello_monitor/CMakeLists.txt" .
quiet "$CMAKE" -S . -B build -DCMAKE_PREFIX_PATH="$PREFIX"
quiet "$CMAKE" --build build
[ -f build/monitor_hello.so ] || fail "no build/monitor_hello.so"
"$NM" -D --defined-only build/monitor_hello.so
check_exports build/monitor_hello.so
# The guide exports `pkg-config --variable=plugindir`; an SDK-only install has no vigild and
# no plugins, so here it is the plugin directory of this build tree.
VIGIL_PLUGINDIR=$build_plugins
export VIGIL_PLUGINDIR
cp "$work/listings/vigil.ini" vigil.ini
quiet "$VIGILD" -c vigil.ini --check-config
# (timeout: the bound on the `wait` for its exit below)
SDK_RUN_MARK=$work timeout 60 "$VIGILD" -c vigil.ini 2>vigild.log &
vigild_pid=$!
wait_for 20 "$VIGILCTL" -c vigil.ini status >/dev/null 2>&1 || {
	cat vigild.log
	fail "vigild did not answer on its socket within 20 s"
}
SDK_RUN_MARK=$work "$VIGILCTL" -c vigil.ini plugins | tee plugins.txt
grep -q "hello.*1\.0\.0.*$work/tutorial/hello/build/monitor_hello.so" plugins.txt ||
	fail "vigilctl plugins does not list the tutorial's monitor_hello.so"
# The first metric.custom ends the wait (head exits; vigilctl gets SIGPIPE at the next one);
# the timeout bounds it if none comes.
SDK_RUN_MARK=$work timeout 10 "$VIGILCTL" -c vigil.ini --json events -f --type metric.custom |
	head -n 1 >metric.json
cat metric.json
grep -q '"metric":"hello.counter"' metric.json || fail "no metric.custom from the tutorial"
grep -q '\[monitor.hello\] publishing hello.counter every 1000 ms' vigild.log ||
	fail "the plugin's log line is not in vigild.log"
quiet "$VIGILCTL" -c vigil.ini shutdown
wait "$vigild_pid" || fail "vigild exited with $?: $(cat vigild.log)"
cd "$work"

# ---------------------------------------------------------------------------------------------
step "every example with CMake, out of tree ($cflags_ex)"
cmake_dirs=
for ex in $examples; do
	cp -R "$PREFIX/share/vigil-1/examples/$ex" "$work/cmake-$ex"
	quiet "$CMAKE" -S "$work/cmake-$ex" -B "$work/cmake-$ex/build" -DCMAKE_PREFIX_PATH="$PREFIX" \
		-DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$cflags_ex" \
		-DCMAKE_MODULE_LINKER_FLAGS="$SDK_SANITIZE"
	quiet "$CMAKE" --build "$work/cmake-$ex/build"
	for so in "$work/cmake-$ex/build"/*.so; do
		check_exports "$so"
		echo "   $so"
	done
	cmake_dirs="$cmake_dirs$work/cmake-$ex/build:"
done

step "every example with cc \$(pkg-config --cflags vigil-plugin-1)"
mkdir "$work/pc"
map=$("$PKG_CONFIG" --variable=version_script vigil-plugin-1)
for pair in hello_monitor:monitor_hello:hello fixed_delay_policy:policy_fixed:fixed \
	jsonl_store:store_jsonl:jsonl webhook_frontend:frontend_webhook:webhook; do
	ex=${pair%%:*}
	rest=${pair#*:}
	so=${rest%%:*}
	c=${rest#*:}
	quiet "$CC" $cflags_ex -O2 -fPIC -fvisibility=hidden $("$PKG_CONFIG" --cflags vigil-plugin-1) \
		-shared -Wl,--no-undefined -Wl,--version-script="$map" \
		-o "$work/pc/$so.so" "$PREFIX/share/vigil-1/examples/$ex/$c.c"
	check_exports "$work/pc/$so.so"
	echo "   $work/pc/$so.so"
done

step "unit tests with <vigil/testing.h>, the fake host"
for pair in hello:hello_monitor fixed:fixed_delay_policy jsonl:jsonl_store; do
	name=${pair%%:*}
	ex=${pair#*:}
	quiet "$CC" $cflags_ex $("$PKG_CONFIG" --cflags vigil-plugin-1) \
		-I"$PREFIX/share/vigil-1/examples/$ex" -o "$work/test_${name}_unit" \
		"$src/tests/sdk/test_${name}_unit.c"
	"$work/test_${name}_unit" || fail "test_${name}_unit"
done

# ---------------------------------------------------------------------------------------------
step "the CMake-built examples in a real vigild"
SDK_RUN_MARK=$work SDK_WORK=$work SDK_VARIANT=cmake \
	VIGIL_PLUGIN_DIR="$cmake_dirs$build_plugins" "$runner" || fail "cmake-built examples"

step "the pkg-config-built examples in a real vigild"
SDK_RUN_MARK=$work SDK_WORK=$work/pc SDK_VARIANT=pkgconfig \
	VIGIL_PLUGIN_DIR="$work/pc:$build_plugins" "$runner" || fail "pkg-config-built examples"

echo "PASS: SDK installed, tutorial followed, 4 examples built twice out of tree and working"
