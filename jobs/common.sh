# Sourced by the jobs/*.sbatch scripts: paths, threads and the launcher, the same way in every job.
#
# Paths: a relative path (DATA, MODEL, INPUT, OUT_DIR, DISTCF) is taken from the directory the job
# was submitted from ($SLURM_SUBMIT_DIR), whatever directory the job runs in; absolute paths are
# used as they are.
#   DISTCF   the program (default: build/distcf under the submit directory, else distcf on PATH)
#   LAUNCH   srun (default inside a SLURM job: srun --mpi=pmix) | mpirun (the fallback, and outside SLURM)
#   OUT_DIR  where results go (default: results); every output name carries the job id
#   EXTRA    more options for the job's distcf command; arguments after the script name
#            (`sbatch jobs/train.sbatch --lambda 0.05`) are passed on too
# Ranks and threads come from the allocation: `sbatch --ntasks=N --cpus-per-task=T` (or
# SBATCH_NTASKS/SBATCH_CPUS_PER_TASK in the environment) override the defaults in each script;
# OMP_NUM_THREADS follows --cpus-per-task.
submit_dir=${SLURM_SUBMIT_DIR:-$PWD}
cd "$submit_dir"
absolute() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$submit_dir/$1" ;; esac; }
if [ -n "${DISTCF:-}" ]; then
  DISTCF=$(absolute "$DISTCF")
elif [ -x "$submit_dir/build/distcf" ]; then
  DISTCF=$submit_dir/build/distcf
else
  DISTCF=$(command -v distcf || echo "$submit_dir/build/distcf")
fi
[ -x "$DISTCF" ] || { echo "distcf: program not found at $DISTCF (set DISTCF)" >&2; exit 1; }
OUT_DIR=$(absolute "${OUT_DIR:-results}")
JOB=${SLURM_JOB_ID:-local}
mkdir -p "$OUT_DIR"
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-${OMP_NUM_THREADS:-1}}
# Open MPI refuses root; allowing it is for containers (Docker, Podman, Apptainer) only -- on a
# cluster node a job running as root is a mistake to stop, not to hide.
if [ "$(id -u)" = 0 ] && { [ -f /.dockerenv ] || [ -f /run/.containerenv ] || [ -n "${container:-}${APPTAINER_CONTAINER:-}${SINGULARITY_CONTAINER:-}" ]; }; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
distcf_launcher() {
  if [ -n "${LAUNCH:-}" ]; then
    echo "$LAUNCH"
  elif [ -n "${SLURM_JOB_ID:-}" ] && command -v srun > /dev/null; then
    echo srun
  else
    echo mpirun
  fi
}
distcf_parallel() {
  if [ "$(distcf_launcher)" = srun ]; then
    # PMIx: Debian's Open MPI has no PMI2.
    srun --mpi=pmix --cpus-per-task="$OMP_NUM_THREADS" "$DISTCF" "$@"
  else
    # mpirun reads the allocation from SLURM; threads need the ranks unbound.
    mpirun --bind-to none -x OMP_NUM_THREADS "$DISTCF" "$@"
  fi
}
echo "job $JOB: $(distcf_launcher), ${SLURM_NTASKS:-1} tasks x $OMP_NUM_THREADS threads, results in $OUT_DIR (restart ${SLURM_RESTART_COUNT:-0})"
