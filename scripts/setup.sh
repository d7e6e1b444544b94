#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine:
#   scripts/setup.sh run    install what is missing, build, run the default job (sweeps/default.opts)
#   scripts/setup.sh test   install what is missing (test tools too), build, run every test (ctest)
#   scripts/setup.sh build  install what is missing and build only
# Environment: BUILD_DIR (default build), JOBS (default nproc), NP (ranks of the default job, 2).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
NP=${NP:-2}

run_pkgs="build-essential cmake pkg-config git libpetsc-real-dev libhdf5-openmpi-dev hdf5-tools
  libopenmpi-dev openmpi-bin python3 python3-numpy python3-h5py python3-matplotlib python3-sympy"
test_pkgs="libgtest-dev valgrind slurmctld slurmd slurm-client munge procps"

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  # keep package scripts from starting services (slurm, munge): the tests start their own
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  $sudo rm -f /usr/sbin/policy-rc.d
}

build() {
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS"
}

# Open MPI refuses to run as root unless told; more ranks than cores need oversubscription.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

case "$mode" in
  run)
    install_missing $run_pkgs libgtest-dev
    build
    out=${OUTPUT:-results/default.h5}
    mkdir -p "$(dirname "$out")"
    mpirun -n "$NP" "$BUILD_DIR/slimsweep" -options_file sweeps/default.opts -output "$out" ${FORCE:+-force}
    ;;
  test)
    install_missing $run_pkgs $test_pkgs
    build
    cd "$BUILD_DIR"
    ctest --output-on-failure -j "$JOBS" --timeout 900
    ;;
  build)
    install_missing $run_pkgs libgtest-dev
    build
    ;;
  *)
    echo "usage: scripts/setup.sh run|test|build" >&2
    exit 2
    ;;
esac
