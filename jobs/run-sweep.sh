#!/usr/bin/env bash
# Shared body of the batch scripts: runs one slimsweep (or one slice of one) inside the
# allocation, resuming when the results file already exists, and turns the scheduler's
# early-warning signal into a graceful stop:
#   #SBATCH --signal=B:USR1@<seconds>  ->  the batch shell gets USR1  ->  forwarded to the
#   launcher (mpirun and srun both pass USR1 on to the ranks)  ->  every rank abandons its
#   task in flight within a step (a resume recomputes it), writes its finished rows and stops;
#   exit status 3 means "resubmit me" (5: the results file could not be written).
# Environment (sbatch --export=ALL,VAR=...):
#   SWEEP     options file                      (default sweeps/default.opts)
#   OUTPUT    results file                      (default results/<sweep>.h5)
#   SLIMSWEEP the executable                    (default build/slimsweep)
#   LAUNCH    mpirun | srun                     (default mpirun)
#   EXTRA     further slimsweep options         (default none)
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-.}"
SWEEP=${SWEEP:-sweeps/default.opts}
OUTPUT=${OUTPUT:-results/$(basename "$SWEEP" .opts).h5}
SLIMSWEEP=${SLIMSWEEP:-build/slimsweep}
LAUNCH=${LAUNCH:-mpirun}
NTASKS=${SLURM_NTASKS:-1}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

mkdir -p "$(dirname "$OUTPUT")"
resume=()
[ -e "$OUTPUT" ] && resume=(-sweep_resume)
case "$LAUNCH" in
  mpirun) launcher=(mpirun -n "$NTASKS" --oversubscribe) ;;
  srun) launcher=(srun --mpi=pmix -n "$NTASKS" --overcommit) ;;
  *) echo "run-sweep.sh: LAUNCH must be mpirun or srun, not '$LAUNCH'" >&2; exit 2 ;;
esac
echo "run-sweep.sh: job ${SLURM_JOB_ID:-none}${SLURM_ARRAY_TASK_ID:+ task $SLURM_ARRAY_TASK_ID}: $SWEEP -> $OUTPUT on $NTASKS ranks${resume:+ (resume)}"
# shellcheck disable=SC2086
"${launcher[@]}" "$SLIMSWEEP" -options_file "$SWEEP" -output "$OUTPUT" "${resume[@]}" ${EXTRA:-} &
child=$!
trap 'echo "run-sweep.sh: signal received, asking the sweep to stop"; kill -USR1 "$child" 2>/dev/null || true' USR1 TERM
# wait returns early when a trapped signal arrives; wait again for the real exit status
status=0
while true; do
  wait "$child" && status=0 || status=$?
  kill -0 "$child" 2>/dev/null || break
done
echo "run-sweep.sh: slimsweep exited with status $status"
exit "$status"
