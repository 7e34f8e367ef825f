#!/usr/bin/env bash
# Import throughput and partitioned-read time on a generated text file.
#   DISTCF_BENCH_RATINGS (default 10000000), DISTCF_BENCH_DIR (default a temporary directory)
# Prints: file size, import seconds, MB/s, ratings/s; partitioned read (hyperslab + Alltoallv + CSR)
# seconds on 1 and 2 ranks.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${DISTCF_BIN:-$root/build/distcf}
n=${DISTCF_BENCH_RATINGS:-10000000}
dir=${DISTCF_BENCH_DIR:-$(mktemp -d)}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
per_user=100
users=$(( (n + per_user - 1) / per_user ))
txt="$dir/ratings.tsv"
if [ ! -f "$txt" ]; then
  # user<TAB>item<TAB>rating<TAB>time, 100 distinct items per user out of 10000.
  awk -v U="$users" -v P="$per_user" -v N="$n" 'BEGIN { c = 0
    for (u = 1; u <= U && c < N; u++) for (k = 1; k <= P && c < N; k++) {
      printf "%d\t%d\t%d\t%d\n", u, (u * 7919 + k * 4729) % 10000 + 1, 1 + (u * 31 + k * 17) % 5, 880000000 + c; c++ } }' > "$txt"
fi
bytes=$(stat -c %s "$txt")
echo "bench_io: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "bench_io: text file $txt: $n ratings, $(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1e6}') MB"
t0=$(date +%s.%N)
"$bin" import --format movielens100k --input "$txt" --out "$dir/store.h5" > /dev/null
t1=$(date +%s.%N)
awk -v t0="$t0" -v t1="$t1" -v b="$bytes" -v n="$n" 'BEGIN { s = t1 - t0;
  printf "import: %.2f s, %.1f MB/s, %.2f M ratings/s (target >= 50 MB/s)\n", s, b / 1e6 / s, n / 1e6 / s }'
echo "store: $(awk -v b="$(stat -c %s "$dir/store.h5")" 'BEGIN{printf "%.1f", b/1e6}') MB"
for np in 1 2; do
  json=$(mpirun -n "$np" --oversubscribe "$bin" info --json "$dir/store.h5")
  secs=$(echo "$json" | sed -nE 's/.*"load_seconds": *([0-9.eE+-]+).*/\1/p')
  echo "partitioned read on $np rank(s): ${secs} s (target on 2 ranks < 2 s)"
done
# Loading's peak memory: a generated store with a stored 10% test split, loaded by train (k = 1,
# one iteration: the factors are negligible) on 1 and 2 ranks; the process's own baseline (the same
# command on a 3000-rating store) is subtracted, and the rest divided by the ratings a rank holds.
# The same without a stored split, held out at load time by --test-fraction 0.1.
"$bin" generate --users $(( n / 100 )) --items 20000 --density 0.0058 --test-fraction 0.1 --out "$dir/gen.h5" -q > /dev/null
"$bin" generate --users 100 --items 100 --density 0.3 --test-fraction 0.1 --out "$dir/tiny.h5" -q > /dev/null
"$bin" generate --users $(( n / 100 )) --items 20000 --density 0.0058 --out "$dir/gen0.h5" -q > /dev/null
"$bin" generate --users 100 --items 100 --density 0.3 --out "$dir/tiny0.h5" -q > /dev/null
total=$("$bin" --json info "$dir/gen.h5" | sed -nE 's/^ *"ratings": *([0-9]+).*/\1/p' | head -1)
peak() { mpirun -n "$1" --oversubscribe --bind-to none "$bin" train --train "$2" --out "$dir/k1.h5" --factors 1 --iters 1 --solver cholesky "${@:3}" 2>&1 |
  sed -nE 's/.*peak RSS per rank \(max\) ([0-9.]+) MiB.*/\1/p'; }
for how in stored load; do
  for np in 1 2; do
    if [ "$how" = stored ]; then p=$(peak "$np" "$dir/gen.h5"); b=$(peak "$np" "$dir/tiny.h5")
    else p=$(peak "$np" "$dir/gen0.h5" --test-fraction 0.1); b=$(peak "$np" "$dir/tiny0.h5" --test-fraction 0.1); fi
    awk -v np="$np" -v p="$p" -v b="$b" -v t="$total" -v how="$how" 'BEGIN {
      printf "loading %d ratings on %d rank(s), %s split: peak RSS %.0f MiB per rank, baseline %.0f MiB: %.1f B per rating per rank (target <= 32)\n",
        t, np, how == "stored" ? "stored" : "--test-fraction", p, b, (p - b) * 1048576 / (t / np) }'
  done
done
[ -z "${DISTCF_BENCH_DIR:-}" ] && rm -rf "$dir"
exit 0
