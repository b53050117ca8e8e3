#!/bin/sh
# doc/screens/make-screens.sh BUILD_DIR: captures the workbench and
# `detbench watch` at 80x24 and 160x48 into doc/screens/*.txt (tmux), and
# the 80x24 workbench with its samples brought up (Tab).
set -e
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$top/tests/tmux/fake-run.sh" "$tmp/run" 400 0
# the samples a real run writes after its evaluation, for the watch screens
env HOME="$tmp" "$build/detbench" "$here/samples.lua" "$tmp/run" >/dev/null
for size in 80x24 160x48; do
	cols=${size%x*} rows=${size#*x}
	sock="screens-$$-$size"
	tmux -L "$sock" -f /dev/null new-session -d -x "$cols" -y "$rows" \
		"env HOME=$tmp XDG_STATE_HOME=$tmp TERM=screen-256color LC_ALL=C.UTF-8 DEMO_RUN=$tmp/run '$build/detbench' '$here/demo.lua'"
	sleep 3
	tmux -L "$sock" send-keys -l 'det.ui.mode()'
	tmux -L "$sock" send-keys Enter
	sleep 1
	tmux -L "$sock" capture-pane -p > "$here/workbench-$size.txt"
	tmux -L "$sock" capture-pane -p -e > "$here/workbench-$size.ans"
	if [ "$size" = 80x24 ]; then
		# the small layout stacks the samples behind the AP table: Tab
		# (curves, lr, ap, samples) brings them up, Esc gives the prompt back
		for k in 1 2 3 4; do tmux -L "$sock" send-keys Tab; sleep 0.3; done
		tmux -L "$sock" send-keys Escape
		sleep 1
		tmux -L "$sock" capture-pane -p > "$here/workbench-80x24-samples.txt"
	fi
	tmux -L "$sock" kill-server || true
	sock="screens-$$-$size-watch"
	tmux -L "$sock" -f /dev/null new-session -d -x "$cols" -y "$rows" \
		"env HOME=$tmp TERM=screen-256color LC_ALL=C.UTF-8 '$build/detbench' watch '$tmp/run'"
	sleep 2
	tmux -L "$sock" capture-pane -p > "$here/watch-$size.txt"
	tmux -L "$sock" kill-server || true
done
