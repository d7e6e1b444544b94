/* Task kind "fit": the K coefficient fits of one (point, configuration), their uncertainty and
 * statistics, and the noise slice (docs/fits.md; include/slim/private/harnessimpl.h). Rows of
 * /fits (one per fit), /fit_summary (one per task), /fit_obs/<row> (synthetic data:
 * observations and the best fit's motion, src/task_fitobs.c) and, with -fit_store_path,
 * /fit_paths/<row>. */
#include <petsctime.h>
#include <slim/private/harnessimpl.h>

/* run-time widths of the fit tables */
enum { W_PARAM = 1, W_RATIO, W_SLICE, W_NSLOTS };

/* Fits of a task bound the cost estimate at this many iterations: most stop far earlier. */
#define SLIM_FIT_COST_MAX_IT 300
/* TAO's line searches evaluate the loss about this many times per iteration. */
#define SLIM_FIT_COST_TAO_EVALS 3

typedef struct {
  PetscInt      point, config, guess; /* definitions */
  PetscReal     theta_init[SLIM_MAX_PARAM], theta_final[SLIM_MAX_PARAM], param_err[SLIM_MAX_PARAM];
  PetscReal     ratio_final[SLIM_MAX_PARAM], ratio_err[SLIM_MAX_PARAM];
  PetscInt      recovered;
  PetscReal     loss_init, loss_final, grad_norm;
  PetscInt      iterations, evaluations, restarts;
  char          reason[160];
  PetscReal     param_std[SLIM_MAX_PARAM], ratio_std[SLIM_MAX_PARAM];
  PetscInt      consistent;
  PetscReal     z_max, sigma_est;
  PetscInt      gn_rank;
  PetscReal     fit_wall;
  PetscInt      rank;
  SlimFitStatus status;
} FitRow;
#define FIT_NDEF 3

static const SlimRecordColumn FitCols[] = {
  SLIM_REC(FitRow, point, SLIM_RECORD_INT, 1, "point", "", "sweep point (row of /points)"),
  SLIM_REC(FitRow, config, SLIM_RECORD_INT, 1, "config", "", "fit configuration (loss x method); the row of /fit_summary is point*n_configs + config"),
  SLIM_REC(FitRow, guess, SLIM_RECORD_INT, 1, "guess", "", "initial guess k; a point's configurations share their K guesses"),
  SLIM_REC(FitRow, theta_init, SLIM_RECORD_REAL, SLIM_RECORD_SLOT(W_PARAM), "theta_init", "", "initial guess: the family's parameters in the order of /fit_summary/param_names, NaN-padded"),
  SLIM_REC(FitRow, theta_final, SLIM_RECORD_REAL, SLIM_RECORD_SLOT(W_PARAM), "theta_final", "", "fitted parameters (order of /fit_summary/param_names)"),
  SLIM_REC(FitRow, param_err, SLIM_RECORD_REAL, SLIM_RECORD_SLOT(W_PARAM), "param_err", "", "|theta_final - truth| / |truth| per parameter (absolute where the truth is 0; NaN for measured data)"),
  SLIM_REC(FitRow, ratio_final, SLIM_RECORD_REAL, SLIM_RECORD_SLOT(W_RATIO), "ratio_final", "", "identifiable ratios of the fitted parameters (/fit_summary/ratio_names)"),
  SLIM_REC(FitRow, ratio_err, SLIM_RECORD_REAL, SLIM_RECORD_SLOT(W_RATIO), "ratio_err", "", "relative error of each ratio against the truth"),
  SLIM_REC(FitRow, recovered, SLIM_RECORD_INT, 1, "recovered", "", "1: converged and every ratio within -fit_recover_tol of the truth"),
  SLIM_REC(FitRow, loss_init, SLIM_RECORD_REAL, 1, "loss_init", "", "loss at the initial guess"),
  SLIM_REC(FitRow, loss_final, SLIM_RECORD_REAL, 1, "loss_final", "", "loss at the fitted parameters"),
  SLIM_REC(FitRow, grad_norm, SLIM_RECORD_REAL, 1, "grad_norm", "", "2-norm of the final gradient with respect to the fitted coordinates"),
  SLIM_REC(FitRow, iterations, SLIM_RECORD_INT, 1, "iterations", "", "gd: trial steps (loss evaluations after the first); tao: TAO iterations; summed over -fit_horizons stages and restarts"),
  SLIM_REC(FitRow, evaluations, SLIM_RECORD_INT, 1, "evaluations", "", "loss evaluations"),
  SLIM_REC(FitRow, restarts, SLIM_RECORD_INT, 1, "restarts", "", "tao: restarts after a line-search failure (-fit_restarts, -fit_restart_ls); 0 for gd"),
  SLIM_REC(FitRow, reason, SLIM_RECORD_STRING, 160, "reason", "", "how the fit ended, e.g. 'converged: step below -fit_tol' or 'diverged: <why>'"),
  SLIM_REC(FitRow, param_std, SLIM_RECORD_REAL, SLIM_RECORD_SLOT(W_PARAM), "param_std", "", "Gauss-Newton standard deviation of each parameter (SlimFitGetUncertainty, noise estimated from the residual): 0 not fitted, Inf not identifiable"),
  SLIM_REC(FitRow, ratio_std, SLIM_RECORD_REAL, SLIM_RECORD_SLOT(W_RATIO), "ratio_std", "", "standard deviation of each identifiable ratio"),
  SLIM_REC(FitRow, consistent, SLIM_RECORD_INT, 1, "consistent", "", "1: the truth within 3 std of every ratio (parameter, without ratios); 0 not; -1 no truth (measured data) or diverged"),
  SLIM_REC(FitRow, z_max, SLIM_RECORD_REAL, 1, "z_max", "", "max |estimate - truth| / std over the tested quantities"),
  SLIM_REC(FitRow, sigma_est, SLIM_RECORD_REAL, 1, "sigma_est", "units of the data", "noise standard deviation estimated from the residual (used for the std)"),
  SLIM_REC(FitRow, gn_rank, SLIM_RECORD_INT, 1, "gn_rank", "", "identifiable directions: rank of the Gauss-Newton matrix over the fitted parameters"),
  SLIM_REC(FitRow, fit_wall, SLIM_RECORD_REAL, 1, "fit_wall", "s", "wall time until this fit ended (gd fits of a point run together)"),
  SLIM_REC(FitRow, rank, SLIM_RECORD_INT, 1, "rank", "", "MPI rank that computed the row"),
  SLIM_REC(FitRow, status, SLIM_RECORD_ENUM, 1, "status", "", "-1 not computed yet, 0 converged, 1 max-iterations, 2 diverged (see reason)"),
};
static const SlimRecordTable FitTable = SLIM_RECORD_TABLE("one row per fit: (point*n_configs + config)*K + guess", FitCols, FitRow);

