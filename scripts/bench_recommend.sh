#!/usr/bin/env bash
# recommend --all-users at scale: seconds and peak RSS of the command on a generated set, then the
# blocked top-N kernel against the per-user loop it replaced, interleaved and repeated in one
# process on the same model and users (this machine is shared: read the ratio).
#   DISTCF_BENCH_RATINGS (10000000), DISTCF_BENCH_K (64), DISTCF_BENCH_TOP (10),
#   DISTCF_BENCH_USERS (users scored by the side-by-side, 4000), DISTCF_BENCH_REPEATS (3),
#   DISTCF_BENCH_RANKS (1), OMP_NUM_THREADS (2), DISTCF_BENCH_DIR (a temporary directory)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${DISTCF_BIN:-$root/build/distcf}
bench=${DISTCF_BENCH_RECOMMEND:-$root/build/tests/distcf_bench_recommend}
dir=$(mktemp -d "${DISTCF_BENCH_DIR:-${TMPDIR:-/tmp}}/distcf-bench-recommend.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
n=${DISTCF_BENCH_RATINGS:-10000000}
k=${DISTCF_BENCH_K:-64}
top=${DISTCF_BENCH_TOP:-10}
side=${DISTCF_BENCH_USERS:-4000}
repeats=${DISTCF_BENCH_REPEATS:-3}
ranks=${DISTCF_BENCH_RANKS:-1}
users=$(( n / 100 )); items=$(( n / 1000 ))
echo "bench_recommend: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$bin" generate --users "$users" --items "$items" --density 0.01 --item-popularity zipf:0.8 --compression 0 \
  --out "$dir/g.h5" > /dev/null
# One sweep is enough: the figures are about scoring, not about the model's quality.
"$bin" train --train "$dir/g.h5" --factors "$k" --lambda 0.05 --iters 1 --out "$dir/m.h5" > /dev/null
"$bin" info "$dir/g.h5" | head -3
mpirun -n "$ranks" --oversubscribe --bind-to none /usr/bin/time -f "rank peak RSS %M KiB, %e s" \
  "$bin" recommend --model "$dir/m.h5" --all-users --top "$top" --out "$dir/r.h5" > "$dir/r.log" 2>&1
awk -v u="$users" -v i="$items" -v k="$k" -v t="$top" -v p="$ranks" '/peak RSS/ { if ($4 > rss) rss = $4; s = $6 }
  END { printf "recommend --all-users --top %d: %d users x %d items, k = %d, %d rank(s) x %s threads: %.1f s wall, peak RSS %.0f MB per rank (model %.0f MB)\n",
        t, u, i, k, p, ENVIRON["OMP_NUM_THREADS"], s, rss / 1024, 8 * k * (u + i) / 1e6 }' "$dir/r.log"
"$bench" "$dir/m.h5" "$side" "$top" "$repeats"
