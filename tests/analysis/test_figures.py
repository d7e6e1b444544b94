#!/usr/bin/python3
"""End-to-end test of analysis/figures.py, run by ctest as analysis_figures (CMakeLists.txt here).

  test_figures.py SLIMSWEEP FIGURES_PY

Makes small results files with the freshly built slimsweep (mpirun -n 2, and the same sweep on
1 rank for the scaling figure), runs figures.py on them, and checks that every figure the files
have data for was written as a PNG and a PDF that are not trivial, and that every other figure was
reported as skipped with a reason. Which figures are expected is read from the files themselves
with h5py, independently of figures.py. Exit status 0 on success; each failed check prints FAIL.
Set KEEP_FIGURES=DIR to keep the files and figures in DIR.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", MPLBACKEND="Agg")
ALL = ["time_vs_N", "time_vs_r", "speed_vs_B", "energy_error", "orbit_evolution", "error_vs_dt", "landscape",
       "noise_rms", "fit_error", "fit_obs", "scaling", "rank_load"]
# Timing, convergence and energy data: three r, two dt, two final times (so N = 100..400),
# RK baselines and trajectories; weak damping as in the primary sources' energy figure.
MAIN = ["-sweep_family", "dho", "-dho_lambda", "1e-4", "-sweep_r", "0,1,2", "-sweep_dt", "0.1,0.05",
        "-sweep_T", "10,20", "-sweep_baselines", "2a,4", "-sweep_repeats", "1",
        "-sweep_trajectory_stride", "10", "-sweep_seed", "5", "-sweep_quiet"]
# Fits: three noise levels, both losses, stored descent paths, a noise slice, an (m, k) landscape.
FITS = ["-sweep_family", "dho", "-dho_lambda", "0", "-sweep_r", "0", "-sweep_dt", "0.1", "-sweep_N", "50",
        "-sweep_sigma", "0,0.05,0.2", "-sweep_baselines", "none", "-sweep_repeats", "1",
        "-fit_guesses", "4", "-fit_loss", "acceleration,trajectory", "-fit_params", "m,k",
        "-fit_max_it", "40", "-fit_store_path", "-fit_slice_n", "9", "-landscape_params", "m,k",
        "-landscape_n", "12", "-sweep_quiet"]
# Poynting-Robertson drag (orbit evolution against RK4) at two ensemble sizes (speed vs B).
EXTRA = ["-sweep_family", "pr", "-sweep_r", "0,1", "-sweep_dt", "0.01", "-sweep_N", "2000", "-sweep_B", "1,4",
         "-sweep_baselines", "4", "-sweep_repeats", "1", "-sweep_trajectory_stride", "10", "-sweep_quiet"]
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)
    return cond


def run(cmd, what):
    t0 = time.time()
    r = subprocess.run(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=240)
    print(f"[{time.time() - t0:5.1f} s] {what}: exit {r.returncode}", flush=True)
    return r


def sweep(exe, np_, args, out):
    r = run(["mpirun", "-n", str(np_), "--oversubscribe", exe] + args + ["-output", out], f"slimsweep on {np_} ranks -> {os.path.basename(out)}")
    check(r.returncode == 0 and os.path.exists(out), f"slimsweep {out}: exit {r.returncode}: {r.stderr.strip()[-800:]}")


# ---------- what the files contain (h5py only, independent of figures.py)

def s(a):
    return np.array([x.decode() if isinstance(x, bytes) else str(x) for x in a])


def expected(paths):
    """{figure: why it is expected} from the files' contents."""
    exp = {}
    sigs = {}
    for p in paths:
        with h5py.File(p, "r") as f:
            if "points" in f:
                P = f["points"]
                ok = P["status"][()] == 0
                fam, r, dt, N = s(P["family"][()]), P["r"][()], P["dt"][()], P["N"][()]
                byN, byr = {}, {}
                for i in np.flatnonzero(ok):
                    byN.setdefault((fam[i], r[i], dt[i]), set()).add(N[i])
                    byr.setdefault((fam[i], dt[i], N[i]), set()).add(r[i])
                if any(len(v) >= 2 for v in byN.values()):
                    exp["time_vs_N"] = f"{p}: points differing only in N"
                if any(len(v) >= 2 for v in byr.values()):
                    exp["time_vs_r"] = f"{p}: points differing only in r"
                byB = {}
                for i in np.flatnonzero(ok):
                    byB.setdefault((fam[i], r[i], dt[i], N[i], P["solver"][i]), set()).add(P["B"][i])
                if any(len(v) >= 2 for v in byB.values()):
                    exp["speed_vs_B"] = f"{p}: points differing only in B"
                if "trajectories" in f and any(fam[int(k)] == "pr" and ok[int(k)] for k in f["trajectories"] if k.isdigit()):
                    exp["orbit_evolution"] = f"{p}: pr trajectories"
            if "trajectories" in f and any("energy_error" in str(d.attrs.get("description", ""))
                                           for d in f["trajectories"].values()):
                exp["energy_error"] = f"{p}: trajectories with energy_error"
            if "orders" in f and (f["orders/n_dt"][()] >= 2).any():
                exp["error_vs_dt"] = f"{p}: /orders"
            if "landscape" in f and len(f["landscape"]):
                exp["landscape"] = f"{p}: /landscape"
            if "fit_summary" in f and "slice_rms_change" in f["fit_summary"]:
                sg = f["fit_summary/sigma"][()]
                if len(np.unique(sg[sg > 0])) >= 2:
                    exp["noise_rms"] = f"{p}: noise slice at two σ > 0"
            if "fits" in f and "points" in f:
                pts = f["fits/point"][()]
                if len(np.unique(f["points/sigma"][()][pts[pts >= 0]])) >= 2:
                    exp["fit_error"] = f"{p}: fits at two σ"
            if "fit_obs" in f and len(f["fit_obs"]):
                exp["fit_obs"] = f"{p}: /fit_obs"
            if "sessions" in f and len(f["sessions"]):
                exp["rank_load"] = f"{p}: /sessions"
                sigs.setdefault(f.attrs["sweep_signature"], set()).add(int(f.attrs["nranks"]))
    if any(len(v) >= 2 for v in sigs.values()):
        exp["scaling"] = "one sweep at two rank counts"
    return exp


