/* The per-trajectory kernel of the slimplectic step (physics.md, "One step: the implicit
 * discrete equations"). Per trajectory b the unknowns are the node values q^(1..r+1), held as
 * increments Z_k = q^(k) - q_n from the known node 0 (Hairer & Wanner IV.8: the small increments
 * carry the round-off of the solve, and the node velocities D Z do not difference positions
 * |q| >> |qdot| dt):
 *   R_k = delta_k0 pi_n + w_k F_k + sum_i w_i D_ik P_i = 0,   k = 0..r
 *   pi_{n+1} = w_{r+1} F_{r+1} + sum_i w_i D_{i,r+1} P_i = pi_n + sum_k (w_k F_k + sum_i w_i D_ik P_i)
 * (the second form, the step's impulse, since the rows k <= r vanish and sum_k D_ik = 0)
 * One family evaluation per node and Newton iteration fills F, P and their derivatives; the
 * Jacobian is assembled from those derivatives without evaluating the family again:
 *   dR_k/dq^(m) = w_k Fq_k delta_km + w_k D_km Fv_k + w_m D_mk Pq_m + sum_i w_i D_ik D_im Pv_i
 * The loops run along contiguous rows (axpy form: no floating-point reductions for the compiler
 * to refuse to vectorise), with the quadrature products w_i D_ik and D^T precomputed per dt.
 * The same code is compiled with the dof known (any r), with n and dof known (r <= 4, where the
 * compiler unrolls everything) and with both at run time (the generic kernel; -slim_step_kernel
 * chooses, for measuring what the instances gain). */

#include "stepkernel.h"

const char *const SlimStepKernelTypes[] = {"generic", "dof", "nodes", "SlimStepKernelType", "SLIM_KERNEL_", NULL};

#define SLIM_KERNEL_DEFINE(N, DOF) \
  static PetscErrorCode Eval_##N##_##DOF(SlimStepper st, PetscInt b, const PetscReal *Xb, PetscReal *Rb, PetscReal *nd, PetscBool params) \
  { \
    return EvalKernel(st, b, Xb, Rb, nd, params, (N) ? (N) : st->n, DOF); \
  } \
  static void Jacobian_##N##_##DOF(SlimStepper st, const PetscReal *nd, PetscReal *J) \
  { \
    JacobianKernel(st, nd, J, (N) ? (N) : st->n, DOF); \
  }
SLIM_KERNEL_INSTANCES(SLIM_KERNEL_DEFINE)

/* Block LU for the block sizes of the (n, dof) instances: (r+1) dof with r <= 4, dof <= 2 */
#define SLIM_LU_SIZES(X) X(1) X(2) X(3) X(4) X(5) X(6) X(8) X(10)
#define SLIM_LU_DEFINE(N) \
  static PetscInt LUFactor_##N(PetscInt n, PetscReal *A, PetscInt *piv) \
  { \
    (void)n; \
    return DenseLUFactorKernel(N, A, piv); \
  } \
  static void LUSolveT_##N(PetscInt n, const PetscReal *LU, const PetscInt *piv, PetscReal *b) \
  { \
    (void)n; \
    DenseLUSolveTransposeKernel(N, LU, piv, b); \
  }
SLIM_LU_SIZES(SLIM_LU_DEFINE)

static PetscInt LUFactor_Generic(PetscInt n, PetscReal *A, PetscInt *piv)
{
  return DenseLUFactorKernel(n, A, piv);
}

static void LUSolveT_Generic(PetscInt n, const PetscReal *LU, const PetscInt *piv, PetscReal *b)
{
  DenseLUSolveTransposeKernel(n, LU, piv, b);
}

static PetscErrorCode Eval_Generic(SlimStepper st, PetscInt b, const PetscReal *Xb, PetscReal *Rb, PetscReal *nd, PetscBool params)
{
  return EvalKernel(st, b, Xb, Rb, nd, params, st->n, st->dof);
}

