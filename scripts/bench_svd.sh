#!/usr/bin/env bash
# SVD benchmarks (issue: SVD through ScaLAPACK):
#  1. dense: an M x N pdgesvd on 1 and 2 ranks beside Armadillo's (LAPACK) svd on one rank, same run;
#  2. randomized: `train --method svd` on a generated set (default 10^5 users x 10^4 items, 10M
#     ratings), k = 20: seconds and peak memory per rank;
#  3. agreement of the top singular values, randomized against dense, on a subset that fits.
#   DISTCF_BENCH_DENSE ("4000 2000"), DISTCF_BENCH_USERS (100000), DISTCF_BENCH_ITEMS (10000),
#   DISTCF_BENCH_DENSITY (0.01), DISTCF_NP (2)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${DISTCF_BIN:-$root/build/distcf}
bench=${DISTCF_BENCH_SVD_BIN:-$root/build/tests/distcf_bench_svd}
np=${DISTCF_NP:-2}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cores=$(nproc)
echo "bench_svd: $cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
read -r m n <<< "${DISTCF_BENCH_DENSE:-4000 2000}"
echo "== dense $m x $n, singular values and vectors"
# One BLAS thread per rank on as many ranks as cores; a single rank gets every core for its BLAS.
OPENBLAS_NUM_THREADS=$cores OMP_NUM_THREADS=$cores "$bench" "$m" "$n" --lapack
OPENBLAS_NUM_THREADS=$cores OMP_NUM_THREADS=$cores mpirun -n 1 --bind-to none "$bench" "$m" "$n"
OPENBLAS_NUM_THREADS=$(( cores / 2 > 0 ? cores / 2 : 1 )) mpirun -n 2 --oversubscribe --bind-to none "$bench" "$m" "$n"

users=${DISTCF_BENCH_USERS:-100000}; items=${DISTCF_BENCH_ITEMS:-10000}; density=${DISTCF_BENCH_DENSITY:-0.01}
echo "== randomized, $users x $items at density $density, k = 20, $np ranks"
"$bin" generate --users "$users" --items "$items" --density "$density" --compression 0 --out "$dir/g.h5" | head -1
/usr/bin/time -f "wall %e s (with start-up and I/O)" mpirun -n "$np" --oversubscribe --bind-to none \
  "$bin" train --method svd --svd-solver randomized --factor-grid 20 --select-k largest --ignore-stored-split \
  --train "$dir/g.h5" --out "$dir/r.h5" 2>&1 | grep -E "^svd:|wall"
rm -f "$dir/g.h5"

read -r sub_users sub_items sub_density <<< "${DISTCF_BENCH_SUBSET:-5000 1000 0.02}"
echo "== agreement on a subset that fits densely: $sub_users x $sub_items at density $sub_density"
"$bin" generate --users "$sub_users" --items "$sub_items" --density "$sub_density" --out "$dir/s.h5" > /dev/null
for solver in dense randomized; do
  mpirun -n "$np" --oversubscribe --bind-to none "$bin" train --method svd --svd-solver "$solver" --factor-grid 20 \
    --select-k largest --ignore-stored-split --train "$dir/s.h5" --out "$dir/$solver.h5" | grep -E "^svd:"
done
for q in 0 2 4 8; do
  mpirun -n "$np" --oversubscribe --bind-to none "$bin" train --method svd --svd-solver randomized --power-iters $q \
    --factor-grid 20 --select-k largest --ignore-stored-split --train "$dir/s.h5" --out "$dir/q$q.h5" > /dev/null
done
${PYTHON:-/usr/bin/python3} - "$dir" <<'PY'
import sys, h5py, numpy as np
d = sys.argv[1]
ref = h5py.File(f"{d}/dense.h5")["/svd/singular_values"][:]
print("dense spectrum: s1 = %.3f, s5 = %.3f, s20 = %.3f, s40 = %.3f (a flat tail: the hard case for a sketch)"
      % (ref[0], ref[4], ref[19], ref[39]))
ref = ref[:20]
for name in ["randomized", "q0", "q2", "q4", "q8"]:
    s = h5py.File(f"{d}/{name}.h5")["/svd/singular_values"][:20]
    rel = np.abs(s - ref) / ref
    label = {"randomized": "randomized (default: 2 power iterations)", "q0": "0 power iterations",
             "q2": "2 power iterations", "q4": "4 power iterations", "q8": "8 power iterations"}[name]
    print(f"top-20 singular values, {label}: max relative difference from dense {rel.max():.2e} "
          f"(top 5: {rel[:5].max():.2e})")
PY
