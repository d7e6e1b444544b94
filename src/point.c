/* Measuring one sweep point and its Runge-Kutta baselines (include/slim/point.h). */
#include <math.h>
#include <petsctime.h>
#include <slim/point.h>
#include <slim/private/sweepimpl.h>
#include <slim/rk.h>
#include <slim/log.h>
#include <slim/private/util.h>

PetscErrorCode SlimSamplesCreate(PetscInt N, PetscInt stride, PetscInt dof, SlimSamples *s)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(s, sizeof(*s)));
  if (stride <= 0) PetscFunctionReturn(0);
  s->stride = stride;
  s->dof    = dof;
  s->n      = N / stride + 1;
  PetscCall(PetscMalloc5(s->n, &s->t, s->n * dof, &s->q, s->n * dof, &s->p, s->n, &s->energy, s->n, &s->energy_error));
  for (PetscInt i = 0; i < s->n; i++) s->t[i] = s->energy[i] = s->energy_error[i] = NAN;
  for (PetscInt i = 0; i < s->n * dof; i++) s->q[i] = s->p[i] = NAN;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimSamplesDestroy(SlimSamples *s)
{
  PetscFunctionBeginUser;
  if (s->stride > 0) PetscCall(PetscFree5(s->t, s->q, s->p, s->energy, s->energy_error));
  PetscCall(PetscMemzero(s, sizeof(*s)));
  PetscFunctionReturn(0);
}

/* Error of a run against the exact solution or a reference run advanced in lock-step. */
typedef struct {
  SlimFamily    fam;
  PetscReal     t0, q0[SLIM_MAX_DOF], v0[SLIM_MAX_DOF];
  SlimErrorKind kind;
  SlimStepper   ref;
  PetscInt      per, nref; /* reference steps per step of the run; reference steps taken */
  PetscReal     eqmax, eqfin, eEmax, eEfin;
  SlimSamples  *s;
} SlimTracker;

static PetscErrorCode TrackerCreate(SlimSweep sw, const SlimPoint *p, const PetscReal q0[], const PetscReal v0[], SlimSamples *s, SlimTracker *tr)
{
  SlimFamily fam = sw->fam[p->family];
  PetscBool  has = PETSC_FALSE;
  PetscReal  qe[SLIM_MAX_DOF], ve[SLIM_MAX_DOF];

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(tr, sizeof(*tr)));
  tr->fam = fam;
  tr->s   = s;
  PetscCall(PetscArraycpy(tr->q0, q0, fam->dof));
  PetscCall(PetscArraycpy(tr->v0, v0, fam->dof));
  if (fam->exact) PetscCall(fam->exact(fam->theta, 0, q0, v0, 0, qe, ve, &has));
  if (has) tr->kind = SLIM_ERROR_EXACT;
  else {
    tr->kind = SLIM_ERROR_REFERENCE;
    tr->per  = (PetscInt)sw->ref_dt_factor;
    PetscCall(SlimStepperCreate(fam, p->r + sw->ref_r_extra, 1, &tr->ref));
    PetscCall(SlimStepperSetFromOptions(tr->ref));
    PetscCall(SlimStepperSetSolverType(tr->ref, SLIM_SOLVER_DENSE));
    PetscCall(SlimStepperSetTimeStep(tr->ref, p->dt / sw->ref_dt_factor));
    PetscCall(SlimStepperSetInitialState(tr->ref, 0, 0, q0, v0));
  }
  tr->eqmax = tr->eEmax = 0;
  tr->eqfin = tr->eEfin = NAN;
  PetscFunctionReturn(0);
}

static PetscErrorCode TrackerDestroy(SlimTracker *tr)
{
  PetscFunctionBeginUser;
  PetscCall(SlimStepperDestroy(&tr->ref));
  PetscFunctionReturn(0);
}

