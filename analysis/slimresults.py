"""Reading a slimsweep results file (HDF5) with h5py and numpy only.

The layout is written by src/harness.c (see its top comment and column tables):

  /points, /baselines, /orders     tables: one dataset per column, all of the same length
  /trajectories/<point>            [samples, columns]; names in the "description" attribute
  /baselines/trajectories/<row>    the same for a row of /baselines
  /sessions/<k>                    attributes makespan, nranks, complete, kind, ...;
  /sessions/<k>/ranks              table: rank, host, busy, idle, tasks, cost
  /fits, /fit_summary              fit tables (docs/fits.md)
  /fit_paths/<row>                 [guess, iteration, column]: parameters, then the loss
  /landscape/<point>/<loss>        table with loss[i, j], loss_clean[i, j]; attributes params,
                                   p0_values, p1_values, loss_type, point

Strings (fixed-length byte strings in the file) come back as Python str arrays. Rows never
written hold the fill values (NaN, -1, ""): select finished rows with the status column.
"""
import os

import h5py
import numpy as np


def _decode(a):
    """bytes / object arrays -> str arrays; everything else unchanged."""
    if isinstance(a, bytes):
        return a.decode("utf-8", "replace").rstrip("\0")
    if isinstance(a, np.ndarray) and a.dtype.kind in "SO":
        return np.array([x.decode("utf-8", "replace").rstrip("\0") if isinstance(x, bytes) else str(x)
                         for x in a.ravel()], dtype=object).reshape(a.shape).astype(str)
    return a


