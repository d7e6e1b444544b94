/* SlimRK: baseline integrators through PETSc TS (fixed step) on y = (q, qdot): Runge-Kutta
 * (TSRK) for every family, symplectic splitting methods (TSBASICSYMPLECTIC) for separable ones.
 *
 * The TS, its work vectors and the state vector are created once in SlimRKCreate() and reused
 * by every SlimRKIntegrate(), so repeated integrations (timed by the harness) pay no setup. */
#include <slim/rk.h>
#include <slim/poll.h>
#include <string.h>

struct _n_SlimRK {
  SlimFamily      fam;                   /* referenced, not owned */
  PetscReal       theta[SLIM_MAX_PARAM]; /* private copy of the parameters */
  TS              ts;
  Vec             X;                     /* state (q_0..q_{dof-1}, v_0..v_{dof-1}) */
  PetscInt        stride;                /* user monitor every `stride` steps */
  SlimRKMonitorFn monitor;
  void           *monctx;
  PetscInt        lastmon;               /* last step passed to the user monitor in this run */
};

/* ydot = (v, qddot(q, v)): the acceleration comes from the same family code as the slimplectic
 * integrator, so both integrators solve the same equations of motion. */
static PetscErrorCode SlimRKRHSFunction(TS ts, PetscReal t, Vec X, Vec F, void *ctx)
{
  SlimRK             rk  = (SlimRK)ctx;
  const PetscInt     dof = rk->fam->dof;
  const PetscScalar *x;
  PetscScalar       *f;
  PetscReal          acc[SLIM_MAX_DOF];

  PetscFunctionBeginUser;
  (void)ts;
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(VecGetArray(F, &f));
  PetscCall(SlimFamilyAcceleration(rk->fam, rk->theta, t, x, x + dof, acc, NULL));
  for (PetscInt a = 0; a < dof; a++) {
    f[a]       = x[dof + a];
    f[dof + a] = acc[a];
  }
  PetscCall(VecRestoreArray(F, &f));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscFunctionReturn(0);
}

/* Baseline types that are not TSRK types: PETSc's TSBASICSYMPLECTIC schemes. */
static const struct {
  const char *name, *bsi;
} SymplecticTypes[] = {
  {"sympl1", TSBASICSYMPLECTICSIEULER  },
  {"sympl2", TSBASICSYMPLECTICVELVERLET},
  {"sympl3", TSBASICSYMPLECTIC3        },
  {"sympl4", TSBASICSYMPLECTIC4        },
};

static const char *SymplecticScheme(const char type[])
{
  for (size_t i = 0; type && i < sizeof(SymplecticTypes) / sizeof(SymplecticTypes[0]); i++)
    if (!strcmp(type, SymplecticTypes[i].name)) return SymplecticTypes[i].bsi;
  return NULL;
}

