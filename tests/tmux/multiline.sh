#!/bin/sh
# Continuation lines: an unfinished statement gets a ">> " prompt and runs
# once it is complete, as in lua.c. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

tt_start 100 30
tt_type 'function area(w, h)'
tt_key Enter
if tt_wait_last '^>> ?$'; then ok 0 "an unfinished function gets the >> prompt"; else
	ok 1 "an unfinished function gets the >> prompt"; tt_diag "no continuation prompt"; fi
tt_type 'local a = w * h'
tt_key Enter
tt_type 'return a'
tt_key Enter
tt_type 'end'
tt_key Enter
tt_wait_last '^> ?$'
ok $? "the prompt is back to > once the statement is complete"
tt_check "the lines are echoed with their prompts" '^>> return a$'
tt_run 'area(6, 7)'
tt_check "the function was defined" '^42$'

tt_type 't = {'
tt_key Enter
tt_type '  1, 2,'
tt_key Enter
tt_type '}'
tt_key Enter
tt_wait_last '^> ?$'
tt_run '#t'
tt_check "a table constructor over three lines" '^2$'

tt_type 'for i = 1,'
tt_key Enter
tt_key C-c
tt_wait_last '^> ?$'
ok $? "Ctrl-C drops an unfinished statement"
tt_run 'print("fresh")'
tt_check "and the next line starts afresh" '^fresh$'

done_testing
