#!/usr/bin/env bash
# ALS speed: GFLOP/s per sweep beside this machine's dgemm (same run), seconds per sweep and peak RSS
# on generated sets, ML-100K wall time, and a numpy ALS on the same data.
#   DISTCF_BENCH_SIZES ("10000000"; add 100000000 for 1e8), DISTCF_BENCH_RANKS_K ("64 128"),
#   DISTCF_BENCH_ITERS (3), OMP_NUM_THREADS (2)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${DISTCF_BIN:-$root/build/distcf}
py=${PYTHON:-/usr/bin/python3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
iters=${DISTCF_BENCH_ITERS:-3}
echo "bench_als: $(nproc) cores, $OMP_NUM_THREADS threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
dgemm=$(OPENBLAS_NUM_THREADS=$OMP_NUM_THREADS $py - <<'PY'
import time, numpy as np
n = 3000
a, b = np.random.rand(n, n), np.random.rand(n, n)
a @ b
t = time.perf_counter(); reps = 5
for _ in range(reps): a @ b
s = (time.perf_counter() - t) / reps
print(f"{2 * n**3 / s / 1e9:.1f}")
PY
)
echo "dgemm (numpy/OpenBLAS, 3000^3, $OMP_NUM_THREADS threads): $dgemm GFLOP/s"
for n in ${DISTCF_BENCH_SIZES:-10000000}; do
  users=$(( n / 100 )); items=10000
  "$bin" generate --users "$users" --items "$items" --density 0.01 --compression 0 --out "$dir/g.h5" > /dev/null
  for k in ${DISTCF_BENCH_RANKS_K:-64 128}; do
    # The flop formula counts the primal work (a d x d system per row), so the efficiency figure
    # comes from --row-solve primal. The default (auto) solves rows shorter than d in the dual
    # form: same solution, fewer flops, so its formula GFLOP/s is an effective rate.
    for form in primal auto; do
      echo "== $n ratings, k = $k, $iters sweeps, --row-solve $form (distcf, 1 rank x $OMP_NUM_THREADS threads)"
      /usr/bin/time -f "peak RSS %M KiB" "$bin" train --train "$dir/g.h5" --factors "$k" --lambda 0.05 --iters "$iters" \
        --row-solve "$form" --out "$dir/m.h5" > "$dir/log" 2>&1
      grep -E "^ +[0-9]+ " "$dir/log"
      # Beyond the factor matrices: U and V (users + items) x k, plus this rank's solved block of U.
      awk -v n="$n" -v u="$users" -v i="$items" -v k="$k" -v dg="$dgemm" -v form="$form" '
        /^ +[0-9]+ / { s += $5; g += $6; c++ }
        /peak RSS/ { rss = $3 * 1024 }
        END { f = (2 * u + i) * k * 8
              if (form == "primal")
                printf "k = %d, primal: %.3f s per sweep, %.1f GFLOP/s = %.0f%% of dgemm; peak RSS %.0f MB, %.1f B per rating beyond the factors\n",
                       k, s / c, g / c, 100 * g / c / dg, rss / 1e6, (rss - f) / n
              else
                printf "k = %d, auto (default): %.3f s per sweep (effective %.1f GFLOP/s); peak RSS %.0f MB, %.1f B per rating beyond the factors\n",
                       k, s / c, g / c, rss / 1e6, (rss - f) / n }' "$dir/log"
    done
  done
  rm -f "$dir/g.h5"
done
ml="$root/../shared/data/ml-100k/u.data"
if [ -f "$ml" ]; then
  "$bin" import --format movielens100k --input "$ml" --out "$dir/ml.h5" > /dev/null
  t0=$(date +%s.%N)
  "$bin" train --train "$dir/ml.h5" --factors 64 --lambda 0.1 --iters 20 --out "$dir/m.h5" > "$dir/train.log"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "ML-100K, k = 64, 20 iterations, %s threads: %.2f s wall (target < 1 s)\n", ENVIRON["OMP_NUM_THREADS"], b - a }'
  # Side by side with a numpy ALS on the same data, k and iterations (per sweep). At k = 64 the
  # sweep is ~1.1 GFLOP; at k = 10 Python's per-row overhead dominates numpy's time.
  for k in 64 10; do
    theirs=$(OPENBLAS_NUM_THREADS=$OMP_NUM_THREADS $py "$root/scripts/numpy_als.py" "$dir/ml.h5" --rank "$k" --iters 5 --lam 0.1 |
             sed -n 's/.*: \([0-9.]*\) s per sweep.*/\1/p')
    for form in auto primal; do
      "$bin" train --train "$dir/ml.h5" --factors "$k" --lambda 0.1 --iters 10 --row-solve "$form" --out "$dir/m.h5" > "$dir/k.log"
      ours=$(awk '/^ +[0-9]+ / { s += $5; n++ } END { printf "%.5f", s / n }' "$dir/k.log")
      awk -v k="$k" -v a="$ours" -v b="$theirs" -v f="$form" 'BEGIN {
        printf "ML-100K k = %d, --row-solve %s: distcf %.4f s per sweep (10 sweeps), numpy %.4f s (5 sweeps): %.1fx\n", k, f, a, b, b / a }'
    done
  done
else
  echo "ML-100K not found at $ml: skipping its timing and the numpy comparison"
fi
