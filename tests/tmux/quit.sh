#!/bin/sh
# Quitting: Ctrl-D on an empty line ends detbench with status 0 and leaves
# the terminal as it found it (modes and the shell's screen); os.exit() and
# a hangup do too. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

tt_shell 100 30
tt_type "echo before-marker; stty -g > '$TT_TMP/before'; '$DETBENCH'; echo rc=\$?; stty -g > '$TT_TMP/after'"
tt_key Enter
tt_wait_last '^> ?$'
tt_check "detbench opens the workbench" 'detbench.*ready'
tt_type 'abc'
tt_key C-d
if tt_wait 'rc=' 2; then ok 1 "Ctrl-D on a non-empty line does not quit"; else
	ok 0 "Ctrl-D on a non-empty line does not quit"; fi
tt_key C-u C-d
tt_check "Ctrl-D on an empty line quits with status 0" '^rc=0$'
# the shell writes "after" once detbench is gone (a prompt line is no sign:
# the typed command line itself starts with "$")
for _ in $(seq 100); do [ -s "$TT_TMP/after" ] && break; sleep 0.1; done
cmp -s "$TT_TMP/before" "$TT_TMP/after"
ok $? "the terminal modes are restored (stty -g is unchanged)"
tt_check "the shell's screen is back" '^before-marker$'

tt_type "'$DETBENCH'; echo rc=\$?"
tt_key Enter
tt_wait_last '^> ?$'
tt_type 'os.exit(3)'
tt_key Enter
tt_check "os.exit() ends it with its status" '^rc=3$'
tt_type "stty -g > '$TT_TMP/after2'"
tt_key Enter
tt_wait '^\$ ?$'
sleep 0.2
cmp -s "$TT_TMP/before" "$TT_TMP/after2"
ok $? "os.exit() restores the terminal too"

# a hangup (a closed SSH connection) saves the history and exits
tt_type "sh -c 'echo \$\$ > \"\$1\"; exec \"\$0\"' '$DETBENCH' '$TT_TMP/pid'; echo rc=\$?"
tt_key Enter
tt_wait_last '^> ?$'
pid=$(cat "$TT_TMP/pid" 2>/dev/null)
isnt "${pid:-none}" "none" "the pid of the detbench to hang up"
tt_run 'before_hangup = 1'
kill -HUP "$pid" 2>/dev/null
_limit=$(( $(date +%s) + TT_TIMEOUT ))
while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$_limit" ]; do sleep 0.1; done
kill -0 "$pid" 2>/dev/null
isnt $? 0 "SIGHUP ends detbench"
tt_check "with a failure status" '^rc=(1|129)$'
if grep -qx 'before_hangup = 1' "$TT_TMP/state/detbench/history"; then ok 0 "and the history is saved"; else
	ok 1 "and the history is saved"; tt_diag "history: $(tr '\n' '|' < "$TT_TMP/state/detbench/history")"; fi

done_testing
