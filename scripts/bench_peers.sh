#!/usr/bin/env bash
# distcf against its peers, same machine, same run, interleaved and repeated; ratios with every run.
# Sections (DISTCF_BENCH_SECTIONS, all by default, in this order):
#   u1        LIBMF on MovieLens 100K u1: each tool tuned on a validation split of u1.base only
#             (LIBMF: k and l2 over a grid, iterations by its own -p validation curve; distcf: its
#             documented defaults for ALS and for Bayesian MF, each chosen on u1.base alone,
#             docs/TUNING.md), then trained on all of u1.base and scored on u1.test.
#   explicit  LIBMF on ~10M generated ratings (--profile movielens): wall time for each tool (LIBMF,
#             distcf ALS in single precision, distcf Bayesian MF) to reach the best of their
#             converged test RMSEs, and LIBMF's, within DISTCF_BENCH_RMSE_SLACK.
#   implicit  the implicit library (float32, CG 3 steps) against distcf ials in single and double
#             precision: seconds per iteration at k = 64 and 128 on 5.8M generated interactions,
#             and precision@10 / NDCG@10 of single against double.
# Peers are built from ../shared/peers in a temporary directory (a section whose peer or data is
# absent says so and is skipped).
#   DISTCF_BENCH_REPEATS (3), DISTCF_ML100K, DISTCF_PEERS (../shared/peers), OMP_NUM_THREADS (2),
#   DISTCF_BENCH_IMPLICIT_ITERS (5), DISTCF_BENCH_BPMF_SWEEPS (40: the explicit section's chain), DISTCF_IMPLICIT_BUILD (an implicit checkout already built in
#   place: skips the ~1 min build), DISTCF_BENCH_RMSE_SLACK (0.001)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${DISTCF_BIN:-$root/build/distcf}
data=${DISTCF_ML100K:-$root/../shared/data/ml-100k}
peers=${DISTCF_PEERS:-$root/../shared/peers}
repeats=${DISTCF_BENCH_REPEATS:-3}
threads=${OMP_NUM_THREADS:-2}
sections=${DISTCF_BENCH_SECTIONS:-u1 explicit implicit}
export OMP_NUM_THREADS=$threads
# The OpenBLAS kernels distcf picks for this CPU (it sets OPENBLAS_CORETYPE where OpenBLAS falls
# back to a pre-AVX core), for the peers that call OpenBLAS too (the implicit library, numpy).
core=$("$bin" --version | sed -n 's/.*OpenBLAS core \([A-Za-z0-9]*\)).*/\1/p')
[ -n "$core" ] && [ -z "${OPENBLAS_CORETYPE:-}" ] && export OPENBLAS_CORETYPE=$core
py=/usr/bin/python3
dir=$(mktemp -d "${TMPDIR:-/tmp}/distcf-bench-peers.XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "bench_peers: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $threads threads each, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), OpenBLAS core ${OPENBLAS_CORETYPE:-its own choice}"
# Wall seconds of a command, its output dropped, to the millisecond (bash's time: /usr/bin/time's
# 10 ms steps are 7% of a 0.14 s u1 run).
seconds() { local TIMEFORMAT=%3R; { time "$@" > /dev/null 2>&1; } 2>&1; }
median() { printf "%s\n" "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
libmf() {  # builds LIBMF once; false (with a message) when its source is absent
  [ -x "$dir/libmf/mf-train" ] && return 0
  [ -f "$peers/libmf/mf.cpp" ] || { echo "bench_peers: LIBMF absent ($peers/libmf): section skipped"; return 1; }
  cp -r "$peers/libmf" "$dir/libmf"
  make -C "$dir/libmf" > "$dir/libmf.log" 2>&1 || { echo "bench_peers: LIBMF did not build (see its Makefile)"; exit 1; }
}

section_u1() {
  [ -f "$data/u1.base" ] || { echo "bench_peers u1: MovieLens 100K absent ($data): skipped"; return 0; }
  libmf || return 0
  echo "== u1: MovieLens 100K u1, LIBMF against distcf's defaults"
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
  lt=() dt=() bt=() lrs=()  # lrs: LIBMF's test RMSEs (its parallel SGD differs run to run)
  rmse_of() { "$bin" evaluate --model "$1" --test "$dir/test.h5" --json | awk -F'[:,]' '/"rmse"/ { gsub(/ /, "", $2); print $2 }'; }
  for r in $(seq "$repeats"); do
    a=$(seconds "$dir/libmf/mf-train" -f 0 -s "$threads" -k "$K" -l2 "$L2" -t "$T" "$dir/base.txt" "$dir/lm.model")
    lr=$("$dir/libmf/mf-predict" -e 0 "$dir/test.txt" "$dir/lm.model" "$dir/out.txt" | awk '/RMSE/ { print $3 }')
    b=$(seconds "$bin" train --train "$dir/base.h5" --out "$dir/d.h5" -q)
    dr=$(rmse_of "$dir/d.h5")
    # Bayesian MF at its documented defaults (docs/TUNING.md, chosen on a hold-out of u1.base).
    c=$(seconds "$bin" train --method bpmf --train "$dir/base.h5" --out "$dir/b.h5" -q)
    br=$(rmse_of "$dir/b.h5")
    lt+=("$a"); dt+=("$b"); bt+=("$c"); lrs+=("$lr")
    awk -v r="$r" -v a="$a" -v b="$b" -v c="$c" -v lr="$lr" -v dr="$dr" -v br="$br" 'BEGIN {
      printf "run %d: LIBMF %.3f s, test RMSE %.4f; distcf ALS %.3f s, test RMSE %.4f (ratio %.2f); distcf BPMF %.3f s, test RMSE %.4f (ratio %.2f)\n",
             r, a, lr, b, dr, b / a, c, br, c / a }'
  done
  ml=$(median "${lt[@]}"); md=$(median "${dt[@]}"); mb=$(median "${bt[@]}")
  # The ratios are the medians of the runs' own (interleaved pairs), not ratios of medians.
  over_libmf() { paste -d' ' <(printf "%s\n" "${lt[@]}") <(printf "%s\n" "$@") | awk '{ print $2 / $1 }'; }
  awk -v a="$ml" -v b="$md" -v c="$mb" -v x="$(median $(over_libmf "${dt[@]}"))" -v y="$(median $(over_libmf "${bt[@]}"))" -v lr="$(median "${lrs[@]}")" -v dr="$dr" -v br="$br" 'BEGIN {
    printf "median wall: LIBMF %.3f s, distcf ALS %.3f s (ratio %.2f), BPMF %.3f s (ratio %.2f; target <= 1); test RMSE LIBMF %.4f, distcf ALS %.4f, BPMF %.4f (target: distcf <= LIBMF)\n",
           a, b, x, c, y, lr, dr, br }'
  echo "distcf's wall includes MPI start-up and writing the model file (HDF5); LIBMF's reading the text and writing its model"
}

