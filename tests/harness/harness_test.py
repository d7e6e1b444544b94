#!/usr/bin/python3
"""End-to-end tests of the slimsweep harness, run by ctest (tests/harness/CMakeLists.txt).

  harness_test.py ranks    EXE   same sweep on 1, 2, 3 ranks: identical per-point results
  harness_test.py kill     EXE   SIGTERM / SIGKILL part-way, resume, compare with a full run
  harness_test.py badinput EXE   bad input: one line naming the option, non-zero exit, no damage
  harness_test.py help     EXE   -help lists every option

Exit status 0 on success; every failed check prints a line starting with FAIL.
"""
import os
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


def compare_results(pa, pb, label):
    """Every non-timing column of /points, /baselines, /orders and every trajectory is equal."""
    with h5py.File(pa, "r") as fa, h5py.File(pb, "r") as fb:
        for table in ("points", "baselines", "orders", "fits"):
            if table not in fa:
                continue
            for col in fa[table]:
                if col in TIMING or not isinstance(fa[table][col], h5py.Dataset):
                    continue
                check(same(fa[table][col][()], fb[table][col][()]), f"{label}: /{table}/{col} differs")
        for name in fa.get("trajectories", {}):
            check(same(fa["trajectories"][name][()], fb["trajectories"][name][()]),
                  f"{label}: /trajectories/{name} differs")


def test_ranks(exe, tmp):
    files = {}
    for n in (1, 2, 3):
        out = os.path.join(tmp, f"ranks{n}.h5")
        r = mpirun(n, exe, SWEEP + ["-output", out])
        check(r.returncode == 0, f"{n} ranks: exit {r.returncode}: {r.stderr.strip()[-500:]}")
        files[n] = out
        with h5py.File(out, "r") as f:
            st = f["points/status"][()]
            check((st == 0).all(), f"{n} ranks: not every point finished: {st}")
            check(set(f["points/rank"][()]) <= set(range(n)), f"{n} ranks: bad rank column")
            ranks = f["sessions/0/ranks"]
            ntask = len(st) + len(f["baselines/status"][()])
            # every task computed exactly once: the per-rank task counts add up to the task count
            check(ranks["tasks"][()].sum() == ntask, f"{n} ranks: {ranks['tasks'][()].sum()} tasks run, {ntask} expected")
            check(len(ranks["busy"][()]) == n and (ranks["busy"][()] > 0).all(), f"{n} ranks: busy times {ranks['busy'][()]}")
            check(f.attrs["nranks"] == n and f.attrs["complete"] == 1, f"{n} ranks: root attributes")
            if n > 1:
                check(len(set(f["points/rank"][()])) == n, f"{n} ranks: not every rank computed points")
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
    # many points of similar, non-trivial cost so a kill lands part-way
    sweep = ["-sweep_family", "kepler", "-sweep_r", "1,2", "-sweep_dt", "0.01,0.009,0.008,0.007,0.006,0.005",
             "-sweep_N", "4000", "-sweep_B", "1,2", "-sweep_repeats", "2", "-sweep_baselines", "4", "-sweep_quiet",
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
    ]
    for args, opt in cases:
        full = ["-sweep_N", "10", "-sweep_quiet"] + args
        if "-output" not in args:
            full += ["-output", os.path.join(tmp, "bad.h5")]
        # every case as a plain (singleton) process; a few under mpirun -n 2 as well, where every
        # rank sees the bad input but only one line must be printed
        for n in ((0, 2) if opt in ("-sweep_r", "-output", "-sweep_family") else (0,)):
            r = mpirun(n, exe, full) if n else subprocess.run([exe] + full, env=ENV, stdout=subprocess.PIPE,
                                                               stderr=subprocess.PIPE, text=True)
            lines = [l for l in r.stderr.splitlines() if l.startswith("slimsweep:")]
            check(r.returncode != 0, f"{args} on {n} ranks: exit 0")
            check(len(lines) == 1 and opt in lines[0], f"{args} on {n} ranks: expected one 'slimsweep:' line naming {opt}, got {r.stderr.strip()[:400]!r}")
        check(not os.path.exists(os.path.join(tmp, "bad.h5")), f"{args}: left a file behind")
    check(open(good, "rb").read() == before, "an existing results file was modified by a refused run")
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
                "-slim_solver", "-slim_step_rtol", "-slim_step_maxit", "-slim_snes_type", "-rk_ts_type"]:
        check(opt in text, f"-help does not list {opt}")


def main():
    test, exe = sys.argv[1], os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix=f"slim-{test}-") as tmp:
        {"ranks": test_ranks, "kill": test_kill, "badinput": test_badinput, "help": test_help}[test](exe, tmp)
    print(f"{test}: {len(FAILURES)} failed checks")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
