#!/usr/bin/python3
"""analysis/benchtable.py end to end, run by ctest as analysis_benchtable.

  test_benchtable.py SLIMSWEEP BENCHTABLE_PY

A tiny benchmark sweep (sweeps/bench_step.opts on dho and anharmonic, r = 0, 1, B = 1 and 8,
both solvers) from the freshly built slimsweep on one rank; the table must have one row per
(family, dt, r, B) with the file's own timings (SNES/dense is the ratio of the two columns), and
a point that did not finish must be marked, not dropped. Exit status 0 on success.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_figures import ENV, FAILURES, check  # noqa: E402

SWEEP = ["-options_file", "sweeps/bench_step.opts", "-sweep_family", "dho,anharmonic", "-sweep_dt", "0.1",
         "-sweep_r", "0,1", "-sweep_B", "1,8", "-sweep_N", "20", "-sweep_repeats", "1", "-sweep_quiet"]


def rows_of(text):
    return [l.split("|")[1:-1] for l in text.splitlines() if l.startswith("| ") and not l.startswith("| family") and not l.startswith("| ---")]


def main(exe, script):
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    tmp = tempfile.mkdtemp(prefix="slim_bt_")
    out = os.path.join(tmp, "bench.h5")
    r = subprocess.run([exe] + SWEEP + ["-output", out], cwd=src, env=ENV, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=240)
    if not check(r.returncode == 0, f"slimsweep exit {r.returncode}: {r.stderr[-2000:]}"):
        return 1
    r = subprocess.run([sys.executable, script, out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    print(r.stdout)
    check(r.returncode == 0, f"benchtable exit {r.returncode}: {r.stderr}")
    rows = rows_of(r.stdout)
    check(len(rows) == 8, f"{len(rows)} rows, expected 8 (2 families x 2 r x 2 B)")
    with h5py.File(out, "r") as f:
        p = f["points"]
        fam = [x.decode() if isinstance(x, bytes) else x for x in p["family"][()]]
        for row in rows:
            name, dt, rr, B = row[0].strip(), float(row[1]), int(row[2]), int(row[3])
            sel = [i for i in range(len(fam)) if fam[i] == name and p["r"][i] == rr and p["B"][i] == B]
            ns = {p["solver"][i].decode() if isinstance(p["solver"][i], bytes) else p["solver"][i]: p["ns_per_traj_step"][i] for i in sel}
            check(abs(float(row[4]) - ns["snes"]) <= 0.5 and abs(float(row[5]) - ns["dense"]) <= 0.5,
                  f"{row}: timings are not the file's {ns}")
            check(abs(float(row[6]) - ns["snes"] / ns["dense"]) <= 0.006, f"{row}: ratio is not SNES/dense")
    # a point that did not finish is marked in its row; a finished measurement is not replaced by
    # a later file's unfinished one
    keep = os.path.join(tmp, "finished.h5")
    shutil.copyfile(out, keep)
    with h5py.File(out, "r+") as f:
        st = f["points/status"][()]
        st[0] = -1
        f["points/status"][...] = st
    r = subprocess.run([sys.executable, script, out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rows = rows_of(r.stdout)
    check(len(rows) == 8 and sum("not finished" in "|".join(x) for x in rows) == 1,
          f"an unfinished point must be marked in one of 8 rows:\n{r.stdout}")
    r = subprocess.run([sys.executable, script, keep, out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check("not finished" not in r.stdout, f"a later unfinished point replaced a finished one:\n{r.stdout}")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
