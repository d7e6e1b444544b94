#pragma once
/* SlimFitData: the observations a coefficient fit is scored against (docs/fits.md).
 *
 * Two kinds, one per loss:
 *   trajectory    samples (t_i, q_i, qdot_i) of one motion; predictions integrate from the
 *                 initial state (t0, q0, v0) with the slimplectic stepper, and sample i is
 *                 compared after step[i] steps
 *   acceleration  states (q_i, qdot_i) at times t_i with their accelerations qddot_i (weekly
 *                 report eq. 1); t_i matters only for a Lagrangian with explicit time dependence
 * Synthetic data also keep the same observations without noise (qc, vc, ac), so the effect of
 * the noise on the loss can be measured on identical points. */
#include <slim/family.h>
#include <slim/stepper.h>

typedef enum { SLIM_LOSS_TRAJECTORY, SLIM_LOSS_ACCELERATION } SlimLossType;
PETSC_EXTERN const char *const SlimLossTypes[];

typedef struct _n_SlimFitData *SlimFitData; /* struct in include/slim/private/fitimpl.h */

/* How synthetic data are made from the true parameters: integrate N steps of size dt with r
 * interior points; trajectory samples every `stride` steps (0, stride, ..., <= N); acceleration
 * on a grid of `grid` values per coordinate over [qlo, qhi] x [vlo, vhi] (every dof), or, where
 * a range is not set, over the extent of the true motion in that coordinate, each grid point at
 * its own time t in [0, N dt) (golden-ratio sequence) so that a drive is seen at every phase --
 * at one time alone (t = 0) cos(omega t) does not depend on omega. Gaussian noise of
 * standard deviation sigma from a PetscRandom seeded with `seed` goes on every observed number
 * (q, qdot, and qddot), so data depend only on the seed, never on who computes them. */
typedef struct {
  SlimLossType   kind;
  PetscInt       r, N, stride, grid;
  PetscReal      dt, sigma;
  PetscInt64     seed;
  SlimSolverType solver;
  PetscBool      qrange_set, vrange_set;
  PetscReal      qrange[2], vrange[2];
} SlimFitDataSpec;

PETSC_EXTERN PetscErrorCode SlimFitDataCreateSynthetic(SlimFamily fam, const PetscReal theta[], const SlimFitDataSpec *spec, SlimFitData *data);
/* Measured data: rows of `cols` numbers. Trajectory rows are t, q[dof], qdot[dof] with times on
 * the step grid t0 + k dt (t0 = first row, which is also the prediction's initial state);
 * acceleration rows are [t,] q[dof], qdot[dof], qddot[dof] (t optional: 0 without it). Errors
 * name `what` (e.g. the file). */
PETSC_EXTERN PetscErrorCode SlimFitDataCreateFromArray(SlimLossType kind, PetscInt dof, PetscReal dt, PetscInt rows, PetscInt cols, const PetscReal vals[], const char what[], SlimFitData *data);
PETSC_EXTERN PetscErrorCode SlimFitDataDestroy(SlimFitData *data);
/* Number of observations (trajectory samples or acceleration grid points kept). */
PETSC_EXTERN PetscErrorCode SlimFitDataGetSize(SlimFitData data, PetscInt *n);
/* Standard normal numbers from a PetscRandom (Box-Muller, one number per pair of uniforms). */
PETSC_EXTERN PetscErrorCode SlimRandomNormal(PetscRandom rnd, PetscReal *z);