static void Jacobian_Generic(SlimStepper st, const PetscReal *nd, PetscReal *J)
{
  JacobianKernel(st, nd, J, st->n, st->dof);
}

PetscErrorCode SlimStepSelectKernel(SlimStepper st)
{
  PetscFunctionBeginUser;
  st->ops.eval     = Eval_Generic;
  st->ops.jacobian = Jacobian_Generic;
  st->ops.lufactor = LUFactor_Generic;
  st->ops.lusolvet = LUSolveT_Generic;
#define SLIM_KERNEL_SELECT(N, DOF) \
  if (SLIM_KERNEL_MATCHES(st, N, DOF)) { \
    st->ops.eval     = Eval_##N##_##DOF; \
    st->ops.jacobian = Jacobian_##N##_##DOF; \
  }
  SLIM_KERNEL_INSTANCES(SLIM_KERNEL_SELECT)
#define SLIM_LU_SELECT(N) \
  if (st->kernel >= SLIM_KERNEL_NODES && st->bs == N) { \
    st->ops.lufactor = LUFactor_##N; \
    st->ops.lusolvet = LUSolveT_##N; \
  }
  SLIM_LU_SIZES(SLIM_LU_SELECT)
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepEval(SlimStepper st, PetscInt b, const PetscReal *Xb, PetscReal *Rb, PetscReal *nd, PetscBool params)
{
  return st->ops.eval(st, b, Xb, Rb, nd, params);
}

void SlimStepJacobian(SlimStepper st, const PetscReal *nd, PetscReal *J)
{
  st->ops.jacobian(st, nd, J);
}

/* dG_k/dq^(m), k, m = 0..r+1, one dof x dof block (row-major), where
 * G_k = w_k F_k + sum_i w_i D_ik P_i: the rows and columns the Newton Jacobian leaves out
 * (row r+1 = pi_{n+1}, column 0 = q_n), for sensitivities and linear end-point updates. */
static void GBlock(SlimStepper st, const PetscReal *nd, PetscInt k, PetscInt m, PetscReal blk[])
{
  const PetscInt   n = st->n, d2 = st->dof * st->dof;
  const PetscReal *w = st->w, *D = st->D;
  const PetscReal *Fq = nd + SLIM_ND_FQ * n * d2, *Fv = nd + SLIM_ND_FV * n * d2, *Pq = nd + SLIM_ND_PQ * n * d2, *Pv = nd + SLIM_ND_PV * n * d2;

  for (PetscInt c = 0; c < d2; c++) blk[c] = w[k] * D[k * n + m] * Fv[k * d2 + c] + w[m] * D[m * n + k] * Pq[m * d2 + c];
  if (k == m)
    for (PetscInt c = 0; c < d2; c++) blk[c] += w[k] * Fq[k * d2 + c];
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal dd = w[i] * D[i * n + k] * D[i * n + m];
    if (dd == 0.0) continue;
    for (PetscInt c = 0; c < d2; c++) blk[c] += dd * Pv[i * d2 + c];
  }
}

/* Linear families: after an evaluation with node derivatives nd, keep the derivatives of the
 * impulse sum_k G_k (EvalKernel) in the unknowns, d/dq^(m) = sum_k G_km, m = 1..r+1. */
void SlimStepStoreImpulseRow(SlimStepper st, PetscInt b, const PetscReal *nd)
{
  const PetscInt d2 = st->dof * st->dof;
  PetscReal      blk[SLIM_MAX_DOF * SLIM_MAX_DOF];

  for (PetscInt m = 1; m < st->n; m++) {
    PetscReal *g = st->Gimp + ((size_t)b * (st->n - 1) + (m - 1)) * d2;
    for (PetscInt c = 0; c < d2; c++) g[c] = 0;
    for (PetscInt k = 0; k < st->n; k++) {
      GBlock(st, nd, k, m, blk);
      for (PetscInt c = 0; c < d2; c++) g[c] += blk[c];
    }
  }
}

