/* The plain dense Newton loop of SlimStepper: one trajectory at a time, the same kernel as the
 * SNES driver, an LU with partial pivoting of each Jacobian. Per Newton iteration: one family
 * evaluation (residual and node derivatives), the convergence test, and only if another update
 * is needed the Jacobian assembly and its LU. The whole iteration is compiled for the instances
 * of SLIM_KERNEL_INSTANCES (dof known; for r <= 4 also the node count). No logging calls in here: the step
 * is one SlimStep event. */
#include "stepkernel.h"

SLIM_ALWAYS_INLINE PetscErrorCode NewtonKernel(SlimStepper st, PetscInt b, PetscInt *its, const PetscInt n, const PetscInt d)
{
  const PetscInt bs = (n - 1) * d;
  PetscReal     *X = st->Xd, *R = st->Rd, *dX = st->dXd, *J = st->Jd, *nd = st->nd;
  PetscInt      *piv = st->piv, it;

  PetscFunctionBeginUser;
  PredictKernel(st, b, X, n, d);
  for (it = 0;; it++) {
    PetscCall(EvalKernel(st, b, X, R, nd, PETSC_FALSE, n, d));
    if (!SlimStepAllFinite(bs, R)) {
      SlimStepMarkFailed(st, b, SNES_DIVERGED_FNORM_NAN);
      break;
    }
    if (ConvergedKernel(st, b, it, R, X, it ? dX : NULL, bs)) {
      ImpulseKernel(st, b, n, d); /* deferred to here: F and P are those at X */
      if (st->sens) PetscCall(SlimStepSensitivity(st, b, X));
      AcceptKernel(st, b, X, n, d);
      break;
    }
    if (it >= st->maxit) {
      SlimStepMarkFailed(st, b, SNES_DIVERGED_MAX_IT);
      break;
    }
    JacobianKernel(st, nd, J, n, d);
    if (DenseLUFactorKernel(bs, J, piv) >= 0) {
      SlimStepMarkFailed(st, b, SNES_DIVERGED_LINEAR_SOLVE);
      break;
    }
    DenseLUSolveTransposeKernel(bs, J, piv, R); /* J holds the transpose */
    for (PetscInt i = 0; i < bs; i++) dX[i] = R[i], X[i] -= R[i];
  }
  *its = it;
  PetscFunctionReturn(0);
}

#define SLIM_NEWTON_DEFINE(N, DOF) \
  static PetscErrorCode Newton_##N##_##DOF(SlimStepper st, PetscInt b, PetscInt *its) \
  { \
    return NewtonKernel(st, b, its, (N) ? (N) : st->n, DOF); \
  }
SLIM_KERNEL_INSTANCES(SLIM_NEWTON_DEFINE)

static PetscErrorCode Newton_Generic(SlimStepper st, PetscInt b, PetscInt *its)
{
  return NewtonKernel(st, b, its, st->n, st->dof);
}

/* Linear families: the Jacobian depends on neither the state nor the step, so each trajectory's
 * block is factored once; a step is one residual, one triangular solve and the exact end-point
 * update. */
static PetscErrorCode StepLinear(SlimStepper st, PetscInt *its)
{
  const PetscInt bs = st->bs;
  PetscReal     *Xb = st->Xd;

  PetscFunctionBeginUser;
  if (!st->lu_valid) {
    for (PetscInt b = 0; b < st->B; b++) {
      PetscReal *LU = st->LU + (size_t)b * bs * bs;
      if (!st->active[b]) continue;
      SlimStepPredict(st, b, Xb);
      PetscCall(SlimStepEval(st, b, Xb, NULL, st->nd, PETSC_FALSE));
      SlimStepJacobian(st, st->nd, LU);
      SlimStepStoreImpulseRow(st, b, st->nd);
      PetscCall(SlimDenseLUFactor(bs, LU, st->piv + b * bs));
    }
    st->lu_valid = PETSC_TRUE;
  }
  for (PetscInt b = 0; b < st->B; b++) {
    if (!st->active[b]) continue;
    SlimStepPredict(st, b, Xb);
    PetscCall(PetscArraycpy(st->dXd, Xb, bs));
    PetscCall(SlimStepEval(st, b, Xb, st->Rd, NULL, PETSC_FALSE));
    if (!SlimStepAllFinite(bs, st->Rd)) {
      SlimStepMarkFailed(st, b, SNES_DIVERGED_FNORM_NAN);
      continue;
    }
    DenseLUSolveTransposeKernel(bs, st->LU + (size_t)b * bs * bs, st->piv + b * bs, st->Rd); /* factors of the transpose */
    for (PetscInt i = 0; i < bs; i++) Xb[i] -= st->Rd[i];
    SlimStepEndUpdate(st, b, Xb, st->dXd);
    if (st->sens) PetscCall(SlimStepSensitivity(st, b, Xb));
    SlimStepAccept(st, b, Xb);
    *its = 1;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepStep_Dense(SlimStepper st, PetscInt *its)
{
  PetscErrorCode (*newton)(SlimStepper, PetscInt, PetscInt *) = Newton_Generic;

  PetscFunctionBeginUser;
  *its = 0;
  if (st->fam->linear) {
    PetscCall(StepLinear(st, its));
    PetscFunctionReturn(0);
  }
#define SLIM_NEWTON_SELECT(N, DOF) \
  if (SLIM_KERNEL_MATCHES(st, N, DOF)) newton = Newton_##N##_##DOF;
  SLIM_KERNEL_INSTANCES(SLIM_NEWTON_SELECT)
  for (PetscInt b = 0; b < st->B; b++) {
    PetscInt it;
    if (!st->active[b]) continue;
    PetscCall(newton(st, b, &it));
    *its = PetscMax(*its, it);
  }
  PetscFunctionReturn(0);
}
