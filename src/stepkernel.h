#pragma once
/* The arithmetic of one trajectory's step (see stepkernel.c), as always-inline functions of
 * the node count n and the dof so that the callers can compile instances with both known. */
#include "stepimpl.h"
#include "denseimpl.h"

/* Compiled instances (n, dof): n = 0 means n at run time with the dof known (SLIM_KERNEL_DOF,
 * any r), the others have both known (SLIM_KERNEL_NODES: r <= 4, one or two dof). */
#define SLIM_KERNEL_INSTANCES(X) X(0, 1) X(0, 2) X(2, 1) X(3, 1) X(4, 1) X(5, 1) X(6, 1) X(2, 2) X(3, 2) X(4, 2) X(5, 2) X(6, 2)
/* Whether instance (N, DOF) serves stepper st at the chosen level; later matches override. */
#define SLIM_KERNEL_MATCHES(st, N, DOF) ((st)->dof == (DOF) && ((N) == 0 ? (st)->kernel >= SLIM_KERNEL_DOF : (st)->kernel >= SLIM_KERNEL_NODES && (st)->n == (N)))

/* pi_{n+1} = G_{r+1} = sum_k G_k - sum_{k<=r} G_k = pi_n + sum_k (w_k F_k + WDs_k P_k) where the
 * rows k <= r vanish: the step's impulse, computed without the cancellation of the large terms of
 * G_{r+1} (round-off ~eps |p| instead of ~eps sum|w D P|), from the F and P of the latest
 * evaluation (EvalKernel's, of trajectory b). */
SLIM_ALWAYS_INLINE void ImpulseKernel(SlimStepper st, PetscInt b, const PetscInt n, const PetscInt d)
{
  const PetscReal *PETSC_RESTRICT w = st->w, *PETSC_RESTRICT s = st->WDs, *PETSC_RESTRICT F = st->F, *PETSC_RESTRICT P = st->P;

  for (PetscInt a = 0; a < d; a++) {
    PetscReal imp = 0;
    for (PetscInt k = 0; k < n; k++) imp += w[k] * F[k * d + a] + s[k] * P[k * d + a];
    st->impulse[b * d + a] = imp;
  }
}

/* Residual rows into Rb (may be NULL), pi_{n+1}, qdot(t_{n+1}) and the residual scale of b;
 * node derivatives into nd (may be NULL); parameter derivatives into st->Fth/Pth if params. */
