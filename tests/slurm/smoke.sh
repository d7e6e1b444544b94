#!/usr/bin/env bash
# smoke.sh [STATE_DIR]
#
# Self-test of the private SLURM test cluster: start it (slurm-up.sh), run
#   1. an sbatch --ntasks=2 job running `mpirun -n 2 hostname`  -> 2 lines
#   2. `srun --mpi=pmix -n 2 hostname`                           -> 2 lines
#      (+ `srun --mpi=pmix -n 2` of a tiny MPI program if mpicc exists)
#   3. a job that exits 3: wait-job.sh must report FAILED and exit 3
#   4. a batch script trapping TERM, signalled on demand with
#      `scancel --batch --signal=TERM`: its marker file must appear
# and stop the cluster again (slurm-down.sh), also when a check fails or the
# script is interrupted; a detached watchdog stops it even if this script is
# SIGKILLed (e.g. by a ctest timeout).
#
# STATE_DIR defaults to a fresh mktemp dir under /tmp, removed on success and
# kept (for its logs) on failure.
#
# Exit: 0 pass; 1 fail; 77 with "SKIP: <reason>" when SLURM cannot be started
# here (packages missing, not root, daemons fail to start) -- for ctest
# SKIP_RETURN_CODE 77.  Set SLIMSWEEP_SLURM_REQUIRED=1 to turn that skip into
# a failure (advisable on machines that are known to have SLURM installed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
t_start=$(date +%s.%N)

