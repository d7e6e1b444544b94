#!/usr/bin/python3
"""End-to-end tests of the slimsweep harness, run by ctest (tests/harness/CMakeLists.txt).

  harness_test.py ranks    EXE   same sweep on 1, 2, 3 ranks: identical per-point results
  harness_test.py kill     EXE   SIGTERM / SIGKILL part-way, resume, compare with a full run
  harness_test.py badinput EXE   bad input: one line naming the option, non-zero exit, no damage
  harness_test.py help     EXE   -help lists every option
  harness_test.py fits     EXE   coefficient fits: issue 4 acceptance from sweeps/fits.opts, the noise
                                 study sweeps/noise.opts, rank independence, resume, measured data,
                                 bad fit options
  harness_test.py slices   EXE   -sweep_slice parts merged with -sweep_merge equal one run
  harness_test.py training EXE   training-data mode (-train_count): layout, prior, motion, reader, resume
  harness_test.py leaks    EXE   valgrind: a sweep whose points, baselines, fits and landscapes fail
                                 (PETSc errors and solve failures) leaks nothing of its own
  harness_test.py faults   EXE   issue 12: a second writer refused, -force and merges that fail leave
                                 the old file, solver options in the resume signature, size and memory
                                 estimates refused, stop latency on a long point, damaged and failed
                                 resumes, provenance and sessions of killed runs
  harness_test.py diskfull EXE   issue 12: a full disk (small tmpfs; skipped, exit 77, where mounting
                                 is not allowed): refused before any work with exit 5, a disk filled
                                 while running loses nothing, the old file survives
  harness_test.py preserved EXE  small variants of sweeps/default.opts and sweeps/fits.opts give the
                                 files in tests/harness/expected/ (written before the issue-9
                                 redesign, regenerated for deliberate changes): same groups,
                                 columns, attributes, non-timing values
  harness_test.py regenerate EXE rewrites those expected files with EXE (deliberate changes only)

Exit status 0 on success; every failed check prints a line starting with FAIL.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
# Results that must not depend on the rank count (timings, rank and wall time may).
TIMING = {"t_setup", "t_min", "t_median", "t_max", "ns_per_step", "ns_per_traj_step", "wall",
          "rank", "session", "fit_wall"}
FAILURES = []

# A sweep with cheap and expensive points (r up to 16), two families, baselines and an order fit.
SWEEP = ["-sweep_family", "dho,anharmonic", "-sweep_r", "0,1,2,16", "-sweep_dt", "0.1,0.05",
         "-sweep_T", "5", "-sweep_B", "1,3", "-sweep_repeats", "1", "-sweep_seed", "7",
         "-sweep_trajectory_stride", "5", "-sweep_quiet"]


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


def slimsweep_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("slimsweep:")]


def check_refused(returncode, stderr, opt, label):
    """Bad input: a non-zero exit and exactly one 'slimsweep:' line, naming the option."""
    lines = slimsweep_lines(stderr)
    check(returncode != 0, f"{label}: exit 0")
    check(len(lines) == 1 and opt in lines[0], f"{label}: expected one 'slimsweep:' line naming {opt}, got {returncode} {stderr.strip()[:400]!r}")


def mpirun(np_, exe, args, **kw):
    return subprocess.run(["mpirun", "-n", str(np_), "--oversubscribe", exe] + args, env=ENV,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def columns(path, table):
    with h5py.File(path, "r") as f:
        return {k: f[table][k][()] for k in f[table]}


def same(a, b):
    if a.dtype.kind == "f":
        return np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)


def compare_results(pa, pb, label, skip=()):
    """Every non-timing dataset (tables, trajectories, fits, landscapes, fit paths) is equal;
    /sessions holds per-run accounting and is skipped."""
    with h5py.File(pa, "r") as fa, h5py.File(pb, "r") as fb:
        names = []
        fa.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        for name in names:
            if name.startswith(("sessions/",) + tuple(skip)) or name.rsplit("/", 1)[-1] in TIMING:
                continue
            if name not in fb:
                check(False, f"{label}: /{name} missing")
                continue
            check(same(fa[name][()], fb[name][()]), f"{label}: /{name} differs")


def check_tasks(path, label, clean=None):
    """/tasks accounts for the file as its result tables do: every task whose row is finished in
    its kind's table (points, baselines, fit_summary; all kinds through `clean`, a complete run of
    the same sweep) has that status in /tasks/status, with its wall time, rank and session, as in
    a normal run; a task not finished there has status -1."""
    tables = {b"point": "points", b"baseline": "baselines", b"fit": "fit_summary"}
    with h5py.File(path, "r") as f:
        t = {k: f["tasks"][k][()] for k in f["tasks"]}
        nranks = max(int(f[f"sessions/{s}"].attrs["nranks"]) for s in f["sessions"])
        for kind, table in tables.items():
            sel = t["kind"] == kind
            if sel.any():
                st = f[table]["status"][()][t["ref"][sel]]
                bad = np.nonzero(t["status"][sel] != st)[0]
                check(len(bad) == 0, f"{label}: /tasks/status of {len(bad)} {kind.decode()} tasks differs from /{table}/status "
                                     f"(refs {t['ref'][sel][bad][:8]}: {t['status'][sel][bad][:8]} vs {st[bad][:8]})")
        nsess = len(f["sessions"])
        # the descriptions of kind and ref name every kind (made from the harness's kind list)
        for col in ("kind", "ref"):
            desc = f["tasks"][col].attrs["description"]
            desc = desc.decode() if isinstance(desc, bytes) else str(desc)
            missing = [k.decode() for k in set(t["kind"]) if not re.search(rf"\b{k.decode()}\b", desc)]
            check(not missing, f"{label}: the description of /tasks/{col} does not name the kinds {missing}: {desc!r}")
    if clean is not None:
        with h5py.File(clean, "r") as f:
            want = f["tasks/status"][()]
        bad = np.nonzero(t["status"] != want)[0]
        check(len(bad) == 0, f"{label}: /tasks/status of {len(bad)} tasks differs from the clean run's "
                             f"(tasks {bad[:8]} kinds {t['kind'][bad][:8]}: {t['status'][bad][:8]} vs {want[bad][:8]})")
    fin = t["status"] >= 0
    ok = np.isfinite(t["wall"][fin]) & (t["wall"][fin] >= 0) & (t["rank"][fin] >= 0) & (t["rank"][fin] < nranks) \
        & (t["session"][fin] >= 0) & (t["session"][fin] < nsess)
    check(ok.all(), f"{label}: {int((~ok).sum())} finished tasks lack their wall time, rank or session")


def test_ranks(exe, tmp):
    files = {}
    for n in (1, 2, 3):
        out = os.path.join(tmp, f"ranks{n}.h5")
        # trajectories and fits together: every kind of task and dataset in one file
        r = mpirun(n, exe, SWEEP + ["-output", out, "-fit_guesses", "2", "-fit_max_it", "5"])
        check(r.returncode == 0, f"{n} ranks: exit {r.returncode}: {r.stderr.strip()[-500:]}")
        check("slimsweep: done:" in r.stdout and "stopped" not in r.stdout, f"{n} ranks: summary lines: {r.stdout[-300:]!r}")
        files[n] = out
        with h5py.File(out, "r") as f:
            st = f["points/status"][()]
            check((st == 0).all(), f"{n} ranks: not every point finished: {st}")
            check(set(f["points/rank"][()]) <= set(range(n)), f"{n} ranks: bad rank column")
            ranks = f["sessions/0/ranks"]
            ntask = len(f["tasks/status"][()])
            check((f["tasks/status"][()] == 0).all(), f"{n} ranks: /tasks not all finished")
            # every task computed exactly once: the per-rank task counts add up to the task count
            check(ranks["tasks"][()].sum() == ntask, f"{n} ranks: {ranks['tasks'][()].sum()} tasks run, {ntask} expected")
            check(len(ranks["busy"][()]) == n and (ranks["busy"][()] > 0).all(), f"{n} ranks: busy times {ranks['busy'][()]}")
            check(f.attrs["nranks"] == n and f.attrs["complete"] == 1, f"{n} ranks: root attributes")
            if n > 1:
                # every rank took work (points alone may all go to one rank on a loaded machine:
                # the queue hands out tasks as ranks ask, by design)
                check((ranks["tasks"][()] > 0).all(), f"{n} ranks: a rank ran no task: {ranks['tasks'][()]}")
    compare_results(files[1], files[2], "1 vs 2 ranks")
    compare_results(files[1], files[3], "1 vs 3 ranks")


def wait_rows(path, count, timeout):
    """Waits until `count` rows of /points have a status (read while the writer runs)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            with h5py.File(path, "r") as f:
                if (f["points/status"][()] >= 0).sum() >= count:
                    return True
        except (OSError, KeyError):
            pass
        time.sleep(0.2)
    return False


