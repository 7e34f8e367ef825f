#!/usr/bin/env bash
# Bayesian MF speed: seconds per Gibbs sweep against seconds per ALS sweep on the same generated
# set and k, interleaved and repeated in one run (this machine is shared: read the ratios), and the
# memory the kept samples take.
#   DISTCF_BENCH_RATINGS (10000000), DISTCF_BENCH_K (64), DISTCF_BENCH_SWEEPS (3),
#   DISTCF_BENCH_REPEATS (3), OMP_NUM_THREADS (2), DISTCF_BENCH_DIR (a temporary directory)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${DISTCF_BIN:-$root/build/distcf}
dir=$(mktemp -d "${DISTCF_BENCH_DIR:-${TMPDIR:-/tmp}}/distcf-bench-bpmf.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
n=${DISTCF_BENCH_RATINGS:-10000000}
k=${DISTCF_BENCH_K:-64}
sweeps=${DISTCF_BENCH_SWEEPS:-3}
repeats=${DISTCF_BENCH_REPEATS:-3}
users=$(( n / 100 )); items=10000
echo "bench_bpmf: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), 1 rank x $OMP_NUM_THREADS threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$bin" generate --users "$users" --items "$items" --density 0.01 --compression 0 --out "$dir/g.h5" > /dev/null
echo "data: about $n ratings ($users users x $items items), k = $k, $sweeps sweeps a run, the first sweep of each run left out"
# Mean seconds of sweeps 2.. from the per-iteration lines (column 5: seconds).
per_sweep() { awk '/^ +[0-9]+ / { if ($1 > 1) { s += $5; c++ } } END { printf "%.3f", s / c }' "$1"; }
als_all=(); bpmf_all=()
for r in $(seq "$repeats"); do
  "$bin" train --train "$dir/g.h5" --factors "$k" --lambda 0.05 --iters "$sweeps" --out "$dir/a.h5" > "$dir/a.log"
  # All sweeps in the burn-in: the chain's cost without the kept samples' bookkeeping.
  "$bin" train --method bpmf --train "$dir/g.h5" --factors "$k" --burnin "$sweeps" --samples 0 --out "$dir/b.h5" > "$dir/b.log"
  a=$(per_sweep "$dir/a.log"); b=$(per_sweep "$dir/b.log")
  als_all+=("$a"); bpmf_all+=("$b")
  awk -v r="$r" -v a="$a" -v b="$b" 'BEGIN { printf "run %d: ALS %.3f s per sweep, Gibbs %.3f s per sweep: ratio %.2f\n", r, a, b, b / a }'
done
printf "%s\n" "${als_all[@]}" | sort -n > "$dir/a.txt"; printf "%s\n" "${bpmf_all[@]}" | sort -n > "$dir/b.txt"
ma=$(awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' "$dir/a.txt")
mb=$(awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' "$dir/b.txt")
awk -v a="$ma" -v b="$mb" 'BEGIN { printf "median: ALS %.3f s, Gibbs %.3f s per sweep: Gibbs / ALS = %.2f (target <= 1.3)\n", a, b, b / a }'
# Sweeps past the burn-in also keep their sample (a copy of U and V) and export the posterior model.
/usr/bin/time -f "peak RSS %M KiB" "$bin" train --method bpmf --train "$dir/g.h5" --factors "$k" --burnin 1 \
  --samples "$((sweeps - 1))" --out "$dir/b.h5" > "$dir/k.log" 2>&1
awk -v a="$ma" '/^ +[0-9]+ / { if ($1 > 1) { s += $5; c++ } } /peak RSS/ { rss = $3 }
  END { printf "keeping samples: Gibbs %.3f s per sweep (%.2f x the median ALS sweep); peak RSS %.0f MB\n", s / c, s / c / a, rss / 1024 }' "$dir/k.log"
awk -v u="$users" -v i="$items" -v k="$k" 'BEGIN {
  printf "kept samples: %.1f MB each (S x k x (users + items) x 8 bytes; 100 samples: %.2f GB); --keep-samples N bounds them\n",
         k * (u + i) * 8 / 1e6, 100 * k * (u + i) * 8 / 1e9 }'
