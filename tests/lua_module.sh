#!/bin/sh
# The det module loads from a stock lua5.4: from the build tree (the
# documented LUA_PATH/LUA_CPATH) and from an installed tree (make install
# into a DESTDIR, with lua5.4's default path layout under the prefix).
. "$top_srcdir/tests/lib.sh"
[ -n "$LUA54" ] || skip_all "lua5.4 is not installed"

out=$("$LUA54" -e 'local det = require "det"; print(det.version, type(det.threads))')
is "$out" "$(printf '0.1.0\tfunction')" "require 'det' works from the build tree"

out=$("$LUA54" -e 'local det = require "det"; print(det.threads(1))')
is "$out" "1" "the C core is callable from lua5.4"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if make -C "$top_builddir" install DESTDIR="$tmp" >"$tmp/install.log" 2>&1; then
	ok 0 "make install into a DESTDIR"
	prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
	root="$tmp$prefix"
	out=$(cd / && env -u DETBENCH_LUA_DIR \
		LUA_PATH="$root/share/lua/5.4/?.lua;$root/share/lua/5.4/?/init.lua" \
		LUA_CPATH="$root/lib/lua/5.4/?.so" \
		"$LUA54" -e 'local det = require "det"; print(det.version)')
	is "$out" "0.1.0" "the installed module loads with lua5.4's path layout"
	[ -x "$root/bin/detbench" ]; ok $? "the program is installed"
	[ -f "$root/share/man/man1/detbench.1" ]; ok $? "the man page is installed"
else
	ok 1 "make install into a DESTDIR"
	sed 's/^/# /' "$tmp/install.log" | tail -20
fi
done_testing
