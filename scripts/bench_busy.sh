#!/usr/bin/env bash
# Threads on a busy node: distcf's MovieLens 100K train (default ALS, u1.base, 2 threads) and the
# study, quiet and beside a CPU-bound competitor with as many threads as cores, with distcf's
# default (a bounded spin, GOMP_SPINCOUNT=10000, set by the program), with passive waiting
# (OMP_WAIT_POLICY=passive) and with spinning threads (OMP_WAIT_POLICY=active: libgomp's own
# default spins almost as long), interleaved and repeated in one run. Target: busy <= 2x quiet.
#   DISTCF_BENCH_REPEATS (3), DISTCF_ML100K (../shared/data/ml-100k)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${DISTCF_BIN:-$root/build/distcf}
data=${DISTCF_ML100K:-$root/../shared/data/ml-100k}
repeats=${DISTCF_BENCH_REPEATS:-3}
dir=$(mktemp -d "${TMPDIR:-/tmp}/distcf-bench-busy.XXXXXX")
hog_pids=()
cleanup() { for p in "${hog_pids[@]}"; do kill "$p" 2> /dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
cores=$(nproc)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$cores}
echo "bench_busy: $cores cores, load $(cut -d' ' -f1-3 /proc/loadavg), $OMP_NUM_THREADS threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
if [ -f "$data/u1.base" ]; then
  "$bin" import --format movielens100k --input "$data/u1.base" --out "$dir/u1.h5" -q > /dev/null
  train=(train --train "$dir/u1.h5" --out "$dir/m.h5" -q)
else
  echo "MovieLens 100K absent ($data): a generated set of the same size instead"
  "$bin" generate --users 943 --items 1682 --density 0.05 --out "$dir/u1.h5" -q > /dev/null
  train=(train --train "$dir/u1.h5" --out "$dir/m.h5" -q)
fi
study=(study --out "$dir/s.h5" -q)
hog_on() { for _ in $(seq "$cores"); do (while :; do :; done) & hog_pids+=($!); done; }
hog_off() { for p in "${hog_pids[@]}"; do kill "$p" 2> /dev/null || true; done; hog_pids=(); wait 2> /dev/null || true; }
declare -A all
for r in $(seq "$repeats"); do
  for what in train study; do
    declare -n cmd=$what
    for policy in default passive active; do
      # default: what the program sets for itself, with neither variable set
      envs=(-u OMP_WAIT_POLICY -u GOMP_SPINCOUNT)
      [ "$policy" != default ] && envs+=("OMP_WAIT_POLICY=$policy")
      q=$(env "${envs[@]}" /usr/bin/time -f %e "$bin" "${cmd[@]}" 2>&1 > /dev/null | tail -1)
      hog_on
      b=$(env "${envs[@]}" /usr/bin/time -f %e "$bin" "${cmd[@]}" 2>&1 > /dev/null | tail -1)
      hog_off
      all[$what-$policy]+="$q/$b "
      awk -v r="$r" -v w="$what" -v p="$policy" -v q="$q" -v b="$b" \
        'BEGIN { printf "run %d: %-5s %-7s quiet %6.2f s, beside the hog %6.2f s: %5.1fx\n", r, w, (p == "default" ? "distcf" : p == "passive" ? "passive" : "spinning"), q, b, b / q }'
    done
  done
done
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for key in train-default train-passive train-active study-default study-passive study-active; do
  pairs=$(echo "${all[$key]}" | tr ' ' '\n' | grep .)
  q=$(echo "$pairs" | cut -d/ -f1 | median)
  b=$(echo "$pairs" | cut -d/ -f2 | median)
  x=$(echo "$pairs" | awk -F/ '{ print $2 / $1 }' | median)
  worst=$(echo "$pairs" | awk -F/ '{ print $2 / $1 }' | sort -g | tail -1)
  awk -v k="$key" -v q="$q" -v b="$b" -v x="$x" -v w="$worst" 'BEGIN {
    printf "median %-14s quiet %.2f s, busy %.2f s, slowdown %.1fx (worst %.1fx)%s\n", k, q, b, x, w, (k ~ /default/ ? " (target <= 2x)" : "") }'
done
