#!/bin/sh
# A failed internal assertion restores the terminal before it prints its
# message and aborts (det_fatal_hook_set). TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

probe="$top_builddir/tests/tui/fatal_probe"
[ -x "$probe" ] || skip_all "tests/tui/fatal_probe is not built"

tt_shell 200 30
tt_type "stty -g > '$TT_TMP/before'; '$probe'; echo rc=\$?; stty -g > '$TT_TMP/after'"
tt_key Enter
tt_check "the program aborts" '^rc=134$'
tt_check "its message is readable on the restored terminal" 'internal error at .*fatal_probe.c:[0-9]+: assertion .argc < 0. failed: the probe trips this on purpose'
tt_wait '^\$ ?$'
sleep 0.2
cmp -s "$TT_TMP/before" "$TT_TMP/after"
ok $? "the terminal modes are restored"
tt_type 'echo typed-and-seen'
tt_key Enter
tt_check "the shell echoes typing again" '^\$ echo typed-and-seen$'

done_testing
