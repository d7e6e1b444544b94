/* The SNES driver of SlimStepper: the B trajectories form one block-diagonal system
 * (MATSEQBAIJ, block size (r+1)*dof), solved by Newton with an exact block solve (block-LU PCSHELL);
 * each trajectory has its own convergence test and is frozen once it has converged.
 *
 * One family evaluation per Newton iteration: the residual keeps every trajectory's node
 * derivatives with the unknowns they were computed at, and the Jacobian at the same point is
 * assembled from them: during a step by the block-LU preconditioner's apply (Jacobian, LU and
 * solve of a trajectory in one pass), otherwise by the Jacobian callback. A Jacobian at any other
 * point (a user's SNESComputeJacobian, a line search that moved) evaluates the family itself. */
#include "stepkernel.h"

/* Per-trajectory blocks are short (bs = (r+1) dof): inline loops, not library calls. */
static inline void Copy(PetscInt n, const PetscReal *PETSC_RESTRICT x, PetscReal *PETSC_RESTRICT y)
{
  for (PetscInt i = 0; i < n; i++) y[i] = x[i];
}

static inline PetscBool Same(PetscInt n, const PetscReal *x, const PetscReal *y)
{
  for (PetscInt i = 0; i < n; i++)
    if (x[i] != y[i]) return PETSC_FALSE;
  return PETSC_TRUE;
}

/* The ensemble passes, compiled for the kernel instances (SLIM_KERNEL_INSTANCES) like the dense
 * Newton iteration: at small blocks a pass costs as much in per-trajectory calls and run-time
 * loop bounds as in arithmetic. */
SLIM_ALWAYS_INLINE PetscErrorCode FunctionPass(SlimStepper st, const PetscReal *x, PetscReal *f, const PetscInt n, const PetscInt d)
{
  const PetscInt bs = (n - 1) * d;

  PetscFunctionBeginUser;
  for (PetscInt b = 0; b < st->B; b++) {
    PetscReal *Rb = f + b * bs;
    if (st->conv[b]) continue; /* frozen: its residual was zeroed by the convergence test */
    if (st->active[b]) {
      PetscCall(EvalKernel(st, b, x + b * bs, Rb, st->nd + b * st->ndstride, PETSC_FALSE, n, d));
      Copy(bs, x + b * bs, st->ndX + b * bs);
      st->ndepoch[b] = st->epoch;
      /* a non-finite residual fails this trajectory only; zeroing keeps the ensemble's norm finite */
      if (!SlimStepAllFinite(bs, Rb)) SlimStepMarkFailed(st, b, SNES_DIVERGED_FNORM_NAN);
    }
    if (!st->active[b]) PetscCall(PetscArrayzero(Rb, bs));
  }
  PetscFunctionReturn(0);
}

/* Jacobian block of trajectory b at its unknowns xb into Jb (column-major, as BAIJ stores
 * blocks), from the node derivatives of the residual at the same point if there are any; with
 * factor, also its LU into the block-LU preconditioner's storage while the block is in cache (a
 * singular block fails its trajectory only). */
SLIM_ALWAYS_INLINE PetscErrorCode JacobianBlock(SlimStepper st, PetscInt b, const PetscReal *xb, PetscReal *Jb, PetscBool factor, const PetscInt n, const PetscInt d)
{
  const PetscInt bs = (n - 1) * d, bs2 = bs * bs;
  PetscReal     *nd = st->nd + b * st->ndstride;

  PetscFunctionBeginUser;
  if (st->ndepoch[b] != st->epoch || !Same(bs, st->ndX + b * bs, xb)) {
    PetscCall(EvalKernel(st, b, xb, NULL, nd, PETSC_FALSE, n, d));
    Copy(bs, xb, st->ndX + b * bs);
    st->ndepoch[b] = st->epoch;
  }
  JacobianKernel(st, nd, Jb, n, d);
  if (st->Gimp) SlimStepStoreImpulseRow(st, b, nd);
  if (factor) {
    PetscReal *LU = st->blu + (size_t)b * bs2;
    Copy(bs2, Jb, LU);
    if (DenseLUFactorKernel(bs, LU, st->bpiv + b * bs) >= 0) SlimStepMarkFailed(st, b, SNES_DIVERGED_LINEAR_SOLVE);
  }
  PetscFunctionReturn(0);
}

SLIM_ALWAYS_INLINE void IdentityBlock(PetscReal *Jb, const PetscInt bs)
{
  for (PetscInt i = 0; i < bs * bs; i++) Jb[i] = 0;
  for (PetscInt i = 0; i < bs; i++) Jb[i * bs + i] = 1.0;
}