# Wall time of each tool to a test RMSE (its first iteration at or below it on its curve),
# interleaved and repeated: time_to LABEL TARGET K L2 LAMBDA. Tools: LIBMF, distcf ALS (single
# precision) and distcf Bayesian MF (its defaults; the chain to sweep t is the same in any run, so
# the run that stops there has the curve's posterior mean).
time_to() {
  local label=$1 target=$2 k=$3 l2=$4 lam=$5 tl td tb r a b c lt=() dt=() bt=()
  tl=$(awk -v t="$target" '$2 <= t { print $1; exit }' "$dir/lcurve.txt")
  td=$(awk -v t="$target" '$2 <= t { print $1; exit }' "$dir/dcurve.txt")
  tb=$(awk -v t="$target" '$2 <= t { print $1; exit }' "$dir/bcurve.txt")
  echo "target test RMSE $target ($label): LIBMF reaches it at iteration ${tl:-never}, distcf ALS at ${td:-never}, distcf BPMF at sweep ${tb:-never}"
  for r in $(seq "$repeats"); do
    a=-1 b=-1 c=-1
    [ -n "$tl" ] && a=$(seconds "$dir/libmf/mf-train" -f 0 -s "$threads" -k "$k" -l2 "$l2" -t "$tl" "$dir/etrain.txt" "$dir/m")
    [ -n "$td" ] && b=$(seconds "$bin" train --train "$dir/e.h5" --out "$dir/d.h5" --factors "$k" --lambda "$lam" --precision single --iters "$td" --eval-every 1000 -q)
    if [ -n "$tb" ]; then
      local burn=$((tb < bpmf_burnin ? tb : bpmf_burnin))
      c=$(seconds "$bin" train --method bpmf --train "$dir/e.h5" --out "$dir/b.h5" --burnin "$burn" --samples $((tb - burn)) --eval-every 1000 -q)
    fi
    lt+=("$a"); dt+=("$b"); bt+=("$c")
    awk -v r="$r" -v a="$a" -v b="$b" -v c="$c" 'function s(x) { return x < 0 ? "never" : sprintf("%.2f s", x) }
      function q(x) { return (a > 0 && x > 0) ? sprintf(" (ratio %.2f)", x / a) : "" }
      BEGIN { printf "  run %d: wall to the target: LIBMF %s, distcf ALS %s%s, distcf BPMF %s%s\n", r, s(a), s(b), q(b), s(c), q(c) }'
  done
  a=$(median "${lt[@]}"); b=$(median "${dt[@]}"); c=$(median "${bt[@]}")
  awk -v a="$a" -v b="$b" -v c="$c" 'function s(x) { return x < 0 ? "never" : sprintf("%.2f s", x) }
    function q(x) { return (a > 0 && x > 0) ? sprintf(" (ratio %.2f)", x / a) : (x > 0 ? " (LIBMF never gets there)" : "") }
    BEGIN { printf "  median wall to the target: LIBMF %s, distcf ALS %s%s, distcf BPMF %s%s (target: distcf <= 0.8 x LIBMF)\n", s(a), s(b), q(b), s(c), q(c) }'
}

