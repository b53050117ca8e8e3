#!/bin/sh
# `detbench doctor PATH`: the format told from the path (VOC root, YOLO
# folder, YOLO data YAML, COCO json), the aligned report within 80 columns,
# --json, and the exit codes for unreadable paths and usage errors. TAP.
. "$top_srcdir/tests/lib.sh"

data=$(cd "$top_srcdir/tests/data" && pwd) # normalised: the report wraps long paths
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$DETBENCH" --help | grep -q "detbench doctor"
ok $? "--help lists the doctor command"

"$DETBENCH" doctor "$data/voc_small" > "$tmp/voc.txt"
is $? 0 "a VOC root: exit 0"
grep -q "^Dataset doctor: voc_small (VOC)$" "$tmp/voc.txt"
ok $? "named and recognised as VOC"
grep -q "^  images   4          objects  7          classes  20 (5 with objects)$" "$tmp/voc.txt"
ok $? "4 images (the one with a missing file kept), 7 objects, 5 of 20 classes"
grep -q "^  ignored (difficult) 1, crowd 0$" "$tmp/voc.txt"
ok $? "the difficult person counts as ignored"
grep -q "^  boxes on the border (within 1 px) *3$" "$tmp/voc.txt"
ok $? "3 boxes touch the border (dog, cat, bicycle)"
grep -q "^  missing image files *1$" "$tmp/voc.txt" && grep -q "^      JPEGImages/000005.jpg$" "$tmp/voc.txt"
ok $? "the missing image file is counted and named"
grep -q "^  imbalance 2.0 (dog 2 / bicycle 1); 15 without objects$" "$tmp/voc.txt"
ok $? "imbalance 2 / 1"
widest=$(LC_ALL=C.UTF-8 wc -L < "$tmp/voc.txt")
ok $([ "$widest" -le 80 ]; echo $?) "every line fits 80 columns (widest $widest)"

"$DETBENCH" doctor --split trainval "$data/voc_small" > "$tmp/tv.txt"
grep -q "^  images   2          objects  4 " "$tmp/tv.txt"
ok $? "--split trainval reads ImageSets/Main/trainval.txt"

"$DETBENCH" doctor "$data/yolo_small" > "$tmp/yolo.txt"
is $? 0 "a YOLO folder: exit 0"
grep -q "(YOLO)$" "$tmp/yolo.txt" && grep -q "^  images   3          objects  3          classes  3 (3 with objects)$" "$tmp/yolo.txt"
ok $? "its data.yaml is used: 3 images, 3 objects, 3 classes"
grep -q "^  empty images (no objects) *1$" "$tmp/yolo.txt"
ok $? "the image without a label file is empty"

"$DETBENCH" doctor "$data/yolo_small/data_list.yaml" > "$tmp/list.txt"
is $? 0 "a YOLO data YAML with an image list: exit 0"
grep -q "^Reader: skipped 1 image and 0 boxes, clipped 0 boxes$" "$tmp/list.txt" &&
grep -q "train.txt:3:" "$tmp/list.txt" # the report wraps long paths: match the file:line only
ok $? "the reader's problem is shown with its file and line"

"$DETBENCH" doctor --json "$data/voc_small" > "$tmp/voc.json"
is $? 0 "--json: exit 0"
grep -q '"format":	"VOC"' "$tmp/voc.json" && grep -q '"border_boxes":' "$tmp/voc.json"
ok $? "--json has the format and the findings"
if [ -n "$LUA54" ]; then
	# a stock Lua checks that the JSON is one well-formed object: every
	# bracket closes, and the last character closes the first
	"$LUA54" -e '
		local s = io.read("a"):gsub("%b\"\"", "")
		local depth = 0
		for c in s:gmatch("[{}%[%]]") do
			depth = depth + ((c == "{" or c == "[") and 1 or -1)
			assert(depth >= 0)
		end
		assert(depth == 0 and s:match("^%s*{") and s:match("}%s*$"))' < "$tmp/voc.json"
	ok $? "the JSON's brackets balance"
fi

cat > "$tmp/c.json" <<'JSON'
{"images":[{"id":1,"file_name":"a.jpg","width":100,"height":80},{"id":2,"file_name":"b.jpg","width":50,"height":50}],
 "annotations":[{"id":1,"image_id":1,"category_id":3,"bbox":[10,10,20,20],"area":400,"iscrowd":0},
  {"id":2,"image_id":1,"category_id":3,"bbox":[10,10,20,20.2],"area":404,"iscrowd":0}],
 "categories":[{"id":3,"name":"car"},{"id":5,"name":"bus"}]}
JSON
"$DETBENCH" doctor "$tmp/c.json" > "$tmp/coco.txt" 2> "$tmp/coco.err"
status=$?
if grep -q "no COCO reader" "$tmp/coco.err"; then
	is $status 1 "a COCO file without the COCO reader: exit 1 # SKIP this build has no COCO reader"
else
	is $status 0 "a COCO json: exit 0"
	grep -q "^  near-duplicate boxes (same class, IoU > 0.95) *1$" "$tmp/coco.txt" &&
	grep -q "IoU 0.990$" "$tmp/coco.txt"
	ok $? "COCO: one near-duplicate pair, IoU 400/404"
	grep -q "^  missing image files *2$" "$tmp/coco.txt"
	ok $? "COCO: both image files missing"
fi

"$DETBENCH" doctor "$tmp/nowhere" 2> "$tmp/err"
is $? 1 "a missing path: exit 1"
grep -q "nowhere: can't open (No such file or directory)" "$tmp/err"
ok $? "and it is named"

mkdir "$tmp/plain" && "$DETBENCH" doctor "$tmp/plain" 2> "$tmp/err"
is $? 1 "a folder of no known format: exit 1"
grep -q "can't tell the format" "$tmp/err"
ok $? "and says what it expected"

"$DETBENCH" doctor 2> /dev/null
is $? 2 "no PATH: exit 2"
"$DETBENCH" doctor --iou 3 "$data/voc_small" 2> "$tmp/err"
is $? 2 "--iou 3 is refused"

done_testing
