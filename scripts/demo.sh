#!/usr/bin/env bash
# Installs what is missing, builds, then runs the main job on built-in data: MovieLens 100K when it is
# beside the checkout (../shared/data/ml-100k), else a small generated rating file.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
bin="$root/build/distcf"
out=${DISTCF_DEMO_DIR:-$root/results}
mkdir -p "$out"
np=${DISTCF_DEMO_RANKS:-2}
ml="$root/../shared/data/ml-100k/u.data"
if [ -f "$ml" ]; then
  mpirun -n "$np" "$bin" import --format movielens100k --input "$ml" --out "$out/ml100k.h5"
  data="$out/ml100k.h5"
else
  # A deterministic 200 x 100 rating file stands in for MovieLens.
  awk 'BEGIN { s = 42; for (u = 1; u <= 200; u++) for (i = 1; i <= 100; i++) {
         s = (s * 1103515245 + 12345) % 2147483648; if (s % 4 == 0) printf "%d\t%d\t%d\t0\n", u, i, 1 + (u + i) % 5 } }' \
    > "$out/demo.tsv"
  mpirun -n "$np" "$bin" import --format movielens100k --input "$out/demo.tsv" --out "$out/demo.h5"
  data="$out/demo.h5"
fi
mpirun -n "$np" "$bin" info "$data"
mpirun -n "$np" "$bin" split "$data" --test-fraction 0.2 --seed 42 --out-train "$out/train.h5" --out-test "$out/test.h5"
echo "demo: outputs in $out"