typedef struct {
  PetscInt    point, config; /* definitions */
  const char *family, *loss, *method, *tao_type;
  char        param_names[128], ratio_names[128], fitted[128];
  PetscReal   sigma;
  PetscInt    n_obs; /* results */
  PetscReal   theta_true[SLIM_MAX_PARAM], ratio_true[SLIM_MAX_PARAM], loss_true;
  PetscInt    n_fits, n_converged, n_max_it, n_diverged, n_recovered;
  PetscReal   frac_converged, frac_recovered;
  PetscInt    n_consistent;
  PetscReal   frac_consistent;
  PetscInt    best_fit;
  PetscReal   perr_med[SLIM_MAX_PARAM], perr_iqr[SLIM_MAX_PARAM], ratio_med[SLIM_MAX_PARAM], ratio_iqr[SLIM_MAX_PARAM];
  PetscReal   rerr_med[SLIM_MAX_PARAM], rerr_iqr[SLIM_MAX_PARAM];
  PetscReal   loss_med, loss_iqr, loss_min, its_med;
  const char *slice_param;
  PetscReal  *slice_values, *slice_loss, *slice_loss_clean;
  PetscReal   slice_rms, slice_rel;
  char        error[256];
  PetscReal   fit_wall;
  PetscInt    rank, status;
} SummaryRow;
#define SUMMARY_NDEF 10

