/* Small dense LU (include/slim/dense.h); the bodies are in denseimpl.h. */
#include "denseimpl.h"

PetscErrorCode SlimDenseLUFactor(PetscInt n, PetscReal A[], PetscInt piv[])
{
  PetscInt p;

  PetscFunctionBeginUser;
  p = DenseLUFactorKernel(n, A, piv);
  PetscCheck(p < 0, PETSC_COMM_SELF, PETSC_ERR_MAT_LU_ZRPVT, "zero pivot in column %" PetscInt_FMT " of a %" PetscInt_FMT "x%" PetscInt_FMT " matrix (singular)", p, n, n);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimDenseLUSolve(PetscInt n, const PetscReal LU[], const PetscInt piv[], PetscReal b[], PetscInt nrhs)
{
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < nrhs; k++) DenseLUSolveKernel(n, LU, piv, b + k * n);
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
