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