if [[ $# -ge 1 ]]; then
  mkdir -p "$1"
  STATE=$(cd "$1" && pwd -P) own_state=0
else
  STATE=$(mktemp -d /tmp/slimsweep-slurm-smoke.XXXXXX) own_state=1
fi
W=$STATE/work

log() { echo "smoke: $*" >&2; }
fail() { echo "FAIL: $*"; exit 1; }
elapsed() { awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
oneline() { tail -c "${2:-400}" "$1" 2>/dev/null | tr '\n' '|'; }

# Long steps run in the background and are waited for, so INT/TERM are
# handled at once (bash defers traps while a foreground command runs).
bgpid=
run() { # run OUTFILE CMD...: CMD >OUTFILE, returns CMD's status
  local out=$1; shift
  "$@" >"$out" &
  bgpid=$!
  local rc=0
  wait "$bgpid" || rc=$?
  bgpid=
  return "$rc"
}

up_called=0 wdpid=
uplog=$(mktemp /tmp/slimsweep-slurm-up.XXXXXX) # slurm-up.sh wants STATE empty
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  rm -f "$uplog"
  # stop the watchdog (if that PID is still it): we clean up ourselves
  if [[ $(tr '\0' ' ' <"/proc/$wdpid/cmdline" 2>/dev/null) == *slimsweep-smoke-watchdog* ]]; then
    kill "$wdpid" 2>/dev/null || true
  fi
  [[ -z $bgpid ]] || kill "$bgpid" 2>/dev/null || true
  if ((up_called)); then
    "$here/slurm-down.sh" "$STATE" || { echo "FAIL: slurm-down.sh could not stop the cluster in $STATE"; rc=1; }
  fi
  if ((rc == 0 || rc == 77)) && ((own_state)); then
    rm -rf "$STATE"
  elif ((rc != 0)); then
    log "state and logs kept in $STATE"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Watchdog: if this script dies without cleaning up (SIGKILL, e.g. a ctest
# timeout), stop the cluster.  Double-forked (ctest's timeout kill walks the
# process tree, so it must not stay our child); cleanup() ends it.
# shellcheck disable=SC2016  # expanded by the inner bash
wdpid=$(setsid bash -c '
  while st=$(awk "{print \$3}" /proc/$1/stat 2>/dev/null) && [[ $st != Z ]]; do sleep 0.2; done
  rm -f "$4"
  exec "$2/slurm-down.sh" "$3"' slimsweep-smoke-watchdog "$$" "$here" "$STATE" "$uplog" \
  </dev/null >/dev/null 2>&1 & echo $!)

# ------------------------------------------------------------------- up
up_called=1
up_rc=0
run /dev/null "$here/slurm-up.sh" "$STATE" </dev/null 2>"$uplog" || up_rc=$?
if ((up_rc != 0)); then
  sed 's/^/  | /' "$uplog" >&2
  reason=$(grep '^slurm-up: ' "$uplog" | tail -n1 | sed 's/^slurm-up: //' || true)
  [[ -n $reason ]] || reason="slurm-up.sh exited $up_rc: $(oneline "$uplog" 200)"
  if ((up_rc == 77)); then
    what="SLURM is not installed/usable here"
  else
    what="SLURM is installed but did not start"
  fi
  [[ ${SLIMSWEEP_SLURM_REQUIRED:-0} != 1 ]] || fail "$what: $reason"
  echo "SKIP: $what: $reason"
  exit 77
fi
# shellcheck source=/dev/null
source "$STATE/env.sh"
log "cluster up after $(elapsed)s ($SLURM_CONF)"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rm -rf "$W" # stale marker files from an earlier run would fool the checks
mkdir -p "$W"
cd "$W"
host=$(hostname)

expect_lines() { # FILE N WHAT: FILE has exactly N lines, each = hostname
  local n
  n=$(wc -l <"$1")
  [[ $n -eq $2 ]] || fail "$3: expected $2 lines in $1, got $n: $(oneline "$1")"
  if grep -qvxF "$host" "$1"; then fail "$3: unexpected output in $1: $(oneline "$1")"; fi
}

# wait_job JOBID TIMEOUT: wait-job.sh's line -> $res, its exit code -> $res_rc
wait_job() {
  res_rc=0
  run "$W/wait.out" "$here/wait-job.sh" "$1" "$2" || res_rc=$?
  res=$(cat "$W/wait.out")
}

# ------------------------------------------- 1. sbatch -n 2 + mpirun -n 2
j=$(sbatch --parsable --job-name=smoke-mpirun --ntasks=2 --time=2 \
  -o "$W/mpirun.out" -e "$W/mpirun.err" --wrap 'mpirun -n 2 hostname')
wait_job "$j" 60
((res_rc == 0)) || fail "mpirun job: $res (stderr: $(oneline "$W/mpirun.err"))"
expect_lines "$W/mpirun.out" 2 "mpirun job"
log "ok: sbatch -n 2 + mpirun -n 2 ($res) [$(elapsed)s]"

# ------------------------------------------------ 2. srun --mpi=pmix -n 2
run "$W/srun.out" timeout 60 srun --mpi=pmix -n 2 --time=2 hostname </dev/null 2>"$W/srun.err" ||
  fail "srun --mpi=pmix -n 2 hostname failed: $(oneline "$W/srun.err")"
expect_lines "$W/srun.out" 2 "srun --mpi=pmix"
log "ok: srun --mpi=pmix -n 2 hostname [$(elapsed)s]"

if command -v mpicc >/dev/null 2>&1; then
  cat >"$W/hello.c" <<'EOF'
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv) {
  int r, n, s = 0;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  MPI_Allreduce(&r, &s, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  printf("rank %d of %d sum %d\n", r, n, s);
  MPI_Finalize();
  return 0;
}
EOF
  mpicc -o "$W/hello" "$W/hello.c" 2>"$W/mpicc.err" || fail "mpicc hello.c: $(oneline "$W/mpicc.err")"
  run "$W/hello.out" timeout 60 srun --mpi=pmix -n 2 --time=2 "$W/hello" </dev/null 2>"$W/hello.err" ||
    fail "srun --mpi=pmix -n 2 hello failed: $(oneline "$W/hello.err")"
  [[ $(sort "$W/hello.out") == $'rank 0 of 2 sum 1\nrank 1 of 2 sum 1' ]] ||
    fail "MPI hello under srun: unexpected output: $(oneline "$W/hello.out")"
  log "ok: srun --mpi=pmix -n 2 MPI program (MPI_Init + Allreduce) [$(elapsed)s]"
fi

# ---------------------------------------- 3. failing job -> exit code 3
j=$(sbatch --parsable --job-name=smoke-fail --time=1 -o /dev/null --wrap 'exit 3')
wait_job "$j" 30
[[ $res_rc -eq 3 && $res == "$j FAILED 3:0" ]] ||
  fail "failing job: wait-job.sh gave rc=$res_rc '$res', expected rc=3 '$j FAILED 3:0'"
log "ok: failing job reported as '$res', exit 3 [$(elapsed)s]"

# ------------------------------- 4. TERM delivered on demand to batch shell
cat >"$W/trap.sh" <<EOF
#!/bin/bash
# forward TERM to the child and reap it: with proctrack/pgid an unreaped child
# left in the job's process group delays the job's end by ~3 s
trap 'echo "TERM received" >"$W/trap.marker"; kill "\$child" 2>/dev/null; wait "\$child"; exit 0' TERM
sleep 300 &
child=\$!
touch "$W/trap.ready"
wait "\$child"
echo "sleep ended without TERM" >"$W/trap.nosignal"
exit 5
EOF
j=$(sbatch --parsable --job-name=smoke-signal --time=5 -o "$W/trap.out" "$W/trap.sh")
end=$((SECONDS + 30))
until [[ -e $W/trap.ready ]]; do
  ((SECONDS < end)) || fail "signal job $j never became ready: $(squeue -h --jobs="$j" -o '%T %r' 2>&1)"
  sleep 0.1
done
scancel --batch --signal=TERM "$j"
wait_job "$j" 30
((res_rc == 0)) || fail "signal job: $res (rc $res_rc)"
[[ -s $W/trap.marker ]] || fail "signal job: no marker file after scancel --batch --signal=TERM ($res)"
[[ ! -e $W/trap.nosignal ]] || fail "signal job: sleep finished without TERM"
log "ok: scancel --batch --signal=TERM reached the trap ($res) [$(elapsed)s]"

[[ -z $(squeue -h -o %A) ]] || fail "jobs left in the queue: $(squeue -h | tr '\n' '|')"

up_called=0
"$here/slurm-down.sh" "$STATE" || fail "slurm-down.sh could not stop the cluster in $STATE"
echo "PASS: slurm smoke test ($(elapsed)s including up and down)"
