/* SlimFitRun: the optimisers of the coefficient fits (include/slim/fit.h) -- the weekly
 * report's damped gradient descent, K fits advancing together, PETSc TAO (src/fittao.c), and the
 * horizon continuation of the trajectory loss around both. Options, guesses, errors and
 * statistics are in fit.c. */
#include <math.h>
#include <petsctao.h>
#include <petsctime.h>
#include <slim/fit.h>
#include <slim/private/fitimpl.h>

/* A step below -fit_tol counts as convergence only while the damping exp(-(eps0 |grad|)^3) keeps
 * eps above this fraction of eps0; a smaller step means a steep region froze the descent. */
#define SLIM_FIT_GD_FROZEN 1e-3

/* ---------- coordinates x_i = theta[idx[i]] / scale[i] (SlimFitCtx, fitimpl.h) ---------- */

void SlimFitCtxToTheta(const SlimFitCtx *c, const PetscReal x[], PetscReal th[])
{
  for (PetscInt j = 0; j < c->np; j++) th[j] = c->ref[j];
  for (PetscInt i = 0; i < c->nf; i++) th[c->idx[i]] = x[i] * c->scale[i];
}

void SlimFitCtxToX(const SlimFitCtx *c, const PetscReal th[], PetscReal x[])
{
  for (PetscInt i = 0; i < c->nf; i++) x[i] = th[c->idx[i]] / c->scale[i];
}

/* gradient in x from the full gradient in theta */
void SlimFitCtxGradX(const SlimFitCtx *c, const PetscReal gth[], PetscReal gx[])
{
  for (PetscInt i = 0; i < c->nf; i++) gx[i] = gth[c->idx[i]] * c->scale[i];
}

PetscReal SlimFitNorm2(PetscInt n, const PetscReal x[])
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

/* Whether a descent that can no longer lower the loss f (gradient norm gn at x) stopped at a
 * zero-loss minimum: a norm loss is f ~ |grad| dist near its kink, a squared one f ~ |grad| dist/2,
 * so f/|grad| estimates the distance to it; within sqrt(-fit_tol) |x| that is a minimum to
 * round-off. A stalled descent elsewhere (a wrong gradient, a noisy loss, a minimum with
 * f > 0 has |grad| -> 0 there) does not pass. */
PetscBool SlimFitCtxAtZeroLoss(const SlimFitCtx *c, const PetscReal x[], PetscReal f, PetscReal gn)
{
  return (PetscBool)(f <= PetscSqrtReal(c->fit->tol) * gn * PetscMax(NormInf(c->nf, x), PETSC_SMALL));
}

/* name of the first exploded coordinate, or NULL */
const char *SlimFitCtxExploded(const SlimFitCtx *c, const PetscReal x[])
{
  for (PetscInt i = 0; i < c->nf; i++)
    if (!(PetscAbsReal(x[i]) <= c->bound[i])) return c->fam->pname[c->idx[i]];
  return NULL;
}

void SlimFitCtxPathRow(const SlimFitCtx *c, PetscReal *path, PetscInt row, const PetscReal x[], PetscReal f)
{
  PetscReal th[SLIM_MAX_PARAM];

  if (!path || row > c->fit->max_it) return;
  SlimFitCtxToTheta(c, x, th);
  for (PetscInt j = 0; j < c->np; j++) path[row * (c->np + 1) + j] = th[j];
  path[row * (c->np + 1) + c->np] = f;
}

static PetscErrorCode SlimFitCtxSetUp(SlimFit fit, SlimFamily fam, SlimFitLoss loss, const PetscReal theta0[], PetscInt K, SlimFitCtx *c)
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
  PetscBool     *lastfail;        /* the latest trial's evaluation failed (not merely a higher loss) */
  PetscLogDouble t0;
} GD;

static PetscErrorCode GDCreate(const SlimFitCtx *c, PetscInt K, GD *gd)
{
  const PetscInt nf = c->nf, np = c->np;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(gd, sizeof(*gd)));
  gd->K = K;
  PetscCall(PetscMalloc5(K * nf, &gd->x, K * nf, &gd->g, K, &gd->f, K, &gd->s, K * nf, &gd->xt));
  PetscCall(PetscMalloc5(K * np, &gd->tht, K, &gd->ft, K * np, &gd->gt, K, &gd->act, K, &gd->run));
  PetscCall(PetscMalloc3(K, &gd->ev, K, &gd->last, K, &gd->lastfail));
  PetscCall(PetscTime(&gd->t0));
  PetscFunctionReturn(0);
}

