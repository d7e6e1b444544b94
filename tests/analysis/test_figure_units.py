#!/usr/bin/python3
"""Behaviour of analysis/figures.py on small synthetic results files made here with h5py, run by
ctest as analysis_figure_units: layouts the harness writes only after the phase-2 wiring
(/fit_obs, /orders/order_lsq and /points/order_mark, /fits/ratio_std and consistent;
docs/figures.md), and the physics helpers of the new figures (osculating elements, the secular
Poynting-Robertson rates, orbit averages)."""
import os
import sys
import tempfile
import unittest

import h5py
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "analysis"))
import figures  # noqa: E402
import slimresults as sr  # noqa: E402


def write_table(f, name, cols):
    g = f.create_group(name)
    for k, v in cols.items():
        v = np.asarray(v)
        if v.dtype.kind == "U":
            v = v.astype("S")
        g.create_dataset(k, data=v)
    return g


def dho(t, m=1.0, k=1.0, lam=0.1):
    """Exact damped-oscillator motion from q = 1 at rest (physics.md): q, qdot, pi = m qdot."""
    g = lam / m
    w = np.sqrt(k / m - g * g / 4)
    q = np.exp(-g * t / 2) * (np.cos(w * t) + g / (2 * w) * np.sin(w * t))
    v = -np.exp(-g * t / 2) * (w + g * g / (4 * w)) * np.sin(w * t)
    return q, v, m * v


class Tmp(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="slim-figunits-")

    def path(self, name):
        return os.path.join(self.dir, name)

    def texts(self, fig):
        out = [fig._suptitle.get_text()] if fig._suptitle else []
        for ax in fig.axes:
            out.append(ax.get_title())
            leg = ax.get_legend()
            if leg:
                out += [t.get_text() for t in leg.get_texts()]
        return out


class FitObs(Tmp):
    def make(self, path, offset_q=0.05, offset_pi=0.1):
        t = np.arange(0, 10.01, 0.1)
        q, v, p = dho(t)
        rng = np.random.default_rng(1)
        with h5py.File(path, "w") as f:
            for row, (sig, meth) in enumerate([(0.0, "gd"), (0.01, "tao")]):
                g = f.create_group(f"fit_obs/{row}")
                for k, val in dict(point=row, config=0, loss="trajectory", method=meth, sigma=sig, fit=row * 4).items():
                    g.attrs[k] = val
                g["t"] = t
                g["q_obs"] = (q + sig * rng.standard_normal(t.size))[:, None]
                g["qdot_obs"] = (v + sig * rng.standard_normal(t.size))[:, None]
                g["q_true"], g["qdot_true"], g["pi_true"] = q[:, None], v[:, None], p[:, None]
                g["q_fit"] = (q + offset_q)[:, None]
                g["qdot_fit"] = v[:, None]
                g["pi_fit"] = (p - offset_pi)[:, None]

    def test_reader_and_rms(self):
        self.make(self.path("o.h5"))
        with h5py.File(self.path("o.h5"), "r") as f:
            obs = sr.read_fit_obs(f)
        self.assertEqual([d["row"] for d in obs], [0, 1])
        self.assertAlmostEqual(obs[0]["rms_q"], 0.05, places=12)
        self.assertAlmostEqual(obs[1]["rms_pi"], 0.1, places=12)
        self.assertEqual(obs[1]["method"], "tao")
        self.assertEqual(obs[0]["q_fit"].shape, (101, 1))

    def test_figure_reports_rms_next_to_the_paper(self):
        self.make(self.path("o.h5"), offset_q=0.02, offset_pi=0.03)
        with sr.Results(self.path("o.h5")) as res:
            (_, fig), = figures.fig_fit_obs(res)
        txt = " ".join(self.texts(fig))
        self.assertIn("RMS error of the fit 0.02", txt)
        self.assertIn("RMS error of the fit 0.03", txt)
        self.assertIn("seed paper's network: 0.05", txt)
        self.assertEqual(len(fig.axes), 4)  # two configurations x (q, pi)
        # the fitted curve is drawn as data: its line holds q_true + 0.02
        ys = [ln.get_ydata() for ln in fig.axes[0].get_lines() if ln.get_linestyle() == "--"]
        self.assertTrue(any(np.allclose(y, dho(np.arange(0, 10.01, 0.1))[0] + 0.02) for y in ys))
        figures.plt.close(fig)

    def test_written_by_main_and_skipped_without_data(self):
        self.make(self.path("o.h5"))
        out = self.path("figs")
        self.assertEqual(figures.main([self.path("o.h5"), "-o", out, "--only", "fit_obs"]), 0)
        self.assertTrue(os.path.getsize(os.path.join(out, "fit_obs.png")) > 20000)
        with h5py.File(self.path("empty.h5"), "w") as f:
            f.attrs["program"] = "slimsweep"
        with sr.Results(self.path("empty.h5")) as res:
            with self.assertRaises(figures.Skip):
                figures.fig_fit_obs(res)


