#pragma once
/* SlimFitLoss: the two fit losses of physics.md and their exact gradients, evaluated for a
 * batch of parameter sets at once.
 *
 *   trajectory    L = 1/2 sqrt(sum (q_obs - q_pred)^2) + 1/2 sqrt(sum (qdot_obs - qdot_pred)^2)
 *                 (student paper eq. 28; sums over samples and components). The predictions of
 *                 the whole batch are one ensemble stepper run (B = batch size), and the
 *                 gradient comes from the stepper's forward sensitivities by the chain rule:
 *                   dL/dth = 1/2 sum r_q dq/dth / |r_q| + 1/2 sum r_v dqdot/dth / |r_v|.
 *                 A norm is not differentiable where it vanishes; there we take its minimum-norm
 *                 subgradient, 0 (the term is at its minimum), so L is exactly 0 with gradient 0
 *                 at a perfect fit.
 *   acceleration  L = mean over points and components of (qddot(th) - qddot_obs)^2 (weekly
 *                 report eq. 1), gradient 2 mean (qddot - qddot_obs) dqddot/dth from
 *                 SlimFamilyAcceleration(dacc).
 *
 * A parameter set whose evaluation fails (non-finite parameters, a failed step, a PETSc error in
 * the family, a non-finite loss or gradient) is reported in its SlimFitEval and does not affect
 * the other members of the batch. */
#include <slim/fitdata.h>

typedef struct _n_SlimFitLoss *SlimFitLoss;

typedef struct {
  PetscBool ok;
  char      reason[128]; /* why not ok */
} SlimFitEval;

/* The family is referenced (must outlive the loss); the loss kind is the data's. Trajectory
 * predictions use r interior points, the data's dt, and the given step solver. */
PETSC_EXTERN PetscErrorCode SlimFitLossCreate(SlimFamily fam, SlimFitData data, PetscInt r, SlimSolverType solver, SlimFitLoss *loss);
PETSC_EXTERN PetscErrorCode SlimFitLossDestroy(SlimFitLoss *loss);
/* Trajectory loss: use only the observations within the first fraction frac in (0, 1] of the
 * observation window (at least two; 1: all, the default) -- the stages of a horizon continuation
 * (-fit_horizons). Every evaluation and the residuals follow it; *nused (optional): how many.
 * No effect on the acceleration loss. */
PETSC_EXTERN PetscErrorCode SlimFitLossSetHorizon(SlimFitLoss loss, PetscReal frac, PetscInt *nused);
/* nb parameter sets theta[nb*np] (full parameter vectors of the family). Outputs: f[nb];
 * optional g[nb*np] (full gradients; NULL skips the sensitivities); optional fclean[nb], the
 * loss against the noise-free observations (NaN for measured data); ev[nb]. */
PETSC_EXTERN PetscErrorCode SlimFitLossEvaluate(SlimFitLoss loss, PetscInt nb, const PetscReal theta[], PetscReal f[], PetscReal g[], PetscReal fclean[], SlimFitEval ev[]);
/* Residuals of one parameter set, for Gauss-Newton statistics (SlimFitGetUncertainty) and for the
 * "observed vs fitted" output. Sizes from SlimFitLossGetSizes: nres residuals, npred predicted
 * numbers.
 *   trajectory    per sample k (n of them): residuals pred - obs of q (dof) then qdot (dof),
 *                 group 0 for q and 1 for qdot (the two norms of the loss); predictions q, qdot,
 *                 pi (3 dof per sample)
 *   acceleration  per point: qddot(theta) - qddot_obs (dof), group 0; predictions qddot (dof)
 * Every output but ev may be NULL; J (nres x np, row-major, full parameter vector) is the exact
 * Jacobian (forward sensitivities / analytic derivatives). ev says whether the evaluation worked. */
PETSC_EXTERN PetscErrorCode SlimFitLossGetSizes(SlimFitLoss loss, PetscInt *nres, PetscInt *npred);
PETSC_EXTERN PetscErrorCode SlimFitLossResiduals(SlimFitLoss loss, const PetscReal theta[], PetscReal res[], PetscReal J[], PetscInt group[], PetscReal pred[], SlimFitEval *ev);
