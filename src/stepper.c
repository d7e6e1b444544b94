/* SlimStepper: object lifecycle, options, state access and the step loop. The arithmetic of a
 * step is in stepkernel.c, the two solvers in stepsnes.c and stepdense.c (see stepimpl.h). */
#include "stepimpl.h"
#include <slim/poll.h>
#include <slim/options.h>

const char *const SlimSolverTypes[] = {"snes", "dense", "auto", "SlimSolverType", "SLIM_SOLVER_", NULL};

PetscErrorCode SlimStepperCreate(SlimFamily fam, PetscInt r, PetscInt B, SlimStepper *stout)
{
  SlimStepper st;
  PetscInt    n, d;

  PetscFunctionBeginUser;
  PetscCheck(r >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "r = %" PetscInt_FMT " is invalid: the number of interior points must be >= 0", r);
  PetscCheck(B >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "ensemble size %" PetscInt_FMT " is invalid: must be >= 1", B);
  PetscCall(SlimLogRegister());
  PetscCall(PetscNew(&st));
  st->fam    = fam;
  st->r      = r;
  st->n      = n = r + 2;
  st->dof    = d = fam->dof;
  st->np     = fam->nparam;
  st->B      = B;
  st->bs     = (r + 1) * d;
  st->solver = SLIM_SOLVER_AUTO;
  st->rtol   = 1e-13;
  st->atol   = 0;
  st->stol   = 1e-8;
  st->xtol   = 1e-8;
  st->maxit  = 50;
  st->pred_degree     = 3;
  st->kernel          = SLIM_KERNEL_NODES;
  PetscCall(SlimQuadCreate(r, &st->quad));
  PetscCall(PetscMalloc6(n, &st->w, n * n, &st->D, n * n, &st->WD, n, &st->tau, n * n, &st->Dt, n, &st->WDs));
  PetscCall(PetscMalloc5(B * st->np, &st->theta, B * d, &st->q, B * d, &st->pi, B * d, &st->vpred, B * d, &st->impulse));
  PetscCall(PetscMalloc5(B * d, &st->vend, B, &st->active, B, &st->fail, B, &st->mag, B, &st->conv));
  PetscCall(PetscMalloc5(n * d, &st->Q, n * d, &st->V, n * d, &st->F, n * d, &st->P, n * d, &st->Racc));
  PetscCall(PetscMalloc2(n * d, &st->Macc, B, &st->hasprev));
  PetscCall(PetscCalloc3(B * d, &st->qlo, B * d, &st->pilo, B, &st->rsum));
  for (PetscInt b = 0; b < B; b++) {
    PetscCall(PetscArraycpy(st->theta + b * st->np, fam->theta, st->np));
    st->active[b] = PETSC_TRUE;
    st->conv[b]   = PETSC_FALSE;
    st->hasprev[b] = PETSC_FALSE;
    st->fail[b]   = (SlimFailure){SNES_CONVERGED_ITERATING, -1};
  }
  PetscCall(PetscArrayzero(st->pi, B * d));
  PetscCall(PetscArrayzero(st->vpred, B * d));
  st->dt = 0;
  *stout = st;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperDestroy(SlimStepper *st)
{
  PetscFunctionBeginUser;
  if (!*st) PetscFunctionReturn(0);
  PetscCall(SNESDestroy(&(*st)->snes));
  PetscCall(MatDestroy(&(*st)->J));
  PetscCall(VecDestroy(&(*st)->X));
  PetscCall(VecDestroy(&(*st)->R));
  PetscCall(SlimQuadDestroy(&(*st)->quad));
  PetscCall(PetscFree6((*st)->w, (*st)->D, (*st)->WD, (*st)->tau, (*st)->Dt, (*st)->WDs));
  PetscCall(PetscFree5((*st)->theta, (*st)->q, (*st)->pi, (*st)->vpred, (*st)->impulse));
  PetscCall(PetscFree5((*st)->vend, (*st)->active, (*st)->fail, (*st)->mag, (*st)->conv));
  PetscCall(PetscFree5((*st)->Q, (*st)->V, (*st)->F, (*st)->P, (*st)->Racc));
  PetscCall(PetscFree2((*st)->Macc, (*st)->hasprev));
  PetscCall(PetscFree3((*st)->qlo, (*st)->pilo, (*st)->rsum));
  PetscCall(PetscFree4((*st)->Jd, (*st)->Rd, (*st)->Xd, (*st)->dXd));
  PetscCall(PetscFree3((*st)->nd, (*st)->ndX, (*st)->ndepoch));
  PetscCall(PetscFree2((*st)->Epred, (*st)->ipred));
  PetscCall(PetscFree((*st)->prev));
  PetscCall(PetscFree((*st)->LU));
  PetscCall(PetscFree((*st)->piv));
  PetscCall(PetscFree((*st)->Gimp));
  PetscCall(PetscFree((*st)->Xpred));
  PetscCall(PetscFree2((*st)->blu, (*st)->bpiv));
  PetscCall(PetscFree3((*st)->dq, (*st)->dpi, (*st)->dpinew));
  PetscCall(PetscFree6((*st)->Fth, (*st)->Pth, (*st)->Gth, (*st)->Ys, (*st)->ndsens, (*st)->spiv));
  PetscCall(PetscFree(*st));
  PetscFunctionReturn(0);
}

/* Kernel instance and predictor: after the options that choose them. */
static PetscErrorCode SetUpKernel(SlimStepper st)
{
  PetscFunctionBeginUser;
  PetscCall(SlimStepSelectKernel(st));
  PetscCall(SlimStepSetUpPredictor(st));
  PetscCall(PetscFree(st->prev));
  PetscCall(PetscMalloc1((size_t)st->B * st->npred * st->dof, &st->prev));
  for (PetscInt b = 0; b < st->B; b++) st->hasprev[b] = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetFromOptions(SlimStepper st)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Slimplectic stepper options", NULL);
  PetscCall(PetscOptionsEnum("-slim_solver", "Nonlinear solver of each step: snes (PETSc SNES over the ensemble), dense (plain Newton loop per trajectory) or auto (dense for one trajectory, snes for an ensemble)", "SlimStepperSetSolverType", SlimSolverTypes, (PetscEnum)st->solver, (PetscEnum *)&st->solver, NULL));
  PetscCall(SlimOptionsReal("-slim_step_rtol", "Per-trajectory residual reduction (infinity norm) that ends a step's Newton iteration", NULL, st->rtol, &st->rtol, NULL));
  PetscCall(SlimOptionsReal("-slim_step_atol", "Per-trajectory absolute residual (infinity norm) that ends a step's Newton iteration", NULL, st->atol, &st->atol, NULL));
  PetscCall(SlimOptionsReal("-slim_step_stol", "Residual (relative to its largest term) below which a tiny Newton update or a linear family's exact update ends the iteration", NULL, st->stol, &st->stol, NULL));
  PetscCall(SlimOptionsReal("-slim_step_xtol", "Relative Newton update below which the step has converged (the error is then ~xtol^2)", NULL, st->xtol, &st->xtol, NULL));
  PetscCall(SlimOptionsInt("-slim_step_maxit", "Newton iterations per step before the step is declared failed", NULL, st->maxit, &st->maxit, NULL));
  PetscCall(SlimOptionsInt("-slim_step_predictor_degree", "Degree of the previous step's node polynomial extrapolated as the Newton guess (capped at r+1)", NULL, st->pred_degree, &st->pred_degree, NULL));
  PetscCall(PetscOptionsEnum("-slim_step_kernel", "Compiled step kernel: generic (n, dof at run time), dof (compiled for dof <= 2), nodes (also for r <= 4)", NULL, SlimStepKernelTypes, (PetscEnum)st->kernel, (PetscEnum *)&st->kernel, NULL));
  PetscOptionsEnd();
  PetscCheck(st->pred_degree >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-slim_step_predictor_degree %" PetscInt_FMT " is invalid: must be >= 1", st->pred_degree);
  PetscCheck(st->rtol > 0 && st->rtol < 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-slim_step_rtol %g is invalid: must be in (0, 1)", (double)st->rtol);
  PetscCheck(st->atol >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-slim_step_atol %g is invalid: must be >= 0", (double)st->atol);
  PetscCheck(st->maxit >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-slim_step_maxit %" PetscInt_FMT " is invalid: must be >= 1", st->maxit);
  if (st->setup) PetscCall(SetUpKernel(st));
  if (st->snes) PetscCall(SNESSetFromOptions(st->snes));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetSolverType(SlimStepper st, SlimSolverType type)
{
  PetscFunctionBeginUser;
  PetscCheck(!st->setup || type == st->solver || type == SLIM_SOLVER_AUTO, PETSC_COMM_SELF, PETSC_ERR_ORDER, "the solver type cannot change after SlimStepperSetUp()");
  if (!st->setup) st->solver = type;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetTimeStep(SlimStepper st, PetscReal dt)
{
  const PetscReal *x;

  PetscFunctionBeginUser;
  PetscCheck(dt > 0 && !PetscIsInfOrNanReal(dt), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "dt = %g is invalid: the step must be positive and finite", (double)dt);
  st->dt = dt;
  PetscCall(SlimQuadGetScaled(st->quad, dt, st->w, st->D));
  PetscCall(SlimQuadGetReference(st->quad, &x, NULL, NULL, NULL));
  for (PetscInt i = 0; i < st->n; i++) st->tau[i] = 0.5 * (1 + x[i]) * dt;
  for (PetscInt i = 0; i < st->n * st->n; i++) st->WD[i] = st->w[i / st->n] * st->D[i];
  for (PetscInt i = 0; i < st->n; i++) {
    /* the exact sum of the stored (rounded) products, ~eps rather than 0: deliberately, so that the
     * impulse equals sum_k G_k of the residual's own coefficients */
    long double s = 0;
    for (PetscInt k = 0; k < st->n; k++) s += st->WD[i * st->n + k];
    st->WDs[i] = (PetscReal)s;
  }
  for (PetscInt i = 0; i < st->n; i++)
    for (PetscInt j = 0; j < st->n; j++) st->Dt[j * st->n + i] = st->D[i * st->n + j];
  st->jac_valid = st->lu_valid = PETSC_FALSE;
  for (PetscInt b = 0; b < st->B; b++) st->hasprev[b] = PETSC_FALSE; /* the node polynomial had another dt */
  st->epoch++;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetParameters(SlimStepper st, PetscInt b, const PetscReal theta[])
{
  PetscFunctionBeginUser;
  PetscCheck(b >= 0 && b < st->B, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "trajectory %" PetscInt_FMT " out of range [0, %" PetscInt_FMT ")", b, st->B);
  for (PetscInt j = 0; j < st->np; j++) PetscCheck(!PetscIsInfOrNanReal(theta[j]), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "parameter %s = %g is not finite", st->fam->pname[j], (double)theta[j]);
  PetscCall(PetscArraycpy(st->theta + b * st->np, theta, st->np));
  st->jac_valid = st->lu_valid = PETSC_FALSE;
  st->hasprev[b]                = PETSC_FALSE;
  st->epoch++;
  PetscFunctionReturn(0);
}

static PetscErrorCode SetState(SlimStepper st, PetscInt b, PetscReal t0, const PetscReal q[], const PetscReal v[], const PetscReal pi[])
{
  const PetscInt d = st->dof;
  PetscReal     *th = st->theta + b * st->np;

  PetscFunctionBeginUser;
  PetscCheck(b >= 0 && b < st->B, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "trajectory %" PetscInt_FMT " out of range [0, %" PetscInt_FMT ")", b, st->B);
  PetscCheck(SlimStepAllFinite(d, q) && SlimStepAllFinite(d, v ? v : pi) && !PetscIsInfOrNanReal(t0), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "initial state of trajectory %" PetscInt_FMT " is not finite", b);
  PetscCall(PetscArraycpy(st->q + b * d, q, d));
  PetscCall(PetscArrayzero(st->qlo + b * d, d));
  PetscCall(PetscArrayzero(st->pilo + b * d, d));
  st->rsum[b] = 0;
  if (v) {
    PetscCall(PetscArraycpy(st->vpred + b * d, v, d));
    PetscCall(SlimFamilyMomentum(st->fam, th, t0, q, v, st->pi + b * d));
  } else {
    PetscCall(PetscArraycpy(st->pi + b * d, pi, d));
    PetscCall(PetscArrayzero(st->vpred + b * d, d));
    PetscCall(SlimFamilyVelocity(st->fam, th, t0, q, pi, st->vpred + b * d));
  }
  if (st->sens) {
    /* q_0 does not depend on theta; pi_0 = P(q_0, qdot_0; theta) does when qdot_0 is given */
    PetscReal *dq = st->dq + b * d * st->np, *dpi = st->dpi + b * d * st->np;
    PetscCall(PetscArrayzero(dq, d * st->np));
    PetscCall(PetscArrayzero(dpi, d * st->np));
    if (v) {
      PetscReal P[SLIM_MAX_DOF];
      SlimEval  e = {NULL, P, NULL, NULL, NULL, NULL, NULL, dpi, NULL, NULL};
      PetscCall(st->fam->eval(th, t0, q, v, &e));
    }
  }
  st->t          = t0;
  st->step       = 0;
  st->hasprev[b] = PETSC_FALSE;
  st->epoch++;
  if (!st->active[b]) st->jac_valid = st->lu_valid = PETSC_FALSE;
  st->active[b] = PETSC_TRUE;
  st->fail[b]   = (SlimFailure){SNES_CONVERGED_ITERATING, -1};
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetInitialState(SlimStepper st, PetscInt b, PetscReal t0, const PetscReal q[], const PetscReal v[])
{
  PetscFunctionBeginUser;
  PetscCall(SetState(st, b, t0, q, v, NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetInitialMomentum(SlimStepper st, PetscInt b, PetscReal t0, const PetscReal q[], const PetscReal pi[])
{
  PetscFunctionBeginUser;
  PetscCall(SetState(st, b, t0, q, NULL, pi));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetUp(SlimStepper st)
{
  const PetscInt bs = st->bs;
  PetscInt       nsets;
  PetscBool      lu;

  PetscFunctionBeginUser;
  if (st->setup) PetscFunctionReturn(0);
  PetscCheck(st->dt > 0, PETSC_COMM_SELF, PETSC_ERR_ORDER, "SlimStepperSetTimeStep() must be called before the first step");
  if (st->solver == SLIM_SOLVER_AUTO) st->solver = st->B == 1 ? SLIM_SOLVER_DENSE : SLIM_SOLVER_SNES;
  PetscCall(SetUpKernel(st));
  /* only the dense Newton loop knows, per trajectory, which evaluation is the accepted one */
  st->impulse_deferred = (PetscBool)(st->solver == SLIM_SOLVER_DENSE && !st->fam->linear);
  nsets = st->solver == SLIM_SOLVER_SNES ? st->B : 1;
  lu    = (PetscBool)(st->solver == SLIM_SOLVER_DENSE && st->fam->linear);
  if (!st->Jd) PetscCall(PetscMalloc4(bs * bs, &st->Jd, bs, &st->Rd, bs, &st->Xd, bs, &st->dXd));
  /* node derivatives: one set per trajectory for SNES (the Jacobian comes after the whole
   * ensemble's residual), one reused set for the dense loop */
  st->ndstride = st->solver == SLIM_SOLVER_SNES ? (size_t)4 * st->n * st->dof * st->dof : 0;
  PetscCall(PetscMalloc3((size_t)4 * st->n * st->dof * st->dof * nsets, &st->nd, (size_t)bs * nsets, &st->ndX, nsets, &st->ndepoch));
  for (PetscInt b = 0; b < nsets; b++) st->ndepoch[b] = -1;
  if (lu) PetscCall(PetscMalloc1((size_t)st->B * bs * bs, &st->LU));
  PetscCall(PetscMalloc1(lu ? st->B * bs : bs, &st->piv));
  if (st->fam->linear) PetscCall(PetscMalloc1((size_t)st->B * (st->n - 1) * st->dof * st->dof, &st->Gimp));
  if (st->solver == SLIM_SOLVER_SNES) PetscCall(SlimStepSetUp_SNES(st));
  st->setup = PETSC_TRUE;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperStep(SlimStepper st)
{
  PetscInt its = 0;

  PetscFunctionBeginUser;
  PetscCall(SlimStepperSetUp(st));
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Step, 0, 0, 0, 0));
  if (st->solver == SLIM_SOLVER_SNES) PetscCall(SlimStepStep_SNES(st, &its));
  else PetscCall(SlimStepStep_Dense(st, &its));
  st->t += st->dt;
  st->step++;
  st->stats.steps++;
  st->stats.newton_total += its;
  st->stats.newton_max = PetscMax(st->stats.newton_max, its);
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Step, 0, 0, 0, 0));
  PetscCall(SlimPoll());
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetMonitor(SlimStepper st, PetscInt stride, SlimStepperMonitorFn fn, void *ctx)
{
  PetscFunctionBeginUser;
  PetscCheck(stride >= 1 || !fn, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "monitor stride %" PetscInt_FMT " must be >= 1", stride);
  st->mon_stride = stride;
  st->mon        = fn;
  st->mon_ctx    = ctx;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperIntegrate(SlimStepper st, PetscInt N)
{
  PetscFunctionBeginUser;
  PetscCheck(N >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "N = %" PetscInt_FMT " is invalid: the step count must be >= 0", N);
  PetscCall(SlimStepperSetUp(st));
  if (st->mon && st->step == 0) PetscCall(st->mon(st, 0, st->mon_ctx));
  for (PetscInt i = 0; i < N; i++) {
    PetscCall(SlimStepperStep(st));
    if (st->mon && st->step % st->mon_stride == 0) PetscCall(st->mon(st, st->step, st->mon_ctx));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetState(SlimStepper st, PetscInt b, PetscReal *t, PetscReal q[], PetscReal pi[])
{
  PetscFunctionBeginUser;
  if (t) *t = st->t;
  if (q) PetscCall(PetscArraycpy(q, st->q + b * st->dof, st->dof));
  if (pi) PetscCall(PetscArraycpy(pi, st->pi + b * st->dof, st->dof));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetVelocity(SlimStepper st, PetscInt b, PetscReal v[])
{
  const PetscInt d = st->dof;

  PetscFunctionBeginUser;
  /* the end-point derivative of the last step is an O(dt^(r+1)) guess; Newton makes it exact */
  PetscCall(PetscArraycpy(v, st->vpred + b * d, d));
  PetscCall(SlimFamilyVelocity(st->fam, st->theta + b * st->np, st->t, st->q + b * d, st->pi + b * d, v));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetEnergy(SlimStepper st, PetscInt b, PetscReal *E)
{
  PetscReal v[SLIM_MAX_DOF];

  PetscFunctionBeginUser;
  PetscCall(SlimStepperGetVelocity(st, b, v));
  PetscCall(st->fam->energy(st->theta + b * st->np, st->t, st->q + b * st->dof, v, E));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetStepIndex(SlimStepper st, PetscInt *n)
{
  PetscFunctionBeginUser;
  *n = st->step;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetFailure(SlimStepper st, PetscInt b, SlimFailure *f)
{
  PetscFunctionBeginUser;
  *f = st->fail[b];
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetStats(SlimStepper st, SlimStepStats *s)
{
  PetscFunctionBeginUser;
  *s = st->stats;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperResetStats(SlimStepper st)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&st->stats, sizeof(st->stats)));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetSNES(SlimStepper st, SNES *snes)
{
  PetscFunctionBeginUser;
  PetscCall(SlimStepperSetUp(st));
  PetscCheck(st->snes, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "SlimStepperGetSNES: this stepper runs the dense Newton loop (set -slim_solver snes or SlimStepperSetSolverType() before setup)");
  *snes = st->snes;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetSolverType(SlimStepper st, SlimSolverType *type)
{
  PetscFunctionBeginUser;
  *type = st->solver;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetSizes(SlimStepper st, PetscInt *r, PetscInt *B, PetscInt *dof)
{
  PetscFunctionBeginUser;
  if (r) *r = st->r;
  if (B) *B = st->B;
  if (dof) *dof = st->dof;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetResidualSum(SlimStepper st, PetscInt b, PetscReal *sum)
{
  PetscFunctionBeginUser;
  PetscCheck(b >= 0 && b < st->B, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "trajectory %" PetscInt_FMT " out of range [0, %" PetscInt_FMT ")", b, st->B);
  *sum = st->rsum[b];
  PetscFunctionReturn(0);
}

PetscErrorCode SlimErrorFloor(SlimFamily fam, PetscInt N, PetscReal solve, PetscReal user, PetscReal *floor)
{
  PetscReal scale = PETSC_SMALL;

  PetscFunctionBeginUser;
  for (PetscInt a = 0; a < fam->dof; a++) scale = PetscMax(scale, PetscAbsReal(fam->q0[a]));
  if (PetscIsInfOrNanReal(solve)) solve = 0;
  *floor = PetscMax(user * scale, SLIM_STEP_FLOOR_SAFETY * PetscMax(solve, N * SLIM_STEP_ROUNDOFF * PETSC_MACHINE_EPSILON * scale));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetSensitivities(SlimStepper st, PetscBool on)
{
  const PetscInt n = st->n, d = st->dof, np = st->np;

  PetscFunctionBeginUser;
  if (on && !st->dq) {
    PetscCall(PetscCalloc3(st->B * d * np, &st->dq, st->B * d * np, &st->dpi, d * np, &st->dpinew));
    PetscCall(PetscMalloc6(n * d * np, &st->Fth, n * d * np, &st->Pth, n * d * np, &st->Gth, st->bs * np, &st->Ys, 4 * n * d * d, &st->ndsens, st->bs, &st->spiv));
  }
  if (on && !st->Jd) PetscCall(PetscMalloc4(st->bs * st->bs, &st->Jd, st->bs, &st->Rd, st->bs, &st->Xd, st->bs, &st->dXd));
  st->sens = on;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetSensitivities(SlimStepper st, PetscInt b, PetscReal dq[], PetscReal dpi[], PetscReal dv[])
{
  const PetscInt d = st->dof, np = st->np;

  PetscFunctionBeginUser;
  PetscCheck(st->sens, PETSC_COMM_SELF, PETSC_ERR_ORDER, "sensitivities are off: call SlimStepperSetSensitivities() before setting the initial state");
  if (dq) PetscCall(PetscArraycpy(dq, st->dq + b * d * np, d * np));
  if (dpi) PetscCall(PetscArraycpy(dpi, st->dpi + b * d * np, d * np));
  if (dv) {
    /* v = V(q, pi; theta) from P(q, v; theta) = pi:  Pv dv = dpi - Pq dq - Pth */
    PetscReal v[SLIM_MAX_DOF], P[SLIM_MAX_DOF], Pq[SLIM_MAX_DOF * SLIM_MAX_DOF], Pv[SLIM_MAX_DOF * SLIM_MAX_DOF], Pth[SLIM_MAX_DOF * SLIM_MAX_PARAM], rhs[SLIM_MAX_DOF * SLIM_MAX_PARAM];
    const PetscReal *q = st->q + b * d, *sq = st->dq + b * d * np, *sp = st->dpi + b * d * np;
    SlimEval         e = {NULL, P, NULL, NULL, Pq, Pv, NULL, Pth, NULL, NULL};
    PetscCall(SlimStepperGetVelocity(st, b, v));
    PetscCall(st->fam->eval(st->theta + b * np, st->t, q, v, &e));
    for (PetscInt j = 0; j < np; j++)
      for (PetscInt a = 0; a < d; a++) {
        PetscReal s = sp[a * np + j] - Pth[a * np + j];
        for (PetscInt c = 0; c < d; c++) s -= Pq[a * d + c] * sq[c * np + j];
        rhs[j * d + a] = s;
      }
    PetscCall(SlimDenseSolve(d, Pv, rhs, np));
    for (PetscInt a = 0; a < d; a++)
      for (PetscInt j = 0; j < np; j++) dv[a * np + j] = rhs[j * d + a];
  }
  PetscFunctionReturn(0);
}
