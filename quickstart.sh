#!/bin/sh
# detbench quick start, for a fresh Debian 12 machine (as root, from a clone).
#
#   ./quickstart.sh         install what is missing, build, open the workbench
#   ./quickstart.sh test    install what is missing, build, run every test
#
# Both are idempotent: packages already present are not reinstalled and the
# build is incremental (in ./build). The test run ends with "N passed, N failed".
set -eu

cd "$(dirname "$0")"
top=$(pwd)
mode=${1:-demo}

PACKAGES="gcc make autoconf automake libtool pkg-config \
liblua5.4-dev lua5.4 libncurses-dev libreadline-dev libopenblas-dev \
libstb-dev zlib1g-dev libcjson-dev libexpat1-dev libyaml-dev dataset-fashion-mnist lua-busted tmux \
ncurses-term clang libclang-rt-14-dev"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" \
		|| missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "quickstart: installing$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	autoreconf -fi >/dev/null
fi
mkdir -p build
if [ ! -f build/Makefile ]; then
	(cd build && ../configure --quiet)
fi
jobs=$(nproc 2>/dev/null || echo 2)
make -C build -s -j"$jobs" >/dev/null

case $mode in
demo)
	if [ -f recipes/fashion_fcos.lua ]; then
		exec build/detbench recipes/fashion_fcos.lua
	fi
	exec build/detbench
	;;
test)
	status=0
	make -C build -j"$jobs" check || status=$?
	if [ $status -ne 0 ]; then
		# show the failing tests' logs, so a CI log says what broke
		for f in $(grep -l ':test-result: \(FAIL\|ERROR\)' $(find build -name '*.trs') 2>/dev/null); do
			echo "==== ${f%.trs}.log"
			tail -n 40 "${f%.trs}.log"
		done
	fi
	sh tests/summary.sh build
	exit $status
	;;
*)
	echo "usage: $0 [test]" >&2
	exit 2
	;;
esac