def attr(obj, name, default=None):
    """An attribute as a Python scalar / str / array, or default when missing."""
    if obj is None or name not in obj.attrs:
        return default
    v = obj.attrs[name]
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray):
        if v.shape == ():
            return v[()]
        return _decode(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def split_list(s):
    """'m,k,lambda' -> ['m', 'k', 'lambda'] (empty string -> [])."""
    return [x.strip() for x in str(s).split(",") if x.strip()]


def description_columns(desc):
    """Column names from a trajectory / fit-path description attribute.

    'columns: t, q0, pi0, energy, energy_error' -> ['t', 'q0', 'pi0', 'energy', 'energy_error']
    '[guess, iteration, column]: columns m,k,lambda, loss after each ...' -> ['m', 'k', 'lambda', 'loss']
    """
    if not desc:
        return []
    s = desc
    i = s.find("columns")
    if i < 0:
        return []
    s = s[i + len("columns"):].lstrip(": ")
    names = []
    for tok in s.split(","):
        tok = tok.strip()
        if not tok:
            continue
        word = tok.split()[0]
        names.append(word)
        if len(tok.split()) > 1:  # 'loss after each iteration ...': the list ended
            break
    return names


class Table(dict):
    """Columns of one table as numpy arrays (str arrays for strings), plus the row count."""

    def __init__(self, group):
        super().__init__()
        self.nrows = 0
        self.units = {}
        self.desc = {}
        for name, ds in group.items():
            if not isinstance(ds, h5py.Dataset):
                continue
            self[name] = _decode(ds[()])
            self.units[name] = attr(ds, "units", "")
            self.desc[name] = attr(ds, "description", "")
            self.nrows = max(self.nrows, len(self[name]) if np.ndim(self[name]) else 0)

    def col(self, name, default=np.nan):
        """Column or an array filled with default when the column is missing."""
        if name in self:
            return self[name]
        return np.full(self.nrows, default)

    def finished(self):
        """Boolean mask of rows whose status says they were computed (status >= 0)."""
        st = self.get("status")
        if st is None:
            return np.ones(self.nrows, bool)
        return np.asarray(st) >= 0

    def ok(self):
        """Rows that finished without failure (status == 0)."""
        st = self.get("status")
        if st is None:
            return np.ones(self.nrows, bool)
        return np.asarray(st) == 0


class Results:
    """One results file, opened read-only; tables are read lazily and cached."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        self.stem = os.path.splitext(self.name)[0]
        self.f = h5py.File(path, "r")
        self._tables = {}

    def close(self):
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ----- generic -----
    def has(self, path):
        try:
            return path in self.f
        except (KeyError, ValueError):
            return False

    def root_attr(self, name, default=None):
        return attr(self.f, name, default)

    def table(self, name):
        """Table at /name, or None when the file has no such group (or it is not a table)."""
        if name not in self._tables:
            t = None
            if self.has(name) and isinstance(self.f[name], h5py.Group):
                t = Table(self.f[name])
                if not t:
                    t = None
            self._tables[name] = t
        return self._tables[name]

    @property
    def points(self):
        return self.table("points")

    @property
    def baselines(self):
        return self.table("baselines")

    @property
    def orders(self):
        return self.table("orders")

    @property
    def fits(self):
        return self.table("fits")

    @property
    def fit_summary(self):
        return self.table("fit_summary")

    # ----- trajectories -----
    def _traj(self, path):
        if not self.has(path):
            return None, []
        ds = self.f[path]
        cols = description_columns(attr(ds, "description", ""))
        return ds[()], cols

    def trajectory(self, point):
        """(array [samples, columns], column names) of /trajectories/<point>, or (None, [])."""
        return self._traj(f"trajectories/{int(point)}")

    def baseline_trajectory(self, row):
        return self._traj(f"baselines/trajectories/{int(row)}")

    def trajectory_points(self):
        """Point indices that have a trajectory dataset."""
        if not self.has("trajectories"):
            return []
        return sorted(int(k) for k in self.f["trajectories"].keys() if k.isdigit())

    # ----- sessions -----
    def sessions(self):
        """One dict per /sessions/<k>: k, nranks, makespan, complete, kind, tasks_done_before,
        start_time, and the ranks table (None when missing)."""
        out = []
        if not self.has("sessions"):
            return out
        for k in sorted((k for k in self.f["sessions"].keys() if k.isdigit()), key=int):
            g = self.f["sessions"][k]
            ranks = Table(g["ranks"]) if "ranks" in g and isinstance(g["ranks"], h5py.Group) else None
            nr = attr(g, "nranks")
            if nr is None and ranks is not None:
                nr = ranks.nrows
            out.append(dict(k=int(k), nranks=int(nr) if nr is not None else None,
                            makespan=float(attr(g, "makespan", np.nan)),
                            complete=int(attr(g, "complete", 0) or 0),
                            kind=attr(g, "kind", ""),
                            tasks_done_before=int(attr(g, "tasks_done_before", 0) or 0),
                            start_time=attr(g, "start_time", ""),
                            ranks=ranks))
        return out

    # ----- fits -----
    def fit_path(self, row):
        """(array [K, iterations+1, np+1], column names) of /fit_paths/<row>, or (None, [])."""
        p = f"fit_paths/{int(row)}"
        if not self.has(p):
            return None, []
        ds = self.f[p]
        return ds[()], description_columns(attr(ds, "description", ""))

    def n_configs(self):
        """Configurations per point of /fit_summary (rows are point * n_configs + config)."""
        fs = self.fit_summary
        if fs is None or "config" not in fs:
            return 0
        pts = self.points
        np_ = pts.nrows if pts is not None else 0
        if np_ and fs.nrows % np_ == 0:
            return fs.nrows // np_
        c = fs["config"]
        return int(c[c >= 0].max()) + 1 if (c >= 0).any() else 0

    def landscapes(self):
        """One dict per /landscape/<point>/<loss>: point, loss_type, params [p0, p1],
        p0, p1 (axis values), loss, loss_clean ([n0, n1], NaN where not computed)."""
        out = []
        if not self.has("landscape"):
            return out
        for pk in sorted((k for k in self.f["landscape"].keys() if k.isdigit()), key=int):
            for lk, g in self.f["landscape"][pk].items():
                if not isinstance(g, h5py.Group) or "loss" not in g:
                    continue
                loss = np.array(g["loss"][()], float)
                clean = np.array(g["loss_clean"][()], float) if "loss_clean" in g else None
                if "status" in g:
                    st = g["status"][()]
                    loss[st != 0] = np.nan
                    if clean is not None:
                        clean[st != 0] = np.nan
                out.append(dict(point=int(attr(g, "point", int(pk))), loss_type=attr(g, "loss_type", lk),
                                params=split_list(attr(g, "params", "p0,p1")),
                                p0=np.asarray(attr(g, "p0_values", np.arange(loss.shape[0])), float),
                                p1=np.asarray(attr(g, "p1_values", np.arange(loss.shape[1])), float),
                                loss=loss, loss_clean=clean))
        return out


# ----- convergence order of the asymptotic regime -----
# The same algorithm as SlimOrderEstimate() (include/slim/order.h, src/order.c); the cases of
# tests/data/order_cases.txt are checked against both implementations.
ORDER_RTOL = 0.1        # consecutive-pair slopes agree within 10 % (at least 0.1 absolute)
ORDER_MIN_SLOPE = 0.5   # a pair slope below this is not convergence
ORDER_USED, ORDER_FAILED, ORDER_ROUNDOFF, ORDER_PREASYMPTOTIC, ORDER_TOO_FEW = 0, 1, 2, 3, 4
ORDER_MARK_NAMES = ["used", "failed", "round-off", "pre-asymptotic", "too-few"]


def order_estimate(dt, err, ok=None, floor=0.0):
    """Observed order of the asymptotic regime (order.h, steps 1-5).

    floor: the error at or below which a point is round-off, one value or one per point (the
    harness writes each point's floor as /points/err_floor).
    Returns (result dict, marks): result has order, order_finest, order_lsq, slope_min,
    slope_max, n_used, n_valid, dt_min_used, dt_max_used; marks[i] is one of ORDER_* per point.
    """
    dt = np.asarray(dt, float)
    err = np.asarray(err, float)
    n = len(dt)
    ok = np.ones(n, bool) if ok is None else np.asarray(ok, bool)
    floor = np.broadcast_to(np.asarray(floor, float), (n,))
    nan = float("nan")
    res = dict(order=nan, order_finest=nan, order_lsq=nan, slope_min=nan, slope_max=nan,
               n_used=0, n_valid=0, dt_min_used=nan, dt_max_used=nan)
    marks = np.full(n, ORDER_PREASYMPTOTIC, int)
    if n == 0:
        return res, marks
    if not np.all((dt > 0) & np.isfinite(dt)):
        raise ValueError("order estimate: dt must be > 0")
    perm = np.argsort(dt, kind="stable")
    vi = []
    for i in perm:
        if not ok[i] or not np.isfinite(err[i]) or not err[i] > 0:
            marks[i] = ORDER_FAILED
        elif err[i] <= floor[i]:
            marks[i] = ORDER_ROUNDOFF
        else:
            if vi and not dt[i] > dt[vi[-1]]:
                raise ValueError(f"order estimate: dt = {dt[i]:g} appears twice")
            vi.append(i)
    m = len(vi)
    res["n_valid"] = m
    if m < 2:
        marks[vi] = ORDER_TOO_FEW
        return res, marks
    x, y = np.log(dt[vi]), np.log(err[vi])

    def lsq(a, b):
        xs, ys = x[a:b + 1], y[a:b + 1]
        k = len(xs)
        return float((k * (xs * ys).sum() - xs.sum() * ys.sum()) / (k * (xs * xs).sum() - xs.sum() ** 2))

    def agree(a, b):
        sl = s[a:b + 1]
        return sl.max() - sl.min() <= ORDER_RTOL * max(1.0, abs(sl.mean()))

    res["order_lsq"] = lsq(0, m - 1)
    s = np.diff(y) / np.diff(x)
    j0 = 0
    while j0 < m - 1 and not s[j0] >= ORDER_MIN_SLOPE:
        j0 += 1
    if j0 == m - 1:
        j0 = 0
    a = b = -1
    for j in range(j0, m - 2):
        if agree(j, j + 1):
            a, b = j, j + 1
            break
    if a < 0:
        a = b = j0
    else:
        while b + 1 < m - 1 and agree(a, b + 1):
            b += 1
    res.update(order=lsq(a, b + 1), order_finest=float(s[a]), n_used=b - a + 2,
               dt_min_used=float(dt[vi[a]]), dt_max_used=float(dt[vi[b + 1]]),
               slope_min=float(s[a:b + 1].min()), slope_max=float(s[a:b + 1].max()))
    for k, i in enumerate(vi):
        marks[i] = ORDER_ROUNDOFF if k < a else (ORDER_USED if k <= b + 1 else ORDER_PREASYMPTOTIC)
    return res, marks


# ----- observed vs fitted trajectories (/fit_obs, docs/figures.md) -----
FIT_OBS_SERIES = ("t", "q_obs", "qdot_obs", "q_true", "qdot_true", "pi_true", "q_fit", "qdot_fit", "pi_fit")


def rms(a, b):
    """Root-mean-square difference over every sample and component (NaN when nothing is finite)."""
    d = np.asarray(a, float) - np.asarray(b, float)
    d = d[np.isfinite(d)]
    return float(np.sqrt(np.mean(d * d))) if d.size else float("nan")


def read_fit_obs(f):
    """One dict per /fit_obs/<row> group of an open h5py file: row (its /fit_summary row), the
    attributes (point, config, loss, method, sigma, param_names, theta_true), theta_fit (the
    group's dataset), fit (the /fits row of the best fit: /fit_summary/best_fit) and the series
    of FIT_OBS_SERIES that are present as float arrays ([n] for t, [n, dof] otherwise), plus
    rms_q = rms(q_fit, q_true) and rms_pi = rms(pi_fit, pi_true)."""
    out = []
    if "fit_obs" not in f:
        return out
    for k in sorted((k for k in f["fit_obs"].keys() if k.isdigit()), key=int):
        g = f["fit_obs"][k]
        if not isinstance(g, h5py.Group) or "t" not in g:
            continue
        d = {name: attr(g, name) for name in g.attrs}
        d["row"] = int(k)
        if "theta_fit" in g:
            d["theta_fit"] = np.asarray(g["theta_fit"][()], float)
        if "fit_summary" in f and "best_fit" in f["fit_summary"]:
            d["fit"] = int(f["fit_summary"]["best_fit"][int(k)])
        for s in FIT_OBS_SERIES:
            if s in g:
                a = np.asarray(g[s][()], float)
                d[s] = a if s == "t" or a.ndim == 2 else a.reshape(len(a), -1)
        d["rms_q"] = rms(d["q_fit"], d["q_true"]) if "q_fit" in d and "q_true" in d else float("nan")
        d["rms_pi"] = rms(d["pi_fit"], d["pi_true"]) if "pi_fit" in d and "pi_true" in d else float("nan")
        out.append(d)
    return out


# ----- training data (/training, docs/training.md) -----
TRAINING_SERIES = ("q", "pi", "qdot")


def training_batches(path, family, batch=None, series=TRAINING_SERIES):
    """Batches of /training/<family> of a results file for a training loop: yields dicts with
    theta [b, n_params], fail_step [b] and the requested series [b, samples, dof] (and t [samples]
    once, in the first batch). batch defaults to the chunk size of theta's first dimension, so
    that every read touches whole chunks only. Rows of blocks the harness has not finished
    (/training/<family>/blocks/status != 0: a run stopped early or a failed block) are left out,
    so a batch can be shorter. The file stays open only while iterating."""
    with h5py.File(path, "r") as f:
        g = f["training"][family]
        th = g["theta"]
        n = th.shape[0]
        if batch is None:
            batch = th.chunks[0] if th.chunks else min(n, 1024)
        valid = None
        if "blocks" in g:  # the harness's layout: a block's rows are valid once its status is 0
            B = g["blocks"]
            valid = np.zeros(n, bool)
            for first, count, st in zip(B["first"][()], B["count"][()], B["status"][()]):
                valid[first:first + count] = st == 0
            if valid.all():
                valid = None
        for i in range(0, n, batch):
            keep = slice(None) if valid is None else valid[i:i + batch]
            d = {"theta": th[i:i + batch][keep]}
            for s in series + ("fail_step",):
                if s in g:
                    d[s] = g[s][i:i + batch][keep]
            if i == 0 and "t" in g:
                d["t"] = g["t"][()]
            yield d
