/* SlimStepper: the slimplectic step (physics.md, "One step: the implicit discrete equations").
 *
 * Per trajectory b the unknowns are the node values q^(1..r+1); node 0 is the known q_n:
 *   R_k = delta_k0 pi_n + w_k F_k + sum_i w_i D_ik P_i = 0,   k = 0..r
 *   pi_{n+1} = w_{r+1} F_{r+1} + sum_i w_i D_{i,r+1} P_i
 * One kernel, BlockEval(), computes R, pi_{n+1} and the Jacobian block of one trajectory; the
 * SNES callbacks loop it over the ensemble and the dense Newton loop calls it directly, so the
 * two solver paths run the same arithmetic and their cost ratio measures only solver overhead. */
#include <slim/stepper.h>
#include <slim/log.h>
#include <slim/poll.h>

const char *const SlimSolverTypes[] = {"snes", "dense", "SlimSolverType", "SLIM_SOLVER_", NULL};

struct _n_SlimStepper {
  SlimFamily fam;
  SlimQuad   quad;
  PetscInt   r, n, dof, np, B, bs; /* n = r+2 nodes, bs = (r+1)*dof unknowns per trajectory */
  PetscReal  dt, t;
  PetscInt   step;
  SlimSolverType solver;
  PetscReal  rtol, atol, stol, xtol; /* per-trajectory convergence test, see ConvergedBlock() */
  PetscInt   maxit;
  PetscBool  setup, jac_valid, lu_valid; /* cached Jacobian (SNES) / LU factors (dense) of a linear family */
  /* quadrature scaled to dt */
  PetscReal *w, *D, *WD, *tau;     /* WD_ik = w_i D_ik (hot in the residual), tau_i = (1 + x_i) dt/2 */
  /* per-trajectory state */
  PetscReal *theta;                /* B*np */
  PetscReal *q, *pi, *vpred;       /* B*dof: state, and qdot at t_n used to predict the next step */
  PetscReal *pinew, *vend;         /* B*dof: pi_{n+1} and qdot(t_{n+1}) from the latest residual */
  PetscBool *active;
  SlimFailure *fail;
  PetscReal *mag;                  /* residual scale: largest sum of absolute terms in a row */
  PetscBool *conv;
  /* node workspace of one trajectory, reused for every block */
  PetscReal *Q, *V, *F, *P, *Fq, *Fv, *Pq, *Pv, *WPv;
  /* dense path workspace */
  PetscReal *Jd, *Rd, *Xd, *dXd;
  PetscReal *LU;  /* linear families, dense path: B factored blocks, reused every step */
  /* linear families take one residual evaluation per step: the end-point row of the (constant)
   * Jacobian, dpi_{n+1}/dX, updates pi_{n+1} from the predicted to the solved unknowns */
  PetscBool  ksponly;            /* SNES path runs SNESKSPONLY (the default for linear families) */
  PetscReal *Gend, *Xpred;       /* B*(r+1)*dof*dof, B*bs */
  PetscInt  *piv;
  /* forward sensitivities: dq, dpi [B][dof][np]; node parameter derivatives; solve workspace */
  PetscBool  sens;
  PetscReal *dq, *dpi, *dpinew, *Fth, *Pth, *Gth, *Ys;
  /* SNES path */
  SNES snes;
  Mat  J;
  Vec  X, R;
  SlimStepStats stats;
  PetscInt  mon_stride;
  SlimStepperMonitorFn mon;
  void     *mon_ctx;
};

/* dG_k/dq^(m), k, m = 0..r+1, one dof x dof block (row-major) from the node derivatives that
 * BlockEval left in the workspace, where G_k = w_k F_k + sum_i w_i D_ik P_i:
 *   w_k Fq_k delta_km + w_k Fv_k D_km + w_m D_mk Pq_m + sum_i w_i D_ik D_im Pv_i
 * The Newton Jacobian is k = 0..r, m = 1..r+1; sensitivities also need row r+1 and column 0. */
static void GBlock(SlimStepper st, PetscInt k, PetscInt m, PetscReal blk[])
{
  const PetscInt   n = st->n, d2 = st->dof * st->dof;
  const PetscReal *w = st->w, *D = st->D;

  for (PetscInt c = 0; c < d2; c++) blk[c] = w[k] * D[k * n + m] * st->Fv[k * d2 + c] + w[m] * D[m * n + k] * st->Pq[m * d2 + c];
  if (k == m)
    for (PetscInt c = 0; c < d2; c++) blk[c] += w[k] * st->Fq[k * d2 + c];
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal dd = D[i * n + k] * D[i * n + m];
    if (dd == 0.0) continue;
    for (PetscInt c = 0; c < d2; c++) blk[c] += dd * st->WPv[i * d2 + c];
  }
}

/* Linear families: after BlockEval with a Jacobian, keep dpi_{n+1}/dq^(m), m = 1..r+1. */
static void StoreEndRow(SlimStepper st, PetscInt b)
{
  const PetscInt d2 = st->dof * st->dof;
  for (PetscInt m = 1; m < st->n; m++) GBlock(st, st->r + 1, m, st->Gend + ((size_t)b * (st->n - 1) + (m - 1)) * d2);
}

/* Linear families: pi_{n+1} and qdot(t_{n+1}) at the solved unknowns Xb from their values at the
 * predicted Xp (left by the one residual evaluation): exact, because both are linear in X. */
static void EndUpdate(SlimStepper st, PetscInt b, const PetscReal *Xb, const PetscReal *Xp)
{
  const PetscInt   n = st->n, d = st->dof, d2 = d * d;
  const PetscReal *G = st->Gend + (size_t)b * (n - 1) * d2, *Dn = st->D + (n - 1) * n;
  for (PetscInt a = 0; a < d; a++) {
    PetscReal p = st->pinew[b * d + a], v = Dn[0] * st->q[b * d + a];
    for (PetscInt m = 1; m < n; m++) {
      for (PetscInt c = 0; c < d; c++) p += G[(m - 1) * d2 + a * d + c] * (Xb[(m - 1) * d + c] - Xp[(m - 1) * d + c]);
      v += Dn[m] * Xb[(m - 1) * d + a];
    }
    st->pinew[b * d + a] = p;
    st->vend[b * d + a]  = v;
  }
}

