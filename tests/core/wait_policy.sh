#!/bin/sh
# The OpenMP wait policy (src/core/threads_preinit.c): detbench runs with
# OMP_WAIT_POLICY=passive unless the environment chose a policy, and libgomp
# really runs with it (its spin count is 0), arguments intact. TAP.
. "$top_srcdir/tests/lib.sh"

out=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$DETBENCH" -e 'print(os.getenv("OMP_WAIT_POLICY"), 1 + 2)')
is "$out" "passive	3" "no policy in the environment: passive, and -e's code ran once"

spin=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT OMP_DISPLAY_ENV=verbose "$DETBENCH" --version 2>&1 |
	sed -n "s/.*GOMP_SPINCOUNT = '\([0-9]*\)'.*/\1/p" | tail -n 1)
is "$spin" "0" "libgomp of the program that runs main spins 0 times"

out=$(env -u GOMP_SPINCOUNT OMP_WAIT_POLICY=active OMP_DISPLAY_ENV=verbose "$DETBENCH" --version 2>&1)
n=$(printf '%s\n' "$out" | grep -c "GOMP_SPINCOUNT")
is "$n" "1" "a policy in the environment: no re-execution"
printf '%s\n' "$out" | grep -q "GOMP_SPINCOUNT = '30000000000'"
ok $? "and the environment's choice (active) is kept"

out=$(env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=1000 "$DETBENCH" -e 'print(os.getenv("OMP_WAIT_POLICY"))')
is "$out" "nil" "GOMP_SPINCOUNT alone also counts as a choice"

done_testing
