#!/usr/bin/python3
"""The stepper-speed table of README ("Stepper speed") from benchmark results files.

    analysis/benchtable.py results/bench_osc.h5 [results/bench_orb.h5 ...] [--families a,b]

One markdown row per (family, dt, r, B) that the files time with both step solvers:
/points/ns_per_traj_step of SNES and of the dense loop, their ratio, and the Newton iterations
per step (the ensemble's worst trajectory, averaged over the steps). Rows of points that did not
finish are marked, never left out silently; a solver a key was not timed with shows "—". Several
files are read in the order given: a later file's (family, dt, r, B) replaces an earlier one's
as a whole (both solvers: a row never mixes runs), unless it did not finish where the earlier
one did.
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slimresults  # noqa: E402


def collect(paths, families=None):
    """{(family, dt, r, B): {solver: (ns, its, status)}} and the commit of each file."""
    rows, commits = {}, []
    for path in paths:
        new = {}
        with slimresults.Results(path) as res:
            p = res.points
            if p is None:
                raise SystemExit(f"benchtable: {path}: no /points table")
            commits.append(res.root_attr("git_revision", "?"))
            st = p.col("status", 0)
            for i in range(p.nrows):
                fam = str(p["family"][i])
                if families and fam not in families:
                    continue
                key = (fam, float(p["dt"][i]), int(p["r"][i]), int(p["B"][i]))
                ns = float(p.col("ns_per_traj_step")[i])
                its = float(p.col("newton_per_step")[i])
                new.setdefault(key, {})[str(p["solver"][i])] = (ns, its, int(st[i]))
        for key, by in new.items():
            done = lambda d: all(v[2] == 0 for v in d.values())  # noqa: E731
            if key not in rows or done(by) or not done(rows[key]):
                rows[key] = by
    return rows, commits


def fmt(v, digits=0):
    return "—" if not math.isfinite(v) else f"{v:.{digits}f}"


def table(rows):
    out = ["| family | Δt | r | B | SNES ns/traj-step | dense ns/traj-step | SNES/dense | Newton its/step |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    order = sorted(rows, key=lambda k: (k[0], -k[1], k[2], k[3]))
    for key in order:
        s = rows[key].get("snes", (math.nan, math.nan, 0))
        d = rows[key].get("dense", (math.nan, math.nan, 0))
        if s[2] != 0 or d[2] != 0:
            note = "not finished" if min(s[2], d[2]) < 0 else "failed"
            out.append(f"| {key[0]} | {key[1]:g} | {key[2]} | {key[3]} | {note} | | | |")
            continue
        its = d[1] if math.isfinite(d[1]) else s[1]
        out.append(f"| {key[0]} | {key[1]:g} | {key[2]} | {key[3]} | {fmt(s[0])} | {fmt(d[0])} | "
                   f"{fmt(s[0] / d[0], 2)} | {fmt(its, 2)} |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--families", help="comma-separated families to keep (default: all)")
    a = ap.parse_args(argv)
    fams = set(a.families.split(",")) if a.families else None
    rows, commits = collect(a.files, fams)
    if not rows:
        raise SystemExit("benchtable: no timed points in " + ", ".join(a.files))
    print(table(rows))
    print(f"\n(files: {', '.join(os.path.basename(f) for f in a.files)}; commits: {', '.join(sorted(set(commits)))})")


if __name__ == "__main__":
    main()
