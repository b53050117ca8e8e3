#!/bin/sh
# `detbench run` with a recipe: exit status, time-stamped lines when not a
# terminal, final table, plots and checkpoints; SIGINT and SIGHUP stop at a
# step boundary, save a loadable last.ckpt and exit 128+signal; --resume
# continues from it; every shipped recipe runs headless for a few steps. TAP.
. "$top_srcdir/tests/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
R="$top_srcdir/recipes"
tiny="train_images=32 val_images=8 size=64 width=0.125 fpn=16 towers=1 batch=4 workers=1 eval_minutes=0"

"$DETBENCH" run "$R/fashion_fcos.lua" $tiny steps=3 name=ok >out 2>err
is $? 0 "a short run exits 0"
grep -q '^\[[0-9-]* [0-9:]*\] done step 3/3' out
ok $? "not a terminal: time-stamped lines"
grep -q "Average Precision  (AP) @\[ IoU=0.50:0.95 | area=   all | maxDets=100 \]" out && grep -q "^Sneaker " out
ok $? "the final evaluation table, per class"
test -s runs/ok/last.ckpt && test -s runs/ok/metrics.jsonl && test -s runs/ok/loss.png && test -s runs/ok/lr.png && test -s runs/ok/ap.png && test -s runs/ok/pr.png
ok $? "checkpoint, metrics log and plots in the run directory"
n=$(grep -c '"type":"step"' runs/ok/metrics.jsonl)
is "$n" 3 "one step record per step in metrics.jsonl"

printf 'local det = require "det"\nreturn det.experiment{ name = "x", model = 1, trian = 2 }\n' >bad.lua
"$DETBENCH" run bad.lua >out 2>err
is $? 2 "a recipe that raises exits 2"
grep -q "unknown key 'trian'" err && grep -q "did you mean 'train'" err
ok $? "naming the misspelt key"

"$DETBENCH" run "$R/fashion_fcos.lua" $tiny steps=3 name=ok --resume nowhere >out 2>err
is $? 1 "--resume of a missing run directory exits 1"
grep -q "can't resume" err
ok $? "and says so"

"$DETBENCH" run "$R/fashion_fcos.lua" $tiny steps=3 nonsense=1 >out 2>err
is $? 2 "an unknown recipe parameter exits 2"
grep -q "unknown key 'nonsense'" err
ok $? "naming it"

# a signal while training: stop at a step boundary, save, exit 128+sig
for sig in INT HUP; do
	rm -rf "runs/sig$sig"
	"$DETBENCH" run "$R/fashion_fcos.lua" $tiny steps=100000 name=sig$sig >out$sig 2>err$sig &
	pid=$!
	i=0
	while [ $i -lt 300 ] && ! grep -q '"type":"step","step":3,' "runs/sig$sig/metrics.jsonl" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -$sig $pid
	wait $pid
	st=$?
	case $sig in INT) want=130 ;; HUP) want=129 ;; esac
	is $st $want "SIG$sig: exit status $want"
	grep -q "signal" out$sig && grep -q "checkpoint: saved runs/sig$sig/last.ckpt" out$sig
	ok $? "SIG$sig: says it stops, and saves last.ckpt"
done
steps=$(sed -n 's/.*"state":"stopped".*"step":\([0-9]*\),.*/\1/p' runs/sigINT/metrics.jsonl | tail -1)
test -n "$steps" && test "$steps" -ge 3
ok $? "the stop is recorded in metrics.jsonl (step $steps)"
target=$((steps + 2))
"$DETBENCH" run "$R/fashion_fcos.lua" $tiny steps=$target name=sigINT --resume runs/sigINT >out 2>err
is $? 0 "the saved checkpoint loads: --resume continues the run"
grep -q "resuming from runs/sigINT/last.ckpt" out && grep -q "done step $target/$target" out
ok $? "from the step it stopped at to the end"

# every shipped recipe, headless, a few steps
for r in fashion_retinanet coco_example voc_example yolo_example audit_labels; do
	extra=""
	case $r in
	fashion_*) extra="$tiny" ;;
	coco_example|audit_labels) extra="annotations=$top_srcdir/tests/data/coco_small/annotations.json images=$top_srcdir/tests/data/coco_small" ;;
	voc_example) extra="root=$top_srcdir/tests/data/voc_small" ;;
	yolo_example) extra="data=$top_srcdir/tests/data/yolo_small/data.yaml" ;;
	esac
	"$DETBENCH" run "$R/$r.lua" $extra steps=2 >out 2>err
	st=$?
	is $st 0 "recipes/$r.lua runs headless"
	[ $st -eq 0 ] || sed 's/^/# /' err | head -5
done
# the audit wrote its suspects (a JSON array) and said where
grep -q '^\[' suspects.json 2>/dev/null
ok $? "recipes/audit_labels.lua writes suspects.json"
grep -q 'written to suspects.json' out
ok $? "recipes/audit_labels.lua says where the suspects went"
"$DETBENCH" run "$R/audit_labels.lua" annotations=$top_srcdir/tests/data/coco_small/annotations.json \
	images=$top_srcdir/tests/data/coco_small steps=2 fix=no/such/dir/fixed.json >out 2>err
[ $? -ne 0 ] && grep -q "fix=no/such/dir/fixed.json: can't write no/such/dir/fixed.json" err
ok $? "recipes/audit_labels.lua: a fix= path it cannot write fails, naming it"

done_testing
