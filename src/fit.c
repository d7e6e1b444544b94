/* SlimFit: options, observations, initial guesses, the optimisers and per-point statistics
 * (include/slim/fit.h). Noise slice and landscape are in fitland.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <petsctao.h>
#include <petsctime.h>
#include <slim/fit.h>
#include <slim/sweep.h>
#include <petscblaslapack.h>
#include "fitimpl.h"

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
  f->obs_stride = 1;
  f->grid       = 16;
  f->solver     = SLIM_SOLVER_DENSE;
  f->slice_n    = 0;
  f->slice_box  = 0.5;
  f->land_n     = 64;
  f->land_rows  = 8;
  f->land_box   = 0.5;
  PetscCall(PetscStrncpy(f->tao_type, TAOLMVM, sizeof(f->tao_type)));
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
static PetscErrorCode TaoCreateFit(SlimFit fit, Tao *tao)
{
  PetscFunctionBeginUser;
  PetscCall(TaoCreate(PETSC_COMM_SELF, tao));
  PetscCall(TaoSetOptionsPrefix(*tao, "fit_"));
  PetscCall(TaoSetType(*tao, fit->tao_type));
  PetscCall(TaoSetMaximumIterations(*tao, fit->max_it));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitSetFromOptions(SlimFit fit, PetscInt nfam, const SlimFamily fam[], PetscInt ndt, const PetscReal dt[])
{
  char      items[SLIM_LIST_MAX][64], sval[PETSC_MAX_PATH_LEN];
  PetscInt  n, v;
  PetscBool set, bset[2], fset, dset;
  PetscReal vals[SLIM_LIST_MAX];

  PetscFunctionBeginUser;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Coefficient fits (docs/fits.md)", NULL);
  PetscCall(PetscOptionsInt("-fit_guesses", "Fits per point and configuration, from random initial guesses (0: no fits)", NULL, fit->guesses, &fit->guesses, NULL));
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
  PetscCall(PetscOptionsEnum("-fit_box_mode", "Initial guesses: relative (truth x (1 + box u), u uniform in [-1, 1]) or absolute (uniform in [-fit_box_lower, -fit_box_upper])", NULL, SlimFitBoxModes, (PetscEnum)fit->box_mode, (PetscEnum *)&fit->box_mode, NULL));
  PetscCall(PetscOptionsReal("-fit_box", "Relative half-width of the box of initial guesses around the truth", NULL, fit->box, &fit->box, NULL));
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
  PetscCall(PetscOptionsEnum("-fit_scale", "Coordinates of the optimisers: none (raw parameters, as the weekly report) or reference (parameters divided by |truth|)", NULL, SlimFitScales, (PetscEnum)fit->scale, (PetscEnum *)&fit->scale, NULL));
  PetscCall(PetscOptionsReal("-fit_eps0", "gd: base step eps0 of the damped step eps = eps0 exp(-(eps0 |grad|)^3)", NULL, fit->eps0, &fit->eps0, NULL));
  PetscCall(PetscOptionsInt("-fit_max_it", "Iterations (loss evaluations for gd, TAO iterations for tao) per fit", NULL, fit->max_it, &fit->max_it, NULL));
  PetscCall(PetscOptionsReal("-fit_tol", "Converged when a step (gd: s eps |grad|; tao: the change of the iterate) is below tol times the parameters' max norm", NULL, fit->tol, &fit->tol, NULL));
  PetscCall(PetscOptionsBool("-fit_gd_backtrack", "gd: halve the step after a trial that does not lower the loss (0: the report's plain descent)", NULL, fit->backtrack, &fit->backtrack, NULL));
  PetscCall(PetscOptionsReal("-fit_explode", "A fit diverges when a parameter exceeds this factor times max(|truth|, |initial guess|)", NULL, fit->explode, &fit->explode, NULL));
  PetscCall(PetscOptionsReal("-fit_recover_tol", "A converged fit 'recovered' the truth when every identifiable ratio is within this relative error", NULL, fit->recover_tol, &fit->recover_tol, NULL));
  PetscCall(PetscOptionsInt("-fit_obs_stride", "Trajectory loss: observe (t, q, qdot) every this many steps of the point's run", NULL, fit->obs_stride, &fit->obs_stride, NULL));
  PetscCall(PetscOptionsInt("-fit_grid", "Acceleration loss: grid values per coordinate of (q, qdot) (n^(2 dof) points)", NULL, fit->grid, &fit->grid, NULL));
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
  PetscCall(PetscOptionsString("-fit_obs_file", "Fit measured observations from this HDF5 file instead of synthetic data", NULL, fit->obs_file, fit->obs_file, sizeof(fit->obs_file), &fset));
  PetscCall(PetscOptionsString("-fit_obs_dataset", "Dataset of -fit_obs_file: rows t,q...,qdot... (trajectory) or q...,qdot...,qddot... (acceleration)", NULL, fit->obs_dataset, fit->obs_dataset, sizeof(fit->obs_dataset), &dset));
  PetscCall(PetscOptionsBool("-fit_store_path", "Store every fit's parameters and loss after each iteration (/fit_paths)", NULL, fit->store_path, &fit->store_path, NULL));
  PetscCall(PetscOptionsString("-fit_slice_param", "Noise slice: parameter varied (auto: the first one that is not the mass m)", NULL, "auto", sval, sizeof(sval), &set));
  if (!set) PetscCall(PetscStrcpy(sval, "auto"));
  PetscCall(PetscStrncpy(fit->slice_param, sval, sizeof(fit->slice_param)));
  PetscCall(PetscOptionsInt("-fit_slice_n", "Noise slice: points along the slice through the truth (0: no slice)", NULL, fit->slice_n, &fit->slice_n, NULL));
  PetscCall(PetscOptionsReal("-fit_slice_box", "Noise slice: relative half-width around the true value", NULL, fit->slice_box, &fit->slice_box, NULL));
  PetscCall(SlimOptionsStringList(PetscOptionsObject, "-landscape_params", "Loss landscape over two parameters p0,p1 (none: no landscape)", "none", 2, 64, items, &n, &set));
  fit->landscape = PETSC_FALSE;
  if (set && !(n == 1 && !strcmp(items[0], "none"))) {
    PetscCheck(n == 2, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-landscape_params: give two parameter names p0,p1");
    PetscCheck(strcmp(items[0], items[1]), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-landscape_params: '%s' twice", items[0]);
    for (PetscInt i = 0; i < 2; i++) PetscCall(PetscStrncpy(fit->land_params[i], items[i], sizeof(fit->land_params[i])));
    fit->landscape = PETSC_TRUE;
  }
  PetscCall(PetscOptionsInt("-landscape_n", "Loss landscape: grid values per parameter", NULL, fit->land_n, &fit->land_n, NULL));
  PetscCall(PetscOptionsReal("-landscape_box", "Loss landscape: relative half-width around the truth (unless -landscape_bounds)", NULL, fit->land_box, &fit->land_box, NULL));
  PetscCall(SlimOptionsRealList(PetscOptionsObject, "-landscape_bounds", "Loss landscape: absolute ranges p0_lo,p0_hi,p1_lo,p1_hi", "0,0,0,0", 4, vals, &n, &fit->land_bounds_set));
  if (fit->land_bounds_set) {
    PetscCheck(n == 4 && vals[0] < vals[1] && vals[2] < vals[3], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-landscape_bounds: give p0_lo,p0_hi,p1_lo,p1_hi with lo < hi");
    for (PetscInt i = 0; i < 4; i++) fit->land_bounds[i] = vals[i];
  }
  PetscCall(PetscOptionsInt("-landscape_rows_per_task", "Loss landscape: grid rows per harness task (one ensemble run each)", NULL, fit->land_rows, &fit->land_rows, NULL));
  PetscOptionsEnd();

  /* validation: one line naming the option */
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
  PetscCheck(fit->land_rows >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-landscape_rows_per_task: value %" PetscInt_FMT " is invalid (must be >= 1)", fit->land_rows);
  PetscCheck(fit->land_box > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-landscape_box: value %g is invalid (must be > 0)", (double)fit->land_box);
  if (fit->landscape)
    for (PetscInt i = 0; i < 2; i++) PetscCall(CheckParamName("-landscape_params", fit->land_params[i], nfam, fam));
  PetscCheck(fset == dset, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: give -fit_obs_file and -fit_obs_dataset together", fset ? "-fit_obs_file" : "-fit_obs_dataset");
  PetscCall(PetscFree(fit->obs));
  if (fset) {
    /* every rank reads it now: bad data are an input error that every rank sees alike */
    PetscCall(SlimFitDataReadHDF5(fit->obs_file, fit->obs_dataset, "-fit_obs_file", &fit->obs_rows, &fit->obs_cols, &fit->obs));
    for (PetscInt f = 0; f < nfam; f++)
      for (PetscInt l = 0; l < fit->nloss; l++)
        for (PetscInt i = 0; i < ndt; i++) {
          SlimFitData d;
          PetscCall(SlimFitDataCreateFromArray(fit->loss[l], fam[f]->dof, dt[i], fit->obs_rows, fit->obs_cols, fit->obs, "-fit_obs_file", &d));
          PetscCall(SlimFitDataDestroy(&d));
        }
  }
  /* TAO reads its options (prefix fit_) here once: -help lists them, and a bad -fit_tao_type is
   * an input error now rather than a failure of every fit later */
  {
    Tao            tao;
    TaoType        type;
    SlimCatch      c;
    PetscErrorCode ierr;

    PetscCall(TaoCreateFit(fit, &tao));
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
  PetscCall(PetscRandomSetSeed(rnd, (unsigned long)SlimSweepPointSeed(prob->seed, 1)));
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

/* The K fits advance together: each iteration evaluates the trial points of all running fits in
 * one batch (one ensemble integration for the trajectory loss). */
static PetscErrorCode RunGD(FitCtx *c, PetscInt K, const PetscReal theta0[], SlimFitResult res[], PetscReal path[])
{
  SlimFit         fit = c->fit;
  const PetscInt  nf = c->nf, np = c->np;
  PetscReal      *x, *g, *f, *s, *xt, *tht, *ft, *gt;
  PetscInt       *act, nact;
  PetscBool      *run;
  SlimFitEval    *ev;
  PetscLogDouble  t0, t1;
  char          (*last)[128];

  PetscFunctionBeginUser;
  PetscCall(PetscTime(&t0));
  PetscCall(PetscMalloc5(K * nf, &x, K * nf, &g, K, &f, K, &s, K * nf, &xt));
  PetscCall(PetscMalloc5(K * np, &tht, K, &ft, K * np, &gt, K, &act, K, &run));
  PetscCall(PetscMalloc2(K, &ev, K, &last));
  /* first evaluation: the guesses */
  PetscCall(SlimFitLossEvaluate(c->loss, K, theta0, ft, gt, NULL, ev));
  for (PetscInt k = 0; k < K; k++) {
    ToX(c, theta0 + k * np, x + k * nf);
    GradX(c, gt + k * np, g + k * nf);
    f[k]           = ft[k];
    s[k]           = 1;
    last[k][0]     = 0;
    res[k].loss0   = ft[k];
    res[k].its     = 0;
    res[k].nevals  = 1;
    run[k]         = ev[k].ok;
    if (!ev[k].ok) {
      res[k].status = SLIM_FIT_DIVERGED;
      PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "diverged: initial guess: %s", ev[k].reason));
      PetscCall(PetscTime(&t1));
      res[k].wall = t1 - t0;
    }
    PathRow(c, path ? path + k * (fit->max_it + 1) * (np + 1) : NULL, 0, x + k * nf, f[k]);
  }
  while (1) {
    /* convergence tests and trial points of the running fits */
    nact = 0;
    for (PetscInt k = 0; k < K; k++) {
      const PetscReal *xk = x + k * nf, *gk = g + k * nf, gn = Norm2(nf, gk);
      const PetscReal  eps = fit->eps0 * PetscExpReal(-PetscPowReal(fit->eps0 * gn, 3));
      const PetscReal  xs = PetscMax(NormInf(nf, xk), PETSC_SMALL);

      if (!run[k]) continue;
      if (gn == 0 || (s[k] * eps * gn <= fit->tol * xs && eps >= 1e-3 * fit->eps0)) {
        run[k]        = PETSC_FALSE;
        res[k].status = SLIM_FIT_CONVERGED;
        PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "converged: %s", gn == 0 ? "zero gradient" : "step below -fit_tol"));
      } else if (s[k] * eps * gn <= fit->tol * xs) {
        /* a step made tiny by exp(-(eps0 |grad|)^3) (a steep region), not by backtracking near a
         * minimum: the descent is stuck, which must not pass for convergence */
        run[k]        = PETSC_FALSE;
        res[k].status = SLIM_FIT_DIVERGED;
        PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "diverged: step frozen by the damping (eps0 |grad| = %.3g): lower -fit_eps0", (double)(fit->eps0 * gn)));
      } else if (res[k].its >= fit->max_it) {
        run[k]        = PETSC_FALSE;
        res[k].status = SLIM_FIT_MAX_IT;
        PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "max-iterations: %" PetscInt_FMT " reached%s%s", fit->max_it, last[k][0] ? "; last rejected trial: " : "", last[k]));
      } else {
        PetscBool moved = PETSC_FALSE;
        for (PetscInt i = 0; i < nf; i++) {
          xt[nact * nf + i] = xk[i] - s[k] * eps * gk[i];
          moved             = (PetscBool)(moved || xt[nact * nf + i] != xk[i]);
        }
        if (!moved) {
          /* exp(-(eps0 |grad|)^3) has frozen the step (a steep region): it can never move again,
           * and a rejected no-op step must not be mistaken for convergence */
          run[k]        = PETSC_FALSE;
          res[k].status = SLIM_FIT_DIVERGED;
          PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "diverged: step frozen by the damping (eps0 |grad| = %.3g): lower -fit_eps0", (double)(fit->eps0 * gn)));
        } else {
          ToTheta(c, xt + nact * nf, tht + nact * np);
          act[nact++] = k;
        }
      }
      if (!run[k]) {
        PetscCall(PetscTime(&t1));
        res[k].wall = t1 - t0;
      }
    }
    if (!nact) break;
    PetscCall(SlimFitLossEvaluate(c->loss, nact, tht, ft, gt, NULL, ev));
    for (PetscInt a = 0; a < nact; a++) {
      const PetscInt k = act[a];
      PetscBool      accept;
      const char    *ex;

      res[k].its++;
      res[k].nevals++;
      if (fit->backtrack) {
        accept = (PetscBool)(ev[a].ok && ft[a] < f[k]);
        if (!ev[a].ok) PetscCall(PetscStrncpy(last[k], ev[a].reason, sizeof(last[k])));
      } else {
        accept = PETSC_TRUE;
        if (!ev[a].ok) {
          run[k]        = PETSC_FALSE;
          res[k].status = SLIM_FIT_DIVERGED;
          PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "diverged: %s", ev[a].reason));
          accept = PETSC_FALSE;
        }
      }
      if (accept) {
        PetscCall(PetscArraycpy(x + k * nf, xt + a * nf, nf));
        GradX(c, gt + a * np, g + k * nf);
        f[k] = ft[a];
        s[k] = PetscMin(1.0, 2 * s[k]);
        if ((ex = Exploded(c, x + k * nf))) {
          run[k]        = PETSC_FALSE;
          res[k].status = SLIM_FIT_DIVERGED;
          PetscCall(PetscSNPrintf(res[k].reason, sizeof(res[k].reason), "diverged: parameter %s exploded (beyond -fit_explode %g x its scale)", ex, (double)fit->explode));
        }
      } else if (run[k]) s[k] *= 0.5;
      PathRow(c, path ? path + k * (fit->max_it + 1) * (np + 1) : NULL, res[k].its, x + k * nf, f[k]);
      if (!run[k]) {
        PetscCall(PetscTime(&t1));
        res[k].wall = t1 - t0;
      }
    }
  }
  for (PetscInt k = 0; k < K; k++) {
    ToTheta(c, x + k * nf, res[k].theta);
    res[k].loss  = f[k];
    res[k].gnorm = Norm2(nf, g + k * nf);
  }
  PetscCall(PetscFree5(x, g, f, s, xt));
  PetscCall(PetscFree5(tht, ft, gt, act, run));
  PetscCall(PetscFree2(ev, last));
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

