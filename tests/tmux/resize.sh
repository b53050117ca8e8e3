#!/bin/sh
# Resize re-lays the screen: the prompt stays on the last line, the status
# bar right above it, the output is re-wrapped. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

tt_start 100 30
tt_run 'print(string.rep("x", 90))'
tt_run 'marker = "resize"'

for size in "60 15" "160 48" "80 24" "40 10"; do
	set -- $size
	tt resize-window -x "$1" -y "$2"
	_limit=$(( $(date +%s) + TT_TIMEOUT ))
	while :; do
		rows=$(tt_screen | wc -l)
		last=$(tt_last)
		[ "$rows" -eq "$2" ] && [ "$last" = ">" ] && break
		[ "$(date +%s)" -ge "$_limit" ] && break
		sleep 0.1
	done
	is "$last" ">" "at $1x$2 the prompt is on the last line"
	tt_screen | sed -n "$(($2 - 1))p" | grep -q 'detbench'
	ok $? "at $1x$2 the status bar is right above it"
done

tt resize-window -x 60 -y 20
tt_wait_last '^> ?$'
# 90 x's wrap into 60 + 30 at 60 columns
tt_check "the output is wrapped to the new width" '^x{60}$'
tt_run 'print("still alive")'
tt_check "the session works after resizing" '^still alive$'

# a resize while a chunk runs is followed at once, not when it ends
tt resize-window -x 80 -y 24
tt_wait_last '^> ?$'
tt_type 'for i = 1, 30 do print("row " .. i) end; while true do end'
tt_key Enter
tt_wait 'running'
tt resize-window -x 50 -y 12
_limit=$(( $(date +%s) + TT_TIMEOUT ))
while [ "$(tt_screen | wc -l)" -ne 12 ] || ! tt_screen | sed -n 11p | grep -q running; do
	[ "$(date +%s)" -ge "$_limit" ] && break
	sleep 0.1
done
tt_screen | sed -n 11p | grep -q 'running'
ok $? "a resize while a chunk runs re-lays the screen (status bar on row 11 of 12)"
tt_key C-c
tt_wait_last '^> ?$'
ok $? "and the prompt comes back after Ctrl-C"

done_testing
