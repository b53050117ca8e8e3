# src/tui: the workbench screen (screen manager, panels, prompt) and its tests.
libdetbench_la_SOURCES += \
	src/tui/tui.c src/tui/tui.h \
	src/tui/panel.h \
	src/tui/screen.c src/tui/screen.h \
	src/tui/style.c src/tui/style.h \
	src/tui/text.c src/tui/text.h \
	src/tui/output.c src/tui/output.h \
	src/tui/status.c src/tui/status.h \
	src/tui/prompt.c src/tui/prompt.h \
	src/tui/history.c src/tui/history.h \
	src/tui/capture.c src/tui/capture.h \
	src/tui/cells.c src/tui/cells.h \
	src/tui/chart.c src/tui/chart.h \
	src/tui/aptable.c src/tui/aptable.h \
	src/tui/imgview.c src/tui/imgview.h \
	src/tui/board.c src/tui/board.h \
	src/tui/panel_curves.c src/tui/panel_ap.c src/tui/panel_samples.c src/tui/panel_log.c \
	src/tui/watch.c src/tui/watch.h \
	src/lua/lui.c
dist_luadet_DATA += lua/det/ui.lua
# Tab completion's Lua half (require "det.complete"), installed with det.
dist_luadet_DATA += lua/det/complete.lua

# Terminal tests: tmux drives detbench (skipped without tmux).
TMUX_TESTS = tests/tmux/complete.sh tests/tmux/history.sh \
	tests/tmux/multiline.sh tests/tmux/error.sh tests/tmux/interrupt.sh \
	tests/tmux/resize.sh tests/tmux/quit.sh tests/tmux/terms.sh \
	tests/tmux/scroll.sh tests/tmux/fatal.sh \
	tests/tmux/watch.sh tests/tmux/panels.sh tests/tmux/train.sh \
	tests/tmux/samples.sh tests/tmux/watch_run.sh tests/tmux/audit.sh
TESTS += $(TMUX_TESTS)
EXTRA_DIST += $(TMUX_TESTS) tests/tmux/tmux-lib.sh tests/tmux/fake-run.sh

# The output panel: text handling, scrolling and a rendered snapshot.
check_PROGRAMS += tests/tui/test_output
tests_tui_test_output_LDADD = $(TEST_LDADD)
TESTS += tests/tui/test_output
check_PROGRAMS += tests/tui/test_screen
tests_tui_test_screen_LDADD = $(TEST_LDADD)
TESTS += tests/tui/test_screen
check_PROGRAMS += tests/tui/test_status
tests_tui_test_status_LDADD = $(TEST_LDADD)
TESTS += tests/tui/test_status
# Trips an assertion with the screen up, for tests/tmux/fatal.sh.
check_PROGRAMS += tests/tui/fatal_probe
tests_tui_fatal_probe_LDADD = $(TEST_LDADD)

# Completion candidates, on a stock lua5.4 (busted).
TESTS += tests/lua/complete_spec.lua
EXTRA_DIST += tests/lua/complete_spec.lua

# Widgets (chart, sparkline, AP table, half-block images) drawn into cells.
check_PROGRAMS += tests/tui/test_widgets
tests_tui_test_widgets_LDADD = $(TEST_LDADD)
TESTS += tests/tui/test_widgets

# The renderer beside libchafa (bench/render_compare): built by `make bench`
# only when pkg-config finds chafa (Debian: libchafa-dev); configure does
# not need it, so its flags are asked for at build time.
EXTRA_PROGRAMS += bench/render_compare
bench_render_compare_SOURCES = bench/render_compare.c
bench_render_compare_CFLAGS = $(AM_CFLAGS) `$(PKG_CONFIG) --cflags chafa 2>/dev/null`
bench_render_compare_LDADD = $(TEST_LDADD)
bench_render_compare_LDFLAGS = `$(PKG_CONFIG) --libs chafa 2>/dev/null`
bench: bench-render-compare
bench-render-compare:
	@if $(PKG_CONFIG) --exists chafa; then \
	  $(MAKE) $(AM_MAKEFLAGS) bench/render_compare$(EXEEXT); \
	else \
	  echo "bench/render_compare skipped: chafa not found (apt-get install libchafa-dev)"; \
	fi
.PHONY: bench-render-compare

# Keystroke echo latency and the screen's CPU share while training.
EXTRA_PROGRAMS += bench/ui_latency
BENCH_BINS += bench/ui_latency
bench_ui_latency_LDADD = -lutil

# det.ui's chapter, and the committed screens (doc/screens/make-screens.sh).
dist_apidoc_DATA += doc/api/ui.md
EXTRA_DIST += doc/screens/demo.lua doc/screens/samples.lua doc/screens/make-screens.sh \
	doc/screens/workbench-80x24.txt doc/screens/workbench-160x48.txt \
	doc/screens/workbench-80x24.ans doc/screens/workbench-160x48.ans \
	doc/screens/watch-80x24.txt doc/screens/watch-160x48.txt \
	doc/screens/workbench-80x24-samples.txt

# det.ui without a screen (busted, stock lua5.4).
TESTS += tests/lua/ui_spec.lua
EXTRA_DIST += tests/lua/ui_spec.lua
