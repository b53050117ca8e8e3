#!/bin/sh
# bench/fashion_curve.sh: the learning curve of recipes/fashion_fcos.lua —
# trained for its budget (10 minutes by default) on this machine, evaluated
# on its 500 test scenes every eval_minutes; prints mAP against minutes,
# the throughput, and the load average before and after (the machine may
# be shared: the figure scales with the cores it really gets).
#
#   sh bench/fashion_curve.sh [DETBENCH] [key=value ...]
#   sh bench/fashion_curve.sh build/detbench minutes=10 eval_minutes=2
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$(dirname "${1:-$top/build/detbench}")" && pwd)/$(basename "${1:-$top/build/detbench}")
[ $# -gt 0 ] && shift
name=bench-fashion-curve
out=$(mktemp -d)
cd "$out"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)   cores: $(nproc)   threads: ${DETBENCH_THREADS:-default}"
start=$(date +%s)
"$bin" run "$top/recipes/fashion_fcos.lua" name=$name "$@" > run.log 2>&1 || { tail -20 run.log; exit 1; }
end=$(date +%s)
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)   wall: $((end - start)) s"
echo
echo "minutes  step   epoch   AP      AP50    AP75"
/usr/bin/env python3 - "runs/$name/metrics.jsonl" <<'PY'
import json, sys
steps = ips = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "eval":
        s = r["stats"]
        print("%6.2f  %5d  %6.2f   %.4f  %.4f  %.4f" % (r["t"] / 60, r["step"], r["epoch"], s[0], s[1], s[2]))
    elif r.get("type") == "step":
        steps = r["step"]
        ips += r.get("images_per_s") or 0
print()
print("steps: %d; mean images/s while stepping: %.1f" % (steps, ips / max(steps, 1)))
print("reference (issue 6): PyTorch FCOS-style model, 10 min on these 2 cores: mAP 0.16 (AP50 0.27) at ~34 img/s")
PY
grep -E "^(done|early stop)" run.log || true
rm -rf "$out"