/* Linear families: the impulse and qdot(t_{n+1}) at the solved unknowns Xb from their values at
 * the predicted Xp (left by the one residual evaluation): exact, because both are linear in X. */
void SlimStepEndUpdate(SlimStepper st, PetscInt b, const PetscReal *Xb, const PetscReal *Xp)
{
  const PetscInt   n = st->n, d = st->dof, d2 = d * d;
  const PetscReal *G = st->Gimp + (size_t)b * (n - 1) * d2, *Dn = st->D + (n - 1) * n;
  for (PetscInt a = 0; a < d; a++) {
    PetscReal p = st->impulse[b * d + a], v = 0; /* X holds increments: D annihilates q_n */
    for (PetscInt m = 1; m < n; m++) {
      for (PetscInt c = 0; c < d; c++) p += G[(m - 1) * d2 + a * d + c] * (Xb[(m - 1) * d + c] - Xp[(m - 1) * d + c]);
      v += Dn[m] * Xb[(m - 1) * d + a];
    }
    st->impulse[b * d + a] = p;
    st->vend[b * d + a]  = v;
  }
}

/* Forward sensitivities of the step just solved (trajectory b, converged unknowns Xb), before
 * SlimStepAccept() overwrites q_n. Here X are the node positions Q = q_n + Z (the Jacobian in Z and
 * in Q is the same; q_n enters through its own column G_{k,0} on the right-hand side), so Y holds
 * dQ/dth and dq_{n+1}/dth = dQ_{r+1}/dth. Differentiating R(X; q_n, pi_n, theta) = 0 and
 * pi_{n+1} = G_{r+1}:
 *   J dX/dth = -(e_0 dpi_n/dth + G_{k,0} dq_n/dth + dG_k/dth),  k = 0..r
 *   dpi_{n+1}/dth = sum_m G_{r+1,m} dX_m/dth + G_{r+1,0} dq_n/dth + dG_{r+1}/dth
 * one dense solve with np right-hand sides per trajectory and step. */
