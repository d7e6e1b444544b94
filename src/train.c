/* Training data: a prior over a family's coefficients and their ensemble motion
 * (include/slim/train.h). */
#include <math.h>
#include <slim/private/util.h>
#include <slim/train.h>
#include <slim/options.h>

const char *const SlimPriorKinds[] = {"fixed", "uniform", "log-uniform", "SlimPriorKind", "SLIM_PRIOR_", NULL};

PetscErrorCode SlimPriorInit(SlimFamily fam, SlimPrior *p)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(p, sizeof(*p)));
  for (PetscInt j = 0; j < fam->nparam; j++) {
    p->kind[j]  = SLIM_PRIOR_FIXED;
    p->fixed[j] = p->lo[j] = p->hi[j] = fam->theta[j];
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimPriorSetFromOptions(SlimFamily fam, SlimPrior *p)
{
  char title[128];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(title, sizeof(title), "Training-data prior of family %s (include/slim/train.h)", fam->name));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, title, NULL);
  for (PetscInt j = 0; j < fam->nparam; j++) {
    char      opt[128], olog[140], ozero[140], help[256];
    PetscReal v[2] = {p->lo[j], p->hi[j]};
    PetscInt  n    = 2;
    PetscBool set, lg = (PetscBool)(p->kind[j] == SLIM_PRIOR_LOGUNIFORM);

    PetscCall(PetscSNPrintf(opt, sizeof(opt), "-train_%s_%s", fam->name, fam->pname[j]));
    PetscCall(PetscSNPrintf(olog, sizeof(olog), "%s_log", opt));
    PetscCall(PetscSNPrintf(ozero, sizeof(ozero), "%s_zero", opt));
    PetscCall(PetscSNPrintf(help, sizeof(help), "Prior of %s: uniform in lo,hi (default: fixed at %g)", fam->pname[j], (double)p->fixed[j]));
    PetscCall(SlimOptionsRealArray(opt, help, NULL, v, &n, &set));
    if (set) {
      PetscCheck(n == 2 && isfinite(v[0]) && isfinite(v[1]) && v[0] <= v[1], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: give lo,hi with lo <= hi", opt);
      p->kind[j] = SLIM_PRIOR_UNIFORM;
      p->lo[j] = v[0], p->hi[j] = v[1];
    }
    PetscCall(PetscOptionsBool(olog, "Log-uniform instead of uniform (needs lo > 0)", NULL, lg, &lg, NULL));
    if (lg) {
      PetscCheck(p->kind[j] != SLIM_PRIOR_FIXED, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: needs the range %s lo,hi", olog, opt);
      PetscCheck(p->lo[j] > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "%s: the range %s must be > 0 (lo = %g)", olog, opt, (double)p->lo[j]);
      p->kind[j] = SLIM_PRIOR_LOGUNIFORM;
    }
    PetscCall(SlimOptionsReal(ozero, "Probability that the parameter is exactly 0", NULL, p->pzero[j], &p->pzero[j], NULL));
    PetscCheck(p->pzero[j] >= 0 && p->pzero[j] <= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "%s: value %g is invalid (must be in [0, 1])", ozero, (double)p->pzero[j]);
  }
  PetscOptionsEnd();
  PetscFunctionReturn(0);
}

PetscErrorCode SlimPriorDescribe(SlimFamily fam, const SlimPrior *p, char buf[], size_t len)
{
  char one[160];

  PetscFunctionBeginUser;
  buf[0] = 0;
  for (PetscInt j = 0; j < fam->nparam; j++) {
    if (p->kind[j] == SLIM_PRIOR_FIXED) PetscCall(PetscSNPrintf(one, sizeof(one), "%s%s: fixed %.17g", j ? "; " : "", fam->pname[j], (double)p->fixed[j]));
    else PetscCall(PetscSNPrintf(one, sizeof(one), "%s%s: %s [%.17g, %.17g]", j ? "; " : "", fam->pname[j], SlimPriorKinds[p->kind[j]], (double)p->lo[j], (double)p->hi[j]));
    PetscCall(PetscStrlcat(buf, one, len));
    if (p->pzero[j] > 0) {
      PetscCall(PetscSNPrintf(one, sizeof(one), ", P(0) = %.17g", (double)p->pzero[j]));
      PetscCall(PetscStrlcat(buf, one, len));
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimPriorSample(SlimFamily fam, const SlimPrior *p, PetscInt64 seed, PetscInt64 i0, PetscInt K, PetscReal theta[])
{
  const PetscInt np = fam->nparam;
  PetscRandom    rnd;

  PetscFunctionBeginUser;
  PetscCall(PetscRandomCreate(PETSC_COMM_SELF, &rnd));
  PetscCall(PetscRandomSetType(rnd, PETSCRANDER48));
  for (PetscInt k = 0; k < K; k++) {
    PetscReal *th = theta + k * np;
    /* a stream per sample: the same sample whatever the batch or rank that draws it */
    PetscCall(PetscRandomSetSeed(rnd, (unsigned long)SlimSeedDerive(seed, (PetscInt)(i0 + k))));
    PetscCall(PetscRandomSeed(rnd));
    for (PetscInt j = 0; j < np; j++) {
      PetscReal u, z;
      /* two draws per parameter always, so the streams stay aligned whatever the prior */
      PetscCall(PetscRandomGetValueReal(rnd, &u));
      PetscCall(PetscRandomGetValueReal(rnd, &z));
      switch (p->kind[j]) {
      case SLIM_PRIOR_FIXED:
        th[j] = p->fixed[j];
        break;
      case SLIM_PRIOR_UNIFORM:
        th[j] = p->lo[j] + (p->hi[j] - p->lo[j]) * u;
        break;
      case SLIM_PRIOR_LOGUNIFORM:
        th[j] = p->lo[j] * PetscPowReal(p->hi[j] / p->lo[j], u);
        break;
      }
      if (z < p->pzero[j]) th[j] = 0;
    }
  }
  PetscCall(PetscRandomDestroy(&rnd));
  PetscFunctionReturn(0);
}

typedef struct {
  PetscInt   K, S, dof, stride, next;
  PetscReal *t, *q, *pi, *qdot;
} TrainCtx;

static PetscErrorCode TrainMonitor(SlimStepper st, PetscInt step, void *ctx)
{
  TrainCtx      *c = (TrainCtx *)ctx;
  const PetscInt s = c->next, d = c->dof;

  PetscFunctionBeginUser;
  if (s >= c->S || step != s * c->stride) PetscFunctionReturn(0);
  c->next++;
  for (PetscInt k = 0; k < c->K; k++) {
    const size_t o = ((size_t)k * c->S + s) * d;
    PetscReal    tt, q[SLIM_MAX_DOF], p[SLIM_MAX_DOF], v[SLIM_MAX_DOF];
    SlimFailure  f;

    PetscCall(SlimStepperGetFailure(st, k, &f));
    PetscCall(SlimStepperGetState(st, k, &tt, q, p));
    if (c->t && k == 0) c->t[s] = tt;
    if (c->qdot && f.step < 0) PetscCall(SlimStepperGetVelocity(st, k, v));
    for (PetscInt a = 0; a < d; a++) {
      if (c->q) c->q[o + a] = f.step < 0 ? q[a] : NAN;
      if (c->pi) c->pi[o + a] = f.step < 0 ? p[a] : NAN;
      if (c->qdot) c->qdot[o + a] = f.step < 0 ? v[a] : NAN;
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimTrainGenerate(SlimFamily fam, PetscInt r, PetscReal dt, PetscInt N, PetscInt stride, SlimSolverType solver, PetscInt K, const PetscReal theta[], PetscReal t[], PetscReal q[], PetscReal pi[], PetscReal qdot[], PetscInt fail_step[])
{
  SlimStepper st;
  TrainCtx    c;

  PetscFunctionBeginUser;
  PetscCheck(K >= 1 && N >= 0 && stride >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "training data: K = %" PetscInt_FMT ", N = %" PetscInt_FMT ", stride = %" PetscInt_FMT " (need K >= 1, N >= 0, stride >= 1)", K, N, stride);
  c.K = K, c.S = N / stride + 1, c.dof = fam->dof, c.stride = stride, c.next = 0;
  c.t = t, c.q = q, c.pi = pi, c.qdot = qdot;
  PetscCall(SlimStepperCreate(fam, r, K, &st));
  PetscCall(SlimStepperSetFromOptions(st));
  PetscCall(SlimStepperSetSolverType(st, solver));
  PetscCall(SlimStepperSetTimeStep(st, dt));
  for (PetscInt k = 0; k < K; k++) {
    PetscCall(SlimStepperSetParameters(st, k, theta + k * fam->nparam));
    PetscCall(SlimStepperSetInitialState(st, k, 0.0, fam->q0, fam->v0));
  }
  PetscCall(SlimStepperSetMonitor(st, stride, TrainMonitor, &c));
  PetscCall(SlimStepperIntegrate(st, N));
  for (PetscInt k = 0; k < K && fail_step; k++) {
    SlimFailure f;
    PetscCall(SlimStepperGetFailure(st, k, &f));
    fail_step[k] = f.step;
  }
  PetscCall(SlimStepperDestroy(&st));
  PetscFunctionReturn(0);
}
