#!/usr/bin/env bash
# Implicit ALS seconds per sweep, Cholesky against conjugate gradient, at k = 64 on a generated set
# of about 10M interactions (1 rank x OMP_NUM_THREADS threads), and the ranking it reaches beside
# popularity.   DISTCF_BENCH_USERS (100000), DISTCF_BENCH_ITEMS (10000), DISTCF_BENCH_DENSITY
# (0.047: candidates, of which about 21% survive as interactions), DISTCF_BENCH_ITERS (3)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${DISTCF_BIN:-$root/build/distcf}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
iters=${DISTCF_BENCH_ITERS:-3}
echo "bench_ials: $(nproc) cores, $OMP_NUM_THREADS threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$bin" generate --implicit --users "${DISTCF_BENCH_USERS:-100000}" --items "${DISTCF_BENCH_ITEMS:-10000}" \
  --density "${DISTCF_BENCH_DENSITY:-0.047}" --compression 0 --test-fraction 0.1 --out "$dir/i.h5" | head -1
for solver in cholesky cg; do
  "$bin" train --method ials --solver "$solver" --factors 64 --lambda 10 --alpha 1 --iters "$iters" \
    --train "$dir/i.h5" --out "$dir/$solver.h5" > "$dir/$solver.log"
  awk -v s="$solver" '/^ +[0-9]+ +[0-9.e+]+ +[0-9.]+/ { t += $3; n++; last = $2 }
    END { printf "ials k = 64, %s: %.3f s per sweep (mean of %d), loss after the last %.6g\n", s, t / n, n, last }' "$dir/$solver.log"
done
"$bin" evaluate --ranking --relevant 1 --top 10 --model "$dir/cholesky.h5" --test "$dir/i.h5" | tail -3
