#!/usr/bin/env bash
# MovieLens 100K, official folds u1..u5: train on uN.base, evaluate on uN.test, print a table and
# the mean test RMSE. Hyperparameters are the method's documented defaults unless given.
#   scripts/ml100k_folds.sh [distcf train options...]     e.g. --method baseline
#   DISTCF_NP (2): MPI ranks; DISTCF_ML100K (../shared/data/ml-100k); DISTCF_BIN
# Exits 0 with a note when the data are absent.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${DISTCF_BIN:-$root/build/distcf}
data=${DISTCF_ML100K:-$root/../shared/data/ml-100k}
np=${DISTCF_NP:-2}
if [ ! -f "$data/u1.base" ]; then echo "ML-100K not found at $data: skipping"; exit 0; fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mpi=(mpirun -n "$np" --oversubscribe --bind-to none)
command=${DISTCF_COMMAND:-train}
echo "ML-100K folds u1..u5, distcf $command $*, $np rank(s), $(nproc) cores"
printf "%-5s %8s %8s %8s %8s %9s\n" fold n_test rmse mae cold seconds
sum=0
for f in 1 2 3 4 5; do
  "$bin" import --format movielens100k --input "$data/u$f.base" --out "$dir/b.h5" > /dev/null
  "$bin" import --format movielens100k --input "$data/u$f.test" --out "$dir/t.h5" > /dev/null
  t0=$(date +%s.%N)
  "${mpi[@]}" "$bin" "$command" --train "$dir/b.h5" --out "$dir/m.h5" "$@" > "$dir/train.log"
  t1=$(date +%s.%N)
  json=$("${mpi[@]}" "$bin" evaluate --json --model "$dir/m.h5" --test "$dir/t.h5")
  field() { sed -n "s/^ *\"$1\": \([^,]*\),*$/\1/p" <<< "$json"; }
  rmse=$(field rmse)
  awk -v f="$f" -v n="$(field n)" -v r="$rmse" -v m="$(field mae)" -v c="$(field cold)" -v a="$t0" -v b="$t1" \
    'BEGIN { printf "u%-4s %8d %8.4f %8.4f %8d %9.1f\n", f, n, r, m, c, b - a }'
  sum=$(awk -v s="$sum" -v r="$rmse" 'BEGIN { printf "%.17g", s + r }')
done
awk -v s="$sum" 'BEGIN { printf "mean test RMSE over 5 folds: %.5f\n", s / 5 }'
