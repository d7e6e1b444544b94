#!/usr/bin/env python3
"""Compares two slimsweep results files: the same groups, datasets (shape, dtype, attributes)
and root attributes, and the same values except timing, scheduling and provenance.

    compare_results.py expected.h5 actual.h5      exit 0 if they agree, 1 (with a list) if not

Used by the behaviour-preservation test (tests/harness/CMakeLists.txt): a fresh run of a small
variant of sweeps/default.opts and sweeps/fits.opts against files the previous build wrote."""
import sys

import h5py
import numpy as np

# measured times and who-ran-what depend on the machine and the schedule, not on the results
VOLATILE_COLUMNS = {"t_setup", "t_min", "t_median", "t_max", "ns_per_step", "ns_per_traj_step",
                    "wall", "fit_wall", "rank", "session"}
# Reals agree to this relative tolerance: a redesign that changes no arithmetic gives identical
# bits on one machine; the margin only absorbs libm variants (e.g. FMA code paths) elsewhere.
RTOL = 1e-9
VOLATILE_ROOT_ATTRS = {"start_time", "end_time", "git_revision", "hostnames", "options",
                       "mpi_version", "petsc_version", "hdf5_version", "version"}


def walk(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj))
    return out


def same_values(a, b):
    if a.dtype.kind in "fc":
        return a.shape == b.shape and np.allclose(a, b, rtol=RTOL, atol=0, equal_nan=True)
    return a.shape == b.shape and np.array_equal(a, b)


def compare(exp, act):
    problems = []
    e, a = walk(exp), walk(act)
    skip = lambda n: n.startswith("sessions")
    for n in sorted(set(e) | set(a)):
        if skip(n):
            continue
        if n not in a or n not in e:
            problems.append(f"{n}: only in {'expected' if n in e else 'actual'}")
            continue
        oe, oa = e[n], a[n]
        if set(oe.attrs) != set(oa.attrs):
            problems.append(f"{n}: attributes {sorted(oe.attrs)} != {sorted(oa.attrs)}")
        for k in oe.attrs:
            if k in oa.attrs and not same_values(np.asarray(oe.attrs[k]), np.asarray(oa.attrs[k])):
                problems.append(f"{n}: attribute {k} differs")
        if isinstance(oe, h5py.Dataset):
            if oe.shape != oa.shape or oe.dtype != oa.dtype:
                problems.append(f"{n}: shape/dtype {oe.shape} {oe.dtype} != {oa.shape} {oa.dtype}")
            elif n.split("/")[-1] not in VOLATILE_COLUMNS and not same_values(oe[()], oa[()]):
                problems.append(f"{n}: values differ")
    if set(exp.attrs) != set(act.attrs):
        problems.append(f"/: attributes {sorted(exp.attrs)} != {sorted(act.attrs)}")
    for k in exp.attrs:
        if k not in VOLATILE_ROOT_ATTRS and k in act.attrs and not same_values(np.asarray(exp.attrs[k]), np.asarray(act.attrs[k])):
            problems.append(f"/: attribute {k} differs")
    return problems


def main():
    with h5py.File(sys.argv[1], "r") as exp, h5py.File(sys.argv[2], "r") as act:
        problems = compare(exp, act)
    for p in problems:
        print("compare_results:", p)
    print(f"compare_results: {'OK' if not problems else f'{len(problems)} difference(s)'}: {sys.argv[2]} vs {sys.argv[1]}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
