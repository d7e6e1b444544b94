#!/bin/sh
# Runs a command against a full disk: mounts a small tmpfs (SIZE) at WORKDIR/mnt, runs
# `mpiexec -n 2 CMD... WORKDIR/mnt` and unmounts it again. Mounting needs root (or
# CAP_SYS_ADMIN); where it is not allowed the test is skipped (exit 77) and says why.
# usage: diskfull.sh SIZE WORKDIR MPIEXEC CMD...
set -u
size=$1 dir=$2 mpiexec=$3
shift 3
mnt=$dir/mnt
mkdir -p "$mnt"
if ! err=$(mount -t tmpfs -o "size=$size" slim_diskfull "$mnt" 2>&1); then
  echo "diskfull: cannot mount a $size tmpfs at $mnt ($err): skipped"
  exit 77
fi
trap 'umount "$mnt" 2>/dev/null' EXIT INT TERM
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
timeout 120 "$mpiexec" -n 2 --oversubscribe "$@" "$mnt"
