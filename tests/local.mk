# tests: C unit tests (TAP), Lua specs (busted), command-line and terminal
# (tmux) tests. `make check` runs them all; tests/summary.sh prints the
# closing "N passed, N failed" line.
TEST_LDADD = libdetbench.la $(DET_LIBS)
EXTRA_DIST += tests/tap.h tests/alloc_count.h tests/lib.sh tests/run-busted.sh tests/summary.sh tests/lua/golden.lua

check_PROGRAMS += tests/core/test_rng tests/core/test_atomic tests/core/test_file tests/core/test_threads
tests_core_test_rng_LDADD = $(TEST_LDADD)
tests_core_test_atomic_LDADD = $(TEST_LDADD)
tests_core_test_file_LDADD = $(TEST_LDADD)
tests_core_test_threads_LDADD = $(TEST_LDADD)

TESTS += tests/core/test_rng tests/core/test_atomic tests/core/test_file tests/core/test_threads
TESTS += tests/cli.sh tests/lua_module.sh
TESTS += tests/lua/pretty_spec.lua tests/lua/help_spec.lua tests/lua/pins_spec.lua
EXTRA_DIST += tests/cli.sh tests/lua_module.sh tests/lua/pretty_spec.lua tests/lua/help_spec.lua tests/lua/pins_spec.lua
TESTS += tests/lua/doc_coverage_spec.lua
EXTRA_DIST += tests/lua/doc_coverage_spec.lua
CLEANFILES += tests/lua54-asan
