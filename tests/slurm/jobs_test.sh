#!/usr/bin/env bash
# jobs_test.sh SLIMSWEEP_EXE SOURCE_DIR
#
# The SLURM batch scripts in jobs/, exercised for real against a private one-node SLURM started
# here (slurm-up.sh): submitted with sbatch, waited for, and their results files checked.
#   1. jobs/sweep.sbatch with mpirun, and with srun --mpi=pmix: a complete results file equal
#      (every non-timing column) to a direct mpirun run of the same sweep
#   2. the time-limit path: scancel --batch --signal=USR1 (what --signal=B:USR1@T delivers)
#      stops the job with exit 3 and a partial file; the same sbatch again resumes and completes
#   3. jobs/sweep_array.sbatch (2 tasks, -sweep_slice) + jobs/merge.sbatch with
#      --dependency=afterok: the merged file equals the direct run
# Exit 0 pass, 1 fail, 77 "SKIP: <reason>" when SLURM cannot start here.
set -euo pipefail
EXE=$(readlink -f "$1")
SRC=$(readlink -f "$2")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
CHECK="$PY $SRC/tests/harness/harness_test.py"

BASE=$(mktemp -d /tmp/slimsweep-jobs.XXXXXX)
chmod 755 "$BASE" # munged (user munge) must reach the key below it
STATE=$BASE/slurm
cleanup() { bash "$here/slurm-down.sh" "$STATE" >/dev/null 2>&1 || true; }
trap cleanup EXIT
if ! up=$(bash "$here/slurm-up.sh" "$STATE" 2>"$BASE/up.err"); then
  echo "SKIP: SLURM cannot be started here: $(tail -n 1 "$BASE/up.err")"
  exit 77
fi
eval "$up"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# a work tree like a user's checkout: jobs/ and sweeps/ from the source, the built executable
W=$BASE/work
mkdir -p "$W/sweeps" "$W/build" "$W/results"
ln -s "$SRC/jobs" "$W/jobs"
ln -s "$EXE" "$W/build/slimsweep"
cat >"$W/sweeps/small.opts" <<'EOF'
-sweep_family dho,anharmonic
-sweep_r 0,1,2
-sweep_dt 0.1,0.05
-sweep_T 4
-sweep_repeats 1
-sweep_baselines 4
-sweep_trajectory_stride 8
EOF
# enough points, each taking a noticeable time, for a signal to land part-way
cat >"$W/sweeps/slow.opts" <<'EOF'
-sweep_family kepler
-sweep_r 1,2,3
-sweep_dt 0.01,0.009,0.008,0.007,0.006,0.005
-sweep_N 6000
-sweep_repeats 2
-sweep_baselines none
-sweep_flush_interval 0
EOF
cd "$W"
fail() { echo "FAIL: $*"; exit 1; }
submit() { sbatch --parsable "$@" | cut -d';' -f1; }
rows_done() { $PY -c "import h5py,sys; f=h5py.File(sys.argv[1],'r'); print(int((f['points/status'][()]>=0).sum()))" "$1" 2>/dev/null || echo 0; }

mpirun -n 2 --oversubscribe build/slimsweep -options_file sweeps/small.opts -output results/direct.h5 -sweep_quiet
mpirun -n 2 --oversubscribe build/slimsweep -options_file sweeps/slow.opts -output results/slow-direct.h5 -sweep_quiet

# 1. one sweep, one job, with both launchers
for launch in mpirun srun; do
  out=results/one-$launch.h5
  j=$(submit --ntasks=2 --export=ALL,SWEEP=sweeps/small.opts,OUTPUT=$out,LAUNCH=$launch jobs/sweep.sbatch)
  bash "$here/wait-job.sh" "$j" 180 || fail "sweep.sbatch ($launch) job $j failed: $(tail -n 5 slimsweep-$j.out | tr '\n' '|')"
  $CHECK compare results/direct.h5 "$out" || fail "sweep.sbatch ($launch): results differ from the direct run"
  echo "ok: sweep.sbatch with $launch"
done

# 2. stopped by the time-limit signal, then resumed by resubmitting
out=results/slow.h5
j=$(submit --ntasks=2 --export=ALL,SWEEP=sweeps/slow.opts,OUTPUT=$out jobs/sweep.sbatch)
for _ in $(seq 1 600); do
  [ "$(rows_done "$out")" -ge 3 ] && break
  sleep 0.1
done
[ "$(rows_done "$out")" -ge 3 ] || fail "slow sweep produced no rows"
scancel --batch --signal=USR1 "$j"
rc=0
bash "$here/wait-job.sh" "$j" 180 || rc=$?
[ "$rc" -eq 3 ] || fail "a job stopped by USR1 exited $rc, expected 3: $(tail -n 5 slimsweep-$j.out | tr '\n' '|')"
n=$(rows_done "$out")
total=$($PY -c "import h5py; print(len(h5py.File('$out','r')['points/status']))")
[ "$n" -lt "$total" ] || fail "the signal arrived after the sweep had finished ($n/$total)"
echo "ok: stopped by USR1 after $n/$total points, exit 3"
j=$(submit --ntasks=2 --export=ALL,SWEEP=sweeps/slow.opts,OUTPUT=$out jobs/sweep.sbatch)
bash "$here/wait-job.sh" "$j" 300 || fail "the resubmitted job $j failed: $(tail -n 5 slimsweep-$j.out | tr '\n' '|')"
grep -q "(resume)" "slimsweep-$j.out" || fail "the resubmitted job did not resume"
$CHECK compare results/slow-direct.h5 "$out" || fail "stop + resume differs from the direct run"
echo "ok: resubmission resumed and completed"

# 3. job array over slices, then the merge job
a=$(submit --array=0-1 --ntasks=1 --export=ALL,SWEEP=sweeps/small.opts,OUTPUT=results/arr.h5 jobs/sweep_array.sbatch)
m=$(submit --dependency=afterok:"$a" --export=ALL,SWEEP=sweeps/small.opts,OUTPUT=results/arr.h5 jobs/merge.sbatch)
bash "$here/wait-job.sh" "$m" 300 || fail "merge job $m failed: $(tail -n 5 slimsweep-merge-$m.out 2>/dev/null | tr '\n' '|')"
$CHECK compare results/direct.h5 results/arr.h5 || fail "array + merge differs from the direct run"
echo "ok: job array + merge"
echo "PASS: SLURM jobs"
cd /
cleanup
trap - EXIT
rm -rf "$BASE"