/* State (q, and p = pi or qdot) with energy E at step `step`, time t. */
static PetscErrorCode TrackerUpdate(SlimTracker *tr, PetscInt step, PetscReal t, const PetscReal q[], const PetscReal p[], PetscReal E)
{
  const PetscInt d = tr->fam->dof;
  PetscReal      qr[SLIM_MAX_DOF], vr[SLIM_MAX_DOF], Er, eq = 0, eE = NAN;
  PetscBool      have = PETSC_TRUE;

  PetscFunctionBeginUser;
  if (tr->kind == SLIM_ERROR_EXACT) {
    PetscBool has;
    PetscCall(tr->fam->exact(tr->fam->theta, tr->t0, tr->q0, tr->v0, t, qr, vr, &has));
    have = has;
  } else if (tr->kind == SLIM_ERROR_REFERENCE) {
    SlimFailure f;
    PetscCall(SlimStepperIntegrate(tr->ref, step * tr->per - tr->nref));
    tr->nref = step * tr->per;
    PetscCall(SlimStepperGetFailure(tr->ref, 0, &f));
    if (f.step >= 0) tr->kind = SLIM_ERROR_NONE, have = PETSC_FALSE;
    else {
      PetscCall(SlimStepperGetState(tr->ref, 0, NULL, qr, NULL));
      PetscCall(SlimStepperGetVelocity(tr->ref, 0, vr));
    }
  } else have = PETSC_FALSE;
  if (have) {
    PetscCall(tr->fam->energy(tr->fam->theta, t, qr, vr, &Er));
    for (PetscInt a = 0; a < d; a++) eq = PetscMax(eq, PetscAbsReal(SlimFamilyWrapDifference(tr->fam, a, q[a], qr[a])));
    eE        = PetscAbsReal(E - Er) / PetscAbsReal(Er);
    tr->eqmax = PetscMax(tr->eqmax, eq);
    tr->eEmax = PetscMax(tr->eEmax, eE);
    tr->eqfin = eq;
    tr->eEfin = eE;
  } else tr->eqmax = tr->eEmax = tr->eqfin = tr->eEfin = NAN;
  if (tr->s && tr->s->stride > 0 && step % tr->s->stride == 0 && step / tr->s->stride < tr->s->n) {
    PetscInt i = step / tr->s->stride;
    tr->s->t[i] = t;
    for (PetscInt a = 0; a < d; a++) tr->s->q[i * d + a] = q[a], tr->s->p[i * d + a] = p[a];
    tr->s->energy[i]       = E;
    tr->s->energy_error[i] = eE;
  }
  PetscFunctionReturn(0);
}

static void TrackerResult(const SlimTracker *tr, SlimResult *res)
{
  res->error_kind  = tr->kind;
  res->err_q_final = tr->eqfin;
  res->err_q_max   = tr->kind == SLIM_ERROR_NONE ? NAN : tr->eqmax;
  res->err_E_final = tr->eEfin;
  res->err_E_max   = tr->kind == SLIM_ERROR_NONE ? NAN : tr->eEmax;
}

/* min / median / max of the timed repeats */
static void Timings(PetscInt n, PetscReal *t, SlimResult *res, PetscInt steps, PetscInt B)
{
  if (n == 0) {
    res->t_min = res->t_median = res->t_max = res->ns_per_step = res->ns_per_traj_step = NAN;
    return;
  }
  SlimSortReal(n, t);
  res->t_min            = t[0];
  res->t_max            = t[n - 1];
  res->t_median         = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  res->ns_per_step      = 1e9 * res->t_min / steps;
  res->ns_per_traj_step = res->ns_per_step / B;
}

static PetscErrorCode StepperMonitor(SlimStepper st, PetscInt step, void *ctx)
{
  SlimTracker *tr = (SlimTracker *)ctx;
  PetscReal    t, q[SLIM_MAX_DOF], pi[SLIM_MAX_DOF], E;
  SlimFailure  f;

  PetscFunctionBeginUser;
  PetscCall(SlimStepperGetFailure(st, 0, &f));
  if (f.step >= 0) PetscFunctionReturn(0);
  PetscCall(SlimStepperGetState(st, 0, &t, q, pi));
  PetscCall(SlimStepperGetEnergy(st, 0, &E));
  PetscCall(TrackerUpdate(tr, step, t, q, pi, E));
  PetscFunctionReturn(0);
}

/* Ensemble members start from q0 scaled by up to this fraction, so that they are distinct
 * trajectories (not B copies a solver could short-cut) yet of the same difficulty; member 0 is
 * the family's own state, whose errors and samples are recorded. */
#define SLIM_MEMBER_SPREAD 0.01

/* Initial state of ensemble member b: the family's state, scaled slightly so members differ. */
static void MemberState(SlimFamily fam, PetscInt b, PetscInt B, PetscReal q[], PetscReal v[])
{
  for (PetscInt a = 0; a < fam->dof; a++) {
    q[a] = fam->q0[a] * (1 + SLIM_MEMBER_SPREAD * b / B);
    v[a] = fam->v0[a];
  }
}

