#!/bin/sh
# cli_eval.sh: `detbench eval` prints pycocotools' 12-line summary for a
# fixture (compared with the values pycocotools printed, to 3 decimals),
# the per-class and TIDE tables, JSON, and clear errors for bad input.
. "$top_srcdir/tests/lib.sh"
g=$top_srcdir/tests/golden/cocoeval
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$DETBENCH" eval "$g/case2/gt.json" "$g/case2/results.json" >"$tmp/out" 2>"$tmp/err"
ok $? "eval case2 exits 0"
is "$(wc -l <"$tmp/out" | tr -d ' ')" 12 "12 summary lines"
is "$(head -1 "$tmp/out" | cut -c1-76)" " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0." "pycocotools' first line format"
want=$("$LUA54" -e '
  local f = io.open(arg[1]):read("a")
  local s = f:match("\"stats\": %[(.-)%]")
  local out = {}
  for v in s:gmatch("[-%d.e]+") do out[#out + 1] = string.format("%0.3f", tonumber(v)) end
  print(table.concat(out, " "))' "$g/case2/expected.json" 2>/dev/null)
got=$(sed 's/.*= //' "$tmp/out" | tr '\n' ' ' | sed 's/ $//')
if [ -n "$want" ]; then is "$got" "$want" "the 12 numbers match pycocotools' (3 decimals)"; fi
grep -q "area=medium | maxDets=100" "$tmp/out"; ok $? "medium row"
grep -q "Average Recall     (AR) @\[ IoU=0.50:0.95 | area=   all | maxDets=  1 \]" "$tmp/out"; ok $? "AR maxDets=1 row"

"$DETBENCH" eval "$g/case5/gt.json" "$g/case5/results.json" --per-class --tide >"$tmp/pc"
ok $? "--per-class --tide exits 0"
grep -q "^class .*AP50.*AP75.*GT.*dets" "$tmp/pc"; ok $? "per-class header"
grep -q "^ring .* - .* - .* - .* 0 " "$tmp/pc"; ok $? "a class without GT shows '-' and 0 GT"
grep -q "Cls.*Loc.*Both.*Dupe.*Bkg.*Miss" "$tmp/pc"; ok $? "TIDE table"

"$DETBENCH" eval "$g/case5/gt.json" "$g/case5/results.json" --confusion=0.5 >"$tmp/c"
ok $? "--confusion=0.5 exits 0"
grep -q "^confusion (rows: GT class, columns: predicted; IoU >= 0.50, score >= 0.50)" "$tmp/c"; ok $? "confusion header"
is "$(grep -c '' "$tmp/c")" 22 "12 summary lines, a blank, a title, a header and 6 class rows + background"

"$DETBENCH" eval "$g/case1/gt.json" "$g/case1/results.json" --json >"$tmp/j"
ok $? "--json exits 0"
grep -q '"stats_named"' "$tmp/j" && grep -q '"tide"' "$tmp/j"; ok $? "JSON has stats_named and tide"

a=$(OMP_NUM_THREADS=1 "$DETBENCH" eval "$g/case4/gt.json" "$g/case4/results.json" --json | cksum)
b=$(OMP_NUM_THREADS=3 "$DETBENCH" eval "$g/case4/gt.json" "$g/case4/results.json" --json | cksum)
is "$b" "$a" "the same bytes with 1 and 3 threads"

cat "$g/case2/results.json" | "$DETBENCH" eval "$g/case2/gt.json" - >"$tmp/pipe"
ok $? "results read from a pipe (-)"
is "$(cksum <"$tmp/pipe")" "$(cksum <"$tmp/out")" "the same summary as from the file"

echo '[]' >"$tmp/empty.json"
"$DETBENCH" eval "$g/case1/gt.json" "$tmp/empty.json" >"$tmp/e"
ok $? "an empty results list is valid"
is "$(sed 's/.*= //' "$tmp/e" | sort -u)" "0.000" "and gives zeros"

printf '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},\n {"image_id": 99999, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}]\n' >"$tmp/bad.json"
"$DETBENCH" eval "$g/case1/gt.json" "$tmp/bad.json" >/dev/null 2>"$tmp/err"
isnt $? 0 "an unknown image id fails"
grep -q "bad.json:2:2: result (index 1): unknown image_id 99999" "$tmp/err"; ok $? "named with file, line, column: $(cat "$tmp/err")"

printf '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5,]\n' >"$tmp/syn.json"
"$DETBENCH" eval "$g/case1/gt.json" "$tmp/syn.json" >/dev/null 2>"$tmp/err"
isnt $? 0 "a syntax error fails"
grep -q "syn.json:1:" "$tmp/err"; ok $? "with file and line: $(cat "$tmp/err")"

"$DETBENCH" eval "$g/case1/gt.json" >/dev/null 2>&1
is $? 2 "a missing argument is a usage error"
done_testing
