#!/bin/sh
# Quitting: Ctrl-D on an empty line ends detbench with status 0 and leaves
# the terminal as it found it (modes and the shell's screen); os.exit() and
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
tt_check "with status 129" '^rc=129$'
if grep -qx 'before_hangup = 1' "$TT_TMP/state/detbench/history"; then ok 0 "and the history is saved"; else
	ok 1 "and the history is saved"; tt_diag "history: $(tr '\n' '|' < "$TT_TMP/state/detbench/history")"; fi

done_testing
