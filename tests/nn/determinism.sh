#!/bin/sh
# determinism.sh: the same seed and thread count give bit-identical training
# steps in separate processes, even when every fresh allocation is poisoned
# with a different byte (MALLOC_PERTURB_), which would expose any kernel that
# reads memory it did not write first.
. "$top_srcdir/tests/lib.sh"
bin=$top_builddir/tests/nn/test_graph
[ -x "$bin" ] || skip_all "tests/nn/test_graph is not built"
for t in 1 2; do
	a=$(MALLOC_PERTURB_=0 "$bin" --hash $t)
	b=$(MALLOC_PERTURB_=165 "$bin" --hash $t)
	c=$(MALLOC_PERTURB_=90 "$bin" --hash $t)
	isnt "$a" "" "$t thread(s): the run prints a hash"
	is "$b" "$a" "$t thread(s): a run with allocations poisoned (0xa5) matches"
	is "$c" "$a" "$t thread(s): a run with allocations poisoned (0x5a) matches"
done
done_testing
