#!/bin/sh
# The run's panels inside the workbench: det.ui.watch follows a run's
# metrics.jsonl, det.ui.samples shows Fashion scenes with GT and predicted
# boxes; focus, arrows, zoom into a box, TP/FP/FN mode, layouts at 80x24
# and 160x48, det.ui.layout, det.ui.snapshot (text + PNG); typing and
# completion keep working with the panels up. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

run="$TT_TMP/run"
"$top_srcdir/tests/tmux/fake-run.sh" "$run" 400 0

tt_start 160 48
tt_check "no run: the plain workbench (no panels)" '^> ?$'
tt_screen | grep -q 'per-class AP'; isnt $? 0 "no AP panel before a run"
tt_run "det.ui.watch('$run')"
tt_check "160x48: curves" '━ loss [0-9]'
tt_check "160x48: learning rate" 'learning rate'
tt_check "160x48: AP rows" 'Shirt +0\.111 +0\.189 +0\.089'
tt_check "160x48: the worst class is named in the log" 'worst Shirt 0\.111'
tt_check "160x48: the status bar shows the run" 'done · fashion_fcos · ep 10\.00 · step 400/400'
tt_check "160x48: samples wait for an evaluation" 'no samples yet'

tt_run "ds = det.data.fashion{split='test', images=4, size=96, seed=3}"
tt_run "print(det.ui.samples(ds, {dets={[1]={{4,4,40,40,class=1,score=0.91},{50,50,90,90,class='Bag',score=0.42}}}}))"
tt_check "det.ui.samples answers the count" ' 4$'
tt_check "the samples panel names the image" 'samples 1/4 #1 +[0-9]+ GT, 2 pred'
tt_check "a prediction's label with its score" 'T-shirt/top 0\.91'
tt_check "half blocks draw the image" '▀▀▀▀▀▀▀▀'

# focus the samples panel: F2 until its title shows its keys
for i in 1 2 3 4 5; do
	tt_screen | grep -q '<- -> z o g' && break
	tt_key F2
	sleep 0.2
done
tt_check "F2 moves the focus to the samples panel" '<- -> z o g'
tt_key Right
tt_check "Right: the next image" 'samples 2/4 #2'
tt_key Left
tt_check "Left: back" 'samples 1/4 #1'
tt_key z
tt_check "z zooms into a box" 'samples 1/4 #1 .*zoomed'
tt_key o
tt_check "o: TP/FP/FN colours" 'TP/FP/FN'
tt_key Escape
tt_wait_not '<- -> z o g'; ok $? "Esc gives the focus back to the prompt"

# typing and completion with the panels up
tt_type 'det.ui.snap'
tt_key Tab
tt_check "Tab completes at the prompt (the line is not empty)" '> det\.ui\.snapshot'
tt_key C-u
tt_run "print(det.ui.snapshot('$TT_TMP/shot'))"
tt_check "snapshot answers the paths it wrote" "shot\.txt"
grep -q 'per-class AP' "$TT_TMP/shot.txt"; ok $? "the text snapshot has the AP panel"
head -c 8 "$TT_TMP/shot.png" | od -c | grep -q 'P   N   G'; ok $? "the sample is a PNG"

tt_run "det.ui.layout{{'ap', weight=2}, {'output'}}"
tt_wait_not 'learning rate'; ok $? "det.ui.layout: only the panels named"
tt_check "  the AP table is kept" 'per-class AP'
tt_run "print(det.ui.layout{{'nope'}})"
tt_check "an unknown panel is named" "no panel called 'nope'"
tt_run "det.ui.layout('auto')"
tt_check "layout('auto'): by size again" 'learning rate'

tt resize-window -x 80 -y 24
tt_wait_last '^> ?$'
tt_check "80x24: the curves" '━ loss [0-9]'
tt_check "80x24: the AP table" 'Shirt +0\.111'
tt_screen | grep -q 'learning rate'; isnt $? 0 "80x24: no room for the lr panel"
rows=$(tt_screen | wc -l)
is "$rows" 24 "80x24: 24 rows"
tt_run 'print(1 + 1)'
tt_check "80x24: the prompt still answers" '^2$'

tt_key F1
tt_check "F1: the help lists the screen keys" 'F3 +zoom the focused panel'
tt_key Escape
tt_wait_not 'any key closes this'; ok $? "any key closes it"
done_testing