/* Node values, velocities and family outputs of trajectory b for unknowns Xb; residual into Rb,
 * Jacobian block into Jb with Jb[row*rs + col*cs] (row-major: rs = bs, cs = 1; BAIJ column-major:
 * rs = 1, cs = bs). Rb and Jb may be NULL. With `params` the node derivatives with respect to
 * the parameters are evaluated too (sensitivities). */
static PetscErrorCode BlockEval(SlimStepper st, PetscInt b, const PetscReal *Xb, PetscReal *Rb, PetscReal *Jb, PetscInt rs, PetscInt cs, PetscBool params)
{
  const PetscInt   n = st->n, d = st->dof, d2 = d * d, r = st->r, np = st->np;
  const PetscReal *w = st->w, *D = st->D, *WD = st->WD, *th = st->theta + b * np;
  PetscReal       *Q = st->Q, *V = st->V, *F = st->F, *P = st->P, mag = 0;
  const PetscBool  derivs = (PetscBool)(Jb || params);

  PetscFunctionBeginUser;
  for (PetscInt a = 0; a < d; a++) Q[a] = st->q[b * d + a];
  for (PetscInt i = 1; i < n; i++)
    for (PetscInt a = 0; a < d; a++) Q[i * d + a] = Xb[(i - 1) * d + a];
  for (PetscInt i = 0; i < n; i++) {
    for (PetscInt a = 0; a < d; a++) {
      PetscReal s = 0;
      for (PetscInt j = 0; j < n; j++) s += D[i * n + j] * Q[j * d + a];
      V[i * d + a] = s;
    }
  }
  for (PetscInt i = 0; i < n; i++) {
    SlimEval e = {F + i * d, P + i * d, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    if (derivs) {
      e.Fq = st->Fq + i * d2;
      e.Fv = st->Fv + i * d2;
      e.Pq = st->Pq + i * d2;
      e.Pv = st->Pv + i * d2;
    }
    if (params) {
      e.Fth = st->Fth + i * d * np;
      e.Pth = st->Pth + i * d * np;
    }
    PetscCall(st->fam->eval(th, st->t + st->tau[i], Q + i * d, V + i * d, &e));
  }
  /* rows k = 0..r+1: w_k F_k + sum_i w_i D_ik P_i; row r+1 is pi_{n+1} */
  for (PetscInt k = 0; k < n; k++) {
    for (PetscInt a = 0; a < d; a++) {
      PetscReal s = w[k] * F[k * d + a], m = PetscAbsReal(s);
      for (PetscInt i = 0; i < n; i++) {
        const PetscReal term = WD[i * n + k] * P[i * d + a];
        s += term;
        m += PetscAbsReal(term);
      }
      if (k <= r) {
        if (k == 0) s += st->pi[b * d + a], m += PetscAbsReal(st->pi[b * d + a]);
        if (Rb) Rb[k * d + a] = s;
        mag = PetscMax(mag, m);
      } else st->pinew[b * d + a] = s;
    }
  }
  for (PetscInt a = 0; a < d; a++) st->vend[b * d + a] = V[(n - 1) * d + a];
  if (Rb) st->mag[b] = mag;
  if (derivs)
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt c = 0; c < d2; c++) st->WPv[i * d2 + c] = w[i] * st->Pv[i * d2 + c];
  if (Jb) {
    for (PetscInt k = 0; k <= r; k++) {
      for (PetscInt m = 1; m < n; m++) {
        PetscReal blk[SLIM_MAX_DOF * SLIM_MAX_DOF];
        GBlock(st, k, m, blk);
        for (PetscInt a = 0; a < d; a++)
          for (PetscInt c = 0; c < d; c++) Jb[(k * d + a) * rs + ((m - 1) * d + c) * cs] = blk[a * d + c];
      }
    }
  }
  PetscFunctionReturn(0);
}

/* Forward sensitivities of the step just solved (trajectory b, converged unknowns Xb), before
 * Accept() overwrites q_n. Differentiating R(X; q_n, pi_n, theta) = 0 and pi_{n+1} = G_{r+1}:
 *   J dX/dth = -(e_0 dpi_n/dth + G_{k,0} dq_n/dth + dG_k/dth),  k = 0..r
 *   dpi_{n+1}/dth = sum_m G_{r+1,m} dX_m/dth + G_{r+1,0} dq_n/dth + dG_{r+1}/dth
 * one dense solve with np right-hand sides per trajectory and step. */
