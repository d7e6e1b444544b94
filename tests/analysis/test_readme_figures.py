#!/usr/bin/python3
"""Every figure the README's figure table lists is drawn from the sweep its row names, run by ctest
as analysis_readme_figures:

  test_readme_figures.py SLIMSWEEP FIGURES_PY README

For each row of the table: the figure exists in figures.py, the sweep file (or job script) exists,
and the row's sweep -- the shipped file with the row's own extra options, plus the reductions in
QUICK where the shipped size is meant for a long run -- gives that figure (figures.py --only NAME
writes it). The convergence sweep is run exactly as shipped and its error_vs_dt figure must read
r = 0 order 2.0 +- 0.1 and RK2 order 2.0 +- 0.1 (issue 11), the r = 0 value being the file's
/orders/order (the harness's asymptotic estimate). Exit status 0 on success.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_figures import ENV, FAILURES, check  # noqa: E402  (one check() for the figure tests)

# sizes for a CI machine; everything else is the shipped file
QUICK = {
    "sweeps/time_vs_N.opts": ["-sweep_N", "1000,10000,100000"],    # its own comment's quick look
    "sweeps/order_vs_time.opts": ["-sweep_r", "0,1,2,4,8"],
    "sweeps/bench_step.opts": ["-sweep_B", "1,64,256", "-sweep_N", "20"],
    "sweeps/pr_drag.opts": ["-sweep_N", "20000"],                  # 200 of its 2000 orbits
    "sweeps/workprecision.opts": ["-sweep_r", "0,1", "-sweep_B", "1,8", "-sweep_dt", "0.4,0.2,0.1",
                                  "-sweep_T", "4", "-sweep_baselines", "2a,4"],
}


def rows(readme):
    """[(figure, sweep or job file, extra options)] of the README's figure table; 'same file' and
    'any file' rows get sweep 'any'."""
    text = open(readme).read()
    i = text.index("| figure | shows | make its data, then draw it |")
    out, prev = [], None
    for line in text[i:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        name = cells[0].strip("`")
        cmd = cells[-1]
        m = re.search(r"((?:sweeps|jobs)/[A-Za-z0-9_]+\.(?:opts|sbatch))([^`]*)", cmd)
        if m and not cmd.startswith("same file") and not cmd.startswith("any file"):
            extra = m.group(2).split("-output")[0].split()
            prev = (m.group(1), extra)
        if cmd.startswith("any file"):
            out.append((name, "any", []))
        else:
            out.append((name, prev[0] if prev else None, prev[1] if prev else []))
    return out


def main():
    exe, script, readme = sys.argv[1:4]
    root = os.path.dirname(os.path.abspath(readme))
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    import figures  # noqa: E402
    import slimresults  # noqa: E402
    tmp = tempfile.mkdtemp(prefix="slim-readme-")
    try:
        table = rows(readme)
        print("README figure table:", ", ".join(f"{n} <- {f} {' '.join(e)}" for n, f, e in table), flush=True)
        check(len(table) >= 10, f"README figure table has only {len(table)} rows")
        check(set(n for n, _, _ in table) <= set(figures.NAMES),
              f"README lists figures figures.py does not draw: {set(n for n, _, _ in table) - set(figures.NAMES)}")
        files = {}
        for name, sweep, extra in sorted(table, key=lambda x: x[1] == "any"):
            if sweep == "any":  # any results file gives it: the first one made here
                if check(files, f"{name}: no results file to draw it from"):
                    out = next(iter(files.values()))
                    r = subprocess.run(["/usr/bin/python3", script, out, "-o", os.path.join(tmp, "fig"), "--only", name],
                                       env=ENV, capture_output=True, text=True, timeout=300)
                    check(r.returncode == 0 and f"wrote {name}:" in r.stdout, f"{name} not drawn from any file: {r.stdout.strip()}")
                continue
            if not check(sweep and os.path.exists(os.path.join(root, sweep)), f"{name}: its row names no existing file ({sweep})"):
                continue
            if sweep.startswith("jobs/"):
                continue  # several rank counts under SLURM: tests/slurm and analysis_figures cover it
            key = (sweep, tuple(extra))
            if key not in files:
                out = os.path.join(tmp, f"{len(files)}.h5")
                cmd = ["mpirun", "-n", "2", "--oversubscribe", exe, "-options_file", os.path.join(root, sweep)] + \
                    extra + QUICK.get(sweep, []) + ["-output", out, "-sweep_quiet"]
                r = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=600)
                print(f"{sweep} {' '.join(extra + QUICK.get(sweep, []))}: exit {r.returncode}", flush=True)
                check(r.returncode == 0, f"{sweep}: exit {r.returncode}: {r.stderr[-600:]}")
                files[key] = out
            out = files[key]
            r = subprocess.run(["/usr/bin/python3", script, out, "-o", os.path.join(tmp, "fig"), "--only", name],
                               env=ENV, capture_output=True, text=True, timeout=300)
            check(r.returncode == 0 and f"wrote {name}:" in r.stdout,
                  f"{name} not drawn from {sweep}: {r.stdout.strip()} {r.stderr[-800:]}")
            if sweep == "sweeps/convergence.opts" and name == "error_vs_dt":
                with slimresults.Results(out) as res:
                    (_, fig), = figures.fig_error_vs_dt(res)
                    labels = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
                    figures.plt.close(fig)
                print("error_vs_dt legend:", labels, flush=True)
                for who in ("r = 0", "RK2"):
                    lab = [x for x in labels if x.startswith(who + ":")]
                    m = re.search(r"order ([0-9.]+)", lab[0]) if lab else None
                    check(m and abs(float(m.group(1)) - 2.0) <= 0.1, f"convergence.opts: {who} order not 2.0 +- 0.1: {lab}")
                # the harness writes the asymptotic order itself: /orders of r = 0 reads 2.0 too, and
                # the legend is that value (the figure computes nothing when /orders/order_lsq is there)
                with h5py.File(out, "r") as f:
                    O = f["orders"]
                    r0 = [i for i in range(len(O["r"])) if O["r"][i] == 0]
                    check("order_lsq" in O and "order_mark" in f["points"], "convergence.opts: /orders lacks order_lsq or /points/order_mark")
                    check(len(r0) == 1 and abs(O["order"][r0[0]] - 2.0) <= 0.1 and O["order_lsq"][r0[0]] < 1.0,
                          f"convergence.opts: /orders r = 0 order {O['order'][r0[0]] if r0 else None} (lsq {O['order_lsq'][r0[0]] if r0 else None})")
                    lab = [x for x in labels if x.startswith("r = 0:")]
                    check(lab and f"order {O['order'][r0[0]]:.2f}" in lab[0], f"convergence.opts: legend {lab} is not /orders/order")
    finally:
        if not FAILURES:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"files kept in {tmp}")
    print(f"{'FAILED' if FAILURES else 'passed'}: {len(FAILURES)} failed checks")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
