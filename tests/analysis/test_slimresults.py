#!/usr/bin/python3
"""Unit tests of analysis/slimresults.py helpers that do not need a results file, run by ctest as
analysis_slimresults: the asymptotic order estimator against the shared cases of
tests/data/order_cases.txt (the same cases tests/test_order.cc checks the C implementation
against) and its behaviour on the shipped convergence sweep."""
import math
import os
import sys
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "analysis"))
import slimresults as sr  # noqa: E402

CASES = os.path.join(HERE, "..", "data", "order_cases.txt")


def read_cases():
    cases, c = {}, {}
    with open(CASES) as f:
        for line in f:
            w = line.split()
            if not w or w[0].startswith("#"):
                continue
            k = w[0]
            if k == "case":
                c = dict(name=w[1])
            elif k == "floor":
                fl = [float(x) for x in w[1:]]  # one floor, or one per point
                c["floor"] = fl[0] if len(fl) == 1 else np.array(fl)
            elif k == "dt":
                c["dt"] = np.array([float(x) for x in w[2:]])
            elif k == "err":
                c["err"] = np.array([float(x) for x in w[1:]])
            elif k == "ok":
                c["ok"] = np.array([x == "1" for x in w[1:]])
            elif k == "order":
                c["order"], c["order_finest"], c["order_lsq"] = (float(x) for x in w[1:4])
            elif k == "n":
                c["n_used"], c["n_valid"] = int(w[1]), int(w[2])
            elif k == "marks":
                c["marks"] = [int(x) for x in w[1:]]
            elif k == "end":
                cases[c["name"]] = c
    return cases


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-10 * max(1.0, abs(b))


class OrderEstimate(unittest.TestCase):
    def setUp(self):
        self.cases = read_cases()

    def test_shared_cases(self):
        self.assertGreaterEqual(len(self.cases), 10)
        for name, c in self.cases.items():
            res, marks = sr.order_estimate(c["dt"], c["err"], c["ok"], c["floor"])
            for k in ("order", "order_finest", "order_lsq"):
                self.assertTrue(same(res[k], c[k]), f"{name}: {k} {res[k]} != {c[k]}")
            self.assertEqual((res["n_used"], res["n_valid"]), (c["n_used"], c["n_valid"]), name)
            self.assertEqual(list(marks), c["marks"], name)

    def test_shipped_convergence_sweep(self):
        r0, marks = sr.order_estimate(**{k: self.cases["convergence_r0"][k] for k in ("dt", "err", "floor")})
        self.assertAlmostEqual(r0["order"], 2.0, delta=0.1)
        self.assertEqual(list(marks[:2]), [sr.ORDER_PREASYMPTOTIC] * 2)  # dt = 1, 0.5
        rk2, _ = sr.order_estimate(**{k: self.cases["convergence_rk2"][k] for k in ("dt", "err", "floor")})
        self.assertAlmostEqual(rk2["order"], 2.0, delta=0.1)

    def test_power_law_and_failures(self):
        dt = np.array([0.1, 0.05, 0.025, 0.0125])
        res, marks = sr.order_estimate(dt, 2 * dt ** 3)
        self.assertAlmostEqual(res["order"], 3.0, places=10)
        self.assertTrue((marks == sr.ORDER_USED).all())
        err = 2 * dt ** 3
        err[1] = np.inf
        res, marks = sr.order_estimate(dt, err)
        self.assertEqual(marks[1], sr.ORDER_FAILED)
        self.assertAlmostEqual(res["order"], 3.0, places=10)
        res, marks = sr.order_estimate(dt[:1], err[:1])
        self.assertTrue(math.isnan(res["order"]))
        self.assertEqual(marks[0], sr.ORDER_TOO_FEW)
        with self.assertRaises(ValueError):
            sr.order_estimate([0.1, 0.1], [1e-2, 1e-3])


class TrainingBatches(unittest.TestCase):
    """The reader of the training-data layout (docs/training.md) on a chunked, compressed file."""

    def test_batches_cover_the_file_in_chunks(self):
        import tempfile

        import h5py
        K, S, dof, np_ = 1000, 11, 1, 3
        rng = np.random.default_rng(0)
        theta = rng.random((K, np_))
        q = rng.random((K, S, dof))
        path = os.path.join(tempfile.mkdtemp(prefix="slim-train-"), "t.h5")
        with h5py.File(path, "w") as f:
            g = f.create_group("training/dho")
            g.create_dataset("theta", data=theta, chunks=(256, np_), compression="gzip")
            for name in sr.TRAINING_SERIES:
                g.create_dataset(name, data=q * (1 + sr.TRAINING_SERIES.index(name)), chunks=(256, S, dof), compression="gzip")
            g["t"] = np.arange(S) * 0.1
        got = list(sr.training_batches(path, "dho"))
        self.assertEqual([len(b["theta"]) for b in got], [256, 256, 256, 232])  # the chunk size
        np.testing.assert_array_equal(np.concatenate([b["theta"] for b in got]), theta)
        np.testing.assert_array_equal(np.concatenate([b["pi"] for b in got]), 2 * q)
        self.assertIn("t", got[0])
        self.assertNotIn("t", got[1])
        got = list(sr.training_batches(path, "dho", batch=300, series=("q",)))
        self.assertEqual([len(b["q"]) for b in got], [300, 300, 300, 100])
        self.assertNotIn("pi", got[0])


if __name__ == "__main__":
    unittest.main()
