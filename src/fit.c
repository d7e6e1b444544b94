/* SlimFit: options, observations, initial guesses and the optimisers (include/slim/fit.h).
 * Errors, summaries and uncertainties are in fitstats.c; noise slice and landscape in fitland.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <petsctao.h>
#include <petsctime.h>
#include <slim/fit.h>
#include <slim/output.h>
#include <slim/private/fitimpl.h>

const char *const SlimFitMethods[]     = {"gd", "tao", "SlimFitMethod", "SLIM_FIT_", NULL};
const char *const SlimFitBoxModes[]    = {"relative", "absolute", "SlimFitBoxMode", "SLIM_FIT_BOX_", NULL};
const char *const SlimFitScales[]      = {"none", "reference", "SlimFitScale", "SLIM_FIT_SCALE_", NULL};
const char *const SlimFitStatusNames[] = {"converged", "max-iterations", "diverged"};

PetscErrorCode SlimFitCreate(SlimFit *fit)
{
  SlimFit f;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&f));
  f->guesses    = 0;
  f->nloss      = 1;
  f->loss[0]    = SLIM_LOSS_TRAJECTORY;
  f->nmethod    = 1;
  f->method[0]  = SLIM_FIT_GD;
  f->box_mode   = SLIM_FIT_BOX_RELATIVE;
  f->box        = 0.5;
  f->scale      = SLIM_FIT_SCALE_NONE;
  f->eps0       = 0.05;
  f->tol        = 1e-9;
  f->explode    = 1e3;
  f->recover_tol = 1e-4;
  f->max_it     = 2000;
  f->backtrack  = PETSC_TRUE;
  f->nhorizon   = 1;
  f->horizon[0] = 1;
  f->restarts   = 3;
  f->obs_stride = 1;
  f->grid       = 16;
  f->solver     = SLIM_SOLVER_DENSE;
  f->slice_n    = 0;
  f->slice_box  = 0.5;
  f->land_n     = 64;
  f->land_rows  = 8;
  f->land_box   = 0.5;
  PetscCall(PetscStrncpy(f->tao_type, TAOLMVM, sizeof(f->tao_type)));
  PetscCall(PetscStrncpy(f->restart_ls, TAOLINESEARCHARMIJO, sizeof(f->restart_ls)));
  PetscCall(PetscStrncpy(f->slice_param, "auto", sizeof(f->slice_param)));
  *fit = f;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitDestroy(SlimFit *fit)
{
  PetscFunctionBeginUser;
  if (!*fit) PetscFunctionReturn(0);
  PetscCall(PetscFree((*fit)->obs));
  PetscCall(PetscFree(*fit));
  PetscFunctionReturn(0);
}

/* Index of an enum value named by a list item; error naming the option otherwise. */
static PetscErrorCode ParseEnum(const char opt[], const char item[], const char *const names[], PetscInt n, PetscInt *v)
{
  char known[256] = "";

  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < n; k++) {
    PetscBool eq;
    PetscCall(PetscStrcasecmp(item, names[k], &eq));
    if (eq) {
      *v = k;
      PetscFunctionReturn(0);
    }
    if (k) PetscCall(PetscStrlcat(known, ", ", sizeof(known)));
    PetscCall(PetscStrlcat(known, names[k], sizeof(known)));
  }
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_UNKNOWN_TYPE, "%s: unknown value '%s' (known: %s)", opt, item, known);
}

