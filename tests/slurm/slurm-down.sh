#!/usr/bin/env bash
# slurm-down.sh STATE_DIR
#
# Stop the private cluster started by slurm-up.sh STATE_DIR: exactly the
# daemons whose PIDs are recorded in STATE_DIR/pids/{slurmd,slurmctld,munged}.pid
# (never anything by name).  Each gets SIGTERM, then SIGKILL after 10 s; the
# script waits until each is gone (a zombie counts as gone) and then removes
# its PID file.  Nothing else under STATE_DIR is removed.
#
# Before stopping the daemons, any jobs still known to this cluster are
# cancelled (scancel through STATE_DIR/slurm.conf, up to 15 s) so their
# slurmstepd processes do not outlive slurmd.  Set SLURM_DOWN_KEEP_JOBS=1
# to skip that.
#
# Exit 0 when all recorded daemons are gone (or none were recorded), 1 if
# one could not be stopped, 2 on usage error.  Safe to run repeatedly.
set -euo pipefail

say() { echo "slurm-down: $*" >&2; }

[[ $# -eq 1 && -n $1 ]] || { say "usage: slurm-down.sh STATE_DIR"; exit 2; }
[[ -d $1 ]] || { say "no state dir $1: nothing to stop"; exit 0; }
STATE=$(cd "$1" && pwd -P)
piddir=$STATE/pids

if [[ ${SLURM_DOWN_LOCKED:-0} != 1 ]]; then
  exec 9>"$STATE/.lock"
  flock -w 60 9 || { say "could not lock $STATE/.lock"; exit 1; }
fi

# pid_of NAME: recorded PID if that process is alive (not zombie) and is NAME
pid_of() {
  local f=$piddir/$1.pid pid st comm
  [[ -s $f ]] || return 1
  pid=$(cat "$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z && $st != X ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  # (setsid/setpriv: the launcher that exec's the daemon, seen for a few ms)
  [[ $comm == "$1" || $comm == setsid || $comm == setpriv ]] || return 1
  echo "$pid"
}

# ----------------------------------------------- cancel this cluster's jobs
if [[ ${SLURM_DOWN_KEEP_JOBS:-0} != 1 && -f $STATE/slurm.conf ]] && pid_of slurmctld >/dev/null; then
  export SLURM_CONF=$STATE/slurm.conf
  jobs=$(timeout 5 squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ' || true)
  if [[ -n ${jobs// /} ]]; then
    say "cancelling jobs: $jobs"
    # shellcheck disable=SC2086
    timeout 10 scancel $jobs 2>/dev/null || true
    end=$((SECONDS + 15))
    while [[ -n $(timeout 5 squeue -h -o %A 2>/dev/null || true) ]] && ((SECONDS < end)); do
      sleep 0.2
    done
  fi
fi

# ------------------------------------------------------------ stop daemons
rc=0
for name in slurmd slurmctld munged; do
  f=$piddir/$name.pid
  [[ -e $f ]] || continue
  if ! pid=$(pid_of "$name"); then
    rm -f "$f"   # already gone (or PID reused by something else: not ours)
    continue
  fi
  kill -TERM "$pid" 2>/dev/null || true
  end=$((SECONDS + 10)) sig=TERM
  while pid_of "$name" >/dev/null; do
    if ((SECONDS >= end)); then
      if [[ $sig == TERM ]]; then
        say "$name (pid $pid) ignored SIGTERM for 10 s: sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sig=KILL end=$((SECONDS + 5))
      else
        say "$name (pid $pid) still running after SIGKILL"
        rc=1
        break
      fi
    fi
    sleep 0.1
  done
  if ! pid_of "$name" >/dev/null; then
    rm -f "$f"
    say "stopped $name (pid $pid)"
  fi
done
exit "$rc"
