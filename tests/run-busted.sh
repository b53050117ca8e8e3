#!/bin/sh
# Runs one busted spec file against the det module on lua5.4, speaking TAP.
spec=$1
if [ -z "$BUSTED" ] || [ -z "$LUA54" ]; then
	echo "1..0 # SKIP busted or lua5.4 is not installed (apt-get install lua-busted lua5.4)"
	exit 0
fi
exec "$LUA54" "$BUSTED" --output=TAP "$spec"
