#!/usr/bin/python3
"""Figures from slimsweep results files (docs/figures.md).

  analysis/figures.py RESULTS.h5 [MORE.h5 ...] -o OUTDIR [--only NAME ...]
  analysis/figures.py RESULTS.h5 [MORE.h5 ...] --list

Writes every figure the files have data for, as OUTDIR/NAME.png and OUTDIR/NAME.pdf, and prints
one line per figure: "wrote NAME: files" or "skipped NAME: why". Figures drawn from one file get
the file's name appended (NAME_<file>) when several input files have data for them; scaling and
rank_load combine all input files. Exit status: 0 when every figure was written or skipped with a
reason, 1 when drawing one failed, 2 for bad arguments or unreadable files.

Needs only Debian's python3-h5py, python3-numpy and python3-matplotlib (run with /usr/bin/python3).
"""
import argparse
import os
import re
import sys
import traceback

import matplotlib
import matplotlib.patches
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import patheffects  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slimresults import (ORDER_PREASYMPTOTIC, ORDER_ROUNDOFF, ORDER_TOO_FEW, ORDER_USED, Results,  # noqa: E402
                         order_estimate, read_fit_obs, split_list)

# Slide-sized text: nothing below 12 pt at the saved size.
plt.rcParams.update({
    "font.size": 14, "axes.titlesize": 15, "axes.labelsize": 15, "xtick.labelsize": 13,
    "ytick.labelsize": 13, "legend.fontsize": 12, "figure.titlesize": 17, "lines.linewidth": 2,
    "lines.markersize": 7, "axes.grid": True, "grid.alpha": 0.3, "savefig.dpi": 150,
    "legend.framealpha": 0.85, "pdf.fonttype": 42,
})

PANEL_W, PANEL_H = 7.0, 5.2  # inches per panel: three side by side stay within ~21 in
RK_NAMES = {"2a": "RK2", "2b": "RK2 (b)", "3": "RK3", "3bs": "RK3 (BS)", "4": "RK4", "1fe": "Euler",
            "5f": "RK5 (F)", "5dp": "RK5 (DP)", "5bs": "RK5 (BS)", "6vr": "RK6", "7vr": "RK7",
            "8vr": "RK8",
            # symplectic baselines (PETSc TSBASICSYMPLECTIC, separable families only)
            "sympl1": "symplectic Euler", "sympl2": "velocity Verlet", "sympl3": "Ruth (order 3)",
            "sympl4": "Forest-Ruth (order 4)"}
RK_COLORS = {"2a": "tab:red", "4": "tab:orange", "sympl2": "black", "sympl4": "darkgoldenrod"}
# Families whose parameters are in astronomical units (src/families/*.c); the oscillators are in
# the code's own units.
UNITS = {"kepler": ("yr", "AU"), "pr": ("yr", "AU")}
PRETTY = {"family": "", "r": "r", "dt": "Δt", "N": "N", "T": "T", "B": "B", "solver": "",
          "sigma": "σ", "loss": "", "method": "", "type": ""}


class Skip(Exception):
    """A figure without data in this file; the message says what is missing."""


# ---------------------------------------------------------------- helpers

def time_unit(fam):
    return UNITS.get(fam, ("time unit", ""))[0]


def q_unit(fam):
    return UNITS.get(fam, ("", "units of q"))[1]


def rk_name(t):
    return RK_NAMES.get(t, f"RK {t}")


# slimplectic series; red and orange are kept for the RK baselines
SERIES = ["tab:blue", "tab:green", "tab:purple", "tab:brown", "tab:cyan", "tab:pink", "tab:olive",
          "tab:gray", "navy", "darkgreen"]


def color(i):
    return SERIES[i % len(SERIES)]


def fmt(v):
    if isinstance(v, (str, np.str_)):
        return str(v)
    if isinstance(v, (float, np.floating)):
        return f"{v:g}"
    return str(v)


def label_of(keys, values, show):
    """'r = 1, Δt = 0.05' from the key values, only for the keys in show."""
    parts = []
    for k, v in zip(keys, values):
        if k not in show:
            continue
        p = PRETTY.get(k, k)
        parts.append(f"{p} = {fmt(v)}" if p else fmt(v))
    return ", ".join(parts)


def groups(table, mask, keys):
    """{key tuple: row indices} over the rows in mask, in order of first appearance."""
    out = {}
    for i in np.flatnonzero(mask):
        k = tuple(table[c][i].item() if hasattr(table[c][i], "item") else table[c][i] for c in keys)
        out.setdefault(k, []).append(i)
    return {k: np.array(v) for k, v in out.items()}


def varying(keys, tuples):
    """Keys that take more than one value among the key tuples."""
    return [k for j, k in enumerate(keys) if len({t[j] for t in tuples}) > 1]


def data_ticks(axis, values):
    """On a log axis spanning less than two decades, ticks at the data values instead of
    matplotlib's crowded minor-tick labels."""
    v = np.unique(np.asarray(values, float))
    v = v[finite_pos(v)]
    if 1 < v.size <= 8 and v.max() / v.min() < 100:
        axis.set_ticks(v)
        axis.set_ticklabels([fmt(x) for x in v])
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def finite_pos(a):
    a = np.asarray(a, float)
    return np.isfinite(a) & (a > 0)


def grid(n, ncols=None, w=PANEL_W, h=PANEL_H):
    """Figure with n panels (flat list of axes; extra axes hidden)."""
    ncols = ncols or min(n, 3)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(w * ncols, h * nrows), squeeze=False,
                             constrained_layout=True)
    axes = list(axes.ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def loglog_fit(x, y):
    """Least-squares slope and intercept of log y against log x."""
    lx, ly = np.log(x), np.log(y)
    s, c = np.polyfit(lx, ly, 1)
    return s, c


class SigmaScale:
    """Noise levels on a log axis; σ = 0 is drawn at a position left of the smallest σ > 0 and
    labelled 0."""

    def __init__(self, sig):
        self.sig = np.unique(np.asarray(sig, float))
        pos = self.sig[self.sig > 0]
        span = np.log10(pos.max() / pos.min()) if pos.size > 1 else 0
        self.zero = pos.min() / 10 ** max(0.5, 0.25 * span) if pos.size else 1.0

    def __call__(self, s):
        s = np.asarray(s, float)
        return np.where(s > 0, s, self.zero)

    def finish(self, ax):
        ax.set_xscale("log")
        if self.sig.size <= 8:
            ticks, labels = self(self.sig), [fmt(x) for x in self.sig]
        else:
            pos = self.sig[self.sig > 0]
            dec = 10.0 ** np.arange(np.ceil(np.log10(pos.min())), np.floor(np.log10(pos.max())) + 1)
            ticks = np.r_[self.zero, dec] if (self.sig == 0).any() else dec
            labels = (["0"] if (self.sig == 0).any() else []) + [fmt(x) for x in dec]
        ax.set_xticks(ticks)
        ax.set_xticklabels(labels)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("noise σ of the observations")


def legend(ax, below=False, **kw):
    """Legend inside the axes, or below them (for crowded plots: no line is hidden)."""
    h, _ = ax.get_legend_handles_labels()
    if not h:
        return
    if below:
        _, labels = ax.get_legend_handles_labels()
        kw.setdefault("ncol", 2 if len(h) > 3 and max(len(x) for x in labels) <= 34 else 1)
        kw.pop("loc", None)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), **kw)
    else:
        ax.legend(**kw)


# ---------------------------------------------------------------- time vs N

def timed_points(res):
    """The /points table and the mask of its finished rows with a measured time."""
    P = res.points
    if P is None:
        raise Skip("no /points table")
    ok = P.ok() & finite_pos(P.col("t_min"))
    if not ok.any():
        raise Skip("no finished points with timings")
    return P, ok

