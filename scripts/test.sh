#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest: unit, MPI at 1, 2, 3 ranks
# (and 4 for the 2 x 2 ScaLAPACK grid), and the SLURM jobs on a real one-node cluster.
# Extra arguments go to ctest (e.g. -L mpi, -R unit). Exit code: non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# The SLURM test (ctest label slurm) runs a real one-node cluster: it needs slurm-wlm and munge.
DISTCF_EXTRA_PACKAGES="slurm-wlm munge ${DISTCF_EXTRA_PACKAGES:-}" "$root/scripts/setup.sh"
build=${DISTCF_BUILD_DIR:-build}
# mpirun as root (containers, CI) and more ranks than cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
cd "$build"
ctest --output-on-failure --timeout 1200 "$@"
