#!/bin/sh
# Runs one busted spec file against the det module on lua5.4, speaking TAP.
spec=$1
if [ -z "$BUSTED" ] || [ -z "$LUA54" ]; then
	echo "1..0 # SKIP busted or lua5.4 is not installed (apt-get install lua-busted lua5.4)"
	exit 0
fi
# Under --enable-asan a stock interpreter must load the ASan runtime first;
# the interpreter's own exit-time allocations are not ours to report.
if [ -n "$DET_ASAN_PRELOAD" ]; then
	LD_PRELOAD=$DET_ASAN_PRELOAD ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
		exec "$LUA54" "$BUSTED" --output=TAP "$spec"
fi
exec "$LUA54" "$BUSTED" --output=TAP "$spec"
