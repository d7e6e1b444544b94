/* Per-fit errors, per-point summaries and the Gauss-Newton uncertainty of a fit
 * (include/slim/fit.h): the statistics of SlimFit, apart from its options and optimisers (fit.c). */
#include <math.h>
#include <slim/fit.h>
#include <petscblaslapack.h>
#include <slim/private/fitimpl.h>

static PetscReal RelErr(PetscReal x, PetscReal truth)
{
  return truth != 0 ? PetscAbsReal(x - truth) / PetscAbsReal(truth) : PetscAbsReal(x);
}

PetscErrorCode SlimFitGetErrors(SlimFit fit, const SlimFitProblem *prob, const SlimFitResult *res, SlimFitErrors *err)
{
  SlimFamily fam   = prob->fam;
  PetscBool  truth = fit->obs ? PETSC_FALSE : PETSC_TRUE;
  PetscReal  rt[SLIM_MAX_PARAM];
  PetscBool  ok = PETSC_TRUE;

  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < SLIM_MAX_PARAM; j++) err->perr[j] = err->ratio[j] = err->rerr[j] = NAN;
  for (PetscInt j = 0; j < fam->nparam; j++) err->perr[j] = truth ? RelErr(res->theta[j], fam->theta[j]) : NAN;
  if (fam->nratio) {
    PetscCall(fam->ratios(res->theta, err->ratio));
    PetscCall(fam->ratios(fam->theta, rt));
    for (PetscInt j = 0; j < fam->nratio; j++) {
      err->rerr[j] = truth ? RelErr(err->ratio[j], rt[j]) : NAN;
      ok           = (PetscBool)(ok && err->rerr[j] <= fit->recover_tol);
    }
  } else
    for (PetscInt j = 0; j < fam->nparam; j++) ok = (PetscBool)(ok && err->perr[j] <= fit->recover_tol);
  err->recovered = (PetscBool)(truth && ok && res->status == SLIM_FIT_CONVERGED);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitSummarize(SlimFit fit, const SlimFitProblem *prob, PetscInt K, const SlimFitResult res[], SlimFitSummary *sum)
{
  SlimFamily     fam = prob->fam;
  PetscReal     *buf, *lo;
  SlimFitErrors *e;
  PetscInt       n = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(sum, sizeof(*sum)));
  for (PetscInt j = 0; j < SLIM_MAX_PARAM; j++) sum->truth[j] = sum->rtruth[j] = sum->perr_med[j] = sum->perr_iqr[j] = sum->ratio_med[j] = sum->ratio_iqr[j] = sum->rerr_med[j] = sum->rerr_iqr[j] = NAN;
  if (!fit->obs) {
    PetscCall(PetscArraycpy(sum->truth, fam->theta, fam->nparam));
    if (fam->nratio) PetscCall(fam->ratios(fam->theta, sum->rtruth));
  }
  sum->n = K;
  PetscCall(PetscMalloc3(K, &buf, K, &lo, K, &e));
  for (PetscInt k = 0; k < K; k++) {
    PetscCall(SlimFitGetErrors(fit, prob, &res[k], &e[k]));
    sum->nconv += res[k].status == SLIM_FIT_CONVERGED;
    sum->nmaxit += res[k].status == SLIM_FIT_MAX_IT;
    sum->ndiv += res[k].status == SLIM_FIT_DIVERGED;
    sum->nrecovered += e[k].recovered;
  }
  sum->frac_conv      = K ? (PetscReal)sum->nconv / K : NAN;
  sum->frac_recovered = K && !fit->obs ? (PetscReal)sum->nrecovered / K : NAN;
