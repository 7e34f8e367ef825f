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
OPENBLAS_NUM_THREADS=$OMP_NUM_THREADS $py - <<'PY'
import time, numpy as np
n = 3000
a, b = np.random.rand(n, n), np.random.rand(n, n)
a @ b
t = time.perf_counter(); reps = 5
for _ in range(reps): a @ b
s = (time.perf_counter() - t) / reps
print(f"dgemm (numpy/OpenBLAS, {n}^3): {2 * n**3 / s / 1e9:.1f} GFLOP/s")
PY
for n in ${DISTCF_BENCH_SIZES:-10000000}; do
  users=$(( n / 100 )); items=10000
  "$bin" generate --users "$users" --items "$items" --density 0.01 --compression 0 --out "$dir/g.h5" > /dev/null
  for k in ${DISTCF_BENCH_RANKS_K:-64 128}; do
    echo "== $n ratings, k = $k, $iters sweeps (distcf, 1 rank x $OMP_NUM_THREADS threads)"
    /usr/bin/time -f "peak RSS %M KiB" "$bin" train --train "$dir/g.h5" --rank "$k" --lambda 0.05 --iters "$iters" \
      --out "$dir/m.h5" 2>&1 | grep -E "^ +[0-9]+ |peak RSS"
  done
  rm -f "$dir/g.h5"
done
ml="$root/../shared/data/ml-100k/u.data"
if [ -f "$ml" ]; then
  "$bin" import --format movielens100k --input "$ml" --out "$dir/ml.h5" > /dev/null
  t0=$(date +%s.%N)
  "$bin" train --train "$dir/ml.h5" --rank 64 --lambda 0.1 --iters 20 --out "$dir/m.h5" > "$dir/train.log"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "ML-100K, k = 64, 20 iterations, %s threads: %.2f s wall (target < 1 s)\n", ENVIRON["OMP_NUM_THREADS"], b - a }'
  awk '/^ +[0-9]+ / { s += $5; n++ } END { printf "distcf: %.4f s per sweep (mean of %d)\n", s / n, n }' "$dir/train.log"
  OPENBLAS_NUM_THREADS=$OMP_NUM_THREADS $py "$root/scripts/numpy_als.py" "$dir/ml.h5" --rank 64 --iters 3 --lam 0.1
else
  echo "ML-100K not found at $ml: skipping its timing and the numpy comparison"
fi
