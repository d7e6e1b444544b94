#pragma once
/* SlimSweep: a sweep is the cartesian product of option lists
 *   -sweep_family, -sweep_r, -sweep_dt, -sweep_N (or -sweep_T), -sweep_sigma, -sweep_B, -sweep_solver
 * Every point has a stable index (lexicographic in that order), its own random seed derived
 * from (-sweep_seed, index), and a cost estimate used to hand out the expensive points first.
 * Points that share (family, dt, N) form a baseline group: the Runge-Kutta baselines are run
 * once per group. */
#include <slim/family.h>
#include <slim/stepper.h>

#define SLIM_NAME_LEN 64

typedef struct {
  PetscInt       index;  /* stable point index */
  PetscInt       family; /* index into the sweep's families */
  PetscInt       r, N, B;
  PetscReal      dt, sigma;
  SlimSolverType solver;
  PetscInt       group;  /* baseline group */
  PetscInt64     seed;   /* seed of this point's random stream */
  PetscReal      cost;   /* estimated cost, arbitrary units */
} SlimPoint;

typedef struct _n_SlimSweep *SlimSweep; /* struct in include/slim/private/sweepimpl.h */

PETSC_EXTERN PetscErrorCode SlimSweepCreate(SlimSweep *sw);
PETSC_EXTERN PetscErrorCode SlimSweepDestroy(SlimSweep *sw);
/* Reads and validates every -sweep_* option, the chosen families' parameters and the fit
 * options (-fit_*, -landscape_*); enumerates the points. Errors name the option and the
 * offending value. */
PETSC_EXTERN PetscErrorCode SlimSweepSetFromOptions(SlimSweep sw);
/* Peak memory, in bytes, of the most demanding point on one rank (the stepper's per-trajectory
 * state and Newton blocks for B trajectories, its solver vectors and the trajectory samples
 * kept until the point is written): an estimate for checks before any work. */
PETSC_EXTERN PetscErrorCode SlimSweepEstimateMemory(SlimSweep sw, PetscInt64 *bytes);