# Time to accuracy on ~10M ratings. Each tool's test-RMSE curve (LIBMF: -p; distcf: its per-
# iteration test RMSE) gives the first iteration at which it reaches the target -- the best of the
# tools' best RMSEs, and LIBMF's best, each plus a slack -- and runs that many iterations are then
# timed, interleaved.
section_explicit() {
  libmf || return 0
  local k=${DISTCF_BENCH_EXPLICIT_K:-64} slack=${DISTCF_BENCH_RMSE_SLACK:-0.001} iters=30 sweeps=${DISTCF_BENCH_BPMF_SWEEPS:-40}
  bpmf_burnin=$("$bin" train --help | sed -n 's/.*--burnin INT.*\[bpmf \([0-9]*\)\].*/\1/p')
  echo "== explicit: ~10M generated ratings (--profile movielens, 100k users x 20k items), k = $k, LIBMF against distcf ALS --precision single and Bayesian MF (its defaults, burn-in $bpmf_burnin)"
  "$bin" generate --profile movielens --users 100000 --items 20000 --density 0.0058 --compression 0 --test-fraction 0.1 --out "$dir/e.h5" -q > /dev/null
  $py "$root/scripts/store_to_text.py" "$dir/e.h5" "$dir/etrain.txt" "$dir/etest.txt" "$dir/efit.txt" "$dir/evalid.txt" 10
  "$bin" import --input "$dir/efit.txt" --delimiter ' ' --columns user,item,rating --out "$dir/efit.h5" -q > /dev/null
  # Tuning on the validation cut of the training ratings only: LIBMF's l2, distcf's lambda.
  local best_l2="" best_lambda="" br=9 r l2 lam
  for l2 in 0.02 0.05 0.1; do
    "$dir/libmf/mf-train" -f 0 -s "$threads" -k "$k" -l2 "$l2" -t "$iters" -p "$dir/evalid.txt" "$dir/efit.txt" "$dir/m" > "$dir/curve.txt"
    r=$(awk '$1 ~ /^[0-9]+$/ { print $3 }' "$dir/curve.txt" | sort -g | head -1)
    if awk -v r="$r" -v b="$br" 'BEGIN { exit !(r < b) }'; then best_l2=$l2; br=$r; fi
  done
  echo "LIBMF: l2 = $best_l2 by validation (best validation RMSE $br)"
  br=9
  for lam in 0.06 0.09 0.13; do
    "$bin" train --train "$dir/efit.h5" --out "$dir/v.h5" --factors "$k" --lambda "$lam" --precision single --iters 8 -q > /dev/null
    r=$("$bin" --json evaluate --model "$dir/v.h5" --test "$dir/evalid.txt" -q | awk -F'[:,]' '/"rmse"/ { gsub(/ /, "", $2); print $2 }')
    if awk -v r="$r" -v b="$br" 'BEGIN { exit !(r < b) }'; then best_lambda=$lam; br=$r; fi
  done
  echo "distcf: lambda = $best_lambda by validation (validation RMSE $br after 8 iterations)"
  # The test curves.
  "$dir/libmf/mf-train" -f 0 -s "$threads" -k "$k" -l2 "$best_l2" -t "$iters" -p "$dir/etest.txt" "$dir/etrain.txt" "$dir/m" |
    awk '$1 ~ /^[0-9]+$/ { print $1 + 1, $3 }' > "$dir/lcurve.txt"
  "$bin" train --train "$dir/e.h5" --out "$dir/d.h5" --factors "$k" --lambda "$best_lambda" --precision single --iters 15 -q |
    awk '/^ +[0-9]+ +[0-9.e+-]+ +[0-9.]+ +[0-9.]+ / { print $1, $4 }' > "$dir/dcurve.txt"
  # Bayesian MF at its defaults (no lambda to tune): the test RMSE of the posterior mean by sweep.
  "$bin" train --method bpmf --train "$dir/e.h5" --out "$dir/b.h5" --samples $((sweeps - bpmf_burnin)) --eval-every 1 -q |
    awk '/^ +[0-9]+ +[0-9.e+-]+ +[0-9.]+ +[0-9.]+ / { print $1, $4 }' > "$dir/bcurve.txt"
  local lbest dbest bbest
  lbest=$(sort -g -k2 "$dir/lcurve.txt" | head -1 | cut -d' ' -f2)
  dbest=$(sort -g -k2 "$dir/dcurve.txt" | head -1 | cut -d' ' -f2)
  bbest=$(sort -g -k2 "$dir/bcurve.txt" | head -1 | cut -d' ' -f2)
  echo "best test RMSE: LIBMF $lbest, distcf ALS $dbest, distcf BPMF $bbest ($sweeps sweeps)"
  # The issue's target (the best of the tools' best), then LIBMF's best: the speed figure where
  # the accuracies differ.
  time_to "the best of the bests + $slack" "$(printf "%s\n" "$lbest" "$dbest" "$bbest" | sort -g | head -1 | awk -v s="$slack" '{ printf "%.4f", $1 + s }')" "$k" "$best_l2" "$best_lambda"
  time_to "LIBMF's best + $slack" "$(awk -v a="$lbest" -v s="$slack" 'BEGIN { printf "%.4f", a + s }')" "$k" "$best_l2" "$best_lambda"
  echo "wall times include reading the ratings (LIBMF: text; distcf: HDF5 and MPI start-up) and writing the model"
}

