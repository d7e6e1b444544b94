/* SlimFitLoss: trajectory and acceleration losses with exact gradients (include/slim/fitloss.h). */
#include <math.h>
#include <slim/fitloss.h>
#include <slim/log.h>
#include <slim/private/fitimpl.h>

struct _n_SlimFitLoss {
  SlimFamily     fam;
  SlimFitData    data;
  PetscInt       r, np, dof;
  PetscInt       n;      /* observations used: all, or the first ones within a horizon */
  SlimSolverType solver;
  /* trajectory: one ensemble stepper, rebuilt when the batch size or the sensitivity flag changes */
  SlimStepper    st;
  PetscInt       B;
  PetscBool      sens;
  /* accumulators of the members of the batch being evaluated */
  PetscInt       next;   /* next observation */
  PetscReal     *S;      /* B*4: sum r_q^2, sum r_v^2, and the same against the noise-free data */
  PetscReal     *G;      /* B*2*np: sum r_q dq/dth, sum r_v dqdot/dth */
  /* SlimFitLossResiduals: per-sample outputs of member 0 (any may be NULL) */
  PetscReal     *Rout, *Jout, *Pout;
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
  L->n      = data->n;
  L->solver = solver;
  *loss     = L;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitLossSetHorizon(SlimFitLoss L, PetscReal frac, PetscInt *nused)
{
  SlimFitData D = L->data;

  PetscFunctionBeginUser;
  PetscCheck(frac > 0 && frac <= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "fit horizon %g must be in (0, 1]", (double)frac);
  L->n = D->n;
  if (D->kind == SLIM_LOSS_TRAJECTORY && frac < 1) {
    const PetscReal last = frac * D->step[D->n - 1];
    /* at least two samples: the first is often the initial state itself */
    for (L->n = PetscMin(D->n, 2); L->n < D->n && D->step[L->n] <= last; L->n++) { }
  }
  if (nused) *nused = L->n;
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
  if (L->next >= L->n || step != D->step[L->next]) PetscFunctionReturn(0);
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
  PetscCall(SlimStepperIntegrate(L->st, D->step[L->n - 1]));
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
    PetscCall(SlimFamilyAcceleration(L->fam, th, D->t[i], D->q + i * d, D->v + i * d, acc, g ? dacc : NULL));
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
      PetscCall(SlimFamilyAcceleration(L->fam, th, D->t[i], D->qc + i * d, D->vc + i * d, acc, NULL));
      for (PetscInt a = 0; a < d; a++) sc += (acc[a] - D->ac[i * d + a]) * (acc[a] - D->ac[i * d + a]);
    }
  *f = s / (n * d);
  if (g)
    for (PetscInt j = 0; j < np; j++) g[j] *= 2.0 / (n * d);
  if (fclean) *fclean = D->qc ? sc / (n * d) : NAN;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitLossGetSizes(SlimFitLoss L, PetscInt *nres, PetscInt *npred)
{
  const PetscBool traj = (PetscBool)(L->data->kind == SLIM_LOSS_TRAJECTORY);

  PetscFunctionBeginUser;
  if (nres) *nres = L->n * L->dof * (traj ? 2 : 1);
  if (npred) *npred = L->n * L->dof * (traj ? 3 : 1);
  PetscFunctionReturn(0);
}

/* Stores member 0's residuals, sensitivities and predictions at the observation steps. */
static PetscErrorCode ResidualMonitor(SlimStepper st, PetscInt step, void *ctx)
{
  SlimFitLoss    L = (SlimFitLoss)ctx;
  SlimFitData    D = L->data;
  const PetscInt d = L->dof, np = L->np, k = L->next;
  PetscReal      q[SLIM_MAX_DOF], v[SLIM_MAX_DOF], p[SLIM_MAX_DOF], dq[SLIM_MAX_DOF * SLIM_MAX_PARAM], dv[SLIM_MAX_DOF * SLIM_MAX_PARAM];
  SlimFailure    f;

  PetscFunctionBeginUser;
  if (k >= L->n || step != D->step[k]) PetscFunctionReturn(0);
  L->next++;
  PetscCall(SlimStepperGetFailure(st, 0, &f));
  if (f.step >= 0) PetscFunctionReturn(0);
  PetscCall(SlimStepperGetState(st, 0, NULL, q, p));
  PetscCall(SlimStepperGetVelocity(st, 0, v));
  if (L->Jout) PetscCall(SlimStepperGetSensitivities(st, 0, dq, NULL, dv));
  for (PetscInt a = 0; a < d; a++) {
    const PetscInt iq = k * 2 * d + a, iv = iq + d;
    if (L->Rout) L->Rout[iq] = q[a] - D->q[k * d + a], L->Rout[iv] = v[a] - D->v[k * d + a];
    if (L->Jout)
      for (PetscInt j = 0; j < np; j++) L->Jout[iq * np + j] = dq[a * np + j], L->Jout[iv * np + j] = dv[a * np + j];
    if (L->Pout) L->Pout[k * 3 * d + a] = q[a], L->Pout[k * 3 * d + d + a] = v[a], L->Pout[k * 3 * d + 2 * d + a] = p[a];
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode ResidualsTrajectory(SlimFitLoss L, const PetscReal theta[], PetscReal res[], PetscReal J[], PetscReal pred[], SlimFitEval *ev)
{
  SlimFitData D = L->data;
  SlimFailure fl;

  PetscFunctionBeginUser;
  PetscCall(SetUpStepper(L, 1, J ? PETSC_TRUE : PETSC_FALSE));
  PetscCall(SlimStepperSetParameters(L->st, 0, theta));
  PetscCall(SlimStepperSetInitialState(L->st, 0, D->t0, D->q0, D->v0));
  L->next = 0;
  L->Rout = res, L->Jout = J, L->Pout = pred;
  PetscCall(SlimStepperSetMonitor(L->st, 1, ResidualMonitor, L));
  PetscCall(SlimStepperIntegrate(L->st, D->step[L->n - 1]));
  PetscCall(SlimStepperSetMonitor(L->st, 0, NULL, NULL));
  L->Rout = L->Jout = L->Pout = NULL;
  PetscCall(SlimStepperGetFailure(L->st, 0, &fl));
  if (fl.step >= 0) {
    ev->ok = PETSC_FALSE;
    PetscCall(PetscSNPrintf(ev->reason, sizeof(ev->reason), "integration failed at step %" PetscInt_FMT " (%s)", fl.step, SNESConvergedReasons[fl.reason]));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode ResidualsAcceleration(SlimFitLoss L, const PetscReal th[], PetscReal res[], PetscReal J[], PetscReal pred[])
{
  SlimFitData    D = L->data;
  const PetscInt d = L->dof, np = L->np;
  PetscReal      acc[SLIM_MAX_DOF], dacc[SLIM_MAX_DOF * SLIM_MAX_PARAM];

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < D->n; i++) {
    PetscCall(SlimFamilyAcceleration(L->fam, th, D->t[i], D->q + i * d, D->v + i * d, acc, J ? dacc : NULL));
    for (PetscInt a = 0; a < d; a++) {
      if (res) res[i * d + a] = acc[a] - D->a[i * d + a];
      if (pred) pred[i * d + a] = acc[a];
      if (J)
        for (PetscInt j = 0; j < np; j++) J[(i * d + a) * np + j] = dacc[a * np + j];
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFitLossResiduals(SlimFitLoss L, const PetscReal theta[], PetscReal res[], PetscReal J[], PetscInt group[], PetscReal pred[], SlimFitEval *ev)
{
  const PetscBool traj = (PetscBool)(L->data->kind == SLIM_LOSS_TRAJECTORY);
  PetscInt        nres, npred;
  SlimCatch       c;
  PetscErrorCode  ierr;

  PetscFunctionBeginUser;
  PetscCall(SlimFitLossGetSizes(L, &nres, &npred));
  ev->ok        = PETSC_TRUE;
  ev->reason[0] = 0;
  if (res)
    for (PetscInt i = 0; i < nres; i++) res[i] = NAN;
  if (J)
    for (PetscInt i = 0; i < nres * L->np; i++) J[i] = NAN;
  if (pred)
    for (PetscInt i = 0; i < npred; i++) pred[i] = NAN;
  if (group)
    for (PetscInt i = 0; i < nres; i++) group[i] = traj ? (i / L->dof) % 2 : 0;
  if (!Finite(L->np, theta)) {
    ev->ok = PETSC_FALSE;
    PetscCall(PetscStrncpy(ev->reason, "non-finite parameters", sizeof(ev->reason)));
    PetscFunctionReturn(0);
  }
  SlimCatchBegin(&c);
  ierr = traj ? ResidualsTrajectory(L, theta, res, J, pred, ev) : ResidualsAcceleration(L, theta, res, J, pred);
  SlimCatchEnd(&c);
  if (ierr) {
    if (traj) PetscCall(SlimStepperDestroy(&L->st));
    L->Rout = L->Jout = L->Pout = NULL;
    ev->ok  = PETSC_FALSE;
    PetscCall(PetscStrncpy(ev->reason, c.msg, sizeof(ev->reason)));
  } else if (res && !Finite(nres, res)) {
    ev->ok = PETSC_FALSE;
    PetscCall(PetscStrncpy(ev->reason, "non-finite residual", sizeof(ev->reason)));
  }
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