/* What a measurement owns: destroyed by its caller whether the measurement succeeded or not. */
typedef struct {
  SlimStepper st;
  SlimRK      rk;
  SlimTracker tr;
  PetscReal  *times;
} Owned;

static PetscErrorCode OwnedDestroy(Owned *o)
{
  PetscFunctionBeginUser;
  PetscCall(SlimStepperDestroy(&o->st));
  PetscCall(SlimRKDestroy(&o->rk));
  PetscCall(TrackerDestroy(&o->tr));
  PetscCall(PetscFree(o->times));
  PetscFunctionReturn(0);
}

/* Solver statistics and the earliest failure of any ensemble member. */
static PetscErrorCode PointStats(SlimStepper st, PetscInt B, SlimResult *res)
{
  SlimStepStats stats;

  PetscFunctionBeginUser;
  PetscCall(SlimStepperGetStats(st, &stats));
  res->steps           = stats.steps;
  res->newton_total    = stats.newton_total;
  res->newton_max      = stats.newton_max;
  res->linear_total    = stats.linear_total;
  res->newton_per_step = stats.steps ? (PetscReal)stats.newton_total / stats.steps : NAN;
  res->nfailed         = stats.nfailed;
  res->fail_reason     = 0;
  res->fail_step       = -1;
  res->fail_traj       = -1;
  for (PetscInt b = 0; b < B; b++) {
    SlimFailure f;
    PetscCall(SlimStepperGetFailure(st, b, &f));
    if (f.step >= 0 && (res->fail_traj < 0 || f.step < res->fail_step)) {
      res->fail_traj   = b;
      res->fail_step   = f.step;
      res->fail_reason = (PetscInt)f.reason;
    }
  }
  res->status = res->nfailed ? 1 : 0;
  PetscFunctionReturn(0);
}