/* A parameter named by `opt` must exist in every family of the sweep. */
static PetscErrorCode CheckParamName(const char opt[], const char name[], PetscInt nfam, const SlimFamily fam[])
{
  PetscFunctionBeginUser;
  for (PetscInt f = 0; f < nfam; f++) {
    PetscBool found = PETSC_FALSE;
    char      known[256] = "";
    for (PetscInt j = 0; j < fam[f]->nparam; j++) {
      PetscBool eq;
      PetscCall(PetscStrcmp(fam[f]->pname[j], name, &eq));
      found = (PetscBool)(found || eq);
      if (j) PetscCall(PetscStrlcat(known, ", ", sizeof(known)));
      PetscCall(PetscStrlcat(known, fam[f]->pname[j], sizeof(known)));
    }
    PetscCheck(found, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: family '%s' has no parameter '%s' (parameters: %s)", opt, fam[f]->name, name, known);
  }
  PetscFunctionReturn(0);
}

/* Creates a TAO solver as every fit does: prefix fit_, so -fit_tao_type and every -fit_tao_*
 * option reach it. */
PetscErrorCode SlimFitTaoCreate(SlimFit fit, Tao *tao)
{
  PetscFunctionBeginUser;
  PetscCall(TaoCreate(PETSC_COMM_SELF, tao));
  PetscCall(TaoSetOptionsPrefix(*tao, "fit_"));
  PetscCall(TaoSetType(*tao, fit->tao_type));
  PetscCall(TaoSetMaximumIterations(*tao, fit->max_it));
  PetscFunctionReturn(0);
}

/* -fit_guesses, -fit_loss, -fit_method, -fit_params: what is fitted, how often, how. */
static PetscErrorCode FitOptions_Configs(PetscOptionItems *PetscOptionsObject, SlimFit fit)
{
  char     items[SLIM_LIST_MAX][64];
  PetscInt n, v = 0;

  PetscFunctionBeginUser;
  PetscCall(SlimOptionsInt("-fit_guesses", "Fits per point and configuration, from random initial guesses (0: no fits)", NULL, fit->guesses, &fit->guesses, NULL));
  PetscCall(SlimOptionsStringList(PetscOptionsObject, "-fit_loss", "Losses, comma separated: trajectory (student paper eq. 28) and/or acceleration (weekly report eq. 1)", "trajectory", 2, 64, items, &n, NULL));
  fit->nloss = n;
  for (PetscInt i = 0; i < n; i++) {
    PetscCall(ParseEnum("-fit_loss", items[i], SlimLossTypes, 2, &v));
    fit->loss[i] = (SlimLossType)v;
  }
  PetscCall(SlimOptionsStringList(PetscOptionsObject, "-fit_method", "Optimisers, comma separated: gd (damped gradient descent of the weekly report) and/or tao (-fit_tao_type)", "gd", 2, 64, items, &n, NULL));
  fit->nmethod = n;
  for (PetscInt i = 0; i < n; i++) {
    PetscCall(ParseEnum("-fit_method", items[i], SlimFitMethods, 2, &v));
    fit->method[i] = (SlimFitMethod)v;
  }
  PetscCall(SlimOptionsStringList(PetscOptionsObject, "-fit_params", "Fitted parameters, comma separated (all: every parameter of the family); the rest stay at the truth", "all", SLIM_MAX_PARAM, 64, items, &n, NULL));
  fit->nparams = 0;
  if (!(n == 1 && !strcmp(items[0], "all"))) {
    for (PetscInt i = 0; i < n; i++) PetscCall(PetscStrncpy(fit->params[i], items[i], sizeof(fit->params[i])));
    fit->nparams = n;
  }
  PetscFunctionReturn(0);
}

/* -fit_box*: the box the initial guesses are drawn from. */
static PetscErrorCode FitOptions_Guesses(PetscOptionItems *PetscOptionsObject, SlimFit fit, PetscInt nfam, const SlimFamily fam[])
{
  PetscInt  n, v;
  PetscBool bset[2];
  PetscReal vals[SLIM_LIST_MAX];

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsEnum("-fit_box_mode", "Initial guesses: relative (truth x (1 + box u), u uniform in [-1, 1]) or absolute (uniform in [-fit_box_lower, -fit_box_upper])", NULL, SlimFitBoxModes, (PetscEnum)fit->box_mode, (PetscEnum *)&fit->box_mode, NULL));
  PetscCall(SlimOptionsReal("-fit_box", "Relative half-width of the box of initial guesses around the truth", NULL, fit->box, &fit->box, NULL));
  PetscCall(SlimOptionsRealList(PetscOptionsObject, "-fit_box_lower", "Absolute box: lower bounds, one per fitted parameter", "0", SLIM_MAX_PARAM, vals, &n, &bset[0]));
  for (PetscInt i = 0; i < n; i++) fit->box_lo[i] = vals[i];
  PetscCall(SlimOptionsRealList(PetscOptionsObject, "-fit_box_upper", "Absolute box: upper bounds, one per fitted parameter", "0", SLIM_MAX_PARAM, vals, &v, &bset[1]));
  for (PetscInt i = 0; i < v; i++) fit->box_hi[i] = vals[i];
  if (fit->box_mode == SLIM_FIT_BOX_ABSOLUTE) {
    PetscInt nf = fit->nparams ? fit->nparams : -1;
    PetscCheck(bset[0] && bset[1], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-fit_box_mode absolute needs -fit_box_lower and -fit_box_upper");
    PetscCheck(n == v, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "-fit_box_lower and -fit_box_upper: %" PetscInt_FMT " and %" PetscInt_FMT " values", n, v);
    for (PetscInt f = 0; f < nfam && nf < 0; f++) nf = fam[f]->nparam;
    for (PetscInt f = 0; f < nfam && !fit->nparams; f++) PetscCheck(fam[f]->nparam == n, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "-fit_box_lower: %" PetscInt_FMT " values, family '%s' fits %" PetscInt_FMT " parameters", n, fam[f]->name, fam[f]->nparam);
    PetscCheck(!fit->nparams || n == fit->nparams, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "-fit_box_lower: %" PetscInt_FMT " values for %" PetscInt_FMT " fitted parameters (-fit_params)", n, fit->nparams);
    for (PetscInt i = 0; i < n; i++) PetscCheck(fit->box_lo[i] <= fit->box_hi[i], PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_box_lower: value %g exceeds the upper bound %g", (double)fit->box_lo[i], (double)fit->box_hi[i]);
  }
  PetscFunctionReturn(0);
}

/* -fit_scale, -fit_eps0, -fit_max_it, -fit_tol, ...: the descent and when a fit ends. */
static PetscErrorCode FitOptions_Descent(PetscOptionItems *PetscOptionsObject, SlimFit fit)
{
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsEnum("-fit_scale", "Coordinates of the optimisers: none (raw parameters, as the weekly report) or reference (parameters divided by |truth|)", NULL, SlimFitScales, (PetscEnum)fit->scale, (PetscEnum *)&fit->scale, NULL));
  PetscCall(SlimOptionsReal("-fit_eps0", "gd: base step eps0 of the damped step eps = eps0 exp(-(eps0 |grad|)^3)", NULL, fit->eps0, &fit->eps0, NULL));
  PetscCall(SlimOptionsInt("-fit_max_it", "Iterations (loss evaluations for gd, TAO iterations for tao) per fit", NULL, fit->max_it, &fit->max_it, NULL));
  PetscCall(SlimOptionsReal("-fit_tol", "Converged when a step (gd: s eps |grad|; tao: the change of the iterate) is below tol times the parameters' max norm", NULL, fit->tol, &fit->tol, NULL));
  PetscCall(PetscOptionsBool("-fit_gd_backtrack", "gd: halve the step after a trial that does not lower the loss (0: the report's plain descent)", NULL, fit->backtrack, &fit->backtrack, NULL));
  PetscCall(SlimOptionsReal("-fit_explode", "A fit diverges when a parameter exceeds this factor times max(|truth|, |initial guess|)", NULL, fit->explode, &fit->explode, NULL));
  PetscCall(SlimOptionsReal("-fit_recover_tol", "A converged fit 'recovered' the truth when every identifiable ratio is within this relative error", NULL, fit->recover_tol, &fit->recover_tol, NULL));
  PetscFunctionReturn(0);
}

/* -fit_horizons, -fit_restarts, -fit_restart_ls: the two robustness mechanisms (fit.h). */
static PetscErrorCode FitOptions_Robust(PetscOptionItems *PetscOptionsObject, SlimFit fit)
{
  PetscInt  n = SLIM_FIT_MAX_HORIZON;
  PetscBool set;
  PetscReal vals[SLIM_LIST_MAX];

  PetscFunctionBeginUser;
  PetscCall(SlimOptionsRealList(PetscOptionsObject, "-fit_horizons", "Trajectory loss: continuation over increasing fractions of the observation window, e.g. 0.25,0.5,1 (each stage starts from the previous one's result with its own -fit_max_it; 1: none)", "1", SLIM_FIT_MAX_HORIZON, vals, &n, &set));
  if (set) {
    for (PetscInt i = 0; i < n; i++) {
      PetscCheck(vals[i] > 0 && vals[i] <= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_horizons: value %g is invalid (fractions of the observation window must be in (0, 1])", (double)vals[i]);
      PetscCheck(i == 0 || vals[i] > vals[i - 1], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-fit_horizons: value %g is invalid (fractions must increase)", (double)vals[i]);
      fit->horizon[i] = vals[i];
    }
    PetscCheck(n >= 1 && vals[n - 1] == 1, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-fit_horizons: value %g is invalid (the last stage must be the whole window, 1)", n >= 1 ? (double)vals[n - 1] : 0.0);
    fit->nhorizon = n;
  }
  PetscCall(SlimOptionsInt("-fit_restarts", "tao: restarts from the last iterate after a line-search failure (0: none)", NULL, fit->restarts, &fit->restarts, NULL));
  PetscCall(PetscOptionsString("-fit_restart_ls", "tao: line search of a restart (a TaoLineSearch type: armijo backtracks through failed evaluations)", NULL, fit->restart_ls, fit->restart_ls, sizeof(fit->restart_ls), NULL));
  PetscFunctionReturn(0);
}

/* The restart line search must be a TaoLineSearch type: an input error now, not at the first
 * restart. */
static PetscErrorCode FitValidateRestartLS(SlimFit fit)
{
  TaoLineSearch  ls;
  SlimCatch      c;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCheck(fit->restarts >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_restarts: value %" PetscInt_FMT " is invalid (must be >= 0)", fit->restarts);
  PetscCall(TaoLineSearchCreate(PETSC_COMM_SELF, &ls));
  SlimCatchBegin(&c);
  ierr = TaoLineSearchSetType(ls, fit->restart_ls);
  SlimCatchEnd(&c);
  PetscCall(TaoLineSearchDestroy(&ls));
  PetscCheck(!ierr, PETSC_COMM_SELF, PETSC_ERR_ARG_UNKNOWN_TYPE, "-fit_restart_ls: value '%s' is invalid (not a TaoLineSearch type: armijo, more-thuente, gpcg, owarmijo, unit)", fit->restart_ls);
  PetscFunctionReturn(0);
}

/* -fit_obs_*, -fit_grid*, -fit_solver: the observations. */
static PetscErrorCode FitOptions_Data(PetscOptionItems *PetscOptionsObject, SlimFit fit, PetscBool *fset, PetscBool *dset)
{
  PetscInt  n;
  PetscReal vals[2];

  PetscFunctionBeginUser;
  PetscCall(SlimOptionsInt("-fit_obs_stride", "Trajectory loss: observe (t, q, qdot) every this many steps of the point's run", NULL, fit->obs_stride, &fit->obs_stride, NULL));
  PetscCall(SlimOptionsInt("-fit_grid", "Acceleration loss: grid values per coordinate of (q, qdot) (n^(2 dof) points)", NULL, fit->grid, &fit->grid, NULL));
  PetscCall(SlimOptionsRealList(PetscOptionsObject, "-fit_grid_q", "Acceleration loss: range lo,hi of every q coordinate (default: extent of the true motion)", "0,0", 2, vals, &n, &fit->qrange_set));
  if (fit->qrange_set) {
    PetscCheck(n == 2 && vals[0] < vals[1], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-fit_grid_q: give lo,hi with lo < hi");
    fit->qrange[0] = vals[0], fit->qrange[1] = vals[1];
  }
  PetscCall(SlimOptionsRealList(PetscOptionsObject, "-fit_grid_v", "Acceleration loss: range lo,hi of every qdot coordinate (default: extent of the true motion)", "0,0", 2, vals, &n, &fit->vrange_set));
  if (fit->vrange_set) {
    PetscCheck(n == 2 && vals[0] < vals[1], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-fit_grid_v: give lo,hi with lo < hi");
    fit->vrange[0] = vals[0], fit->vrange[1] = vals[1];
  }
  PetscCall(PetscOptionsEnum("-fit_solver", "Step solver of the fits' integrations: dense (plain Newton, least overhead) or snes", NULL, SlimSolverTypes, (PetscEnum)fit->solver, (PetscEnum *)&fit->solver, NULL));
  PetscCall(PetscOptionsString("-fit_obs_file", "Fit measured observations from this HDF5 file instead of synthetic data", NULL, fit->obs_file, fit->obs_file, sizeof(fit->obs_file), fset));
  PetscCall(PetscOptionsString("-fit_obs_dataset", "Dataset of -fit_obs_file: rows t,q...,qdot... (trajectory) or q...,qdot...,qddot... (acceleration)", NULL, fit->obs_dataset, fit->obs_dataset, sizeof(fit->obs_dataset), dset));
  PetscFunctionReturn(0);
}

/* -fit_store_path, -fit_slice_*, -landscape_*: extra outputs. */
static PetscErrorCode FitOptions_Outputs(PetscOptionItems *PetscOptionsObject, SlimFit fit)
{
  char      items[SLIM_LIST_MAX][64], sval[PETSC_MAX_PATH_LEN];
  PetscInt  n;
  PetscBool set;
  PetscReal vals[4];

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsBool("-fit_store_path", "Store every fit's parameters and loss after each iteration (/fit_paths)", NULL, fit->store_path, &fit->store_path, NULL));
  PetscCall(PetscOptionsString("-fit_slice_param", "Noise slice: parameter varied (auto: the first one that is not the mass m)", NULL, "auto", sval, sizeof(sval), &set));
  if (!set) PetscCall(PetscStrcpy(sval, "auto"));
  PetscCall(PetscStrncpy(fit->slice_param, sval, sizeof(fit->slice_param)));
  PetscCall(SlimOptionsInt("-fit_slice_n", "Noise slice: points along the slice through the truth (0: no slice)", NULL, fit->slice_n, &fit->slice_n, NULL));
  PetscCall(SlimOptionsReal("-fit_slice_box", "Noise slice: relative half-width around the true value", NULL, fit->slice_box, &fit->slice_box, NULL));
  PetscCall(SlimOptionsStringList(PetscOptionsObject, "-landscape_params", "Loss landscape over two parameters p0,p1 (none: no landscape)", "none", 2, 64, items, &n, &set));
  fit->landscape = PETSC_FALSE;
  if (set && !(n == 1 && !strcmp(items[0], "none"))) {
    PetscCheck(n == 2, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-landscape_params: give two parameter names p0,p1");
    PetscCheck(strcmp(items[0], items[1]), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-landscape_params: '%s' twice", items[0]);
    for (PetscInt i = 0; i < 2; i++) PetscCall(PetscStrncpy(fit->land_params[i], items[i], sizeof(fit->land_params[i])));
    fit->landscape = PETSC_TRUE;
  }
  PetscCall(SlimOptionsInt("-landscape_n", "Loss landscape: grid values per parameter", NULL, fit->land_n, &fit->land_n, NULL));
  PetscCall(SlimOptionsReal("-landscape_box", "Loss landscape: relative half-width around the truth (unless -landscape_bounds)", NULL, fit->land_box, &fit->land_box, NULL));
  PetscCall(SlimOptionsRealList(PetscOptionsObject, "-landscape_bounds", "Loss landscape: absolute ranges p0_lo,p0_hi,p1_lo,p1_hi", "0,0,0,0", 4, vals, &n, &fit->land_bounds_set));
  if (fit->land_bounds_set) {
    PetscCheck(n == 4 && vals[0] < vals[1] && vals[2] < vals[3], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-landscape_bounds: give p0_lo,p0_hi,p1_lo,p1_hi with lo < hi");
    for (PetscInt i = 0; i < 4; i++) fit->land_bounds[i] = vals[i];
  }
  PetscCall(SlimOptionsInt("-landscape_rows_per_task", "Loss landscape: grid rows per harness task (one ensemble run each)", NULL, fit->land_rows, &fit->land_rows, NULL));
  PetscFunctionReturn(0);
}

/* Validation of the values read: one line naming the option. */
static PetscErrorCode FitValidate(SlimFit fit, PetscInt nfam, const SlimFamily fam[])
{
  PetscFunctionBeginUser;
  PetscCheck(fit->guesses >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_guesses: value %" PetscInt_FMT " is invalid (must be >= 0)", fit->guesses);
  PetscCheck(fit->nloss < 2 || fit->loss[0] != fit->loss[1], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-fit_loss: '%s' is listed twice", SlimLossTypes[fit->loss[0]]);
  PetscCheck(fit->nmethod < 2 || fit->method[0] != fit->method[1], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-fit_method: '%s' is listed twice", SlimFitMethods[fit->method[0]]);
  for (PetscInt i = 0; i < fit->nparams; i++) {
    PetscCall(CheckParamName("-fit_params", fit->params[i], nfam, fam));
    for (PetscInt k = 0; k < i; k++) PetscCheck(strcmp(fit->params[i], fit->params[k]), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-fit_params: '%s' is listed twice", fit->params[i]);
  }
  PetscCheck(fit->box >= 0 && fit->box < 1e6, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_box: value %g is invalid (must be >= 0)", (double)fit->box);
  PetscCheck(fit->eps0 > 0 && isfinite(fit->eps0), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_eps0: value %g is invalid (must be > 0)", (double)fit->eps0);
  PetscCheck(fit->max_it >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_max_it: value %" PetscInt_FMT " is invalid (must be >= 1)", fit->max_it);
  PetscCheck(fit->tol >= 0 && fit->tol < 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_tol: value %g is invalid (must be in [0, 1))", (double)fit->tol);
  PetscCheck(fit->explode > 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_explode: value %g is invalid (must be > 1)", (double)fit->explode);
  PetscCheck(fit->recover_tol > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_recover_tol: value %g is invalid (must be > 0)", (double)fit->recover_tol);
  PetscCheck(fit->obs_stride >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_obs_stride: value %" PetscInt_FMT " is invalid (must be >= 1)", fit->obs_stride);
  PetscCheck(fit->grid >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_grid: value %" PetscInt_FMT " is invalid (must be >= 1)", fit->grid);
  PetscCheck(fit->slice_n >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_slice_n: value %" PetscInt_FMT " is invalid (must be >= 0)", fit->slice_n);
  PetscCheck(fit->slice_box > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_slice_box: value %g is invalid (must be > 0)", (double)fit->slice_box);
  if (fit->slice_n) {
    PetscInt j;
    for (PetscInt f = 0; f < nfam; f++) PetscCall(SlimFitSliceParam(fit, fam[f], &j));
  }
  PetscCheck(fit->land_n >= 2, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-landscape_n: value %" PetscInt_FMT " is invalid (must be >= 2)", fit->land_n);
  /* n^2 grid points are rows of one table: they must be countable */
  PetscCheck(fit->land_n <= 46340, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-landscape_n: value %" PetscInt_FMT " is invalid (n^2 landscape points must be at most 2^31 - 1: n <= 46340)", fit->land_n);
  for (PetscInt l = 0; l < fit->nloss; l++)
    for (PetscInt f = 0; f < nfam && fit->loss[l] == SLIM_LOSS_ACCELERATION; f++) {
      PetscReal ntot = PetscPowReal((PetscReal)fit->grid, 2 * fam[f]->dof);
      PetscCheck(ntot <= SLIM_FIT_GRID_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-fit_grid: value %" PetscInt_FMT " is invalid for family '%s': %" PetscInt_FMT "^%" PetscInt_FMT " = %g acceleration grid points (limit 2^20)", fit->grid, fam[f]->name, fit->grid, 2 * fam[f]->dof, (double)ntot);
    }
  PetscCheck(fit->land_rows >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-landscape_rows_per_task: value %" PetscInt_FMT " is invalid (must be >= 1)", fit->land_rows);
  PetscCheck(fit->land_box > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-landscape_box: value %g is invalid (must be > 0)", (double)fit->land_box);
  if (fit->landscape)
    for (PetscInt i = 0; i < 2; i++) PetscCall(CheckParamName("-landscape_params", fit->land_params[i], nfam, fam));
  PetscFunctionReturn(0);
}

/* Measured data: every rank reads them now, so bad data are an input error that every rank sees
 * alike; they must fit every family, loss and time step of the sweep. */
static PetscErrorCode FitReadObservations(SlimFit fit, PetscBool fset, PetscBool dset, PetscInt nfam, const SlimFamily fam[], PetscInt ndt, const PetscReal dt[])
{
  PetscFunctionBeginUser;
  PetscCheck(fset == dset, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: give -fit_obs_file and -fit_obs_dataset together", fset ? "-fit_obs_file" : "-fit_obs_dataset");
  PetscCall(PetscFree(fit->obs));
  if (fset) {
    PetscCall(SlimOutputReadMatrix(fit->obs_file, fit->obs_dataset, "-fit_obs_file", &fit->obs_rows, &fit->obs_cols, &fit->obs));
    for (PetscInt f = 0; f < nfam; f++)
      for (PetscInt l = 0; l < fit->nloss; l++)
        for (PetscInt i = 0; i < ndt; i++) {
          SlimFitData d;
          PetscCall(SlimFitDataCreateFromArray(fit->loss[l], fam[f]->dof, dt[i], fit->obs_rows, fit->obs_cols, fit->obs, "-fit_obs_file", &d));
          PetscCall(SlimFitDataDestroy(&d));
        }
  }
  PetscFunctionReturn(0);
}

/* TAO reads its options (prefix fit_) here once: -help lists them, and a bad -fit_tao_type is
 * an input error now rather than a failure of every fit later. */
static PetscErrorCode FitTaoOptions(SlimFit fit)
{
  {
    Tao            tao;
    TaoType        type;
    SlimCatch      c;
    PetscErrorCode ierr;

    PetscCall(SlimFitTaoCreate(fit, &tao));
    SlimCatchBegin(&c);
    ierr = TaoSetFromOptions(tao);
    SlimCatchEnd(&c);
    if (ierr) {
      PetscCall(TaoDestroy(&tao));
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-fit_tao_*: %s", c.msg);
    }
    PetscCall(TaoGetType(tao, &type));
    PetscCall(PetscStrncpy(fit->tao_type, type, sizeof(fit->tao_type)));
    PetscCall(TaoDestroy(&tao));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitSetFromOptions(SlimFit fit, PetscInt nfam, const SlimFamily fam[], PetscInt ndt, const PetscReal dt[])
{
  PetscBool fset, dset;

  PetscFunctionBeginUser;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Coefficient fits (docs/fits.md)", NULL);
  PetscCall(FitOptions_Configs(PetscOptionsObject, fit));
  PetscCall(FitOptions_Guesses(PetscOptionsObject, fit, nfam, fam));
  PetscCall(FitOptions_Descent(PetscOptionsObject, fit));
  PetscCall(FitOptions_Robust(PetscOptionsObject, fit));
  PetscCall(FitOptions_Data(PetscOptionsObject, fit, &fset, &dset));
  PetscCall(FitOptions_Outputs(PetscOptionsObject, fit));
  PetscOptionsEnd();
  PetscCall(FitValidate(fit, nfam, fam));
  PetscCall(FitValidateRestartLS(fit));
  PetscCall(FitReadObservations(fit, fset, dset, nfam, fam, ndt, dt));
  PetscCall(FitTaoOptions(fit));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitGetSignature(SlimFit fit, char **sig)
{
  char   buf[4096], tmp[512], *all, *p;
  size_t len = sizeof(buf);

  PetscFunctionBeginUser;
  buf[0] = 0;
#define APP(...) \
  do { \
    PetscCall(PetscSNPrintf(tmp, sizeof(tmp), __VA_ARGS__)); \
    PetscCall(PetscStrlcat(buf, tmp, len)); \
  } while (0)
  APP("K=%" PetscInt_FMT " loss=", fit->guesses);
  for (PetscInt i = 0; i < fit->nloss; i++) APP("%s%s", i ? "," : "", SlimLossTypes[fit->loss[i]]);
  APP(" method=");
  for (PetscInt i = 0; i < fit->nmethod; i++) APP("%s%s", i ? "," : "", SlimFitMethods[fit->method[i]]);
  APP(" params=");
  if (!fit->nparams) APP("all");
  for (PetscInt i = 0; i < fit->nparams; i++) APP("%s%s", i ? "," : "", fit->params[i]);
  APP(" box=%s,%.17g", SlimFitBoxModes[fit->box_mode], (double)fit->box);
  if (fit->box_mode == SLIM_FIT_BOX_ABSOLUTE)
    for (PetscInt i = 0; i < SLIM_MAX_PARAM; i++) APP(",%.17g:%.17g", (double)fit->box_lo[i], (double)fit->box_hi[i]);
  APP(" scale=%s eps0=%.17g tol=%.17g max_it=%" PetscInt_FMT " backtrack=%d explode=%.17g recover=%.17g", SlimFitScales[fit->scale], (double)fit->eps0, (double)fit->tol, fit->max_it, (int)fit->backtrack, (double)fit->explode, (double)fit->recover_tol);
  if (fit->nhorizon > 1)
    for (PetscInt i = 0; i < fit->nhorizon; i++) APP("%s%.17g", i ? "," : " horizons=", (double)fit->horizon[i]);
  APP(" restarts=%" PetscInt_FMT ",%s", fit->restarts, fit->restart_ls);
  APP(" obs_stride=%" PetscInt_FMT " grid=%" PetscInt_FMT, fit->obs_stride, fit->grid);
  if (fit->qrange_set) APP(" grid_q=%.17g,%.17g", (double)fit->qrange[0], (double)fit->qrange[1]);
  if (fit->vrange_set) APP(" grid_v=%.17g,%.17g", (double)fit->vrange[0], (double)fit->vrange[1]);
  APP(" fit_solver=%s", SlimSolverTypes[fit->solver]);
  if (fit->obs) {
    /* the data themselves, not just the file name: FNV-1a over the bytes */
    unsigned long long   hsh = 1469598103934665603ULL;
    const unsigned char *b   = (const unsigned char *)fit->obs;
    for (size_t i = 0; i < (size_t)(fit->obs_rows * fit->obs_cols) * sizeof(PetscReal); i++) hsh = (hsh ^ b[i]) * 1099511628211ULL;
    APP(" obs=%s:%s[%" PetscInt_FMT "x%" PetscInt_FMT "]#%016llx", fit->obs_file, fit->obs_dataset, fit->obs_rows, fit->obs_cols, hsh);
  }
  APP(" store_path=%d", (int)fit->store_path);
  if (fit->slice_n) APP(" slice=%s,%" PetscInt_FMT ",%.17g", fit->slice_param, fit->slice_n, (double)fit->slice_box);
  if (fit->landscape) {
    APP(" landscape=%s,%s,%" PetscInt_FMT ",%" PetscInt_FMT ",%.17g", fit->land_params[0], fit->land_params[1], fit->land_n, fit->land_rows, (double)fit->land_box);
    if (fit->land_bounds_set) APP(",%.17g,%.17g,%.17g,%.17g", (double)fit->land_bounds[0], (double)fit->land_bounds[1], (double)fit->land_bounds[2], (double)fit->land_bounds[3]);
  }
  APP(" tao=%s", fit->tao_type);
  /* the TAO options change the tao fits too */
  PetscCall(PetscOptionsGetAll(NULL, &all));
  {
    PetscBool in = PETSC_FALSE; /* inside the values of a -fit_tao_ option */
    char     *save;
    for (p = strtok_r(all, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
      char *end;
      /* a token starting with '-' is an option name unless it is a (negative) number */
      if (p[0] == '-' && (strtod(p, &end), *end != 0)) in = (PetscBool)!strncmp(p, "-fit_tao_", 9);
      if (in) APP(" %s", p);
    }
  }
  PetscCall(PetscFree(all));
#undef APP
  PetscCall(PetscStrallocpy(buf, sig));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitGetConfigs(SlimFit fit, PetscInt *nconf)
{
  PetscFunctionBeginUser;
  *nconf = fit->guesses > 0 || fit->slice_n > 0 ? fit->nloss * fit->nmethod : 0;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitGetConfig(SlimFit fit, PetscInt c, SlimLossType *loss, SlimFitMethod *method)
{
  PetscFunctionBeginUser;
  PetscCheck(c >= 0 && c < fit->nloss * fit->nmethod, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "fit configuration %" PetscInt_FMT " out of range", c);
  if (loss) *loss = fit->loss[c / fit->nmethod];
  if (method) *method = fit->method[c % fit->nmethod];
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitGetFitted(SlimFit fit, SlimFamily fam, PetscInt *nf, PetscInt idx[])
{
  PetscFunctionBeginUser;
  if (!fit->nparams) {
    *nf = fam->nparam;
    for (PetscInt j = 0; j < fam->nparam; j++) idx[j] = j;
    PetscFunctionReturn(0);
  }
  *nf = fit->nparams;
  for (PetscInt i = 0; i < fit->nparams; i++) PetscCall(SlimFamilyGetParamIndex(fam, fit->params[i], &idx[i]));
  PetscFunctionReturn(0);
}

PetscReal SlimFitEvalCost(SlimFit fit, const SlimFitProblem *prob, SlimLossType loss)
{
  const PetscReal n = prob->r + 2, d = prob->fam->dof, np = prob->fam->nparam;

  /* a step with its sensitivities ~ residual + Jacobian + a dense solve with np right-hand sides */
  if (loss == SLIM_LOSS_TRAJECTORY) return prob->N * (60 * n * n * d + 2 * n * n * n * d * d * (1 + np)) + 2000;
  return PetscPowReal(fit->grid, 2 * d) * 50 * d * d * d * np;
}

PetscErrorCode SlimFitCreateData(SlimFit fit, const SlimFitProblem *prob, SlimLossType loss, SlimFitData *data)
{
  SlimFitDataSpec spec;

  PetscFunctionBeginUser;
  if (fit->obs) {
    PetscCall(SlimFitDataCreateFromArray(loss, prob->fam->dof, prob->dt, fit->obs_rows, fit->obs_cols, fit->obs, "-fit_obs_file", data));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscMemzero(&spec, sizeof(spec)));
  spec.kind       = loss;
  spec.r          = prob->r;
  spec.N          = prob->N;
  spec.dt         = prob->dt;
  spec.sigma      = prob->sigma;
  spec.seed       = prob->seed;
  spec.stride     = fit->obs_stride;
  spec.grid       = fit->grid;
  spec.solver     = fit->solver;
  spec.qrange_set = fit->qrange_set;
  spec.vrange_set = fit->vrange_set;
  for (PetscInt i = 0; i < 2; i++) spec.qrange[i] = fit->qrange[i], spec.vrange[i] = fit->vrange[i];
  PetscCall(SlimFitDataCreateSynthetic(prob->fam, prob->fam->theta, &spec, data));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitGuesses(SlimFit fit, const SlimFitProblem *prob, PetscReal theta0[])
{
  SlimFamily  fam = prob->fam;
  PetscInt    nf, idx[SLIM_MAX_PARAM];
  PetscRandom rnd;

  PetscFunctionBeginUser;
  PetscCall(SlimFitGetFitted(fit, fam, &nf, idx));
  PetscCall(PetscRandomCreate(PETSC_COMM_SELF, &rnd));
  PetscCall(PetscRandomSetType(rnd, PETSCRANDER48));
  /* a stream of its own (the noise uses the point's seed itself): same guesses for every loss,
   * method and sigma of a point */
  PetscCall(PetscRandomSetSeed(rnd, (unsigned long)SlimSeedDerive(prob->seed, 1)));
  PetscCall(PetscRandomSeed(rnd));
  for (PetscInt k = 0; k < fit->guesses; k++) {
    PetscReal *th = theta0 + k * fam->nparam;
    PetscCall(PetscArraycpy(th, fam->theta, fam->nparam));
    for (PetscInt i = 0; i < nf; i++) {
      PetscReal u;
      PetscCall(PetscRandomGetValueReal(rnd, &u));
      if (fit->box_mode == SLIM_FIT_BOX_RELATIVE) th[idx[i]] = fam->theta[idx[i]] * (1 + fit->box * (2 * u - 1));
      else th[idx[i]] = fit->box_lo[i] + (fit->box_hi[i] - fit->box_lo[i]) * u;
    }
  }
  PetscCall(PetscRandomDestroy(&rnd));
  PetscFunctionReturn(0);
}
