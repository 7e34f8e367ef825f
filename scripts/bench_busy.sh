#!/usr/bin/env bash
# Threads on a busy node: distcf's MovieLens 100K train (default ALS, u1.base, 2 threads) and the
# study, quiet and beside a CPU-bound competitor with as many threads as cores, with distcf's
# default (a bounded spin, GOMP_SPINCOUNT=10000, set by the program), with passive waiting
# (OMP_WAIT_POLICY=passive) and with spinning threads (OMP_WAIT_POLICY=active: libgomp's own
# default spins almost as long), interleaved and repeated in one run. Target: busy <= 2x quiet.
# Times are to the millisecond (bash's `time`: /usr/bin/time's 10 ms steps are 5% of a 0.2 s run).
# Each line also gives distcf's CPU seconds (user + system) quiet and busy, the share of the cores
# it got beside the hog (CPU seconds / wall) and the slowdown an even share would give: with t
# threads the quiet run's wall T and CPU W split into a serial part S and a parallel part P
# (S + P = T, S + t P = W); beside c hog threads on c cores (t <= c) an even share gives each of
# the parallel part's threads c/(t+c) of a core and a serial thread c/(c+1): (P (t+c)/c + S (c+1)/c)
# / T, with t = c = 2 (2P + 1.5 S) / T. The scheduler may give more (a serial thread a whole core)
# or less (measured: half a core, its CPU's runqueue shared with one hog thread; docs/TUNING.md);
# it is the yardstick, not a floor.
# The floor is measured in the same run: distcf_bench_busy_floor (tests/bench), a program with
# nothing to wait for (pure arithmetic in dynamically handed-out chunks, no serial part, no I/O) on
# the same threads and start-up settings, sized to the train's quiet time, in one parallel region
# and in 64 (the train's count), quiet and beside the hog. Its slowdown is what an even share of
# the cores allows any program of that many threads; the last line divides the train's slowdown by
# the 64-region floor's, run by run.
#   DISTCF_BENCH_REPEATS (3), DISTCF_ML100K (../shared/data/ml-100k),
#   DISTCF_BENCH_BUSY_FLOOR (build/tests/distcf_bench_busy_floor; skipped with a message if absent)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${DISTCF_BIN:-$root/build/distcf}
floor_bin=${DISTCF_BENCH_BUSY_FLOOR:-$root/build/tests/distcf_bench_busy_floor}
data=${DISTCF_ML100K:-$root/../shared/data/ml-100k}
repeats=${DISTCF_BENCH_REPEATS:-3}
dir=$(mktemp -d "${TMPDIR:-/tmp}/distcf-bench-busy.XXXXXX")
hog_pids=()
cleanup() { for p in "${hog_pids[@]}"; do kill "$p" 2> /dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
cores=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)  # GNU nproc honours both
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
# Wall and CPU seconds (user + system) of a command, its output dropped: "wall cpu".
timed() {
  local TIMEFORMAT='%3R %3U %3S' out
  out=$({ time "$@" > /dev/null 2>&1; } 2>&1)
  awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' <<< "$out"
}
# The even-share slowdown (the header's formula) from a quiet run's wall T and CPU seconds W.
bound='function bound(T, W, t, c,   P, S) { P = (t > 1 ? (W - T) / (t - 1) : 0); if (P < 0) P = 0; if (P > T) P = T; S = T - P
  return (P * (t + c) / c + S * (c + 1) / c) / T }'
# The node is busy before distcf starts, as beside other jobs: the hog's threads have 0.2 s to
# spread over the cores.
hog_on() { for _ in $(seq "$cores"); do (while :; do :; done) & hog_pids+=($!); done; sleep 0.2; }
hog_off() { for p in "${hog_pids[@]}"; do kill "$p" 2> /dev/null || true; done; hog_pids=(); wait 2> /dev/null || true; }
default_env=(-u OMP_WAIT_POLICY -u GOMP_SPINCOUNT)  # what the program sets for itself
# The floor's wall and CPU seconds, "wall cpu" (its own clocks: the parallel regions only, not its
# start).
floor_timed() { env "${default_env[@]}" "$floor_bin" "$floor_iterations" "$1" | cut -d' ' -f1-2; }
floor_regions=()
if [ -x "$floor_bin" ]; then
  # Sized once, quiet, to the train's quiet wall time.
  train_quiet=$(timed env "${default_env[@]}" "$bin" "${train[@]}" | cut -d' ' -f1)
  floor_iterations=100000000
  probe=$(floor_timed 1 | cut -d' ' -f1)
  floor_iterations=$(awk -v n="$floor_iterations" -v a="$train_quiet" -v b="$probe" 'BEGIN { printf "%d", n * a / b }')
  floor_regions=(1 64)
  echo "floor: $("$floor_bin" 1000 1 | cut -d' ' -f3-), $floor_iterations iterations (about the train's quiet ${train_quiet} s)"
