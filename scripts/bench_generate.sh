#!/usr/bin/env bash
# Ratings generated and written per second, end to end into HDF5, and peak memory per rank.
#   DISTCF_BENCH_USERS (100000) DISTCF_BENCH_ITEMS (10000) DISTCF_BENCH_DENSITY (0.1: 1e8 ratings)
#   DISTCF_BENCH_RANKS (2) DISTCF_BENCH_COMPRESSION ("0 1": gzip levels to run)
#   DISTCF_BENCH_PRECISION ("single double": value precisions to run, uncompressed)
#   DISTCF_BENCH_DIR (a temporary directory under $TMPDIR): where the file goes; /dev/shm takes the
#   disk out of the measurement. The disk's own write rate (dd, 2.5 GB) is printed first.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${DISTCF_BIN:-$root/build/distcf}
users=${DISTCF_BENCH_USERS:-100000}
items=${DISTCF_BENCH_ITEMS:-10000}
density=${DISTCF_BENCH_DENSITY:-0.1}
np=${DISTCF_BENCH_RANKS:-2}
dir=$(mktemp -d "${DISTCF_BENCH_DIR:-${TMPDIR:-/tmp}}/distcf-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "bench_generate: $(nproc) cores, $np ranks, $users users x $items items, density $density, into $dir"
dd if=/dev/zero of="$dir/dd" bs=16M count=150 2>&1 | tail -1 | sed 's/^/disk write rate here (dd, no sync): /'
rm -f "$dir/dd"
run() {  # run LEVEL PRECISION
  local level=$1 precision=$2 t0 t1 out n
  t0=$(date +%s.%N)
  out=$(mpirun -n "$np" --oversubscribe "$bin" generate --users "$users" --items "$items" --density "$density" \
        --compression "$level" --precision "$precision" --out "$dir/g.h5")
  t1=$(date +%s.%N)
  echo "$out"
  n=$(echo "$out" | sed -nE 's/^generated ([0-9]+) ratings.*/\1/p')
  awk -v t0="$t0" -v t1="$t1" -v n="$n" -v l="$level" -v p="$precision" -v b="$(stat -c %s "$dir/g.h5")" 'BEGIN { s = t1 - t0;
    printf "compression %d, %s precision: %d ratings in %.2f s wall (mpirun included) = %.1f M ratings/s, file %.0f MB (target >= 20 M/s)\n",
           l, p, n, s, n / 1e6 / s, b / 1e6 }'
  rm -f "$dir/g.h5"
}
for precision in ${DISTCF_BENCH_PRECISION:-single double}; do run 0 "$precision"; done
for level in ${DISTCF_BENCH_COMPRESSION:-0 1}; do
  [ "$level" = 0 ] || run "$level" single
done
