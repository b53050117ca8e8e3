#!/bin/sh
# An out-of-fold label audit at the prompt (det.inspect.out_of_fold): it
# trains the folds with the status bar showing each, its suspects open in
# the inspector; Ctrl-C during an audit stops the audit, not the fold's
# training, and the session goes on. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

TT_TIMEOUT=${TT_TIMEOUT_TRAIN:-90}
tt_start 120 36
tt_run 'ds = det.data.fashion { images = 40, size = 48, seed = 1 }'
tt_run "function mk(steps) return function(part, f) return det.experiment { name = 'audit-' .. f, model = det.model { backbone = det.backbone.resnet { depth = 18, width = 0.125 }, neck = det.neck.fpn { channels = 16 }, head = det.head.fcos { classes = 10, channels = 16, towers = 1 }, size = 48, seed = f }, train = part, steps = steps, batch = 4, workers = 1, optim = det.optim.adamw { lr = 3e-3 }, run_dir = '$TT_TMP/audit-' .. f } end end"

tt_run 'r, folds = det.inspect.out_of_fold(ds, mk(30), { folds = 2 }); print("audited", #folds, folds[2].steps)'
tt_check "an audit of two folds runs to its end" 'audited +2 +30$'
tt_check "the status bar shows the last fold's run" 'done · audit-2'
tt_run 's = r:suspects{ top = 5, open = true }'
tt_check "its suspects open in the inspector" 'inspector: suspect labels +1/5'
tt_key j
tt_check "j moves to the next suspect" 'inspector: suspect labels +2/5'
tt_key q
tt_wait_last '^> ?$' || tt_diag "no prompt after the inspector"
tt_run 'print(#s, s[1].image_id ~= nil)'
tt_check "the list is also returned to Lua" ' 5 +true$'

tt_run 'r2 = det.inspect.out_of_fold(ds, mk(100000), { folds = 2 })'
tt_check "a long audit: its first fold trains" 'training · audit-1 · ep [0-9.]+ · step [0-9]+/100000'
tt_key C-c
tt_check "Ctrl-C stops the audit" 'interrupted!'
if tt_wait_last '^> ?$'; then ok 0 "the prompt comes back"; else
	ok 1 "the prompt comes back"; tt_diag "no prompt"; fi
tt_run 'print("running", #det.experiment.running(), r2)'
tt_check "the fold's training goes on, no result was returned" 'running +1 +nil$'
tt_check "  and the status bar still shows it" 'training · audit-1'
tt_run 'det.experiment.running()[1]:stop()'
tt_check "the fold's run stops when asked" 'stopped · audit-1'
tt_run 'print(6 * 7)'
tt_check "the session goes on" ' 42$'
done_testing
