#!/usr/bin/env bash
# Scale-out of the alternating sweeps, both factor exchanges side by side. On a generated set with
# MovieLens's shape (zipf:0.9 item popularity, lognormal:1 user activity), for each rank count P:
# the plan (`train --plan`, before any work), then ALS under allgather and under targeted,
# interleaved, each run's per-rank peak RSS (the largest rank), factor bytes held per rank,
# bytes received per sweep, seconds per sweep (the median), the plan's expected peak against the
# measured one, and whether the model has the same bits as the first run's (P = first, allgather).
# Then scripts/scaling_model.py fits its model of the held rows to the plans and extrapolates to
# 10^9 ratings (docs/SCALING.md).
# On a small machine the larger P are oversubscribed: the seconds then measure contention, the
# bytes do not depend on it.
#   DISTCF_BENCH_USERS (2000000), DISTCF_BENCH_ITEMS (20000), DISTCF_BENCH_DENSITY (0.00025: about
#   1.26e7 ratings), DISTCF_BENCH_K (16), DISTCF_BENCH_ITERS (3), DISTCF_BENCH_RANKS ("1 2 4 8 16"),
#   DISTCF_BENCH_THREADS (OpenMP threads per rank, 1), DISTCF_LAUNCH (mpirun; "srun --mpi=pmix"
#   inside an allocation), DISTCF_BENCH_DIR (a temporary directory)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${DISTCF_BIN:-$root/build/distcf}
py=/usr/bin/python3
dir=$(mktemp -d "${DISTCF_BENCH_DIR:-${TMPDIR:-/tmp}}/distcf-bench-scaling.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
users=${DISTCF_BENCH_USERS:-2000000}
items=${DISTCF_BENCH_ITEMS:-20000}
density=${DISTCF_BENCH_DENSITY:-0.00025}
k=${DISTCF_BENCH_K:-16}
iters=${DISTCF_BENCH_ITERS:-3}
ranks=${DISTCF_BENCH_RANKS:-1 2 4 8 16}
threads=${DISTCF_BENCH_THREADS:-1}
launch=${DISTCF_LAUNCH:-mpirun}
launch_n() {  # launch_n P command...: P ranks, any number on this node
  local n=$1; shift
  if [[ $launch == mpirun* ]]; then
    $launch -n "$n" --oversubscribe --bind-to none -x OMP_NUM_THREADS="$threads" "$@"
  else
    OMP_NUM_THREADS=$threads $launch -n "$n" "$@"
  fi
}
echo "bench_scaling: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ { print $2 }') GiB"
"$bin" generate --profile movielens --users "$users" --items "$items" --density "$density" --compression 0 \
  --out "$dir/g.h5" > "$dir/generate.log" 2>&1
grep "^generated" "$dir/generate.log"
echo "ALS k = $k, $iters sweeps, $threads thread(s) per rank; MiB per rank (the largest); s/sweep: median"
printf '%4s %-9s | %9s %9s %9s %8s | %9s %9s %6s | %s\n' P exchange "factors" "recv/swp" "s/sweep" "total s" \
  "peak RSS" "plan" "ratio" "same bits as the first run"
reference=""
for p in $ranks; do
  for x in allgather targeted; do
    launch_n "$p" "$bin" --json train --train "$dir/g.h5" --factors "$k" --plan --exchange "$x" > "$dir/plan.json" 2> "$dir/plan.err"
    [ "$x" = targeted ] && cp "$dir/plan.json" "$dir/plan-$p.json"
    start=$(date +%s.%N)
    if ! launch_n "$p" /usr/bin/time -f "rank peak RSS %M KiB" "$bin" train --train "$dir/g.h5" --factors "$k" --iters "$iters" \
      --exchange "$x" --out "$dir/m.h5" > "$dir/train.log" 2>&1; then
      printf '%4s %-9s | failed:\n' "$p" "$x"
      grep -v '^ *[0-9]' "$dir/train.log" | tail -5
      continue
    fi
    total=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    same="-"
    if [ -z "$reference" ]; then
      reference="$dir/reference.h5"; cp "$dir/m.h5" "$reference"; same="(reference)"
    else
      same=yes
      for d in user_factors item_factors user_bias item_bias; do
        h5diff -q "$reference" "$dir/m.h5" "/model/$d" "/model/$d" > /dev/null 2>&1 || same=NO
      done
    fi
    "$py" - "$dir/plan.json" "$dir/train.log" "$p" "$x" "$total" "$same" <<'EOF'
import json, re, statistics, sys
plan, log, p, x, total, same = sys.argv[1:]
ranks = json.load(open(plan))["plan"]["ranks"]
mib = lambda b: b / 1048576
if x == "allgather":
    factors = max(r["allgather_factor_bytes"] for r in ranks)
else:
    factors = max(r["targeted_factor_bytes"] for r in ranks)
expected = max(r["expected_peak_rss_bytes"] for r in ranks)
text = open(log).read()
rss = max(int(v) for v in re.findall(r"rank peak RSS (\d+) KiB", text)) * 1024
rows = [l.split() for l in text.splitlines() if re.match(r"^\s+\d+\s", l)]
seconds = statistics.median(float(r[4]) for r in rows)
recv = float(rows[-1][7])
print(f"{p:>4} {x:<9} | {mib(factors):9.1f} {recv:9.1f} {seconds:9.3f} {float(total):8.1f} | {mib(rss):9.1f} {mib(expected):9.1f} "
      f"{rss / expected:6.3f} | {same}")
EOF
  done
done
"$py" "$root/scripts/scaling_model.py" --model "$reference" --plans "$dir"/plan-*.json --k "${DISTCF_EXTRAPOLATE_K:-64}"
