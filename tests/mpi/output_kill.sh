#!/bin/sh
# SIGKILL durability of SlimOutput. Starts `output_mpi --slow` on 2 ranks, waits until both
# have reported rows done, SIGKILLs the ranks and the whole mpirun process group, then checks
# with h5py that the file opens as it is (no h5clear) and that every row reported done reads
# back exactly; unreported rows must hold, column by column, either the fill value or the
# right value. Runs once per MPI-IO component (OMPIO, and ROMIO when present).
# usage: output_kill.sh OUTPUT_MPI MPIEXEC WORKDIR
set -u
exe=$1 mpiexec=$2 dir=$3
py=
for p in python3 /usr/bin/python3; do # Debian's python3-h5py lives in /usr/bin/python3
  if "$p" -c 'import h5py' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || { echo "output_kill: no python3 with h5py (python3-h5py), skipped"; exit 77; }
mkdir -p "$dir"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
alive() { # a zombie counts as dead
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  case "$s" in *") Z "*) return 1 ;; esac
  return 0
}

run() { # $1: label (the MPI-IO component comes from the environment)
  label=$1
  file=$dir/kill_$label.h5 prefix=$dir/kill_$label.progress log=$dir/kill_$label.log
  rm -f "$file" "$prefix".*
  # setsid: mpirun leads its own process group, which we kill as a whole
  setsid "$mpiexec" -n 2 --oversubscribe "$exe" --slow "$file" "$prefix" >"$log" 2>&1 &
  pgid=$!
  i=0
  while [ "$(lines "$prefix.0")" -lt 100 ] || [ "$(lines "$prefix.1")" -lt 100 ]; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 $pgid 2>/dev/null; then
      echo "output_kill[$label]: FAIL: the writers made no progress"; cat "$log"
      kill -9 -- -$pgid 2>/dev/null; return 1
    fi
    sleep 0.1
  done
  pids=$(cat "$prefix".*.pid)
  kill -9 $pids 2>/dev/null   # the writers themselves, wherever mpirun put them
  kill -9 -- -$pgid 2>/dev/null
  wait $pgid 2>/dev/null
  for p in $pids; do
    i=0
    while alive "$p" && [ $i -lt 50 ]; do sleep 0.05; i=$((i + 1)); done
    if alive "$p"; then echo "output_kill[$label]: FAIL: rank process $p survived SIGKILL"; return 1; fi
  done
  if command -v h5dump >/dev/null && ! h5dump -H "$file" >/dev/null 2>&1; then
    echo "output_kill[$label]: FAIL: h5dump cannot read $file"; return 1
  fi
  "$py" - "$file" "$prefix" "$label" <<'PYEOF'
import glob, math, sys
import h5py
path, prefix, label = sys.argv[1:4]
done = set()
for fn in glob.glob(prefix + ".*"):
    if not fn.endswith(".pid"):
        done.update(int(l) for l in open(fn) if l.strip())
with h5py.File(path, "r") as f:  # fails if the file were unreadable or needed h5clear
    g = f["results"]
    x, n, s, v = g["x"][:], g["n"][:], g["s"][:], g["v"][:]
    assert g.attrs["description"] in ("rows written until killed", b"rows written until killed")
bad = extra = 0
for r in range(len(x)):
    wx, wn, ws, wv = 0.25 * r + 1.0 / 3.0, 1000003 * r - 5, ("r%d" % r).encode(), [r + 0.125 * j for j in range(3)]
    ok = [x[r] == wx, n[r] == wn, s[r] == ws, list(v[r]) == wv]
    if r in done:
        if not all(ok):
            bad += 1
            print("row %d reported done but reads x=%r n=%r s=%r v=%r" % (r, x[r], n[r], s[r], list(v[r])))
    else:
        fill = [math.isnan(x[r]), n[r] == -1, s[r] == b"", all(math.isnan(t) for t in v[r])]
        if not all(a or b for a, b in zip(ok, fill)):
            bad += 1
            print("row %d holds neither the fill nor its value: x=%r n=%r s=%r v=%r" % (r, x[r], n[r], s[r], list(v[r])))
        elif any(ok):
            extra += 1
print("output_kill[%s]: %d rows reported done before SIGKILL, %d wrong; %d more rows (partly) written after the last report"
      % (label, len(done), bad, extra))
sys.exit(1 if bad or not done else 0)
PYEOF
}

status=0
export OMPI_MCA_io=ompio
run ompio || status=1
if command -v ompi_info >/dev/null && ompi_info 2>/dev/null | grep -q "MCA io: romio"; then
  romio=$(ompi_info 2>/dev/null | sed -n 's/.*MCA io: \(romio[0-9]*\).*/\1/p' | head -n 1)
  export OMPI_MCA_io="$romio"
  run "$romio" || status=1
fi
exit $status
