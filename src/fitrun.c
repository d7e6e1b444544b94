/* SlimFitRun: the optimisers of the coefficient fits (include/slim/fit.h) -- the weekly
 * report's damped gradient descent, K fits advancing together, and PETSc TAO, one fit after the
 * other. Options, guesses, errors and statistics are in fit.c. */
#include <math.h>
#include <petsctao.h>
#include <petsctime.h>
#include <slim/fit.h>
#include <slim/private/fitimpl.h>

/* A step below -fit_tol counts as convergence only while the damping exp(-(eps0 |grad|)^3) keeps
 * eps above this fraction of eps0; a smaller step means a steep region froze the descent. */
#define SLIM_FIT_GD_FROZEN 1e-3

/* ---------- the optimisers work in coordinates x_i = theta[idx[i]] / scale[i] ---------- */

typedef struct {
  SlimFit         fit;
  SlimFamily      fam;
  SlimFitLoss     loss;
  PetscInt        np, nf, idx[SLIM_MAX_PARAM];
  PetscReal       scale[SLIM_MAX_PARAM], ref[SLIM_MAX_PARAM]; /* ref: full parameter vector */
  PetscReal       bound[SLIM_MAX_PARAM];                       /* |x_i| beyond this: exploded */
  PetscReal      *path;                                        /* this fit's rows, or NULL */
  /* tao */
  PetscInt        nevals;
  PetscBool       failed, stepconv, have_prev;
  char            failure[160];
  PetscReal       xprev[SLIM_MAX_PARAM];
} FitCtx;

static void ToTheta(const FitCtx *c, const PetscReal x[], PetscReal th[])
{
  for (PetscInt j = 0; j < c->np; j++) th[j] = c->ref[j];
  for (PetscInt i = 0; i < c->nf; i++) th[c->idx[i]] = x[i] * c->scale[i];
}

static void ToX(const FitCtx *c, const PetscReal th[], PetscReal x[])
{
  for (PetscInt i = 0; i < c->nf; i++) x[i] = th[c->idx[i]] / c->scale[i];
}

/* gradient in x from the full gradient in theta */
static void GradX(const FitCtx *c, const PetscReal gth[], PetscReal gx[])
{
  for (PetscInt i = 0; i < c->nf; i++) gx[i] = gth[c->idx[i]] * c->scale[i];
}

static PetscReal Norm2(PetscInt n, const PetscReal x[])
{
  PetscReal s = 0;
  for (PetscInt i = 0; i < n; i++) s += x[i] * x[i];
  return PetscSqrtReal(s);
}

static PetscReal NormInf(PetscInt n, const PetscReal x[])
{
  PetscReal s = 0;
  for (PetscInt i = 0; i < n; i++) s = PetscMax(s, PetscAbsReal(x[i]));
  return s;
}

/* name of the first exploded coordinate, or NULL */
static const char *Exploded(const FitCtx *c, const PetscReal x[])
{
  for (PetscInt i = 0; i < c->nf; i++)
    if (!(PetscAbsReal(x[i]) <= c->bound[i])) return c->fam->pname[c->idx[i]];
  return NULL;
}

static void PathRow(const FitCtx *c, PetscReal *path, PetscInt row, const PetscReal x[], PetscReal f)
{
  PetscReal th[SLIM_MAX_PARAM];

  if (!path || row > c->fit->max_it) return;
  ToTheta(c, x, th);
  for (PetscInt j = 0; j < c->np; j++) path[row * (c->np + 1) + j] = th[j];
  path[row * (c->np + 1) + c->np] = f;
}

static PetscErrorCode FitCtxSetUp(SlimFit fit, SlimFamily fam, SlimFitLoss loss, const PetscReal theta0[], PetscInt K, FitCtx *c)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(c, sizeof(*c)));
  c->fit  = fit;
  c->fam  = fam;
  c->loss = loss;
  c->np   = fam->nparam;
  PetscCall(SlimFitGetFitted(fit, fam, &c->nf, c->idx));
  PetscCall(PetscArraycpy(c->ref, fam->theta, c->np));
  for (PetscInt i = 0; i < c->nf; i++) {
    const PetscReal r = PetscAbsReal(fam->theta[c->idx[i]]);
    PetscReal       m = r;
    c->scale[i]       = fit->scale == SLIM_FIT_SCALE_REFERENCE && r > 0 ? r : 1.0;
    for (PetscInt k = 0; k < K; k++) m = PetscMax(m, PetscAbsReal(theta0[k * c->np + c->idx[i]]));
    c->bound[i] = fit->explode * (m > 0 ? m : 1.0) / c->scale[i];
  }
  PetscFunctionReturn(0);
}