static PetscErrorCode GDDestroy(GD *gd)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree5(gd->x, gd->g, gd->f, gd->s, gd->xt));
  PetscCall(PetscFree5(gd->tht, gd->ft, gd->gt, gd->act, gd->run));
  PetscCall(PetscFree3(gd->ev, gd->last, gd->lastfail));
  PetscFunctionReturn(0);
}

static PetscReal *PathOf(const SlimFitCtx *c, PetscReal path[], PetscInt k)
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
static PetscErrorCode GDStart(const SlimFitCtx *c, const PetscReal theta0[], GD *gd, SlimFitResult res[], PetscReal path[])
{
  const PetscInt nf = c->nf, np = c->np;

  PetscFunctionBeginUser;
  PetscCall(SlimFitLossEvaluate(c->loss, gd->K, theta0, gd->ft, gd->gt, NULL, gd->ev));
  for (PetscInt k = 0; k < gd->K; k++) {
    SlimFitCtxToX(c, theta0 + k * np, gd->x + k * nf);
    SlimFitCtxGradX(c, gd->gt + k * np, gd->g + k * nf);
    gd->f[k]       = gd->ft[k];
    gd->s[k]       = 1;
    gd->last[k][0] = 0;
    gd->lastfail[k] = PETSC_FALSE;
    res[k].loss0   = gd->ft[k];
    res[k].its     = 0;
    res[k].nevals  = 1;
    gd->run[k]     = gd->ev[k].ok;
    if (!gd->ev[k].ok) {
      res[k].status = SLIM_FIT_DIVERGED;
      PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "diverged: initial guess: %s", gd->ev[k].reason));
      PetscCall(GDEnd(gd, k, &res[k]));
    }
    SlimFitCtxPathRow(c, PathOf(c, path, k), 0, gd->x + k * nf, gd->f[k]);
  }
  PetscFunctionReturn(0);
}

/* Convergence tests of the running fits, and the trial points of those that go on. */
static PetscErrorCode GDTrials(const SlimFitCtx *c, GD *gd, SlimFitResult res[])
{
  const SlimFit  fit = c->fit;
  const PetscInt nf = c->nf, np = c->np;

  PetscFunctionBeginUser;
  gd->nact = 0;
  for (PetscInt k = 0; k < gd->K; k++) {
    const PetscReal *xk = gd->x + k * nf, *gk = gd->g + k * nf, gn = SlimFitNorm2(nf, gk);
    const PetscReal  eps = fit->eps0 * PetscExpReal(-PetscPowReal(fit->eps0 * gn, 3));
    const PetscReal  xs = PetscMax(NormInf(nf, xk), PETSC_SMALL), step = gd->s[k] * eps * gn;
    PetscBool        moved = PETSC_FALSE;

    if (!gd->run[k]) continue;
    /* a step below tol: converged, unless the damping (not backtracking) made it small. Where
     * backtracking did (every longer step along -grad raised the loss), the descent has stopped
     * at the tolerance's scale: the kink of the trajectory loss (a norm) at a zero-residual
     * minimum keeps |grad| finite, and with it a damping that would read as frozen. */
    if (gn == 0 || (step <= fit->tol * xs && eps >= SLIM_FIT_GD_FROZEN * fit->eps0)) {
      res[k].status = SLIM_FIT_CONVERGED;
      PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "converged: %s", gn == 0 ? "zero gradient" : "step below -fit_tol"));
    } else if (step <= fit->tol * xs && eps * gn > fit->tol * xs && !gd->lastfail[k] && SlimFitCtxAtZeroLoss(c, xk, gd->f[k], gn)) {
      res[k].status = SLIM_FIT_CONVERGED;
      PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "converged: no lower loss along the gradient down to -fit_tol (damped step %.3g backtracked)", (double)(eps * gn)));
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
        SlimFitCtxToTheta(c, xt, gd->tht + gd->nact * np);
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
static PetscErrorCode GDAccept(const SlimFitCtx *c, GD *gd, SlimFitResult res[], PetscReal path[])
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
      accept          = (PetscBool)(gd->ev[a].ok && gd->ft[a] < gd->f[k]);
      gd->lastfail[k] = (PetscBool)!gd->ev[a].ok;
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
      SlimFitCtxGradX(c, gd->gt + a * np, gd->g + k * nf);
      gd->f[k] = gd->ft[a];
      gd->s[k] = PetscMin(1.0, 2 * gd->s[k]);
      if ((ex = SlimFitCtxExploded(c, gd->x + k * nf))) {
        gd->run[k]    = PETSC_FALSE;
        res[k].status = SLIM_FIT_DIVERGED;
        PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "diverged: parameter %s exploded (beyond -fit_explode %g x its scale)", ex, (double)fit->explode));
      }
    } else if (gd->run[k]) gd->s[k] *= 0.5;
    SlimFitCtxPathRow(c, PathOf(c, path, k), res[k].its, gd->x + k * nf, gd->f[k]);
    if (!gd->run[k]) PetscCall(GDEnd(gd, k, &res[k]));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode GDIterate(const SlimFitCtx *c, const PetscReal theta0[], GD *gd, SlimFitResult res[], PetscReal path[])
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
    SlimFitCtxToTheta(c, gd->x + k * c->nf, res[k].theta);
    res[k].loss  = gd->f[k];
    res[k].gnorm = SlimFitNorm2(c->nf, gd->g + k * c->nf);
  }
  PetscFunctionReturn(0);
}

