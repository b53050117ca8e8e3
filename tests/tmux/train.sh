#!/bin/sh
# A tiny recipe trained inside the workbench: the panels fill while it
# runs (curves, then the AP table after the first evaluation), the prompt
# answers and completes between steps, a live lr change is marked and
# logged, pause/resume show in the status bar, a resize mid-run re-lays
# the panels. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

TT_TIMEOUT=${TT_TIMEOUT_TRAIN:-90}
tt_new_server
# (the run directory is runs/tmux-tiny under the session's directory)
top=$(cd "$top_srcdir" && pwd)
tt new-session -d -c "$TT_TMP" -x 160 -y 48 "$(tt_env) '$DETBENCH' '$top/recipes/fashion_fcos.lua' steps=100000 train_images=64 val_images=8 size=64 fpn=32 batch=2 workers=1 eval_minutes=0.1 warmup=10 name=tmux-tiny; echo EXITED rc=\$?; sleep 600"
tt_wait_last '^> ?$' || tt_diag "no prompt after the recipe"
tt_run 'recipe:train()'
tt_check "training shows in the status bar" 'training · tmux-tiny · ep [0-9.]+ · step [0-9]+/100000'
tt_check "the loss curves fill" '━ loss [0-9]'
tt_check "the lr panel" 'learning rate'

# the prompt answers while steps run
tt_run 'print(6 * 7)'
tt_check "the prompt answers while training" ' 42$'
tt_type 'det.ui.snaps'
tt_key Tab
tt_check "completion works while training" '> det\.ui\.snapshot'
tt_key C-u
tt_run 'recipe.optim.lr = 1e-3'
tt_check "a live lr change is logged" 'set +lr'

tt_check "the AP table after the first evaluation" 'per-class AP @ step [0-9]+'
tt_check "an AP row" 'Shirt +[0-9.]+ '
tt_check "the evaluation in the log" 'eval +AP [0-9.]+'

tt_run 'recipe:pause()'
tt_check "pause shows in the status bar" 'paused · tmux-tiny'
tt resize-window -x 80 -y 24
tt_check "80x24 mid-run: the curves" '━ loss [0-9]'
tt_check "80x24 mid-run: the AP table" 'per-class AP'
tt_run 'recipe:resume()'
# at 80 columns the bar may take its shortest form, which drops the run's name
tt_check "resume shows in the status bar" 'training · (tmux-tiny|step [0-9])'
tt_run 'recipe:stop()'
tt_check "stop shows in the status bar" '(stopped|done) · (tmux-tiny|step [0-9])'
[ -s "$TT_TMP/runs/tmux-tiny/metrics.jsonl" ]; ok $? "the run's metrics.jsonl was written"
tt resize-window -x 160 -y 48
tt_run 'recipe:wait()'
tt_run 'print(det.ui.show_eval(recipe:predict(recipe.val), recipe.val))'
tt_check "after training: the samples panel shows predictions on the val images" 'samples 1/8 #1 +[0-9]+ GT, [0-9]+ pred'
tt_check "  and draws them" '▀▀▀▀▀▀▀▀'

# the same run, watched from another process
tt_new_server
tt new-session -d -x 80 -y 24 "$(tt_env) '$DETBENCH' watch '$TT_TMP/runs/tmux-tiny'; echo EXITED rc=\$?; sleep 600"
tt_check "watch on the finished run: the curves" '━ loss [0-9]'
tt_check "watch on the finished run: its state" '(stopped|done) │ tmux-tiny'
tt_key q
tt_check "watch quits" 'EXITED rc=0'
done_testing
