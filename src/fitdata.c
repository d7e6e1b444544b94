/* SlimFitData: synthetic and measured observations for coefficient fits (include/slim/fitdata.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <slim/fitdata.h>
#include <slim/private/fitimpl.h>

const char *const SlimLossTypes[] = {"trajectory", "acceleration", "SlimLossType", "SLIM_LOSS_", NULL};

PetscErrorCode SlimRandomNormal(PetscRandom rnd, PetscReal *z)
{
  PetscReal u1, u2;

  PetscFunctionBeginUser;
  PetscCall(PetscRandomGetValueReal(rnd, &u1));
  PetscCall(PetscRandomGetValueReal(rnd, &u2));
  /* u1 in [0, 1): use 1 - u1 in (0, 1] so the logarithm is finite */
  *z = PetscSqrtReal(-2 * PetscLogReal(1 - u1)) * PetscCosReal(2 * PETSC_PI * u2);
  PetscFunctionReturn(0);
}

static PetscErrorCode DataAlloc(SlimLossType kind, PetscInt dof, PetscInt n, PetscBool clean, SlimFitData *data)
{
  SlimFitData d;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&d));
  d->kind = kind;
  d->dof  = dof;
  d->n    = n;
  PetscCall(PetscCalloc2(n, &d->step, n, &d->t));
  PetscCall(PetscCalloc3(n * dof, &d->q, n * dof, &d->v, n * dof, &d->a));
  if (clean) PetscCall(PetscCalloc3(n * dof, &d->qc, n * dof, &d->vc, n * dof, &d->ac));
  *data = d;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitDataGetSize(SlimFitData data, PetscInt *n)
{
  PetscFunctionBeginUser;
  *n = data->n;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitDataDestroy(SlimFitData *data)
{
  PetscFunctionBeginUser;
  if (!*data) PetscFunctionReturn(0);
  PetscCall(PetscFree2((*data)->step, (*data)->t));
  PetscCall(PetscFree3((*data)->q, (*data)->v, (*data)->a));
  if ((*data)->qc) PetscCall(PetscFree3((*data)->qc, (*data)->vc, (*data)->ac));
  PetscCall(PetscFree(*data));
  PetscFunctionReturn(0);
}

/* The true motion: samples every `stride` steps and the extent of q and qdot over all steps. */
typedef struct {
  PetscInt   stride, dof, n;
  PetscReal *t, *q, *v;
  PetscReal  lo[2 * SLIM_MAX_DOF], hi[2 * SLIM_MAX_DOF];
} TruthCtx;

static PetscErrorCode TruthMonitor(SlimStepper st, PetscInt step, void *ctx)
{
  TruthCtx   *c = (TruthCtx *)ctx;
  PetscReal   t, q[SLIM_MAX_DOF], v[SLIM_MAX_DOF];
  SlimFailure f;

  PetscFunctionBeginUser;
  PetscCall(SlimStepperGetFailure(st, 0, &f));
  if (f.step >= 0) PetscFunctionReturn(0);
  PetscCall(SlimStepperGetState(st, 0, &t, q, NULL));
  PetscCall(SlimStepperGetVelocity(st, 0, v));
  for (PetscInt a = 0; a < c->dof; a++) {
    c->lo[a]          = PetscMin(c->lo[a], q[a]);
    c->hi[a]          = PetscMax(c->hi[a], q[a]);
    c->lo[c->dof + a] = PetscMin(c->lo[c->dof + a], v[a]);
    c->hi[c->dof + a] = PetscMax(c->hi[c->dof + a], v[a]);
  }
  if (c->t && step % c->stride == 0) {
    const PetscInt i = step / c->stride;
    c->t[i]          = t;
    for (PetscInt a = 0; a < c->dof; a++) c->q[i * c->dof + a] = q[a], c->v[i * c->dof + a] = v[a];
    c->n = i + 1;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode IntegrateTruthWith(SlimStepper st, SlimFamily fam, const PetscReal theta[], const SlimFitDataSpec *spec, TruthCtx *c, SlimFailure *f)
{
  PetscFunctionBeginUser;
  PetscCall(SlimStepperSetFromOptions(st));
  PetscCall(SlimStepperSetSolverType(st, spec->solver));
  PetscCall(SlimStepperSetTimeStep(st, spec->dt));
  PetscCall(SlimStepperSetParameters(st, 0, theta));
  PetscCall(SlimStepperSetInitialState(st, 0, 0.0, fam->q0, fam->v0));
  PetscCall(SlimStepperSetMonitor(st, 1, TruthMonitor, c));
  PetscCall(SlimStepperIntegrate(st, spec->N));
  PetscCall(SlimStepperGetFailure(st, 0, f));
  PetscFunctionReturn(0);
}

static PetscErrorCode IntegrateTruth(SlimFamily fam, const PetscReal theta[], const SlimFitDataSpec *spec, TruthCtx *c)
{
  SlimStepper    st;
  SlimFailure    f;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  for (PetscInt a = 0; a < 2 * fam->dof; a++) c->lo[a] = PETSC_MAX_REAL, c->hi[a] = -PETSC_MAX_REAL;
  PetscCall(SlimStepperCreate(fam, spec->r, 1, &st));
  ierr = IntegrateTruthWith(st, fam, theta, spec, c, &f);
  PetscCall(SlimStepperDestroy(&st));
  PetscCall(ierr);
  PetscCheck(f.step < 0, PETSC_COMM_SELF, PETSC_ERR_NOT_CONVERGED, "synthetic fit data: the integration of the true parameters failed at step %" PetscInt_FMT " (%s)", f.step, SNESConvergedReasons[f.reason]);
  PetscFunctionReturn(0);
}

/* Trajectory samples every stride steps of the true motion, with noise. */
static PetscErrorCode SyntheticTrajectory(SlimFamily fam, const PetscReal theta[], const SlimFitDataSpec *spec, PetscRandom rnd, SlimFitData *data)
{
  const PetscInt d = fam->dof;
  TruthCtx       c;
  SlimFitData    D;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&c, sizeof(c)));
  c.dof    = d;
  c.stride = PetscMax(spec->stride, 1);
  const PetscInt ns = spec->N / c.stride + 1;
  PetscCall(DataAlloc(SLIM_LOSS_TRAJECTORY, d, ns, PETSC_TRUE, data));
  D   = *data;
  c.t = D->t, c.q = D->qc, c.v = D->vc;
  PetscCall(IntegrateTruth(fam, theta, spec, &c));
  for (PetscInt i = 0; i < ns; i++) {
    D->step[i] = i * c.stride;
    for (PetscInt a = 0; a < d; a++) {
      PetscReal z1, z2;
      PetscCall(SlimRandomNormal(rnd, &z1));
      PetscCall(SlimRandomNormal(rnd, &z2));
      D->q[i * d + a] = D->qc[i * d + a] + spec->sigma * z1;
      D->v[i * d + a] = D->vc[i * d + a] + spec->sigma * z2;
    }
  }
  D->t0 = 0;
  PetscCall(PetscArraycpy(D->q0, fam->q0, d));
  PetscCall(PetscArraycpy(D->v0, fam->v0, d));
  PetscFunctionReturn(0);
}

/* Grid limits of every coordinate: the ranges set, else the extent of the true motion. */
static PetscErrorCode GridBox(SlimFamily fam, const PetscReal theta[], const SlimFitDataSpec *spec, PetscReal lo[], PetscReal hi[])
{
  const PetscInt d = fam->dof;
  TruthCtx       c;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&c, sizeof(c)));
  c.dof    = d;
  c.stride = PetscMax(spec->stride, 1);
  if (!spec->qrange_set || !spec->vrange_set) PetscCall(IntegrateTruth(fam, theta, spec, &c));
  for (PetscInt a = 0; a < d; a++) {
    lo[a]     = spec->qrange_set ? spec->qrange[0] : c.lo[a];
    hi[a]     = spec->qrange_set ? spec->qrange[1] : c.hi[a];
    lo[d + a] = spec->vrange_set ? spec->vrange[0] : c.lo[d + a];
    hi[d + a] = spec->vrange_set ? spec->vrange[1] : c.hi[d + a];
  }
  PetscFunctionReturn(0);
}

