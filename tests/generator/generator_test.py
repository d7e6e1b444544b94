#!/usr/bin/python3
"""End-to-end tests of families from specification files, run by ctest (tests/generator/).

  generator_test.py badspecs EXE   each bad specification: one line naming file, field and
                                   problem, exit status 1, nothing written (C and plugin)
  generator_test.py plugin   EXE   spec -> plugin -> slimsweep -family_plugin, under 5 s; -help
                                   lists it; stale, foreign, clashing or missing plugins refused
  generator_test.py systems  EXE   duffing, double_pendulum, coupled_dashpot through their sweep
                                   files: orders 2r+2, energy vs RK4, fits recover at sigma = 0,
                                   landscape, figures

Exit status 0 on success; every failed check prints a line starting with FAIL.
"""
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SLIMGEN = os.path.join(ROOT, "tools", "slimgen.py")
SWEEPS = os.path.join(ROOT, "sweeps")
PY = "/usr/bin/python3"
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


GOOD = """name = "osc"
description = "test oscillator"
coordinates = ["x"]
L = "m*xdot^2/2 - k*x^2/2"
K = "-lambda*xdot_p*x_m"
[parameters]
m = { default = 1.0, help = "mass" }
k = { default = 2.0, help = "spring", unit = "N/m" }
lambda = { default = 0.1, help = "damping" }
[initial]
q = [1.0]
v = [0.0]
"""


def variant(old, new):
    assert old in GOOD, old
    return GOOD.replace(old, new)


# (label, specification text, field named, words of the problem)
BAD = [
    ("syntax error", variant('L = "m*xdot^2/2 - k*x^2/2"', 'L = "m*xdot^2/2 - k*x^^2/2)"'), "L", "syntax error"),
    ("unknown symbol", variant('L = "m*xdot^2/2 - k*x^2/2"', 'L = "m*xdot^2/2 - kk*x^2/2"'), "L", "unknown symbol 'kk'"),
    ("K in plain coordinates", variant('K = "-lambda*xdot_p*x_m"', 'K = "-lambda*xdot*x_m"'), "K", "unknown symbol 'xdot'"),
    ("unknown function", variant('L = "m*xdot^2/2 - k*x^2/2"', 'L = "m*xdot^2/2 - k*cosh2(x)"'), "L", "unknown function 'cosh2'"),
    ("missing field", variant('[initial]\nq = [1.0]\nv = [0.0]\n', ''), "initial", "missing field"),
    ("missing default", variant('k = { default = 2.0, help = "spring", unit = "N/m" }', 'k = { help = "spring" }'), "parameters.k.default", "missing field"),
    ("wrong dof", variant('q = [1.0]', 'q = [1.0, 2.0]'), "initial.q", "2 values for dof 1"),
    ("too many coordinates", variant('coordinates = ["x"]', 'coordinates = ["a", "b", "c", "d", "e"]'), "coordinates", "dof 5"),
    ("singular P_qdot", variant('L = "m*xdot^2/2 - k*x^2/2"', 'L = "m*xdot - k*x^2/2"'), "L", "singular"),
    ("K not vanishing", variant('K = "-lambda*xdot_p*x_m"', 'K = "-lambda*xdot_p"'), "K", "does not vanish"),
    ("not TOML", GOOD.replace("[initial]", "[initial"), "file", "not valid TOML"),
    ("unknown field", 'Lagrangian = "x"\n' + GOOD, "Lagrangian", "unknown field"),
    ("periodic non-coordinate", GOOD + '[periodic]\ny = "2*pi"\n', "periodic.y", "not a coordinate"),
    ("bad name", variant('name = "osc"', 'name = "Osc-1"'), "name", "not a family name"),
]


def slimgen_inprocess(args):
    """Runs tools/slimgen.py's main() in this interpreter (SymPy imported once for all cases):
    (exit status, stderr)."""
    import contextlib
    import io
    sys.path.insert(0, os.path.dirname(SLIMGEN))
    import slimgen
    err = io.StringIO()
    argv, sys.argv = sys.argv, ["slimgen.py"] + args
    code = 0
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            slimgen.main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    finally:
        sys.argv = argv
    return code, err.getvalue()