class ErrorVsDt(Tmp):
    """error_vs_dt reads the harness's asymptotic order and marks when the file has them, and
    computes the same estimate itself when it does not."""

    def make(self, path, phase2):
        dt = np.array([1.0, 0.5, 0.25, 0.125, 0.0625])
        err = 0.01 * dt ** 2
        err[0] = 3e-4  # pre-asymptotic: far below the power law
        n = dt.size
        with h5py.File(path, "w") as f:
            P = dict(family=np.array(["dho"] * n), r=np.zeros(n, int), dt=dt, N=(40 / dt).astype(int), T=np.full(n, 40.0),
                     sigma=np.zeros(n), B=np.ones(n, int), solver=np.array(["snes"] * n), status=np.zeros(n, int),
                     err_q_final=err, error_kind=np.ones(n, int))
            O = dict(family=np.array(["dho"]), r=[0], N=[-1], T=[40.0], sigma=[0.0], B=[1], solver=np.array(["snes"]),
                     n_dt=[n], order=[0.7], order_finest=[2.0], expected=[2.0], dt_min=[0.0625], dt_max=[1.0])
            if phase2:
                # deliberately different from what Python would compute: the file must win
                P["order_mark"] = np.array([3, 0, 0, 2, 2])
                O.update(order=[1.93], order_lsq=[0.7], n_used=[2], dt_used_min=[0.25], dt_used_max=[0.5])
            write_table(f, "points", P)
            write_table(f, "orders", O)

    def labels(self, path):
        with sr.Results(path) as res:
            (_, fig), = figures.fig_error_vs_dt(res)
        txt = self.texts(fig)
        ax = fig.axes[0]
        figures.plt.close(fig)
        return txt, ax

    def test_computed_without_harness_columns(self):
        self.make(self.path("a.h5"), False)
        txt, ax = self.labels(self.path("a.h5"))
        lab = [t for t in txt if t.startswith("r = 0")][0]
        self.assertIn("order 2.00", lab)  # not the all-points 0.7 of /orders/order
        self.assertIn("Δt 0.0625–0.5", lab)
        self.assertTrue(any("pre-asymptotic" in t for t in txt))
        # the guide passes through the finest used point with slope 2
        guides = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        x, y = guides[0].get_xdata(), guides[0].get_ydata()
        self.assertAlmostEqual(np.log(y[1] / y[0]) / np.log(x[1] / x[0]), 2.0, places=10)
        self.assertAlmostEqual(float(np.interp(np.log(0.0625), np.log(x), np.log(y))), np.log(0.01 * 0.0625 ** 2), places=8)

    def test_harness_columns_win(self):
        self.make(self.path("b.h5"), True)
        txt, ax = self.labels(self.path("b.h5"))
        lab = [t for t in txt if t.startswith("r = 0")][0]
        self.assertIn("order 1.93", lab)
        self.assertIn("Δt 0.25–0.5", lab)
        self.assertTrue(any("round-off" in t for t in txt))