#define STAT(expr, med, iqr) \
  do { \
    n = 0; \
    for (PetscInt k = 0; k < K; k++) \
      if (res[k].status != SLIM_FIT_DIVERGED) buf[n++] = (expr); \
    med = SlimQuantile(n, buf, 0.5); \
    iqr = SlimQuantile(n, buf, 0.75) - SlimQuantile(n, buf, 0.25); \
  } while (0)
  for (PetscInt j = 0; j < fam->nparam; j++) STAT(e[k].perr[j], sum->perr_med[j], sum->perr_iqr[j]);
  for (PetscInt j = 0; j < fam->nratio; j++) {
    STAT(e[k].ratio[j], sum->ratio_med[j], sum->ratio_iqr[j]);
    STAT(e[k].rerr[j], sum->rerr_med[j], sum->rerr_iqr[j]);
  }
  STAT(res[k].loss, sum->loss_med, sum->loss_iqr);
  sum->loss_min = n ? buf[0] : NAN; /* buf is sorted by the quantiles */
  STAT((PetscReal)res[k].its, sum->its_med, lo[0]);
#undef STAT
  PetscCall(PetscFree3(buf, lo, e));
  PetscFunctionReturn(0);
}

/* Pseudo-inverse of the symmetric n x n matrix A (row-major, overwritten by its eigenvectors);
 * eigenvalues below rtol of the largest count as zero. null[i]: the weight of coordinate i in the
 * discarded directions. */
static PetscErrorCode PseudoInverse(PetscInt n, PetscReal A[], PetscReal rtol, PetscReal Ap[], PetscInt *rank, PetscReal null[])
{
  PetscBLASInt nb, lwork = 64 * SLIM_MAX_PARAM, info;
  PetscReal    w[SLIM_MAX_PARAM], work[64 * SLIM_MAX_PARAM];

  PetscFunctionBeginUser;
  PetscCall(PetscBLASIntCast(n, &nb));
  PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
  PetscCallBLAS("LAPACKsyev", LAPACKsyev_("V", "U", &nb, A, &nb, w, work, &lwork, &info));
  PetscCall(PetscFPTrapPop());
  PetscCheck(!info, PETSC_COMM_SELF, PETSC_ERR_LIB, "LAPACK syev failed: info %d", (int)info);
  /* column-major view of a symmetric input: column k of the output (A[k*n + i]) is eigenvector k */
  *rank = 0;
  for (PetscInt i = 0; i < n; i++) null[i] = 0;
  for (PetscInt i = 0; i < n * n; i++) Ap[i] = 0;
  for (PetscInt k = 0; k < n; k++) {
    const PetscReal *v = A + k * n;
    if (w[k] > rtol * w[n - 1] && w[k] > 0) {
      (*rank)++;
      for (PetscInt i = 0; i < n; i++)
        for (PetscInt j = 0; j < n; j++) Ap[i * n + j] += v[i] * v[j] / w[k];
    } else
      for (PetscInt i = 0; i < n; i++) null[i] += v[i] * v[i];
  }
  PetscFunctionReturn(0);
}

/* The ratios' covariance J_R C J_R^T (u->rcov, u->rstd), J_R by central differences in the
 * fitted coordinates; re: the ratios at theta. */
static PetscErrorCode RatioCovariance(SlimFamily fam, const PetscReal theta[], PetscInt nf, const PetscInt idx[], const PetscReal C[], SlimFitUncertainty *u, PetscReal re[])
{
  const PetscInt np = fam->nparam, nr = fam->nratio;
  PetscReal      JR[SLIM_MAX_PARAM * SLIM_MAX_PARAM];

  PetscFunctionBeginUser;
  PetscCall(fam->ratios(theta, re));
  for (PetscInt a = 0; a < nf; a++) {
    PetscReal tp[SLIM_MAX_PARAM], tm[SLIM_MAX_PARAM], rp[SLIM_MAX_PARAM], rm[SLIM_MAX_PARAM];
    const PetscReal h = 1e-6 * PetscMax(PetscAbsReal(theta[idx[a]]), 1e-8);
    PetscCall(PetscArraycpy(tp, theta, np));
    PetscCall(PetscArraycpy(tm, theta, np));
    tp[idx[a]] += h, tm[idx[a]] -= h;
    PetscCall(fam->ratios(tp, rp));
    PetscCall(fam->ratios(tm, rm));
    for (PetscInt k = 0; k < nr; k++) JR[k * nf + a] = (rp[k] - rm[k]) / (2 * h);
  }
  for (PetscInt k = 0; k < nr; k++)
    for (PetscInt l = 0; l < nr; l++) {
      PetscReal v = 0;
      for (PetscInt a = 0; a < nf; a++)
        for (PetscInt b = 0; b < nf; b++) v += JR[k * nf + a] * C[a * nf + b] * JR[l * nf + b];
      u->rcov[k * nr + l] = v;
    }
  for (PetscInt k = 0; k < nr; k++) u->rstd[k] = PetscSqrtReal(PetscMax(0, u->rcov[k * nr + k]));
  PetscFunctionReturn(0);
}

