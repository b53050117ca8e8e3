#!/bin/sh
# `detbench watch` on a real headless `detbench run` (another process):
# after each evaluation the run writes RUN_DIR/samples.json and its PNGs,
# and watch shows them in the samples panel (stacked behind the AP table
# at 80x24, beside the lr panel at 160x48); the lr panel draws the plan
# the run wrote into metrics.jsonl. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

TT_TIMEOUT=${TT_TIMEOUT_TRAIN:-60}
top=$(cd "$top_srcdir" && pwd)
cd "$TT_TMP" || exit 1
env HOME="$TT_TMP/home" "$DETBENCH" run "$top/recipes/fashion_fcos.lua" minutes=3 steps=0 train_images=64 val_images=8 \
	size=64 fpn=32 batch=2 workers=1 eval_minutes=0.04 warmup=10 name=tmux-watch > run.out 2>&1 &
runner=$!
trap 'kill $runner 2>/dev/null; tt_cleanup' EXIT
run="$TT_TMP/runs/tmux-watch"
limit=$(( $(date +%s) + TT_TIMEOUT ))
while [ ! -s "$run/samples.json" ] && [ "$(date +%s)" -lt "$limit" ]; do sleep 0.2; done
[ -s "$run/samples.json" ]; ok $? "the headless run wrote its samples sidecar after an evaluation"

tt_new_server
tt new-session -d -x 80 -y 24 "$(tt_env) '$DETBENCH' watch '$run'; echo EXITED rc=\$?; sleep 600"
tt_check "80x24: the curves" '━ loss [0-9]'
tt_check "80x24: the AP slot names the samples behind it (or counts them)" '\+(samples|1)'
tt_key Tab
tt_key Tab
tt_check "Tab, Tab: the lr panel with the run's plan" '━ plan [0-9]'
tt_key Tab
tt_key Tab
tt_check "Tab, Tab: the samples of the last evaluation, GT and predictions" \
	'samples 1/8 #1 (step |@)[0-9]+ +[0-9]+ GT,? [0-9]+ pred'
tt_check "  drawn in half blocks" '▀▀▀▀▀▀▀▀'
first=$(tt_screen | sed -nE 's/.*samples 1\/8 #1 (step |@)([0-9]+).*/\2/p' | head -1)
limit=$(( $(date +%s) + TT_TIMEOUT ))
now=$first
while [ "$(date +%s)" -lt "$limit" ]; do
	now=$(tt_screen | sed -nE 's/.*samples 1\/8 #1 (step |@)([0-9]+).*/\2/p' | head -1)
	[ -n "$now" ] && [ "$now" != "$first" ] && break
	sleep 0.2
done
isnt "$now" "$first" "watch follows the next evaluation's samples (step $first -> $now)"

tt resize-window -x 160 -y 48
tt_check "160x48: samples and lr side by side" 'samples [0-9]/8 #[0-9].*'
tt_check "160x48: the lr panel" 'learning rate'
tt_key q
tt_check "watch quits" 'EXITED rc=0'
kill $runner 2>/dev/null
wait $runner 2>/dev/null
done_testing
