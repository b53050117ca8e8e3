#!/bin/sh
# An error prints a traceback (in red, unless NO_COLOR) and the session
# goes on. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

tt_start 100 30
tt_run 'function inner() error("boom") end'
tt_run 'function outer() inner() end'
tt_run 'outer()'
tt_check "the error message names the chunk and line" 'stdin:1: boom'
tt_check "a traceback follows" '^stack traceback:'
tt_check "it lists the calling functions" "in function 'outer'"
tt_screen -e | grep 'stdin:1: boom' | grep -q "$(printf '\033')\[31m"
ok $? "the error is red"
tt_run 'print("still" .. "here")'
tt_check "the session goes on" '^stillhere$'
tt_run 'x = = 1'
tt_check "a syntax error is reported" "stdin:1: unexpected symbol near '='"
tt_run 'print(1 + 1)'
tt_check "and the session goes on after it" '^2$'
tt_run 'io.write("out\n"); io.stderr:write("err\n"); os.execute("echo child")'
tt_check "what C code writes to stdout shows in the output area" '^out$'
tt_check "stderr too" '^err$'
tt_check "and a child process's output" '^child$'

tt_start 100 30 NO_COLOR=1
tt_run 'error("plain")'
tt_check "with NO_COLOR the error shows" 'stdin:1: plain'
esc=$(printf '\033')
tt_screen -e | grep 'stdin:1: plain' | grep -Eq "$esc\[([34][0-7]|[0-9;]*;[34][0-7])[;m]"
isnt $? 0 "with NO_COLOR the error has no colour"
tt_screen -e | grep -Eq "$esc\[([34][0-7]|[0-9;]*;[34][0-7])[;m]"
isnt $? 0 "nor anything else on the screen"

done_testing
