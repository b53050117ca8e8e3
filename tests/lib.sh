# tests/lib.sh: TAP helpers for shell tests (sourced).
_n=0
_failed=0
ok() { # ok STATUS DESCRIPTION
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _failed=1; fi
}
is() { # is GOT EXPECTED DESCRIPTION
	_n=$((_n + 1))
	if [ "$1" = "$2" ]; then echo "ok $_n - $3"; else
		echo "not ok $_n - $3"; _failed=1
		printf '# got:      %s\n# expected: %s\n' "$1" "$2" | sed 's/^/# /'
	fi
}
isnt() {
	_n=$((_n + 1))
	if [ "$1" != "$2" ]; then echo "ok $_n - $3"; else echo "not ok $_n - $3 (got $1)"; _failed=1; fi
}
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
done_testing() { echo "1..$_n"; exit 0; }

# Under --enable-asan a stock lua5.4 must load the ASan runtime before
# det/core.so: point $LUA54 at a small wrapper that preloads it.
if [ -n "$DET_ASAN_PRELOAD" ] && [ -n "$LUA54" ] && [ -n "$top_builddir" ]; then
	_w="$top_builddir/tests/lua54-asan"
	if [ ! -x "$_w" ]; then
		mkdir -p "$top_builddir/tests"
		printf '#!/bin/sh\nLD_PRELOAD=%s ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} exec %s "$@"\n' \
			"$DET_ASAN_PRELOAD" "$LUA54" > "$_w.$$" && chmod +x "$_w.$$" && mv "$_w.$$" "$_w"
	fi
	LUA54=$_w
fi
