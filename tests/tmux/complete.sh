#!/bin/sh
# Tab completion at the prompt: globals' fields, methods after ':', and
# the list of candidates in the output area when the word is ambiguous. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

tt_start 100 30

tt_type 'det.thr'
tt_key Tab
if tt_wait_last '^> det\.threads$'; then ok 0 "det.thr<Tab> completes to det.threads"; else
	ok 1 "det.thr<Tab> completes to det.threads"; tt_diag "no completion"; fi
tt_key C-u

tt_type 'pri'
tt_key Tab
if tt_wait_last '^> print$'; then ok 0 "a global completes (pri -> print)"; else
	ok 1 "a global completes (pri -> print)"; tt_diag "no completion"; fi
tt_key C-u

tt_run 'box = setmetatable({ w = 2 }, { __index = { area = function(s) return s.w * s.w end, iou = function() return 1 end } })'
tt_type 'box:'
tt_key Tab
tt_check "box:<Tab> lists the methods from the metatable's __index" '^area  iou$'
tt_type 'a'
tt_key Tab
if tt_wait_last '^> box:area$'; then ok 0 "box:a<Tab> completes to the method"; else
	ok 1 "box:a<Tab> completes to the method"; tt_diag "no completion"; fi
tt_type '()'
tt_key Enter
tt_check "the completed method call runs" '^4$'

tt_type 'det.'
tt_key Tab
tt_check "det.<Tab> lists det's fields by their last name" '(^| )threads( |$)'
screen=$(tt_screen)
echo "$screen" | grep -Eq '(^| )version( |$)'
ok $? "the list holds det.version too"
tt_key C-u

tt_run 'cfg = { alpha = 1, be = 2, gamma_long = 3, _hidden = 4 }'
tt_type 'cfg.'
tt_key Tab
tt_check "the list is in columns as wide as the longest name plus two" '^alpha       be          gamma_long$'
tt_screen | grep '^alpha' | grep -q '_hidden'
isnt $? 0 "names starting with _ are left out"
tt_type '_'
tt_key Tab
if tt_wait_last '^> cfg\._hidden$'; then ok 0 "unless the word starts with _"; else
	ok 1 "unless the word starts with _"; tt_diag "no completion"; fi
tt_key C-u

tt_type 'math.pi'
tt_key Tab
tt_key Enter
tt_check "a complete name stays as typed and runs" '^3\.14159'

tt_run '? det.threads'
tt_check "? name shows the manual's entry in the output area" '^det\.threads\('
tt_run 'help(det.threads)'
tt_check "help(x) too" 'Reads or sets the number of compute threads|det\.threads\(n\)'

done_testing