#define S(m, t, w, name, d)            SLIM_REC(SummaryRow, m, t, w, name, "", d)
#define SSLICE(m, t, w, name, d)       SLIM_REC_OPT(SummaryRow, m, t, w, W_SLICE, name, "", d)
#define SREAL(m, w, name, d)           S(m, SLIM_RECORD_REAL, w, name, d)
#define SINT(m, name, d)               S(m, SLIM_RECORD_INT, 1, name, d)
static const SlimRecordColumn SummaryCols[] = {
  SINT(point, "point", "sweep point (row of /points)"),
  SINT(config, "config", "fit configuration: loss index * n_methods + method index"),
  S(family, SLIM_RECORD_STRPTR, SLIM_NAME_LEN, "family", "Lagrangian family"),
  S(loss, SLIM_RECORD_STRPTR, 16, "loss", "trajectory (student paper eq. 28) or acceleration (weekly report eq. 1)"),
  S(method, SLIM_RECORD_STRPTR, 16, "method", "gd (damped gradient descent) or tao"),
  S(tao_type, SLIM_RECORD_STRPTR, 16, "tao_type", "TAO solver of method tao"),
  S(param_names, SLIM_RECORD_STRING, 128, "param_names", "names of the columns of the width-n_params datasets"),
  S(ratio_names, SLIM_RECORD_STRING, 128, "ratio_names", "names of the columns of the width-n_ratios datasets"),
  S(fitted, SLIM_RECORD_STRING, 128, "fitted", "fitted parameters (-fit_params); the others stay at the truth"),
  SLIM_REC(SummaryRow, sigma, SLIM_RECORD_REAL, 1, "sigma", "units of the data", "noise standard deviation of the observations"),
  SINT(n_obs, "n_obs", "observations (trajectory samples or acceleration grid points)"),
  SREAL(theta_true, SLIM_RECORD_SLOT(W_PARAM), "theta_true", "true parameters (NaN for measured data)"),
  SREAL(ratio_true, SLIM_RECORD_SLOT(W_RATIO), "ratio_true", "true identifiable ratios"),
  SREAL(loss_true, 1, "loss_true", "loss at the true parameters: 0 without noise, the noise floor with"),
  SINT(n_fits, "n_fits", "K"),
  SINT(n_converged, "n_converged", "fits that converged"),
  SINT(n_max_it, "n_max_it", "fits stopped by -fit_max_it"),
  SINT(n_diverged, "n_diverged", "fits that diverged"),
  SINT(n_recovered, "n_recovered", "converged fits with every ratio within -fit_recover_tol"),
  SREAL(frac_converged, 1, "frac_converged", "n_converged / K"),
  SREAL(frac_recovered, 1, "frac_recovered", "n_recovered / K"),
  SINT(n_consistent, "n_consistent", "fits whose truth lies within 3 std (/fits/consistent 1); -1 without truth"),
  SREAL(frac_consistent, 1, "frac_consistent", "n_consistent / fits that did not diverge"),
  SINT(best_fit, "best_fit", "/fits row of the lowest-loss fit that did not diverge (the fit of /fit_obs/<row>); -1: none"),
  SREAL(perr_med, SLIM_RECORD_SLOT(W_PARAM), "param_err_median", "median over the fits that did not diverge of /fits/param_err"),
  SREAL(perr_iqr, SLIM_RECORD_SLOT(W_PARAM), "param_err_iqr", "interquartile range of /fits/param_err (same fits)"),
  SREAL(ratio_med, SLIM_RECORD_SLOT(W_RATIO), "ratio_median", "median of the fitted ratios"),
  SREAL(ratio_iqr, SLIM_RECORD_SLOT(W_RATIO), "ratio_iqr", "interquartile range of the fitted ratios"),
  SREAL(rerr_med, SLIM_RECORD_SLOT(W_RATIO), "ratio_err_median", "median relative ratio error"),
  SREAL(rerr_iqr, SLIM_RECORD_SLOT(W_RATIO), "ratio_err_iqr", "interquartile range of the relative ratio error"),
  SREAL(loss_med, 1, "loss_median", "median final loss"),
  SREAL(loss_iqr, 1, "loss_iqr", "interquartile range of the final loss"),
  SREAL(loss_min, 1, "loss_min", "smallest final loss"),
  SREAL(its_med, 1, "iterations_median", "median iterations"),
  SSLICE(slice_param, SLIM_RECORD_STRPTR, 64, "slice_param", "noise slice: parameter varied through its true value"),
  SSLICE(slice_values, SLIM_RECORD_REALPTR, SLIM_RECORD_SLOT(W_SLICE), "slice_values", "noise slice: values of slice_param"),
  SSLICE(slice_loss, SLIM_RECORD_REALPTR, SLIM_RECORD_SLOT(W_SLICE), "slice_loss", "noise slice: loss against the noisy data"),
  SSLICE(slice_loss_clean, SLIM_RECORD_REALPTR, SLIM_RECORD_SLOT(W_SLICE), "slice_loss_clean", "noise slice: loss against the same data without noise"),
  SSLICE(slice_rms, SLIM_RECORD_REAL, 1, "slice_rms_change", "sqrt(mean (slice_loss - slice_loss_clean)^2): RMS change of the loss caused by the noise"),
  SSLICE(slice_rel, SLIM_RECORD_REAL, 1, "slice_rms_rel", "slice_rms_change / sqrt(mean slice_loss_clean^2)"),
  S(error, SLIM_RECORD_STRING, 256, "error", "PETSc error that failed the task (status 1)"),
  SLIM_REC(SummaryRow, fit_wall, SLIM_RECORD_REAL, 1, "fit_wall", "s", "wall time of the task"),
  SINT(rank, "rank", "MPI rank that computed the row"),
  SINT(status, "status", "-1 not computed yet, 0 finished, 1 failed (see error)"),
};
static const SlimRecordTable SummaryTable = SLIM_RECORD_TABLE("fit statistics per point and configuration: row point*n_configs + config", SummaryCols, SummaryRow);