static PetscErrorCode SetMemberStates(SlimStepper st, SlimFamily fam, PetscInt B)
{
  PetscReal q[SLIM_MAX_DOF], v[SLIM_MAX_DOF];

  PetscFunctionBeginUser;
  for (PetscInt b = 0; b < B; b++) {
    MemberState(fam, b, B, q, v);
    PetscCall(SlimStepperSetInitialState(st, b, 0, q, v));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode PointMeasure(SlimSweep sw, const SlimPoint *p, SlimResult *res, SlimSamples *samples, Owned *o)
{
  SlimFamily     fam = sw->fam[p->family];
  PetscLogDouble t0, t1;

  PetscFunctionBeginUser;
  /* setup: objects, options, solver construction */
  PetscCall(PetscTime(&t0));
  PetscCall(SlimStepperCreate(fam, p->r, p->B, &o->st));
  PetscCall(SlimStepperSetFromOptions(o->st));
  PetscCall(SlimStepperSetSolverType(o->st, p->solver));
  PetscCall(SlimStepperSetTimeStep(o->st, p->dt));
  PetscCall(SetMemberStates(o->st, fam, p->B));
  PetscCall(SlimStepperSetUp(o->st));
  PetscCall(PetscTime(&t1));
  res->t_setup = t1 - t0;

  /* measurement run (untimed; also the warm-up): errors and samples of trajectory 0 */
  PetscCall(TrackerCreate(sw, p, fam->q0, fam->v0, samples, &o->tr));
  PetscCall(SlimStepperSetMonitor(o->st, 1, StepperMonitor, &o->tr));
  PetscCall(SlimStepperIntegrate(o->st, p->N));
  PetscCall(SlimStepperSetMonitor(o->st, 0, NULL, NULL));
  TrackerResult(&o->tr, res);
  PetscCall(PointStats(o->st, p->B, res));
  {
    /* what the solves behind the errors of trajectory 0 left: its own and its reference run's */
    PetscReal a, b = 0;
    PetscCall(SlimStepperGetResidualSum(o->st, 0, &a));
    if (o->tr.ref) PetscCall(SlimStepperGetResidualSum(o->tr.ref, 0, &b));
    res->solve_residual = a + b;
  }

  /* timed repeats, from the same initial states, without monitor */
  PetscCall(PetscMalloc1(sw->repeats + 1, &o->times));
  for (PetscInt k = 0; k < sw->repeats && !res->status; k++) {
    PetscCall(SetMemberStates(o->st, fam, p->B));
    PetscCall(PetscTime(&t0));
    PetscCall(SlimStepperIntegrate(o->st, p->N));
    PetscCall(PetscTime(&t1));
    o->times[k] = t1 - t0;
  }
  Timings(res->status ? 0 : sw->repeats, o->times, res, p->N, p->B);
  PetscFunctionReturn(0);
}

typedef struct {
  SlimTracker *tr;
  SlimFamily   fam;
} RKCtx;

static PetscErrorCode RKMonitor(PetscInt step, PetscReal t, const PetscReal q[], const PetscReal v[], void *ctx)
{
  RKCtx    *c = (RKCtx *)ctx;
  PetscReal E;

  PetscFunctionBeginUser;
  PetscCall(c->fam->energy(c->fam->theta, t, q, v, &E));
  PetscCall(c->tr->kind == SLIM_ERROR_NONE && !c->tr->s ? 0 : TrackerUpdate(c->tr, step, t, q, v, E));
  PetscFunctionReturn(0);
}

static PetscErrorCode BaselineMeasure(SlimSweep sw, const SlimPoint *p, const char type[], SlimResult *res, SlimSamples *samples, Owned *o)
{
  SlimFamily     fam = sw->fam[p->family];
  RKCtx          ctx;
  PetscLogDouble t0, t1;
  PetscReal      q[SLIM_MAX_DOF], v[SLIM_MAX_DOF];
  PetscBool      finite = PETSC_TRUE;

  PetscFunctionBeginUser;
  PetscCall(PetscTime(&t0));
  PetscCall(SlimRKCreate(fam, fam->theta, type, &o->rk));
  PetscCall(SlimRKSetFromOptions(o->rk));
  PetscCall(PetscTime(&t1));
  res->t_setup = t1 - t0;

  PetscCall(TrackerCreate(sw, p, fam->q0, fam->v0, samples, &o->tr));
  ctx.tr  = &o->tr;
  ctx.fam = fam;
  PetscCall(SlimRKSetMonitor(o->rk, 1, RKMonitor, &ctx));
  PetscCall(SlimRKIntegrate(o->rk, p->dt, p->N, 0, fam->q0, fam->v0, q, v));
  PetscCall(SlimRKSetMonitor(o->rk, 1, NULL, NULL));
  TrackerResult(&o->tr, res);
  for (PetscInt a = 0; a < fam->dof; a++) finite = (PetscBool)(finite && isfinite(q[a]) && isfinite(v[a]));
  res->status          = finite ? 0 : 1;
  res->fail_reason     = finite ? 0 : (PetscInt)SNES_DIVERGED_FNORM_NAN;
  res->fail_step       = -1;
  res->fail_traj       = finite ? -1 : 0;
  res->nfailed         = finite ? 0 : 1;
  res->steps           = p->N;
  res->newton_per_step = NAN;
  res->solve_residual  = NAN;

  PetscCall(PetscMalloc1(sw->repeats + 1, &o->times));
  for (PetscInt k = 0; k < sw->repeats && !res->status; k++) {
    PetscCall(PetscTime(&t0));
    PetscCall(SlimRKIntegrate(o->rk, p->dt, p->N, 0, fam->q0, fam->v0, q, v));
    PetscCall(PetscTime(&t1));
    o->times[k] = t1 - t0;
  }
  Timings(res->status ? 0 : sw->repeats, o->times, res, p->N, 1);
  PetscFunctionReturn(0);
}

/* A point (type NULL) or a baseline: the measurement, and its objects destroyed however it ends. */
static PetscErrorCode Measure(SlimSweep sw, const SlimPoint *p, const char type[], SlimResult *res, SlimSamples *samples)
{
  Owned          o;
  PetscLogDouble tstart, tend;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(res, sizeof(*res)));
  PetscCall(PetscMemzero(&o, sizeof(o)));
  PetscCall(PetscTime(&tstart));
  ierr = type ? BaselineMeasure(sw, p, type, res, samples, &o) : PointMeasure(sw, p, res, samples, &o);
  PetscCall(OwnedDestroy(&o));
  PetscCall(ierr);
  PetscCall(PetscTime(&tend));
  res->wall = tend - tstart;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimPointRun(SlimSweep sw, const SlimPoint *p, SlimResult *res, SlimSamples *samples)
{
  PetscFunctionBeginUser;
  PetscCall(Measure(sw, p, NULL, res, samples));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimBaselineRun(SlimSweep sw, const SlimPoint *p, const char type[], SlimResult *res, SlimSamples *samples)
{
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SLIM_EVENT_RK, 0, 0, 0, 0));
  ierr = Measure(sw, p, type, res, samples);
  PetscCall(PetscLogEventEnd(SLIM_EVENT_RK, 0, 0, 0, 0));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