/* ---------- gradient descent ---------- */

/* The state of K fits that advance together. */
typedef struct {
  PetscInt       K;
  PetscReal     *x, *g, *f, *s;   /* iterate, gradient, loss, backtracking factor of each fit */
  PetscReal     *xt, *tht, *ft, *gt; /* trial points (x and theta) and their loss and gradient */
  PetscInt      *act, nact;       /* fits with a trial point this iteration */
  PetscBool     *run;             /* still running */
  SlimFitEval   *ev;
  char         (*last)[128];      /* reason of the last rejected trial */
  PetscLogDouble t0;
} GD;

static PetscErrorCode GDCreate(const FitCtx *c, PetscInt K, GD *gd)
{
  const PetscInt nf = c->nf, np = c->np;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(gd, sizeof(*gd)));
  gd->K = K;
  PetscCall(PetscMalloc5(K * nf, &gd->x, K * nf, &gd->g, K, &gd->f, K, &gd->s, K * nf, &gd->xt));
  PetscCall(PetscMalloc5(K * np, &gd->tht, K, &gd->ft, K * np, &gd->gt, K, &gd->act, K, &gd->run));
  PetscCall(PetscMalloc2(K, &gd->ev, K, &gd->last));
  PetscCall(PetscTime(&gd->t0));
  PetscFunctionReturn(0);
}

static PetscErrorCode GDDestroy(GD *gd)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree5(gd->x, gd->g, gd->f, gd->s, gd->xt));
  PetscCall(PetscFree5(gd->tht, gd->ft, gd->gt, gd->act, gd->run));
  PetscCall(PetscFree2(gd->ev, gd->last));
  PetscFunctionReturn(0);
}

static PetscReal *PathOf(const FitCtx *c, PetscReal path[], PetscInt k)
{
  return path ? path + k * (c->fit->max_it + 1) * (c->np + 1) : NULL;
}

/* Ends fit k (status and reason already set): its wall time. */
static PetscErrorCode GDEnd(GD *gd, PetscInt k, SlimFitResult *res)
{
  PetscLogDouble t1;

  PetscFunctionBeginUser;
  gd->run[k] = PETSC_FALSE;
  PetscCall(PetscTime(&t1));
  res->wall = t1 - gd->t0;
  PetscFunctionReturn(0);
}

/* exp(-(eps0 |grad|)^3) has frozen the step (a steep region): the descent can never move again,
 * and a tiny or rejected no-op step must not pass for convergence */
static PetscErrorCode GDFrozen(const SlimFit fit, PetscReal gn, SlimFitResult *res)
{
  PetscFunctionBeginUser;
  res->status = SLIM_FIT_DIVERGED;
  PetscCall(PetscSNPrintf(res->reason, sizeof(res->reason), "diverged: step frozen by the damping (eps0 |grad| = %.3g): lower -fit_eps0", (double)(fit->eps0 * gn)));
  PetscFunctionReturn(0);
}

/* First evaluation: the guesses. */
static PetscErrorCode GDStart(const FitCtx *c, const PetscReal theta0[], GD *gd, SlimFitResult res[], PetscReal path[])
{
  const PetscInt nf = c->nf, np = c->np;

  PetscFunctionBeginUser;
  PetscCall(SlimFitLossEvaluate(c->loss, gd->K, theta0, gd->ft, gd->gt, NULL, gd->ev));
  for (PetscInt k = 0; k < gd->K; k++) {
    ToX(c, theta0 + k * np, gd->x + k * nf);
    GradX(c, gd->gt + k * np, gd->g + k * nf);
    gd->f[k]       = gd->ft[k];
    gd->s[k]       = 1;
    gd->last[k][0] = 0;
    res[k].loss0   = gd->ft[k];
    res[k].its     = 0;
    res[k].nevals  = 1;
    gd->run[k]     = gd->ev[k].ok;
    if (!gd->ev[k].ok) {
      res[k].status = SLIM_FIT_DIVERGED;
      PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "diverged: initial guess: %s", gd->ev[k].reason));
      PetscCall(GDEnd(gd, k, &res[k]));
    }
    PathRow(c, PathOf(c, path, k), 0, gd->x + k * nf, gd->f[k]);
  }
  PetscFunctionReturn(0);
}