/* The K fits advance together: each iteration evaluates the trial points of all running fits in
 * one batch (one ensemble integration for the trajectory loss). */
static PetscErrorCode RunGD(SlimFitCtx *c, PetscInt K, const PetscReal theta0[], SlimFitResult res[], PetscReal path[])
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

/* ---------- one horizon, and the horizon continuation ---------- */

/* K fits from theta0 on the loss as it stands. */
static PetscErrorCode FitRunOnce(SlimFitCtx *c, SlimFitMethod method, PetscInt K, const PetscReal theta0[], SlimFitResult res[], PetscReal path[])
{
  const SlimFit  fit = c->fit;
  const PetscInt np  = c->np;

  PetscFunctionBeginUser;
  if (method == SLIM_FIT_GD) PetscCall(RunGD(c, K, theta0, res, path));
  else
    for (PetscInt k = 0; k < K; k++) {
      PetscLogDouble t0, t1;
      PetscCall(PetscTime(&t0));
      c->path = path ? path + k * (fit->max_it + 1) * (np + 1) : NULL;
      PetscCall(SlimFitTaoSolve(c, fit->tao_type, theta0 + k * np, &res[k]));
      PetscCall(PetscTime(&t1));
      res[k].wall = t1 - t0;
    }
  PetscFunctionReturn(0);
}

/* Work arrays of the continuation: the fits still running (act), their start points, results and
 * paths in the current stage, and each fit's next free path row. */
typedef struct {
  PetscInt      *act, *off, na;
  PetscReal     *th, *f0, *path;
  SlimFitResult *res;
  SlimFitEval   *ev;
} Stages;

/* Adds stage s's results (fits act[0..na)) to res[] and its path rows to path (row 0 of a later
 * stage is the previous end: skipped; rows beyond -fit_max_it are dropped). */
static PetscErrorCode StageMerge(const SlimFitCtx *c, PetscInt s, Stages *S, SlimFitResult res[], PetscReal path[])
{
  const SlimFit  fit = c->fit;
  const PetscInt np = c->np, rows = fit->max_it + 1, w = np + 1;

  PetscFunctionBeginUser;
  for (PetscInt a = 0; a < S->na; a++) {
    const PetscInt       k = S->act[a];
    const SlimFitResult *r = &S->res[a];
    SlimFitResult       *R = &res[k];
    char                 tail[64];

    R->its += r->its;
    R->nevals += r->nevals;
    R->restarts += r->restarts;
    R->wall += r->wall;
    R->loss   = r->loss;
    R->gnorm  = r->gnorm;
    R->status = r->status;
    PetscCall(PetscArraycpy(R->theta, r->theta, np));
    PetscCall(PetscSNPrintf(tail, sizeof(tail), " [horizon stage %" PetscInt_FMT "/%" PetscInt_FMT "]", s + 1, fit->nhorizon));
    PetscCall(PetscStrncpy(R->reason, r->reason, sizeof(R->reason)));
    PetscCall(PetscStrlcat(R->reason, tail, sizeof(R->reason)));
    for (PetscInt i = s ? 1 : 0; path && i <= r->its && S->off[k] + i < rows; i++) PetscCall(PetscArraycpy(path + (k * rows + S->off[k] + i) * w, S->path + (a * rows + i) * w, w));
    S->off[k] += r->its;
  }
  PetscFunctionReturn(0);
}

