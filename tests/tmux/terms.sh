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

done_testing