/* Jacobian blocks into a, factored too with factor. Converged (frozen) trajectories keep their
 * old block: their zero residual gives a zero update with any block. */
SLIM_ALWAYS_INLINE PetscErrorCode JacobianPass(SlimStepper st, const PetscReal *x, PetscReal *a, PetscBool factor, const PetscInt n, const PetscInt d)
{
  const PetscInt bs = (n - 1) * d;

  PetscFunctionBeginUser;
  for (PetscInt b = 0; b < st->B; b++) {
    if (st->conv[b]) continue;
    if (st->active[b]) PetscCall(JacobianBlock(st, b, x + b * bs, a + b * bs * bs, factor, n, d));
    else IdentityBlock(a + b * bs * bs, bs);
  }
  PetscFunctionReturn(0);
}

/* The block solves y = J^-1 x. With X (SNES's current unknowns; st->pcjac), each block is first
 * assembled into a and factored, in the same pass: the Jacobian, its factorisation and the solve
 * of a trajectory one after the other while its node derivatives are in cache. */
SLIM_ALWAYS_INLINE PetscErrorCode ApplyPass(SlimStepper st, const PetscReal *X, PetscReal *a, const PetscReal *xa, PetscReal *ya, const PetscInt n, const PetscInt d)
{
  const PetscInt bs = (n - 1) * d;

  PetscFunctionBeginUser;
  for (PetscInt b = 0; b < st->B; b++) {
    PetscScalar *yb = ya + b * bs;
    Copy(bs, xa + b * bs, yb);
    /* frozen and failed trajectories: zero residual, zero update */
    if (st->conv[b]) continue;
    if (X) {
      if (st->active[b]) PetscCall(JacobianBlock(st, b, X + b * bs, a + b * bs * bs, PETSC_TRUE, n, d));
      else IdentityBlock(a + b * bs * bs, bs);
    }
    if (!st->active[b]) continue;
    DenseLUSolveTransposeKernel(bs, st->blu + (size_t)b * bs * bs, st->bpiv + b * bs, yb);
  }
  PetscFunctionReturn(0);
}

/* Per-trajectory tests; returns whether every active trajectory has converged. */
SLIM_ALWAYS_INLINE PetscBool ConvergedPass(SlimStepper st, PetscInt it, PetscReal *f, const PetscReal *x, const PetscReal *y, const PetscInt n, const PetscInt d)
{
  const PetscInt bs = (n - 1) * d;
  PetscBool      all = PETSC_TRUE;
  for (PetscInt b = 0; b < st->B; b++) {
    if (!st->active[b] || st->conv[b]) continue;
    st->conv[b] = ConvergedKernel(st, b, it, f + b * bs, x + b * bs, y ? y + b * bs : NULL, bs);
    /* freeze a converged trajectory: a zero residual block gives it a zero Newton update, so it
     * ends exactly where a single run of it would have stopped */
    if (st->conv[b])
      for (PetscInt i = 0; i < bs; i++) f[b * bs + i] = 0;
    else all = PETSC_FALSE;
  }
  return all;
}

typedef struct {
  PetscErrorCode (*function)(SlimStepper, const PetscReal *, PetscReal *);
  PetscErrorCode (*jacobian)(SlimStepper, const PetscReal *, PetscReal *, PetscBool);
  PetscErrorCode (*apply)(SlimStepper, const PetscReal *, PetscReal *, const PetscReal *, PetscReal *);
  PetscBool (*converged)(SlimStepper, PetscInt, PetscReal *, const PetscReal *, const PetscReal *);
} SNESPasses;

#define SLIM_PASSES_DEFINE(N, DOF) \
  static PetscErrorCode Function_##N##_##DOF(SlimStepper st, const PetscReal *x, PetscReal *f) \
  { \
    return FunctionPass(st, x, f, (N) ? (N) : st->n, DOF); \
  } \
  static PetscErrorCode Jacobian_##N##_##DOF(SlimStepper st, const PetscReal *x, PetscReal *a, PetscBool factor) \
  { \
    return JacobianPass(st, x, a, factor, (N) ? (N) : st->n, DOF); \
  } \
  static PetscErrorCode Apply_##N##_##DOF(SlimStepper st, const PetscReal *X, PetscReal *a, const PetscReal *x, PetscReal *y) \
  { \
    return ApplyPass(st, X, a, x, y, (N) ? (N) : st->n, DOF); \
  } \
  static PetscBool Converged_##N##_##DOF(SlimStepper st, PetscInt it, PetscReal *f, const PetscReal *x, const PetscReal *y) \
  { \
    return ConvergedPass(st, it, f, x, y, (N) ? (N) : st->n, DOF); \
  } \
  static const SNESPasses Passes_##N##_##DOF = {Function_##N##_##DOF, Jacobian_##N##_##DOF, Apply_##N##_##DOF, Converged_##N##_##DOF};