def test_badspecs(exe, tmp):
    del exe
    for label, text, field, problem in BAD:
        spec = os.path.join(tmp, "bad.toml")
        with open(spec, "w") as f:
            f.write(text)
        # every case through main() in-process; a few as real processes (exit status, plugin path)
        real = label in ("syntax error", "singular P_qdot")
        for mode in ("c", "plugin") if real else ("c",):
            out = os.path.join(tmp, "out", f"osc.{'c' if mode == 'c' else 'so'}")
            if real:
                r = run([PY, SLIMGEN, mode, spec, "-o", out])
                code, stderr = r.returncode, r.stderr
            else:
                code, stderr = slimgen_inprocess([mode, spec, "-o", out])
            lines = stderr.strip().splitlines()
            want = f"slimgen: {spec}: {field}: "
            check(code == 1, f"{label} ({mode}): exit {code}")
            check(len(lines) == 1 and lines[0].startswith(want) and problem in lines[0],
                  f"{label} ({mode}): expected one line '{want}...{problem}...', got {stderr.strip()[:300]!r}")
            check(not os.path.exists(out), f"{label} ({mode}): {out} written")
            leftovers = os.listdir(os.path.dirname(out)) if os.path.isdir(os.path.dirname(out)) else []
            check(not leftovers, f"{label} ({mode}): files left behind: {leftovers}")
        print(f"refused: {label}: {lines[0] if lines else '?'}", flush=True)
    # the generator's limits are the header's
    import re
    import slimgen
    with open(os.path.join(ROOT, "include", "slim", "family.h")) as f:
        hdr = dict(re.findall(r"#define (SLIM_MAX_\w+)\s+(\d+)", f.read()))
    for k in ("SLIM_MAX_DOF", "SLIM_MAX_PARAM"):
        check(int(hdr.get(k, -1)) == getattr(slimgen, k), f"tools/slimgen.py {k} = {getattr(slimgen, k)}, family.h says {hdr.get(k)}")
    # and the good one passes, as a control
    spec = os.path.join(tmp, "good.toml")
    with open(spec, "w") as f:
        f.write(GOOD)
    code, stderr = slimgen_inprocess(["c", spec, "-o", os.path.join(tmp, "good.c")])
    check(code == 0 and os.path.exists(os.path.join(tmp, "good.c")), f"good spec: {code} {stderr}")


def refused(r, out, label, *words):
    lines = [l for l in r.stderr.splitlines() if l.startswith("slimsweep:")]
    check(r.returncode != 0, f"{label}: exit 0")
    check(len(lines) == 1 and all(w in lines[0] for w in ("-family_plugin",) + words),
          f"{label}: expected one 'slimsweep:' line naming -family_plugin and {words}, got {r.stderr.strip()[:400]!r}")
    check(not os.path.exists(out), f"{label}: {out} written")
    print(f"refused: {label}: {lines[0] if lines else '?'}", flush=True)


def compile_c(src, so):
    petsc = run(["pkg-config", "--cflags", "--libs", "PETSc"]).stdout.split()
    r = run(["mpicc", "-O2", "-fPIC", "-shared", "-o", so, src, f"-I{os.path.join(ROOT, 'include')}"] + petsc)
    check(r.returncode == 0, f"compiling {src}: {r.stderr[:300]}")


