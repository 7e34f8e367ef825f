#!/usr/bin/env bash
# Installs what is missing, builds, then runs the main job: the notebook's whole study on its
# built-in data (the notebook's genre model and parameters) on 2 MPI ranks, and renders the report.
# With MovieLens 100K beside the checkout (../shared/data/ml-100k) it also trains the default ALS
# on it and prints top-10 recommendations for one user.
#   DISTCF_DEMO_DIR (results), DISTCF_DEMO_RANKS (2)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
bin="$root/build/distcf"
out=${DISTCF_DEMO_DIR:-$root/results}
mkdir -p "$out"
np=${DISTCF_DEMO_RANKS:-2}
mpirun -n "$np" "$bin" study --out "$out/study.h5"
/usr/bin/python3 "$root/scripts/report.py" "$out/study.h5" --out "$out/report"
ml="$root/../shared/data/ml-100k"
if [ -f "$ml/u1.base" ]; then
  echo
  echo "MovieLens 100K (u1.base / u1.test), default ALS on $np ranks:"
  "$bin" import --format movielens100k --input "$ml/u1.base" --out "$out/u1.base.h5" > /dev/null
  "$bin" import --format movielens100k --input "$ml/u1.test" --out "$out/u1.test.h5" > /dev/null
  mpirun -n "$np" --bind-to none "$bin" train --train "$out/u1.base.h5" --test "$out/u1.test.h5" --out "$out/ml100k-als.h5" | tail -2
  "$bin" recommend --model "$out/ml100k-als.h5" --user 1 --top 10
fi
echo
echo "demo: results in $out; the report is $out/report/index.html (PNG figures beside it)"