typedef struct {
  PetscInt  nconf, K;
  PetscInt  widths[W_NSLOTS];
  PetscBool obs; /* /fit_obs: fits of synthetic data */
} FitKind;

PetscErrorCode SlimHarnessFitProblem(SlimHarness h, PetscInt point, SlimFitProblem *prob)
{
  const SlimPoint *p = &h->sw->points[point];

  PetscFunctionBeginUser;
  *prob = (SlimFitProblem){h->sw->fam[p->family], p->r, p->N, p->dt, p->sigma, p->seed};
  PetscFunctionReturn(0);
}

PetscErrorCode SlimJoinNames(PetscInt n, const char *const names[], const PetscInt idx[], char buf[], size_t len)
{
  PetscFunctionBeginUser;
  buf[0] = 0;
  for (PetscInt i = 0; i < n; i++) {
    if (i) PetscCall(PetscStrlcat(buf, ",", len));
    PetscCall(PetscStrlcat(buf, names[idx ? idx[i] : i], len));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode Count(SlimTaskKind k, PetscInt *n)
{
  SlimSweep sw = k->h->sw;
  FitKind  *fk = (FitKind *)k->data;

  PetscFunctionBeginUser;
  PetscCall(SlimFitGetConfigs(sw->fit, &fk->nconf));
  fk->K                 = sw->fit->guesses;
  fk->widths[W_PARAM]   = fk->widths[W_RATIO] = 1;
  for (PetscInt f = 0; f < sw->nfam; f++) {
    fk->widths[W_PARAM] = PetscMax(fk->widths[W_PARAM], sw->fam[f]->nparam);
    fk->widths[W_RATIO] = PetscMax(fk->widths[W_RATIO], sw->fam[f]->nratio);
  }
  fk->widths[W_SLICE] = sw->fit->slice_n;
  fk->obs             = (PetscBool)(fk->K > 0 && !sw->fit->obs);
  *n                  = sw->npoints * fk->nconf;
  PetscFunctionReturn(0);
}

static PetscErrorCode Point(SlimTaskKind k, PetscInt i, PetscInt *point)
{
  PetscFunctionBeginUser;
  *point = i / ((FitKind *)k->data)->nconf;
  PetscFunctionReturn(0);
}

/* loss evaluations times their cost */
static PetscErrorCode Cost(SlimTaskKind k, PetscInt i, PetscReal *cost)
{
  SlimFit        fit = k->h->sw->fit;
  SlimFitProblem prob;
  SlimLossType   lt;
  SlimFitMethod  mt;
  PetscReal      evals;

  PetscFunctionBeginUser;
  PetscCall(SlimHarnessFitProblem(k->h, i / ((FitKind *)k->data)->nconf, &prob));
  PetscCall(SlimFitGetConfig(fit, i % ((FitKind *)k->data)->nconf, &lt, &mt));
  evals = fit->guesses * PetscMin(fit->max_it, SLIM_FIT_COST_MAX_IT) * (mt == SLIM_FIT_TAO ? SLIM_FIT_COST_TAO_EVALS : 1) + fit->slice_n + 1;
  *cost = evals * SlimFitEvalCost(fit, &prob, lt);
  PetscFunctionReturn(0);
}

/* Every fit dataset, created collectively at its final size (output.h); on resume checked. */
static PetscErrorCode DefineTables(SlimTaskKind k)
{
  SlimHarness                  h  = k->h;
  SlimFit                      fit = h->sw->fit;
  FitKind                     *fk = (FitKind *)k->data;
  const SlimRecordTable *const ft[] = {&FitTable}, *const st[] = {&SummaryTable};
  char                        *sig;

  PetscFunctionBeginUser;
  if (!k->n) PetscFunctionReturn(0);
  PetscCall(SlimFitGetSignature(fit, &sig));
  if (fk->K) {
    PetscCall(SlimRecordDefine(h->out, "fits", 1, ft, fk->widths, k->n * fk->K));
    PetscCall(SlimOutputSetAttrString(h->out, "fits", "settings", sig));
  }
  PetscCall(SlimRecordDefine(h->out, "fit_summary", 1, st, fk->widths, k->n));
  PetscCall(SlimOutputSetAttrString(h->out, "fit_summary", "settings", sig));
  PetscCall(PetscFree(sig));
  if (fk->obs)
    for (PetscInt row = 0; row < k->n; row++) PetscCall(SlimFitObsDefine(h, row, row / fk->nconf, row % fk->nconf));
  if (!fk->K || !fit->store_path) PetscFunctionReturn(0);
  for (PetscInt row = 0; row < k->n; row++) {
    SlimFamily fam     = h->sw->fam[h->sw->points[row / fk->nconf].family];
    PetscInt   dims[3] = {fk->K, fit->max_it + 1, fam->nparam + 1};
    char       desc[256], names[160], path[64];
    PetscCall(SlimJoinNames(fam->nparam, fam->pname, NULL, names, sizeof(names)));
    PetscCall(PetscSNPrintf(desc, sizeof(desc), "[guess, iteration, column]: columns %s, loss after each iteration (row 0: the guess); NaN after the fit ended", names));
    PetscCall(PetscSNPrintf(path, sizeof(path), "fit_paths/%" PetscInt_FMT, row));
    PetscCall(SlimOutputDefineArray(h->out, path, 3, dims, NULL, desc));
  }
  PetscFunctionReturn(0);
}

/* The definition columns of a /fit_summary row. */
static PetscErrorCode SummaryDefinition(SlimTaskKind k, PetscInt row, SummaryRow *s)
{
  SlimSweep     sw  = k->h->sw;
  SlimFit       fit = sw->fit;
  FitKind      *fk  = (FitKind *)k->data;
  SlimPoint    *pt  = &sw->points[row / fk->nconf];
  SlimFamily    fam = sw->fam[pt->family];
  SlimLossType  lt;
  SlimFitMethod mt;
  PetscInt      nf, idx[SLIM_MAX_PARAM];

  PetscFunctionBeginUser;
  SlimRecordFill(&SummaryTable, fk->widths, s);
  PetscCall(SlimFitGetConfig(fit, row % fk->nconf, &lt, &mt));
  s->point = row / fk->nconf, s->config = row % fk->nconf, s->sigma = pt->sigma;
  s->family = fam->name, s->loss = SlimLossTypes[lt], s->method = SlimFitMethods[mt];
  s->tao_type = mt == SLIM_FIT_TAO ? fit->tao_type : "";
  PetscCall(SlimJoinNames(fam->nparam, fam->pname, NULL, s->param_names, sizeof(s->param_names)));
  PetscCall(SlimJoinNames(fam->nratio, fam->rname, NULL, s->ratio_names, sizeof(s->ratio_names)));
  PetscCall(SlimFitGetFitted(fit, fam, &nf, idx));
  PetscCall(SlimJoinNames(nf, fam->pname, idx, s->fitted, sizeof(s->fitted)));
  PetscFunctionReturn(0);
}

/* Definition columns of /fit_summary and /fits, known before any work (rank 0). */
static PetscErrorCode WriteDefinitions(SlimTaskKind k)
{
  SlimOutput     out = k->h->out;
  FitKind       *fk  = (FitKind *)k->data;
  SummaryRow    *s;
  FitRow        *f;
  PetscInt      *rows, n = k->n * fk->K;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  if (!k->n) PetscFunctionReturn(0);
  PetscCall(PetscMalloc3(k->n, &s, n, &f, PetscMax(k->n, n), &rows));
  for (PetscInt row = 0; row < k->n; row++) {
    PetscCall(SummaryDefinition(k, row, &s[row]));
    for (PetscInt g = 0; g < fk->K; g++) f[row * fk->K + g] = (FitRow){.point = s[row].point, .config = s[row].config, .guess = g};
  }
  for (PetscInt i = 0; i < PetscMax(k->n, n); i++) rows[i] = i;
  ierr = SlimRecordWrite(out, "fit_summary", &SummaryTable, fk->widths, 0, SUMMARY_NDEF, k->n, rows, s);
  if (!ierr && n) ierr = SlimRecordWrite(out, "fits", &FitTable, fk->widths, 0, FIT_NDEF, n, rows, f);
  PetscCall(PetscFree3(s, f, rows));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

static PetscErrorCode TaskStatus(SlimTaskKind k, PetscInt status[])
{
  PetscInt64 *st;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(k->n, &st));
  PetscCall(SlimOutputReadColumn(k->h->out, "fit_summary", "status", st));
  for (PetscInt i = 0; i < k->n; i++) status[i] = (PetscInt)PetscMin(st[i], 1);
  PetscCall(PetscFree(st));
  PetscFunctionReturn(0);
}

/* What one fit task computes. */
typedef struct {
  SlimFitProblem      prob;
  SlimFitResult      *res;
  SlimFitUncertainty *unc;
  SlimFitObs          obs;
  PetscReal     *path, *sx, *sl, *slc;
  PetscReal      rms, rel, loss_true;
  PetscInt       nobs;
  const char    *error; /* the caught error's message, NULL if none */
  PetscReal      wall;
} FitWork;

/* The data, the loss at the truth (the floor the noise puts under every fit), the K fits and
 * the noise slice; every object created here is destroyed here, also when a call fails. */
static PetscErrorCode Compute(SlimTaskKind k, PetscInt row, FitWork *w, SlimCatch *c, PetscErrorCode *ierr)
{
  SlimFit      fit = k->h->sw->fit;
  FitKind     *fk  = (FitKind *)k->data;
  SlimLossType lt;
  SlimFitData  data = NULL;
  SlimFitEval  ev;

  PetscFunctionBeginUser;
  PetscCall(SlimFitGetConfig(fit, row % fk->nconf, &lt, NULL));
  PetscCall(PetscLogStagePush(k->stage));
  SlimCatchBegin(c);
  *ierr = SlimFitCreateData(fit, &w->prob, lt, &data);
  if (!*ierr) *ierr = SlimFitDataGetSize(data, &w->nobs);
  if (!*ierr) *ierr = SlimFitEvaluateSets(fit, &w->prob, data, 1, w->prob.fam->theta, &w->loss_true, NULL, &ev);
  if (!*ierr && fk->K) *ierr = SlimFitRun(fit, &w->prob, row % fk->nconf, data, w->res, w->path);
  /* noise std estimated from the residual (sigma 0): the acceleration residual carries the noise
   * of q and qdot too, and measured data have no stated sigma */
  for (PetscInt g = 0; g < fk->K && !*ierr; g++) *ierr = SlimFitGetUncertainty(fit, &w->prob, data, &w->res[g], 0, &w->unc[g]);
  if (!*ierr && fk->obs) *ierr = SlimFitObsCompute(fit, &w->prob, data, fk->K, w->res, &w->obs);
  if (!*ierr && fit->slice_n) *ierr = SlimFitSlice(fit, &w->prob, data, w->sx, w->sl, w->slc, &w->rms, &w->rel);
  SlimCatchEnd(c);
  PetscCall(PetscLogStagePop());
  PetscCall(SlimFitDataDestroy(&data));
  PetscFunctionReturn(0);
}

static void Pad(PetscInt n, const PetscReal x[], PetscReal out[])
{
  for (PetscInt i = 0; i < n; i++) out[i] = x[i];
}

/* The K rows of /fits and the task's fit path. */
static PetscErrorCode WriteFits(SlimTaskKind k, PetscInt row, const FitWork *w)
{
  SlimFit          fit = k->h->sw->fit;
  FitKind         *fk  = (FitKind *)k->data;
  const SlimFamily fam = w->prob.fam;
  FitRow          *f;
  PetscInt        *rows;
  PetscErrorCode   ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(fk->K, &f, fk->K, &rows));
  for (PetscInt g = 0; g < fk->K; g++) {
    const SlimFitResult *r = &w->res[g];
    SlimFitErrors        e;
    rows[g] = row * fk->K + g;
    SlimRecordFill(&FitTable, fk->widths, &f[g]);
    PetscCall(SlimFitGetErrors(fit, &w->prob, r, &e));
    Pad(fam->nparam, r->theta0, f[g].theta_init), Pad(fam->nparam, r->theta, f[g].theta_final), Pad(fam->nparam, e.perr, f[g].param_err);
    Pad(fam->nratio, e.ratio, f[g].ratio_final), Pad(fam->nratio, e.rerr, f[g].ratio_err);
    f[g].recovered = e.recovered, f[g].loss_init = r->loss0, f[g].loss_final = r->loss, f[g].grad_norm = r->gnorm;
    f[g].iterations = r->its, f[g].evaluations = r->nevals, f[g].restarts = r->restarts, f[g].fit_wall = r->wall, f[g].rank = k->h->rank, f[g].status = r->status;
    Pad(fam->nparam, w->unc[g].std, f[g].param_std), Pad(fam->nratio, w->unc[g].rstd, f[g].ratio_std);
    f[g].consistent = fit->obs || r->status == SLIM_FIT_DIVERGED ? -1 : (PetscInt)w->unc[g].consistent;
    f[g].z_max = w->unc[g].zmax, f[g].sigma_est = w->unc[g].sigma, f[g].gn_rank = w->unc[g].rank;
    PetscCall(PetscStrncpy(f[g].reason, r->reason, sizeof(f[g].reason)));
  }
  ierr = SlimRecordWrite(k->h->out, "fits", &FitTable, fk->widths, FIT_NDEF, -1, fk->K, rows, f);
  PetscCall(PetscFree2(f, rows)); /* also after a failed write: the harness goes on */
  PetscCall(ierr);
  if (fk->obs) PetscCall(SlimFitObsWrite(k->h->out, row, &w->obs));
  if (w->path) {
    char p[64];
    PetscCall(PetscSNPrintf(p, sizeof(p), "fit_paths/%" PetscInt_FMT, row));
    PetscCall(SlimOutputWriteArray(k->h->out, p, w->path));
  }
  PetscFunctionReturn(0);
}

/* The task's /fit_summary row: statistics and slice, or the error; status last. */
static PetscErrorCode WriteSummary(SlimTaskKind k, PetscInt row, const FitWork *w, const char error[], PetscReal wall)
{
  SlimFit          fit = k->h->sw->fit;
  FitKind         *fk  = (FitKind *)k->data;
  const SlimFamily fam = w->prob.fam;
  SummaryRow       s;
  SlimFitSummary   sum;

  PetscFunctionBeginUser;
  SlimRecordFill(&SummaryTable, fk->widths, &s);
  if (!error) {
    PetscCall(SlimFitSummarize(fit, &w->prob, fk->K, w->res, &sum));
    s.n_obs = w->nobs, s.loss_true = w->loss_true, s.n_fits = fk->K;
    Pad(fam->nparam, sum.truth, s.theta_true), Pad(fam->nratio, sum.rtruth, s.ratio_true);
    s.n_converged = sum.nconv, s.n_max_it = sum.nmaxit, s.n_diverged = sum.ndiv, s.n_recovered = sum.nrecovered;
    s.frac_converged = sum.frac_conv, s.frac_recovered = sum.frac_recovered;
    if (!fit->obs) {
      s.n_consistent = 0;
      for (PetscInt g = 0; g < fk->K; g++) s.n_consistent += w->res[g].status != SLIM_FIT_DIVERGED && w->unc[g].consistent;
      s.frac_consistent = fk->K > sum.ndiv ? (PetscReal)s.n_consistent / (fk->K - sum.ndiv) : NAN;
    }
    if (fk->K) {
      PetscInt b = SlimFitBest(fk->K, w->res);
      s.best_fit = b >= 0 ? row * fk->K + b : -1;
    }
    Pad(fam->nparam, sum.perr_med, s.perr_med), Pad(fam->nparam, sum.perr_iqr, s.perr_iqr);
    Pad(fam->nratio, sum.ratio_med, s.ratio_med), Pad(fam->nratio, sum.ratio_iqr, s.ratio_iqr);
    Pad(fam->nratio, sum.rerr_med, s.rerr_med), Pad(fam->nratio, sum.rerr_iqr, s.rerr_iqr);
    s.loss_med = sum.loss_med, s.loss_iqr = sum.loss_iqr, s.loss_min = sum.loss_min, s.its_med = sum.its_med;
    if (fit->slice_n) {
      PetscInt j;
      PetscCall(SlimFitSliceParam(fit, fam, &j));
      s.slice_param = fam->pname[j], s.slice_values = w->sx, s.slice_loss = w->sl, s.slice_loss_clean = w->slc;
      s.slice_rms = w->rms, s.slice_rel = w->rel;
    }
  } else PetscCall(PetscStrncpy(s.error, error, sizeof(s.error)));
  s.fit_wall = wall, s.rank = k->h->rank, s.status = error ? 1 : 0;
  PetscCall(SlimRecordWrite(k->h->out, "fit_summary", &SummaryTable, fk->widths, SUMMARY_NDEF, -1, 1, &row, &s));
  PetscFunctionReturn(0);
}

/* The /fits rows first and the /fit_summary status last, so a row with a status is complete. */
static PetscErrorCode Write(SlimTaskKind k, PetscInt row, void *ctx)
{
  FitWork *w = (FitWork *)ctx;

  PetscFunctionBeginUser;
  if (!w->error && ((FitKind *)k->data)->K) PetscCall(WriteFits(k, row, w));
  PetscCall(WriteSummary(k, row, w, w->error, w->wall));
  PetscFunctionReturn(0);
}

/* A PETSc error (e.g. the truth cannot be integrated) fails this task only. */
static PetscErrorCode Run(SlimTaskKind k, PetscInt row, SlimTaskFailure *fail)
{
  SlimFit        fit = k->h->sw->fit;
  FitKind       *fk  = (FitKind *)k->data;
  const PetscInt ns  = PetscMax(fit->slice_n, 1);
  FitWork        w   = {.rms = NAN, .rel = NAN, .loss_true = NAN};
  SlimCatch      c;
  PetscErrorCode ierr = 0;
  PetscLogDouble t0, t1;

  PetscFunctionBeginUser;
  PetscCall(PetscTime(&t0));
  PetscCall(SlimHarnessFitProblem(k->h, row / fk->nconf, &w.prob));
  PetscCall(PetscCalloc2(PetscMax(fk->K, 1), &w.res, PetscMax(fk->K, 1), &w.unc));
  PetscCall(PetscMalloc3(ns, &w.sx, ns, &w.sl, ns, &w.slc));
  if (fk->K && fit->store_path) PetscCall(PetscMalloc1(fk->K * (fit->max_it + 1) * (w.prob.fam->nparam + 1), &w.path));
  PetscCall(Compute(k, row, &w, &c, &ierr));
  PetscCall(PetscTime(&t1));
  PetscCall(SlimTaskCaught(k, ierr, &c, fail, "fit task %" PetscInt_FMT " (point %" PetscInt_FMT ", config %" PetscInt_FMT ")", k->first + row, row / fk->nconf, row % fk->nconf));
  w.error = ierr ? c.msg : NULL, w.wall = t1 - t0;
  /* an abandoned task writes nothing: a resume recomputes it */
  if (!SlimTaskAbandoned(fail)) PetscCall(SlimTaskWrite(k, Write, row, &w));
  PetscCall(PetscFree(w.path));
  PetscCall(PetscFree3(w.sx, w.sl, w.slc));
  PetscCall(PetscFree2(w.res, w.unc));
  PetscCall(SlimFitObsReset(&w.obs));
  PetscFunctionReturn(0);
}

static PetscErrorCode Describe(SlimTaskKind k, PetscInt row, char extra[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(extra, len, ", config %" PetscInt_FMT, row % ((FitKind *)k->data)->nconf));
  PetscFunctionReturn(0);
}

static PetscErrorCode Plan(SlimTaskKind k, char buf[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(buf, len, "%" PetscInt_FMT " fit tasks (%" PetscInt_FMT " fits)", k->n, k->n * ((FitKind *)k->data)->K));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimTaskKindCreate_Fit(SlimTaskKind k)
{
  PetscFunctionBeginUser;
  PetscCall(SlimTaskKindSetStage(k, "Fits"));
  k->ops = (SlimTaskOps){Count, Cost, Point, DefineTables, WriteDefinitions, TaskStatus, Run, NULL, Describe, Plan, SlimTaskKindDestroyData};
  k->ref = "row of /fit_summary (point * configurations + configuration)";
  PetscCall(PetscNew((FitKind **)&k->data));
  PetscFunctionReturn(0);
}
