#!/bin/sh
# Installs what vigil needs to build and test on Debian 12 (apt-get; sudo when not root).
set -eu
PKGS="build-essential cmake pkg-config libiniparser-dev libjansson-dev libsqlite3-dev
libxml2-dev libxml2-utils libmicrohttpd-dev check libsubunit-dev sqlite3 procps binutils
libcurl4-openssl-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