# ---------- running figures.py

def figures(script, args, what):
    r = run(["/usr/bin/python3", script] + args, f"figures.py {what}")
    written, skipped = {}, {}
    for line in r.stdout.splitlines():
        head, _, rest = line.partition(": ")
        if head.startswith("wrote "):
            written[head[6:]] = [x.strip() for x in rest.split(",") if x.strip()]
        elif head.startswith("skipped "):
            skipped[head[8:]] = rest.strip()
    return r, written, skipped


def check_png(path):
    if not check(os.path.exists(path), f"{path} missing"):
        return
    size = os.path.getsize(path)
    check(size > 20000, f"{path}: only {size} bytes")
    try:
        img = matplotlib.image.imread(path)
    except Exception as e:  # noqa: BLE001
        check(False, f"{path} does not decode: {e}")
        return
    h, w = img.shape[:2]
    check(w >= 900 and h >= 600, f"{path}: {w}x{h} pixels, too small for a slide")
    rgb = img[..., :3].reshape(-1, 3)
    check(rgb.std() > 0.05, f"{path}: nearly uniform (std {rgb.std():.3f})")
    colours = len(np.unique((rgb[::7] * 255).astype(np.uint8), axis=0))
    check(colours >= 32, f"{path}: only {colours} colours")
    # something is drawn away from the white background in most of the picture
    nonwhite = (rgb < 0.9).any(axis=1).mean()
    check(nonwhite > 0.02, f"{path}: {100 * nonwhite:.1f}% non-white pixels")


def check_pdf(path):
    if not check(os.path.exists(path), f"{path} missing"):
        return
    with open(path, "rb") as fh:
        data = fh.read()
    check(data.startswith(b"%PDF") and b"%%EOF" in data[-1024:], f"{path}: not a complete PDF")
    check(len(data) > 8000, f"{path}: only {len(data)} bytes")


def check_written(written, name, outdir):
    files = written.get(name, [])
    pngs = [f for f in files if f.endswith(".png")]
    pdfs = [f for f in files if f.endswith(".pdf")]
    check(pngs and len(pngs) == len(pdfs), f"{name}: expected PNG and PDF, got {files}")
    for f in files:
        check(os.path.dirname(os.path.abspath(f)) == os.path.abspath(outdir), f"{name}: {f} not in {outdir}")
    for f in pngs:
        check_png(f)
    for f in pdfs:
        check_pdf(f)


