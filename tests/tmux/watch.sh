#!/bin/sh
# detbench watch on a run another process writes (tests/tmux/fake-run.sh
# appends to metrics.jsonl in the background): curves, AP rows and the log
# appear and follow the file; resizing re-lays the panels; Tab focus, the
# AP table's sort key, F1 help and q. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

run="$TT_TMP/run"
mkdir -p "$run"
# 400 steps in batches of 20, a batch every 0.1 s: an evaluation every
# 0.5 s, done after about 2 s
"$top_srcdir/tests/tmux/fake-run.sh" "$run" 400 0.1 &
writer=$!

tt_new_server
tt new-session -d -x 80 -y 24 "$(tt_env) '$DETBENCH' watch '$run'; echo EXITED rc=\$?; sleep 600"
tt_check "80x24: the loss chart with its legend" '━ loss [0-9]'
tt_check "80x24: braille curves" '(⣀|⠉|⠒|⠤)(⣀|⠉|⠒|⠤)'
tt_check "80x24: y tick labels on an axis" '^ *[0-9.]+┤'
tt_check "80x24: the AP table after an evaluation" 'per-class AP @ step [0-9]+'
tt_check "80x24: an AP row with its numbers" 'Shirt +0\.[0-9]{3} +[0-9]+ +[0-9]+'
tt_check "80x24: the log has the evaluation summary" 'eval +AP 0\.[0-9]{3} +AP50'
tt_check "80x24: the status bar names the run and its state" 'detbench watch │ (training|done) │ fashion_fcos'

wait $writer
tt_check "the run's end is followed" 'detbench watch │ done │ fashion_fcos · (ep 10\.00 · )?step 400/400'
tt_check "80x24: the status bar fits whole fields (a shorter form, not a cut one)" 'step 400/400 · loss [0-9]+\.[0-9]+'
tt_check "the last evaluation is shown" 'per-class AP @ step 400'
tt_check "the live lr change is in the log" 'set +lr 0\.01 -> 0\.003'

tt resize-window -x 160 -y 48
tt_check "160x48: the learning-rate panel appears" 'learning rate'
tt_check "160x48: the AP table gains AP50, AP75 and history" 'AP50  AP75 .*history'
tt_check "160x48: the validation chart" 'val ━ AP 0\.37'
rows=$(tt_screen | wc -l)
is "$rows" 48 "160x48: the screen is re-laid to 48 rows"

# focus the AP table (Tab), sort by AP (s: class -> AP, largest first)
tt_key Tab
tt_check "Tab focuses the first panel (its title row shows its keys)" 'e EMA +l log'
# focus walks the panels in layout order: curves, then the AP table beside it
tt_key Tab
tt_check "Tab again: the AP table has the focus" 's sort +r reverse'
tt_key s
tt_check "s sorts by AP (marked)" 'AP▼'
first=$(tt_screen | grep -E '^.* (T-shirt|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Boot) +0\.' | head -1 | sed -E 's/.*(T-shirt|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Boot) +0\..*/\1/')
is "$first" "Dress" "the best class first after sorting by AP"
tt_key F1
tt_check "F1 opens the help" 'detbench keys \(any key closes this\)'
tt_key x
tt_wait_not 'detbench keys \(any key' ; ok $? "any key closes the help"
tt_key F3
tt_check "F3 zooms the focused panel" 'Sneaker'
tt_wait_not 'learning rate'; ok $? "the zoomed panel alone"
tt_key F3
tt_check "F3 again: the layout is back" 'learning rate'

tt_key q
tt_check "q quits with status 0" 'EXITED rc=0'

tt_new_server
tt new-session -d -x 80 -y 24 "$(tt_env) '$DETBENCH' watch '$TT_TMP/nothing-here'; echo EXITED rc=\$?; sleep 600"
tt_check "a missing run is named, status 1" 'no run at .*nothing-here'
tt_check "  (status 1)" 'EXITED rc=1'

done_testing