SLIM_ALWAYS_INLINE PetscErrorCode EvalKernel(SlimStepper st, PetscInt b, const PetscReal *Xb, PetscReal *Rb, PetscReal *nd, PetscBool params, const PetscInt n, const PetscInt d)
{
  const PetscInt   d2 = d * d, np = st->np;
  const PetscReal *PETSC_RESTRICT w = st->w, *PETSC_RESTRICT Dt = st->Dt, *PETSC_RESTRICT WD = st->WD, *th = st->theta + b * np;
  PetscReal *PETSC_RESTRICT Q = st->Q, *PETSC_RESTRICT V = st->V, *PETSC_RESTRICT F = st->F, *PETSC_RESTRICT P = st->P;
  PetscReal *PETSC_RESTRICT Ra = st->Racc, *PETSC_RESTRICT Ma = st->Macc, mag = 0;

  PetscFunctionBeginUser;
  /* the unknowns are increments from q_n (see SlimStepPredict()); V = D Z, column by column
   * (D annihilates constants, so q_n drops out and with it the round-off of differentiating
   * positions |q| >> |qdot| dt) */
  for (PetscInt a = 0; a < d; a++) Q[a] = st->q[b * d + a];
  for (PetscInt j = 0; j < n * d; j++) V[j] = 0;
  for (PetscInt j = 1; j < n; j++)
    for (PetscInt a = 0; a < d; a++) {
      const PetscReal zja = Xb[(j - 1) * d + a];
      Q[j * d + a] = Q[a] + zja;
      for (PetscInt i = 0; i < n; i++) V[i * d + a] += Dt[j * n + i] * zja;
    }
  for (PetscInt i = 0; i < n; i++) {
    SlimEval e = {F + i * d, P + i * d, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    if (nd) {
      e.Fq = nd + (SLIM_ND_FQ * n + i) * d2;
      e.Fv = nd + (SLIM_ND_FV * n + i) * d2;
      e.Pq = nd + (SLIM_ND_PQ * n + i) * d2;
      e.Pv = nd + (SLIM_ND_PV * n + i) * d2;
    }
    if (params) {
      e.Fth = st->Fth + i * d * np;
      e.Pth = st->Pth + i * d * np;
    }
    PetscCall(st->fam->eval(th, st->t + st->tau[i], Q + i * d, V + i * d, &e));
  }
  /* rows k = 0..r: w_k F_k + sum_i w_i D_ik P_i, with the sum of the absolute values of the terms
   * for the residual scale */
  for (PetscInt k = 0; k < n - 1; k++)
    for (PetscInt a = 0; a < d; a++) Ra[k * d + a] = w[k] * F[k * d + a], Ma[k * d + a] = PetscAbsReal(Ra[k * d + a]);
  for (PetscInt i = 0; i < n; i++)
    for (PetscInt k = 0; k < n - 1; k++)
      for (PetscInt a = 0; a < d; a++) {
        const PetscReal term = WD[i * n + k] * P[i * d + a];
        Ra[k * d + a] += term;
        Ma[k * d + a] += PetscAbsReal(term);
      }
  for (PetscInt a = 0; a < d; a++) {
    const PetscReal pia = st->pi[b * d + a];
    Ra[a] += pia;
    Ma[a] += PetscAbsReal(pia);
    st->vend[b * d + a] = V[(n - 1) * d + a];
  }
  if (!st->impulse_deferred) ImpulseKernel(st, b, n, d);
  if (Rb) {
    for (PetscInt j = 0; j < (n - 1) * d; j++) Rb[j] = Ra[j], mag = PetscMax(mag, Ma[j]);
    st->mag[b] = mag;
  }
  PetscFunctionReturn(0);
}

/* Jacobian of the residual rows k = 0..r in the unknowns m = 1..r+1 from the node derivatives nd
 * of one evaluation, stored transposed: JT[((m-1) dof + c) bs + k dof + a] = dR_{k,a}/dq^(m)_c,
 * which is the row-major layout of the transpose and the column-major layout of the Jacobian
 * (BAIJ blocks take it as it is). LU with partial pivoting of the transpose pivots far less than
 * that of the Jacobian, whose largest entries sit off the diagonal; the solves use the factors of
 * the transpose (DenseLUSolveTransposeKernel). */
SLIM_ALWAYS_INLINE void JacobianKernel(SlimStepper st, const PetscReal *nd, PetscReal *JT, const PetscInt n, const PetscInt d)
{
  const PetscInt   d2 = d * d, bs = (n - 1) * d;
  const PetscReal *PETSC_RESTRICT w = st->w, *PETSC_RESTRICT D = st->D, *PETSC_RESTRICT Dt = st->Dt, *PETSC_RESTRICT WD = st->WD;
  const PetscReal *PETSC_RESTRICT Fq = nd + SLIM_ND_FQ * n * d2, *PETSC_RESTRICT Fv = nd + SLIM_ND_FV * n * d2;
  const PetscReal *PETSC_RESTRICT Pq = nd + SLIM_ND_PQ * n * d2, *PETSC_RESTRICT Pv = nd + SLIM_ND_PV * n * d2;
  PetscReal *PETSC_RESTRICT J = JT;

  for (PetscInt j = 0; j < bs * bs; j++) J[j] = 0;
  /* sum_i w_i D_ik (D_im Pv_i + delta_im Pq_i): for each node i and unknown m one coefficient
   * block g = D_im Pv_i (+ Pq_i), times the row w_i D_i. of the quadrature products */
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal *PETSC_RESTRICT u = WD + i * n;
    for (PetscInt m = 1; m < n; m++) {
      const PetscReal dim = D[i * n + m];
      for (PetscInt c = 0; c < d; c++) {
        PetscReal *PETSC_RESTRICT row = J + ((m - 1) * d + c) * bs;
        for (PetscInt a = 0; a < d; a++) {
          const PetscReal g = dim * Pv[i * d2 + a * d + c] + (m == i ? Pq[i * d2 + a * d + c] : 0);
          if (g == 0) continue;
          for (PetscInt k = 0; k < n - 1; k++) row[k * d + a] += u[k] * g;
        }
      }
    }
  }
  /* w_k D_km Fv_k + w_k Fq_k delta_km, along rows of D^T */
  for (PetscInt m = 1; m < n; m++)
    for (PetscInt c = 0; c < d; c++) {
      PetscReal *PETSC_RESTRICT row = J + ((m - 1) * d + c) * bs;
      for (PetscInt a = 0; a < d; a++) {
        for (PetscInt k = 0; k < n - 1; k++) row[k * d + a] += Dt[m * n + k] * w[k] * Fv[k * d2 + a * d + c];
        if (m < n - 1) row[m * d + a] += w[m] * Fq[m * d2 + a * d + c];
      }
    }
}


/* Per-trajectory convergence test at Newton iteration it, on the infinity norms of its residual
 * block |R|, of its node values |X| = |q_n + Z| and of the Newton update that produced them
 * |dX|. M is the largest sum of absolute terms in a residual row, so tolerances are relative to what the
 * residual can resolve in floating point, not to how good the predictor was. Converged if
 *   |R| <= atol or |R| <= rtol M                   (solved to round-off), or
 *   |dX| <= xtol |X| and |R| <= stol M             (Newton converges quadratically: after an
 *                                                    update of relative size xtol the error is
 *                                                    ~xtol^2, below what |R| can show), or
 *   a linear family after its (exact) first update, |R| <= stol M.
 * Divergence (iteration limit, non-finite residual) is decided by the caller. A converged
 * trajectory adds |R|/M |Z| of its accepted iterate to rsum (the a-posteriori size, in units of
 * q, of what the step solve left, SlimStepperGetResidualSum()). */