SLIM_KERNEL_INSTANCES(SLIM_PASSES_DEFINE)

static PetscErrorCode Function_Generic(SlimStepper st, const PetscReal *x, PetscReal *f)
{
  return FunctionPass(st, x, f, st->n, st->dof);
}
static PetscErrorCode Jacobian_Generic(SlimStepper st, const PetscReal *x, PetscReal *a, PetscBool factor)
{
  return JacobianPass(st, x, a, factor, st->n, st->dof);
}
static PetscErrorCode Apply_Generic(SlimStepper st, const PetscReal *X, PetscReal *a, const PetscReal *x, PetscReal *y)
{
  return ApplyPass(st, X, a, x, y, st->n, st->dof);
}
static PetscBool Converged_Generic(SlimStepper st, PetscInt it, PetscReal *f, const PetscReal *x, const PetscReal *y)
{
  return ConvergedPass(st, it, f, x, y, st->n, st->dof);
}
static const SNESPasses Passes_Generic = {Function_Generic, Jacobian_Generic, Apply_Generic, Converged_Generic};

static const SNESPasses *GetPasses(SlimStepper st)
{
  const SNESPasses *p = &Passes_Generic;
#define SLIM_PASSES_SELECT(N, DOF) \
  if (SLIM_KERNEL_MATCHES(st, N, DOF)) p = &Passes_##N##_##DOF;
  SLIM_KERNEL_INSTANCES(SLIM_PASSES_SELECT)
  return p;
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
  PetscCall(GetPasses(st)->function(st, x, f));
  PetscCall(VecRestoreArray(R, &f));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Residual, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* Whether SNES runs the default preconditioner (block LU of st->J) */
static PetscErrorCode IsBlockLU(SlimStepper st, PetscBool *flg)
{
  KSP   ksp;
  PC    pc;
  Mat   P;
  void *ctx;

  PetscFunctionBeginUser;
  PetscCall(SNESGetKSP(st->snes, &ksp));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCSHELL, flg));
  if (!*flg) PetscFunctionReturn(0);
  PetscCall(PCShellGetContext(pc, &ctx));
  PetscCall(PCGetOperators(pc, NULL, &P));
  *flg = (PetscBool)(ctx == (void *)st && P == st->J);
  PetscFunctionReturn(0);
}