/* Convergence tests of the running fits, and the trial points of those that go on. */
static PetscErrorCode GDTrials(const FitCtx *c, GD *gd, SlimFitResult res[])
{
  const SlimFit  fit = c->fit;
  const PetscInt nf = c->nf, np = c->np;

  PetscFunctionBeginUser;
  gd->nact = 0;
  for (PetscInt k = 0; k < gd->K; k++) {
    const PetscReal *xk = gd->x + k * nf, *gk = gd->g + k * nf, gn = Norm2(nf, gk);
    const PetscReal  eps = fit->eps0 * PetscExpReal(-PetscPowReal(fit->eps0 * gn, 3));
    const PetscReal  xs = PetscMax(NormInf(nf, xk), PETSC_SMALL), step = gd->s[k] * eps * gn;
    PetscBool        moved = PETSC_FALSE;

    if (!gd->run[k]) continue;
    /* a step below tol: converged, unless the damping (not backtracking) made it small */
    if (gn == 0 || (step <= fit->tol * xs && eps >= SLIM_FIT_GD_FROZEN * fit->eps0)) {
      res[k].status = SLIM_FIT_CONVERGED;
      PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "converged: %s", gn == 0 ? "zero gradient" : "step below -fit_tol"));
    } else if (step <= fit->tol * xs) PetscCall(GDFrozen(fit, gn, &res[k]));
    else if (res[k].its >= fit->max_it) {
      res[k].status = SLIM_FIT_MAX_IT;
      PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "max-iterations: %" PetscInt_FMT " reached%s%s", fit->max_it, gd->last[k][0] ? "; last rejected trial: " : "", gd->last[k]));
    } else {
      PetscReal *xt = gd->xt + gd->nact * nf;
      for (PetscInt i = 0; i < nf; i++) {
        xt[i] = xk[i] - gd->s[k] * eps * gk[i];
        moved = (PetscBool)(moved || xt[i] != xk[i]);
      }
      if (moved) {
        ToTheta(c, xt, gd->tht + gd->nact * np);
        gd->act[gd->nact++] = k;
        continue;
      }
      PetscCall(GDFrozen(fit, gn, &res[k]));
    }
    PetscCall(GDEnd(gd, k, &res[k]));
  }
  PetscFunctionReturn(0);
}

/* Accepts or rejects every evaluated trial point (gd->ft, gd->gt, gd->ev). */
static PetscErrorCode GDAccept(const FitCtx *c, GD *gd, SlimFitResult res[], PetscReal path[])
{
  const SlimFit  fit = c->fit;
  const PetscInt nf = c->nf, np = c->np;

  PetscFunctionBeginUser;
  for (PetscInt a = 0; a < gd->nact; a++) {
    const PetscInt k = gd->act[a];
    PetscBool      accept;
    const char    *ex;

    res[k].its++;
    res[k].nevals++;
    if (fit->backtrack) {
      accept = (PetscBool)(gd->ev[a].ok && gd->ft[a] < gd->f[k]);
      if (!gd->ev[a].ok) PetscCall(PetscStrncpy(gd->last[k], gd->ev[a].reason, sizeof(gd->last[k])));
    } else {
      accept = gd->ev[a].ok;
      if (!gd->ev[a].ok) {
        gd->run[k]    = PETSC_FALSE;
        res[k].status = SLIM_FIT_DIVERGED;
        PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "diverged: %s", gd->ev[a].reason));
      }
    }
    if (accept) {
      PetscCall(PetscArraycpy(gd->x + k * nf, gd->xt + a * nf, nf));
      GradX(c, gd->gt + a * np, gd->g + k * nf);
      gd->f[k] = gd->ft[a];
      gd->s[k] = PetscMin(1.0, 2 * gd->s[k]);
      if ((ex = Exploded(c, gd->x + k * nf))) {
        gd->run[k]    = PETSC_FALSE;
        res[k].status = SLIM_FIT_DIVERGED;
        PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "diverged: parameter %s exploded (beyond -fit_explode %g x its scale)", ex, (double)fit->explode));
      }
    } else if (gd->run[k]) gd->s[k] *= 0.5;
    PathRow(c, PathOf(c, path, k), res[k].its, gd->x + k * nf, gd->f[k]);
    if (!gd->run[k]) PetscCall(GDEnd(gd, k, &res[k]));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode GDIterate(const FitCtx *c, const PetscReal theta0[], GD *gd, SlimFitResult res[], PetscReal path[])
{
  PetscFunctionBeginUser;
  PetscCall(GDStart(c, theta0, gd, res, path));
  while (1) {
    PetscCall(GDTrials(c, gd, res));
    if (!gd->nact) break;
    PetscCall(SlimFitLossEvaluate(c->loss, gd->nact, gd->tht, gd->ft, gd->gt, NULL, gd->ev));
    PetscCall(GDAccept(c, gd, res, path));
  }
  for (PetscInt k = 0; k < gd->K; k++) {
    ToTheta(c, gd->x + k * c->nf, res[k].theta);
    res[k].loss  = gd->f[k];
    res[k].gnorm = Norm2(c->nf, gd->g + k * c->nf);
  }
  PetscFunctionReturn(0);
}