else
  echo "floor: $floor_bin absent (build the tests), not measured"
fi
declare -A all
# One interleaved pair, quiet and beside the hog: KEY LABEL TIMER ARGS... (TIMER ARGS prints
# "wall cpu"); kept under KEY as quiet wall/CPU/busy wall/CPU and printed as run $r's line.
measure() {
  local key=$1 label=$2 q b
  shift 2
  q=$("$@")
  hog_on
  b=$("$@")
  hog_off
  all[$key]+="${q/ //}/${b/ //} "
  awk -v r="$r" -v l="$label" -v q="$q" -v b="$b" -v t="$OMP_NUM_THREADS" -v c="$cores" "$bound"'
    BEGIN { split(q, Q, " "); split(b, B, " ")
      printf "run %d: %-17s quiet %.3f s (CPU %.3f s), beside the hog %.3f s (CPU %.3f s, %.2f cores): %.2fx, even share %.2fx\n",
        r, l, Q[1], Q[2], B[1], B[2], B[2] / B[1], B[1] / Q[1], bound(Q[1], Q[2], t, c) }'
}
keys=(train-default train-passive train-active study-default study-passive study-active)
for regions in "${floor_regions[@]}"; do keys+=("floor-$regions"); done
for r in $(seq "$repeats"); do
  for what in train study; do
    declare -n cmd=$what
    for policy in default passive active; do
      envs=("${default_env[@]}")
      [ "$policy" != default ] && envs+=("OMP_WAIT_POLICY=$policy")
      case $policy in default) name=distcf ;; passive) name=passive ;; *) name=spinning ;; esac
      measure "$what-$policy" "$what $name" timed env "${envs[@]}" "$bin" "${cmd[@]}"
    done
  done
  for regions in "${floor_regions[@]}"; do
    measure "floor-$regions" "floor, $regions region$([ "$regions" = 1 ] || echo s)" floor_timed "$regions"
  done
done
median='function median(a, n,   i, j, x) {  # sorts a[1..n]
  for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
  return a[int((n + 1) / 2)] }'
for key in "${keys[@]}"; do
  echo "${all[$key]}" | tr ' ' '\n' | grep . | awk -F/ -v k="$key" -v t="$OMP_NUM_THREADS" -v c="$cores" "$bound
    $median"'
    { n++; q[n] = $1; b[n] = $3; x[n] = $3 / $1; f[n] = bound($1, $2, t, c); s[n] = $4 / $3; if ($3 / $1 > worst) worst = $3 / $1 }
    END { printf "median %-14s quiet %.3f s, busy %.3f s, slowdown %.2fx (worst %.2fx), even share %.2fx, busy on %.2f cores%s\n",
      k, median(q, n), median(b, n), median(x, n), worst, median(f, n), median(s, n), (k ~ /default/ ? " (target <= 2x)" : "") }'
done
if [ ${#floor_regions[@]} -gt 0 ]; then
  # Run by run: (train busy / quiet) / (floor busy / quiet), both from the same repeat.
  paste -d' ' <(echo "${all[train-default]}" | tr ' ' '\n' | grep .) <(echo "${all[floor-64]}" | tr ' ' '\n' | grep .) |
    awk "$median"'
      { split($1, T, "/"); split($2, F, "/"); n++; x[n] = (T[3] / T[1]) / (F[3] / F[1]); list = list sprintf("%s%.2f", n > 1 ? "/" : "", x[n]) }
      END { printf "train over the 64-region floor, run by run: %s, median %.2f\n", list, median(x, n) }'
fi
