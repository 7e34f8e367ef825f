#!/usr/bin/env bash
# A real one-node SLURM cluster for the jobs/ scripts: munged, slurmctld and slurmd from Debian's
# munge and slurm-wlm, with a key, a slurm.conf and all state in a temporary directory. Submits every
# job script with sbatch on a small data set (mpirun and srun --mpi=pmix launches), waits for each,
# checks its outputs, then stops the daemons it started by their PIDs.
#   slurm_jobs_test.sh DISTCF_BINARY SOURCE_DIR
set -euo pipefail
bin=$(readlink -f "$1")
src=$(readlink -f "$2")
for tool in munged slurmctld slurmd sbatch squeue sinfo; do
  command -v "$tool" > /dev/null || { echo "SKIP: $tool not installed (apt-get install slurm-wlm munge)"; exit 77; }
done
dir=$(mktemp -d /tmp/distcf-slurm-XXXXXX)
chmod 755 "$dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null || true; done
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$dir"; fi
}
trap cleanup EXIT
fail() {  # to stderr: submit's stdout is captured
  {
    echo "FAIL: $*"
    squeue 2> /dev/null || true
    for f in "$dir"/log/*.log "$dir"/work/*.out; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
  } >&2
  exit 1
}

mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log" "$dir/work"
chmod 700 "$dir/munge"
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed"
for _ in $(seq 50); do [ -s "$dir/munge/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$dir/munge/munged.pid")")

host=$(hostname -s)
cpus=$(nproc --all)  # not nproc: it honours OMP_NUM_THREADS
# Ports away from the default 6817/6818 so that a system SLURM is never disturbed.
port=$((20000 + RANDOM % 20000))
cat > "$dir/slurm.conf" <<CONF
ClusterName=distcftest
SlurmctldHost=$host
SlurmUser=$(id -un)
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobRequeue=1
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
NodeName=$host CPUs=$cpus RealMemory=$(( $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) * 9 / 10 )) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF"
for _ in $(seq 50); do [ -s "$dir/slurmctld.pid" ] && break; sleep 0.1; done
[ -s "$dir/slurmctld.pid" ] || fail "slurmctld did not start"
pids+=("$(cat "$dir/slurmctld.pid")")
slurmd -f "$SLURM_CONF"
for _ in $(seq 50); do [ -s "$dir/slurmd.pid" ] && break; sleep 0.1; done
[ -s "$dir/slurmd.pid" ] || fail "slurmd did not start"
pids+=("$(cat "$dir/slurmd.pid")")
for _ in $(seq 100); do
  state=$(sinfo -h -o %T 2> /dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.2
done
[ "$state" = idle ] || fail "the node is not idle (state: '$state')"
echo "cluster up: $host, $cpus CPUs, port $port"

cd "$dir/work"
export DISTCF="$bin" DISTCF_JOBS="$src/jobs" DISTCF_SCRIPTS="$src/scripts" OUT_DIR="$dir/work/results"
export OMPI_MCA_rmaps_base_oversubscribe=1
submit() {  # submit NAME SCRIPT [VAR=VALUE ...]: runs it to completion, prints the job id
  local name=$1 script=$2
  shift 2
  local id
  id=$(env "$@" sbatch --parsable --job-name="$name" "$src/jobs/$script") || fail "sbatch $script"
  local waited=0
  while squeue -h -j "$id" 2> /dev/null | grep -q .; do
    sleep 0.5
    waited=$((waited + 1))
    [ "$waited" -lt 480 ] || fail "$script ($name): job $id still queued or running after 240 s"
  done
  local out="$dir/work/distcf-${script%.sbatch}-$id.out"
  [ -f "$out" ] || fail "$script: no output file $out"
  grep -q "error" "$out" && fail "$script ($name) reported an error"
  echo "$id"
}

id=$(submit gen generate.sbatch USERS=400 ITEMS=150 DENSITY=0.1)
data="$OUT_DIR/generated-$id.h5"
[ -f "$data" ] || fail "generate.sbatch: $data missing"
grep -q "Observed ratings" "$dir/work/distcf-generate-$id.out" || fail "generate.sbatch: no info output"
echo "generate.sbatch: job $id -> $data"

# A relative DATA path is the submit directory's, and arguments after the script reach distcf.
rel=${data#"$dir/work/"}
id=$(submit train-mpirun train.sbatch DATA="$rel" FACTORS=8 ITERS=5 LAUNCH=mpirun)
model="$OUT_DIR/model-$id.h5"
[ -f "$model" ] || fail "train.sbatch: $model missing"
grep -q "RMSE" "$dir/work/distcf-train-$id.out" || fail "train.sbatch: no evaluation"
grep -q "2 MPI ranks" "$dir/work/distcf-train-$id.out" || fail "train.sbatch: mpirun did not use the allocation's 2 tasks"
echo "train.sbatch (mpirun): job $id -> $model"

id=$(submit train-srun train.sbatch DATA="$data" FACTORS=8 ITERS=5)
grep -q "job $id: srun" "$dir/work/distcf-train-$id.out" || fail "train.sbatch: srun is not the default launcher"
grep -q "2 MPI ranks" "$dir/work/distcf-train-$id.out" || fail "train.sbatch with srun --mpi=pmix: not 2 ranks"
echo "train.sbatch (srun --mpi=pmix, the default): job $id"

id=$(submit recommend recommend.sbatch MODEL="$model" TOP=5)
[ -f "$OUT_DIR/recommendations-$id.h5" ] || fail "recommend.sbatch: output missing"
echo "recommend.sbatch: job $id"
id=$(env FORMAT=csv MODEL="$model" sbatch --parsable --job-name=rec-csv "$src/jobs/recommend.sbatch" --cold-start fallback) || fail "sbatch recommend csv"
while squeue -h -j "$id" 2> /dev/null | grep -q .; do sleep 0.5; done
head -1 "$OUT_DIR/recommendations-$id.csv" 2> /dev/null | grep -q "^user,rank,item,predicted" ||
  fail "recommend.sbatch FORMAT=csv with an extra argument: no CSV table ($(tail -3 "$dir/work/distcf-recommend-$id.out"))"
echo "recommend.sbatch (FORMAT=csv, extra argument): job $id"

printf "1\t1\t5\t0\n1\t2\t3\t0\n2\t1\t4\t0\n" > "$dir/work/tiny.tsv"
id=$(submit import import.sbatch INPUT=tiny.tsv)
[ -f "$OUT_DIR/imported-$id.h5" ] || fail "import.sbatch: output missing"
echo "import.sbatch: job $id"

id=$(submit study study.sbatch)
[ -f "$OUT_DIR/study-$id.h5" ] || fail "study.sbatch: results missing"
[ -f "$OUT_DIR/report-$id/index.html" ] || fail "study.sbatch: report missing"
echo "study.sbatch: job $id"

id=$(submit pipeline pipeline.sbatch USERS=2000 ITEMS=300 DENSITY=0.02 FACTORS=4 ITERS=3 TOP=5)
out="$dir/work/distcf-pipeline-$id.out"
for s in generate train recommend evaluate; do
  grep -q "^== $s: [0-9]* s" "$out" || fail "pipeline.sbatch: step $s did not finish"
  grep -q "$s: rank peak RSS" "$out" || fail "pipeline.sbatch: no peak RSS for $s"
done
grep -q "NDCG@5" "$out" || fail "pipeline.sbatch: no ranking evaluation"
grep -q "^plan: als, k = 4" "$out" || fail "pipeline.sbatch: no memory and traffic plan before training"
grep -q "recv MiB" "$out" || fail "pipeline.sbatch: iteration lines without the bytes received"
echo "pipeline.sbatch: generate -> train -> recommend -> evaluate: job $id"

# The time-limit warning: SLURM signals the batch shell (--signal=B:USR1@120); here the same
# signal is sent as soon as the first checkpoint exists. The job must save, requeue itself, and
# the requeued run resume from the checkpoint and finish every iteration.
"$bin" generate --users 40000 --items 3000 --density 0.01 --out "$dir/work/big.h5" -q > /dev/null
id=$(env DATA=big.h5 FACTORS=32 ITERS=40 CHECKPOINT_EVERY=2 sbatch --parsable --job-name=requeue "$src/jobs/train.sbatch") || fail "sbatch requeue"
model="$OUT_DIR/model-$id.h5"
for _ in $(seq 600); do [ -f "$model" ] && break; sleep 0.1; done
[ -f "$model" ] || fail "requeue: no checkpoint appeared"
scancel --signal=USR1 --batch "$id" || fail "scancel --signal=USR1"
# Done means finished after a restart: between the two runs the job can be briefly absent from
# squeue, so its state is read from slurmctld (kept MinJobAge seconds after the end).
job_field() { scontrol show job "$id" 2> /dev/null | tr ' ' '\n' | grep "^$1=" | cut -d= -f2; }
waited=0
while :; do
  state=$(job_field JobState)
  restarts=$(job_field Restarts)
  case "$state" in
    COMPLETED) [ "${restarts:-0}" -ge 1 ] && break ;;
    FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) fail "requeue: job $id ended $state" ;;
  esac
  # SLURM holds a requeued job back (reason BeginTime) until the first run's credential expires
  # (cred_expire: 120 s by default, 10 s in this cluster's slurm.conf); starting it sooner makes
  # slurmd kill it ("Job credential revoked").
  sleep 0.5
  waited=$((waited + 1))
  [ "$waited" -lt 600 ] || fail "requeue: job $id not finished after a restart in 300 s (state $state, restarts $restarts)"
done
out="$dir/work/distcf-train-$id.out"
grep -q "USR1 received" "$out" || fail "requeue: the job did not see the signal"
grep -q "checkpoint saved in .*; requeueing" "$out" || fail "requeue: distcf did not stop with a checkpoint"
grep -q "(restart 1)" "$out" || fail "requeue: the job did not run again"
grep -q "resuming from .* after iteration" "$out" || fail "requeue: the second run did not resume"
grep -q "RMSE" "$out" || fail "requeue: no evaluation at the end"
"${PYTHON:-/usr/bin/python3}" - "$model" << 'PY' || fail "requeue: the final model is not complete"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert int(f.attrs["complete"]) == 1 and int(f["model"].attrs["iterations_done"]) == 40, dict(f["model"].attrs)
PY
echo "train.sbatch: USR1 -> checkpoint -> requeued -> resumed and finished: job $id"
echo "PASS: every job script ran under SLURM"