static PetscErrorCode Sensitivity(SlimStepper st, PetscInt b, const PetscReal *Xb)
{
  const PetscInt   n = st->n, d = st->dof, np = st->np, bs = st->bs, r = st->r;
  const PetscReal *w = st->w, *D = st->D;
  PetscReal       *dq = st->dq + b * d * np, *dpi = st->dpi + b * d * np, *Y = st->Ys, blk[SLIM_MAX_DOF * SLIM_MAX_DOF], keep[2 * SLIM_MAX_DOF];

  PetscFunctionBeginUser;
  /* the evaluation below must not change the step's result: the trajectory is the same with
   * and without sensitivities, bit for bit */
  for (PetscInt a = 0; a < d; a++) keep[a] = st->pinew[b * d + a], keep[d + a] = st->vend[b * d + a];
  PetscCall(BlockEval(st, b, Xb, NULL, st->Jd, bs, 1, PETSC_TRUE));
  for (PetscInt a = 0; a < d; a++) st->pinew[b * d + a] = keep[a], st->vend[b * d + a] = keep[d + a];
  /* dG_k/dth_j = w_k Fth_k + sum_i w_i D_ik Pth_i, for every row k = 0..r+1 into Gth[k][a][j] */
  for (PetscInt k = 0; k < n; k++)
    for (PetscInt a = 0; a < d; a++)
      for (PetscInt j = 0; j < np; j++) {
        PetscReal s = w[k] * st->Fth[(k * d + a) * np + j];
        for (PetscInt i = 0; i < n; i++) s += w[i] * D[i * n + k] * st->Pth[(i * d + a) * np + j];
        st->Gth[(k * d + a) * np + j] = s;
      }
  for (PetscInt k = 0; k <= r; k++) {
    GBlock(st, k, 0, blk);
    for (PetscInt a = 0; a < d; a++)
      for (PetscInt j = 0; j < np; j++) {
        PetscReal s = st->Gth[(k * d + a) * np + j] + (k == 0 ? dpi[a * np + j] : 0.0);
        for (PetscInt c = 0; c < d; c++) s += blk[a * d + c] * dq[c * np + j];
        Y[j * bs + k * d + a] = -s;
      }
  }
  PetscCall(SlimDenseSolve(bs, st->Jd, Y, np));
  /* pi_{n+1} first: it needs dq_n */
  for (PetscInt a = 0; a < d; a++)
    for (PetscInt j = 0; j < np; j++) st->dpinew[a * np + j] = st->Gth[((r + 1) * d + a) * np + j];
  for (PetscInt m = 0; m < n; m++) {
    GBlock(st, r + 1, m, blk);
    for (PetscInt a = 0; a < d; a++)
      for (PetscInt j = 0; j < np; j++) {
        PetscReal s = 0;
        for (PetscInt c = 0; c < d; c++) s += blk[a * d + c] * (m ? Y[j * bs + (m - 1) * d + c] : dq[c * np + j]);
        st->dpinew[a * np + j] += s;
      }
  }
  for (PetscInt a = 0; a < d; a++)
    for (PetscInt j = 0; j < np; j++) {
      dq[a * np + j]  = Y[j * bs + r * d + a];
      dpi[a * np + j] = st->dpinew[a * np + j];
    }
  PetscFunctionReturn(0);
}

static PetscBool AllFinite(PetscInt n, const PetscReal *x)
{
  for (PetscInt i = 0; i < n; i++)
    if (PetscIsInfOrNanReal(x[i])) return PETSC_FALSE;
  return PETSC_TRUE;
}

static void MarkFailed(SlimStepper st, PetscInt b, SNESConvergedReason reason)
{
  st->active[b]    = PETSC_FALSE;
  st->fail[b]      = (SlimFailure){reason, st->step};
  st->jac_valid    = PETSC_FALSE; /* its block becomes the identity */
  st->stats.nfailed++;
}

/* Per-trajectory convergence test at Newton iteration it, on the infinity norms of its residual
 * block |R|, of its unknowns |X| and of the Newton update that produced them |dX|. M is the
 * largest sum of absolute terms in a residual row, so tolerances are relative to what the
 * residual can resolve in floating point, not to how good the predictor was. Converged if
 *   |R| <= atol or |R| <= rtol M                   (solved to round-off), or
 *   |dX| <= xtol |X| and |R| <= stol M             (Newton converges quadratically: after an
 *                                                    update of relative size xtol the error is
 *                                                    ~xtol^2, below what |R| can show), or
 *   a linear family after its (exact) first update, |R| <= stol M.
 * Divergence (iteration limit, non-finite residual) is decided by the caller. */
static PetscBool ConvergedBlock(SlimStepper st, PetscInt b, PetscInt it, const PetscReal *Rb, const PetscReal *Xb, const PetscReal *dXb)
{
  PetscReal f = 0, x = 0, dx = 0;
  PetscBool c;

  for (PetscInt i = 0; i < st->bs; i++) f = PetscMax(f, PetscAbsReal(Rb[i]));
  c = (PetscBool)(f <= st->atol || f <= st->rtol * st->mag[b]);
  if (!c && it >= 1 && f <= st->stol * st->mag[b]) {
    if (st->fam->linear) c = PETSC_TRUE;
    else if (dXb) {
      for (PetscInt i = 0; i < st->bs; i++) x = PetscMax(x, PetscAbsReal(Xb[i])), dx = PetscMax(dx, PetscAbsReal(dXb[i]));
      c = (PetscBool)(dx <= st->xtol * x);
    }
  }
  return c;
}

