#!/usr/bin/env bash
# distcf against LIBMF on MovieLens 100K u1, same machine, same run, interleaved and repeated.
# LIBMF is built from ../shared/peers/libmf in a temporary directory (skipped with a message when
# absent) and tuned on a validation split of u1.base only: k and l2 over a grid, iterations by its
# own -p validation curve. distcf runs its documented defaults (chosen by cross-validation inside
# u1.base, docs/TUNING.md). Each tool then trains on all of u1.base and is scored on u1.test.
#   DISTCF_BENCH_REPEATS (3), DISTCF_ML100K, DISTCF_PEERS (../shared/peers), OMP_NUM_THREADS (2)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${DISTCF_BIN:-$root/build/distcf}
data=${DISTCF_ML100K:-$root/../shared/data/ml-100k}
peers=${DISTCF_PEERS:-$root/../shared/peers}
repeats=${DISTCF_BENCH_REPEATS:-3}
threads=${OMP_NUM_THREADS:-2}
export OMP_NUM_THREADS=$threads
[ -f "$data/u1.base" ] || { echo "bench_peers: MovieLens 100K absent ($data): skipped"; exit 0; }
[ -f "$peers/libmf/mf.cpp" ] || { echo "bench_peers: LIBMF absent ($peers/libmf): skipped"; exit 0; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/distcf-bench-peers.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cp -r "$peers/libmf" "$dir/libmf"
make -C "$dir/libmf" > "$dir/libmf.log" 2>&1 || { echo "bench_peers: LIBMF did not build (see its Makefile)"; exit 1; }
echo "bench_peers: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $threads threads each, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
awk '{ print $1, $2, $3 }' "$data/u1.base" > "$dir/base.txt"
awk '{ print $1, $2, $3 }' "$data/u1.test" > "$dir/test.txt"
# The validation split of u1.base (every 10th rating by a fixed hash of the line): tuning only.
awk '{ if ((NR * 2654435761) % 10 == 0) print > "'"$dir"'/valid.txt"; else print > "'"$dir"'/fit.txt" }' "$dir/base.txt"
best="" best_rmse=9
for k in 32 64 128; do
  for l2 in 0.02 0.05 0.1; do
    # -p prints the validation RMSE after each iteration: the best iteration is its choice of t.
    "$dir/libmf/mf-train" -f 0 -s "$threads" -k "$k" -l2 "$l2" -t 60 -p "$dir/valid.txt" "$dir/fit.txt" "$dir/m" > "$dir/curve.txt"
    line=$(awk '$1 ~ /^[0-9]+$/ { print $1, $3 }' "$dir/curve.txt" | sort -g -k2 | awk 'NR == 1')  # iter tr_rmse va_rmse obj
    t=${line% *}; r=${line#* }
    if awk -v r="$r" -v b="$best_rmse" 'BEGIN { exit !(r < b) }'; then best="$k $l2 $((t + 1))"; best_rmse=$r; fi
  done
done
read -r K L2 T <<< "$best"
echo "LIBMF tuned on a validation split of u1.base: k = $K, l2 = $L2, t = $T (validation RMSE $best_rmse)"
"$bin" import --format movielens100k --input "$data/u1.base" --out "$dir/base.h5" -q > /dev/null
"$bin" import --format movielens100k --input "$data/u1.test" --out "$dir/test.h5" -q > /dev/null
seconds() { /usr/bin/time -f %e "$@" 2>&1 > /dev/null | tail -1; }
lt=() dt=()
for r in $(seq "$repeats"); do
  a=$(seconds "$dir/libmf/mf-train" -f 0 -s "$threads" -k "$K" -l2 "$L2" -t "$T" "$dir/base.txt" "$dir/lm.model")
  lr=$("$dir/libmf/mf-predict" -e 0 "$dir/test.txt" "$dir/lm.model" "$dir/out.txt" | awk '/RMSE/ { print $3 }')
  b=$(seconds "$bin" train --train "$dir/base.h5" --out "$dir/d.h5" -q)
  dr=$("$bin" evaluate --model "$dir/d.h5" --test "$dir/test.h5" --json | awk -F'[:,]' '/"rmse"/ { gsub(/ /, "", $2); print $2 }')
  lt+=("$a"); dt+=("$b")
  awk -v r="$r" -v a="$a" -v b="$b" -v lr="$lr" -v dr="$dr" 'BEGIN {
    printf "run %d: LIBMF %.2f s, test RMSE %.4f; distcf %.2f s, test RMSE %.4f; time ratio distcf / LIBMF %.2f\n", r, a, lr, b, dr, b / a }'
done
median() { printf "%s\n" "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ml=$(median "${lt[@]}"); md=$(median "${dt[@]}")
awk -v a="$ml" -v b="$md" -v lr="$lr" -v dr="$dr" 'BEGIN {
  printf "median wall: LIBMF %.2f s, distcf %.2f s (ratio %.2f; target <= 1); test RMSE LIBMF %.4f, distcf %.4f (target: distcf <= LIBMF)\n", a, b, b / a, lr, dr }'
echo "distcf's wall includes MPI start-up and writing the model file (HDF5); LIBMF's reading the text and writing its model"
