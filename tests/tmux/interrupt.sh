#!/bin/sh
# Ctrl-C: interrupts a running chunk (the session stays), clears the line
# at an idle prompt. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

tt_start 100 30
tt_type 'while true do end'
tt_key Enter
tt_check "the status bar says a chunk runs" 'running'
tt_key C-c
tt_check "Ctrl-C interrupts the endless loop" 'interrupted!'
if tt_wait_last '^> ?$'; then ok 0 "the prompt comes back"; else
	ok 1 "the prompt comes back"; tt_diag "no prompt"; fi
tt_check "the status bar says ready again" 'ready'
tt_run 'print(6 * 7)'
tt_check "the session is alive" '^42$'

tt_run 'n = 0; for i = 1, 3 do print("tick " .. i) end; while true do n = n + 1 end'
tt_check "output printed before the loop is shown" '^tick 3$'
tt_key C-c
tt_wait 'interrupted!'
tt_wait_last '^> ?$'
tt_run 'print(n > 0)'
tt_check "state changed by the interrupted chunk is kept" '^true$'

tt_type 'half typed'
tt_key C-c
if tt_wait_last '^> ?$'; then ok 0 "Ctrl-C at an idle prompt clears the line"; else
	ok 1 "Ctrl-C at an idle prompt clears the line"; tt_diag "line not cleared"; fi
tt_check "and shows it was abandoned" '^> half typed\^C$|^\^C$'
tt_run 'print("after")'
tt_check "the session goes on" '^after$'

done_testing
