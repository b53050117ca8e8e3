#!/bin/sh
# Issue 7's samples and lr plan during training, at 80x24: the small layout
# stacks lr behind the curves and the samples (and log) behind the AP
# table, and Tab reaches each; the samples panel fills by itself after each
# periodic evaluation (no det.ui call) and keeps the image the user moved
# to; the lr panel draws the schedule's plan the trainer published, which
# is also a "plan" record in metrics.jsonl; the run directory gets the
# samples sidecar. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

TT_TIMEOUT=${TT_TIMEOUT_TRAIN:-60}
tt_new_server
top=$(cd "$top_srcdir" && pwd)
tt new-session -d -c "$TT_TMP" -x 80 -y 24 "$(tt_env) '$DETBENCH' '$top/recipes/fashion_fcos.lua' minutes=3 steps=0 train_images=64 val_images=8 size=64 fpn=32 batch=2 workers=1 eval_minutes=0.04 warmup=10 name=tmux-samples; echo EXITED rc=\$?; sleep 600"
tt_wait_last '^> ?$' || tt_diag "no prompt after the recipe"
tt_run 'recipe:train()'
tt_check "training at 80x24" 'training · tmux-samples'
tt_check "the AP slot names the panels stacked behind it" 'per-class AP.*\+(samples|2)'
tt_check "the curves slot names the lr panel behind it" '\+lr'

# Tab (on the empty prompt line) walks curves, lr, ap, samples, log
tt_key Tab
tt_check "Tab: the curves have the focus" 'e EMA +l log'
tt_key Tab
tt_check "Tab: the lr panel comes up in the curves' place" 'learning rate'
tt_check "  with the schedule's plan the trainer published (legend)" '━ plan [0-9]'
tt_key Tab
tt_key Tab
tt_check "Tab, Tab: the samples panel comes up in the AP table's place" '(samples [0-9]+/8|no samples yet)'
tt_check "after the first periodic evaluation it shows GT and predictions by itself" \
	'samples 1/8 #1 (step |@)[0-9]+ +[0-9]+ GT,? [0-9]+ pred'
tt_check "  drawn in half blocks" '▀▀▀▀▀▀▀▀'
tt_key Right
tt_check "Right: the second image" 'samples 2/8 #2 (step |@)[0-9]+'
first=$(tt_screen | sed -nE 's/.*samples 2\/8 #2 (step |@)([0-9]+).*/\2/p' | head -1)
tt_key Escape
# the next evaluation refreshes the panel, which stays on image 2
limit=$(( $(date +%s) + TT_TIMEOUT ))
now=$first
while [ "$(date +%s)" -lt "$limit" ]; do
	now=$(tt_screen | sed -nE 's/.*samples 2\/8 #2 (step |@)([0-9]+).*/\2/p' | head -1)
	[ -n "$now" ] && [ "$now" != "$first" ] && break
	sleep 0.2
done
isnt "$now" "$first" "the next evaluation refreshed the samples (step $first -> $now)"
tt_check "  and the panel stayed on the image the user chose" 'samples 2/8 #2 '
tt_check "Esc gave the prompt back; the slot keeps the samples" '^> ?$'
tt_check "the curves are back in their place (Tab only walked past the lr panel)" '━ loss [0-9]'
tt_screen | grep -q 'learning rate'; isnt $? 0 "  and the lr panel is behind them again"

run="$TT_TMP/runs/tmux-samples"
grep -q '"type":"plan"' "$run/metrics.jsonl"; ok $? "metrics.jsonl has the plan record"
grep -q '"lr":\[' "$run/metrics.jsonl"; ok $? "  with the lr per step"
[ -s "$run/samples.json" ]; ok $? "the run directory has the samples sidecar"
ls "$run"/samples/*-1.png >/dev/null 2>&1; ok $? "  and its PNGs"

# a live lr change re-publishes the plan (a second record)
n1=$(grep -c '"type":"plan"' "$run/metrics.jsonl")
tt_run 'recipe.optim.lr = 1e-4'
limit=$(( $(date +%s) + TT_TIMEOUT ))
n2=$n1
while [ "$(date +%s)" -lt "$limit" ] && [ "$n2" -le "$n1" ]; do
	sleep 0.2
	n2=$(grep -c '"type":"plan"' "$run/metrics.jsonl")
done
[ "$n2" -gt "$n1" ]; ok $? "a live lr change publishes a new plan ($n1 -> $n2 records)"
tt_run 'recipe.schedule = det.sched.step{ lr = 1e-3, step_size = 50, gamma = 0.5 }'
limit=$(( $(date +%s) + TT_TIMEOUT ))
n3=$n2
while [ "$(date +%s)" -lt "$limit" ] && [ "$n3" -le "$n2" ]; do
	sleep 0.2
	n3=$(grep -c '"type":"plan"' "$run/metrics.jsonl")
done
[ "$n3" -gt "$n2" ]; ok $? "a schedule replaced live publishes a new plan ($n2 -> $n3 records)"
last=$(grep '"type":"plan"' "$run/metrics.jsonl" | tail -1)
echo "$last" | grep -q '"lr":\[0\.001,'; ok $? "  whose lr starts at the new schedule's 1e-3"

# an on_eval callback that reads e.result gets the evaluation with its
# detections (a copy: the trainer keeps its own for exp:eval())
tt_run 'got = nil; recipe.on_eval = function(exp, e) got = e.result end'
limit=$(( $(date +%s) + TT_TIMEOUT ))
while [ "$(date +%s)" -lt "$limit" ]; do
	tt_run "print('R', got and got.AP, got and #got:detections())"
	tt_screen | grep -Eq '^R +[0-9.e-]+ +[0-9]+' && break
	sleep 1
done
tt_check "on_eval's e.result is a det.eval.result with detections" '^R +[0-9.e-]+ +[0-9]+'
tt_run "r2 = recipe:eval(); print('E', r2.AP, #r2:detections())"
tt_check "  and exp:eval() still gets the trainer's evaluation" '^E +[0-9.e-]+ +[0-9]+'
tt_run 'recipe:stop()'
tt_check "stopped" '(stopped|done) · tmux-samples'
done_testing