static PetscErrorCode TaoSolveOne(FitCtx *c, TaoType type, const PetscReal theta0[], SlimFitResult *res)
{
  Tao                tao;
  Vec                X;
  PetscScalar       *x;
  PetscInt           its;
  PetscReal          f, gnorm, cnorm, xdiff, th[SLIM_MAX_PARAM], gth[SLIM_MAX_PARAM], gx[SLIM_MAX_PARAM];
  TaoConvergedReason reason;
  SlimFitEval        ev;
  SlimCatch          cat;
  PetscErrorCode     ierr;

  PetscFunctionBeginUser;
  res->its    = 0;
  res->nevals = 1;
  PetscCall(PetscArraycpy(res->theta, theta0, c->np));
  /* TAO refuses a non-finite first value with an error: check the guess ourselves */
  PetscCall(SlimFitLossEvaluate(c->loss, 1, theta0, &res->loss0, gth, NULL, &ev));
  res->loss = res->loss0;
  GradX(c, gth, gx);
  res->gnorm = Norm2(c->nf, gx);
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, c->nf, &X));
  PetscCall(VecGetArray(X, &x));
  ToX(c, theta0, x);
  PathRow(c, c->path, 0, x, res->loss0);
  PetscCall(VecRestoreArray(X, &x));
  if (!ev.ok) {
    res->status = SLIM_FIT_DIVERGED;
    PetscCall(PetscSNPrintf(res->reason, sizeof(res->reason), "diverged: initial guess: %s", ev.reason));
    PetscCall(VecDestroy(&X));
    PetscFunctionReturn(0);
  }
  c->nevals    = 0;
  c->failed    = PETSC_FALSE;
  c->stepconv  = PETSC_FALSE;
  c->have_prev = PETSC_FALSE;
  PetscCall(TaoCreateFit(c->fit, &tao));
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
    PetscCall(TaoDestroy(&tao));
    PetscCall(VecDestroy(&X));
    PetscFunctionReturn(0);
  }
  PetscCall(TaoGetSolutionStatus(tao, &its, &f, &gnorm, &cnorm, &xdiff, &reason));
  res->its = its;
  PetscCall(VecGetArray(X, &x));
  ToTheta(c, x, th);
  PetscCall(VecRestoreArray(X, &x));
  /* the final point scored like gd's: one more evaluation, loss and gradient norm */
  PetscCall(SlimFitLossEvaluate(c->loss, 1, th, &f, gth, NULL, &ev));
  res->nevals++;
  PetscCall(PetscArraycpy(res->theta, th, c->np));
  res->loss = f;
  GradX(c, gth, gx);
  res->gnorm = Norm2(c->nf, gx);
  if (!ev.ok) {
    res->status = SLIM_FIT_DIVERGED;
    PetscCall(PetscSNPrintf(res->reason, sizeof(res->reason), "diverged: tao %s: %s: %s at the final point", type, TaoConvergedReasons[reason], ev.reason));
  } else if (reason > 0) {
    res->status = SLIM_FIT_CONVERGED;
    if (reason == TAO_CONVERGED_USER && c->stepconv) PetscCall(PetscSNPrintf(res->reason, sizeof(res->reason), "converged: tao %s: step below -fit_tol", type));
    else PetscCall(PetscSNPrintf(res->reason, sizeof(res->reason), "converged: tao %s: %s", type, TaoConvergedReasons[reason]));
  } else if (reason == TAO_DIVERGED_MAXITS || reason == TAO_DIVERGED_MAXFCN) {
    res->status = SLIM_FIT_MAX_IT;
    PetscCall(PetscSNPrintf(res->reason, sizeof(res->reason), "max-iterations: tao %s: %s", type, TaoConvergedReasons[reason]));
  } else {
    res->status = SLIM_FIT_DIVERGED;
    PetscCall(PetscSNPrintf(res->reason, sizeof(res->reason), "diverged: tao %s: %s%s%s", type, TaoConvergedReasons[reason], c->failed ? "; last failed evaluation: " : "", c->failed ? c->failure : ""));
  }
  PetscCall(TaoDestroy(&tao));
  PetscCall(VecDestroy(&X));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitRun(SlimFit fit, const SlimFitProblem *prob, PetscInt conf, SlimFitData data, SlimFitResult res[], PetscReal path[])
{
  const PetscInt K = fit->guesses, np = prob->fam->nparam;
  SlimFitMethod  method = SLIM_FIT_GD;
  SlimFitLoss    loss;
  PetscReal     *theta0;
  FitCtx         c;

  PetscFunctionBeginUser;
  if (K <= 0) PetscFunctionReturn(0);
  PetscCall(SlimFitGetConfig(fit, conf, NULL, &method));
  PetscCall(PetscMalloc1(K * np, &theta0));
  PetscCall(SlimFitGuesses(fit, prob, theta0));
  PetscCall(PetscMemzero(res, K * sizeof(*res)));
  for (PetscInt k = 0; k < K; k++) {
    PetscCall(PetscArraycpy(res[k].theta0, theta0 + k * np, np));
    for (PetscInt j = np; j < SLIM_MAX_PARAM; j++) res[k].theta0[j] = res[k].theta[j] = NAN;
  }
  if (path)
    for (PetscInt i = 0; i < K * (fit->max_it + 1) * (np + 1); i++) path[i] = NAN;
  PetscCall(SlimFitLossCreate(prob->fam, data, prob->r, fit->solver, &loss));
  PetscCall(FitCtxSetUp(fit, prob->fam, loss, theta0, K, &c));
  if (method == SLIM_FIT_GD) PetscCall(RunGD(&c, K, theta0, res, path));
  else {
    for (PetscInt k = 0; k < K; k++) {
      PetscLogDouble t0, t1;
      PetscCall(PetscTime(&t0));
      c.path = path ? path + k * (fit->max_it + 1) * (np + 1) : NULL;
      PetscCall(TaoSolveOne(&c, fit->tao_type, theta0 + k * np, &res[k]));
      PetscCall(PetscTime(&t1));
      res[k].wall = t1 - t0;
    }
  }
  PetscCall(SlimFitLossDestroy(&loss));
  PetscCall(PetscFree(theta0));
  PetscFunctionReturn(0);
}

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