def fig_time_vs_N(res):
    P, ok = timed_points(res)

    def multi_n(keys):
        G = groups(P, ok, keys)
        return {k: idx for k, idx in G.items() if len(np.unique(P["N"][idx])) >= 2}

    keys = ["family", "r", "dt", "B", "solver"]
    G = multi_n(keys)
    if not G:  # N varies only together with dt (fixed T): compare across dt
        keys = ["family", "r", "B", "solver"]
        G = multi_n(keys)
    if not G:
        raise Skip(f"needs points differing only in N (-sweep_N with two or more values); "
                   f"N in this file: {sorted(set(P['N'][ok].tolist()))}")
    fams = list(dict.fromkeys(k[0] for k in G))
    fig, axes = grid(len(fams), ncols=min(len(fams), 2), w=8, h=7.2)
    B = res.baselines
    for ax, fam in zip(axes, fams):
        sub = {k: v for k, v in G.items() if k[0] == fam}
        show = varying(keys, list(sub))
        if "r" not in show:
            show = ["r"] + show
        for ci, (k, idx) in enumerate(sub.items()):
            Ns = np.unique(P["N"][idx])
            t = np.array([np.median(P["t_min"][idx][P["N"][idx] == n]) for n in Ns])
            c = color(ci)
            m = max(2, (len(Ns) + 1) // 2)  # linear regime: the larger half of the N values
            s, icpt = loglog_fit(Ns[-m:], t[-m:])
            us = np.median(t[-m:] / Ns[-m:]) * 1e6
            ax.loglog(Ns, t, "o-", color=c, label=f"slimplectic {label_of(keys, k, show)}: "
                      f"slope {s:.2f} for N ≥ {Ns[-m]}, {us:.3g} µs/step")
            # the fit, extended over all N: where the data leave it, fixed costs dominate
            xx = np.array([Ns[0], Ns[-1]], float)
            ax.loglog(xx, np.exp(icpt) * xx ** s, "--", color=c, lw=1.3, alpha=0.9)
        if B is not None:
            okb = B.ok() & finite_pos(B.col("t_min")) & (B["family"] == fam)
            bkeys = ["type", "dt"] if "dt" in keys else ["type"]
            BG = {k: v for k, v in groups(B, okb, bkeys).items() if len(np.unique(B["N"][v])) >= 2}
            bshow = varying(bkeys, list(BG)) or ["type"]
            for k, idx in BG.items():
                Ns = np.unique(B["N"][idx])
                t = np.array([np.median(B["t_min"][idx][B["N"][idx] == n]) for n in Ns])
                m = max(2, (len(Ns) + 1) // 2)
                s, _ = loglog_fit(Ns[-m:], t[-m:])
                us = np.median(t[-m:] / Ns[-m:]) * 1e6
                lab = rk_name(k[0]) + (", " + label_of(bkeys[1:], k[1:], bshow) if len(bshow) > 1 else "")
                ax.loglog(Ns, t, "s:", color=RK_COLORS.get(k[0], "0.4"),
                          label=f"{lab}: slope {s:.2f}, {us:.3g} µs/step")
        ax.add_line(Line2D([], [], ls="--", lw=1.3, color="0.3", label="power-law fit of the larger half of N"))
        data_ticks(ax.xaxis, P["N"][np.concatenate(list(sub.values()))])
        ax.set_xlabel("steps N")
        ax.set_ylabel("integration time [s]")
        ax.set_title(f"{fam}: time vs N (fastest timed repeat)")
        legend(ax, below=True, ncol=1)
    return [("", fig)]


# ---------------------------------------------------------------- time vs r

def fig_time_vs_r(res):
    P, ok = timed_points(res)
    keys = ["family", "dt", "N", "B", "solver"]
    # ensemble sizes and the plain loop are speed_vs_B's subject: a single trajectory (the smallest
    # B) with the SNES solver (when present) here, not one unrelated line per (B, solver)
    ok = ok & (P["B"] == P["B"][ok].min())
    if (P["solver"][ok] == "snes").any():
        ok = ok & (P["solver"] == "snes")
    G = {k: v for k, v in groups(P, ok, keys).items() if len(np.unique(P["r"][v])) >= 2}
    if not G:
        raise Skip(f"needs points differing only in r (-sweep_r with two or more values); "
                   f"r in this file: {sorted(set(P['r'][ok].tolist()))}")
    note = ""
    if len(G) > 8:  # keep the longest runs: their timings are the least noisy
        order = sorted(G, key=lambda k: -k[2])[:8]
        note = f" ({8} of {len(G)} groups)"
        G = {k: G[k] for k in G if k in order}
    fig, (ax1, ax2) = grid(2, w=7.5, h=5.8)
    show = varying(keys, list(G))
    for ci, (k, idx) in enumerate(G.items()):
        rs = np.unique(P["r"][idx])
        sel = [idx[P["r"][idx] == r] for r in rs]
        setup = np.array([np.median(P["t_setup"][s]) for s in sel])
        tmin = np.array([np.median(P["t_min"][s]) for s in sel])
        tmax = np.array([np.median(P["t_max"][s]) for s in sel])
        lab = label_of(keys, k, show) or "slimplectic"
        c = color(ci)
        ax1.plot(rs, setup, "o-", color=c, label=lab)
        ax2.errorbar(rs, tmin, yerr=[np.zeros_like(tmin), np.clip(tmax - tmin, 0, None)], fmt="o-",
                     color=c, capsize=3, label=lab)
    if len(G) == 1 and res.baselines is not None:
        (fam, dt, N, _, _), = G.keys()
        B = res.baselines
        okb = B.ok() & finite_pos(B.col("t_min")) & (B["family"] == fam) & np.isclose(B["dt"], dt) & (B["N"] == N)
        for i in np.flatnonzero(okb):
            ax2.axhline(B["t_min"][i], ls=":", color=RK_COLORS.get(B["type"][i], "0.4"),
                        label=f"{rk_name(B['type'][i])} baseline")
    for ax in (ax1, ax2):
        ax.set_yscale("log")
        ax.set_xlabel("interior points r (order 2r + 2)")
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax1.set_ylabel("setup time [s]")
    ax1.set_title("Setup: objects, options, solver" + note)
    ax2.set_ylabel("integration time of N steps [s]")
    ax2.set_title("Integration (fastest repeat; bar: slowest)")
    fixed = [k for k in keys if k not in show]
    if fixed:
        fig.suptitle(label_of(keys, next(iter(G)), fixed))
    crowded = len(G) > 3
    legend(ax1, below=crowded, loc="upper left")
    legend(ax2, below=crowded, loc="upper left")
    return [("", fig)]


# ---------------------------------------------------------------- speed vs ensemble size

def fig_speed_vs_B(res):
    P, ok = timed_points(res)
    ok = ok & finite_pos(P.col("ns_per_traj_step"))
    keys = ["family", "r", "dt", "N", "solver"]
    G = {k: v for k, v in groups(P, ok, keys).items() if len(np.unique(P["B"][v])) >= 2}
    if not G:
        raise Skip(f"needs points differing only in the ensemble size B (-sweep_B with two or more values, "
                   f"sweeps/bench_step.opts); B in this file: {sorted(set(P['B'][ok].tolist()))}")
    fams = list(dict.fromkeys(k[0] for k in G))
    fig, axes = plt.subplots(len(fams), 2, figsize=(16, 6.8 * len(fams)), squeeze=False, constrained_layout=True)
    solvers = sorted({k[4] for k in G})
    ls = {sv: ["-", "--", ":"][i % 3] for i, sv in enumerate(solvers)}
    for fi, fam in enumerate(fams):
        sub = {k: v for k, v in G.items() if k[0] == fam}
        rs = sorted({k[1] for k in sub})
        show = [c for c in varying(keys, list(sub)) if c not in ("r", "solver")]
        a1, a2 = axes[fi]
        allB = []
        for k, idx in sub.items():
            Bs = np.unique(P["B"][idx])
            ns = np.array([np.median(P["ns_per_traj_step"][idx][P["B"][idx] == b]) for b in Bs])
            c = color(rs.index(k[1]))
            extra = label_of(keys, k, show)
            lab = f"r = {k[1]}, {k[4]}" + (f", {extra}" if extra else "")
            a1.loglog(Bs, ns, "o" + ls[k[4]], color=c, label=lab)
            allB += list(Bs)
            if Bs[0] == 1:
                # a loop over B single runs costs the B = 1 time per trajectory-step at every B
                a1.loglog([Bs[0], Bs[-1]], [ns[0], ns[0]], ":", color=c, lw=1.2, alpha=0.7)
                a2.loglog(Bs, ns[0] / ns, "o" + ls[k[4]], color=c, label=lab)
        a2.axhline(1, color="0.3", lw=1)
        for ax in (a1, a2):
            data_ticks(ax.xaxis, allB)
            ax.set_xlabel("ensemble size B (trajectories advanced in one solve)")
        a1.add_line(Line2D([], [], ls=":", color="0.3", label="loop of single runs (B = 1 cost)"))
        a1.set_ylabel("time per trajectory-step [ns]")
        a1.set_title(f"{fam}: cost per trajectory-step vs B (fastest repeat)")
        a2.set_ylabel("speed-up over a loop of B = 1 runs")
        a2.set_title(f"{fam}: vectorised ensemble vs loop")
        legend(a1, below=True)
        legend(a2, below=True)
    return [("", fig)]


# ---------------------------------------------------------------- energy error vs time

def _energy_series(arr, cols):
    if arr is None or "energy_error" not in cols or "t" not in cols:
        return None
    t, e = arr[:, cols.index("t")], arr[:, cols.index("energy_error")]
    m = finite_pos(t) & finite_pos(e)
    return (t[m], e[m]) if m.sum() >= 2 else None


def fig_energy_error(res):
    P = res.points
    if P is None:
        raise Skip("no /points table")
    tp = np.array([i for i in res.trajectory_points() if i < P.nrows], int)
    if not tp.size:
        raise Skip("no trajectories (run with -sweep_trajectory_stride k)")
    tp = tp[P.ok()[tp]]
    if not tp.size:
        raise Skip("no finished points with trajectories")
    rs = sorted(set(P["r"][tp].tolist()))[:3]
    tp = tp[np.isin(P["r"][tp], rs)]
    # panels: (family, dt), the longest runs first, at most 3 dt per family
    panels = []
    for fam in dict.fromkeys(P["family"][tp]):
        f_idx = tp[P["family"][tp] == fam]
        dts = sorted(set(P["dt"][f_idx].tolist()), key=lambda d: (-P["N"][f_idx][P["dt"][f_idx] == d].max(), d))
        panels += [(fam, d) for d in dts[:3]]
    B = res.baselines
    drawn = []
    for fam, dt in panels:
        sel = tp[(P["family"][tp] == fam) & (P["dt"][tp] == dt)]
        smin, bmin = P["sigma"][sel].min(), P["B"][sel].min()
        sel = sel[(P["sigma"][sel] == smin) & (P["B"][sel] == bmin)]
        N = P["N"][sel].max()
        lines = []
        for r in rs:
            cand = sel[P["r"][sel] == r]
            if not cand.size:
                continue
            i = cand[np.argmax(P["N"][cand])]
            s = _energy_series(*res.trajectory(i))
            if s:
                lines.append((f"slimplectic r = {r} (order {2 * r + 2})", s, dict(color=color(rs.index(r)), ls="-")))
        if B is not None:
            okb = B.ok() & (B["family"] == fam) & np.isclose(B["dt"], dt) & (B["N"] == N)
            for row in np.flatnonzero(okb):
                s = _energy_series(*res.baseline_trajectory(row))
                if s:
                    lines.append((rk_name(B["type"][row]), s,
                                  dict(color=RK_COLORS.get(B["type"][row], "0.4"), ls="--")))
        if lines:
            drawn.append((fam, dt, N, lines))
    if not drawn:
        raise Skip("the trajectories hold no positive energy errors at t > 0")
    fams = list(dict.fromkeys(d[0] for d in drawn))
    has_rk = any(st["ls"] == "--" for d in drawn for _, _, st in d[3])
    ncols = max(sum(1 for d in drawn if d[0] == f) for f in fams)
    fig, axes = plt.subplots(len(fams), ncols, figsize=(PANEL_W * ncols, 6.2 * len(fams)), squeeze=False,
                             constrained_layout=True)
    used = set()
    for fi, fam in enumerate(fams):
        for ci, (f, dt, N, lines) in enumerate(d for d in drawn if d[0] == fam):
            ax = axes[fi][ci]
            used.add((fi, ci))
            for lab, (t, e), st in lines:
                ax.loglog(t, e, label=lab, lw=1.5, **st)
            ax.set_xlabel(f"time t [{time_unit(fam)}]")
            ax.set_ylabel("fractional energy error |ΔE/E|")
            ax.set_title(f"{fam}: Δt = {fmt(dt)}, N = {N} steps")
            legend(ax, below=True, title=None if has_rk else "no RK baselines in the file (-sweep_baselines 2a,4)")
    for fi in range(len(fams)):
        for ci in range(ncols):
            if (fi, ci) not in used:
                axes[fi][ci].set_visible(False)
    return [("", fig)]


# ---------------------------------------------------------------- PR drag: orbit evolution

# Poynting-Robertson parameters when the run did not set them (-pr_GM, -pr_beta, -pr_c, -pr_m):
# the defaults of src/families/pr.c, the primary sources' test case (physics.md)
PR_DEFAULTS = {"GM": 39.478758435, "beta": 0.01153812, "c": 63241.3, "m": 1.0}


def _pr_params(res, point):
    th = _truth(res, point, list(PR_DEFAULTS))
    return {k: float(th.get(k, _option(res, "pr_" + k, v))) for k, v in PR_DEFAULTS.items()}


def osculating(q, v, mu):
    """Osculating semi-major axis and eccentricity of planar Kepler motion (q, v: [n, 2])."""
    r = np.hypot(q[:, 0], q[:, 1])
    a = 1.0 / (2.0 / r - (v * v).sum(axis=1) / mu)
    h = q[:, 0] * v[:, 1] - q[:, 1] * v[:, 0]
    e = np.sqrt(np.clip(1.0 - h * h / (mu * a), 0.0, None))
    return a, e


def orbit_average(t, x, period):
    """Means of t and x over consecutive windows one orbital period long (the raw series when
    a period holds fewer than three samples)."""
    if len(t) < 2:
        return t, x
    w = int(round(period / (t[1] - t[0])))
    if w < 3:
        return t, x
    n = len(t) // w
    return t[:n * w].reshape(n, w).mean(axis=1), x[:n * w].reshape(n, w).mean(axis=1)


def pr_secular(t, a0, e0, eta):
    """Orbit-averaged a(t), e(t) under PR drag (Wyatt & Whipple 1950), RK4 on the output grid."""
    def f(y):
        a, e = y
        return np.array([-eta * (2 + 3 * e * e) / (a * (1 - e * e) ** 1.5),
                         -2.5 * eta * e / (a * a * np.sqrt(1 - e * e))])
    y = np.array([a0, e0], float)
    out = [y.copy()]
    for h in np.diff(t):
        m = max(1, int(np.ceil(abs(h) / 0.5)))
        for _ in range(m):
            k1 = f(y); k2 = f(y + h / m / 2 * k1); k3 = f(y + h / m / 2 * k2); k4 = f(y + h / m * k3)
            y = y + h / m / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(y.copy())
    out = np.array(out)
    return out[:, 0], out[:, 1]


def _orbit_series(arr, cols, m):
    """(t, q, v) of a trajectory dataset: v from qdot columns (baselines) or pi / m."""
    if arr is None or "t" not in cols or "q0" not in cols or "q1" not in cols:
        return None
    q = arr[:, [cols.index("q0"), cols.index("q1")]]
    if "qdot0" in cols:
        v = arr[:, [cols.index("qdot0"), cols.index("qdot1")]]
    elif "pi0" in cols:  # pi = m qdot: K of PR drag has no qdot_- term
        v = arr[:, [cols.index("pi0"), cols.index("pi1")]] / m
    else:
        return None
    ok = np.isfinite(q).all(axis=1) & np.isfinite(v).all(axis=1)
    return arr[ok, cols.index("t")], q[ok], v[ok]


def fig_orbit_evolution(res):
    P = res.points
    if P is None:
        raise Skip("no /points table")
    tp = np.array([i for i in res.trajectory_points() if i < P.nrows], int)
    tp = tp[(P["family"][tp] == "pr") & P.ok()[tp]] if tp.size else tp
    if not tp.size:
        raise Skip("needs Poynting-Robertson (pr) trajectories: -sweep_family pr -sweep_trajectory_stride k "
                   "(sweeps/pr_drag.opts)")
    # the longest run's (dt, N); r = 0, 1 (the smallest two present); smallest sigma and B
    i0 = tp[np.argmax(P["N"][tp] * P["dt"][tp])]
    sel = tp[(P["dt"][tp] == P["dt"][i0]) & (P["N"][tp] == P["N"][i0]) & (P["B"][tp] == P["B"][i0])
             & (P["sigma"][tp] == P["sigma"][i0])]
    rs = sorted(set(P["r"][sel].tolist()))[:2]
    par = _pr_params(res, int(i0))
    mu, eta = (1 - par["beta"]) * par["GM"], par["beta"] * par["GM"] / par["c"]
    series = []
    for r in rs:
        i = sel[P["r"][sel] == r][0]
        s = _orbit_series(*res.trajectory(i), par["m"])
        if s is not None:
            series.append((f"slimplectic r = {r} (order {2 * r + 2})", s, dict(color=color(rs.index(r)), ls="-")))
    B = res.baselines
    if B is not None:
        okb = B.ok() & (B["family"] == "pr") & np.isclose(B["dt"], P["dt"][i0]) & (B["N"] == P["N"][i0])
        for row in np.flatnonzero(okb):
            s = _orbit_series(*res.baseline_trajectory(row), par["m"])
            if s is not None:
                series.append((rk_name(B["type"][row]), s, dict(color=RK_COLORS.get(B["type"][row], "0.4"), ls="--")))
    if not series:
        raise Skip("the pr trajectories have no q0, q1 and pi or qdot columns")
    fig, axes = plt.subplots(2, 2, figsize=(16, 12), squeeze=False, constrained_layout=True)
    (aa, ae), (da, de) = axes
    elems = []
    for lab, (t, q, v), st in series:
        a, e = osculating(q, v, mu)
        period = 2 * np.pi * np.sqrt(a[0] ** 3 / mu)
        ta, am = orbit_average(t, a, period)
        _, em = orbit_average(t, e, period)
        elems.append((lab, st, ta, am, em))
    # reference: the RK run (its first sample is the exact initial state with qdot) or else the
    # highest-order slimplectic run (pi / m of low r differs from the velocity by O(dt^(2r+2)))
    rk = [x for x in elems if x[1]["ls"] == "--"]
    _, _, tref, am0, em0 = (rk or elems[-1:])[0]
    ref = (am0[0], em0[0])
    sa, se = pr_secular(tref, am0[0], em0[0], eta)
    rate_a = -eta * (2 + 3 * ref[1] ** 2) / (ref[0] * (1 - ref[1] ** 2) ** 1.5)
    rate_e = -2.5 * eta * ref[1] / (ref[0] ** 2 * np.sqrt(1 - ref[1] ** 2))
    aa.plot(tref, sa - ref[0], "-", color="k", lw=5, alpha=0.25,
            label=f"secular rate (Wyatt & Whipple 1950): {rate_a:.3g} AU/yr at t = 0")
    ae.plot(tref, se - ref[1], "-", color="k", lw=5, alpha=0.25, label=f"secular rate: {rate_e:.3g} /yr at t = 0")
    for lab, st, ta, am, em in elems:
        slope = np.polyfit(ta, am, 1)[0] if len(ta) >= 2 else np.nan
        aa.plot(ta, am - ref[0], label=f"{lab}: mean da/dt = {slope:.4g} AU/yr", lw=1.8, **st)
        ae.plot(ta, em - ref[1], label=lab, lw=1.8, **st)
        n = min(len(ta), len(tref))
        da.plot(ta[:n], am[:n] - sa[:n], label=lab, lw=1.5, **st)
        de.plot(ta[:n], em[:n] - se[:n], label=lab, lw=1.5, **st)
    aa.set_ylabel("a − a(0) [AU], orbit-averaged")
    ae.set_ylabel("e − e(0), orbit-averaged")
    da.annotate("a constant offset is the start: π/m at the slimplectic nodes differs from q̇ by O(Δt^(2r+2))",
                (0.01, 0.98), xycoords="axes fraction", ha="left", va="top", fontsize=12,
                bbox=dict(fc="w", ec="0.7", alpha=0.85))
    da.set_ylabel("a − a_secular [AU]")
    de.set_ylabel("e − e_secular")
    for ax in (aa, ae, da, de):
        ax.set_xlabel(f"time t [{time_unit('pr')}]")
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    aa.set_title("semi-major axis: drag shrinks the orbit")
    ae.set_title("eccentricity: drag circularises the orbit")
    da.set_title("difference from the secular (orbit-averaged) theory")
    de.set_title("difference from the secular theory")
    for ax in (aa, ae, da, de):
        legend(ax, below=True, ncol=1)
    fig.suptitle(f"Poynting–Robertson drag: Δt = {fmt(P['dt'][i0])} {time_unit('pr')}, N = {P['N'][i0]} steps, "
                 f"β = {par['beta']:g}, a(0) = {ref[0]:.4g} AU, e(0) = {ref[1]:.3g}")
    return [("", fig)]


# ---------------------------------------------------------------- error vs dt

def _option(res, name, default):
    """A numeric option of the run (root attribute options), or default."""
    m = re.search(r"(?:^| )-" + re.escape(name) + r" +([^ ]+)", " " + str(res.root_attr("options", "")))
    try:
        return float(m.group(1)) if m else default
    except ValueError:
        return default


# marker of each /points/order_mark value (slimresults.ORDER_*) in error_vs_dt
MARK_STYLE = {ORDER_PREASYMPTOTIC: ("o", "pre-asymptotic (not in the order fit)"),
              ORDER_ROUNDOFF: ("v", "round-off (not in the order fit)"),
              ORDER_TOO_FEW: ("D", "too few points for an order")}


def _order_floor(res, points):
    """Round-off floor of the order estimate at sweep points `points`: /points/err_floor as the
    harness derived it (ten times what the step solves left, /points/solve_residual;
    -sweep_order_floor); files written
    before that column: -sweep_order_floor (then x max|q0|, which the file does not hold; the
    shipped families start at |q0| ~ 1) with its old default."""
    P = res.points
    if P is not None and "err_floor" in P:
        return np.asarray(P["err_floor"][points], float)
    return _option(res, "sweep_order_floor", 1e-12)


def _baseline_floor(res, B, idx):
    """Round-off floor of /baselines rows idx: the explicit integration's own (/baselines/err_floor,
    ~N eps |q0|: no solver tolerance), raised to the reference run's floor (/points/err_floor of
    the group's point) where the errors are against that run (/points/error_kind 2). Files
    without the column: the group point's floor, as before."""
    pts = np.asarray(B["point"][idx], int)
    pf = np.broadcast_to(np.asarray(_order_floor(res, pts), float), pts.shape)
    if "err_floor" not in B:
        return pf
    own = np.asarray(B["err_floor"][idx], float)
    P = res.points
    ek = np.asarray(P["error_kind"][pts]) if P is not None and "error_kind" in P else np.full(pts.shape, 2)
    return np.where(ek == 2, np.maximum(own, pf), own)


def _group_order(res, O, i, idx, dt, err, ok):
    """(result dict, marks) of /orders row i over its points idx: the asymptotic order and the
    per-point marks written by the harness (/orders/order_lsq present, /points/order_mark), or the
    same estimate computed here (slimresults.order_estimate) for files without them."""
    P = res.points
    est, marks = order_estimate(dt, err, ok, _order_floor(res, idx))
    if "order_lsq" in O:  # the harness's asymptotic estimate (docs/figures.md, /orders columns)
        for k, c in (("order", "order"), ("order_finest", "order_finest"), ("order_lsq", "order_lsq"),
                     ("n_used", "n_used"), ("dt_min_used", "dt_used_min"), ("dt_max_used", "dt_used_max")):
            if c in O:
                est[k] = O[c][i]
    if "order_mark" in P:
        marks = np.asarray(P["order_mark"][idx], int)
    return est, marks


def _draw_order_series(ax, dt, err, est, marks, c, p, lab, ls="-", mk="o"):
    """Errors of one series: filled markers on the points of the order fit, open ones (shape by
    reason) on the others, and the slope-p guide through the finest used point."""
    fin = finite_pos(err)
    ax.loglog(dt[fin], err[fin], ls, color=c, lw=1.0, alpha=0.45)
    used = fin & (marks == ORDER_USED)
    ax.loglog(dt[used], err[used], mk + ls, color=c, label=lab)
    for m, (shape, _) in MARK_STYLE.items():
        sel = fin & (marks == m)
        if sel.any():
            ax.loglog(dt[sel], err[sel], shape, mfc="w", mec=c, mew=1.8, ms=9, ls="none")
    if used.any() and p:
        j = np.flatnonzero(used)[np.argmin(dt[used])]
        xx = np.array([dt[fin].min(), dt[fin].max()])
        ax.loglog(xx, err[j] * (xx / dt[j]) ** p, "--", color=c, lw=1.2, alpha=0.8)
    return {int(m) for m in marks[fin]}


def fig_error_vs_dt(res):
    O, P = res.orders, res.points
    if O is None or P is None:
        raise Skip("no /orders table (needs points differing only in dt: -sweep_dt with two or more values)")
    okO = O["n_dt"] >= 2
    if not okO.any():
        raise Skip("/orders has no group with two or more usable errors (err_q_final)")
    fin = P.finished()
    fams = list(dict.fromkeys(O["family"][okO]))
    fig, axes = grid(len(fams), ncols=min(len(fams), 2), w=7.5, h=7.6)
    B = res.baselines
    nlines = 0
    for ax, fam in zip(axes, fams):
        rows = np.flatnonzero(okO & (O["family"] == fam))
        # σ only changes the fits; B and the step solver do not change the errors: one of each
        rows = rows[O["sigma"][rows] == O["sigma"][rows].min()]
        rows = rows[O["B"][rows] == O["B"][rows].min()]
        rows = rows[O["solver"][rows] == O["solver"][rows[0]]]
        extra = ["N", "T"]
        tuples = [tuple(O[c][i] if not (c == "T" and not np.isfinite(O[c][i])) else -1 for c in extra) for i in rows]
        show = varying(extra, tuples)
        ekind = 0
        Ts, alldt, kinds, emin = [], [], set(), []
        for ci, i in enumerate(rows):
            r = int(O["r"][i])
            # the group's points: same family, r, sigma, B, solver and N (or T)
            m = fin & (P["family"] == fam) & (P["r"] == r) & (P["sigma"] == O["sigma"][i]) & \
                (P["B"] == O["B"][i]) & (P["solver"] == O["solver"][i])
            if O["N"][i] >= 0:
                m &= P["N"] == O["N"][i]
            else:
                m &= np.isclose(P["T"], O["T"][i], rtol=1e-9)
            idx = np.flatnonzero(m)
            if idx.size < 2:
                continue
            idx = idx[np.argsort(P["dt"][idx])]
            dt, err = P["dt"][idx], np.asarray(P.col("err_q_final")[idx], float)
            est, marks = _group_order(res, O, i, idx, dt, err, P["status"][idx] == 0)
            if not finite_pos(err).any():
                continue
            alldt += list(dt)
            ekind = max(ekind, int(np.nanmax(P["error_kind"][idx])))
            Ts.append(float(P["T"][idx[0]]))
            p = 2 * r + 2
            if np.isfinite(est["order"]):
                lab = (f"r = {r}: order {est['order']:.2f} (expected {p}), "
                       f"Δt {fmt(est['dt_min_used'])}–{fmt(est['dt_max_used'])}")
            else:
                lab = f"r = {r}: no order (fewer than 2 usable errors)"
            if show:
                lab += ", " + label_of(extra, tuples[ci], show)
            kinds |= _draw_order_series(ax, dt, err, est, marks, color(ci), p, lab)
            emin.append(err[finite_pos(err)].min())
            nlines += 1
        if B is not None and Ts:
            okb = B.finished() & (B["family"] == fam) & np.isclose(B["T"], Ts[0], rtol=1e-9)
            for k, idx in groups(B, okb, ["type"]).items():
                if len(np.unique(B["dt"][idx])) < 2:
                    continue
                idx = idx[np.argsort(B["dt"][idx])]
                dt, err = B["dt"][idx], np.asarray(B.col("err_q_final")[idx], float)
                # the floor of the point the baseline shares family, dt, N and reference run with
                est, marks = order_estimate(dt, err, B["status"][idx] == 0, _baseline_floor(res, B, idx))
                lab = f"{rk_name(k[0])}: " + (f"order {est['order']:.2f}, Δt {fmt(est['dt_min_used'])}–{fmt(est['dt_max_used'])}"
                                              if np.isfinite(est["order"]) else "no order")
                kinds |= _draw_order_series(ax, dt, err, est, marks, RK_COLORS.get(k[0], "0.4"), None, lab, ls=":", mk="s")
        ax.add_line(Line2D([], [], ls="--", lw=1.3, color="0.3", label="slope 2r + 2 through the finest fitted point"))
        for m, (shape, what) in MARK_STYLE.items():
            if m in kinds:
                ax.add_line(Line2D([], [], marker=shape, ls="none", mfc="w", mec="0.3", mew=1.8, ms=9, label=what))
        against = {1: "exact solution", 2: "reference run"}.get(ekind, "reference")
        qu = q_unit(fam)
        if emin:  # the guides must not stretch the axis far below the data
            ax.set_ylim(bottom=min(emin) / 20)
        data_ticks(ax.xaxis, alldt)
        ax.set_xlabel(f"time step Δt [{time_unit(fam)}]")
        ax.set_ylabel(f"error in q at t = T vs {against}" + (f" [{qu}]" if qu else ""))
        ax.set_title(f"{fam}: error vs Δt" + (f" (T = {fmt(Ts[0])})" if len(set(Ts)) == 1 else "")
                     + "\norder: least squares over the finest Δt whose pair slopes agree")
        legend(ax, below=True, ncol=1)
    if not nlines:
        plt.close(fig)
        raise Skip("no finished points with errors for the /orders groups")
    return [("", fig)]


# ---------------------------------------------------------------- fits: landscape

def _fit_rows(res):
    """(/fit_summary, its point column, mask of rows with a valid point), or None without fits."""
    FS, P = res.fit_summary, res.points
    if FS is None or P is None or "point" not in FS:
        return None
    pt = FS["point"]
    valid = (pt >= 0) & (pt < P.nrows)
    return FS, pt, valid


def _truth(res, point, names):
    """True parameter values {name: value} of a point from /fit_summary (NaN if unknown)."""
    fr = _fit_rows(res)
    if fr is None:
        return {}
    FS, pt, valid = fr
    rows = np.flatnonzero(valid & (pt == point))
    for i in rows:
        if "theta_true" in FS and np.isfinite(FS["theta_true"][i]).any():
            pn = split_list(FS["param_names"][i]) if "param_names" in FS else []
            return {n: FS["theta_true"][i][j] for j, n in enumerate(pn) if n in names}
    return {}


def _paths(res, point, loss_type, params):
    """Gradient-descent paths of a point and loss over two parameters: list of [it, 2] arrays and
    whether they are full paths (/fit_paths) or just start -> end (/fits)."""
    fr = _fit_rows(res)
    if fr is None:
        return [], False
    FS, pt, valid = fr
    rows = np.flatnonzero(valid & (pt == point) & (FS["loss"] == loss_type) & (FS.col("status", 0) == 0))
    if not rows.size:
        return [], False
    if "method" in FS:  # the report's gradient descent first
        rows = rows[np.argsort(FS["method"][rows] != "gd", kind="stable")]
    row = rows[0]
    arr, cols = res.fit_path(row)
    names = split_list(FS["param_names"][row]) if "param_names" in FS else cols
    if arr is not None and all(p in cols for p in params):
        j0, j1 = cols.index(params[0]), cols.index(params[1])
        out = []
        for k in range(arr.shape[0]):
            xy = arr[k][:, [j0, j1]]
            xy = xy[np.isfinite(xy).all(axis=1)]
            if len(xy):
                out.append(xy)
        return out, True
    F = res.fits
    if F is not None and all(p in names for p in params) and "theta_init" in F:
        j0, j1 = names.index(params[0]), names.index(params[1])
        m = (F["point"] == point) & (F["config"] == FS["config"][row]) & (F["status"] >= 0)
        out = [np.array([[F["theta_init"][i][j0], F["theta_init"][i][j1]],
                         [F["theta_final"][i][j0], F["theta_final"][i][j1]]]) for i in np.flatnonzero(m)]
        return [o for o in out if np.isfinite(o).all()], False
    return [], False


def _subsample(xy, n):
    """At most about n points of a path, always keeping its first and last."""
    if len(xy) <= n:
        return xy
    idx = np.unique(np.r_[np.linspace(0, len(xy) - 1, n).astype(int), len(xy) - 1])
    return xy[idx]


def fig_landscape(res):
    L = res.landscapes()
    if not L:
        raise Skip("no /landscape (run with -landscape_params p0,p1; descent paths on it need -fit_guesses K -fit_store_path)")
    P = res.points
    L = [e for e in L if np.isfinite(e["loss"]).any()]
    if not L or P is None:
        raise Skip("the /landscape tables hold no computed rows")
    out = []
    fams = list(dict.fromkeys(P["family"][e["point"]] for e in L))
    cfg_keys = ["r", "dt", "N", "B", "solver"]
    for fam in fams:
        ent = [e for e in L if P["family"][e["point"]] == fam]
        ref = ent[0]["point"]
        cfg = tuple(P[c][ref] for c in cfg_keys)
        ent = [e for e in ent if tuple(P[c][e["point"]] for c in cfg_keys) == cfg]
        sig = sorted(set(float(P["sigma"][e["point"]]) for e in ent))
        if len(sig) > 3:
            sig = [sig[0], sig[len(sig) // 2], sig[-1]]
        losses = list(dict.fromkeys(e["loss_type"] for e in ent))
        fig, axes = plt.subplots(len(losses), len(sig), figsize=(6.8 * len(sig), 5.4 * len(losses)),
                                 squeeze=False, constrained_layout=True)
        full_any = left_any = False
        first = None
        for li, lt in enumerate(losses):
            for si, s in enumerate(sig):
                ax = axes[li][si]
                e = next((e for e in ent if e["loss_type"] == lt and float(P["sigma"][e["point"]]) == s), None)
                if e is None:
                    ax.set_visible(False)
                    continue
                Z = e["loss"]
                ax.grid(False)
                pos = Z[finite_pos(Z)]
                if pos.size:
                    vmax = pos.max()
                    norm = LogNorm(vmin=max(pos.min(), vmax * 1e-12), vmax=vmax)
                    Zp = np.where(finite_pos(Z), Z, norm.vmin)
                else:
                    norm, Zp = None, Z
                im = ax.pcolormesh(e["p0"], e["p1"], Zp.T, norm=norm, shading="nearest", cmap="viridis")
                if norm is not None and np.isfinite(Zp).all():
                    lv = np.logspace(np.log10(norm.vmin), np.log10(norm.vmax), 9)[1:-1]
                    ax.contour(e["p0"], e["p1"], Zp.T, levels=lv, colors="w", linewidths=0.7, alpha=0.6)
                fig.colorbar(im, ax=ax, label=f"{lt} loss" + (" (log scale)" if norm is not None else ""))
                paths, full = _paths(res, e["point"], lt, e["params"])
                full_any |= full
                # thin, subsampled paths; every path ends in a marker: x where the descent ended
                # inside the box, a triangle on the edge where it left the box
                halo = [patheffects.withStroke(linewidth=1.8, foreground="k")]
                box = (e["p0"].min(), e["p0"].max(), e["p1"].min(), e["p1"].max())
                for k, xy in enumerate(paths):
                    xy = _subsample(xy, 150)
                    inside = (xy[:, 0] >= box[0]) & (xy[:, 0] <= box[1]) & (xy[:, 1] >= box[2]) & (xy[:, 1] <= box[3])
                    outside = np.flatnonzero(~inside)
                    leaves = outside.size and outside[0] > 0
                    seg = xy[:outside[0] + 1] if leaves else xy
                    ax.plot(seg[:, 0], seg[:, 1], "-" if full else ":", color="w", lw=0.8, alpha=0.9, path_effects=halo)
                    ax.plot(xy[0, 0], xy[0, 1], "o", ms=5, mfc="w", mec="k", mew=1.0,
                            label="random initial guess" if k == 0 else None)
                    if leaves:
                        ex = np.clip(seg[-1], [box[0], box[2]], [box[1], box[3]])
                        ax.plot(ex[0], ex[1], "^", ms=8, color="tab:orange", mec="k", mew=0.8, clip_on=False)
                        left_any = True
                    else:
                        ax.plot(xy[-1, 0], xy[-1, 1], "x", ms=7, color="tab:red", mew=2.0,
                                label="end of descent" if k == 0 else None)
                tr = _truth(res, e["point"], e["params"])
                if len(tr) == 2:
                    ax.plot(tr[e["params"][0]], tr[e["params"][1]], "*", ms=17, color="gold", mec="k",
                            label="truth")
                ax.set_xlim(e["p0"].min(), e["p0"].max())
                ax.set_ylim(e["p1"].min(), e["p1"].max())
                ax.set_xlabel(f"trial {e['params'][0]}")
                ax.set_ylabel(f"trial {e['params'][1]}")
                ax.grid(False)
                ax.set_title(f"{lt} loss, σ = {fmt(s)}" + (f", {len(paths)} descents" if paths else ""))
                if li == 0 and si == 0:
                    first = ax
        if first is not None:
            if left_any:
                first.add_line(Line2D([], [], marker="^", ls="none", ms=8, color="tab:orange", mec="k",
                                      label="left the box (where it crossed the edge)"))
            legend(first, loc="upper left", fontsize=12)
        how = "gradient-descent paths" if full_any else "descents (start → end; -fit_store_path for paths)"
        fig.suptitle(f"{fam}: loss landscape with {how} (r = {cfg[0]}, Δt = {fmt(cfg[1])}, N = {cfg[2]})")
        out.append((fam if len(fams) > 1 else "", fig))
    return out


# ---------------------------------------------------------------- fits: RMS loss change vs sigma

def fig_noise_rms(res):
    fr = _fit_rows(res)
    if fr is None:
        raise Skip("no /fit_summary (fits: -fit_guesses K, noise slice: -fit_slice_n n)")
    FS, pt, valid = fr
    if "slice_rms_change" not in FS:
        raise Skip("no noise slice in /fit_summary (run with -fit_slice_n n)")
    P = res.points
    ok = valid & FS.ok() & np.isfinite(FS["slice_rms_change"])
    rows = np.flatnonzero(ok)
    keys = ["family", "loss", "r", "dt", "N", "B", "solver"]
    # one row per (group, sigma): the slice does not depend on the optimiser
    G = {}
    for i in rows:
        p = pt[i]
        k = (FS["family"][i], FS["loss"][i]) + tuple(P[c][p] for c in keys[2:])
        G.setdefault(k, {}).setdefault(float(FS["sigma"][i]), i)
    G = {k: v for k, v in G.items() if sum(1 for s in v if s > 0) >= 2}
    if not G:
        raise Skip("needs the noise slice at two or more noise levels σ > 0 (-sweep_sigma, -fit_slice_n)")
    fl = list(dict.fromkeys(k[:2] for k in G))[:4]
    fig, axes = plt.subplots(len(fl), 3, figsize=(20, 5.6 * len(fl)), squeeze=False, constrained_layout=True)
    cmap = plt.get_cmap("viridis")
    for ri, (fam, lt) in enumerate(fl):
        sub = {k: v for k, v in G.items() if k[:2] == (fam, lt)}
        show = varying(keys, list(sub))
        # the slice itself, for the first group (weekly report fig. 4)
        k0, bysig = next(iter(sub.items()))
        ax = axes[ri][0]
        sigs = sorted(bysig)
        for j, s in enumerate(sigs):
            i = bysig[s]
            x = FS["slice_values"][i]
            ax.plot(x, FS["slice_loss"][i], "-", color=cmap(j / max(1, len(sigs) - 1)), label=f"σ = {fmt(s)}")
        i = bysig[sigs[0]]
        ax.plot(FS["slice_values"][i], FS["slice_loss_clean"][i], "--", color="k", lw=2.5, label="no noise")
        par = FS["slice_param"][i] if "slice_param" in FS else "parameter"
        ax.set_yscale("log")  # losses of different σ differ by orders of magnitude
        ax.set_xlabel(f"{par} (other parameters at the truth)")
        ax.set_ylabel(f"{lt} loss (log scale)")
        ax.set_title(f"{fam}: {lt} loss along {par}")
        legend(ax, below=True, ncol=3)
        # RMS change (weekly report fig. 5), absolute and relative
        for col, (field, ylab) in enumerate([("slice_rms_change", "RMS change of the loss"),
                                             ("slice_rms_rel", "RMS change / RMS loss")], start=1):
            ax = axes[ri][col]
            for ci, (k, bysig) in enumerate(sub.items()):
                s = np.array(sorted(x for x in bysig if x > 0))
                y = np.array([FS[field][bysig[x]] for x in s]) if field in FS else np.array([])
                m = finite_pos(y)
                if m.sum() >= 2:
                    ax.loglog(s[m], y[m], "o-", color=color(ci), label=label_of(keys, k, show) or None)
            ax.set_xlabel("noise σ of the observations")
            ax.set_ylabel(ylab)
            ax.set_title(f"{fam}: {lt} loss, {'RMS change' if col == 1 else 'relative RMS change'} vs σ")
            legend(ax, loc="upper left")
    return [("", fig)]


# ---------------------------------------------------------------- fits: parameter error vs sigma

def fig_fit_error(res):
    F, FS, P = res.fits, res.fit_summary, res.points
    if F is None or FS is None or P is None:
        raise Skip("no /fits table (run with -fit_guesses K)")
    nconf = res.n_configs()
    if not nconf:
        raise Skip("/fit_summary has no configurations")
    fin = F.finished() & (F["status"] != 2) & (F["point"] >= 0) & (F["point"] < P.nrows)
    if not fin.any():
        raise Skip("no finished fits that did not diverge")
    pts = F["point"]
    srow = pts * nconf + F["config"]
    cfg_keys = ["r", "dt", "N", "B", "solver"]
    fams = []
    for fam in dict.fromkeys(P["family"][pts[fin]]):
        m = fin & (P["family"][pts] == fam)
        ref = pts[np.flatnonzero(m)[0]]
        cfg = tuple(P[c][ref] for c in cfg_keys)
        for c, v in zip(cfg_keys, cfg):
            m &= P[c][pts] == v
        if len(np.unique(P["sigma"][pts[m]])) >= 2:
            fams.append((fam, cfg, m))
    if not fams:
        raise Skip("needs fits at two or more noise levels σ (-sweep_sigma with -fit_guesses K)")
    fams = fams[:3]
    fig, axes = plt.subplots(len(fams), 3, figsize=(20, 7.8 * len(fams)), squeeze=False, constrained_layout=True)
    for ri, (fam, cfg, m) in enumerate(fams):
        rows = np.flatnonzero(m)
        r0 = srow[rows[0]]
        pnames = split_list(FS["param_names"][r0])
        rnames = split_list(FS["ratio_names"][r0]) if "ratio_names" in FS else []
        fitted = split_list(FS["fitted"][r0]) if "fitted" in FS else pnames
        confs = sorted(set(F["config"][rows].tolist()))
        sig_all = np.unique(P["sigma"][pts[rows]])
        sx = SigmaScale(sig_all)
        truth = {"param_err": np.asarray(FS["theta_true"][r0], float) if "theta_true" in FS else np.full(len(pnames), np.nan),
                 "ratio_err": np.asarray(FS["ratio_true"][r0], float) if "ratio_true" in FS else np.full(len(rnames), np.nan)}
        stdcol = {"param_err": "param_std", "ratio_err": "ratio_std"}
        for col, (field, names, keep) in enumerate([("param_err", pnames, fitted),
                                                    ("ratio_err", rnames, rnames)]):
            ax = axes[ri][col]
            if field not in F:
                ax.set_visible(False)
                continue
            absolute = False
            band = False
            for ci, c in enumerate(confs):
                conf_lab = f"{FS['loss'][pts[rows[0]] * nconf + c]}/{FS['method'][pts[rows[0]] * nconf + c]}"
                for j, name in enumerate(names):
                    if name not in keep or j >= F[field].shape[1]:
                        continue
                    tj = truth[field][j] if j < len(truth[field]) else np.nan
                    zero = tj == 0  # errors are absolute where the truth is 0 (docs/fits.md)
                    absolute |= bool(zero)
                    med, xs, lo, hi = [], [], [], []
                    for s in sig_all:
                        sel = rows[(F["config"][rows] == c) & (P["sigma"][pts[rows]] == s)]
                        v = F[field][sel, j]
                        v = v[np.isfinite(v)]
                        if v.size:
                            xs.append(s)
                            med.append(np.median(v))
                            vp = v[v > 0]
                            ax.plot(sx(np.full(vp.size, s)), vp, ".", color=color(ci), alpha=0.3, ms=6)
                            # the fits' own uncertainty (phase 2: /fits/param_std, ratio_std), on
                            # the error's scale: 1 to 3 std of the median fit
                            if stdcol[field] in F and F[stdcol[field]].ndim == 2 and j < F[stdcol[field]].shape[1]:
                                sd = F[stdcol[field]][sel, j]
                                sd = sd[np.isfinite(sd)]
                                scale = 1.0 if zero or not np.isfinite(tj) else abs(tj)
                                sm = np.median(sd) / scale if sd.size else np.nan
                                lo.append(sm)
                                hi.append(3 * sm)
                            else:
                                lo.append(np.nan)
                                hi.append(np.nan)
                    med = np.array(med)
                    lo, hi = np.array(lo), np.array(hi)
                    bm = finite_pos(lo) & finite_pos(hi)
                    if bm.sum() >= 1:
                        ax.fill_between(sx(xs)[bm], lo[bm], hi[bm], color=color(ci), alpha=0.15, lw=0)
                        band = True
                    if finite_pos(med).sum() >= 1:
                        ls = ["-", "--", ":", "-."][j % 4]
                        mk = ["o", "s", "^", "D"][j % 4]
                        mm = finite_pos(med)
                        ax.plot(sx(xs)[mm], med[mm], ls, marker=mk, color=color(ci),
                                label=f"{name}, {conf_lab}" + (" (absolute error: truth 0)" if zero else ""))
            if band:
                ax.add_patch(matplotlib.patches.Rectangle((0, 0), 0, 0, color="0.5", alpha=0.3,
                                                          label="1–3 std of the fits (Gauss–Newton)"))
            sx.finish(ax)
            ax.set_yscale("log")
            what = "parameter" if col == 0 else "identifiable ratio"
            ax.set_ylabel(f"relative {what} error" + ("\n(absolute where the truth is 0)" if absolute else ""))
            ax.set_title(f"{fam}: fitted {what} error\n(line: median, dots: each fit)")
            legend(ax, below=True)
        # fraction of fits that converged / recovered the truth
        ax = axes[ri][2]
        for ci, c in enumerate(confs):
            xs, fc, fr_ = [], [], []
            for s in sig_all:
                p = pts[rows][(P["sigma"][pts[rows]] == s)]
                if not p.size:
                    continue
                i = p[0] * nconf + c
                if i < FS.nrows and FS.ok()[i] and "frac_recovered" in FS:
                    xs.append(s)
                    fc.append(FS["frac_converged"][i])
                    fr_.append(FS["frac_recovered"][i])
            if xs:
                conf_lab = f"{FS['loss'][i]}/{FS['method'][i]}"
                ax.plot(sx(xs), fr_, "o-", color=color(ci), label=f"recovered (tolerance), {conf_lab}")
                ax.plot(sx(xs), fc, "s--", color=color(ci), alpha=0.7, label=f"converged, {conf_lab}")
            if "consistent" in F:  # phase 2: truth within 3 std of each fit (docs/figures.md)
                xs2, fcons = [], []
                for s in sig_all:
                    sel = rows[(F["config"][rows] == c) & (P["sigma"][pts[rows]] == s)]
                    cv = np.asarray(F["consistent"][sel])
                    cv = cv[cv >= 0]
                    if cv.size:
                        xs2.append(s)
                        fcons.append(cv.mean())
                if xs2:
                    ax.plot(sx(xs2), fcons, "^:", color=color(ci), ms=9,
                            label=f"consistent (truth within 3 std), {FS['loss'][pts[rows[0]] * nconf + c]}/{FS['method'][pts[rows[0]] * nconf + c]}")
        sx.finish(ax)
        ax.set_ylim(-0.05, 1.05)
        ax.set_ylabel("fraction of the fits")
        ax.set_title(f"{fam}: fits converged, recovered" + (",\nconsistent with the truth" if "consistent" in F else "\nthe ratios (-fit_recover_tol)"))
        legend(ax, below=True)
        axes[ri][0].annotate(f"r = {cfg[0]}, Δt = {fmt(cfg[1])}, N = {cfg[2]}", (0.99, 0.02),
                             xycoords="axes fraction", ha="right", va="bottom", fontsize=12,
                             bbox=dict(fc="w", ec="0.7", alpha=0.85))
    return [("", fig)]


# ---------------------------------------------------------------- fits: observed vs fitted motion

# the seed paper's network on the DHO family (lagrangian-nn-slimplectic-jax-paper, section 4.4)
PAPER_RMS = {"q": 0.050, "pi": 0.10}


def fig_fit_obs(res):
    obs = read_fit_obs(res.f)
    obs = [d for d in obs if "q_fit" in d and "q_obs" in d]
    if not obs:
        raise Skip("no /fit_obs (observations and the best fit's predicted motion per fit configuration: "
                   "written by the harness with -fit_guesses K, docs/figures.md)")
    note = ""
    if len(obs) > 4:  # the largest noise of each configuration first: that is where fits differ
        obs = sorted(obs, key=lambda d: (-float(d.get("sigma", 0) or 0), d["row"]))[:4]
        note = " (4 of the file's configurations, largest σ)"
    fig, axes = plt.subplots(len(obs), 2, figsize=(17, 5.4 * len(obs)), squeeze=False, constrained_layout=True)
    for (aq, ap), d in zip(axes, obs):
        t = d["t"]
        dof = d["q_obs"].shape[1]
        lab = f"{d.get('loss', '?')}/{d.get('method', '?')}, σ = {fmt(float(d.get('sigma', np.nan)))}"
        for a in range(dof):
            sub = f"q{a}" if dof > 1 else "q"
            c = color(a)
            aq.plot(t, d["q_obs"][:, a], ".", color="0.45", ms=4, label="observed (with noise)" if a == 0 else None)
            if "q_true" in d:
                aq.plot(t, d["q_true"][:, a], "-", color=c, lw=2.5, alpha=0.45, label=f"true {sub}")
            aq.plot(t, d["q_fit"][:, a], "--", color=c, lw=1.6, label=f"best fit {sub}")
            if "pi_fit" in d:
                if "pi_true" in d:
                    ap.plot(t, d["pi_true"][:, a], "-", color=c, lw=2.5, alpha=0.45, label=f"true π{a if dof > 1 else ''}")
                ap.plot(t, d["pi_fit"][:, a], "--", color=c, lw=1.6, label=f"best fit π{a if dof > 1 else ''}")
        aq.set_title(f"{lab}: q(t), RMS error of the fit {d['rms_q']:.3g}\n(seed paper's network: {PAPER_RMS['q']})")
        ap.set_title(f"π(t), RMS error of the fit {d['rms_pi']:.3g} (seed paper's network: {PAPER_RMS['pi']})")
        aq.set_ylabel("q")
        ap.set_ylabel("π (conjugate momentum)")
        for ax in (aq, ap):
            ax.set_xlabel("time t")
            legend(ax, loc="upper right", ncol=1)
    fig.suptitle("Observed vs fitted motion: the lowest-loss fit of each configuration integrated from the "
                 "observations' initial state" + note)
    return [("", fig)]


# ---------------------------------------------------------------- scaling (several files)

def _runs(results, complete_only):
    runs = []
    for res in results:
        sig = res.root_attr("sweep_signature", res.path)
        for s in res.sessions():
            if s["ranks"] is None or not s["nranks"]:
                continue
            if complete_only and not (s["complete"] and s["tasks_done_before"] == 0
                                      and np.isfinite(s["makespan"]) and s["makespan"] > 0):
                continue
            R = s["ranks"]
            busy = np.asarray(R.col("busy"), float)
            runs.append(dict(file=res.name, k=s["k"], sig=sig, P=s["nranks"], T=s["makespan"],
                             busy=busy, idle=np.asarray(R.col("idle"), float), kind=s["kind"],
                             complete=s["complete"]))
    return runs


def _weak_key(sig):
    """Signature without the step counts: runs of a weak-scaling series (N scaled with P) share it."""
    return re.sub(r"(^| )N=[^ ]*", " N=*", sig)


def _first_n(sig):
    m = re.search(r"(?:^| )N=([0-9]+)", sig)
    return int(m.group(1)) if m else None


def fig_scaling(results):
    runs = _runs(results, True)
    series = []  # (kind, runs)
    bysig = {}
    for r in runs:
        bysig.setdefault(r["sig"], []).append(r)
    for rr in bysig.values():
        if len({r["P"] for r in rr}) >= 2:
            series.append(("strong", rr))
    # weak scaling: the same sweep with every N scaled by the rank count (jobs/scaling_weak.sbatch)
    byweak = {}
    for r in runs:
        byweak.setdefault(_weak_key(r["sig"]), []).append(r)
    for rr in byweak.values():
        byratio = {}
        for r in rr:
            n = _first_n(r["sig"])
            if n is not None:
                byratio.setdefault(round(n / r["P"], 9), []).append(r)
        for sub in byratio.values():
            if len({r["P"] for r in sub}) >= 2 and len({r["sig"] for r in sub}) >= 2:
                series.append(("weak", sub))
    if not series:
        found = ", ".join(f"{r['file']}: {r['P']} ranks" for r in runs) or "no complete initial runs"
        raise Skip("needs the same sweep run to completion on two or more rank counts (strong scaling) or "
                   f"with N scaled by the rank count (weak scaling; pass several results files); found {found}")
    fig, (a1, a2) = grid(2, w=7.5, h=5.8)
    pmin, pmax = min(r["P"] for _, rr in series for r in rr), max(r["P"] for _, rr in series for r in rr)
    for ci, (kind, rr) in enumerate(series):
        Ps = sorted({r["P"] for r in rr})
        T = np.array([min(r["T"] for r in rr if r["P"] == p) for p in Ps])
        lb = np.array([max(np.nansum(r["busy"]) / (r["P"] * r["T"]) for r in rr if r["P"] == p) for p in Ps])
        Ps = np.array(Ps)
        if kind == "strong":
            S = Ps[0] * T[0] / T          # speed-up of the fixed sweep
        else:
            S = Ps * T[0] / T             # scaled speed-up: P times the work in T(P)
        E = S / Ps
        files = sorted({r["file"] for r in rr})
        lab = f"{kind}: " + (", ".join(files) if len(files) <= 2 else f"{files[0]} … ({len(files)} files)")
        c = color(ci)
        a1.plot(Ps, S, "o-", color=c, label=lab)
        a2.plot(Ps, 100 * E, "o-", color=c, label=lab)
        a2.plot(Ps, 100 * lb, "s--", color=c, mfc="none", alpha=0.8, label=f"{kind}: Σ busy / (P · makespan)")
        for p, t, y in zip(Ps, T, S):
            a1.annotate(f"{t:.3g} s", (p, y), textcoords="offset points", xytext=(6, -14 - 15 * ci), fontsize=12,
                        color=c)
    pp = np.array([pmin, pmax], float)
    a1.plot(pp, pp, ":", color="0.3", label="ideal")
    a2.axhline(100, ls=":", color="0.3")
    a2.axhline(90, ls="-", color="0.6", lw=1, label="90 % target")
    for ax in (a1, a2):
        ax.set_xlabel("MPI ranks P")
        ax.margins(x=0.1)
        if pmax >= 8:
            ax.set_xscale("log", base=2)
        else:
            ax.xaxis.get_major_locator().set_params(integer=True)
    if pmax >= 8:
        a1.set_yscale("log", base=2)
    a1.set_ylabel("speed-up" + (f" (≡ {pmin} at {pmin} ranks)" if pmin > 1 else ""))
    a1.set_title("Speed-up: strong T(P₀)/T(P), weak P·T(P₀)/T(P)", fontsize=14)
    a2.set_ylabel("parallel efficiency [%]")
    a2.set_ylim(0, 110)
    a2.set_title("Efficiency: speed-up / P (makespan of the sweep)", fontsize=14)
    legend(a1, below=True)
    legend(a2, below=True)
    return [("", fig)]


def fig_rank_load(results):
    runs = _runs(results, False)
    if not runs:
        raise Skip("no /sessions/<k>/ranks tables")
    note = ""
    if len(runs) > 6:
        note = f" (first 6 of {len(runs)} runs)"
        runs = sorted(runs, key=lambda r: r["P"])[:6]
    runs = sorted(runs, key=lambda r: (r["P"], r["file"], r["k"]))
    fig, axes = grid(len(runs), ncols=min(len(runs), 2), w=7.5, h=5.4)
    for ax, r in zip(axes, runs):
        x = np.arange(r["P"])
        busy, idle = np.nan_to_num(r["busy"]), np.nan_to_num(r["idle"])
        wide = r["P"] <= 64
        wd = 0.6 if r["P"] < 4 else 0.8
        ax.bar(x, busy, width=wd, color="tab:blue", label="busy (computing tasks)", edgecolor="k" if wide else None)
        ax.bar(x, idle, width=wd, bottom=busy, color="0.8", hatch="//" if wide else None,
               label="idle (waiting, I/O)", edgecolor="0.5" if wide else None)
        if r["P"] < 4:
            ax.set_xlim(-1, 4)
        eff = np.nansum(r["busy"]) / (r["P"] * r["T"]) if r["T"] > 0 else np.nan
        ax.set_xlabel("MPI rank")
        ax.set_ylabel("time [s]")
        if wide:
            ax.set_xticks(x if r["P"] <= 16 else x[::max(1, r["P"] // 8)])
        kind = "" if r["kind"] in ("", "initial run") else f" ({r['kind']})"
        ax.set_title(f"{r['file']} session {r['k']}{kind}: P = {r['P']}\n"
                     f"makespan {r['T']:.3g} s, efficiency Σbusy/(P·makespan) = {100 * eff:.0f}%")
        ax.set_ylim(0, max(r["T"], np.nanmax(busy + idle)) * 1.25)
        legend(ax, loc="upper right", ncol=1)
    if note:
        fig.suptitle("Per-rank busy and idle time" + note)
    return [("", fig)]


def fig_workprecision(res):
    """Error against wall time per trajectory per unit time, every integrator, one figure per
    family (analysis/workprecision.py, which also prints the cheapest-integrator tables)."""
    import workprecision as wp
    figs = [(fam, wp.figure(res, fam)[0]) for fam in wp.families(res)]
    figs = [(fam, fig) for fam, fig in figs if fig is not None]
    if not figs:
        raise Skip("no finished points or baselines with err_q_final and a timed repeat")
    return figs


# ---------------------------------------------------------------- registry

# name, per_file, function, what it shows
FIGURES = [
    ("time_vs_N", True, fig_time_vs_N, "integration time vs steps N, slimplectic vs RK baselines, linear-regime fit"),
    ("time_vs_r", True, fig_time_vs_r, "setup and integration time vs interior points r"),
    ("speed_vs_B", True, fig_speed_vs_B, "time per trajectory-step vs ensemble size B, ensemble vs a loop of single runs"),
    ("energy_error", True, fig_energy_error, "fractional energy error vs time, slimplectic vs RK2/RK4"),
    ("orbit_evolution", True, fig_orbit_evolution, "PR drag: orbit-averaged a(t), e(t), slimplectic r = 0, 1 vs RK4 vs the secular rate"),
    ("error_vs_dt", True, fig_error_vs_dt, "error vs Δt per r with the fitted order and the 2r+2 slope"),
    ("landscape", True, fig_landscape, "loss landscape with gradient-descent paths (weekly report figs 2, 3, 8)"),
    ("noise_rms", True, fig_noise_rms, "loss along a slice and RMS loss change vs σ (weekly report figs 4, 5)"),
    ("fit_error", True, fig_fit_error, "fitted-parameter and ratio error vs σ"),
    ("fit_obs", True, fig_fit_obs, "observed vs fitted q(t), π(t) of the best fit, RMS error in q and π"),
    ("workprecision", True, fig_workprecision, "error vs wall time per trajectory per unit time, every integrator, per family"),
    ("scaling", False, fig_scaling, "speed-up and efficiency vs MPI ranks (several files)"),
    ("rank_load", False, fig_rank_load, "per-rank busy/idle time of every run"),
]
NAMES = [f[0] for f in FIGURES]


def save(fig, outdir, base):
    paths = []
    for ext in ("png", "pdf"):
        p = os.path.join(outdir, f"{base}.{ext}")
        fig.savefig(p)
        paths.append(p)
    plt.close(fig)
    return paths


def make(results, outdir, only, dry=False):
    """Draws the figures; returns (written {name: [paths]}, skipped {name: reason}, failed {name: msg}).

    A figure drawn from one file is NAME[_suffix]; when several input files give it, each copy gets
    the file's name appended (NAME[_suffix]_<file>)."""
    written, skipped, failed = {}, {}, {}
    stems = [r.stem for r in results]
    if len(set(stems)) < len(stems):
        stems = [f"{s}{i}" for i, s in enumerate(stems)]
    for name, per_file, fn, _ in FIGURES:
        if only and name not in only:
            continue
        jobs = [(res, stem) for res, stem in zip(results, stems)] if per_file else [(results, "")]
        reasons, drawn = [], []
        for arg, stem in jobs:
            try:
                drawn.append((stem, fn(arg)))
            except Skip as e:
                reasons.append((stem, str(e)))
            except Exception as e:  # a bug or an unexpected file: report, go on with the others
                failed[name] = f"{type(e).__name__}: {e}"
                traceback.print_exc()
        for stem, figs in drawn:
            for suffix, fig in figs:
                base = "_".join(x for x in (name, suffix, stem if len(drawn) > 1 else "") if x)
                if dry:
                    plt.close(fig)
                    written.setdefault(name, []).append(base)
                else:
                    written.setdefault(name, []).extend(save(fig, outdir, base))
        if not drawn and name not in failed:
            msgs = list(dict.fromkeys(r for _, r in reasons))
            skipped[name] = msgs[0] if len(msgs) == 1 else "; ".join(f"{s}: {r}" for s, r in reasons)
    return written, skipped, failed


# ---------------------------------------------------------------- --list

def vals(a, n=12):
    u = list(dict.fromkeys(np.asarray(a).tolist()))
    try:
        u = sorted(u)
    except TypeError:
        pass
    s = ", ".join(fmt(x) for x in u[:n])
    return s + (f", … ({len(u)} values)" if len(u) > n else "")


def status_counts(t):
    st = t.get("status")
    if st is None:
        return ""
    u, c = np.unique(st, return_counts=True)
    return " (status " + ", ".join(f"{int(a)}: {b}" for a, b in zip(u, c)) + ")"


def list_file(res):
    print(f"== {res.path}")
    a = lambda k: res.root_attr(k, "?")  # noqa: E731
    print(f"  {a('program')} {a('version')} (git {a('git_revision')}), {a('nranks')} ranks on {a('hostnames')}, "
          f"{a('sessions')} session(s), complete {a('complete')}, {a('start_time')} .. {a('end_time')}")
    print(f"  options: {str(a('options')).strip()}")
    P = res.points
    if P is not None:
        print(f"  /points: {P.nrows} rows{status_counts(P)}")
        for c in ("family", "r", "dt", "N", "T", "sigma", "B", "solver"):
            if c in P:
                print(f"    {c:7s} {vals(P[c])}")
    B = res.baselines
    if B is not None:
        print(f"  /baselines: {B.nrows} rows{status_counts(B)}; types {vals(B['type'])}")
    O = res.orders
    if O is not None:
        print(f"  /orders: {O.nrows} groups" + ("" if "order_lsq" in O else
              " (order: least-squares slope over every Δt; error_vs_dt shows the asymptotic order)"))
        for i in range(O.nrows):
            at = f"N = {int(O['N'][i])}" if O["N"][i] >= 0 else f"T = {fmt(O['T'][i])}"
            print(f"    {O['family'][i]:10s} r = {int(O['r'][i]):2d}, {at}, σ = {fmt(O['sigma'][i])}, B = {int(O['B'][i])}, "
                  f"{O['solver'][i]}: order {O['order'][i]:6.2f} (expected {fmt(O['expected'][i])}, "
                  f"{int(O['n_dt'][i])} dt in [{fmt(O['dt_min'][i])}, {fmt(O['dt_max'][i])}])")
    tp = res.trajectory_points()
    if tp:
        nb = len(res.f["baselines/trajectories"]) if res.has("baselines/trajectories") else 0
        print(f"  /trajectories: {len(tp)} points, {nb} baseline rows")
    for s in res.sessions():
        R = s["ranks"]
        busy = np.nansum(R.col("busy")) if R is not None else np.nan
        eff = busy / (s["nranks"] * s["makespan"]) if s["nranks"] and s["makespan"] > 0 else np.nan
        print(f"  /sessions/{s['k']}: {s['kind'] or '?'}, {s['nranks']} ranks, makespan {s['makespan']:.3g} s, "
              f"efficiency {100 * eff:.0f}%, complete {s['complete']}")
    FS = res.fit_summary
    if FS is not None:
        print(f"  /fit_summary: {FS.nrows} rows{status_counts(FS)}; losses {vals(FS.col('loss', ''))}; "
              f"methods {vals(FS.col('method', ''))}; fitted {vals(FS.col('fitted', ''))}"
              + ("; noise slice" if "slice_rms_change" in FS else ""))
    F = res.fits
    if F is not None:
        print(f"  /fits: {F.nrows} fits{status_counts(F)} (0 converged, 1 max-iterations, 2 diverged)")
    if res.has("fit_paths"):
        print(f"  /fit_paths: {len(res.f['fit_paths'])} datasets")
    L = res.landscapes()
    if L:
        print(f"  /landscape: {len(L)} grids over {vals([','.join(e['params']) for e in L])}, "
              f"losses {vals([e['loss_type'] for e in L])}, {L[0]['loss'].shape[0]}x{L[0]['loss'].shape[1]}")


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="figures: " + ", ".join(NAMES))
    ap.add_argument("files", nargs="+", help="slimsweep results files (HDF5)")
    ap.add_argument("-o", "--outdir", help="directory for the PNG and PDF files (created)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="draw only these figures")
    ap.add_argument("--list", action="store_true", help="print what the files contain and which figures they give")
    a = ap.parse_args(argv)
    if a.only:
        bad = [n for n in a.only if n not in NAMES]
        if bad:
            ap.error(f"--only: unknown figure {', '.join(bad)} (known: {', '.join(NAMES)})")
    if not a.list and not a.outdir:
        ap.error("give -o OUTDIR (or --list)")
    results = []
    for p in a.files:
        try:
            results.append(Results(p))
        except OSError as e:
            print(f"figures.py: cannot read {p}: {e}", file=sys.stderr)
            return 2
    if a.list:
        for res in results:
            list_file(res)
        written, skipped, failed = make(results, None, a.only, dry=True)
        print("== figures")
        for name in NAMES:
            if name in written:
                print(f"  would write {name}: {', '.join(written[name])}")
            elif name in skipped:
                print(f"  would skip {name}: {skipped[name]}")
            elif name in failed:
                print(f"  fails {name}: {failed[name]}")
        return 1 if failed else 0
    os.makedirs(a.outdir, exist_ok=True)
    written, skipped, failed = make(results, a.outdir, a.only)
    for name in NAMES:
        if name in written:
            print(f"wrote {name}: {', '.join(written[name])}")
        elif name in skipped:
            print(f"skipped {name}: {skipped[name]}")
        elif name in failed:
            print(f"FAILED {name}: {failed[name]}")
    for res in results:
        res.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