/* One stage: the fits that have not diverged, from where the previous stage left them, on the
 * first fraction h of the observation window. */
static PetscErrorCode StageRun(SlimFitCtx *c, SlimFitMethod method, PetscInt s, const PetscReal theta0[], Stages *S, SlimFitResult res[], PetscReal path[])
{
  const SlimFit  fit = c->fit;
  const PetscInt K = fit->guesses, np = c->np, rows = fit->max_it + 1;

  PetscFunctionBeginUser;
  PetscCall(SlimFitLossSetHorizon(c->loss, fit->horizon[s], NULL));
  S->na = 0;
  for (PetscInt k = 0; k < K; k++) {
    if (s && res[k].status == SLIM_FIT_DIVERGED) continue;
    PetscCall(PetscArraycpy(S->th + S->na * np, s ? res[k].theta : theta0 + k * np, np));
    S->act[S->na++] = k;
  }
  PetscCall(PetscMemzero(S->res, K * sizeof(*S->res)));
  if (S->path)
    for (PetscInt i = 0; i < S->na * rows * (np + 1); i++) S->path[i] = NAN;
  PetscCall(FitRunOnce(c, method, S->na, S->th, S->res, S->path));
  PetscCall(StageMerge(c, s, S, res, path));
  PetscFunctionReturn(0);
}

/* -fit_horizons h1,...,1: stage s fits the observations within the first fraction h_s of the
 * window, from the previous stage's result. Over a short window the trajectory loss is nearly
 * convex in the frequencies (a phase error grows like delta-omega t), so each stage starts inside
 * the basin of the next. loss_init stays the guess's loss over the whole window. */
static PetscErrorCode FitRunStages(SlimFitCtx *c, SlimFitMethod method, const PetscReal theta0[], SlimFitResult res[], PetscReal path[])
{
  const SlimFit  fit = c->fit;
  const PetscInt K = fit->guesses, np = c->np;
  Stages         S;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&S, sizeof(S)));
  PetscCall(PetscMalloc6(K, &S.act, K, &S.off, K * np, &S.th, K, &S.f0, K, &S.res, K, &S.ev));
  if (path) PetscCall(PetscMalloc1(K * (fit->max_it + 1) * (np + 1), &S.path));
  for (PetscInt k = 0; k < K; k++) S.off[k] = 0;
  ierr = SlimFitLossSetHorizon(c->loss, 1, NULL);
  if (!ierr) ierr = SlimFitLossEvaluate(c->loss, K, theta0, S.f0, NULL, NULL, S.ev);
  for (PetscInt s = 0; s < fit->nhorizon && !ierr; s++) ierr = StageRun(c, method, s, theta0, &S, res, path);
  for (PetscInt k = 0; k < K && !ierr; k++) {
    res[k].loss0 = S.f0[k];
    res[k].nevals++;
  }
  PetscCall(PetscFree6(S.act, S.off, S.th, S.f0, S.res, S.ev));
  PetscCall(PetscFree(S.path));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* The K fits of a configuration, after the objects are set up. */
static PetscErrorCode FitRun(SlimFit fit, const SlimFitProblem *prob, SlimFitMethod method, SlimFitLoss loss, SlimLossType lt, const PetscReal theta0[], SlimFitResult res[], PetscReal path[])
{
  SlimFitCtx c;

  PetscFunctionBeginUser;
  PetscCall(SlimFitCtxSetUp(fit, prob->fam, loss, theta0, fit->guesses, &c));
  if (lt == SLIM_LOSS_TRAJECTORY && fit->nhorizon > 1) PetscCall(FitRunStages(&c, method, theta0, res, path));
  else PetscCall(FitRunOnce(&c, method, fit->guesses, theta0, res, path));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitRun(SlimFit fit, const SlimFitProblem *prob, PetscInt conf, SlimFitData data, SlimFitResult res[], PetscReal path[])
{
  const PetscInt K = fit->guesses, np = prob->fam->nparam;
  SlimFitMethod  method = SLIM_FIT_GD;
  SlimLossType   lt     = SLIM_LOSS_TRAJECTORY;
  SlimFitLoss    loss   = NULL;
  PetscReal     *theta0;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  if (K <= 0) PetscFunctionReturn(0);
  PetscCall(SlimFitGetConfig(fit, conf, &lt, &method));
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
  if (!ierr) ierr = FitRun(fit, prob, method, loss, lt, theta0, res, path);
  PetscCall(SlimFitLossDestroy(&loss));
  PetscCall(PetscFree(theta0));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
