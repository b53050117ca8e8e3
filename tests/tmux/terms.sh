#!/bin/sh
# The workbench under each terminal type the docs promise, with and
# without colour: it starts, runs a line, shows an error, and quits. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

for TT_TERM in xterm-256color screen-256color tmux-256color linux; do
	if ! infocmp "$TT_TERM" >/dev/null 2>&1; then
		echo "ok $((_n + 1)) # SKIP no terminfo entry for $TT_TERM"
		_n=$((_n + 1))
		continue
	fi
	tt_start 80 24
	tt_run 'print("term " .. os.getenv("TERM"))'
	tt_check "$TT_TERM: a line runs" "^term $TT_TERM\$"
	tt_run 'error("oops")'
	tt_check "$TT_TERM: an error shows" 'stdin:1: oops'
	tt_key C-d
	tt_check "$TT_TERM: Ctrl-D quits" 'EXITED rc=0'
done

# a terminal that cannot hold the screen gets a plain readline prompt
TT_TERM=dumb
tt_start 80 24
tt_type 'function f()'
tt_key Enter
tt_check "TERM=dumb: a line prompt with continuation lines" '^>> ?$'
tt_type 'return 6 * 7 end'
tt_key Enter
tt_type 'f()'
tt_key Enter
tt_check "TERM=dumb: it runs Lua" '^42$'
tt_wait '^> ?$'
tt_type 'det.thr'
tt_key Tab
tt_check "TERM=dumb: completion works" '> det\.threads$'
tt_key C-u C-d
tt_check "TERM=dumb: Ctrl-D quits" 'EXITED rc=0'
grep -qx 'f()' "$TT_TMP/state/detbench/history"
ok $? "TERM=dumb: the history is saved"

done_testing