/* The K fits advance together: each iteration evaluates the trial points of all running fits in
 * one batch (one ensemble integration for the trajectory loss). */
static PetscErrorCode RunGD(FitCtx *c, PetscInt K, const PetscReal theta0[], SlimFitResult res[], PetscReal path[])
{
  GD             gd;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(GDCreate(c, K, &gd));
  ierr = GDIterate(c, theta0, &gd, res, path);
  PetscCall(GDDestroy(&gd));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* ---------- TAO ---------- */

static PetscErrorCode TaoEval(Tao tao, Vec X, PetscReal *fval, Vec G, void *ctx)
{
  FitCtx            *c = (FitCtx *)ctx;
  const PetscScalar *x;
  PetscReal          th[SLIM_MAX_PARAM], gth[SLIM_MAX_PARAM];
  SlimFitEval        ev;

  PetscFunctionBeginUser;
  (void)tao;
  PetscCall(VecGetArrayRead(X, &x));
  ToTheta(c, x, th);
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCall(SlimFitLossEvaluate(c->loss, 1, th, fval, G ? gth : NULL, NULL, &ev));
  c->nevals++;
  if (!ev.ok) {
    /* TAO's line searches treat an infinite value as a step too far */
    c->failed = PETSC_TRUE;
    PetscCall(PetscStrncpy(c->failure, ev.reason, sizeof(c->failure)));
    *fval = PETSC_INFINITY;
    if (G) PetscCall(VecSet(G, 0.0));
    PetscFunctionReturn(0);
  }
  if (G) {
    PetscScalar *g;
    PetscCall(VecGetArray(G, &g));
    GradX(c, gth, g);
    PetscCall(VecRestoreArray(G, &g));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode TaoObjective(Tao tao, Vec X, PetscReal *f, void *ctx)
{
  PetscFunctionBeginUser;
  PetscCall(TaoEval(tao, X, f, NULL, ctx));
  PetscFunctionReturn(0);
}

/* TAO's own tests, then the guards: non-finite loss at the iterate, exploding parameters. */
static PetscErrorCode TaoConvergence(Tao tao, void *ctx)
{
  FitCtx            *c = (FitCtx *)ctx;
  Vec                X;
  const PetscScalar *x;
  PetscReal          f, gnorm, cnorm, xdiff;
  PetscInt           its;
  TaoConvergedReason reason;
  const char        *ex;

  PetscFunctionBeginUser;
  PetscCall(TaoDefaultConvergenceTest(tao, NULL));
  PetscCall(TaoGetSolutionStatus(tao, &its, &f, &gnorm, &cnorm, &xdiff, &reason));
  PetscCall(TaoGetSolution(tao, &X));
  PetscCall(VecGetArrayRead(X, &x));
  ex = Exploded(c, x);
  PathRow(c, c->path, its, x, f);
  if (reason == TAO_CONTINUE_ITERATING && c->have_prev) {
    /* gd's step test: the trajectory loss is a norm, not smooth at a perfect fit, so gradient
     * tests never fire there and line searches fail once the loss reaches round-off */
    PetscReal step = 0, xs = PETSC_SMALL;
    for (PetscInt i = 0; i < c->nf; i++) step = PetscMax(step, PetscAbsReal(x[i] - c->xprev[i])), xs = PetscMax(xs, PetscAbsReal(x[i]));
    if (step > 0 && step <= c->fit->tol * xs) {
      c->stepconv = PETSC_TRUE;
      PetscCall(TaoSetConvergedReason(tao, TAO_CONVERGED_USER));
    }
  }
  for (PetscInt i = 0; i < c->nf; i++) c->xprev[i] = x[i];
  c->have_prev = PETSC_TRUE;
  PetscCall(VecRestoreArrayRead(X, &x));
  if (!isfinite(f)) {
    PetscCall(PetscSNPrintf(c->failure, sizeof(c->failure), "non-finite loss at iteration %" PetscInt_FMT, its));
    c->failed = PETSC_TRUE;
    PetscCall(TaoSetConvergedReason(tao, TAO_DIVERGED_USER));
  } else if (ex) {
    PetscCall(PetscSNPrintf(c->failure, sizeof(c->failure), "parameter %s exploded (beyond -fit_explode %g x its scale)", ex, (double)c->fit->explode));
    c->failed = PETSC_TRUE;
    PetscCall(TaoSetConvergedReason(tao, TAO_DIVERGED_USER));
  }
  PetscFunctionReturn(0);
}

/* The guess scored first: TAO refuses a non-finite first value with an error. *ok: it is finite. */
static PetscErrorCode TaoStart(FitCtx *c, const PetscReal theta0[], Vec X, SlimFitResult *res, PetscBool *ok)
{
  PetscScalar *x;
  PetscReal    gth[SLIM_MAX_PARAM], gx[SLIM_MAX_PARAM];
  SlimFitEval  ev;

  PetscFunctionBeginUser;
  res->its    = 0;
  res->nevals = 1;
  PetscCall(PetscArraycpy(res->theta, theta0, c->np));
  PetscCall(SlimFitLossEvaluate(c->loss, 1, theta0, &res->loss0, gth, NULL, &ev));
  res->loss = res->loss0;
  GradX(c, gth, gx);
  res->gnorm = Norm2(c->nf, gx);
  PetscCall(VecGetArray(X, &x));
  ToX(c, theta0, x);
  PathRow(c, c->path, 0, x, res->loss0);
  PetscCall(VecRestoreArray(X, &x));
  *ok = ev.ok;
  if (!ev.ok) {
    res->status = SLIM_FIT_DIVERGED;
    PetscCall(PetscSNPrintf(res->reason, sizeof(res->reason), "diverged: initial guess: %s", ev.reason));
  }
  c->nevals    = 0;
  c->failed    = PETSC_FALSE;
  c->stepconv  = PETSC_FALSE;
  c->have_prev = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* The final point scored like gd's (one more evaluation: loss and gradient norm) and the status. */
static PetscErrorCode TaoScore(FitCtx *c, Tao tao, TaoType type, Vec X, SlimFitResult *res)
{
  PetscScalar       *x;
  PetscInt           its;
  PetscReal          f, gnorm, cnorm, xdiff, th[SLIM_MAX_PARAM], gth[SLIM_MAX_PARAM], gx[SLIM_MAX_PARAM];
  TaoConvergedReason reason;
  SlimFitEval        ev;
  char              *why = res->reason;
  const size_t       len = sizeof(res->reason);

  PetscFunctionBeginUser;
  PetscCall(TaoGetSolutionStatus(tao, &its, &f, &gnorm, &cnorm, &xdiff, &reason));
  res->its = its;
  PetscCall(VecGetArray(X, &x));
  ToTheta(c, x, th);
  PetscCall(VecRestoreArray(X, &x));
  PetscCall(SlimFitLossEvaluate(c->loss, 1, th, &f, gth, NULL, &ev));
  res->nevals++;
  PetscCall(PetscArraycpy(res->theta, th, c->np));
  res->loss = f;
  GradX(c, gth, gx);
  res->gnorm = Norm2(c->nf, gx);
  if (!ev.ok) {
    res->status = SLIM_FIT_DIVERGED;
    PetscCall(PetscSNPrintf(why, len, "diverged: tao %s: %s: %s at the final point", type, TaoConvergedReasons[reason], ev.reason));
  } else if (reason > 0) {
    res->status = SLIM_FIT_CONVERGED;
    if (reason == TAO_CONVERGED_USER && c->stepconv) PetscCall(PetscSNPrintf(why, len, "converged: tao %s: step below -fit_tol", type));
    else PetscCall(PetscSNPrintf(why, len, "converged: tao %s: %s", type, TaoConvergedReasons[reason]));
  } else if (reason == TAO_DIVERGED_MAXITS || reason == TAO_DIVERGED_MAXFCN) {
    res->status = SLIM_FIT_MAX_IT;
    PetscCall(PetscSNPrintf(why, len, "max-iterations: tao %s: %s", type, TaoConvergedReasons[reason]));
  } else {
    res->status = SLIM_FIT_DIVERGED;
    PetscCall(PetscSNPrintf(why, len, "diverged: tao %s: %s%s%s", type, TaoConvergedReasons[reason], c->failed ? "; last failed evaluation: " : "", c->failed ? c->failure : ""));
  }
  PetscFunctionReturn(0);
}

/* One TAO fit from the guess in X; a TAO error ends this fit as diverged. */
static PetscErrorCode TaoFit(FitCtx *c, Tao tao, TaoType type, Vec X, SlimFitResult *res)
{
  SlimCatch      cat;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(TaoSetType(tao, type));
  PetscCall(TaoSetSolution(tao, X));
  PetscCall(TaoSetObjective(tao, TaoObjective, c));
  PetscCall(TaoSetObjectiveAndGradient(tao, NULL, TaoEval, c));
  PetscCall(TaoSetConvergenceTest(tao, TaoConvergence, c));
  PetscCall(TaoSetFromOptions(tao));
  SlimCatchBegin(&cat);
  ierr = TaoSolve(tao);
  SlimCatchEnd(&cat);
  res->nevals += c->nevals;
  if (ierr) {
    res->status = SLIM_FIT_DIVERGED;
    PetscCall(PetscSNPrintf(res->reason, sizeof(res->reason), "diverged: TAO error: %s", cat.msg));
  } else PetscCall(TaoScore(c, tao, type, X, res));
  PetscFunctionReturn(0);
}

static PetscErrorCode TaoSolveOne(FitCtx *c, TaoType type, const PetscReal theta0[], SlimFitResult *res)
{
  Tao            tao = NULL;
  Vec            X;
  PetscBool      ok   = PETSC_FALSE;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, c->nf, &X));
  ierr = TaoStart(c, theta0, X, res, &ok);
  if (!ierr && ok) ierr = SlimFitTaoCreate(c->fit, &tao);
  if (!ierr && ok) ierr = TaoFit(c, tao, type, X, res);
  PetscCall(TaoDestroy(&tao));
  PetscCall(VecDestroy(&X));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* The K fits of a configuration, after the objects are set up. */
static PetscErrorCode FitRun(SlimFit fit, const SlimFitProblem *prob, SlimFitMethod method, SlimFitLoss loss, const PetscReal theta0[], SlimFitResult res[], PetscReal path[])
{
  const PetscInt K = fit->guesses, np = prob->fam->nparam;
  FitCtx         c;

  PetscFunctionBeginUser;
  PetscCall(FitCtxSetUp(fit, prob->fam, loss, theta0, K, &c));
  if (method == SLIM_FIT_GD) PetscCall(RunGD(&c, K, theta0, res, path));
  else
    for (PetscInt k = 0; k < K; k++) {
      PetscLogDouble t0, t1;
      PetscCall(PetscTime(&t0));
      c.path = path ? path + k * (fit->max_it + 1) * (np + 1) : NULL;
      PetscCall(TaoSolveOne(&c, fit->tao_type, theta0 + k * np, &res[k]));
      PetscCall(PetscTime(&t1));
      res[k].wall = t1 - t0;
    }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitRun(SlimFit fit, const SlimFitProblem *prob, PetscInt conf, SlimFitData data, SlimFitResult res[], PetscReal path[])
{
  const PetscInt K = fit->guesses, np = prob->fam->nparam;
  SlimFitMethod  method = SLIM_FIT_GD;
  SlimFitLoss    loss   = NULL;
  PetscReal     *theta0;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  if (K <= 0) PetscFunctionReturn(0);
  PetscCall(SlimFitGetConfig(fit, conf, NULL, &method));
  PetscCall(PetscMalloc1(K * np, &theta0));
  PetscCall(PetscMemzero(res, K * sizeof(*res)));
  if (path)
    for (PetscInt i = 0; i < K * (fit->max_it + 1) * (np + 1); i++) path[i] = NAN;
  ierr = SlimFitGuesses(fit, prob, theta0);
  for (PetscInt k = 0; k < K && !ierr; k++) {
    PetscCall(PetscArraycpy(res[k].theta0, theta0 + k * np, np));
    for (PetscInt j = np; j < SLIM_MAX_PARAM; j++) res[k].theta0[j] = res[k].theta[j] = NAN;
  }
  if (!ierr) ierr = SlimFitLossCreate(prob->fam, data, prob->r, fit->solver, &loss);
  if (!ierr) ierr = FitRun(fit, prob, method, loss, theta0, res, path);
  PetscCall(SlimFitLossDestroy(&loss));
  PetscCall(PetscFree(theta0));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