PetscErrorCode SlimStepSensitivity(SlimStepper st, PetscInt b, const PetscReal *Xb)
{
  const PetscInt   n = st->n, d = st->dof, np = st->np, bs = st->bs, r = st->r;
  const PetscReal *w = st->w, *D = st->D;
  PetscReal       *dq = st->dq + b * d * np, *dpi = st->dpi + b * d * np, *Y = st->Ys, *nd = st->ndsens, blk[SLIM_MAX_DOF * SLIM_MAX_DOF], keep[2 * SLIM_MAX_DOF];

  PetscFunctionBeginUser;
  /* the evaluation below must not change the step's result: the trajectory is the same with
   * and without sensitivities, bit for bit */
  for (PetscInt a = 0; a < d; a++) keep[a] = st->impulse[b * d + a], keep[d + a] = st->vend[b * d + a];
  PetscCall(SlimStepEval(st, b, Xb, NULL, nd, PETSC_TRUE));
  SlimStepJacobian(st, nd, st->Jd); /* the transpose, factored below */
  PetscCheck(DenseLUFactorKernel(bs, st->Jd, st->spiv) < 0, PETSC_COMM_SELF, PETSC_ERR_MAT_LU_ZRPVT, "sensitivities: singular step Jacobian of trajectory %" PetscInt_FMT " at step %" PetscInt_FMT, b, st->step);
  for (PetscInt a = 0; a < d; a++) st->impulse[b * d + a] = keep[a], st->vend[b * d + a] = keep[d + a];
  /* dG_k/dth_j = w_k Fth_k + sum_i w_i D_ik Pth_i, for every row k = 0..r+1 into Gth[k][a][j] */
  for (PetscInt k = 0; k < n; k++)
    for (PetscInt a = 0; a < d; a++)
      for (PetscInt j = 0; j < np; j++) {
        PetscReal s = w[k] * st->Fth[(k * d + a) * np + j];
        for (PetscInt i = 0; i < n; i++) s += w[i] * D[i * n + k] * st->Pth[(i * d + a) * np + j];
        st->Gth[(k * d + a) * np + j] = s;
      }
  for (PetscInt k = 0; k <= r; k++) {
    GBlock(st, nd, k, 0, blk);
    for (PetscInt a = 0; a < d; a++)
      for (PetscInt j = 0; j < np; j++) {
        PetscReal s = st->Gth[(k * d + a) * np + j] + (k == 0 ? dpi[a * np + j] : 0.0);
        for (PetscInt c = 0; c < d; c++) s += blk[a * d + c] * dq[c * np + j];
        Y[j * bs + k * d + a] = -s;
      }
  }
  for (PetscInt j = 0; j < np; j++) DenseLUSolveTransposeKernel(bs, st->Jd, st->spiv, Y + j * bs);
  /* pi_{n+1} first: it needs dq_n */
  for (PetscInt a = 0; a < d; a++)
    for (PetscInt j = 0; j < np; j++) st->dpinew[a * np + j] = st->Gth[((r + 1) * d + a) * np + j];
  for (PetscInt m = 0; m < n; m++) {
    GBlock(st, nd, r + 1, m, blk);
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

void SlimStepMarkFailed(SlimStepper st, PetscInt b, SNESConvergedReason reason)
{
  st->active[b] = PETSC_FALSE;
  st->fail[b]   = (SlimFailure){reason, st->step};
  st->jac_valid = PETSC_FALSE; /* its block becomes the identity */
  st->stats.nfailed++;
}

/* Predictor weights: the new step's node x_k is x_k + 2 in the previous step's reference
 * coordinate; Lagrange interpolation through npred of the previous step's nodes (equispaced
 * indices, both end points included: the prediction passes through q_n exactly). Interpolating
 * all r+2 nodes would extrapolate with weights that grow fast with r; degree 3 already makes the
 * guess O(dt^4) accurate, so two Newton iterations reach round-off at moderate dt. */
PetscErrorCode SlimStepSetUpPredictor(SlimStepper st)
{
  const PetscInt   n = st->n;
  const PetscReal *x;

  PetscFunctionBeginUser;
  PetscCall(SlimQuadGetReference(st->quad, &x, NULL, NULL, NULL));
  st->npred = PetscMin(n - 1, st->pred_degree) + 1;
  PetscCall(PetscFree2(st->Epred, st->ipred));
  PetscCall(PetscMalloc2((n - 1) * st->npred, &st->Epred, st->npred, &st->ipred));
  for (PetscInt j = 0; j < st->npred; j++) st->ipred[j] = (PetscInt)PetscFloorReal((PetscReal)(j * (n - 1)) / (st->npred - 1) + 0.5);
  for (PetscInt k = 1; k < n; k++) {
    const PetscReal xk = x[k] + 2;
    for (PetscInt j = 0; j < st->npred; j++) {
      PetscReal l = 1;
      for (PetscInt m = 0; m < st->npred; m++)
        if (m != j) l *= (xk - x[st->ipred[m]]) / (x[st->ipred[j]] - x[st->ipred[m]]);
      st->Epred[(k - 1) * st->npred + j] = l;
    }
  }
  PetscFunctionReturn(0);
}

/* Initial guess of trajectory b, as increments from q_n: the previous step's node polynomial
 * extrapolated, or after a (re)start qdot_n tau_k. */
void SlimStepPredict(SlimStepper st, PetscInt b, PetscReal *Xb)
{
  PredictKernel(st, b, Xb, st->n, st->dof);
}

/* Accept the converged unknowns of trajectory b (impulse/vend hold the values at Xb); keep the
 * nodes the next step's predictor needs. */
void SlimStepAccept(SlimStepper st, PetscInt b, const PetscReal *Xb)
{
  AcceptKernel(st, b, Xb, st->n, st->dof);
}
