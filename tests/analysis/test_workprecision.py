#!/usr/bin/python3
"""End-to-end test of analysis/workprecision.py, run by ctest as analysis_workprecision.

  test_workprecision.py SLIMSWEEP WORKPRECISION_PY

Runs a tiny work-precision sweep (the options of sweeps/workprecision.opts on a smaller grid:
two families, r = 0, 1, both solvers, B = 1 and 8, three dt, RK2 and RK4 baselines) with the
freshly built slimsweep on 2 ranks, draws the figures with workprecision.py, and checks that one
PNG and one PDF per family were written and are not trivial, and that the data behind them are
sane: positive finite costs, errors that fall with dt for every integrator, RK4 below RK2 and
r = 1 below r = 0 at the same dt, and a cheapest-integrator table naming an integrator.
Exit status 0 on success; each failed check prints FAIL. KEEP_FIGURES=DIR keeps the files.
"""
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# the figure checks (PNG/PDF not trivial) and the failure bookkeeping of test_figures.py
from test_figures import ENV, FAILURES, check, check_pdf, check_png  # noqa: E402

FAMILIES = ["dho", "anharmonic"]
SWEEP = ["-sweep_family", ",".join(FAMILIES), "-sweep_r", "0,1", "-sweep_solver", "snes,dense",
         "-sweep_B", "1,8", "-sweep_dt", "0.4,0.2,0.1", "-sweep_T", "4", "-sweep_repeats", "3",
         "-sweep_baselines", "2a,4", "-sweep_quiet"]

def main(exe, script):
    keep = os.environ.get("KEEP_FIGURES")
    tmp = keep or tempfile.mkdtemp(prefix="slim_wp_")
    os.makedirs(tmp, exist_ok=True)
    out = os.path.join(tmp, "wp.h5")
    figdir = os.path.join(tmp, "figures")
    try:
        r = subprocess.run(["mpirun", "-n", "2", "--oversubscribe", exe] + SWEEP + ["-output", out, "-force"],
                           env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=240)
        if not check(r.returncode == 0, f"slimsweep exit {r.returncode}: {r.stderr[-2000:]}"):
            return 1
        r = subprocess.run([sys.executable, script, out, "-o", figdir], env=ENV, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=240)
        print(r.stdout[-3000:])
        if not check(r.returncode == 0, f"workprecision.py exit {r.returncode}: {r.stderr[-2000:]}"):
            return 1
        for fam in FAMILIES:
            png = os.path.join(figdir, f"workprecision_{fam}.png")
            pdf = os.path.join(figdir, f"workprecision_{fam}.pdf")
            txt = os.path.join(figdir, f"workprecision_{fam}.txt")
            check_png(png)
            check_pdf(pdf)
            if check(os.path.isfile(txt), f"{txt} written"):
                body = open(txt).read()
                check("r=" in body or "RK" in body, f"{fam}: the cheapest-integrator table names an integrator")

        # the data the figures show, through the module's own reader
        spec = importlib.util.spec_from_file_location("workprecision", script)
        wp = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(wp)
        sys.path.insert(0, os.path.dirname(script))
        import slimresults
        with slimresults.Results(out) as res:
            check(sorted(wp.families(res)) == sorted(FAMILIES), f"families {wp.families(res)}")
            for fam in FAMILIES:
                ser = wp.series(res, fam)
                slim = [s for s in ser if s["kind"] == "slimplectic"]
                rk = {s["solver"]: s for s in ser if s["kind"] == "rk"}
                check(len(slim) == 2 * 2 * 2, f"{fam}: 8 slimplectic series (r x solver x B), got {len(slim)}")
                check(set(rk) == {"2a", "4"}, f"{fam}: RK2 and RK4 baselines, got {sorted(rk)}")
                check(wp.columns(ser) == [1, 8], f"{fam}: columns B = 1 and the ensemble, got {wp.columns(ser)}")
                for s in ser:
                    check(len(s["dt"]) == 3 and np.all(np.diff(s["dt"]) < 0), f"{fam} {s['label']}: three dt, decreasing")
                    check(np.all(np.isfinite(s["cost"]) & (s["cost"] > 0)), f"{fam} {s['label']}: positive finite cost")
                    # dt/4 takes four times the steps per unit time (fastest of 3 repeats: noise
                    # would have to eat a factor 4 to fail this)
                    check(s["cost"][-1] > s["cost"][0], f"{fam} {s['label']}: dt/4 costs more than dt")
                    e = s["err_q_final"]
                    check(np.all(np.isfinite(e) & (e > 0)), f"{fam} {s['label']}: errors recorded")
                    check(e[-1] < 0.5 * e[0], f"{fam} {s['label']}: error falls with dt ({e})")
                    check(np.all(np.isfinite(s["err_E_max"])), f"{fam} {s['label']}: energy errors recorded")
                for B in (1, 8):
                    for solver in ("snes", "dense"):
                        e0 = [s for s in slim if s["r"] == 0 and s["solver"] == solver and s["B"] == B][0]["err_q_final"]
                        e1 = [s for s in slim if s["r"] == 1 and s["solver"] == solver and s["B"] == B][0]["err_q_final"]
                        check(np.all(e1 < e0), f"{fam} B={B} {solver}: r = 1 more accurate than r = 0 at every dt")
                check(np.all(rk["4"]["err_q_final"] < rk["2a"]["err_q_final"]), f"{fam}: RK4 more accurate than RK2")
                rows = wp.cheapest(ser, "err_q_final", 1, targets=[1.0])
                check(rows[0][1] is not None, f"{fam}: some integrator reaches error 1")
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
