# Sourced by the sbatch scripts: the launcher and the thread count, the same way in every job.
#   DISTCF  path to the distcf program (default: build/distcf under the submit directory)
#   LAUNCH  mpirun (default) | srun (uses --mpi=pmix; Debian's Open MPI has no PMI2)
#   OUT_DIR where results go (default: results); every output name carries the job id
DISTCF=${DISTCF:-build/distcf}
OUT_DIR=${OUT_DIR:-results}
JOB=${SLURM_JOB_ID:-local}
mkdir -p "$OUT_DIR"
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
distcf_parallel() {
  if [ "${LAUNCH:-mpirun}" = srun ]; then
    srun --mpi=pmix --cpus-per-task="$OMP_NUM_THREADS" "$DISTCF" "$@"
  else
    # mpirun reads the allocation from SLURM; threads need the ranks unbound.
    mpirun --bind-to none -x OMP_NUM_THREADS "$DISTCF" "$@"
  fi
}