/* Accelerations on a grid of `grid` values per coordinate, with noise on q, qdot and qddot. */
static PetscErrorCode SyntheticAcceleration(SlimFamily fam, const PetscReal theta[], const SlimFitDataSpec *spec, PetscRandom rnd, SlimFitData *data)
{
  const PetscInt d = fam->dof, nc = 2 * d, g = spec->grid;
  PetscReal      lo[2 * SLIM_MAX_DOF], hi[2 * SLIM_MAX_DOF], ntot = 1;
  PetscInt       n = 0, total;
  SlimFitData    D;

  PetscFunctionBeginUser;
  PetscCheck(g >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_grid %" PetscInt_FMT " must be >= 1", g);
  for (PetscInt k = 0; k < nc; k++) ntot *= g;
  PetscCheck(ntot <= SLIM_FIT_GRID_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_grid %" PetscInt_FMT ": %" PetscInt_FMT "^%" PetscInt_FMT " = %g acceleration grid points for family '%s' (limit 2^20)", g, g, nc, (double)ntot, fam->name);
  total = (PetscInt)ntot;
  PetscCall(GridBox(fam, theta, spec, lo, hi));
  PetscCall(DataAlloc(SLIM_LOSS_ACCELERATION, d, total, PETSC_TRUE, data));
  D = *data;
  for (PetscInt idx = 0; idx < total; idx++) {
    PetscReal      x[2 * SLIM_MAX_DOF], acc[SLIM_MAX_DOF];
    PetscInt       rest = idx;
    /* an observation time per point, spread over the run [0, N dt] by the golden-ratio sequence
     * (uncorrelated with the state grid): explicit time dependence (a drive cos(omega t)) is seen
     * at many phases; families without it do not depend on t */
    const PetscReal t = spec->N * spec->dt * (PetscReal)fmod(0.6180339887498949 * (idx + 1), 1.0);
    PetscBool      ok   = PETSC_TRUE;
    PetscErrorCode ierr;
    SlimCatch      cat;

    for (PetscInt k = nc - 1; k >= 0; k--) {
      const PetscInt j = rest % g;
      rest /= g;
      x[k] = g > 1 ? lo[k] + (hi[k] - lo[k]) * j / (g - 1) : 0.5 * (lo[k] + hi[k]);
    }
    /* a grid point where qddot is undefined (singular momentum map, the orbit's centre) is dropped */
    SlimCatchBegin(&cat);
    ierr = SlimFamilyAcceleration(fam, theta, t, x, x + d, acc, NULL);
    SlimCatchEnd(&cat);
    for (PetscInt a = 0; a < d && !ierr; a++) ok = (PetscBool)(ok && isfinite(acc[a]));
    if (ierr || !ok) {
      D->ndropped++;
      continue;
    }
    D->t[n] = t;
    for (PetscInt a = 0; a < d; a++) {
      PetscReal z[3];
      for (PetscInt k = 0; k < 3; k++) PetscCall(SlimRandomNormal(rnd, &z[k]));
      D->qc[n * d + a] = x[a];
      D->vc[n * d + a] = x[d + a];
      D->ac[n * d + a] = acc[a];
      D->q[n * d + a]  = x[a] + spec->sigma * z[0];
      D->v[n * d + a]  = x[d + a] + spec->sigma * z[1];
      D->a[n * d + a]  = acc[a] + spec->sigma * z[2];
    }
    n++;
  }
  PetscCheck(n > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "acceleration fit data: no grid point of family '%s' has a finite acceleration (set -fit_grid_q / -fit_grid_v)", fam->name);
  D->n = n;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitDataCreateSynthetic(SlimFamily fam, const PetscReal theta[], const SlimFitDataSpec *spec, SlimFitData *data)
{
  SlimFitData    D = NULL;
  PetscRandom    rnd;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *data = NULL;
  PetscCheck(spec->sigma >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "noise sigma %g must be >= 0", (double)spec->sigma);
  PetscCall(PetscRandomCreate(PETSC_COMM_SELF, &rnd));
  /* rander48 keeps its state in the object (rand48 would share libc's global state) */
  PetscCall(PetscRandomSetType(rnd, PETSCRANDER48));
  PetscCall(PetscRandomSetSeed(rnd, (unsigned long)spec->seed));
  PetscCall(PetscRandomSeed(rnd));
  if (spec->kind == SLIM_LOSS_TRAJECTORY) ierr = SyntheticTrajectory(fam, theta, spec, rnd, &D);
  else ierr = SyntheticAcceleration(fam, theta, spec, rnd, &D);
  PetscCall(PetscRandomDestroy(&rnd));
  if (ierr) PetscCall(SlimFitDataDestroy(&D)); /* what was built before the failure */
  PetscCall(ierr);
  D->dt    = spec->dt;
  D->sigma = spec->sigma;
  *data    = D;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitDataCreateFromArray(SlimLossType kind, PetscInt dof, PetscReal dt, PetscInt rows, PetscInt cols, const PetscReal vals[], const char what[], SlimFitData *data)
{
  SlimFitData D;

  PetscFunctionBeginUser;
  PetscCheck(rows >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "%s: no observations", what);
  for (PetscInt i = 0; i < rows * cols; i++) PetscCheck(isfinite(vals[i]), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: row %" PetscInt_FMT " column %" PetscInt_FMT " is not finite", what, i / cols, i % cols);
  if (kind == SLIM_LOSS_TRAJECTORY) {
    PetscCheck(cols == 1 + 2 * dof, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "%s: trajectory observations need 1 + 2*dof = %" PetscInt_FMT " columns (t, q, qdot), the dataset has %" PetscInt_FMT, what, 1 + 2 * dof, cols);
    PetscCall(DataAlloc(kind, dof, rows, PETSC_FALSE, &D));
    D->t0 = vals[0];
    for (PetscInt i = 0; i < rows; i++) {
      const PetscReal *row = vals + i * cols, k = (row[0] - D->t0) / dt;
      const PetscInt   step = (PetscInt)llround(k);

      /* the predictions only exist on the step grid: a time between steps is a user error */
      PetscCheck(PetscAbsReal(k - step) <= 1e-6, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: time %g of row %" PetscInt_FMT " is not t0 + k dt (t0 = %g, dt = %g)", what, (double)row[0], i, (double)D->t0, (double)dt);
      PetscCheck(i == 0 || step > D->step[i - 1], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: times must increase (row %" PetscInt_FMT ")", what, i);
      D->step[i] = step;
      D->t[i]    = row[0];
      for (PetscInt a = 0; a < dof; a++) D->q[i * dof + a] = row[1 + a], D->v[i * dof + a] = row[1 + dof + a];
    }
    PetscCall(PetscArraycpy(D->q0, D->q, dof));
    PetscCall(PetscArraycpy(D->v0, D->v, dof));
  } else {
    /* an optional first column: the time of each observation (drives; 0 without it) */
    const PetscInt c0 = cols - 3 * dof;
    PetscCheck(c0 == 0 || c0 == 1, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "%s: acceleration observations need 3*dof = %" PetscInt_FMT " columns (q, qdot, qddot) or 1 + 3*dof (t, q, qdot, qddot), the dataset has %" PetscInt_FMT, what, 3 * dof, cols);
    PetscCall(DataAlloc(kind, dof, rows, PETSC_FALSE, &D));
    for (PetscInt i = 0; i < rows; i++) {
      const PetscReal *row = vals + i * cols + c0;
      D->t[i]              = c0 ? vals[i * cols] : 0;
      for (PetscInt a = 0; a < dof; a++) D->q[i * dof + a] = row[a], D->v[i * dof + a] = row[dof + a], D->a[i * dof + a] = row[2 * dof + a];
    }
  }
  D->dt    = dt;
  D->sigma = NAN;
  *data    = D;
  PetscFunctionReturn(0);
}

