#!/bin/sh
# History survives a restart: the file under $XDG_STATE_HOME, Up recalls
# the last entry, a multi-line entry comes back whole. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

hist="$TT_TMP/state/detbench/history"

tt_start 100 30
tt_run 'marker_one = 41'
tt_type 'function twice(a)'
tt_key Enter
tt_type 'return 2 * a'
tt_key Enter
tt_type 'end'
tt_key Enter
tt_wait_last '^> ?$'
tt_run 'marker_two = 42'
tt_key C-d
tt_check "Ctrl-D quits" 'EXITED rc=0'

test -f "$hist"
ok $? "the history file is made under \$XDG_STATE_HOME/detbench"
is "$(stat -c %a "$TT_TMP/state/detbench")" "700" "its directory is private (0700)"
is "$(stat -c %a "$hist")" "600" "the file is private too (0600)"
grep -qx 'marker_two = 42' "$hist"
ok $? "the last entry is in the file"
grep -qx 'function twice(a)\\nreturn 2 \* a\\nend' "$hist"
ok $? "a multi-line entry is kept whole, one line in the file"
ls "$TT_TMP/state/detbench" | grep -q tmp
isnt $? 0 "no temporary file is left behind"

tt_start 100 30
tt_key Up
if tt_wait_last '^> marker_two = 42$'; then ok 0 "after a restart, Up shows the last entry"; else
	ok 1 "after a restart, Up shows the last entry"; tt_diag "history not recalled"; fi
tt_key Up
tt_check "Up again recalls the multi-line function whole" '^>> end$'
tt_key Enter
tt_wait_last '^> ?$'
tt_run 'twice(21)'
tt_check "the recalled function runs" '^42$'
tt_key C-d
tt_wait 'EXITED rc=0'

# the file keeps the last 1000 entries
i=0
: > "$hist"
while [ $i -lt 1100 ]; do echo "old_$i = $i"; i=$((i + 1)); done > "$hist"
tt_start 100 30
tt_run 'newest = 1'
tt_key C-d
tt_wait 'EXITED rc=0'
is "$(wc -l < "$hist" | tr -d ' ')" "1000" "the file keeps the last 1000 entries"
is "$(tail -n 1 "$hist")" "newest = 1" "the newest last"

done_testing
