#!/bin/sh
# The command line: --version, --help, -e, a file, stdin mode, `run`, and
# errors that keep the session going. TAP.
. "$top_srcdir/tests/lib.sh"

out=$("$DETBENCH" --version)
is "$out" "detbench 0.1.0" "--version prints the version"

"$DETBENCH" --help | grep -q "detbench run FILE.lua"
ok $? "--help lists the run command"

out=$("$DETBENCH" -e 'print(1 + 2)')
is "$out" "3" "-e runs code"

out=$("$DETBENCH" -e 'print(det.threads(1))')
is "$out" "1" "det.threads sets the thread count"

out=$(printf 'x = 40\nx + 2\n' | "$DETBENCH")
is "$out" "42" "stdin mode evaluates expressions and prints their value"

out=$(printf 'function f(a)\n  return a * 2\nend\nf(21)\n' | "$DETBENCH")
is "$out" "42" "a multi-line function definition is gathered before it runs"

out=$(printf 'error("boom")\nprint("still here")\n' | "$DETBENCH" 2>&1)
echo "$out" | grep -q "boom" && echo "$out" | grep -q "stack traceback" && echo "$out" | grep -q "still here"
ok $? "an error prints a traceback and the session goes on"

printf 'error("boom")\n' | "$DETBENCH" >/dev/null 2>&1
isnt $? 0 "stdin mode exits non-zero after an error"

out=$(printf '{ 1, 2, a = "x" }\n' | "$DETBENCH")
is "$out" '{ 1, 2, a = "x" }' "tables are pretty-printed"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'print("args", ...)\nreturn 7\n' > "$tmp/r.lua"
out=$("$DETBENCH" run "$tmp/r.lua" a b)
is "$out" "$(printf 'args\ta\tb')" "run passes arguments to the recipe"

printf 'error("bad recipe")\n' > "$tmp/bad.lua"
"$DETBENCH" run "$tmp/bad.lua" 2>"$tmp/err"
isnt $? 0 "run exits non-zero when the recipe fails"
grep -q "bad.lua:1: bad recipe" "$tmp/err"
ok $? "run names the file and line of the error"

"$DETBENCH" run "$tmp/missing.lua" 2>"$tmp/err"
is $? 2 "run on a missing file exits 2"
grep -q "can't read .*missing.lua" "$tmp/err"
ok $? "and says which file it could not read"

out=$(printf 'recipe\n' | "$DETBENCH" "$tmp/r.lua")
is "$out" "$(printf 'args\n7')" "a file's returned value is kept in 'recipe'"

out=$(printf '? det.threads\n' | "$DETBENCH")
echo "$out" | grep -q "det.threads"
ok $? "? name shows the manual's entry"

out=$(printf '? exp:train\n? r:failures\n' | "$DETBENCH")
echo "$out" | grep -q "^det.experiment:train()" && echo "$out" | grep -q "^det.eval.result:failures{"
ok $? "? receiver:method shows the method's entry (no such variable needed)"

"$DETBENCH" --threads 0 -e '' 2>"$tmp/err"
is $? 2 "--threads 0 is refused"

done_testing
