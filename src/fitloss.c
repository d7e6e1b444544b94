/* SlimFitLoss: trajectory and acceleration losses with exact gradients (include/slim/fitloss.h). */
#include <math.h>
#include <slim/fitloss.h>
#include <slim/log.h>
#include <slim/private/fitimpl.h>

struct _n_SlimFitLoss {
  SlimFamily     fam;
  SlimFitData    data;
  PetscInt       r, np, dof;
  SlimSolverType solver;
  /* trajectory: one ensemble stepper, rebuilt when the batch size or the sensitivity flag changes */
  SlimStepper    st;
  PetscInt       B;
  PetscBool      sens;
  /* accumulators of the members of the batch being evaluated */
  PetscInt       next;   /* next observation */
  PetscReal     *S;      /* B*4: sum r_q^2, sum r_v^2, and the same against the noise-free data */
  PetscReal     *G;      /* B*2*np: sum r_q dq/dth, sum r_v dqdot/dth */
};

PetscErrorCode SlimFitLossCreate(SlimFamily fam, SlimFitData data, PetscInt r, SlimSolverType solver, SlimFitLoss *loss)
{
  SlimFitLoss L;

  PetscFunctionBeginUser;
  PetscCheck(data->dof == fam->dof, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "fit data have %" PetscInt_FMT " degrees of freedom, family '%s' has %" PetscInt_FMT, data->dof, fam->name, fam->dof);
  PetscCall(SlimLogRegister());
  PetscCall(PetscNew(&L));
  L->fam    = fam;
  L->data   = data;
  L->r      = r;
  L->np     = fam->nparam;
  L->dof    = fam->dof;
  L->solver = solver;
  *loss     = L;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitLossDestroy(SlimFitLoss *loss)
{
  PetscFunctionBeginUser;
  if (!*loss) PetscFunctionReturn(0);
  PetscCall(SlimStepperDestroy(&(*loss)->st));
  PetscCall(PetscFree2((*loss)->S, (*loss)->G));
  PetscCall(PetscFree(*loss));
  PetscFunctionReturn(0);
}

static PetscBool Finite(PetscInt n, const PetscReal x[])
{
  for (PetscInt i = 0; i < n; i++)
    if (!isfinite(x[i])) return PETSC_FALSE;
  return PETSC_TRUE;
}

static PetscErrorCode SetUpStepper(SlimFitLoss L, PetscInt nb, PetscBool sens)
{
  PetscFunctionBeginUser;
  if (L->st && L->B == nb && L->sens == sens) PetscFunctionReturn(0);
  PetscCall(SlimStepperDestroy(&L->st));
  PetscCall(PetscFree2(L->S, L->G));
  PetscCall(SlimStepperCreate(L->fam, L->r, nb, &L->st));
  PetscCall(SlimStepperSetFromOptions(L->st));
  PetscCall(SlimStepperSetSolverType(L->st, L->solver));
  PetscCall(SlimStepperSetTimeStep(L->st, L->data->dt));
  PetscCall(SlimStepperSetSensitivities(L->st, sens));
  PetscCall(PetscMalloc2(4 * nb, &L->S, 2 * nb * L->np, &L->G));
  L->B    = nb;
  L->sens = sens;
  PetscFunctionReturn(0);
}

/* Accumulates the residuals of every member at the observation steps. */
static PetscErrorCode TrajectoryMonitor(SlimStepper st, PetscInt step, void *ctx)
{
  SlimFitLoss     L = (SlimFitLoss)ctx;
  SlimFitData     D = L->data;
  const PetscInt  d = L->dof, np = L->np;

  PetscFunctionBeginUser;
  if (L->next >= D->n || step != D->step[L->next]) PetscFunctionReturn(0);
  for (PetscInt b = 0; b < L->B; b++) {
    PetscReal   q[SLIM_MAX_DOF], v[SLIM_MAX_DOF], dq[SLIM_MAX_DOF * SLIM_MAX_PARAM], dv[SLIM_MAX_DOF * SLIM_MAX_PARAM];
    PetscReal  *S = L->S + 4 * b, *Gq = L->G + 2 * b * np, *Gv = Gq + np;
    const PetscInt k = L->next;
    SlimFailure f;

    PetscCall(SlimStepperGetFailure(st, b, &f));
    if (f.step >= 0) continue;
    PetscCall(SlimStepperGetState(st, b, NULL, q, NULL));
    PetscCall(SlimStepperGetVelocity(st, b, v));
    if (L->sens) PetscCall(SlimStepperGetSensitivities(st, b, dq, NULL, dv));
    for (PetscInt a = 0; a < d; a++) {
      const PetscReal rq = q[a] - D->q[k * d + a], rv = v[a] - D->v[k * d + a];
      S[0] += rq * rq;
      S[1] += rv * rv;
      if (D->qc) {
        const PetscReal cq = q[a] - D->qc[k * d + a], cv = v[a] - D->vc[k * d + a];
        S[2] += cq * cq;
        S[3] += cv * cv;
      }
      if (L->sens)
        for (PetscInt j = 0; j < np; j++) {
          Gq[j] += rq * dq[a * np + j];
          Gv[j] += rv * dv[a * np + j];
        }
    }
  }
  L->next++;
  PetscFunctionReturn(0);
}

/* 1/2 |r_q| + 1/2 |r_v| and its gradient; a vanishing norm contributes its subgradient 0. */
static void TrajectoryValue(PetscInt np, const PetscReal S[], const PetscReal Gq[], const PetscReal Gv[], PetscReal *f, PetscReal g[], PetscReal *fc)
{
  const PetscReal nq = PetscSqrtReal(S[0]), nv = PetscSqrtReal(S[1]);

  *f = 0.5 * (nq + nv);
  if (fc) *fc = 0.5 * (PetscSqrtReal(S[2]) + PetscSqrtReal(S[3]));
  if (g)
    for (PetscInt j = 0; j < np; j++) g[j] = (nq > 0 ? 0.5 * Gq[j] / nq : 0.0) + (nv > 0 ? 0.5 * Gv[j] / nv : 0.0);
}

static PetscErrorCode EvaluateTrajectory(SlimFitLoss L, PetscInt nb, const PetscReal theta[], PetscReal f[], PetscReal g[], PetscReal fclean[], SlimFitEval ev[])
{
  SlimFitData    D  = L->data;
  const PetscInt np = L->np;

  PetscFunctionBeginUser;
  PetscCall(SetUpStepper(L, nb, g ? PETSC_TRUE : PETSC_FALSE));
  PetscCall(PetscArrayzero(L->S, 4 * nb));
  PetscCall(PetscArrayzero(L->G, 2 * nb * np));
  for (PetscInt b = 0; b < nb; b++) {
    const PetscReal *th = theta + b * np;
    /* a non-finite member keeps a placeholder (the family's parameters); its result is discarded */
    PetscCall(SlimStepperSetParameters(L->st, b, Finite(np, th) ? th : L->fam->theta));
    PetscCall(SlimStepperSetInitialState(L->st, b, D->t0, D->q0, D->v0));
  }
  L->next = 0;
  PetscCall(SlimStepperSetMonitor(L->st, 1, TrajectoryMonitor, L));
  PetscCall(SlimStepperIntegrate(L->st, D->step[D->n - 1]));
  PetscCall(SlimStepperSetMonitor(L->st, 0, NULL, NULL));
  for (PetscInt b = 0; b < nb; b++) {
    SlimFailure fl;

    PetscCall(SlimStepperGetFailure(L->st, b, &fl));
    if (fl.step >= 0) {
      ev[b].ok = PETSC_FALSE;
      PetscCall(PetscSNPrintf(ev[b].reason, sizeof(ev[b].reason), "integration failed at step %" PetscInt_FMT " (%s)", fl.step, SNESConvergedReasons[fl.reason]));
      f[b] = NAN;
      if (fclean) fclean[b] = NAN;
      continue;
    }
    TrajectoryValue(np, L->S + 4 * b, L->G + 2 * b * np, L->G + (2 * b + 1) * np, &f[b], g ? g + b * np : NULL, fclean ? &fclean[b] : NULL);
    if (fclean && !D->qc) fclean[b] = NAN;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode EvaluateAcceleration(SlimFitLoss L, const PetscReal th[], PetscReal *f, PetscReal g[], PetscReal *fclean)
{
  SlimFitData    D = L->data;
  const PetscInt d = L->dof, np = L->np, n = D->n;
  PetscReal      acc[SLIM_MAX_DOF], dacc[SLIM_MAX_DOF * SLIM_MAX_PARAM], s = 0, sc = 0;

  PetscFunctionBeginUser;
  if (g) PetscCall(PetscArrayzero(g, np));
  for (PetscInt i = 0; i < n; i++) {
    PetscCall(SlimFamilyAcceleration(L->fam, th, 0.0, D->q + i * d, D->v + i * d, acc, g ? dacc : NULL));
    for (PetscInt a = 0; a < d; a++) {
      const PetscReal res = acc[a] - D->a[i * d + a];
      s += res * res;
      if (g)
        for (PetscInt j = 0; j < np; j++) g[j] += res * dacc[a * np + j];
    }
  }
  /* the noise-free data sit at the noise-free states: a second pass without gradient */
  if (fclean && D->qc)
    for (PetscInt i = 0; i < n; i++) {
      PetscCall(SlimFamilyAcceleration(L->fam, th, 0.0, D->qc + i * d, D->vc + i * d, acc, NULL));
      for (PetscInt a = 0; a < d; a++) sc += (acc[a] - D->ac[i * d + a]) * (acc[a] - D->ac[i * d + a]);
    }
  *f = s / (n * d);
  if (g)
    for (PetscInt j = 0; j < np; j++) g[j] *= 2.0 / (n * d);
  if (fclean) *fclean = D->qc ? sc / (n * d) : NAN;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitLossEvaluate(SlimFitLoss L, PetscInt nb, const PetscReal theta[], PetscReal f[], PetscReal g[], PetscReal fclean[], SlimFitEval ev[])
{
  const PetscInt np = L->np;
  SlimCatch      c;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  if (nb <= 0) PetscFunctionReturn(0);
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Fit, 0, 0, 0, 0));
  for (PetscInt b = 0; b < nb; b++) {
    ev[b].ok        = PETSC_TRUE;
    ev[b].reason[0] = 0;
    f[b]            = NAN;
    if (fclean) fclean[b] = NAN;
    if (g)
      for (PetscInt j = 0; j < np; j++) g[b * np + j] = NAN;
    if (!Finite(np, theta + b * np)) {
      ev[b].ok = PETSC_FALSE;
      PetscCall(PetscStrncpy(ev[b].reason, "non-finite parameters", sizeof(ev[b].reason)));
    }
  }
  if (L->data->kind == SLIM_LOSS_TRAJECTORY) {
    SlimCatchBegin(&c);
    ierr = EvaluateTrajectory(L, nb, theta, f, g, fclean, ev);
    SlimCatchEnd(&c);
    if (ierr) {
      /* an error may leave the stepper mid-step: drop it, and find the culprit member by member */
      PetscCall(SlimStepperDestroy(&L->st));
      if (nb > 1) {
        for (PetscInt b = 0; b < nb; b++) {
          SlimFitEval e1;
          if (!ev[b].ok) continue;
          PetscCall(SlimFitLossEvaluate(L, 1, theta + b * np, f + b, g ? g + b * np : NULL, fclean ? fclean + b : NULL, &e1));
          ev[b] = e1;
        }
      } else if (ev[0].ok) {
        ev[0].ok = PETSC_FALSE;
        PetscCall(PetscStrncpy(ev[0].reason, c.msg, sizeof(ev[0].reason)));
      }
    }
  } else {
    for (PetscInt b = 0; b < nb; b++) {
      if (!ev[b].ok) continue;
      SlimCatchBegin(&c);
      ierr = EvaluateAcceleration(L, theta + b * np, f + b, g ? g + b * np : NULL, fclean ? fclean + b : NULL);
      SlimCatchEnd(&c);
      if (ierr) {
        ev[b].ok = PETSC_FALSE;
        PetscCall(PetscStrncpy(ev[b].reason, c.msg, sizeof(ev[b].reason)));
      }
    }
  }
  for (PetscInt b = 0; b < nb; b++) {
    if (!ev[b].ok) {
      f[b] = NAN;
      continue;
    }
    if (!isfinite(f[b])) {
      ev[b].ok = PETSC_FALSE;
      PetscCall(PetscStrncpy(ev[b].reason, "non-finite loss", sizeof(ev[b].reason)));
    } else if (g && !Finite(np, g + b * np)) {
      ev[b].ok = PETSC_FALSE;
      PetscCall(PetscStrncpy(ev[b].reason, "non-finite gradient", sizeof(ev[b].reason)));
    }
  }
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Fit, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}
