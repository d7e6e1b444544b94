/* /fit_obs/<row> of the fit kind (docs/figures.md "Columns read when present"): per
 * (point, configuration) of synthetic data, the trajectory observations, the truth's predicted
 * motion and the best fit's (SlimFitBest, SlimFitPredict), for "observed vs fitted" figures.
 *
 * Every array and the attributes known before the fits (point, config, loss, method, sigma,
 * param_names, theta_true) are defined collectively with the other tables; the fitted parameters
 * are a dataset (theta_fit) because attributes cannot be written independently under parallel
 * HDF5, and the /fits row of the best fit is /fit_summary/best_fit. */
#include <slim/private/harnessimpl.h>

/* the [n, dof] series, in the order of SlimFitObs.x */
static const char *const Series[] = {"q_obs", "qdot_obs", "q_true", "qdot_true", "pi_true", "q_fit", "qdot_fit", "pi_fit"};
static const char *const SeriesDesc[] = {
  "observed q (with noise)", "observed qdot (with noise)",
  "q predicted by the true parameters from the data's initial state", "qdot predicted by the true parameters", "pi predicted by the true parameters",
  "q predicted by the best fit (lowest loss, not diverged)", "qdot predicted by the best fit", "pi predicted by the best fit",
};
#define NSERIES 8

PetscInt SlimFitObsSamples(SlimFit fit, PetscInt N)
{
  return N / PetscMax(fit->obs_stride, 1) + 1;
}

PetscErrorCode SlimFitObsDefine(SlimHarness h, PetscInt row, PetscInt point, PetscInt config)
{
  SlimSweep     sw  = h->sw;
  SlimFit       fit = sw->fit;
  SlimPoint    *p   = &sw->points[point];
  SlimFamily    fam = sw->fam[p->family];
  PetscInt      n   = SlimFitObsSamples(fit, p->N), dims[2] = {n, fam->dof}, np = fam->nparam;
  PetscInt64    iv;
  SlimLossType  lt;
  SlimFitMethod mt;
  char          g[64], path[96], names[160];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(g, sizeof(g), "fit_obs/%" PetscInt_FMT, row));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/t", g));
  PetscCall(SlimOutputDefineArray(h->out, path, 1, dims, "time", "sample times of the trajectory data"));
  for (PetscInt s = 0; s < NSERIES; s++) {
    PetscCall(PetscSNPrintf(path, sizeof(path), "%s/%s", g, Series[s]));
    PetscCall(SlimOutputDefineArray(h->out, path, 2, dims, NULL, SeriesDesc[s]));
  }
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/theta_fit", g));
  PetscCall(SlimOutputDefineArray(h->out, path, 1, &np, NULL, "parameters of the best fit (order of param_names)"));
  PetscCall(SlimFitGetConfig(fit, config, &lt, &mt));
  iv = point;
  PetscCall(SlimOutputSetAttrInt(h->out, g, "point", 1, &iv));
  iv = config;
  PetscCall(SlimOutputSetAttrInt(h->out, g, "config", 1, &iv));
  PetscCall(SlimOutputSetAttrString(h->out, g, "loss", SlimLossTypes[lt]));
  PetscCall(SlimOutputSetAttrString(h->out, g, "method", SlimFitMethods[mt]));
  PetscCall(SlimOutputSetAttrReal(h->out, g, "sigma", 1, &p->sigma));
  PetscCall(SlimJoinNames(np, fam->pname, NULL, names, sizeof(names)));
  PetscCall(SlimOutputSetAttrString(h->out, g, "param_names", names));
  PetscCall(SlimOutputSetAttrReal(h->out, g, "theta_true", np, fam->theta));
  PetscFunctionReturn(0);
}

/* t, observations and both predictions from trajectory data td */
static PetscErrorCode Fill(SlimFit fit, const SlimFitProblem *prob, SlimFitData td, const SlimFitResult res[], SlimFitObs *o)
{
  const PetscInt d = td->dof, n = td->n;
  PetscReal     *pred;
  PetscBool      ok;

  PetscFunctionBeginUser;
  PetscCheck(n == o->n && d == o->dof, PETSC_COMM_SELF, PETSC_ERR_PLIB, "/fit_obs: %" PetscInt_FMT " samples of %" PetscInt_FMT " dof, defined for %" PetscInt_FMT " x %" PetscInt_FMT, n, d, o->n, o->dof);
  PetscCall(PetscArraycpy(o->t, td->t, n));
  PetscCall(PetscArraycpy(o->x[0], td->q, n * d));
  PetscCall(PetscArraycpy(o->x[1], td->v, n * d));
  PetscCall(PetscMalloc1(3 * n * d, &pred));
  for (PetscInt which = 0; which < 2; which++) { /* 0: truth, 1: best fit */
    if (which && o->best < 0) break;
    const PetscReal *theta = which ? res[o->best].theta : prob->fam->theta;
    PetscCall(SlimFitPredict(fit, prob, td, theta, pred, &ok));
    for (PetscInt c = 0; c < 3; c++) /* pred: per sample q, qdot, pi */
      for (PetscInt i = 0; i < n; i++)
        for (PetscInt a = 0; a < d; a++) o->x[2 + 3 * which + c][i * d + a] = pred[(3 * i + c) * d + a];
  }
  PetscCall(PetscFree(pred));
  if (o->best >= 0) PetscCall(PetscArraycpy(o->theta, res[o->best].theta, prob->fam->nparam));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitObsCompute(SlimFit fit, const SlimFitProblem *prob, SlimFitData data, PetscInt K, const SlimFitResult res[], SlimFitObs *o)
{
  SlimFitData    own = NULL;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  o->dof  = prob->fam->dof;
  o->n    = SlimFitObsSamples(fit, prob->N);
  o->best = SlimFitBest(K, res);
  PetscCall(PetscMalloc1(o->n * (1 + NSERIES * o->dof), &o->t));
  for (PetscInt s = 0; s < NSERIES; s++) o->x[s] = o->t + o->n + s * o->n * o->dof;
  for (PetscInt i = 0; i < o->n * (1 + NSERIES * o->dof); i++) o->t[i] = NAN;
  for (PetscInt i = 0; i < SLIM_MAX_PARAM; i++) o->theta[i] = NAN;
  if (data->kind != SLIM_LOSS_TRAJECTORY) PetscCall(SlimFitCreateData(fit, prob, SLIM_LOSS_TRAJECTORY, &own));
  ierr = Fill(fit, prob, own ? own : data, res, o);
  PetscCall(SlimFitDataDestroy(&own));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitObsWrite(SlimOutput out, PetscInt row, const SlimFitObs *o)
{
  char path[96];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof(path), "fit_obs/%" PetscInt_FMT "/t", row));
  PetscCall(SlimOutputWriteArray(out, path, o->t));
  for (PetscInt s = 0; s < NSERIES; s++) {
    PetscCall(PetscSNPrintf(path, sizeof(path), "fit_obs/%" PetscInt_FMT "/%s", row, Series[s]));
    PetscCall(SlimOutputWriteArray(out, path, o->x[s]));
  }
  PetscCall(PetscSNPrintf(path, sizeof(path), "fit_obs/%" PetscInt_FMT "/theta_fit", row));
  PetscCall(SlimOutputWriteArray(out, path, o->theta));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitObsReset(SlimFitObs *o)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(o->t));
  PetscFunctionReturn(0);
}
