#!/usr/bin/python3
"""The measurement behind the round-off floor of the order estimate (src/task_orders.c,
SlimStepperGetResidualSum in include/slim/stepper.h): runs the points of the shipped multi-dt
sweeps (no fits, no baselines) with the default step-solver ending criteria and with changed ones
(tighter/looser rtol, looser xtol, a first-order Newton guess) and prints per sweep the largest
change of err_q_final in units of what both runs' solves left by their own account,
/points/solve_residual of the two runs plus N eps max|q0|. The floor is 10 times the latter;
every ratio printed must stay below 10. Points whose error exceeds 1e-2 max|q0| (orbits already
wrong) are left out.

    /usr/bin/python3 scripts/measure_error_floor.py build/slimsweep [workdir]
"""
import os
import subprocess
import sys

import h5py
import numpy as np

SWEEPS = {  # the points of sweeps/<name>.opts (workprecision: its pr part; kepler: a 20-orbit study)
    "duffing": "-sweep_family duffing -sweep_r 0,1,2 -sweep_dt 0.2,0.1,0.05 -sweep_T 5",
    "double_pendulum": "-sweep_family double_pendulum -sweep_r 0,1,2 -sweep_dt 0.05,0.025,0.0125 -sweep_T 5",
    "coupled_dashpot": "-sweep_family coupled_dashpot -sweep_r 0,1,2 -sweep_dt 0.4,0.2,0.1 -sweep_T 10",
    "convergence": "-sweep_family dho -dho_lambda 0.1 -sweep_r 0,1,2,3 -sweep_dt 1,0.5,0.25,0.125,0.0625 -sweep_T 40",
    "default": "-sweep_family dho,anharmonic -sweep_r 0,1,2 -sweep_dt 0.2,0.1,0.05 -sweep_T 20",
    "workprecision_pr": "-sweep_family pr -sweep_r 0,1,2,3,4 -sweep_dt 0.8,0.4,0.2,0.1,0.05,0.025 -sweep_T 40",
    "kepler": "-sweep_family kepler -sweep_r 0,1,2,3 -sweep_dt 0.2,0.1,0.05,0.025 -sweep_T 20",
}
SETTINGS = {  # name: (options, rtol, xtol)
    "default": ("", 1e-13, 1e-8),
    "rtol1e-15": ("-slim_step_rtol 1e-15", 1e-15, 1e-8),
    "pred1": ("-slim_step_predictor_degree 1", 1e-13, 1e-8),
    "xtol1e-6": ("-slim_step_xtol 1e-6", 1e-13, 1e-6),
    "xtol1e-5": ("-slim_step_xtol 1e-5", 1e-13, 1e-5),
    "rtol1e-11": ("-slim_step_rtol 1e-11 -slim_step_xtol 1e-30", 1e-11, 1e-30),
    "rtol1e-9": ("-slim_step_rtol 1e-9 -slim_step_xtol 1e-30", 1e-9, 1e-30),
}
Q0 = {"duffing": 1, "double_pendulum": 0.5, "coupled_dashpot": 1, "dho": 1, "anharmonic": 1, "pr": 0.8, "kepler": 0.5}
LINEAR = {"dho", "coupled_dashpot"}
EPS = np.finfo(float).eps


def run(exe, work, name, opts, setting):
    out = os.path.join(work, f"{name}_{setting}.h5")
    r = subprocess.run(f"{exe} -sweep_baselines none -sweep_repeats 0 -sweep_quiet -force -output {out} {opts} "
                       f"{SETTINGS[setting][0]}", shell=True, capture_output=True, text=True)
    if r.returncode not in (0, 4):  # 4: complete, some points failed (recorded, left out below)
        sys.exit(f"{name} {setting}: exit {r.returncode}: {r.stderr[-300:]}")
    with h5py.File(out, "r") as f:
        P = f["points"]
        return ([x.decode() for x in P["family"][()]], P["N"][()], P["err_q_final"][()], P["status"][()],
                P["solve_residual"][()])


def main():
    exe, work = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "/tmp/slim_error_floor")
    os.makedirs(work, exist_ok=True)
    for name, opts in SWEEPS.items():
        fam, N, e0, st0, r0 = run(exe, work, name, opts, "default")
        worst = {}
        for s, (_, rtol, xtol) in SETTINGS.items():
            if s == "default":
                continue
            _, _, e, st, r = run(exe, work, name, opts, s)
            for i in range(len(N)):
                if st[i] or st0[i] or e0[i] > 1e-2 * Q0[fam[i]]:
                    continue
                lin = fam[i] in LINEAR
                q = abs(e[i] - e0[i]) / (r0[i] + r[i] + N[i] * EPS * Q0[fam[i]])
                k = ("linear" if lin else "nonlinear", "default tol" if s == "pred1" else "changed tol")
                worst[k] = max(worst.get(k, (0, "")), (q, f"{s} {fam[i]} N={N[i]} err={e0[i]:.2e}"))
        for k, (q, where) in sorted(worst.items()):
            print(f"{name:17s} {k[0]:9s} {k[1]:11s} max |d err| / (solve residuals + N eps max|q0|) = {q:8.3g}  ({where})", flush=True)


if __name__ == "__main__":
    main()
