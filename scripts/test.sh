#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest (MPI tests at 1, 2, 3 ranks).
# Extra arguments go to ctest (e.g. -L mpi, -R unit). Exit code: non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"
build=${DISTCF_BUILD_DIR:-build}
# mpirun as root (containers, CI) and more ranks than cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
cd "$build"
ctest --output-on-failure --timeout 1200 "$@"
