# src/eval/inspect.mk: the failure inspector (issue 8): failures, summary,
# hardest images, suspect labels, their Lua binding and the inspector panel.
libdetbench_la_SOURCES += \
	src/eval/failures.c src/eval/failures.h \
	src/eval/suspect.c src/eval/suspect.h \
	src/lua/linspect.c src/lua/leval.h \
	src/tui/panel_inspector.c src/tui/inspector.h

INSPECT_TEST_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
check_PROGRAMS += tests/eval/test_failures tests/eval/test_suspect
tests_eval_test_failures_LDADD = $(TEST_LDADD)
tests_eval_test_failures_CPPFLAGS = $(INSPECT_TEST_CPPFLAGS)
tests_eval_test_suspect_LDADD = $(TEST_LDADD)
tests_eval_test_suspect_CPPFLAGS = $(INSPECT_TEST_CPPFLAGS)
TESTS += tests/eval/test_failures tests/eval/test_suspect

# the Lua side; the spec re-ranks a trained detector's saved held-out
# predictions (tests/golden/suspects: the fixture and the script that made it)
TESTS += tests/lua/inspect_spec.lua tests/lua/folds_spec.lua
EXTRA_DIST += tests/lua/inspect_spec.lua tests/lua/folds_spec.lua tests/golden/suspects/planted_dets.txt \
	tests/golden/suspects/make_planted_dets.sh tests/golden/suspects/round_dets.py
dist_apidoc_DATA += doc/api/inspect.md

# the inspector panel's rendered snapshot and keys, without a terminal
check_PROGRAMS += tests/tui/test_inspector
tests_tui_test_inspector_LDADD = $(TEST_LDADD)
TESTS += tests/tui/test_inspector

# the inspector panel in a real terminal (skipped without tmux)
TESTS += tests/tmux/inspector.sh
EXTRA_DIST += tests/tmux/inspector.sh

# issue 8's planted-error figure: `detbench run bench/planted_errors.lua` (trains; minutes)
EXTRA_DIST += bench/planted_errors.lua