/* Consistency with the truth: |estimate - truth| <= 3 std for every tested quantity (the
 * ratios re if the family has any, else the fitted parameters). */
static PetscErrorCode Consistency(SlimFamily fam, const PetscReal theta[], PetscInt nf, const PetscInt idx[], const PetscReal re[], SlimFitUncertainty *u)
{
  const PetscInt nr = fam->nratio;
  PetscReal      z  = 0, rt[SLIM_MAX_PARAM];

  PetscFunctionBeginUser;
  if (nr) {
    PetscCall(fam->ratios(fam->theta, rt));
    for (PetscInt k = 0; k < nr; k++) {
      const PetscReal d = PetscAbsReal(re[k] - rt[k]);
      z = PetscMax(z, d == 0 ? 0 : d / u->rstd[k]);
    }
  } else
    for (PetscInt a = 0; a < nf; a++) {
      const PetscReal d = PetscAbsReal(theta[idx[a]] - fam->theta[idx[a]]);
      z = PetscMax(z, d == 0 ? 0 : d / u->std[idx[a]]);
    }
  u->zmax       = z;
  u->consistent = (PetscBool)(z <= 3);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitGetUncertainty(SlimFit fit, const SlimFitProblem *prob, SlimFitData data, const SlimFitResult *res, PetscReal sigma, SlimFitUncertainty *u)
{
  SlimFamily     fam = prob->fam;
  const PetscInt np = fam->nparam, nr = fam->nratio;
  PetscInt       nres, nf, idx[SLIM_MAX_PARAM], *grp, ng[2] = {0, 0};
  PetscReal     *r, *J, rn[2] = {0, 0}, w[2] = {1, 1}, s2[2];
  PetscReal      A[SLIM_MAX_PARAM * SLIM_MAX_PARAM], Bm[2][SLIM_MAX_PARAM * SLIM_MAX_PARAM], Ap[SLIM_MAX_PARAM * SLIM_MAX_PARAM], C[SLIM_MAX_PARAM * SLIM_MAX_PARAM], T[SLIM_MAX_PARAM * SLIM_MAX_PARAM], null[SLIM_MAX_PARAM];
  PetscReal      re[SLIM_MAX_PARAM];
  PetscBool      truth = fit->obs ? PETSC_FALSE : PETSC_TRUE;
  SlimFitLoss    loss;
  SlimFitEval    ev;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(u, sizeof(*u)));
  for (PetscInt j = 0; j < SLIM_MAX_PARAM; j++) u->std[j] = u->rstd[j] = NAN;
  for (PetscInt j = 0; j < SLIM_MAX_PARAM * SLIM_MAX_PARAM; j++) u->rcov[j] = NAN;
  u->sigma = u->zmax = NAN;
  PetscCall(SlimFitGetFitted(fit, fam, &nf, idx));
  u->nf = nf;
  if (res->status == SLIM_FIT_DIVERGED) PetscFunctionReturn(0);
  PetscCall(SlimFitLossCreate(fam, data, prob->r, fit->solver, &loss));
  PetscCall(SlimFitLossGetSizes(loss, &nres, NULL));
  PetscCall(PetscMalloc3(nres, &r, nres * np, &J, nres, &grp));
  PetscCall(SlimFitLossResiduals(loss, res->theta, r, J, grp, NULL, &ev));
  PetscCall(SlimFitLossDestroy(&loss));
  if (!ev.ok) {
    PetscCall(PetscFree3(r, J, grp));
    PetscFunctionReturn(0);
  }
  for (PetscInt i = 0; i < nres; i++) rn[grp[i]] += r[i] * r[i], ng[grp[i]]++;
  /* trajectory loss: weights 1/|r_g| of its two norms (normalised; equal when a norm vanishes) */
  if (data->kind == SLIM_LOSS_TRAJECTORY && rn[0] > 0 && rn[1] > 0) {
    const PetscReal n0 = PetscSqrtReal(rn[0]), n1 = PetscSqrtReal(rn[1]);
    w[0] = PetscMin(n0, n1) / n0, w[1] = PetscMin(n0, n1) / n1;
  }
  PetscCall(PetscArrayzero(A, nf * nf));
  PetscCall(PetscArrayzero(Bm[0], nf * nf));
  PetscCall(PetscArrayzero(Bm[1], nf * nf));
  for (PetscInt i = 0; i < nres; i++)
    for (PetscInt a = 0; a < nf; a++)
      for (PetscInt b = 0; b < nf; b++) {
        const PetscReal jj = J[i * np + idx[a]] * J[i * np + idx[b]];
        A[a * nf + b] += w[grp[i]] * jj;
        Bm[grp[i]][a * nf + b] += w[grp[i]] * w[grp[i]] * jj;
      }
  PetscCall(PseudoInverse(nf, A, 1e-10, Ap, &u->rank, null));
  /* noise variance per group: given, or from the residual with nres / (nres - rank) for the fit */
  for (PetscInt g = 0; g < 2; g++) {
    if (sigma > 0) s2[g] = sigma * sigma;
    else s2[g] = ng[g] && nres > u->rank ? rn[g] / ng[g] * nres / (PetscReal)(nres - u->rank) : 0;
  }
  u->sigma = sigma > 0 ? sigma : PetscSqrtReal((rn[0] + rn[1]) / PetscMax(1, nres - u->rank));
  /* C = A^+ (s0^2 B0 + s1^2 B1) A^+ */
  for (PetscInt a = 0; a < nf * nf; a++) T[a] = s2[0] * Bm[0][a] + s2[1] * Bm[1][a];
  for (PetscInt a = 0; a < nf; a++)
    for (PetscInt b = 0; b < nf; b++) {
      PetscReal v = 0;
      for (PetscInt k = 0; k < nf; k++)
        for (PetscInt l = 0; l < nf; l++) v += Ap[a * nf + k] * T[k * nf + l] * Ap[l * nf + b];
      C[a * nf + b] = v;
    }
  for (PetscInt j = 0; j < np; j++) u->std[j] = 0;
  for (PetscInt a = 0; a < nf; a++) u->std[idx[a]] = null[a] > 1e-6 ? (PetscReal)INFINITY : PetscSqrtReal(PetscMax(0, C[a * nf + a]));
  if (nr) PetscCall(RatioCovariance(fam, res->theta, nf, idx, C, u, re));
  if (truth) PetscCall(Consistency(fam, res->theta, nf, idx, re, u));
  PetscCall(PetscFree3(r, J, grp));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitPredict(SlimFit fit, const SlimFitProblem *prob, SlimFitData data, const PetscReal theta[], PetscReal pred[], PetscBool *ok)
{
  SlimFitLoss loss;
  SlimFitEval ev;

  PetscFunctionBeginUser;
  PetscCheck(data->kind == SLIM_LOSS_TRAJECTORY, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "SlimFitPredict needs trajectory data");
  PetscCall(SlimFitLossCreate(prob->fam, data, prob->r, fit->solver, &loss));
  PetscCall(SlimFitLossResiduals(loss, theta, NULL, NULL, NULL, pred, &ev));
  PetscCall(SlimFitLossDestroy(&loss));
  *ok = ev.ok;
  PetscFunctionReturn(0);
}

PetscInt SlimFitBest(PetscInt K, const SlimFitResult res[])
{
  PetscInt best = -1;

  for (PetscInt k = 0; k < K; k++)
    if (res[k].status != SLIM_FIT_DIVERGED && isfinite(res[k].loss) && (best < 0 || res[k].loss < res[best].loss)) best = k;
  return best;
}