SLIM_ALWAYS_INLINE PetscBool ConvergedKernel(SlimStepper st, PetscInt b, PetscInt it, const PetscReal *Rb, const PetscReal *Xb, const PetscReal *dXb, const PetscInt bs)
{
  PetscReal f = 0, x = 0, dx = 0;
  PetscBool c;

  for (PetscInt i = 0; i < bs; i++) f = PetscMax(f, PetscAbsReal(Rb[i]));
  c = (PetscBool)(f <= st->atol || f <= st->rtol * st->mag[b]);
  if (!c && it >= 1 && f <= st->stol * st->mag[b]) {
    if (st->fam->linear) c = PETSC_TRUE;
    else if (dXb) {
      /* relative to the node values q_n + Z, as the update's round-off is */
      const PetscInt   d  = st->dof;
      const PetscReal *qn = st->q + b * d;
      for (PetscInt i = 0, a = 0; i < bs; i++, a = a + 1 == d ? 0 : a + 1) x = PetscMax(x, PetscAbsReal(qn[a] + Xb[i])), dx = PetscMax(dx, PetscAbsReal(dXb[i]));
      c = (PetscBool)(dx <= st->xtol * x);
    }
  }
  if (c && st->mag[b] > 0) {
    /* an error dX of the unknowns moves R by J dX ~ M |dX| / |Z|: |R|/M |Z| is its size in q */
    PetscReal z = 0;
    for (PetscInt i = 0; i < bs; i++) z = PetscMax(z, PetscAbsReal(Xb[i]));
    st->rsum[b] += f / st->mag[b] * z;
  }
  return c;
}

/* Newton guess (see SlimStepPredict()). */
SLIM_ALWAYS_INLINE void PredictKernel(SlimStepper st, PetscInt b, PetscReal *Xb, const PetscInt n, const PetscInt d)
{
  const PetscInt np = st->npred;
  if (st->hasprev[b]) {
    const PetscReal *prev = st->prev + (size_t)b * np * d;
    for (PetscInt k = 1; k < n; k++) {
      const PetscReal *E = st->Epred + (k - 1) * np;
      for (PetscInt a = 0; a < d; a++) {
        PetscReal s = 0;
        for (PetscInt j = 0; j < np; j++) s += E[j] * prev[j * d + a];
        Xb[(k - 1) * d + a] = s - st->q[b * d + a];
      }
    }
    return;
  }
  for (PetscInt k = 1; k < n; k++)
    for (PetscInt a = 0; a < d; a++) Xb[(k - 1) * d + a] = st->vpred[b * d + a] * st->tau[k];
}

/* s += x, with c the part of s that rounding dropped */
SLIM_ALWAYS_INLINE void SlimKahanAdd(PetscReal *s, PetscReal *c, PetscReal x)
{
  const PetscReal y = x - *c, t = *s + y;
  *c = (t - *s) - y;
  *s = t;
}

/* Accept a converged step (see SlimStepAccept()). */
SLIM_ALWAYS_INLINE void AcceptKernel(SlimStepper st, PetscInt b, const PetscReal *Xb, const PetscInt n, const PetscInt d)
{
  const PetscInt np = st->npred;
  PetscReal     *prev = st->prev + (size_t)b * np * d;

  for (PetscInt j = 0; j < np; j++) {
    const PetscInt i = st->ipred[j];
    for (PetscInt a = 0; a < d; a++) prev[j * d + a] = st->q[b * d + a] + (i ? Xb[(i - 1) * d + a] : 0);
  }
  st->hasprev[b] = PETSC_TRUE;
  for (PetscInt a = 0; a < d; a++) {
    const PetscInt  i = b * d + a;
    const PetscReal p = st->fam->period[a];
    PetscReal       qn;

    /* q += Z and pi += impulse with compensated (Kahan) summation: the low bits of the small
     * increments are kept instead of dropped every step (Hairer, Lubich & Wanner, GNI VIII.5) */
    SlimKahanAdd(&st->q[i], &st->qlo[i], Xb[(n - 2) * d + a]);
    SlimKahanAdd(&st->pi[i], &st->pilo[i], st->impulse[i]);
    qn                   = st->q[i];
    st->vpred[b * d + a] = st->vend[b * d + a];
    if (p > 0) {
      /* periodic coordinates (angles) stay in one period; the predictor's nodes move with them */
      const PetscReal shift = SlimWrapPeriodic(qn, p) - qn;
      if (shift != 0) {
        st->q[b * d + a] += shift;
        for (PetscInt j = 0; j < np; j++) prev[j * d + a] += shift;
      }
    }
  }
}
