#!/bin/sh
# Prints the suite's closing line, "N passed, N failed", from the .trs files
# that Automake's test driver leaves in the build tree (one per test script,
# one :test-result: line per TAP test point).
dir=${1:-.}
find "$dir" -name '*.trs' -exec cat {} + 2>/dev/null | awk '
	/^:test-result: (PASS|XFAIL)/ { pass++ }
	/^:test-result: (FAIL|XPASS|ERROR)/ { fail++ }
	/^:test-result: SKIP/ { skip++ }
	END {
		if (skip) printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
		else printf "%d passed, %d failed\n", pass, fail
	}'
