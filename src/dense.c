/* Small dense LU (include/slim/dense.h). */
#include <slim/dense.h>

PetscErrorCode SlimDenseLUFactor(PetscInt n, PetscReal A[], PetscInt piv[])
{
  PetscFunctionBeginUser;
  for (PetscInt p = 0; p < n; p++) {
    PetscReal *Ap   = A + p * n;
    PetscInt   ip   = p;
    PetscReal  amax = PetscAbsReal(Ap[p]);

    for (PetscInt i = p + 1; i < n; i++) {
      const PetscReal aip = PetscAbsReal(A[i * n + p]);
      if (aip > amax) amax = aip, ip = i;
    }
    PetscCheck(amax > 0, PETSC_COMM_SELF, PETSC_ERR_MAT_LU_ZRPVT, "zero pivot in column %" PetscInt_FMT " of a %" PetscInt_FMT "x%" PetscInt_FMT " matrix (singular)", p, n, n);
    piv[p] = ip;
    if (ip != p) {
      PetscReal *Ai = A + ip * n;
      for (PetscInt j = 0; j < n; j++) {
        const PetscReal tmp = Ap[j];
        Ap[j]               = Ai[j];
        Ai[j]               = tmp;
      }
    }
    const PetscReal ipiv = 1.0 / Ap[p];
    for (PetscInt i = p + 1; i < n; i++) {
      PetscReal      *Ai = A + i * n;
      const PetscReal l  = Ai[p] * ipiv;
      Ai[p]              = l;
      if (l == 0) continue; /* block-structured Jacobians have many zeros */
      for (PetscInt j = p + 1; j < n; j++) Ai[j] -= l * Ap[j];
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimDenseLUSolve(PetscInt n, const PetscReal LU[], const PetscInt piv[], PetscReal b[], PetscInt nrhs)
{
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < nrhs; k++) {
    PetscReal *bk = b + k * n;
    /* the factorisation swapped whole rows, so L is in the final row order: permute b first */
    for (PetscInt p = 0; p < n; p++) {
      if (piv[p] != p) {
        const PetscReal tmp = bk[p];
        bk[p]               = bk[piv[p]];
        bk[piv[p]]          = tmp;
      }
    }
    for (PetscInt p = 0; p < n; p++) {
      const PetscReal bp = bk[p];
      if (bp == 0) continue;
      for (PetscInt i = p + 1; i < n; i++) bk[i] -= LU[i * n + p] * bp;
    }
    for (PetscInt i = n - 1; i >= 0; i--) {
      const PetscReal *Ai = LU + i * n;
      PetscReal        s  = bk[i];
      for (PetscInt j = i + 1; j < n; j++) s -= Ai[j] * bk[j];
      bk[i] = s / Ai[i];
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimDenseSolve(PetscInt n, PetscReal A[], PetscReal b[], PetscInt nrhs)
{
  PetscInt piv[SLIM_DENSE_MAX];

  PetscFunctionBeginUser;
  PetscCheck(n <= SLIM_DENSE_MAX, PETSC_COMM_SELF, PETSC_ERR_SUP, "dense system of size %" PetscInt_FMT " exceeds %d", n, SLIM_DENSE_MAX);
  PetscCall(SlimDenseLUFactor(n, A, piv));
  PetscCall(SlimDenseLUSolve(n, A, piv, b, nrhs));
  PetscFunctionReturn(0);
}