# Implicit feedback: the implicit library against distcf ials, single and double precision.
section_implicit() {
  [ -d "$peers/implicit/implicit" ] || { echo "bench_peers implicit: the implicit library absent ($peers/implicit): skipped"; return 0; }
  local lib=${DISTCF_IMPLICIT_BUILD:-}
  if [ -z "$lib" ]; then
    $py -c 'import Cython, skbuild' 2> /dev/null || { echo "bench_peers implicit: cython3 / python3-skbuild missing (see ../shared/peers/README.md): skipped"; return 0; }
    cp -r "$peers/implicit" "$dir/implicit"
    (cd "$dir/implicit" && IMPLICIT_DISABLE_CUDA=1 $py setup.py build_ext --inplace > "$dir/implicit.log" 2>&1) ||
      { echo "bench_peers implicit: the implicit library did not build (see $dir/implicit.log)"; exit 1; }
    lib=$dir/implicit
  fi
  local iters=${DISTCF_BENCH_IMPLICIT_ITERS:-5} k r a b c
  echo "== implicit: 200k users x 20k items, CG 3 steps, confidence 1 + r, lambda 10, $iters iterations a run, $threads threads"
  "$bin" generate --implicit --users 200000 --items 20000 --density 0.0034 --compression 0 --test-fraction 0.1 --out "$dir/i.h5" -q  > /dev/null
  # distcf's seconds per iteration: the median of its sweeps (the loss is computed once, at the end).
  distcf_ials() {
    "$bin" train --method ials --factors "$1" --lambda 10 --alpha 1 --solver cg --cg-steps 3 --precision "$2" --iters "$iters" \
      --eval-every 1000 --train "$dir/i.h5" --out "$dir/i_$2.h5" -q | awk '/^ +[0-9]+ +([0-9.e+-]+|-) +[0-9.]+ / { print $3 }' > "$dir/sec.txt"
    median $(cat "$dir/sec.txt")
  }
  for k in 64 128; do
    local it=() st=() dt=()
    for r in $(seq "$repeats"); do
      a=$(PYTHONPATH="$lib" OPENBLAS_NUM_THREADS=1 $py "$root/scripts/peer_implicit.py" "$dir/i.h5" "$k" "$iters" 10 1 "$threads" float32 |
          sed -n 's/.*: \([0-9.]*\) s per iteration.*/\1/p')
      b=$(distcf_ials "$k" single)
      c=$(distcf_ials "$k" double)
      it+=("$a"); st+=("$b"); dt+=("$c")
      awk -v r="$r" -v k="$k" -v a="$a" -v b="$b" -v c="$c" 'BEGIN {
        printf "k = %d run %d: s per iteration: implicit float32 %.3f, distcf single %.3f (ratio %.2f), distcf double %.3f (ratio %.2f)\n", k, r, a, b, b / a, c, c / a }'
    done
    a=$(median "${it[@]}"); b=$(median "${st[@]}"); c=$(median "${dt[@]}")
    awk -v k="$k" -v a="$a" -v b="$b" -v c="$c" 'BEGIN {
      printf "k = %d median s per iteration: implicit float32 %.3f, distcf single %.3f (ratio %.2f; target <= 1), distcf double %.3f (ratio %.2f)\n", k, a, b, b / a, c, c / a }'
  done
  # Ranking, single against double: the uniform set above has no structure a top-10 can find
  # beyond chance (precision@10 ~ 3e-4 for every model), so on a Zipf-popular set where it does.
  echo "ranking, single against double precision: Zipf(0.9) items, lognormal(1) users, k = 64, log confidence (alpha 40), lambda 100, 15 iterations"
  "$bin" generate --implicit --item-popularity zipf:0.9 --user-activity lognormal:1 --users 200000 --items 20000 --density 0.0034 \
    --compression 0 --test-fraction 0.1 --out "$dir/z.h5" -q > /dev/null
  for p in single double; do
    "$bin" train --method ials --factors 64 --confidence log --alpha 40 --lambda 100 --solver cg --precision "$p" --iters 15 --eval-every 15 \
      --train "$dir/z.h5" --out "$dir/z_$p.h5" -q > /dev/null
    "$bin" --json evaluate --ranking --relevant 1 --top 10 --model "$dir/z_$p.h5" --test "$dir/z.h5" -q > "$dir/rank_$p.json"
  done
  $py - "$dir/rank_single.json" "$dir/rank_double.json" <<'PYEOF'
import json, sys
s, d = (json.load(open(p)) for p in sys.argv[1:3])
for m in ("precision@10", "ndcg@10"):
    a, b = s["model"][m], d["model"][m]
    print(f"{m}: single {a:.5f}, double {b:.5f}, relative difference {abs(a - b) / b:.2%} (target <= 2%); popularity {d['popularity'][m]:.5f}")
PYEOF
}

for s in $sections; do
  case $s in
    u1) section_u1 ;;
    explicit) section_explicit ;;
    implicit) section_implicit ;;
    *) echo "bench_peers: unknown section '$s' (u1, explicit, implicit)"; exit 2 ;;
  esac
done