static PetscErrorCode FormJacobian(SNES snes, Vec X, Mat J, Mat Jpre, void *ctx)
{
  SlimStepper        st = (SlimStepper)ctx;
  const PetscScalar *x;
  PetscScalar       *a;
  PetscBool          blocklu;

  PetscFunctionBeginUser;
  (void)snes;
  (void)J;
  /* linear families: the Jacobian depends on neither the state nor the step, so it is assembled
   * (and the preconditioner factored) once until dt, parameters or the active set change */
  if (st->fam->linear && st->jac_valid) PetscFunctionReturn(0);
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Jacobian, 0, 0, 0, 0));
  /* the default block-LU preconditioner is factored here, where each block is in cache; its
   * blocks need no assembly (an O(B) pass per iteration) */
  PetscCall(IsBlockLU(st, &blocklu));
  blocklu = (PetscBool)(blocklu && Jpre == st->J);
  st->jac_valid = PETSC_TRUE; /* before the pass: a block that fails in it invalidates it again */
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(MatSeqBAIJGetArray(Jpre, &a));
  PetscCall(GetPasses(st)->jacobian(st, x, a, blocklu));
  PetscCall(MatSeqBAIJRestoreArray(Jpre, &a));
  PetscCall(VecRestoreArrayRead(X, &x));
  st->blufresh = blocklu;
  if (!blocklu) {
    /* other PCs: assembly marks the values as changed, including the cached inverse diagonal
     * blocks that PCPBJACOBI uses (a state increase alone leaves that cache stale: Newton would
     * run with the first Jacobian's inverse); with the fixed pattern it costs O(B) */
    PetscCall(MatAssemblyBegin(Jpre, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(Jpre, MAT_FINAL_ASSEMBLY));
  }
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Jacobian, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* The default preconditioner, an exact block solve: each trajectory's block factored by LU with
 * partial pivoting (the Jacobian is used for one solve, so this is a third of the flops of the
 * explicit inverses that PCPBJACOBI forms). FormJacobian factors the blocks as it assembles them;
 * the set-up factors only a matrix it did not (a user's operator). Converged (frozen) and failed
 * trajectories have a zero residual block and are skipped; a singular block fails its trajectory
 * only. -slim_pc_type pbjacobi (or any other PC) replaces it. */
static PetscErrorCode BlockLUSetUp(PC pc)
{
  SlimStepper        st;
  Mat                P;
  const PetscScalar *a;
  PetscScalar       *aw;

  PetscFunctionBeginUser;
  PetscCall(PCShellGetContext(pc, &st));
  PetscCall(PCGetOperators(pc, NULL, &P));
  if (st->pcjac || (P == st->J && st->blufresh)) PetscFunctionReturn(0); /* factored by FormJacobian or the apply */
  PetscCall(MatSeqBAIJGetArray(P, &aw)); /* no read-only variant in PETSc 3.18 */
  a = aw;
  for (PetscInt b = 0; b < st->B; b++) {
    const PetscInt n = st->bs, n2 = n * n;
    PetscReal     *LU = st->blu + (size_t)b * n2;
    if (st->conv[b] || !st->active[b]) continue;
    Copy(n2, a + (size_t)b * n2, LU);
    if (st->ops.lufactor(n, LU, st->bpiv + b * n) >= 0) SlimStepMarkFailed(st, b, SNES_DIVERGED_LINEAR_SOLVE);
  }
  PetscCall(MatSeqBAIJRestoreArray(P, &aw));
  PetscFunctionReturn(0);
}

static PetscErrorCode BlockLUApply(PC pc, Vec x, Vec y)
{
  SlimStepper        st;
  const PetscScalar *xa, *Xa = NULL;
  PetscScalar       *ya, *a = NULL;
  Vec                X = NULL;

  PetscFunctionBeginUser;
  PetscCall(PCShellGetContext(pc, &st));
  if (st->pcjac) {
    PetscCall(PetscLogEventBegin(SLIM_EVENT_Jacobian, 0, 0, 0, 0));
    PetscCall(SNESGetSolution(st->snes, &X));
    PetscCall(VecGetArrayRead(X, &Xa));
    PetscCall(MatSeqBAIJGetArray(st->J, &a));
  }
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArrayWrite(y, &ya));
  PetscCall(GetPasses(st)->apply(st, Xa, a, xa, ya));
  PetscCall(VecRestoreArrayRead(x, &xa));
  PetscCall(VecRestoreArrayWrite(y, &ya));
  if (X) {
    PetscCall(VecRestoreArrayRead(X, &Xa));
    PetscCall(MatSeqBAIJRestoreArray(st->J, &a));
    PetscCall(PetscLogEventEnd(SLIM_EVENT_Jacobian, 0, 0, 0, 0));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode ConvergenceTest(SNES snes, PetscInt it, PetscReal xnorm, PetscReal snorm, PetscReal fnorm, SNESConvergedReason *reason, void *ctx)
{
  SlimStepper        st = (SlimStepper)ctx;
  Vec                R, X, Y;
  PetscScalar       *f;
  const PetscScalar *x, *y = NULL;
  PetscBool          all;

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
  all = GetPasses(st)->converged(st, it, f, x, y);
  PetscCall(VecRestoreArray(R, &f));
  PetscCall(VecRestoreArrayRead(X, &x));
  if (y) PetscCall(VecRestoreArrayRead(Y, &y));
  *reason = SNES_CONVERGED_ITERATING;
  if (all) *reason = SNES_CONVERGED_FNORM_ABS;
  else if (it >= st->maxit) *reason = SNES_DIVERGED_MAX_IT;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepSetUp_SNES(SlimStepper st)
{
  KSP            ksp;
  PC             pc;
  SNESLineSearch ls;
  PetscReal     *id;
  const PetscInt bs = st->bs, N = st->B * bs;

  PetscFunctionBeginUser;
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
  /* the convergence test is per trajectory (ConvergenceTest): the ensemble norms of F, X and the
   * update would be three more passes over the ensemble per iteration, for nothing */
  PetscCall(SNESLineSearchSetComputeNorms(ls, PETSC_FALSE));
  /* the blocks are independent: invert each exactly */
  PetscCall(SNESGetKSP(st->snes, &ksp));
  PetscCall(KSPSetType(ksp, KSPPREONLY));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCSHELL));
  PetscCall(PCShellSetName(pc, "slimplectic block LU (one LU with partial pivoting per trajectory)"));
  PetscCall(PCShellSetContext(pc, st));
  PetscCall(PCShellSetSetUp(pc, BlockLUSetUp));
  PetscCall(PCShellSetApply(pc, BlockLUApply));
  PetscCall(PetscMalloc2((size_t)st->B * bs * bs, &st->blu, (size_t)st->B * bs, &st->bpiv));
  /* a linear family is solved by one exact Newton update: no residual check after it */
  if (st->fam->linear) PetscCall(SNESSetType(st->snes, SNESKSPONLY));
  PetscCall(SNESSetFromOptions(st->snes));
  PetscCall(PetscObjectTypeCompare((PetscObject)st->snes, SNESKSPONLY, &st->ksponly));
  PetscCheck(!st->ksponly || st->fam->linear, PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-slim_snes_type ksponly: family %s is nonlinear and needs Newton iterations", st->fam->name);
  if (st->ksponly) PetscCall(PetscMalloc1(N, &st->Xpred));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimStepStep_SNES(SlimStepper st, PetscInt *its)
{
  PetscScalar        *x;
  SNESConvergedReason reason;
  PetscInt            lits, lag;
  KSP                 ksp;
  PetscBool           preonly, newtonls;

  PetscFunctionBeginUser;
  st->epoch++; /* node derivatives of the last step belong to another time */
  PetscCall(VecGetArray(st->X, &x));
  for (PetscInt b = 0; b < st->B; b++) {
    st->conv[b] = PETSC_FALSE;
    if (st->active[b]) SlimStepPredict(st, b, x + b * st->bs);
    else PetscCall(PetscArrayzero(x + b * st->bs, st->bs));
  }
  if (st->ksponly) PetscCall(PetscArraycpy(st->Xpred, x, st->B * st->bs));
  PetscCall(VecRestoreArray(st->X, &x));
  /* Newton with the default preconditioner: the Jacobian blocks are assembled and factored in
   * its apply (one pass instead of three), so SNES is told not to ask for the Jacobian (lag -1)
   * during the solve; outside of it SNESComputeJacobian works as usual. A lag the user set, a
   * linear family (Jacobian cached across steps) or another PC keep the Jacobian callback. */
  PetscCall(SNESGetLagJacobian(st->snes, &lag));
  PetscCall(SNESGetKSP(st->snes, &ksp));
  PetscCall(PetscObjectTypeCompare((PetscObject)ksp, KSPPREONLY, &preonly)); /* a Krylov method would apply it repeatedly */
  PetscCall(PetscObjectTypeCompare((PetscObject)st->snes, SNESNEWTONLS, &newtonls)); /* others may use J apart from the PC */
  PetscCall(IsBlockLU(st, &st->pcjac));
  st->pcjac = (PetscBool)(st->pcjac && preonly && newtonls && lag == 1 && !st->fam->linear);
  if (st->pcjac) PetscCall(SNESSetLagJacobian(st->snes, -1));
  PetscCall(SNESSolve(st->snes, NULL, st->X));
  if (st->pcjac) PetscCall(SNESSetLagJacobian(st->snes, lag));
  st->pcjac = PETSC_FALSE;
  PetscCall(SNESGetConvergedReason(st->snes, &reason));
  PetscCall(SNESGetIterationNumber(st->snes, its));
  PetscCall(SNESGetLinearSolveIterations(st->snes, &lits));
  st->stats.linear_total += lits;
  PetscCall(VecGetArray(st->X, &x));
  for (PetscInt b = 0; b < st->B; b++) {
    if (!st->active[b]) continue;
    /* SNESKSPONLY: one exact Newton update of a linear family, no residual after it */
    if (st->ksponly && reason > 0) {
      SlimStepEndUpdate(st, b, x + b * st->bs, st->Xpred + b * st->bs);
      st->conv[b] = PETSC_TRUE;
      *its        = 1;
    }
    if (st->conv[b]) {
      if (st->sens) PetscCall(SlimStepSensitivity(st, b, x + b * st->bs));
      SlimStepAccept(st, b, x + b * st->bs);
    } else SlimStepMarkFailed(st, b, reason > 0 ? SNES_DIVERGED_MAX_IT : reason);
  }
  PetscCall(VecRestoreArray(st->X, &x));
  PetscFunctionReturn(0);
}