def descendants(pid):
    """All processes below pid, from /proc."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def test_kill(exe, tmp):
    # many points of similar, non-trivial cost so a kill lands part-way (the run must last a few
    # seconds: N follows the stepper's speed)
    sweep = ["-sweep_family", "kepler", "-sweep_r", "1,2", "-sweep_dt", "0.01,0.009,0.008,0.007,0.006,0.005",
             "-sweep_N", "20000", "-sweep_B", "1,2", "-sweep_repeats", "2", "-sweep_baselines", "4", "-sweep_quiet",
             "-sweep_flush_interval", "0"]
    full = os.path.join(tmp, "full.h5")
    r = mpirun(2, exe, sweep + ["-output", full])
    check(r.returncode == 0, f"uninterrupted run: exit {r.returncode}: {r.stderr[-500:]}")
    npoints = len(columns(full, "points")["status"])
    for sig in (signal.SIGTERM, signal.SIGKILL):
        out = os.path.join(tmp, f"killed-{sig.name}.h5")
        p = subprocess.Popen(["mpirun", "-n", "2", "--oversubscribe", exe] + sweep + ["-output", out], env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        started = wait_rows(out, 3, 60)
        check(started, f"{sig.name}: no rows appeared")
        if sig == signal.SIGKILL:
            # every rank and mpirun at once, no chance to clean up (Open MPI puts the ranks in
            # process groups of their own, so killing mpirun's group is not enough)
            for pid in descendants(p.pid) + [p.pid]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        else:
            os.kill(p.pid, signal.SIGTERM)  # like a batch scheduler: mpirun passes it on
        p.communicate(timeout=60)
        check(p.returncode != 0, f"{sig.name}: an interrupted run exited 0")
        with h5py.File(out, "r") as f:  # readable as left behind
            st = f["points/status"][()]
        done = int((st >= 0).sum())
        print(f"{sig.name}: {done}/{npoints} points finished before the kill", flush=True)
        check(0 < done < npoints, f"{sig.name}: kill did not land part-way ({done}/{npoints})")
        # finished rows are complete: every column of a finished row is filled in
        cols = columns(out, "points")
        check(np.isfinite(cols["t_min"][st >= 0]).all(), f"{sig.name}: finished rows with missing timing")
        r = mpirun(2, exe, sweep + ["-output", out, "-sweep_resume"])
        check(r.returncode == 0, f"{sig.name}: resume exit {r.returncode}: {r.stderr[-500:]}")
        with h5py.File(out, "r") as f:
            st2 = f["points/status"][()]
            sess = f["points/session"][()]
            check((st2 == 0).all(), f"{sig.name}: resume left points undone: {st2}")
            check(((sess == 1) == (st < 0)).all(), f"{sig.name}: the session column does not say which points the resume computed: {sess} {st}")
            check(f["sessions/1"].attrs["tasks_done_before"] >= done, f"{sig.name}: sessions/1 does not record the resumed tasks")
        check_tasks(out, f"{sig.name} + resume", full)
        compare_results(full, out, f"{sig.name} + resume vs uninterrupted")
    # a resume with options that define a different sweep is refused and leaves the file alone
    before = open(full, "rb").read()
    r = mpirun(1, exe, sweep[:2] + ["dho"] + sweep[3:] + ["-output", full, "-sweep_resume"])
    check(r.returncode != 0 and "-sweep_resume" in r.stderr, f"conflicting resume not refused: {r.returncode} {r.stderr[-300:]}")
    check(open(full, "rb").read() == before, "conflicting resume changed the file")


def test_badinput(exe, tmp):
    good = os.path.join(tmp, "good.h5")
    r = mpirun(1, exe, ["-sweep_N", "10", "-sweep_quiet", "-output", good])
    check(r.returncode == 0, f"baseline good run failed: {r.stderr}")
    before = open(good, "rb").read()
    garbage, nested = os.path.join(tmp, "garbage.opts"), os.path.join(tmp, "nested.opts")
    with open(garbage, "w") as f:
        f.write("-sweep_N 10\nsweep_r 1\n")
    with open(nested, "w") as f:
        f.write("-sweep_N 10\n-options_file " + os.path.join(tmp, "nosuch.opts") + "\n")
    cases = [
        (["-sweep_r", "-1"], "-sweep_r"),
        (["-sweep_r", "0,,1"], "-sweep_r"),
        (["-sweep_r", "1.5"], "-sweep_r"),
        (["-sweep_dt", "0"], "-sweep_dt"),
        (["-sweep_dt", "-0.1"], "-sweep_dt"),
        (["-sweep_dt", "nan"], "-sweep_dt"),
        (["-sweep_dt", "0.1,abc"], "-sweep_dt"),
        (["-sweep_N", "0"], "-sweep_N"),
        (["-sweep_family", "nosuch"], "-sweep_family"),
        (["-sweep_family", ""], "-sweep_family"),
        (["-sweep_solver", "magic"], "-sweep_solver"),
        (["-sweep_sigma", "-1"], "-sweep_sigma"),
        (["-dho_m", "nan"], "-dho_m"),
        (["-dho_q0", "1,2"], "-dho_q0"),
        (["-sweep_rr", "1"], "-sweep_rr"),
        (["-dho_mass", "1"], "-dho_mass"),
        (["-output", "/nonexistent-dir/x.h5"], "-output"),
        (["-output", good], "-output"),  # exists, no -force
        # values PETSc's parsers refuse, named by the one-line handler; integers never wrapped
        (["-dho_lambda", "abc"], "-dho_lambda"),
        (["-dho_q0", "abc"], "-dho_q0"),
        (["-sweep_seed", "abc"], "-sweep_seed"),
        (["-sweep_repeats", "1.5"], "-sweep_repeats"),
        (["-sweep_quiet", "maybe"], "-sweep_quiet"),
        (["-sweep_N", "2147483648"], "-sweep_N"),
        (["-sweep_B", "4294967297"], "-sweep_B"),
        (["-sweep_N", "3e9"], "-sweep_N"),
        # options read inside every task are read before any work too
        (["-slim_step_rtol", "abc"], "-slim_step_rtol"),
        (["-slim_step_maxit", "0"], "-slim_step_maxit"),
        (["-slim_snes_type", "nosuch"], "-slim_snes_type"),
        (["-rk_ts_type", "nosuch"], "-rk_ts_type"),
        # duplicate list values, a list option without its value
        (["-sweep_r", "0,0"], "-sweep_r"),
        (["-sweep_N", "10,1e1"], "-sweep_N"),
        (["-sweep_family", "dho,DHO"], "-sweep_family"),
        (["-sweep_solver", "snes,snes"], "-sweep_solver"),
        (["-sweep_r"], "-sweep_r"),
        # issue 12: values that used to fail only at run time, single values beyond the index
        # type, repeated real axis values, resource options without a value
        (["-sweep_baselines", "xyz"], "-sweep_baselines"),
        (["-sweep_baselines", "none,4"], "-sweep_baselines"),
        (["-sweep_baselines", "2a,sympl2"], "-sweep_baselines"),  # symplectic on the damped dho
        (["-sweep_family", "kepler", "-fit_grid", "1000", "-fit_loss", "acceleration", "-fit_guesses", "1"], "-fit_grid"),
        (["-landscape_n", "100000", "-landscape_params", "m,k"], "-landscape_n"),
        (["-sweep_seed", "4294967297"], "-sweep_seed"),
        (["-sweep_dt", "0.1,0.1"], "-sweep_dt"),
        (["-sweep_progress_interval"], "-sweep_progress_interval"),
        # options files: missing, a directory, binary, a line that is not an option, a missing
        # file named inside another (PETSc would print a traceback from PetscInitialize)
        (["-options_file", os.path.join(tmp, "nosuch.opts")], "-options_file"),
        (["-options_file", tmp], "-options_file"),
        (["-options_file", exe], "-options_file"),
        (["-options_file", garbage], "-options_file"),
        (["-options_file", nested], "-options_file"),
    ]
    for args, opt in cases:
        full = ["-sweep_N", "10", "-sweep_quiet"] + args
        if "-output" not in args:
            full += ["-output", os.path.join(tmp, "bad.h5")]
        # every case as a plain (singleton) process; a few under mpirun -n 2 as well, where every
        # rank sees the bad input but only one line must be printed
        for n in ((0, 2) if opt in ("-sweep_r", "-output", "-sweep_family", "-options_file", "-dho_lambda") else (0,)):
            r = mpirun(n, exe, full) if n else subprocess.run([exe] + full, env=ENV, stdout=subprocess.PIPE,
                                                               stderr=subprocess.PIPE, text=True)
            check_refused(r.returncode, r.stderr, opt, f"{args} on {n} ranks")
        check(not os.path.exists(os.path.join(tmp, "bad.h5")), f"{args}: left a file behind")
    check(open(good, "rb").read() == before, "an existing results file was modified by a refused run")
    # a diverging solve is not bad input: the point is recorded as failed, the sweep completes,
    # one line names the failed point and the reason, and the exit status (4) says so
    div = os.path.join(tmp, "diverging.h5")
    r = mpirun(2, exe, ["-sweep_family", "kepler,dho", "-sweep_r", "1,2", "-sweep_N", "20", "-sweep_dt", "0.01",
                        "-slim_step_maxit", "1", "-sweep_quiet", "-output", div])
    lines = slimsweep_lines(r.stderr)
    check(r.returncode == 4, f"diverging solve: exit {r.returncode}, expected 4")
    check(len(lines) == 1 and "DIVERGED_MAX_IT" in lines[0] and "family kepler" in lines[0], f"diverging solve: {lines}")
    with h5py.File(div, "r") as f:
        st, fam = f["points/status"][()], f["points/family"][()]
        check(f.attrs["complete"] == 1, "diverging solve: sweep not complete")
        check(((st == 1) == (fam == b"kepler")).all(), f"diverging solve: statuses {st} for {fam}")
        check((f["points/fail_reason"][()][st == 1] == -5).all(), "diverging solve: fail_reason is not SNES_DIVERGED_MAX_IT")
    r = mpirun(1, exe, ["-sweep_N", "10", "-sweep_quiet", "-output", good, "-force"])
    check(r.returncode == 0, "-force did not replace the file")


def test_help(exe, tmp):
    r = mpirun(1, exe, ["-help"])
    check(r.returncode == 0, f"-help exit {r.returncode}")
    text = r.stdout + r.stderr
    for opt in ["-output", "-force", "-sweep_family", "-sweep_r", "-sweep_dt", "-sweep_N", "-sweep_T",
                "-sweep_sigma", "-sweep_B", "-sweep_solver", "-sweep_baselines", "-sweep_repeats",
                "-sweep_seed", "-sweep_trajectory_stride", "-sweep_resume", "-sweep_quiet",
                "-dho_m", "-dho_k", "-dho_lambda", "-anharmonic_alpha", "-kepler_GM", "-pr_beta", "-pr_c",
                "-slim_solver", "-slim_step_rtol", "-slim_step_maxit", "-slim_snes_type", "-rk_ts_type",
                "-fit_guesses", "-fit_loss", "-fit_method", "-fit_params", "-fit_box", "-fit_box_mode",
                "-fit_eps0", "-fit_max_it", "-fit_tol", "-fit_obs_stride", "-fit_grid", "-fit_obs_file",
                "-fit_obs_dataset", "-fit_store_path", "-fit_slice_n", "-fit_tao_type", "-fit_tao_gatol",
                "-fit_horizons", "-fit_restarts", "-fit_restart_ls",
                "-landscape_params", "-landscape_n", "-landscape_box", "-sweep_dry_run", "-sweep_allow_large"]:
        check(opt in text, f"-help does not list {opt}")


SWEEPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sweeps")
# A small fit sweep touching every fit output: both losses and methods, slice, landscape in
# blocks of rows, parameter paths.
FITS_SMALL = ["-sweep_family", "dho,anharmonic", "-sweep_r", "1", "-sweep_dt", "0.1", "-sweep_N", "30",
              "-sweep_sigma", "0,0.01", "-sweep_baselines", "none", "-sweep_repeats", "0", "-sweep_seed", "5",
              "-fit_guesses", "4", "-fit_loss", "trajectory,acceleration", "-fit_method", "gd,tao",
              "-fit_max_it", "200", "-fit_slice_n", "5", "-landscape_params", "m,k", "-landscape_n", "8",
              "-landscape_rows_per_task", "3", "-fit_store_path", "-sweep_quiet"]


def fit_rows(f, point, loss, method):
    """Row of /fit_summary and the /fits rows of one (point, loss, method)."""
    fs = f["fit_summary"]
    K = int(f["fits"]["point"].shape[0] // fs["point"].shape[0])
    for row in range(fs["point"].shape[0]):
        if (fs["point"][row] == point and fs["loss"][row].decode() == loss
                and fs["method"][row].decode() == method):
            return row, slice(row * K, (row + 1) * K)
    raise KeyError((point, loss, method))


def test_fits(exe, tmp):
    # --- issue 4 acceptance, from the sweep file as shipped ---
    out = os.path.join(tmp, "fits.h5")
    t0 = time.time()
    r = mpirun(2, exe, ["-options_file", os.path.join(SWEEPS, "fits.opts"), "-output", out, "-sweep_quiet"])
    print(f"sweeps/fits.opts on 2 ranks: {time.time() - t0:.1f} s", flush=True)
    check(r.returncode == 0, f"fits.opts: exit {r.returncode}: {r.stderr[-500:]}")
    with h5py.File(out, "r") as f:
        fam = [x.decode() for x in f["points/family"][()]]
        sig = f["points/sigma"][()]
        pt = {(fam[i], sig[i]): i for i in range(len(fam))}
        check((f["fit_summary/status"][()] == 0).all(), "fits.opts: a fit task failed")
        check((f["fits/status"][()] >= 0).all(), "fits.opts: fits not computed")
        fits = f["fits"]
        for loss in ("trajectory", "acceleration"):
            row, rows = fit_rows(f, pt[("dho", 0.0)], loss, "gd")
            conv = fits["status"][rows] == 0
            err = fits["ratio_err"][rows][:, :2]
            ok = int((conv & (err <= 1e-4).all(axis=1)).sum())
            print(f"dho sigma=0 {loss} gd: {ok}/{len(conv)} converged with k/m and lambda/m within 1e-4; "
                  f"median errors {np.median(err, axis=0)}", flush=True)
            check(ok >= 0.9 * len(conv), f"dho sigma=0 {loss}: only {ok}/{len(conv)} recovered k/m, lambda/m to 1e-4")
            check(f["fit_summary/n_recovered"][row] == ok, f"dho sigma=0 {loss}: n_recovered disagrees with /fits")
        row, rows = fit_rows(f, pt[("dho", 0.01)], "trajectory", "gd")
        conv = fits["status"][rows] == 0
        err = fits["ratio_err"][rows][:, 0]
        print(f"dho sigma=0.01 trajectory gd: {int(conv.sum())}/{len(conv)} converged, k/m errors: "
              f"median {np.median(err[conv]):.2e} max {err[conv].max():.2e}", flush=True)
        check(conv.sum() >= 0.9 * len(conv) and (err[conv] < 0.01).all(), "dho sigma=0.01 trajectory: k/m not within 1 %")
        row, rows = fit_rows(f, pt[("anharmonic", 0.0)], "acceleration", "gd")
        conv = fits["status"][rows] == 0
        err = fits["ratio_err"][rows][:, 1]
        ok = int((conv & (err <= 1e-4)).sum())
        print(f"anharmonic sigma=0 acceleration gd: {ok}/{len(conv)} recovered alpha/m to 1e-4, "
              f"median error {np.median(err):.2e}", flush=True)
        check(ok >= 0.9 * len(conv), f"anharmonic: alpha/m recovered by only {ok}/{len(conv)} fits")
        check([x.decode() for x in f["fit_summary/ratio_names"][row].split(b",")] == ["k/m", "alpha/m", "lambda/m"],
              "anharmonic ratio names")
        for name in f["landscape"]:
            for loss in f["landscape"][name]:
                g = f["landscape"][name][loss]
                check((g["status"][()] == 0).all() and np.isfinite(g["loss"][()]).all(),
                      f"/landscape/{name}/{loss} incomplete")
                check(g.attrs["params"] == "m,k" and len(g.attrs["p0_values"]) == 64, f"/landscape/{name}/{loss} attributes")

    # --- the noise study: RMS change of the loss along the slice grows with sigma ---
    out = os.path.join(tmp, "noise.h5")
    t0 = time.time()
    r = mpirun(2, exe, ["-options_file", os.path.join(SWEEPS, "noise.opts"), "-output", out, "-sweep_quiet"])
    print(f"sweeps/noise.opts on 2 ranks: {time.time() - t0:.1f} s", flush=True)
    check(r.returncode == 0, f"noise.opts: exit {r.returncode}: {r.stderr[-500:]}")
    with h5py.File(out, "r") as f:
        fs = f["fit_summary"]
        check((fs["status"][()] == 0).all(), "noise.opts: a fit task failed")
        for loss in ("trajectory", "acceleration"):
            sel = [i for i in range(len(fs["loss"])) if fs["loss"][i].decode() == loss]
            sigma = fs["sigma"][sel]
            rms = fs["slice_rms_change"][sel]
            order = np.argsort(sigma)
            print(f"noise {loss}: sigma {sigma[order]} -> RMS loss change {rms[order]}", flush=True)
            check(rms[order][0] == 0 and (np.diff(rms[order]) > 0).all(), f"noise {loss}: RMS change not increasing with sigma")
            clean = [f["landscape"][str(fs["point"][i])][loss]["loss_clean"][()] for i in sel]
            check(all(np.array_equal(c, clean[0]) for c in clean), f"noise {loss}: noise-free landscapes differ between sigmas")

    # --- results do not depend on the rank count (fits, summaries, slices, landscapes, paths) ---
    files = {}
    for n in (1, 2, 3):
        files[n] = os.path.join(tmp, f"small{n}.h5")
        r = mpirun(n, exe, FITS_SMALL + ["-output", files[n]])
        check(r.returncode == 0, f"small fits on {n} ranks: exit {r.returncode}: {r.stderr[-500:]}")
    with h5py.File(files[3], "r") as f:
        check(len(set(f["fit_summary/rank"][()])) > 1, "3 ranks: the fit tasks were not spread over the ranks")
        check(f["fit_paths/0"].shape == (4, 201, 4), f"fit_paths shape {f['fit_paths/0'].shape}")
        tasks = f["sessions/0/ranks/tasks"][()].sum()
        ntask = 4 + 4 * 4 + 4 * 2 * 3  # points, fit tasks (point x config), landscape blocks
        check(tasks == ntask, f"{tasks} tasks run, {ntask} expected")
    compare_results(files[1], files[2], "fits: 1 vs 2 ranks")
    compare_results(files[1], files[3], "fits: 1 vs 3 ranks")

    # --- resume: a finished file has nothing left to do; different fit options are refused ---
    r = mpirun(2, exe, FITS_SMALL + ["-output", files[2], "-sweep_resume"])
    check(r.returncode == 0, f"resume of a finished fit file: exit {r.returncode}: {r.stderr[-300:]}")
    with h5py.File(files[2], "r") as f:
        check(f["sessions/1"].attrs["tasks_done_before"] == 4 + 16 + 24, "resume recomputed fit tasks")
    compare_results(files[1], files[2], "fits: resumed finished file")
    before = open(files[2], "rb").read()
    for change in (["-fit_guesses", "5"], ["-fit_loss", "acceleration"], ["-fit_eps0", "0.1"], ["-landscape_n", "9"]):
        r = subprocess.run([exe] + FITS_SMALL + change + ["-output", files[2], "-sweep_resume"], env=ENV,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        check(r.returncode != 0 and "-sweep_resume" in r.stderr, f"resume with {change} not refused: {r.stderr[-300:]}")
    check(open(files[2], "rb").read() == before, "a refused resume changed the file")

    # --- SIGTERM part-way through fit tasks, resume, same results as an uninterrupted run ---
    # twelve fit tasks of a few tenths of a second each
    nslow = 12
    slow = ["-sweep_family", "anharmonic", "-sweep_r", "1", "-sweep_dt", "0.1", "-sweep_N", "30",
            "-sweep_sigma", ",".join(f"{0.01 * (i + 1):g}" for i in range(nslow)), "-sweep_baselines", "none",
            "-sweep_repeats", "0", "-fit_guesses", "8", "-fit_max_it", "1500", "-sweep_quiet"]
    full = os.path.join(tmp, "slow-full.h5")
    r = mpirun(2, exe, slow + ["-output", full])
    check(r.returncode == 0, f"slow fits: exit {r.returncode}: {r.stderr[-300:]}")
    killed = os.path.join(tmp, "slow-killed.h5")
    p = subprocess.Popen(["mpirun", "-n", "2", "--oversubscribe", exe] + slow + ["-output", killed], env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    t0 = time.time()
    while time.time() - t0 < 60:
        try:
            with h5py.File(killed, "r") as f:
                if (f["fit_summary/status"][()] >= 0).sum() >= 1:
                    break
        except (OSError, KeyError):
            pass
        time.sleep(0.05)
    # to the ranks themselves: mpirun takes about a second to pass a SIGTERM on, longer than these
    # tasks (test_kill covers the path through mpirun)
    for pid in descendants(p.pid):
        try:
            with open(f"/proc/{pid}/comm") as c:
                if c.read().strip() == "slimsweep":
                    os.kill(pid, signal.SIGTERM)
        except (OSError, ProcessLookupError):
            pass
    p.communicate(timeout=60)
    with h5py.File(killed, "r") as f:
        done = int((f["fit_summary/status"][()] >= 0).sum())
        fits_done = f["fits/status"][()] >= 0
    print(f"SIGTERM: {done}/{nslow} fit tasks finished before the signal took effect", flush=True)
    check(p.returncode != 0 and 0 < done < nslow, f"SIGTERM did not land part-way through the fits ({done}/{nslow}, exit {p.returncode})")
    check(fits_done.sum() == 8 * done, "a fit task's /fits rows and its summary status disagree")
    r = mpirun(2, exe, slow + ["-output", killed, "-sweep_resume"])
    check(r.returncode == 0, f"resume after SIGTERM: exit {r.returncode}: {r.stderr[-300:]}")
    compare_results(full, killed, "fits: SIGTERM + resume vs uninterrupted")

    # --- measured observations from an HDF5 file (the oscillator's exact solution) ---
    obs = os.path.join(tmp, "obs.h5")
    t = np.arange(51) * 0.1
    g, w = 0.1, np.sqrt(1 - 0.0025)  # lambda/m = 0.1, k/m = 1: q = e^{-g t/2} (cos wt + g/(2w) sin wt)
    q = np.exp(-g * t / 2) * (np.cos(w * t) + g / (2 * w) * np.sin(w * t))
    v = np.exp(-g * t / 2) * (-(w + g * g / (4 * w)) * np.sin(w * t))
    with h5py.File(obs, "w") as f:
        f.create_dataset("runs/a", data=np.stack([t, q, v], axis=1))
    out = os.path.join(tmp, "measured.h5")
    r = mpirun(2, exe, ["-sweep_family", "dho", "-sweep_r", "1", "-sweep_dt", "0.1", "-sweep_N", "50",
                        "-sweep_baselines", "none", "-sweep_repeats", "0", "-fit_guesses", "8",
                        "-fit_obs_file", obs, "-fit_obs_dataset", "runs/a", "-sweep_quiet", "-output", out])
    check(r.returncode == 0, f"measured data: exit {r.returncode}: {r.stderr[-300:]}")
    with h5py.File(out, "r") as f:
        med = f["fit_summary/ratio_median"][0]
        print(f"measured (exact-solution) data: median k/m {med[0]:.7f}, lambda/m {med[1]:.7f}", flush=True)
        check(abs(med[0] - 1) < 1e-4 and abs(med[1] - 0.1) < 1e-4, f"measured data: ratios {med}")
        check(np.isnan(f["fit_summary/theta_true"][0]).all() and np.isnan(f["fits/ratio_err"][()]).all(),
              "measured data: no truth, so no errors")

    # --- bad fit options: one line naming the option, non-zero exit, no file ---
    cases = [
        (["-fit_loss", "nosuch"], "-fit_loss"),
        (["-fit_method", "gd,nosuch"], "-fit_method"),
        (["-fit_params", "m,nosuch"], "-fit_params"),
        (["-fit_guesses", "-1"], "-fit_guesses"),
        (["-fit_eps0", "0"], "-fit_eps0"),
        (["-fit_tao_type", "nosuch"], "-fit_tao_"),
        (["-landscape_params", "m"], "-landscape_params"),
        (["-landscape_params", "m,nosuch"], "-landscape_params"),
        (["-fit_obs_file", obs], "-fit_obs_file"),
        (["-fit_obs_file", "/nonexistent/x.h5", "-fit_obs_dataset", "a"], "-fit_obs_file"),
        (["-fit_obs_file", obs, "-fit_obs_dataset", "runs/nosuch"], "-fit_obs_file"),
        (["-fit_box_mode", "absolute"], "-fit_box_mode"),
        (["-fit_guesse", "3"], "-fit_guesse"),
        (["-landscape_nn", "3"], "-landscape_nn"),
        (["-fit_guesses", "abc"], "-fit_guesses"),
        (["-fit_eps0", "1e-3x"], "-fit_eps0"),
        (["-fit_params", "m,m"], "-fit_params"),
        (["-fit_loss"], "-fit_loss"),
        (["-fit_horizons", "0.5"], "-fit_horizons"),
        (["-fit_horizons", "0.5,0.3,1"], "-fit_horizons"),
        (["-fit_horizons", "0,1"], "-fit_horizons"),
        (["-fit_restarts", "-1"], "-fit_restarts"),
        (["-fit_restart_ls", "nosuch"], "-fit_restart_ls"),
    ]
    # all at once: each is a short singleton run that mostly waits for MPI to start
    procs = []
    for i, (args, opt) in enumerate(cases):
        bad = os.path.join(tmp, f"bad{i}.h5")
        procs.append((args, opt, bad, subprocess.Popen([exe, "-sweep_N", "10", "-sweep_quiet", "-fit_guesses", "2", "-output", bad] + args,
                                                       env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    for args, opt, bad, p in procs:
        _, err = p.communicate(timeout=120)
        check_refused(p.returncode, err, opt, f"{args}")
        check(not os.path.exists(bad), f"{args}: left a file behind")


def test_slices(exe, tmp):
    """-sweep_slice parts (as a job array computes them) merged with -sweep_merge equal one run;
    slimsched replays the merged file's task times."""
    sweep = SWEEP + ["-fit_guesses", "2", "-fit_max_it", "5", "-sweep_sigma", "0"]
    full = os.path.join(tmp, "full.h5")
    r = mpirun(2, exe, sweep + ["-output", full])
    check(r.returncode == 0, f"full run: {r.stderr[-400:]}")
    parts = []
    for i in range(3):
        part = os.path.join(tmp, f"part{i}.h5")
        r = mpirun(1 + i % 2, exe, sweep + ["-output", part, "-sweep_slice", f"{i}/3"])
        check(r.returncode == 0, f"slice {i}/3: {r.stderr[-400:]}")
        with h5py.File(part, "r") as f:
            st = f["tasks/status"][()]
            mine = np.arange(len(st)) % 3 == i
            check((st[mine] >= 0).all() and (st[~mine] < 0).all(), f"slice {i}/3 computed the wrong tasks")
            check(f.attrs["complete"] == 1 and f.attrs["slice"] == f"{i}/3", f"slice {i}/3 attributes")
        parts.append(part)
    merged = os.path.join(tmp, "merged.h5")
    r = mpirun(1, exe, sweep + ["-output", merged, "-sweep_merge", ",".join(parts)])
    check(r.returncode == 0, f"merge: {r.stderr[-400:]}")
    compare_results(full, merged, "slices merged vs one run")
    with h5py.File(merged, "r") as f:
        check(f.attrs["complete"] == 1 and f["sessions/0"].attrs["kind"] == "merge", "merged file attributes")
    # a part of another sweep is refused, and no output is left
    other = os.path.join(tmp, "other.h5")
    mpirun(1, exe, SWEEP[:2] + ["dho"] + SWEEP[3:] + ["-output", other])
    bad = os.path.join(tmp, "bad.h5")
    r = mpirun(1, exe, sweep + ["-output", bad, "-sweep_merge", parts[0] + "," + other])
    check(r.returncode != 0 and "-sweep_merge" in r.stderr, f"merging a foreign part was not refused: {r.stderr[-300:]}")
    # the scheduling simulation on the measured task times
    sched = os.path.join(os.path.dirname(exe), "slimsched")
    sim = os.path.join(tmp, "sim.h5")
    r = subprocess.run([sched, "-input", full, "-ranks", "1,2,3,1000", "-output", sim], env=ENV,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check(r.returncode == 0, f"slimsched: {r.stderr[-300:]}")
    with h5py.File(full, "r") as f:
        wall = f["tasks/wall"][()]
    with h5py.File(sim, "r") as f:
        mk, ideal, eff = f["simulation/makespan"][()], f["simulation/ideal"][()], f["simulation/efficiency"][()]
    check(abs(mk[0] - wall.sum()) <= 1e-9 * wall.sum() and abs(eff[0] - 1) < 1e-12, f"slimsched at 1 rank: {mk[0]} vs {wall.sum()}")
    check((mk >= ideal * (1 - 1e-12)).all(), f"slimsched makespans below the ideal: {mk} {ideal}")
    check(abs(mk[-1] - wall.max()) <= 1e-12 * wall.max(), "slimsched with more ranks than tasks is not the longest task")


# The options of the committed files in tests/harness/expected/ (see its README.md).
PRESERVED = {
    "default_small": ["-options_file", "sweeps/default.opts", "-sweep_r", "0,1", "-sweep_dt", "0.2,0.1",
                      "-sweep_T", "4", "-sweep_sigma", "0,0.1", "-sweep_repeats", "0", "-fit_max_it", "20",
                      "-landscape_n", "4", "-fit_slice_n", "3"],
    "fits_small": ["-options_file", "sweeps/fits.opts", "-sweep_N", "20", "-fit_guesses", "3",
                   "-fit_max_it", "40", "-landscape_n", "6", "-fit_slice_n", "5", "-fit_grid", "4"],
}


TRAIN = ["-sweep_family", "dho", "-sweep_r", "2", "-sweep_dt", "0.1", "-sweep_N", "200", "-sweep_repeats", "0",
         "-sweep_baselines", "none", "-sweep_solver", "dense", "-sweep_seed", "11", "-sweep_quiet",
         "-train_count", "2000", "-train_stride", "10", "-train_dho_m", "0.5,2", "-train_dho_k", "0,2",
         "-train_dho_k_zero", "0.05", "-train_dho_lambda", "0,2", "-train_dho_lambda_zero", "0.05"]


def exact_dho(m, k, lam, t):
    """q(t) of m q'' + lam q' + k q = 0 from q = 1, q' = 0 (every damping regime)."""
    g, w2 = lam / (2 * m), k / m - (lam / (2 * m)) ** 2
    w = np.sqrt(complex(w2))
    if abs(w) < 1e-12:
        return np.exp(-g * t) * (1 + g * t)
    return np.real(np.exp(-g * t) * (np.cosh(1j * w * t) + g * np.sinh(1j * w * t) / (1j * w)))


def test_training(exe, tmp):
    """Training-data sweep mode (task kind train, docs/training.md): the layout, the prior, the
    motion against the exact solution, independence of the block split and the rank count,
    training_batches reading whole chunks, resume, and bad options."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(here)), "analysis"))
    import slimresults as sr
    a, b = os.path.join(tmp, "a.h5"), os.path.join(tmp, "b.h5")
    r = mpirun(2, exe, TRAIN + ["-train_block", "512", "-output", a])
    check(r.returncode == 0, f"training run: exit {r.returncode}: {r.stderr[-500:]}")
    r = mpirun(1, exe, TRAIN + ["-train_block", "300", "-output", b])
    check(r.returncode == 0, f"training run (1 rank, blocks of 300): exit {r.returncode}: {r.stderr[-500:]}")
    with h5py.File(a, "r") as f, h5py.File(b, "r") as g:
        A, B = f["training/dho"], g["training/dho"]
        check(A["theta"].shape == (2000, 3) and A["q"].shape == (2000, 21, 1) and A["fail_step"].shape == (2000,),
              f"training shapes {A['theta'].shape} {A['q'].shape}")
        check(A["theta"].chunks == (256, 3) and A["q"].chunks == (256, 21, 1), f"chunks {A['theta'].chunks} {A['q'].chunks}")
        check(list(A["blocks/status"][()]) == [0, 0, 0, 0] and set(A["blocks/rank"][()]) == {0, 1},
              f"blocks: status {A['blocks/status'][()]}, ranks {A['blocks/rank'][()]}")
        check(A.attrs["param_names"] == "m,k,lambda" and "k: uniform [0, 2], P(0) = 0.05" in A.attrs["prior"]
              and A.attrs["stride"] == 10 and A.attrs["N"] == 200, f"attributes {dict(A.attrs)}")
        th, q = A["theta"][()], A["q"][()]
        check(np.allclose(A["t"][()], np.arange(21) * 1.0), f"t {A['t'][()]}")
        # the prior: m in [0.5, 2], k and lambda in [0, 2] with 5 % exact zeros (4 sigma band)
        zk, zl = (th[:, 1] == 0).mean(), (th[:, 2] == 0).mean()
        band = 4 * np.sqrt(0.05 * 0.95 / 2000)
        check(th[:, 0].min() >= 0.5 and th[:, 0].max() <= 2 and abs(zk - 0.05) < band and abs(zl - 0.05) < band,
              f"prior: m range {th[:, 0].min()}..{th[:, 0].max()}, zeros k {zk}, lambda {zl}")
        # the same samples and motion whatever the blocks and ranks
        check(np.array_equal(th, B["theta"][()]), "theta depends on the block split or the rank count")
        check(np.allclose(q, B["q"][()], rtol=0, atol=1e-12), f"q depends on the split: {np.abs(q - B['q'][()]).max()}")
        # r = 2 at dt = 0.1 is accurate to ~1e-9: every 100th sample against the exact solution
        t = A["t"][()]
        err = max(np.abs(q[i, :, 0] - exact_dho(*th[i], t)).max() for i in range(0, 2000, 100))
        check(err < 1e-6 and (A["fail_step"][()] == -1).all(), f"motion vs exact DHO: {err}")
        full = {s: A[s][()] for s in ("theta", "q", "pi", "qdot", "fail_step")}
    # the reader: whole chunks, in order, t once
    got = list(sr.training_batches(a, "dho"))
    check([len(d["theta"]) for d in got] == [256] * 7 + [208], f"batches {[len(d['theta']) for d in got]}")
    check("t" in got[0] and all("t" not in d for d in got[1:]), "t not in the first batch only")
    for s, v in full.items():
        check(np.array_equal(np.concatenate([d[s] for d in got]), v), f"training_batches: {s} differs from the file")
    # rows of an unfinished block are left out
    c = os.path.join(tmp, "c.h5")
    shutil.copy(a, c)
    with h5py.File(c, "r+") as f:
        f["training/dho/blocks/status"][1] = -1
    rows = np.concatenate([d["theta"] for d in sr.training_batches(c, "dho")])
    check(len(rows) == 1488 and np.array_equal(rows, np.concatenate([full["theta"][:512], full["theta"][1024:]])),
          f"unfinished block not left out: {len(rows)} rows")
    # resume: a finished file needs nothing; the block computed again after its status is cleared
    r = mpirun(2, exe, TRAIN + ["-train_block", "512", "-sweep_resume", "-output", c])
    check(r.returncode == 0, f"resume: exit {r.returncode}: {r.stderr[-500:]}")
    with h5py.File(c, "r") as f:
        check(list(f["training/dho/blocks/status"][()]) == [0] * 4 and np.array_equal(f["training/dho/q"][()], full["q"]),
              "resume did not recompute the unfinished block identically")
    # a stop in the middle of a block abandons it (status unset, not failed); a resume completes it
    d, longer = os.path.join(tmp, "d.h5"), TRAIN + ["-sweep_N", "5000", "-train_block", "256"]
    p = subprocess.Popen(["mpirun", "-n", "2", "--oversubscribe", exe] + longer + ["-output", d], env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    p.send_signal(signal.SIGUSR1)
    out, err = p.communicate(timeout=60)
    check(p.returncode in (0, 3) and "failed" not in err, f"stopped training run: exit {p.returncode}: {err[-300:]}")
    with h5py.File(d, "r") as f:
        st = f["training/dho/blocks/status"][()]
        check(set(st) <= {0, -1}, f"a stopped training block was recorded as failed: {st}")
    r = mpirun(2, exe, longer + ["-sweep_resume", "-output", d])
    check(r.returncode == 0, f"resume of the stopped training run: exit {r.returncode}: {r.stderr[-300:]}")
    with h5py.File(d, "r") as f:
        check((f["training/dho/blocks/status"][()] == 0).all(), "resume left training blocks unfinished")
    check_tasks(d, "resumed training run")
    r = mpirun(1, exe, TRAIN + ["-train_block", "512", "-train_dho_k", "0,3", "-sweep_resume", "-output", c])
    check_refused(r.returncode, r.stderr, "-sweep_resume", "resume with another prior")
    for args, opt in ((["-train_stride", "0"], "-train_stride"), (["-train_count", "-5"], "-train_count"),
                      (["-train_dho_k", "2,1"], "-train_dho_k"), (["-train_dho_mass", "1,2"], "-train_dho_mass"),
                      (["-sweep_dt", "0.1,0.05"], "-train_count")):
        r = mpirun(1, exe, TRAIN + args + ["-output", os.path.join(tmp, "bad.h5")])
        check_refused(r.returncode, r.stderr, opt, f"bad option {args}")
        check(not os.path.exists(os.path.join(tmp, "bad.h5")), f"{args}: a file was written")


def regenerate(exe):
    """Writes tests/harness/expected/<name>.h5 with the build exe (2 ranks): only for a deliberate
    change of the file's contents (tests/harness/expected/README.md says which)."""
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.dirname(os.path.dirname(here))
    for name, opts in PRESERVED.items():
        out = os.path.join(here, "expected", name + ".h5")
        r = mpirun(2, exe, opts + ["-sweep_quiet", "-force", "-output", out], cwd=src)
        check(r.returncode == 0, f"{name}: exit {r.returncode}: {r.stderr[-500:]}")
        print(f"wrote {out}")


def test_preserved(exe, tmp):
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.dirname(os.path.dirname(here))
    compare = [sys.executable, os.path.join(here, "compare_results.py")]
    for name, opts in PRESERVED.items():
        expected, out = os.path.join(here, "expected", name + ".h5"), os.path.join(tmp, name + ".h5")
        r = mpirun(2, exe, opts + ["-sweep_quiet", "-output", out], cwd=src)
        check(r.returncode == 0, f"{name}: exit {r.returncode}: {r.stderr[-500:]}")
        r = subprocess.run(compare + [expected, out], stdout=subprocess.PIPE, text=True)
        check(r.returncode == 0, f"{name}: differs from the expected file:\n{r.stdout[-2000:]}")
    # the comparison itself must be able to fail: one perturbed value is caught
    with h5py.File(out, "r+") as f:
        d = f["fit_summary/loss_true"]
        v = d[()]
        v[np.nonzero(v)[0][0]] *= 1 + 1e-6
        d[...] = v
    r = subprocess.run(compare + [expected, out], stdout=subprocess.PIPE, text=True)
    check(r.returncode == 1 and "fit_summary/loss_true" in r.stdout, f"a perturbed value was not caught: {r.stdout[-500:]}")


def definitely_lost_in(log, exe):
    """The valgrind 'definitely lost' records with a frame in exe's own code (not only main:
    MPI's and PETSc's initialisation keep a few blocks for the life of the process)."""
    name = os.path.basename(exe)
    ours = []
    for rec in log.split("definitely lost in loss record")[1:]:
        frames = [l for l in rec.splitlines()[:40] if "by 0x" in l or "at 0x" in l]
        frames = frames[:next((i for i, l in enumerate(frames) if ": main " in l), len(frames))]
        if any(f"({name})" in l or f"/{name})" in l for l in frames):
            ours.append("\n".join(frames))
    return ours


def test_leaks(exe, tmp):
    out, log = os.path.join(tmp, "fail.h5"), os.path.join(tmp, "valgrind.log")
    # dho with m = 0: a singular momentum map, a PETSc error in its point, fit data and
    # landscape; anharmonic with one Newton iteration per step: a solve failure
    args = ["-sweep_family", "dho,anharmonic", "-dho_m", "0", "-sweep_r", "1", "-sweep_dt", "0.5",
            "-sweep_N", "10", "-slim_step_maxit", "1", "-sweep_baselines", "4", "-fit_guesses", "2",
            "-fit_max_it", "5", "-fit_slice_n", "3", "-landscape_params", "m,k", "-landscape_n", "3",
            "-sweep_quiet", "-output", out]
    r = subprocess.run(["valgrind", "--leak-check=full", "--show-leak-kinds=definite", "--num-callers=40",
                        f"--log-file={log}", exe] + args, env=ENV, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    check(r.returncode == 4, f"failing sweep under valgrind: exit {r.returncode}, expected 4: {r.stderr[-500:]}")
    with h5py.File(out, "r") as f:
        check((f["points/status"][()] == 1).all(), "not every point failed")
        check((f["fit_summary/status"][()] == 1).any(), "no fit task failed")
        check(any((f[f"landscape/{p}/trajectory/status"][()] == 1).all() for p in f["landscape"]), "no landscape task failed")
    text = open(log).read()
    check("ERROR SUMMARY" in text, "valgrind wrote no summary")
    for rec in definitely_lost_in(text, exe):
        check(False, f"leak in slimsweep's code:\n{rec}")
    # a failed write (the 100th: a /fits row of the second fit task, after the first committed
    # its rows) and the resume that completes /tasks from the tables leak nothing either
    out = os.path.join(tmp, "writefail.h5")
    args = ["-sweep_family", "dho", "-sweep_r", "1", "-sweep_dt", "0.1", "-sweep_N", "50", "-sweep_sigma", "0,0.01",
            "-sweep_baselines", "none", "-sweep_repeats", "0", "-fit_guesses", "2", "-fit_max_it", "20",
            "-landscape_params", "m,k", "-landscape_n", "4", "-landscape_rows_per_task", "2", "-sweep_quiet", "-output", out]
    for status, extra, env in ((5, [], dict(ENV, SLIM_TEST_FAIL_WRITE="100")), (0, ["-sweep_resume"], ENV)):
        r = subprocess.run(["valgrind", "--leak-check=full", "--show-leak-kinds=definite", "--num-callers=40",
                            f"--log-file={log}", exe] + args + extra, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        check(r.returncode == status, f"write failure {extra} under valgrind: exit {r.returncode}, expected {status}: {r.stderr[-500:]}")
        if not extra:
            with h5py.File(out, "r") as f:
                check(f["fit_summary/status"][0] == 0 and f["tasks/status"][2] == -1,
                      "the injected failure no longer leaves a committed fit task without its /tasks status")
        for rec in definitely_lost_in(open(log).read(), exe):
            check(False, f"leak in slimsweep's code {extra}:\n{rec}")
    check_tasks(out, "write failure and resume under valgrind")
    with h5py.File(out, "r") as f:
        check((f["tasks/status"][()] == 0).all(), f"resume under valgrind left tasks unfinished: {f['tasks/status'][()]}")


def one_line(r, opt, label, status=None):
    check_refused(r.returncode, r.stderr, opt, label)
    if status is not None:
        check(r.returncode == status, f"{label}: exit {r.returncode}, expected {status}")


def leftovers(d, name):
    """Temporary or lock files of `name` left in directory d."""
    return [f for f in os.listdir(d) if f.startswith("." + name + ".tmp.") or f == name + ".lock"]


# one point that takes minutes: stops and second writers are tried while it runs
LONG = ["-sweep_family", "kepler", "-sweep_r", "1", "-sweep_N", "2000000000", "-sweep_repeats", "0",
        "-sweep_baselines", "none", "-sweep_quiet"]


def test_faults(exe, tmp):
    small = ["-sweep_N", "10", "-sweep_quiet"]
    good = os.path.join(tmp, "good.h5")
    r = mpirun(1, exe, small + ["-output", good])
    check(r.returncode == 0, f"good run: {r.stderr}")
    before = open(good, "rb").read()

    # two writers: the second is refused while the first holds the lock, whatever its mode
    longf = os.path.join(tmp, "long.h5")
    p = subprocess.Popen(["mpirun", "-n", "2", "--oversubscribe", exe] + LONG + ["-output", longf], env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not os.path.exists(longf + ".lock") and time.time() - t0 < 30:
        time.sleep(0.1)
    time.sleep(1.0)  # inside the point
    for extra in ([], ["-force"], ["-sweep_resume"]):
        r = mpirun(1, exe, LONG + ["-output", longf] + extra)
        one_line(r, "-output", f"second writer {extra}", 1)
        check("another run" in r.stderr, f"second writer {extra}: {r.stderr.strip()[:300]}")
    # stop latency: a stop in the middle of a point of 2e9 steps ends every rank within 2 s
    # (SIGUSR1, which mpirun forwards to the ranks; SLURM signals the ranks themselves)
    t1 = time.time()
    p.send_signal(signal.SIGUSR1)
    out, err = p.communicate(timeout=60)
    latency = time.time() - t1
    # the run's own measurement, from the signal's arrival to the end of the run (file closed);
    # mpirun's teardown after that (~1 s, longer on a loaded machine) is not the harness's
    m = re.search(r"\(([0-9.]+) s from the signal to the end of the run\)", out)
    print(f"stop latency on a long point: {m.group(1) if m else '?'} s in the run, {latency:.2f} s to mpirun's exit", flush=True)
    check(m is not None and float(m.group(1)) < 2.0, f"stop took {m.group(1) if m else '?'} s in the run: {out[-300:]}")
    check(latency < 10.0, f"mpirun took {latency:.2f} s to exit after the stop")
    check(p.returncode == 3, f"stopped run: exit {p.returncode}: {err[-300:]}")
    check("failed" not in err, f"an abandoned task was reported as failed: {err[-300:]}")
    check(not leftovers(tmp, "long.h5"), f"lock or temporary files left: {leftovers(tmp, 'long.h5')}")
    with h5py.File(longf, "r") as f:
        check((f["points/status"][()] == -1).all(), "the abandoned point was recorded")
        check(f["sessions/0"].attrs["complete"] == 0, "stopped session marked complete")
    check_tasks(longf, "stopped run")

    # -force and merges: the old file stays untouched until the new one is complete
    r = mpirun(1, exe, small + ["-output", good, "-force", "-sweep_merge", os.path.join(tmp, "nosuch.h5")])
    one_line(r, "-sweep_merge", "failing merge with -force")
    check(open(good, "rb").read() == before, "a failing merge with -force changed the old file")
    r = mpirun(2, exe, small + ["-output", good, "-force", "-sweep_merge", good])
    one_line(r, "-sweep_merge", "merge into one of its inputs", 1)
    check(open(good, "rb").read() == before, "a merge into one of its inputs changed it")
    r = mpirun(1, exe, small + ["-output", tmp])
    one_line(r, "-output", "-output DIR", 1)
    check("is a directory" in r.stderr, f"-output DIR: {r.stderr.strip()[:200]}")
    check(not leftovers(tmp, "good.h5"), f"temporary or lock files left: {leftovers(tmp, 'good.h5')}")
    parts = [os.path.join(tmp, f"part{i}.h5") for i in range(2)]
    for i, part in enumerate(parts):
        r = mpirun(1, exe, small + ["-output", part, "-sweep_slice", f"{i}/2"])
        check(r.returncode == 0, f"slice {i}: exit {r.returncode}")
    r = mpirun(2, exe, small + ["-output", good, "-force", "-sweep_merge", ",".join(parts)])
    check(r.returncode == 0, f"merge with -force: exit {r.returncode}: {r.stderr[-300:]}")
    with h5py.File(good, "r") as f:
        check((f["tasks/status"][()] == 0).all() and f["sessions/0"].attrs["kind"] == "merge", "merge with -force did not replace the file")
    check_tasks(good, "merge with -force")
    r = mpirun(1, exe, small + ["-output", os.path.join(tmp, "half.h5"), "-sweep_merge", parts[0]])
    check(r.returncode == 3 and "stopped by signal" not in r.stdout and "lack" in r.stdout,
          f"incomplete merge: exit {r.returncode}: {r.stdout.strip()[-300:]}")

    # the resume signature holds the solver options; progress and flush options do not matter
    sig = os.path.join(tmp, "sig.h5")
    r = mpirun(1, exe, small + ["-output", sig, "-slim_step_rtol", "1e-10", "-sweep_slice", "0/2"])
    sig_before = open(sig, "rb").read()
    for opts in (["-slim_step_rtol", "1e-6"], [], ["-slim_snes_type", "newtontr", "-slim_step_rtol", "1e-10"]):
        r = mpirun(1, exe, small + ["-output", sig, "-sweep_resume", "-sweep_slice", "0/2"] + opts)
        one_line(r, "-sweep_resume", f"resume with {opts}", 1)
        check(open(sig, "rb").read() == sig_before, f"refused resume with {opts} changed the file")
    r = mpirun(1, exe, small + ["-output", sig, "-sweep_resume", "-slim_step_rtol", "1.0e-10",
                                "-sweep_progress_interval", "0", "-sweep_flush_interval", "5", "-sweep_flush_tasks", "3"])
    check(r.returncode == 0, f"resume with the same solver options: exit {r.returncode}: {r.stderr[-300:]}")

    # size and memory estimates: refused before any file exists, with the estimate and the way out
    for args in (["-fit_guesses", "1000000000"], ["-sweep_N", "2000000000", "-sweep_trajectory_stride", "1"],
                 ["-sweep_B", "200000000"]):
        big = os.path.join(tmp, "big.h5")
        t1 = time.time()
        r = mpirun(1, exe, ["-sweep_quiet", "-output", big] + args)
        one_line(r, "-output", f"{args}", 1)
        check("-sweep_allow_large" in r.stderr and time.time() - t1 < 20, f"{args}: {r.stderr.strip()[:300]}")
        check(not os.path.exists(big), f"{args}: a file was created")
    r = mpirun(1, exe, ["-output", os.path.join(tmp, "dry.h5"), "-sweep_dry_run", "-fit_guesses", "1000000000"])
    check(r.returncode == 0 and "the file would take about" in r.stdout and not os.path.exists(os.path.join(tmp, "dry.h5")),
          f"-sweep_dry_run: {r.returncode} {r.stdout[-300:]}")

    # a damaged file is refused read-only: not a byte written
    damaged = os.path.join(tmp, "damaged.h5")
    with open(damaged, "wb") as f:
        f.write(before[: len(before) // 2])
    r = mpirun(1, exe, small + ["-output", damaged, "-sweep_resume"])
    one_line(r, "-output", "resume of a truncated file", 1)
    check(open(damaged, "rb").read() == before[: len(before) // 2], "a refused resume wrote to the damaged file")

    # a resume of a file with failed points reports them (exit 4)
    failed = os.path.join(tmp, "failed.h5")
    fargs = ["-sweep_family", "kepler", "-sweep_r", "1", "-sweep_N", "20", "-sweep_dt", "0.01",
             "-slim_step_maxit", "1", "-sweep_quiet", "-output", failed]
    r = mpirun(1, exe, fargs)
    check(r.returncode == 4, f"failing sweep: exit {r.returncode}")
    r = mpirun(1, exe, fargs + ["-sweep_resume"])
    check(r.returncode == 4 and "recorded as failed" in r.stderr, f"resume of failed points: exit {r.returncode}: {r.stderr[-300:]}")
    check_tasks(failed, "resumed file with failed points")

    # a SIGKILLed file carries its provenance; a SIGKILLed resume's session is in /sessions
    killed = os.path.join(tmp, "killed.h5")
    for session in (0, 1):
        p = subprocess.Popen([exe] + LONG + ["-output", killed] + (["-sweep_resume"] if session else []), env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        t0 = time.time()
        while time.time() - t0 < 30:
            try:
                with h5py.File(killed, "r") as f:
                    if f"sessions/{session}/ranks" in f and "program" in f.attrs:
                        break
            except (OSError, KeyError):
                pass
            time.sleep(0.2)
        time.sleep(0.5)
        p.kill()
        p.communicate()
    with h5py.File(killed, "r") as f:
        for a in ("program", "version", "options", "sweep_signature"):
            check(a in f.attrs, f"killed file: no root attribute {a}")
        for k in (0, 1):
            g = f.get(f"sessions/{k}")
            check(g is not None and g.attrs.get("end_time", "x") == "" and "options" in g.attrs,
                  f"killed session {k} is not described in /sessions/{k}")
    r = subprocess.run([exe] + LONG[:-1] + ["-sweep_N", "2000", "-output", killed, "-sweep_resume", "-sweep_quiet"],
                       env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check(r.returncode != 0, "a resume with another N was accepted")


def test_diskfull(exe, tmp):
    mnt = os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "slim_diskfull", mnt], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        print(f"diskfull: cannot mount a 2 MiB tmpfs ({r.stdout.strip()}): skipped", flush=True)
        sys.exit(77)
    try:
        diskfull(exe, mnt)
    finally:
        for _ in range(30):  # a failed check may leave a run finishing on the mount
            if subprocess.run(["umount", mnt], stderr=subprocess.DEVNULL).returncode == 0:
                break
            time.sleep(1)


def fill(path):
    """Fills the filesystem of path; returns the filler's name."""
    name = os.path.join(os.path.dirname(path), "filler")
    try:
        with open(name, "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:
        pass
    return name


def diskfull(exe, mnt):
    # ~1.6 MiB of preallocated tables and trajectories; a few seconds of work on 2 ranks
    sweep = ["-sweep_family", "dho,anharmonic", "-sweep_r", "0,1", "-sweep_N", "20000", "-sweep_B", "1,2",
             "-sweep_repeats", "2", "-sweep_trajectory_stride", "5", "-sweep_baselines", "4", "-sweep_quiet",
             "-sweep_flush_interval", "0"]
    out = os.path.join(mnt, "r.h5")
    # the disk fills while the sweep runs: nothing is lost, the run completes
    p = subprocess.Popen(["timeout", "120", "mpirun", "-n", "2", "--oversubscribe", exe] + sweep + ["-output", out],
                         env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not os.path.exists(out) and time.time() - t0 < 30:
        time.sleep(0.05)
    time.sleep(0.5)
    filler = fill(out)
    print(f"disk filled while running: {os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize} bytes free", flush=True)
    so, se = p.communicate()
    check(p.returncode == 0, f"disk filled while running: exit {p.returncode}: {se[-500:]}")
    with h5py.File(out, "r") as f:
        check((f["points/status"][()] == 0).all() and f.attrs["complete"] == 1, "disk filled while running: rows lost")
    full = open(out, "rb").read()
    # full disk: -force is refused before any work (exit 5, one line), the old file is intact
    for n in (1, 2):
        r = subprocess.run(["timeout", "60", "mpirun", "-n", str(n), "--oversubscribe", exe] + sweep +
                           ["-output", out, "-force", "-sweep_allow_large"], env=ENV, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        one_line(r, "-output", f"-force on a full disk, {n} ranks", 5)
        check(open(out, "rb").read() == full, f"-force on a full disk, {n} ranks: the old file changed")
        check(not leftovers(mnt, "r.h5"), f"full disk: files left {leftovers(mnt, 'r.h5')}")
    # without -sweep_allow_large the estimate refuses it first (exit 1)
    r = mpirun(1, exe, sweep + ["-output", os.path.join(mnt, "new.h5")])
    one_line(r, "-output", "new file on a full disk", 1)
    check("-sweep_allow_large" in r.stderr and not os.path.exists(os.path.join(mnt, "new.h5")), f"estimate refusal: {r.stderr[-300:]}")
    # a new file on a full disk with the check overridden: exit 5, nothing left behind
    r = mpirun(2, exe, sweep + ["-output", os.path.join(mnt, "new.h5"), "-sweep_allow_large"])
    one_line(r, "-output", "new file on a full disk (allowed)", 5)
    check(not os.path.exists(os.path.join(mnt, "new.h5")), "a stub was left on the full disk")
    # after space is freed, a stopped run on this filesystem resumes to the uninterrupted result
    if os.path.exists(filler):
        os.remove(filler)
    os.remove(out)
    p = subprocess.Popen(["mpirun", "-n", "2", "--oversubscribe", exe] + sweep + ["-output", out], env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_rows(out, 2, 60)
    filler = fill(out)
    p.send_signal(signal.SIGUSR1)
    p.communicate(timeout=60)
    check(p.returncode == 3, f"stopped on a full disk: exit {p.returncode}")
    if os.path.exists(filler):
        os.remove(filler)
    r = mpirun(2, exe, sweep + ["-output", out, "-sweep_resume"])
    check(r.returncode == 0, f"resume after space was freed: exit {r.returncode}: {r.stderr[-300:]}")
    with h5py.File(out, "r") as f:
        check((f["points/status"][()] == 0).all(), "resume after space was freed left points undone")


# points with trajectories, fits with observations and a landscape: every kind that writes
FAILWRITE = ["-sweep_family", "dho", "-sweep_r", "1", "-sweep_dt", "0.1", "-sweep_N", "50", "-sweep_sigma", "0,0.01",
             "-sweep_baselines", "none", "-sweep_repeats", "0", "-sweep_trajectory_stride", "10", "-fit_guesses", "4",
             "-fit_loss", "trajectory,acceleration", "-fit_max_it", "200", "-fit_obs_stride", "1",
             "-landscape_params", "m,k", "-landscape_n", "8", "-sweep_quiet"]


def test_writefail(exe, tmp):
    """Issue 12: a failed write of one rank, wherever it happens (rows a task kind writes inside
    its run: fits, landscapes, training blocks, trajectories; buffered rows; definitions), is
    agreed by every rank before the next collective call: exit 5, one line, no hang, no lock or
    temporary file left, and -sweep_resume completes the file to a clean run's results.
    SLIM_TEST_FAIL_WRITE=N:R (tests only) fails the N-th independent write of rank R."""
    seen = set()
    scan = [f"{n}:{rank}" for rank in (0, 1) for n in (1, 3, 8, 13, 21, 34, 55, 89, 144)]
    # one point and one landscape task: rank 0 writes the landscape after its definition rows
    land = FAILWRITE[:8] + ["-sweep_sigma", "0", "-sweep_baselines", "none", "-sweep_repeats", "0", "-fit_guesses", "0",
                            "-fit_loss", "trajectory", "-landscape_params", "m,k", "-landscape_n", "8", "-sweep_quiet"]
    for name, args, specs in (("fits", FAILWRITE, scan), ("training", TRAIN + ["-train_block", "256"], scan),
                              ("landscape", land, [f"{n}:0" for n in range(17, 24)])):
        clean = os.path.join(tmp, name + "-clean.h5")
        r = mpirun(2, exe, args + ["-output", clean])
        check(r.returncode == 0, f"{name}: clean run exit {r.returncode}: {r.stderr[-300:]}")
        for spec in specs:
            out = os.path.join(tmp, f"{name}-{spec.replace(':', '_')}.h5")
            env = dict(ENV, SLIM_TEST_FAIL_WRITE=spec)
            try:
                r = subprocess.run(["mpirun", "-n", "2", "--oversubscribe", "-x", "SLIM_TEST_FAIL_WRITE", exe] + args + ["-output", out],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
            except subprocess.TimeoutExpired:
                check(False, f"{name} {spec}: hung")
                continue
            check(not leftovers(tmp, os.path.basename(out)), f"{name} {spec}: lock or temporary file left")
            if r.returncode == 0:  # fewer writes than N on that rank
                continue
            lines = slimsweep_lines(r.stderr)
            check(r.returncode == 5 and len(lines) == 1 and "injected failure" in lines[0],
                  f"{name} {spec}: exit {r.returncode}, {r.stderr.strip()[-400:]!r}")
            if len(lines) == 1 and "writing '" in lines[0]:
                seen.add(lines[0].split("writing '")[1].split("'")[0].split("/")[0])
            if not os.path.exists(out):
                check("no file was created" in r.stderr, f"{name} {spec}: no file and no word of it")
                continue
            r = mpirun(2, exe, args + ["-output", out, "-sweep_resume"])
            check(r.returncode == 0, f"{name} {spec}: resume exit {r.returncode}: {r.stderr[-300:]}")
            # /tasks too: the accounting of tasks whose rows were written before the failure
            check_tasks(out, f"{name} {spec} resumed", clean)
            compare_results(clean, out, f"{name} {spec} resumed")
    print(f"injected write failures in: {sorted(seen)}", flush=True)
    for what in ("points", "fits", "fit_summary", "fit_obs", "training", "landscape"):
        check(what in seen, f"no injected failure hit a write of {what}")


def main():
    if sys.argv[1] == "compare":  # harness_test.py compare A.h5 B.h5: used by the SLURM job tests
        compare_results(sys.argv[2], sys.argv[3], "compare")
        print(f"compare: {len(FAILURES)} differences")
        sys.exit(1 if FAILURES else 0)
    test, exe = sys.argv[1], os.path.abspath(sys.argv[2])
    if test == "regenerate":  # harness_test.py regenerate EXE: rewrite tests/harness/expected/
        regenerate(exe)
        sys.exit(1 if FAILURES else 0)
    with tempfile.TemporaryDirectory(prefix=f"slim-{test}-") as tmp:
        {"ranks": test_ranks, "kill": test_kill, "badinput": test_badinput, "help": test_help,
         "fits": test_fits, "slices": test_slices, "preserved": test_preserved, "training": test_training,
         "leaks": test_leaks, "faults": test_faults, "diskfull": test_diskfull,
         "writefail": test_writefail}[test](exe, tmp)
    print(f"{test}: {len(FAILURES)} failed checks")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
