#!/usr/bin/python3
"""Work-precision figures from a slimsweep results file: which integrator gives an accuracy for the least time.

  analysis/workprecision.py results.h5 [more.h5 ...] -o figures/ [--formats png,pdf]

One figure per family, workprecision_<family>.{png,pdf}: rows are the error in q at the final time
(/points/err_q_final) and the largest fractional energy error over the run (err_E_max); columns are
the single-trajectory points (B = 1) and the largest ensemble in the file. The x axis is the wall
time one trajectory costs per unit of simulated time, ns_per_traj_step / dt (fastest timed repeat),
so integrators of different order and step are compared at equal cost. Each line is one integrator
(slimplectic r with the SNES or the dense solver, or a PETSc TSRK baseline) over the file's dt
values. The baselines integrate one trajectory at a time; they appear in every column with the same
cost. Errors above 1e3 (a diverged explicit run) are left out. A table of the cheapest integrator reaching each of a few target accuracies is printed and
written next to the figures (workprecision_<family>.txt). Sweep: sweeps/workprecision.opts.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slimresults  # noqa: E402

METRICS = [("err_q_final", "error in q at T"), ("err_E_max", "max fractional energy error")]
TARGETS = [1e-2, 1e-4, 1e-6, 1e-8, 1e-10]
# Errors above this are a diverged run (explicit RK at a step beyond its stability limit), not a
# point of the trade-off: left out of the figure (the tables would never pick them anyway).
DIVERGED = 1e3
RK_NAMES = {"2a": "RK2 (TSRK 2a)", "3": "RK3", "4": "RK4 (TSRK 4)", "5dp": "DP5 (TSRK 5dp)", "5f": "RK5F",
            "sympl2": "velocity Verlet (TSBASICSYMPLECTIC 2)", "sympl4": "Forest-Ruth (TSBASICSYMPLECTIC 4)"}


def _positive(a):
    a = np.asarray(a, float)
    return np.isfinite(a) & (a > 0)


def series(res, family):
    """Work-precision series of one family: a list of dicts with keys
    label, kind ('slimplectic' or 'rk'), r, solver, B (None for baselines), dt, cost (s per
    trajectory per unit simulated time), err_q_final, err_E_max; arrays sorted by decreasing dt."""
    out = []
    p = res.points
    if p is not None and p.nrows:
        m = p.ok() & (p.col("family") == family) & _positive(p.col("ns_per_traj_step"))
        keys = sorted({(int(r), str(s), int(b)) for r, s, b in zip(p["r"][m], p["solver"][m], p["B"][m])})
        for r, s, b in keys:
            sel = m & (p["r"] == r) & (p["solver"] == s) & (p["B"] == b)
            out.append(_one(p, sel, dict(label=f"r={r} {s}", kind="slimplectic", r=r, solver=s, B=b)))
    t = res.baselines
    if t is not None and t.nrows:
        m = t.ok() & (t.col("family") == family) & _positive(t.col("ns_per_traj_step"))
        for ty in sorted(set(t["type"][m])):
            out.append(_one(t, m & (t["type"] == ty), dict(label=RK_NAMES.get(ty, "TSRK " + ty), kind="rk", r=None, solver=ty, B=None)))
    return [s for s in out if len(s["dt"])]


def _one(t, sel, info):
    dt = np.asarray(t["dt"][sel], float)
    order = np.argsort(-dt)
    info["dt"] = dt[order]
    info["cost"] = 1e-9 * np.asarray(t["ns_per_traj_step"][sel], float)[order] / info["dt"]
    for name, _ in METRICS:
        info[name] = np.asarray(t.col(name)[sel], float)[order]
    return info


def families(res):
    fams = set()
    for t in (res.points, res.baselines):
        if t is not None and t.nrows:
            fams |= set(t.col("family")[t.ok()])
    return sorted(f for f in fams if f)


def columns(ser):
    """B values shown as columns: single trajectory (1) and the largest ensemble."""
    bs = sorted({s["B"] for s in ser if s["B"] is not None})
    cols = []
    if 1 in bs:
        cols.append(1)
    if bs and bs[-1] != 1:
        cols.append(bs[-1])
    return cols or [None]


def cheapest(ser, metric, B, targets=TARGETS):
    """For each target accuracy: (target, label, cost, dt) of the cheapest run with error <= target
    among the integrators of column B (baselines included), or (target, None, nan, nan)."""
    rows = []
    for tgt in targets:
        best = (tgt, None, np.nan, np.nan)
        for s in ser:
            if s["B"] not in (B, None):
                continue
            ok = _positive(s[metric]) & (s[metric] <= tgt) & np.isfinite(s["cost"])
            for c, d in zip(s["cost"][ok], s["dt"][ok]):
                if best[1] is None or c < best[2]:
                    best = (tgt, s["label"], c, d)
        rows.append(best)
    return rows


def figure(res, family):
    """(matplotlib figure, number of lines, series) of one family, or (None, 0, []) without data;
    figures.py registers it as its figure 'workprecision'."""
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "pdf"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ser = series(res, family)
    if not ser:
        return None, 0, []
    cols = columns(ser)
    fig, axes = plt.subplots(len(METRICS), len(cols), figsize=(5.2 * len(cols), 4.2 * len(METRICS)), squeeze=False)
    cmap = plt.get_cmap("viridis")
    rs = sorted({s["r"] for s in ser if s["r"] is not None})
    lines = 0
    for j, B in enumerate(cols):
        for i, (metric, ylabel) in enumerate(METRICS):
            ax = axes[i][j]
            for s in ser:
                if s["B"] not in (B, None):
                    continue
                ok = _positive(s[metric]) & _positive(s["cost"]) & (s[metric] <= DIVERGED)
                if not ok.any():
                    continue
                if s["kind"] == "rk":
                    style = dict(color="0.35", ls=":", marker={"2a": "v", "4": "^"}.get(s["solver"], "d"), mfc="none")
                else:
                    c = cmap(rs.index(s["r"]) / max(1, len(rs) - 1) * 0.9)
                    style = dict(color=c, ls="-" if s["solver"] == "snes" else "--", marker="o" if s["solver"] == "snes" else "s",
                                 mfc=c if s["solver"] == "snes" else "none")
                ax.loglog(s["cost"][ok], s[metric][ok], label=s["label"], ms=4, lw=1.2, **style)
                lines += 1
            ax.set_xlabel("wall time per trajectory per unit time [s]")
            ax.set_ylabel(ylabel)
            what = "single trajectory (B = 1)" if B == 1 else (f"ensemble (B = {B}), per trajectory" if B else "")
            ax.set_title(f"{family}: {what}", fontsize=10)
            ax.grid(True, which="major", alpha=0.3)
    h, lab = axes[0][0].get_legend_handles_labels()
    fig.legend(h, lab, loc="lower center", ncol=min(6, len(lab)), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.04 + 0.025 * ((len(lab) - 1) // 6), 1, 1))
    return fig, lines, ser


def draw(res, family, outdir, formats):
    import matplotlib.pyplot as plt

    fig, lines, ser = figure(res, family)
    if fig is None:
        return None, "no finished points or baselines"
    cols = columns(ser)
    os.makedirs(outdir, exist_ok=True)
    written = []
    for ext in formats:
        path = os.path.join(outdir, f"workprecision_{family}.{ext}")
        fig.savefig(path)
        written.append(path)
    plt.close(fig)
    # the question the figure answers, as a table
    txt = [f"# {family}: cheapest integrator reaching each accuracy (wall s per trajectory per unit time)"]
    for B in cols:
        for metric, ylabel in METRICS:
            txt.append(f"## {ylabel}, {'B = 1' if B == 1 else f'B = {B}'}")
            for tgt, lab, c, d in cheapest(ser, metric, B):
                txt.append(f"  <= {tgt:.0e}: " + (f"{lab}, dt {d:g}, {c:.3g} s" if lab else "none in this file"))
    path = os.path.join(outdir, f"workprecision_{family}.txt")
    with open(path, "w") as f:
        f.write("\n".join(txt) + "\n")
    written.append(path)
    print("\n".join(txt))
    return written, f"{lines} lines"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="+", help="slimsweep results files (HDF5)")
    ap.add_argument("-o", "--outdir", default="figures", help="output directory (default: figures)")
    ap.add_argument("--formats", default="png,pdf", help="comma-separated file formats (default: png,pdf)")
    a = ap.parse_args(argv)
    formats = [x for x in a.formats.split(",") if x]
    status = 0
    for path in a.results:
        with slimresults.Results(path) as res:
            fams = families(res)
            if not fams:
                print(f"{path}: no finished points or baselines: nothing to draw", file=sys.stderr)
                status = 1
            for fam in fams:
                written, what = draw(res, fam, a.outdir, formats)
                print(f"{path}: {fam}: " + (", ".join(written) + f" ({what})" if written else f"skipped: {what}"))
    return status


if __name__ == "__main__":
    sys.exit(main())
