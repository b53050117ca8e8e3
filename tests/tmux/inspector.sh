#!/bin/sh
# The failure inspector in a real terminal: r:failures{} at the prompt opens
# the panel focused over the layout; j moves, f shows the full image, s
# filters by size, m marks, x exports the marks, Esc gives the keys back to
# the prompt (typing is never taken while the panel is not focused), q
# closes it. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

setup="$TT_TMP/setup.lua"
marks="$TT_TMP/marks.json"
cat > "$setup" <<'LUA'
ds = det.data.fashion{ split = "test", images = 12, size = 64, seed = 3 }
local preds = {}
for i = 1, #ds do
  local it = ds:item(i)
  for k, b in ipairs(it.boxes) do
    local c = b.class
    if k % 3 == 0 then c = c % 10 + 1 end          -- every third object confused
    preds[#preds + 1] = { image_id = it.id, class = c, score = 0.5 + 0.04 * k,
      bbox = { b[1] + 1, b[2], b[3] - b[1], b[4] - b[2] } }
  end
end
r = det.eval.coco(ds, preds)
LUA

tt_start 120 36
tt_run "dofile('$setup')"
# (the panel covers the output, so wait for it rather than for the echo)
tt_type "f = r:failures{ export = '$marks' }"
tt_key Enter
tt_check "the inspector opens with its list" 'inspector: all classes +1/[0-9]+'
tt_check "the list shows kinds and confused classes" ' cls +0\.[0-9]+ +0\.[0-9]+ [A-Z]'
tt_check "the viewer's legend" 'GT amber|GT green|GT -'
tt_key j
tt_check "j moves to the next item" 'inspector: all classes +2/'
tt_key f
tt_check "f shows the full image" 'full image'
tt_key f
tt_check "f again zooms back" 'zoomed'
tt_key m
tt_check "m marks the object" '1 marked'
tt_key x
tt_check "x exports the marks" 'marks written to'
test -f "$marks" && grep -q '"reason": "marked"' "$marks"
ok $? "the marks file has the marked object"
ls "$TT_TMP" | grep -q 'marks.json.tmp'
isnt $? 0 "no temporary file is left"
tt_key s
tt_check "s filters by size" 'size small'
tt_key s
tt_key s
tt_key s
tt_check "s cycles back to all sizes" 'size all'
# Esc: the prompt gets the keys again, the panel stays on screen
tt_key Escape
tt_type 'nmarks = #det.inspect.marks()'
tt_key Enter
tt_check "the panel stays, unfocused" 'inspector: all classes.*Tab: focus'
tt_key Tab
tt_check "Tab on an empty line focuses it again" 'j/k f s t m x q Esc'
tt_key q
tt_wait_not 'inspector: all classes'
ok $? "q closes it"
tt_run 'print("marks:", nmarks, #f)'
tt_check "typing reached the prompt after Esc: det.inspect.marks() had the mark" '^marks:[[:space:]]+1[[:space:]]+18$'
tt_key C-d
tt_check "quits cleanly" 'EXITED rc=0'
done_testing