PetscErrorCode SlimRKTypeIsSymplectic(const char type[], PetscBool *symplectic)
{
  PetscFunctionBeginUser;
  PetscCheck(symplectic, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "SlimRKTypeIsSymplectic: output argument is NULL");
  *symplectic = SymplecticScheme(type) ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* The "position" split of TSBASICSYMPLECTIC: qdot = v (its input is the velocity block). */
static PetscErrorCode SlimRKPositionRHS(TS ts, PetscReal t, Vec V, Vec Qdot, void *ctx)
{
  PetscFunctionBeginUser;
  (void)ts, (void)t, (void)ctx;
  PetscCall(VecCopy(V, Qdot));
  PetscFunctionReturn(0);
}

/* The "momentum" split, in velocity form: vdot = M^-1 F(q) (its input is the position block).
 * The family is separable (checked at creation), so the acceleration does not depend on the
 * velocity and is evaluated at v = 0; the velocity form is the momentum form with p = M v. */
static PetscErrorCode SlimRKMomentumRHS(TS ts, PetscReal t, Vec Q, Vec Vdot, void *ctx)
{
  SlimRK             rk = (SlimRK)ctx;
  const PetscScalar *q;
  PetscScalar       *a;
  PetscReal          zero[SLIM_MAX_DOF] = {0};

  PetscFunctionBeginUser;
  (void)ts;
  PetscCall(VecGetArrayRead(Q, &q));
  PetscCall(VecGetArray(Vdot, &a));
  PetscCall(SlimFamilyAcceleration(rk->fam, rk->theta, t, q, zero, a, NULL));
  PetscCall(VecRestoreArray(Vdot, &a));
  PetscCall(VecRestoreArrayRead(Q, &q));
  PetscFunctionReturn(0);
}

/* TSBASICSYMPLECTIC on the splits position = q, momentum = v; refused for a family that is not
 * separable, with the reason (one line naming the type and the family). */
static PetscErrorCode SlimRKSetSymplectic(SlimRK r, const char type[], const char bsi[])
{
  const PetscInt dof = r->fam->dof;
  PetscBool      sep;
  char           why[128];
  IS             is;

  PetscFunctionBeginUser;
  PetscCall(SlimFamilyIsSeparable(r->fam, r->theta, &sep, why, sizeof(why)));
  PetscCheck(sep, PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "Symplectic baseline %s does not apply to family %s: %s; it needs qdot = v, M vdot = F(q) (a separable Hamiltonian)", type, r->fam->name, why);
  PetscCall(TSSetType(r->ts, TSBASICSYMPLECTIC));
  PetscCall(TSBasicSymplecticSetType(r->ts, bsi));
  PetscCall(ISCreateStride(PETSC_COMM_SELF, dof, 0, 1, &is));
  PetscCall(TSRHSSplitSetIS(r->ts, "position", is));
  PetscCall(ISDestroy(&is));
  PetscCall(ISCreateStride(PETSC_COMM_SELF, dof, dof, 1, &is));
  PetscCall(TSRHSSplitSetIS(r->ts, "momentum", is));
  PetscCall(ISDestroy(&is));
  PetscCall(TSRHSSplitSetRHSFunction(r->ts, "position", NULL, SlimRKPositionRHS, r));
  PetscCall(TSRHSSplitSetRHSFunction(r->ts, "momentum", NULL, SlimRKMomentumRHS, r));
  PetscFunctionReturn(0);
}

/* TSRK of the given type. TSRKSetType's own error ("Could not find ...") does not say where the
 * name came from, so catch it quietly and raise one that names the requested type. */
static PetscErrorCode SlimRKSetRK(SlimRK r, const char type[])
{
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(TSSetType(r->ts, TSRK));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = TSRKSetType(r->ts, type);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(!ierr, PETSC_COMM_SELF, PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown baseline type \"%s\": expected a TSRKType name (" SLIM_RK_TSRK_TYPES ") or a symplectic type (" SLIM_RK_SYMPLECTIC_TYPES ")", type);
  PetscFunctionReturn(0);
}

/* Forwards to the user's monitor at step 0 and every `stride` steps; remembers the last step so a
 * step is never reported twice even if TS calls its monitors again at the final time. */
static PetscErrorCode SlimRKTSMonitor(TS ts, PetscInt step, PetscReal t, Vec X, void *ctx)
{
  SlimRK             rk = (SlimRK)ctx;
  const PetscScalar *x;

  PetscFunctionBeginUser;
  (void)ts;
  if (step > 0) PetscCall(SlimPoll());
  if (!rk->monitor || step % rk->stride || step == rk->lastmon) PetscFunctionReturn(0);
  rk->lastmon = step;
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(rk->monitor(step, t, x, x + rk->fam->dof, rk->monctx));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimRKCreate(SlimFamily fam, const PetscReal theta[], const char rktype[], SlimRK *rk)
{
  SlimRK         r;
  TSAdapt        adapt;
  const char    *bsi;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCheck(rk, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "SlimRKCreate: output argument rk is NULL");
  *rk = NULL;
  PetscCheck(fam, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "SlimRKCreate: family is NULL");
  PetscCheck(theta, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "SlimRKCreate: theta is NULL");
  PetscCheck(rktype, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "SlimRKCreate: baseline type is NULL (give a TSRKType name such as \"2a\" or \"4\", or sympl1..sympl4)");
  PetscCheck(fam->dof >= 1 && fam->dof <= SLIM_MAX_DOF, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Family %s has dof %" PetscInt_FMT ", must be in 1..%d", fam->name, fam->dof, SLIM_MAX_DOF);
  PetscCheck(fam->nparam >= 0 && fam->nparam <= SLIM_MAX_PARAM, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Family %s has %" PetscInt_FMT " parameters, at most %d supported", fam->name, fam->nparam, SLIM_MAX_PARAM);

  PetscCall(PetscNew(&r));
  r->fam     = fam;
  r->stride  = 1;
  r->lastmon = -1;
  PetscCall(PetscArraycpy(r->theta, theta, fam->nparam));

  /* One small serial system per object: each sweep point integrates independently. */
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, 2 * fam->dof, &r->X));
  PetscCall(TSCreate(PETSC_COMM_SELF, &r->ts));
  PetscCall(TSSetOptionsPrefix(r->ts, "rk_"));
  PetscCall(TSSetProblemType(r->ts, TS_NONLINEAR));
  /* the full right-hand side also for the symplectic types: -rk_ts_type may switch to any TS */
  PetscCall(TSSetRHSFunction(r->ts, NULL, SlimRKRHSFunction, r));
  bsi  = SymplecticScheme(rktype);
  ierr = bsi ? SlimRKSetSymplectic(r, rktype, bsi) : SlimRKSetRK(r, rktype);
  if (ierr) {
    PetscCall(TSDestroy(&r->ts));
    PetscCall(VecDestroy(&r->X));
    PetscCall(PetscFree(r));
  }
  PetscCall(ierr);
  PetscCall(TSMonitorSet(r->ts, SlimRKTSMonitor, r, NULL));
  /* Fixed steps: no error control, and the last step lands exactly on t0 + N dt. */
  PetscCall(TSGetAdapt(r->ts, &adapt));
  PetscCall(TSAdaptSetType(adapt, TSADAPTNONE));
  PetscCall(TSSetExactFinalTime(r->ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSSetTimeStep(r->ts, 0.1));
  PetscCall(TSSetMaxSteps(r->ts, 0));
  PetscCall(TSSetSolution(r->ts, r->X));
  /* Allocate the stage vectors now so the first SlimRKIntegrate is not charged for them. */
  PetscCall(TSSetUp(r->ts));
  *rk = r;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimRKDestroy(SlimRK *rk)
{
  PetscFunctionBeginUser;
  if (!rk || !*rk) PetscFunctionReturn(0);
  PetscCall(TSDestroy(&(*rk)->ts));
  PetscCall(VecDestroy(&(*rk)->X));
  PetscCall(PetscFree(*rk));
  PetscFunctionReturn(0);
}

/* -rk_ts_* options (e.g. -rk_ts_rk_type, -rk_ts_monitor, -rk_ts_adapt_type) override the
 * defaults set in SlimRKCreate. The step size, the number of steps and the final time are
 * arguments of SlimRKIntegrate and are set there, after (and over) any -rk_ts_dt,
 * -rk_ts_max_steps or -rk_ts_max_time. */
PetscErrorCode SlimRKSetFromOptions(SlimRK rk)
{
  PetscFunctionBeginUser;
  PetscCheck(rk, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "SlimRKSetFromOptions: rk is NULL");
  PetscCall(TSSetFromOptions(rk->ts));
  PetscFunctionReturn(0);
}

/* fn == NULL removes the monitor. */
PetscErrorCode SlimRKSetMonitor(SlimRK rk, PetscInt stride, SlimRKMonitorFn fn, void *ctx)
{
  PetscFunctionBeginUser;
  PetscCheck(rk, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "SlimRKSetMonitor: rk is NULL");
  PetscCheck(!fn || stride >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Monitor stride %" PetscInt_FMT " must be >= 1", stride);
  rk->stride  = fn ? stride : 1;
  rk->monitor = fn;
  rk->monctx  = ctx;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimRKIntegrate(SlimRK rk, PetscReal dt, PetscInt N, PetscReal t0, const PetscReal q0[], const PetscReal v0[], PetscReal q[], PetscReal v[])
{
  PetscInt           dof, steps;
  PetscScalar       *x;
  const PetscScalar *xr;
  TSConvergedReason  reason;

  PetscFunctionBeginUser;
  PetscCheck(rk, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "SlimRKIntegrate: rk is NULL");
  PetscCheck(q0 && v0 && q && v, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "SlimRKIntegrate: q0, v0, q and v must not be NULL");
  PetscCheck(!PetscIsInfOrNanReal(dt) && dt > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "RK time step dt = %g must be positive and finite", (double)dt);
  PetscCheck(N >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "RK number of steps N = %" PetscInt_FMT " must be >= 0", N);
  PetscCheck(!PetscIsInfOrNanReal(t0), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "RK start time t0 = %g must be finite", (double)t0);
  dof = rk->fam->dof;

  PetscCall(VecGetArray(rk->X, &x));
  for (PetscInt a = 0; a < dof; a++) {
    x[a]       = q0[a];
    x[dof + a] = v0[a];
  }
  PetscCall(VecRestoreArray(rk->X, &x));

  /* Rewind the TS so each call is a fresh, reproducible run: step counter, time, step size, and
   * TSRestartStep so FSAL schemes (3bs, 5dp, ...) do not reuse the last stage of the previous run. */
  PetscCall(TSSetStepNumber(rk->ts, 0));
  PetscCall(TSSetTime(rk->ts, t0));
  PetscCall(TSSetTimeStep(rk->ts, dt));
  PetscCall(TSSetMaxSteps(rk->ts, N));
  PetscCall(TSSetMaxTime(rk->ts, t0 + N * dt));
  PetscCall(TSRestartStep(rk->ts));
  rk->lastmon = -1;

  PetscCall(TSSolve(rk->ts, rk->X));
  PetscCall(TSGetConvergedReason(rk->ts, &reason));
  PetscCall(TSGetStepNumber(rk->ts, &steps));
  PetscCheck(reason >= 0, PETSC_COMM_SELF, PETSC_ERR_NOT_CONVERGED, "RK integration failed after %" PetscInt_FMT " of %" PetscInt_FMT " steps: %s", steps, N, TSConvergedReasons[reason]);

  PetscCall(VecGetArrayRead(rk->X, &xr));
  for (PetscInt a = 0; a < dof; a++) {
    q[a] = xr[a];
    v[a] = xr[dof + a];
  }
  PetscCall(VecRestoreArrayRead(rk->X, &xr));
  PetscFunctionReturn(0);
}