def test_plugin(exe, tmp):
    spec = os.path.join(tmp, "vdp.toml")
    with open(spec, "w") as f:
        f.write(GOOD.replace('name = "osc"', 'name = "vdp"')
                .replace('K = "-lambda*xdot_p*x_m"', 'K = "lambda*(1 - x_p^2)*xdot_p*x_m"'))
    so = os.path.join(tmp, "vdp.so")
    out = os.path.join(tmp, "vdp.h5")
    # acceptance: from the spec to first results (generate, compile, run N = 100) under 5 s
    t0 = time.time()
    r = run([PY, SLIMGEN, "plugin", spec, "-o", so])
    check(r.returncode == 0 and os.path.exists(so), f"plugin: {r.returncode} {r.stderr}")
    t1 = time.time()
    r = run([exe, "-family_plugin", so, "-sweep_family", "vdp", "-sweep_r", "1", "-sweep_dt", "0.1",
             "-sweep_N", "100", "-sweep_baselines", "none", "-sweep_repeats", "1", "-output", out, "-sweep_quiet"])
    t2 = time.time()
    print(f"[ measured ] spec to first results: generate + compile {t1 - t0:.2f} s, run N = 100 {t2 - t1:.2f} s, total {t2 - t0:.2f} s", flush=True)
    check(r.returncode == 0, f"run with plugin: exit {r.returncode}: {r.stderr[-400:]}")
    check(t2 - t0 < 5, f"spec to first results took {t2 - t0:.2f} s (>= 5 s)")
    with h5py.File(out, "r") as f:
        check([x.decode() for x in f["points/family"][()]] == ["vdp"], "plugin run: /points/family")
        check((f["points/status"][()] == 0).all(), "plugin run: point failed")
        check(np.isfinite(f["points/err_q_final"][()]).all(), "plugin run: no error against the reference run")
    # -help lists the plugin family's options (and the plugin option itself)
    r = run([exe, "-family_plugin", so, "-help"])
    check(r.returncode == 0 and "-vdp_lambda" in r.stdout and "-family_plugin" in r.stdout and "vdp" in r.stdout,
          f"-help with plugin: {r.returncode} {r.stderr[-300:]}")
    # the same family via a bare file name in the working directory
    r = run([exe, "-family_plugin", "vdp.so", "-sweep_family", "vdp", "-sweep_N", "10", "-sweep_r", "0",
             "-sweep_dt", "0.1", "-sweep_baselines", "none", "-sweep_repeats", "1", "-output", "bare.h5", "-sweep_quiet"], cwd=tmp)
    check(r.returncode == 0, f"bare plugin name: {r.returncode} {r.stderr[-300:]}")

    # refused plugins: nothing written, one line
    bad_out = os.path.join(tmp, "bad.h5")
    base = ["-sweep_family", "dho", "-sweep_N", "10", "-sweep_baselines", "none", "-output", bad_out]
    r = run([exe, "-family_plugin", os.path.join(tmp, "nosuch.so")] + base)
    refused(r, bad_out, "missing plugin", "nosuch.so", "no such")
    text = os.path.join(tmp, "text.so")
    with open(text, "w") as f:
        f.write("not a library\n")
    r = run([exe, "-family_plugin", text] + base)
    refused(r, bad_out, "not a shared library", "text.so", "cannot be loaded")
    # a shared library that is not a plugin
    src = os.path.join(tmp, "other.c")
    with open(src, "w") as f:
        f.write("int other(void) { return 1; }\n")
    compile_c(src, os.path.join(tmp, "other.so"))
    r = run([exe, "-family_plugin", os.path.join(tmp, "other.so")] + base)
    refused(r, bad_out, "foreign library", "other.so", "not a slimsweep family plugin")
    # built for another version of the family interface
    csrc = os.path.join(tmp, "stale.c")
    r = run([PY, SLIMGEN, "plugin", spec, "-o", os.path.join(tmp, "tmp.so"), "--keep-c", csrc])
    with open(csrc) as f:
        c = f.read()
    check("return SLIM_FAMILY_ABI;" in c, "plugin source exports SLIM_FAMILY_ABI")
    with open(csrc, "w") as f:
        f.write(c.replace("return SLIM_FAMILY_ABI;", "return SLIM_FAMILY_ABI - 1;"))
    compile_c(csrc, os.path.join(tmp, "stale.so"))
    r = run([exe, "-family_plugin", os.path.join(tmp, "stale.so")] + base)
    refused(r, bad_out, "stale plugin", "stale.so", "version")
    # a plugin may not replace a family that exists
    clash = os.path.join(tmp, "clash.toml")
    with open(clash, "w") as f:
        f.write(GOOD.replace('name = "osc"', 'name = "dho"'))
    r = run([PY, SLIMGEN, "plugin", clash, "-o", os.path.join(tmp, "clash.so")])
    check(r.returncode == 0, f"clash plugin: {r.stderr}")
    r = run([exe, "-family_plugin", os.path.join(tmp, "clash.so")] + base)
    refused(r, bad_out, "name clash", "clash.so", "'dho' is already registered")


def orders(f):
    o = f["orders"]
    return {(o["family"][i].decode(), int(o["r"][i])): float(o["order"][i]) for i in range(len(o["r"]))}


