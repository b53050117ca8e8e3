#!/bin/sh
# The output area keeps a scrollback: PgUp shows older lines and a "more
# below" mark, PgDn returns to the end. TAP.
. "$top_srcdir/tests/tmux/tmux-lib.sh"

tt_start 80 24
tt_type 'for i = 1, 100 do print("line " .. i) end'
tt_key Enter
tt_check "the end of the output is shown" '^line 100$'
tt_key PPage
tt_check "PgUp shows older lines" '^line 7[0-9]$'
tt_check "and a mark says there is more below" 'more below'
tt_wait_not '^line 100$'
ok $? "the newest line is out of view"
tt_type 'print("while scrolled")'
tt_key Enter
tt_wait_last '^> ?$'
tt_wait_not '^while scrolled$' 1
ok $? "new output does not move a scrolled view"
tt_key NPage NPage NPage
tt_check "PgDn returns to the end" '^while scrolled$'
tt_wait_not 'more below'
ok $? "and the mark is gone"

done_testing