static PetscErrorCode FormFunction(SNES snes, Vec X, Vec R, void *ctx)
{
  SlimStepper        st = (SlimStepper)ctx;
  const PetscScalar *x;
  PetscScalar       *f;

  PetscFunctionBeginUser;
  (void)snes;
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Residual, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(VecGetArray(R, &f));
  for (PetscInt b = 0; b < st->B; b++) {
    PetscReal *Rb = f + b * st->bs;
    if (st->conv[b]) continue; /* frozen: its residual was zeroed by the convergence test */
    if (st->active[b]) {
      PetscCall(BlockEval(st, b, x + b * st->bs, Rb, NULL, 0, 0, PETSC_FALSE));
      /* a non-finite residual fails this trajectory only; zeroing keeps the ensemble's norm finite */
      if (!AllFinite(st->bs, Rb)) MarkFailed(st, b, SNES_DIVERGED_FNORM_NAN);
    }
    if (!st->active[b]) PetscCall(PetscArrayzero(Rb, st->bs));
  }
  PetscCall(VecRestoreArray(R, &f));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Residual, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

static PetscErrorCode FormJacobian(SNES snes, Vec X, Mat J, Mat Jpre, void *ctx)
{
  SlimStepper        st = (SlimStepper)ctx;
  const PetscScalar *x;
  PetscScalar       *a;
  const PetscInt     bs = st->bs, bs2 = bs * bs;

  PetscFunctionBeginUser;
  (void)snes;
  (void)J;
  /* linear families: the Jacobian depends on neither the state nor the step, so it is assembled
   * (and the preconditioner factored) once until dt, parameters or the active set change */
  if (st->fam->linear && st->jac_valid) PetscFunctionReturn(0);
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Jacobian, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(MatSeqBAIJGetArray(Jpre, &a));
  for (PetscInt b = 0; b < st->B; b++) {
    PetscScalar *Jb = a + b * bs2;
    if (st->conv[b]) continue; /* frozen block: its zero residual makes any block give a zero update */
    if (st->active[b]) {
      PetscCall(BlockEval(st, b, x + b * bs, NULL, Jb, 1, bs, PETSC_FALSE));
      if (st->Gend) StoreEndRow(st, b);
    }
    else {
      PetscCall(PetscArrayzero(Jb, bs2));
      for (PetscInt i = 0; i < bs; i++) Jb[i * bs + i] = 1.0;
    }
  }
  PetscCall(MatSeqBAIJRestoreArray(Jpre, &a));
  /* assembly marks the values as changed, including the cached inverse diagonal blocks that
   * PCPBJACOBI uses (a state increase alone leaves that cache stale: Newton would run with the
   * first Jacobian's inverse); with the fixed pattern it costs O(B) */
  PetscCall(MatAssemblyBegin(Jpre, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(Jpre, MAT_FINAL_ASSEMBLY));
  PetscCall(VecRestoreArrayRead(X, &x));
  st->jac_valid = PETSC_TRUE;
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Jacobian, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

static PetscErrorCode ConvergenceTest(SNES snes, PetscInt it, PetscReal xnorm, PetscReal snorm, PetscReal fnorm, SNESConvergedReason *reason, void *ctx)
{
  SlimStepper        st = (SlimStepper)ctx;
  Vec                R, X, Y;
  PetscScalar       *f;
  const PetscScalar *x, *y = NULL;
  PetscBool          all = PETSC_TRUE;

  PetscFunctionBeginUser;
  (void)xnorm;
  (void)snorm;
  (void)fnorm;
  PetscCall(SNESGetFunction(snes, &R, NULL, NULL));
  PetscCall(SNESGetSolution(snes, &X));
  PetscCall(SNESGetSolutionUpdate(snes, &Y));
  PetscCall(VecGetArray(R, &f));
  PetscCall(VecGetArrayRead(X, &x));
  if (it > 0) PetscCall(VecGetArrayRead(Y, &y));
  for (PetscInt b = 0; b < st->B; b++) {
    if (!st->active[b] || st->conv[b]) continue;
    st->conv[b] = ConvergedBlock(st, b, it, f + b * st->bs, x + b * st->bs, y ? y + b * st->bs : NULL);
    /* freeze a converged trajectory: a zero residual block gives it a zero Newton update, so it
     * ends exactly where a single run of it would have stopped */
    if (st->conv[b]) PetscCall(PetscArrayzero(f + b * st->bs, st->bs));
    else all = PETSC_FALSE;
  }
  PetscCall(VecRestoreArray(R, &f));
  PetscCall(VecRestoreArrayRead(X, &x));
  if (y) PetscCall(VecRestoreArrayRead(Y, &y));
  *reason = SNES_CONVERGED_ITERATING;
  if (all) *reason = SNES_CONVERGED_FNORM_ABS;
  else if (it >= st->maxit) *reason = SNES_DIVERGED_MAX_IT;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperCreate(SlimFamily fam, PetscInt r, PetscInt B, SlimStepper *stout)
{
  SlimStepper st;
  PetscInt    n, d;

  PetscFunctionBeginUser;
  PetscCheck(r >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "r = %" PetscInt_FMT " is invalid: the number of interior points must be >= 0", r);
  PetscCheck(B >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "ensemble size %" PetscInt_FMT " is invalid: must be >= 1", B);
  PetscCall(SlimLogRegister());
  PetscCall(PetscNew(&st));
  st->fam    = fam;
  st->r      = r;
  st->n      = n = r + 2;
  st->dof    = d = fam->dof;
  st->np     = fam->nparam;
  st->B      = B;
  st->bs     = (r + 1) * d;
  st->solver = SLIM_SOLVER_SNES;
  st->rtol   = 1e-13;
  st->atol   = 0;
  st->stol   = 1e-8;
  st->xtol   = 1e-8;
  st->maxit  = 50;
  PetscCall(SlimQuadCreate(r, &st->quad));
  PetscCall(PetscMalloc4(n, &st->w, n * n, &st->D, n * n, &st->WD, n, &st->tau));
  PetscCall(PetscMalloc5(B * st->np, &st->theta, B * d, &st->q, B * d, &st->pi, B * d, &st->vpred, B * d, &st->pinew));
  PetscCall(PetscMalloc5(B * d, &st->vend, B, &st->active, B, &st->fail, B, &st->mag, B, &st->conv));
  PetscCall(PetscMalloc5(n * d, &st->Q, n * d, &st->V, n * d, &st->F, n * d, &st->P, n * d * d, &st->Fq));
  PetscCall(PetscMalloc4(n * d * d, &st->Fv, n * d * d, &st->Pq, n * d * d, &st->Pv, n * d * d, &st->WPv));
  for (PetscInt b = 0; b < B; b++) {
    PetscCall(PetscArraycpy(st->theta + b * st->np, fam->theta, st->np));
    st->active[b] = PETSC_TRUE;
    st->conv[b]   = PETSC_FALSE;
    st->fail[b]   = (SlimFailure){SNES_CONVERGED_ITERATING, -1};
  }
  PetscCall(PetscArrayzero(st->pi, B * d));
  PetscCall(PetscArrayzero(st->vpred, B * d));
  st->dt = 0;
  *stout = st;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperDestroy(SlimStepper *st)
{
  PetscFunctionBeginUser;
  if (!*st) PetscFunctionReturn(0);
  PetscCall(SNESDestroy(&(*st)->snes));
  PetscCall(MatDestroy(&(*st)->J));
  PetscCall(VecDestroy(&(*st)->X));
  PetscCall(VecDestroy(&(*st)->R));
  PetscCall(SlimQuadDestroy(&(*st)->quad));
  PetscCall(PetscFree4((*st)->w, (*st)->D, (*st)->WD, (*st)->tau));
  PetscCall(PetscFree5((*st)->theta, (*st)->q, (*st)->pi, (*st)->vpred, (*st)->pinew));
  PetscCall(PetscFree5((*st)->vend, (*st)->active, (*st)->fail, (*st)->mag, (*st)->conv));
  PetscCall(PetscFree5((*st)->Q, (*st)->V, (*st)->F, (*st)->P, (*st)->Fq));
  PetscCall(PetscFree4((*st)->Fv, (*st)->Pq, (*st)->Pv, (*st)->WPv));
  PetscCall(PetscFree4((*st)->Jd, (*st)->Rd, (*st)->Xd, (*st)->dXd));
  PetscCall(PetscFree2((*st)->LU, (*st)->piv));
  PetscCall(PetscFree((*st)->Gend));
  PetscCall(PetscFree((*st)->Xpred));
  PetscCall(PetscFree3((*st)->dq, (*st)->dpi, (*st)->dpinew));
  PetscCall(PetscFree4((*st)->Fth, (*st)->Pth, (*st)->Gth, (*st)->Ys));
  PetscCall(PetscFree(*st));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetFromOptions(SlimStepper st)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Slimplectic stepper options", NULL);
  PetscCall(PetscOptionsEnum("-slim_solver", "Nonlinear solver of each step: snes (PETSc SNES) or dense (plain Newton loop, for overhead measurements)", "SlimStepperSetSolverType", SlimSolverTypes, (PetscEnum)st->solver, (PetscEnum *)&st->solver, NULL));
  PetscCall(PetscOptionsReal("-slim_step_rtol", "Per-trajectory residual reduction (infinity norm) that ends a step's Newton iteration", NULL, st->rtol, &st->rtol, NULL));
  PetscCall(PetscOptionsReal("-slim_step_atol", "Per-trajectory absolute residual (infinity norm) that ends a step's Newton iteration", NULL, st->atol, &st->atol, NULL));
  PetscCall(PetscOptionsReal("-slim_step_stol", "Residual (relative to its largest term) below which a tiny Newton update or a linear family's exact update ends the iteration", NULL, st->stol, &st->stol, NULL));
  PetscCall(PetscOptionsReal("-slim_step_xtol", "Relative Newton update below which the step has converged (the error is then ~xtol^2)", NULL, st->xtol, &st->xtol, NULL));
  PetscCall(PetscOptionsInt("-slim_step_maxit", "Newton iterations per step before the step is declared failed", NULL, st->maxit, &st->maxit, NULL));
  PetscOptionsEnd();
  PetscCheck(st->rtol > 0 && st->rtol < 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-slim_step_rtol %g is invalid: must be in (0, 1)", (double)st->rtol);
  PetscCheck(st->atol >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-slim_step_atol %g is invalid: must be >= 0", (double)st->atol);
  PetscCheck(st->maxit >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-slim_step_maxit %" PetscInt_FMT " is invalid: must be >= 1", st->maxit);
  if (st->snes) PetscCall(SNESSetFromOptions(st->snes));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetSolverType(SlimStepper st, SlimSolverType type)
{
  PetscFunctionBeginUser;
  PetscCheck(!st->setup || type == st->solver, PETSC_COMM_SELF, PETSC_ERR_ORDER, "the solver type cannot change after SlimStepperSetUp()");
  st->solver = type;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetTimeStep(SlimStepper st, PetscReal dt)
{
  const PetscReal *x;

  PetscFunctionBeginUser;
  PetscCheck(dt > 0 && !PetscIsInfOrNanReal(dt), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "dt = %g is invalid: the step must be positive and finite", (double)dt);
  st->dt = dt;
  PetscCall(SlimQuadGetScaled(st->quad, dt, st->w, st->D));
  PetscCall(SlimQuadGetReference(st->quad, &x, NULL, NULL, NULL));
  for (PetscInt i = 0; i < st->n; i++) st->tau[i] = 0.5 * (1 + x[i]) * dt;
  for (PetscInt i = 0; i < st->n * st->n; i++) st->WD[i] = st->w[i / st->n] * st->D[i];
  st->jac_valid = st->lu_valid = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetParameters(SlimStepper st, PetscInt b, const PetscReal theta[])
{
  PetscFunctionBeginUser;
  PetscCheck(b >= 0 && b < st->B, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "trajectory %" PetscInt_FMT " out of range [0, %" PetscInt_FMT ")", b, st->B);
  for (PetscInt j = 0; j < st->np; j++) PetscCheck(!PetscIsInfOrNanReal(theta[j]), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "parameter %s = %g is not finite", st->fam->pname[j], (double)theta[j]);
  PetscCall(PetscArraycpy(st->theta + b * st->np, theta, st->np));
  st->jac_valid = st->lu_valid = PETSC_FALSE;
  PetscFunctionReturn(0);
}

static PetscErrorCode SetState(SlimStepper st, PetscInt b, PetscReal t0, const PetscReal q[], const PetscReal v[], const PetscReal pi[])
{
  const PetscInt d = st->dof;
  PetscReal     *th = st->theta + b * st->np;

  PetscFunctionBeginUser;
  PetscCheck(b >= 0 && b < st->B, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "trajectory %" PetscInt_FMT " out of range [0, %" PetscInt_FMT ")", b, st->B);
  PetscCheck(AllFinite(d, q) && AllFinite(d, v ? v : pi) && !PetscIsInfOrNanReal(t0), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "initial state of trajectory %" PetscInt_FMT " is not finite", b);
  PetscCall(PetscArraycpy(st->q + b * d, q, d));
  if (v) {
    PetscCall(PetscArraycpy(st->vpred + b * d, v, d));
    PetscCall(SlimFamilyMomentum(st->fam, th, t0, q, v, st->pi + b * d));
  } else {
    PetscCall(PetscArraycpy(st->pi + b * d, pi, d));
    PetscCall(PetscArrayzero(st->vpred + b * d, d));
    PetscCall(SlimFamilyVelocity(st->fam, th, t0, q, pi, st->vpred + b * d));
  }
  if (st->sens) {
    /* q_0 does not depend on theta; pi_0 = P(q_0, qdot_0; theta) does when qdot_0 is given */
    PetscReal *dq = st->dq + b * d * st->np, *dpi = st->dpi + b * d * st->np;
    PetscCall(PetscArrayzero(dq, d * st->np));
    PetscCall(PetscArrayzero(dpi, d * st->np));
    if (v) {
      PetscReal P[SLIM_MAX_DOF];
      SlimEval  e = {NULL, P, NULL, NULL, NULL, NULL, NULL, dpi, NULL, NULL};
      PetscCall(st->fam->eval(th, t0, q, v, &e));
    }
  }
  st->t       = t0;
  st->step    = 0;
  if (!st->active[b]) st->jac_valid = st->lu_valid = PETSC_FALSE;
  st->active[b] = PETSC_TRUE;
  st->fail[b]   = (SlimFailure){SNES_CONVERGED_ITERATING, -1};
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetInitialState(SlimStepper st, PetscInt b, PetscReal t0, const PetscReal q[], const PetscReal v[])
{
  PetscFunctionBeginUser;
  PetscCall(SetState(st, b, t0, q, v, NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetInitialMomentum(SlimStepper st, PetscInt b, PetscReal t0, const PetscReal q[], const PetscReal pi[])
{
  PetscFunctionBeginUser;
  PetscCall(SetState(st, b, t0, q, NULL, pi));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetUp(SlimStepper st)
{
  KSP            ksp;
  PC             pc;
  SNESLineSearch ls;
  PetscReal     *id;
  const PetscInt bs = st->bs, N = st->B * bs;

  PetscFunctionBeginUser;
  if (st->setup) PetscFunctionReturn(0);
  PetscCheck(st->dt > 0, PETSC_COMM_SELF, PETSC_ERR_ORDER, "SlimStepperSetTimeStep() must be called before the first step");
  if (!st->Jd) PetscCall(PetscMalloc4(bs * bs, &st->Jd, bs, &st->Rd, bs, &st->Xd, bs, &st->dXd));
  if (st->solver == SLIM_SOLVER_DENSE && st->fam->linear) PetscCall(PetscMalloc2((size_t)st->B * bs * bs, &st->LU, st->B * bs, &st->piv));
  if (st->fam->linear) PetscCall(PetscMalloc1((size_t)st->B * (st->n - 1) * st->dof * st->dof, &st->Gend));
  if (st->solver == SLIM_SOLVER_SNES) {
    PetscCall(VecCreateSeq(PETSC_COMM_SELF, N, &st->X));
    PetscCall(VecDuplicate(st->X, &st->R));
    /* block-diagonal pattern fixed once; later Jacobians overwrite the block values in place */
    PetscCall(MatCreateSeqBAIJ(PETSC_COMM_SELF, bs, N, N, 1, NULL, &st->J));
    PetscCall(PetscCalloc1(bs * bs, &id));
    for (PetscInt i = 0; i < bs; i++) id[i * bs + i] = 1.0;
    for (PetscInt b = 0; b < st->B; b++) PetscCall(MatSetValuesBlocked(st->J, 1, &b, 1, &b, id, INSERT_VALUES));
    PetscCall(PetscFree(id));
    PetscCall(MatAssemblyBegin(st->J, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(st->J, MAT_FINAL_ASSEMBLY));
    PetscCall(SNESCreate(PETSC_COMM_SELF, &st->snes));
    PetscCall(SNESSetOptionsPrefix(st->snes, "slim_"));
    PetscCall(SNESSetType(st->snes, SNESNEWTONLS));
    PetscCall(SNESSetFunction(st->snes, st->R, FormFunction, st));
    PetscCall(SNESSetJacobian(st->snes, st->J, st->J, FormJacobian, st));
    PetscCall(SNESSetConvergenceTest(st->snes, ConvergenceTest, st, NULL));
    PetscCall(SNESSetTolerances(st->snes, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT, st->maxit, PETSC_DEFAULT));
    /* Newton on these equations needs no globalisation; the basic line search costs one residual */
    PetscCall(SNESGetLineSearch(st->snes, &ls));
    PetscCall(SNESLineSearchSetType(ls, SNESLINESEARCHBASIC));
    /* the blocks are independent: invert each exactly */
    PetscCall(SNESGetKSP(st->snes, &ksp));
    PetscCall(KSPSetType(ksp, KSPPREONLY));
    PetscCall(KSPGetPC(ksp, &pc));
    PetscCall(PCSetType(pc, PCPBJACOBI));
    /* a linear family is solved by one exact Newton update: no residual check after it */
    if (st->fam->linear) PetscCall(SNESSetType(st->snes, SNESKSPONLY));
    PetscCall(SNESSetFromOptions(st->snes));
    PetscCall(PetscObjectTypeCompare((PetscObject)st->snes, SNESKSPONLY, &st->ksponly));
    PetscCheck(!st->ksponly || st->fam->linear, PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-slim_snes_type ksponly: family %s is nonlinear and needs Newton iterations", st->fam->name);
    if (st->ksponly) PetscCall(PetscMalloc1(N, &st->Xpred));
  }
  st->setup = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* Initial guess: q_n + qdot_n tau_k, where qdot_n is the previous step's end-point derivative. */
static void Predict(SlimStepper st, PetscInt b, PetscReal *Xb)
{
  const PetscInt d = st->dof;
  for (PetscInt k = 1; k < st->n; k++)
    for (PetscInt a = 0; a < d; a++) Xb[(k - 1) * d + a] = st->q[b * d + a] + st->vpred[b * d + a] * st->tau[k];
}

/* Accept the converged unknowns of trajectory b (pinew/vend hold the values at Xb). */
static void Accept(SlimStepper st, PetscInt b, const PetscReal *Xb)
{
  const PetscInt d = st->dof;
  for (PetscInt a = 0; a < d; a++) {
    st->q[b * d + a]     = Xb[st->r * d + a];
    st->pi[b * d + a]    = st->pinew[b * d + a];
    st->vpred[b * d + a] = st->vend[b * d + a];
  }
  SlimFamilyWrap(st->fam, st->q + b * d); /* periodic coordinates (angles) stay in one period */
}

static PetscErrorCode StepSNES(SlimStepper st, PetscInt *its)
{
  PetscScalar        *x;
  SNESConvergedReason reason;
  PetscInt            lits;

  PetscFunctionBeginUser;
  PetscCall(VecGetArray(st->X, &x));
  for (PetscInt b = 0; b < st->B; b++) {
    st->conv[b] = PETSC_FALSE;
    if (st->active[b]) Predict(st, b, x + b * st->bs);
    else PetscCall(PetscArrayzero(x + b * st->bs, st->bs));
  }
  if (st->ksponly) PetscCall(PetscArraycpy(st->Xpred, x, st->B * st->bs));
  PetscCall(VecRestoreArray(st->X, &x));
  PetscCall(SNESSolve(st->snes, NULL, st->X));
  PetscCall(SNESGetConvergedReason(st->snes, &reason));
  PetscCall(SNESGetIterationNumber(st->snes, its));
  PetscCall(SNESGetLinearSolveIterations(st->snes, &lits));
  st->stats.linear_total += lits;
  PetscCall(VecGetArray(st->X, &x));
  for (PetscInt b = 0; b < st->B; b++) {
    if (!st->active[b]) continue;
    /* SNESKSPONLY: one exact Newton update of a linear family, no residual after it */
    if (st->ksponly && reason > 0) {
      EndUpdate(st, b, x + b * st->bs, st->Xpred + b * st->bs);
      st->conv[b] = PETSC_TRUE;
      *its        = 1;
    }
    if (st->conv[b]) {
      if (st->sens) PetscCall(Sensitivity(st, b, x + b * st->bs));
      Accept(st, b, x + b * st->bs);
    }
    else MarkFailed(st, b, reason > 0 ? SNES_DIVERGED_MAX_IT : reason);
  }
  PetscCall(VecRestoreArray(st->X, &x));
  PetscFunctionReturn(0);
}

/* The plain dense Newton loop: same BlockEval and convergence test, LU of each block. */
static PetscErrorCode StepDense(SlimStepper st, PetscInt *its)
{
  const PetscInt bs = st->bs;
  PetscReal     *Xb = st->Xd;

  PetscFunctionBeginUser;
  *its = 0;
  if (st->fam->linear && !st->lu_valid) {
    /* a linear family's Jacobian does not depend on the state: factor it once per trajectory */
    PetscCall(PetscLogEventBegin(SLIM_EVENT_Jacobian, 0, 0, 0, 0));
    for (PetscInt b = 0; b < st->B; b++) {
      PetscReal *LU = st->LU + (size_t)b * bs * bs;
      if (!st->active[b]) continue;
      Predict(st, b, Xb);
      PetscCall(BlockEval(st, b, Xb, NULL, LU, bs, 1, PETSC_FALSE));
      StoreEndRow(st, b);
      PetscCall(SlimDenseLUFactor(bs, LU, st->piv + b * bs));
    }
    st->lu_valid = PETSC_TRUE;
    PetscCall(PetscLogEventEnd(SLIM_EVENT_Jacobian, 0, 0, 0, 0));
  }
  if (st->fam->linear) {
    /* one residual, one triangular solve, the end-point update: exact for a linear family */
    for (PetscInt b = 0; b < st->B; b++) {
      if (!st->active[b]) continue;
      Predict(st, b, Xb);
      PetscCall(PetscArraycpy(st->dXd, Xb, bs));
      PetscCall(PetscLogEventBegin(SLIM_EVENT_Residual, 0, 0, 0, 0));
      PetscCall(BlockEval(st, b, Xb, st->Rd, NULL, 0, 0, PETSC_FALSE));
      PetscCall(PetscLogEventEnd(SLIM_EVENT_Residual, 0, 0, 0, 0));
      if (!AllFinite(bs, st->Rd)) {
        MarkFailed(st, b, SNES_DIVERGED_FNORM_NAN);
        continue;
      }
      PetscCall(SlimDenseLUSolve(bs, st->LU + (size_t)b * bs * bs, st->piv + b * bs, st->Rd, 1));
      for (PetscInt i = 0; i < bs; i++) Xb[i] -= st->Rd[i];
      EndUpdate(st, b, Xb, st->dXd);
      if (st->sens) PetscCall(Sensitivity(st, b, Xb));
      Accept(st, b, Xb);
      *its = 1;
    }
    PetscFunctionReturn(0);
  }
  for (PetscInt b = 0; b < st->B; b++) {
    PetscInt it;
    if (!st->active[b]) continue;
    Predict(st, b, Xb);
    for (it = 0;; it++) {
      PetscCall(PetscLogEventBegin(SLIM_EVENT_Residual, 0, 0, 0, 0));
      PetscCall(BlockEval(st, b, Xb, st->Rd, NULL, 0, 0, PETSC_FALSE));
      PetscCall(PetscLogEventEnd(SLIM_EVENT_Residual, 0, 0, 0, 0));
      if (!AllFinite(bs, st->Rd)) {
        MarkFailed(st, b, SNES_DIVERGED_FNORM_NAN);
        break;
      }
      if (ConvergedBlock(st, b, it, st->Rd, Xb, it ? st->dXd : NULL)) {
        if (st->sens) PetscCall(Sensitivity(st, b, Xb));
        Accept(st, b, Xb);
        break;
      }
      if (it >= st->maxit) {
        MarkFailed(st, b, SNES_DIVERGED_MAX_IT);
        break;
      }
      if (st->fam->linear) {
        /* a linear family's Jacobian is constant: factor once, then one triangular solve a step */
        PetscCall(SlimDenseLUSolve(bs, st->LU + (size_t)b * bs * bs, st->piv + b * bs, st->Rd, 1));
      } else {
        PetscCall(PetscLogEventBegin(SLIM_EVENT_Jacobian, 0, 0, 0, 0));
        PetscCall(BlockEval(st, b, Xb, NULL, st->Jd, bs, 1, PETSC_FALSE));
        PetscCall(PetscLogEventEnd(SLIM_EVENT_Jacobian, 0, 0, 0, 0));
        PetscCall(SlimDenseSolve(bs, st->Jd, st->Rd, 1));
      }
      for (PetscInt i = 0; i < bs; i++) st->dXd[i] = st->Rd[i], Xb[i] -= st->Rd[i];
    }
    *its = PetscMax(*its, it);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperStep(SlimStepper st)
{
  PetscInt its = 0;

  PetscFunctionBeginUser;
  PetscCall(SlimStepperSetUp(st));
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Step, 0, 0, 0, 0));
  if (st->solver == SLIM_SOLVER_SNES) PetscCall(StepSNES(st, &its));
  else PetscCall(StepDense(st, &its));
  st->t += st->dt;
  st->step++;
  st->stats.steps++;
  st->stats.newton_total += its;
  st->stats.newton_max = PetscMax(st->stats.newton_max, its);
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Step, 0, 0, 0, 0));
  PetscCall(SlimPoll());
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetMonitor(SlimStepper st, PetscInt stride, SlimStepperMonitorFn fn, void *ctx)
{
  PetscFunctionBeginUser;
  PetscCheck(stride >= 1 || !fn, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "monitor stride %" PetscInt_FMT " must be >= 1", stride);
  st->mon_stride = stride;
  st->mon        = fn;
  st->mon_ctx    = ctx;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperIntegrate(SlimStepper st, PetscInt N)
{
  PetscFunctionBeginUser;
  PetscCheck(N >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "N = %" PetscInt_FMT " is invalid: the step count must be >= 0", N);
  PetscCall(SlimStepperSetUp(st));
  if (st->mon && st->step == 0) PetscCall(st->mon(st, 0, st->mon_ctx));
  for (PetscInt i = 0; i < N; i++) {
    PetscCall(SlimStepperStep(st));
    if (st->mon && st->step % st->mon_stride == 0) PetscCall(st->mon(st, st->step, st->mon_ctx));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetState(SlimStepper st, PetscInt b, PetscReal *t, PetscReal q[], PetscReal pi[])
{
  PetscFunctionBeginUser;
  if (t) *t = st->t;
  if (q) PetscCall(PetscArraycpy(q, st->q + b * st->dof, st->dof));
  if (pi) PetscCall(PetscArraycpy(pi, st->pi + b * st->dof, st->dof));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetVelocity(SlimStepper st, PetscInt b, PetscReal v[])
{
  const PetscInt d = st->dof;

  PetscFunctionBeginUser;
  /* the end-point derivative of the last step is an O(dt^(r+1)) guess; Newton makes it exact */
  PetscCall(PetscArraycpy(v, st->vpred + b * d, d));
  PetscCall(SlimFamilyVelocity(st->fam, st->theta + b * st->np, st->t, st->q + b * d, st->pi + b * d, v));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetEnergy(SlimStepper st, PetscInt b, PetscReal *E)
{
  PetscReal v[SLIM_MAX_DOF];

  PetscFunctionBeginUser;
  PetscCall(SlimStepperGetVelocity(st, b, v));
  PetscCall(st->fam->energy(st->theta + b * st->np, st->t, st->q + b * st->dof, v, E));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetStepIndex(SlimStepper st, PetscInt *n)
{
  PetscFunctionBeginUser;
  *n = st->step;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetFailure(SlimStepper st, PetscInt b, SlimFailure *f)
{
  PetscFunctionBeginUser;
  *f = st->fail[b];
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetStats(SlimStepper st, SlimStepStats *s)
{
  PetscFunctionBeginUser;
  *s = st->stats;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperResetStats(SlimStepper st)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&st->stats, sizeof(st->stats)));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetSNES(SlimStepper st, SNES *snes)
{
  PetscFunctionBeginUser;
  PetscCall(SlimStepperSetUp(st));
  *snes = st->snes;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetSizes(SlimStepper st, PetscInt *r, PetscInt *B, PetscInt *dof)
{
  PetscFunctionBeginUser;
  if (r) *r = st->r;
  if (B) *B = st->B;
  if (dof) *dof = st->dof;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperSetSensitivities(SlimStepper st, PetscBool on)
{
  const PetscInt n = st->n, d = st->dof, np = st->np;

  PetscFunctionBeginUser;
  if (on && !st->dq) {
    PetscCall(PetscCalloc3(st->B * d * np, &st->dq, st->B * d * np, &st->dpi, d * np, &st->dpinew));
    PetscCall(PetscMalloc4(n * d * np, &st->Fth, n * d * np, &st->Pth, n * d * np, &st->Gth, st->bs * np, &st->Ys));
  }
  if (on && !st->Jd) PetscCall(PetscMalloc4(st->bs * st->bs, &st->Jd, st->bs, &st->Rd, st->bs, &st->Xd, st->bs, &st->dXd));
  st->sens = on;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepperGetSensitivities(SlimStepper st, PetscInt b, PetscReal dq[], PetscReal dpi[], PetscReal dv[])
{
  const PetscInt d = st->dof, np = st->np;

  PetscFunctionBeginUser;
  PetscCheck(st->sens, PETSC_COMM_SELF, PETSC_ERR_ORDER, "sensitivities are off: call SlimStepperSetSensitivities() before setting the initial state");
  if (dq) PetscCall(PetscArraycpy(dq, st->dq + b * d * np, d * np));
  if (dpi) PetscCall(PetscArraycpy(dpi, st->dpi + b * d * np, d * np));
  if (dv) {
    /* v = V(q, pi; theta) from P(q, v; theta) = pi:  Pv dv = dpi - Pq dq - Pth */
    PetscReal v[SLIM_MAX_DOF], P[SLIM_MAX_DOF], Pq[SLIM_MAX_DOF * SLIM_MAX_DOF], Pv[SLIM_MAX_DOF * SLIM_MAX_DOF], Pth[SLIM_MAX_DOF * SLIM_MAX_PARAM], rhs[SLIM_MAX_DOF * SLIM_MAX_PARAM];
    const PetscReal *q = st->q + b * d, *sq = st->dq + b * d * np, *sp = st->dpi + b * d * np;
    SlimEval         e = {NULL, P, NULL, NULL, Pq, Pv, NULL, Pth, NULL, NULL};
    PetscCall(SlimStepperGetVelocity(st, b, v));
    PetscCall(st->fam->eval(st->theta + b * np, st->t, q, v, &e));
    for (PetscInt j = 0; j < np; j++)
      for (PetscInt a = 0; a < d; a++) {
        PetscReal s = sp[a * np + j] - Pth[a * np + j];
        for (PetscInt c = 0; c < d; c++) s -= Pq[a * d + c] * sq[c * np + j];
        rhs[j * d + a] = s;
      }
    PetscCall(SlimDenseSolve(d, Pv, rhs, np));
    for (PetscInt a = 0; a < d; a++)
      for (PetscInt j = 0; j < np; j++) dv[a * np + j] = rhs[j * d + a];
  }
  PetscFunctionReturn(0);
}