def test_systems(exe, tmp):
    # each new system's sweep file as shipped, with fewer fits and a coarser landscape. Every fit
    # of both losses must recover every identifiable ratio (duffing: omega included) to 1e-4
    # from its +-30..50 % guess (lmvm restarted after a line-search failure; the trajectory loss
    # in two horizon stages); the guesses are seeded, a subset of the shipped sweep's 8
    quick = ["-fit_guesses", "4", "-landscape_n", "8", "-sweep_quiet"]
    both = ("acceleration", "trajectory")
    for name, losses in (("duffing", both), ("double_pendulum", both), ("coupled_dashpot", both)):
        out = os.path.join(tmp, f"{name}.h5")
        t0 = time.time()
        r = run(["mpirun", "-n", "2", "--oversubscribe", exe, "-options_file", os.path.join(SWEEPS, f"{name}.opts"),
                 "-output", out] + quick)
        print(f"sweeps/{name}.opts (quick) on 2 ranks: {time.time() - t0:.1f} s", flush=True)
        check(r.returncode == 0, f"{name}: exit {r.returncode}: {r.stderr[-500:]}")
        if r.returncode:
            continue
        with h5py.File(out, "r") as f:
            check((f["points/status"][()] == 0).all(), f"{name}: a point failed")
            # observed order 2r + 2 (against a reference run, or the normal modes)
            for (fam, rr), p in sorted(orders(f).items()):
                print(f"{name} r = {rr}: observed order {p:.2f} (expected {2 * rr + 2})", flush=True)
                check(abs(p - (2 * rr + 2)) < 0.3, f"{name} r = {rr}: observed order {p:.2f}, expected {2 * rr + 2}")
            check(len(orders(f)) == 3, f"{name}: /orders has {len(orders(f))} rows")
            # energy error against RK4 at the same dt and N: at r >= 1 the slimplectic one is smaller
            b = f["baselines"] if "baselines" in f else None
            check(b is not None, f"{name}: no /baselines")
            if b is not None:
                rk4 = {float(b["dt"][i]): float(b["err_E_max"][i]) for i in range(len(b["dt"])) if b["type"][i].decode() == "4"}
                pts = f["points"]
                for i in range(len(pts["r"])):
                    dt, rr, e = float(pts["dt"][i]), int(pts["r"][i]), float(pts["err_E_max"][i])
                    check(np.isfinite(e) and dt in rk4, f"{name}: energy error of point {i}")
                    if rr == 2:
                        check(e < rk4[dt], f"{name}: r = 2 energy error {e:.2e} not below RK4's {rk4[dt]:.2e} at dt {dt}")
            # fits from random guesses recover the identifiable ratios at sigma = 0
            fs = f["fit_summary"]
            seen = set()
            for i in range(len(fs["loss"])):
                loss = fs["loss"][i].decode()
                seen.add(loss)
                n, k = int(fs["n_recovered"][i]), int(fs["n_fits"][i])
                check(fs["sigma"][i] == 0 and k == 4 and n == k, f"{name} {loss}: {n}/{k} fits recovered {fs['ratio_names'][i].decode()}")
            check(seen == set(losses), f"{name}: fit losses {sorted(seen)}, expected {sorted(losses)}")
            if name == "duffing":
                fitted = fs["fitted"][0].decode().split(",")
                check("omega" in fitted, f"duffing: omega is not fitted ({fitted})")
            rec = [(fs["loss"][i].decode(), int(fs["n_recovered"][i]), int(fs["n_fits"][i])) for i in range(len(fs["loss"]))]
            print(f"{name}: fits recovered per point: {rec}", flush=True)
            check("landscape" in f and len(f["landscape"]) > 0, f"{name}: no /landscape")
    # the figures of one of them
    figs = os.path.join(tmp, "figures")
    r = run([PY, os.path.join(ROOT, "analysis", "figures.py"), os.path.join(tmp, "double_pendulum.h5"), "-o", figs])
    check(r.returncode == 0, f"figures: {r.returncode} {r.stderr[-400:]}")
    for fig in ("error_vs_dt", "energy_error", "landscape"):
        check(os.path.exists(os.path.join(figs, fig + ".png")), f"figures: {fig}.png missing: {r.stdout[-400:]}")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("badspecs", "plugin", "systems"):
        sys.exit(__doc__)
    exe = os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix=f"slimgen-{sys.argv[1]}-") as tmp:
        globals()["test_" + sys.argv[1]](exe, tmp)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", flush=True)
        sys.exit(1)
    print("all checks passed", flush=True)


if __name__ == "__main__":
    main()