PetscErrorCode SlimFitGetUncertainty(SlimFit fit, const SlimFitProblem *prob, SlimFitData data, const SlimFitResult *res, PetscReal sigma, SlimFitUncertainty *u)
{
  SlimFamily     fam = prob->fam;
  const PetscInt np = fam->nparam, nr = fam->nratio;
  PetscInt       nres, nf, idx[SLIM_MAX_PARAM], *grp, ng[2] = {0, 0};
  PetscReal     *r, *J, rn[2] = {0, 0}, w[2] = {1, 1}, s2[2];
  PetscReal      A[SLIM_MAX_PARAM * SLIM_MAX_PARAM], Bm[2][SLIM_MAX_PARAM * SLIM_MAX_PARAM], Ap[SLIM_MAX_PARAM * SLIM_MAX_PARAM], C[SLIM_MAX_PARAM * SLIM_MAX_PARAM], T[SLIM_MAX_PARAM * SLIM_MAX_PARAM], null[SLIM_MAX_PARAM];
  PetscReal      JR[SLIM_MAX_PARAM * SLIM_MAX_PARAM], rt[SLIM_MAX_PARAM], re[SLIM_MAX_PARAM];
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
  /* ratios: J_R by central differences in the fitted coordinates */
  if (nr) {
    PetscCall(fam->ratios(res->theta, re));
    for (PetscInt a = 0; a < nf; a++) {
      PetscReal tp[SLIM_MAX_PARAM], tm[SLIM_MAX_PARAM], rp[SLIM_MAX_PARAM], rm[SLIM_MAX_PARAM];
      const PetscReal h = 1e-6 * PetscMax(PetscAbsReal(res->theta[idx[a]]), 1e-8);
      PetscCall(PetscArraycpy(tp, res->theta, np));
      PetscCall(PetscArraycpy(tm, res->theta, np));
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
  }
  /* consistency with the truth: |estimate - truth| <= 3 std for every tested quantity */
  if (truth) {
    PetscReal z = 0;
    if (nr) {
      PetscCall(fam->ratios(fam->theta, rt));
      for (PetscInt k = 0; k < nr; k++) {
        const PetscReal d = PetscAbsReal(re[k] - rt[k]);
        z = PetscMax(z, d == 0 ? 0 : d / u->rstd[k]);
      }
    } else
      for (PetscInt a = 0; a < nf; a++) {
        const PetscReal d = PetscAbsReal(res->theta[idx[a]] - fam->theta[idx[a]]);
        z = PetscMax(z, d == 0 ? 0 : d / u->std[idx[a]]);
      }
    u->zmax       = z;
    u->consistent = (PetscBool)(z <= 3);
  }
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
