#pragma once
/* Small dense linear algebra used across libslim: momentum inversion, accelerations, the
 * plain dense Newton loop of the stepper and its sensitivities. Row-major matrices; right-hand
 * sides stored one after another (b[k*n + i]). No allocation: these run in the hot path. */
#include <petscsys.h>

/* In-place LU with partial pivoting: A = P L U, piv[p] = row swapped with row p. Only an
 * exactly zero (or NaN) pivot column is singular (PETSC_ERR_MAT_LU_ZRPVT), as in LAPACK. */
PETSC_EXTERN PetscErrorCode SlimDenseLUFactor(PetscInt n, PetscReal A[], PetscInt piv[]);
/* Solves with the factors of SlimDenseLUFactor, nrhs right-hand sides in place. */
PETSC_EXTERN PetscErrorCode SlimDenseLUSolve(PetscInt n, const PetscReal LU[], const PetscInt piv[], PetscReal b[], PetscInt nrhs);
/* Factor and solve in one (A is destroyed); n <= SLIM_DENSE_MAX. */
PETSC_EXTERN PetscErrorCode SlimDenseSolve(PetscInt n, PetscReal A[], PetscReal b[], PetscInt nrhs);
#define SLIM_DENSE_MAX 4096
