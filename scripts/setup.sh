#!/usr/bin/env bash
# Idempotent set-up on Debian 12: installs only the Debian packages that are missing, then
# configures and builds distcf (Release) into build/. The program ends up at build/distcf.
#   DISTCF_BUILD_DIR   build folder (default: build)
#   DISTCF_BUILD_TYPE  CMake build type (default: Release)
#   DISTCF_SKIP_BUILD=1  only install packages
#   DISTCF_EXTRA_PACKAGES  further Debian packages to make sure of (e.g. "slurm-wlm munge")
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

packages=(
  build-essential cmake pkg-config openssh-client
  openmpi-bin libopenmpi-dev
  libscalapack-openmpi-dev libarmadillo-dev libopenblas-dev
  libhdf5-openmpi-dev hdf5-tools
  libgtest-dev
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev librandom123-dev
  python3-h5py python3-numpy python3-scipy python3-matplotlib python3-pytest python3-venv python3-pip python3-setuptools python3-wheel
)
# shellcheck disable=SC2206
packages+=(${DISTCF_EXTRA_PACKAGES:-})

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing missing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

[ "${DISTCF_SKIP_BUILD:-0}" = 1 ] && exit 0

build=${DISTCF_BUILD_DIR:-build}
type=${DISTCF_BUILD_TYPE:-Release}
jobs=$(nproc)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="$type"
fi
cmake --build "$build" -j "$jobs"
echo "setup: built $build/distcf"