class BaselineFloor(unittest.TestCase):
    """An RK baseline against an exact solution is judged by its own round-off floor
    (/baselines/err_floor, ~N eps |q0|), not by the slimplectic point's solver floor; against a
    reference run, by the larger of the two."""

    def test_floors(self):
        tmp = tempfile.mkdtemp(prefix="slim_bf_")
        path = os.path.join(tmp, "b.h5")
        with h5py.File(path, "w") as f:
            write_table(f, "points", {"err_floor": [1e-10, 1e-10], "error_kind": [1, 2]})
            write_table(f, "baselines", {"point": [0, 1, 0], "err_floor": [2e-14, 2e-14, 3e-14]})
        with sr.Results(path) as res:
            fl = figures._baseline_floor(res, res.baselines, np.array([0, 1, 2]))
        self.assertEqual(list(fl), [2e-14, 1e-10, 3e-14])
        with h5py.File(path, "r+") as f:  # a file written before the column: the point's floor
            del f["baselines/err_floor"]
        with sr.Results(path) as res:
            fl = figures._baseline_floor(res, res.baselines, np.array([0, 1]))
        self.assertEqual(list(fl), [1e-10, 1e-10])


class Orbits(unittest.TestCase):
    def test_osculating_elements(self):
        mu = 39.0
        a, e = 1.3, 0.4
        q = np.array([[a * (1 - e), 0.0], [1.0, 0.0]])
        v = np.array([[0.0, np.sqrt(mu * (1 + e) / (a * (1 - e)))], [0.0, np.sqrt(mu)]])
        aa, ee = figures.osculating(q, v, mu)
        np.testing.assert_allclose(aa, [a, 1.0], rtol=1e-12)
        np.testing.assert_allclose(ee, [e, 0.0], atol=1e-7)

    def test_secular_rates(self):
        # circular orbit: e stays 0 and a^2 = a0^2 - 4 eta t (Wyatt & Whipple)
        t = np.linspace(0, 1000, 11)
        eta = 1e-4
        a, e = figures.pr_secular(t, 1.0, 0.0, eta)
        np.testing.assert_allclose(a, np.sqrt(1 - 4 * eta * t), rtol=1e-9)
        np.testing.assert_allclose(e, 0.0, atol=0)
        # eccentric: both shrink, at the initial rates of the formulas
        a, e = figures.pr_secular(np.array([0, 1e-3]), 1.0, 0.2, eta)
        self.assertAlmostEqual((a[1] - a[0]) / 1e-3, -eta * (2 + 3 * 0.04) / 0.96 ** 1.5, places=6)
        self.assertAlmostEqual((e[1] - e[0]) / 1e-3, -2.5 * eta * 0.2 / np.sqrt(0.96), places=6)

    def test_orbit_average(self):
        t = np.arange(0, 10, 0.1)
        x = 2.0 + np.sin(2 * np.pi * t)  # period 1: averages to 2
        ta, xa = figures.orbit_average(t, x, 1.0)
        self.assertEqual(len(ta), 10)
        np.testing.assert_allclose(xa, 2.0, atol=1e-12)


class SpeedVsB(Tmp):
    def test_speedup_over_loop(self):
        B = np.array([1, 64, 1024, 1, 64, 1024])
        solver = np.array(["snes"] * 3 + ["dense"] * 3)
        ns = np.array([6000.0, 150.0, 60.0, 150.0, 140.0, 150.0])
        n = B.size
        with h5py.File(self.path("b.h5"), "w") as f:
            write_table(f, "points", dict(family=np.array(["dho"] * n), r=np.zeros(n, int), dt=np.full(n, 0.05),
                                          N=np.full(n, 50), sigma=np.zeros(n), B=B, solver=solver, status=np.zeros(n, int),
                                          t_min=ns * 50 * B * 1e-9, ns_per_traj_step=ns))
        with sr.Results(self.path("b.h5")) as res:
            (_, fig), = figures.fig_speed_vs_B(res)
            # time_vs_r must not turn the B sweep into lines (one r only: skipped)
            with self.assertRaises(figures.Skip):
                figures.fig_time_vs_r(res)
        sp = [ln for ln in fig.axes[1].get_lines() if len(ln.get_xdata()) == 3]
        ys = sorted(tuple(np.round(ln.get_ydata(), 6)) for ln in sp)
        self.assertIn((1.0, 40.0, 100.0), ys)  # SNES: 6000 / 150, 6000 / 60
        figures.plt.close(fig)


if __name__ == "__main__":
    unittest.main()