def main():
    exe, script = sys.argv[1], sys.argv[2]
    keep = os.environ.get("KEEP_FIGURES")
    tmp = keep or tempfile.mkdtemp(prefix="slim-figures-")
    os.makedirs(tmp, exist_ok=True)
    t0 = time.time()
    try:
        main2 = os.path.join(tmp, "main.h5")
        main1 = os.path.join(tmp, "main_np1.h5")
        fits = os.path.join(tmp, "fits.h5")
        extra = os.path.join(tmp, "extra.h5")
        for p in (main2, main1, fits, extra):
            if os.path.exists(p):
                os.remove(p)
        sweep(exe, 2, MAIN, main2)
        sweep(exe, 1, MAIN, main1)
        sweep(exe, 2, FITS, fits)
        sweep(exe, 2, EXTRA, extra)
        if FAILURES:
            return 1

        # 1. the 2-rank sweep and the fits: every figure they have data for, the rest skipped with a reason
        def full_run(files, outdir, what, only=()):
            exp = {k: v for k, v in expected(files).items() if not only or k in only}
            print("expected figures:", ", ".join(f"{k} ({v})" for k, v in exp.items()), flush=True)
            r, written, skipped = figures(script, files + ["-o", outdir] + (["--only"] + list(only) if only else []), what)
            check(r.returncode == 0, f"figures.py {what}: exit {r.returncode}: {r.stderr.strip()[-1500:]}")
            print(r.stdout, end="")
            for name in (only or ALL):
                check((name in written) != (name in skipped), f"{what}: {name}: neither written nor skipped (or both)")
                if name in skipped:
                    check(len(skipped[name]) > 10, f"{what}: {name}: skipped without a reason")
                    check(not any(f.startswith(name) for f in os.listdir(outdir)), f"{what}: {name} skipped but written")
                    check(name not in exp, f"{what}: {name} expected ({exp.get(name)}) but skipped: {skipped[name]}")
            for name in exp:
                if check(name in written, f"{what}: {name} expected ({exp[name]}) but not written"):
                    check_written(written, name, outdir)
            return exp, written, skipped

        exp, _, skipped = full_run([main2, fits, extra], os.path.join(tmp, "all"), "on main.h5 fits.h5 extra.h5")
        # /fit_obs comes with the harness's wiring of the observed-vs-fitted output (docs/figures.md)
        with h5py.File(fits, "r") as f:
            no_obs = set() if "fit_obs" in f else {"fit_obs"}
        check(set(exp) == set(ALL) - {"scaling"} - no_obs,
              f"the test sweeps should give every figure but scaling, they give {sorted(exp)}")
        # 1b. fit_error with the fit-uncertainty columns the harness writes after its wiring
        # (docs/figures.md): bands of 1-3 std and the consistent fraction are drawn
        p2 = os.path.join(tmp, "fits_uncertainty.h5")
        shutil.copy(fits, p2)
        with h5py.File(p2, "r+") as f:
            F = f["fits"]
            n, nr = F["ratio_err"].shape
            sig = f["points/sigma"][()][F["point"][()]]
            if "ratio_std" not in F:
                F["ratio_std"] = np.outer(np.maximum(sig, 1e-9), np.ones(nr))
            if "consistent" not in F:
                F["consistent"] = np.ones(n, np.int64)
        sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
        import figures as figmod  # noqa: E402
        import slimresults  # noqa: E402
        with slimresults.Results(p2) as res:
            (_, fig), = figmod.fig_fit_error(res)
            bands = [c for c in fig.axes[1].collections if type(c).__name__ == "PolyCollection"]
            labels = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
            check(len(bands) >= 1, "fit_error: no uncertainty band drawn from /fits/ratio_std")
            check(any("consistent" in x for x in labels), f"fit_error: no consistent fraction in {labels}")
            figmod.plt.close(fig)

        # 2. scaling: the same sweep on 1 and 2 ranks
        exp, _, _ = full_run([main2, main1], os.path.join(tmp, "scaling"), "on main.h5 main_np1.h5",
                             only=("scaling", "rank_load"))
        check(set(exp) == {"scaling", "rank_load"}, f"the 1- and 2-rank files should give scaling, they give {sorted(exp)}")
        # 3. a file without timing, trajectory or convergence data: those figures are skipped with a reason
        exp, _, skipped = full_run([fits], os.path.join(tmp, "fits-only"), "on fits.h5 alone",
                                   only=("time_vs_N", "time_vs_r", "energy_error", "error_vs_dt", "scaling", "rank_load"))
        check(set(skipped) == {"time_vs_N", "time_vs_r", "energy_error", "error_vs_dt", "scaling"},
              f"fits.h5 alone: skipped {sorted(skipped)}")
        print("skip reasons (fits.h5 alone):")
        for name, why in skipped.items():
            print(f"  {name}: {why}")

        # 4. --list (names of per-file figures from several files carry the file name), bad arguments
        r = run(["/usr/bin/python3", script, main2, main1, fits, "--list"], "figures.py --list")
        check(r.returncode == 0 and "/points" in r.stdout and "/landscape" in r.stdout
              and "would write error_vs_dt: error_vs_dt_main, error_vs_dt_main_np1" in r.stdout
              and "would write landscape: landscape\n" in r.stdout,
              f"--list: exit {r.returncode}, output {r.stdout[-1500:]!r} {r.stderr[-600:]!r}")
        out3 = os.path.join(tmp, "bad")
        r = run(["/usr/bin/python3", script, main2, "-o", out3, "--only", "nosuchfigure"], "figures.py --only nosuchfigure")
        check(r.returncode == 2 and "nosuchfigure" in r.stderr, f"bad --only: exit {r.returncode}: {r.stderr[-300:]}")
        r = run(["/usr/bin/python3", script, os.path.join(tmp, "missing.h5"), "-o", out3], "figures.py missing.h5")
        check(r.returncode == 2 and "missing.h5" in r.stderr, f"missing file: exit {r.returncode}: {r.stderr[-300:]}")
    finally:
        if not keep and not FAILURES:
            shutil.rmtree(tmp, ignore_errors=True)
        elif FAILURES:
            print(f"files kept in {tmp}")
    print(f"{'FAILED' if FAILURES else 'passed'}: {len(FAILURES)} failed checks, {time.time() - t0:.1f} s")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
