#!/usr/bin/env bash
# wait-job.sh JOBID [TIMEOUT]
#
# Wait for a SLURM job to finish, polling `squeue` every 0.2 s (much faster
# than `sbatch --wait`), for at most TIMEOUT seconds (default 120).
# SLURM_CONF must point at the cluster (source STATE_DIR/env.sh).
#
# Prints one line on stdout:   JOBID STATE EXITCODE     e.g. "7 COMPLETED 0:0"
# (EXITCODE is SLURM's exit:signal), taken from `scontrol show job` while the
# controller still knows the job, else from the job-completion log (`sacct -c`).
#
# Exit status: the job's exit code; 128+N if it was killed by signal N;
# 1 if it did not COMPLETE but reports code 0 (cancelled, timed out, node
# failure...); 124 if it was still queued/running after TIMEOUT (the job is
# left alone; the line then reads "JOBID WAIT_TIMEOUT <state>"); 2 on usage
# error or if the job's final state cannot be found.
set -euo pipefail

say() { echo "wait-job: $*" >&2; }

[[ $# -ge 1 && $# -le 2 && $1 =~ ^[0-9]+$ ]] || { say "usage: wait-job.sh JOBID [TIMEOUT_SECONDS]"; exit 2; }
job=$1
timeout_s=${2:-120}
[[ $timeout_s =~ ^[0-9]+$ ]] || { say "TIMEOUT must be whole seconds"; exit 2; }
[[ -n ${SLURM_CONF:-} || -e /etc/slurm/slurm.conf ]] ||
  { say "SLURM_CONF is not set (source STATE_DIR/env.sh from slurm-up.sh)"; exit 2; }

# States in which the job is still queued, running or winding down.
active='^(PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED|REQUEUE_FED|REQUEUE_HOLD|RESIZING|SIGNALING|STAGE_OUT|STOPPED)$'

end=$((SECONDS + timeout_s))
state=
while :; do
  # --jobs=ID, not "-j ID": -j takes an optional argument
  if out=$(timeout 10 squeue -h --jobs="$job" -o %T 2>&1); then
    state=$(head -n1 <<<"$out")
    [[ -n $state && $state =~ $active ]] || break
  elif [[ $out == *"Invalid job id"* ]]; then
    break # already purged from the controller
  fi    # other errors (controller busy/restarting): keep trying
  if ((SECONDS >= end)); then
    echo "$job WAIT_TIMEOUT ${state:-unknown}"
    say "job $job still ${state:-unknown} after ${timeout_s}s"
    exit 124
  fi
  sleep 0.2
done

final='' code=''
if info=$(timeout 10 scontrol show job -o "$job" 2>/dev/null); then
  final=$(grep -o 'JobState=[^ ]*' <<<"$info" | head -n1 | cut -d= -f2 || true)
  code=$(grep -o ' ExitCode=[^ ]*' <<<"$info" | head -n1 | cut -d= -f2 || true)
fi
if [[ -z $final || -z $code ]]; then
  # jobcomp/filetxt log; the last record for this id wins
  line=$(timeout 10 sacct -c -n -P -j "$job" -o jobid,state,exitcode 2>/dev/null |
    awk -F'|' -v j="$job" '$1 == j' | tail -n1 || true)
  if [[ -n $line ]]; then
    IFS='|' read -r _ final code <<<"$line"
    final=${final%% *} # "CANCELLED by 0" -> CANCELLED
  fi
fi
if [[ -z $final || ! $code =~ ^[0-9]+:[0-9]+$ ]]; then
  echo "$job UNKNOWN ?"
  say "cannot find the final state of job $job (scontrol/sacct -c)"
  exit 2
fi

echo "$job $final $code"
rc=${code%%:*} sig=${code##*:}
if ((rc == 0 && sig != 0)); then rc=$((128 + sig)); fi
if ((rc == 0)) && [[ $final != COMPLETED ]]; then rc=1; fi
((rc <= 255)) || rc=255
exit "$rc"
