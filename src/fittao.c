/* PETSc TAO for the coefficient fits (include/slim/fit.h): one fit after the other, TAO's own
 * convergence tests plus the fits' guards and step test. A fit whose line search fails (TAO's
 * More-Thuente cannot bracket a step whose evaluation fails, e.g. the first unit step of lmvm
 * that takes a mass negative) is restarted from TAO's last iterate with a fresh TAO whose line
 * search is -fit_restart_ls (default armijo: backtracks through failed evaluations), at most
 * -fit_restarts times. */
#include <math.h>
#include <petsctao.h>
#include <slim/fit.h>
#include <slim/private/fitimpl.h>

static PetscErrorCode TaoEval(Tao tao, Vec X, PetscReal *fval, Vec G, void *ctx)
{
  SlimFitCtx            *c = (SlimFitCtx *)ctx;
  const PetscScalar *x;
  PetscReal          th[SLIM_MAX_PARAM], gth[SLIM_MAX_PARAM];
  SlimFitEval        ev;

  PetscFunctionBeginUser;
  (void)tao;
  PetscCall(VecGetArrayRead(X, &x));
  SlimFitCtxToTheta(c, x, th);
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
    SlimFitCtxGradX(c, gth, g);
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
  SlimFitCtx            *c = (SlimFitCtx *)ctx;
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
  ex = SlimFitCtxExploded(c, x);
  SlimFitCtxPathRow(c, c->path, c->row0 + its, x, f);
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
static PetscErrorCode TaoStart(SlimFitCtx *c, const PetscReal theta0[], Vec X, SlimFitResult *res, PetscBool *ok)
{
  PetscScalar *x;
  PetscReal    gth[SLIM_MAX_PARAM], gx[SLIM_MAX_PARAM];
  SlimFitEval  ev;

  PetscFunctionBeginUser;
  res->its      = 0;
  res->nevals   = 1;
  res->restarts = 0;
  c->row0       = 0;
  PetscCall(PetscArraycpy(res->theta, theta0, c->np));
  PetscCall(SlimFitLossEvaluate(c->loss, 1, theta0, &res->loss0, gth, NULL, &ev));
  res->loss = res->loss0;
  SlimFitCtxGradX(c, gth, gx);
  res->gnorm = SlimFitNorm2(c->nf, gx);
  PetscCall(VecGetArray(X, &x));
  SlimFitCtxToX(c, theta0, x);
  SlimFitCtxPathRow(c, c->path, 0, x, res->loss0);
  PetscCall(VecRestoreArray(X, &x));
  *ok = ev.ok;
  if (!ev.ok) {
    res->status = SLIM_FIT_DIVERGED;
    PetscCall(PetscSNPrintf(res->reason, sizeof(res->reason), "diverged: initial guess: %s", ev.reason));
  }
  PetscFunctionReturn(0);
}

/* The final point scored like gd's (one more evaluation: loss and gradient norm) and the status;
 * *reason: TAO's. Iterations count on from the restarts before this TAO. */
static PetscErrorCode TaoScore(SlimFitCtx *c, Tao tao, TaoType type, Vec X, SlimFitResult *res, TaoConvergedReason *reason_out)
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
  res->its    = c->row0 + its;
  *reason_out = reason;
  PetscCall(VecGetArray(X, &x));
  SlimFitCtxToTheta(c, x, th);
  PetscCall(VecRestoreArray(X, &x));
  PetscCall(SlimFitLossEvaluate(c->loss, 1, th, &f, gth, NULL, &ev));
  res->nevals++;
  PetscCall(PetscArraycpy(res->theta, th, c->np));
  res->loss = f;
  SlimFitCtxGradX(c, gth, gx);
  res->gnorm = SlimFitNorm2(c->nf, gx);
  if (!ev.ok) {
    res->status = SLIM_FIT_DIVERGED;
    PetscCall(PetscSNPrintf(why, len, "diverged: tao %s: %s: %s at the final point", type, TaoConvergedReasons[reason], ev.reason));
    *reason_out = TAO_DIVERGED_USER; /* nowhere to restart from */
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

/* One TAO run from the point in X (ls: line search type of a restart, NULL: the options'); a TAO
 * error ends this fit as diverged. */
static PetscErrorCode TaoFit(SlimFitCtx *c, Tao tao, TaoType type, const char ls[], Vec X, SlimFitResult *res, TaoConvergedReason *reason)
{
  SlimCatch      cat;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *reason      = TAO_DIVERGED_USER;
  c->nevals    = 0;
  c->failed    = PETSC_FALSE;
  c->stepconv  = PETSC_FALSE;
  c->have_prev = PETSC_FALSE;
  PetscCall(TaoSetType(tao, type));
  PetscCall(TaoSetSolution(tao, X));
  PetscCall(TaoSetObjective(tao, TaoObjective, c));
  PetscCall(TaoSetObjectiveAndGradient(tao, NULL, TaoEval, c));
  PetscCall(TaoSetConvergenceTest(tao, TaoConvergence, c));
  PetscCall(TaoSetFromOptions(tao));
  /* the iterations left after the restarts so far (-fit_max_it, or -fit_tao_max_it if given) */
  if (!c->row0) PetscCall(TaoGetMaximumIterations(tao, &c->max_its));
  PetscCall(TaoSetMaximumIterations(tao, c->max_its - c->row0));
  if (ls) {
    TaoLineSearch lsobj;
    PetscCall(TaoGetLineSearch(tao, &lsobj));
    if (lsobj) PetscCall(TaoLineSearchSetType(lsobj, ls));
  }
  SlimCatchBegin(&cat);
  ierr = TaoSolve(tao);
  SlimCatchEnd(&cat);
  res->nevals += c->nevals;
  if (ierr) {
    res->status = SLIM_FIT_DIVERGED;
    PetscCall(PetscSNPrintf(res->reason, sizeof(res->reason), "diverged: TAO error: %s", cat.msg));
  } else PetscCall(TaoScore(c, tao, type, X, res, reason));
  PetscFunctionReturn(0);
}

static PetscBool AtZeroLoss(const SlimFitCtx *c, const SlimFitResult *res)
{
  PetscReal x[SLIM_MAX_PARAM];

  SlimFitCtxToX(c, res->theta, x);
  return SlimFitCtxAtZeroLoss(c, x, res->loss, res->gnorm);
}

/* A TAO run, then after every line-search failure (with iterations left) a restart from TAO's
 * last iterate: a fresh TAO (lmvm forgets its Hessian) with line search -fit_restart_ls. */
static PetscErrorCode TaoRuns(SlimFitCtx *c, TaoType type, Vec X, SlimFitResult *res)
{
  TaoConvergedReason reason = TAO_CONTINUE_ITERATING;
  PetscErrorCode     ierr   = 0;

  PetscFunctionBeginUser;
  while (1) {
    Tao             tao    = NULL;
    const PetscReal fstart = res->loss;
    ierr                   = SlimFitTaoCreate(c->fit, &tao);
    if (!ierr) ierr = TaoFit(c, tao, type, res->restarts ? c->fit->restart_ls : NULL, X, res, &reason);
    PetscCall(TaoDestroy(&tao));
    if (!ierr && reason == TAO_DIVERGED_LS_FAILURE && res->restarts && !(res->loss < fstart) && AtZeroLoss(c, res)) {
      /* a fresh restart's backtracking line search along -grad found no lower loss at all, next
       * to a zero-loss minimum (the trajectory loss is a norm with a kink at a perfect fit) */
      res->status = SLIM_FIT_CONVERGED;
      PetscCall(PetscSNPrintf(res->reason, sizeof(res->reason), "converged: tao %s: no descent from the last iterate (%s line search)", type, c->fit->restart_ls));
      break;
    }
    if (ierr || reason != TAO_DIVERGED_LS_FAILURE || res->restarts >= c->fit->restarts || res->its >= c->max_its) break;
    res->restarts++;
    c->row0 = res->its;
  }
  if (!ierr && res->restarts) {
    char tail[64];
    PetscCall(PetscSNPrintf(tail, sizeof(tail), " (after %" PetscInt_FMT " line-search restart%s)", res->restarts, res->restarts > 1 ? "s" : ""));
    PetscCall(PetscStrlcat(res->reason, tail, sizeof(res->reason)));
  }
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitTaoSolve(SlimFitCtx *c, TaoType type, const PetscReal theta0[], SlimFitResult *res)
{
  Vec            X;
  PetscBool      ok   = PETSC_FALSE;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, c->nf, &X));
  ierr = TaoStart(c, theta0, X, res, &ok);
  if (!ierr && ok) ierr = TaoRuns(c, type, X, res);
  PetscCall(VecDestroy(&X));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
