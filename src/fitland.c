/* SlimFit: the noise slice and the loss landscape (include/slim/fit.h). Both evaluate many
 * parameter sets without gradients in one batch, i.e. one ensemble integration. */
#include <math.h>
#include <string.h>
#include <slim/private/fitimpl.h>

PetscErrorCode SlimFitSliceParam(SlimFit fit, SlimFamily fam, PetscInt *j)
{
  PetscBool autop;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcmp(fit->slice_param, "auto", &autop));
  if (autop) {
    /* the mass usually only sets the scale of the Lagrangian (a flat direction): skip it */
    *j = 0;
    for (PetscInt k = fam->nparam - 1; k >= 0; k--) {
      PetscBool m;
      PetscCall(PetscStrcmp(fam->pname[k], "m", &m));
      if (!m) *j = k;
    }
    PetscFunctionReturn(0);
  }
  for (PetscInt k = 0; k < fam->nparam; k++) {
    PetscBool eq;
    PetscCall(PetscStrcmp(fam->pname[k], fit->slice_param, &eq));
    if (eq) {
      *j = k;
      PetscFunctionReturn(0);
    }
  }
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-fit_slice_param: family '%s' has no parameter '%s'", fam->name, fit->slice_param);
}

/* values around v: v (1 + t) for t in [-w, w], or v + t where v = 0 */
static PetscReal Around(PetscReal v, PetscReal t)
{
  return v + t * (v != 0 ? PetscAbsReal(v) : 1.0);
}

PetscErrorCode SlimFitEvaluateSets(SlimFit fit, const SlimFitProblem *prob, SlimFitData data, PetscInt nb, const PetscReal theta[], PetscReal f[], PetscReal fclean[], SlimFitEval ev[])
{
  SlimFitLoss    L = NULL;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(SlimFitLossCreate(prob->fam, data, prob->r, fit->solver, &L));
  ierr = SlimFitLossEvaluate(L, nb, theta, f, NULL, fclean, ev);
  PetscCall(SlimFitLossDestroy(&L));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitSlice(SlimFit fit, const SlimFitProblem *prob, SlimFitData data, PetscReal x[], PetscReal loss[], PetscReal loss_clean[], PetscReal *rms, PetscReal *rel)
{
  SlimFamily     fam = prob->fam;
  const PetscInt n = fit->slice_n, np = fam->nparam;
  PetscReal     *th, s = 0, sc = 0;
  PetscInt       j, cnt = 0;
  SlimFitEval   *ev;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(SlimFitSliceParam(fit, fam, &j));
  PetscCall(PetscMalloc2(n * np, &th, n, &ev));
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal t = n > 1 ? -fit->slice_box + 2 * fit->slice_box * i / (n - 1) : 0;
    PetscCall(PetscArraycpy(th + i * np, fam->theta, np));
    th[i * np + j] = x[i] = Around(fam->theta[j], t);
  }
  ierr = SlimFitEvaluateSets(fit, prob, data, n, th, loss, loss_clean, ev);
  for (PetscInt i = 0; i < n && !ierr; i++) {
    if (!ev[i].ok || !isfinite(loss_clean[i])) continue;
    s += (loss[i] - loss_clean[i]) * (loss[i] - loss_clean[i]);
    sc += loss_clean[i] * loss_clean[i];
    cnt++;
  }
  *rms = cnt ? PetscSqrtReal(s / cnt) : NAN;
  *rel = cnt && sc > 0 ? PetscSqrtReal(s / sc) : NAN;
  PetscCall(PetscFree2(th, ev));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitLandscapeAxes(SlimFit fit, SlimFamily fam, PetscInt idx[2], PetscReal x0[], PetscReal x1[])
{
  const PetscInt n = fit->land_n;

  PetscFunctionBeginUser;
  for (PetscInt a = 0; a < 2; a++) {
    PetscReal *x = a ? x1 : x0, lo, hi;
    PetscCall(SlimFamilyGetParamIndex(fam, fit->land_params[a], &idx[a]));
    if (fit->land_bounds_set) lo = fit->land_bounds[2 * a], hi = fit->land_bounds[2 * a + 1];
    else lo = Around(fam->theta[idx[a]], -fit->land_box), hi = Around(fam->theta[idx[a]], fit->land_box);
    for (PetscInt i = 0; i < n; i++) x[i] = lo + (hi - lo) * i / (n - 1);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitLandscapeRows(SlimFit fit, const SlimFitProblem *prob, SlimFitData data, PetscInt i0, PetscInt i1, PetscReal loss[], PetscReal loss_clean[])
{
  SlimFamily     fam = prob->fam;
  const PetscInt n = fit->land_n, np = fam->nparam, nb = (i1 - i0) * n;
  PetscInt       idx[2];
  PetscReal     *x0, *x1, *th;
  SlimFitEval   *ev;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc4(n, &x0, n, &x1, nb * np, &th, nb, &ev));
  PetscCall(SlimFitLandscapeAxes(fit, fam, idx, x0, x1));
  for (PetscInt i = i0; i < i1; i++)
    for (PetscInt j = 0; j < n; j++) {
      PetscReal *t = th + ((i - i0) * n + j) * np;
      PetscCall(PetscArraycpy(t, fam->theta, np));
      t[idx[0]] = x0[i];
      t[idx[1]] = x1[j];
    }
  ierr = SlimFitEvaluateSets(fit, prob, data, nb, th, loss, loss_clean, ev);
  for (PetscInt b = 0; b < nb && !ierr; b++)
    if (!ev[b].ok) loss[b] = loss_clean[b] = NAN;
  PetscCall(PetscFree4(x0, x1, th, ev));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
