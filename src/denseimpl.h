#pragma once
/* Bodies of the dense LU (include/slim/dense.h) as always-inline functions of the size, so the
 * stepper's Newton loop can compile them for a known block size; dense.c wraps them. */
#include <slim/dense.h>

#if defined(__GNUC__)
  #define SLIM_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
  #define SLIM_ALWAYS_INLINE static inline
#endif

/* In-place LU with partial pivoting; returns the first singular column, or -1. */
SLIM_ALWAYS_INLINE PetscInt DenseLUFactorKernel(const PetscInt n, PetscReal A[], PetscInt piv[])
{
  for (PetscInt p = 0; p < n; p++) {
    PetscReal *Ap   = A + p * n;
    PetscInt   ip   = p;
    PetscReal  amax = PetscAbsReal(Ap[p]);

    for (PetscInt i = p + 1; i < n; i++) {
      const PetscReal aip = PetscAbsReal(A[i * n + p]);
      if (aip > amax) amax = aip, ip = i;
    }
    if (!(amax > 0)) return p; /* also NaN */
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
  return -1;
}

/* One right-hand side, in place, with the factors of DenseLUFactorKernel. */
SLIM_ALWAYS_INLINE void DenseLUSolveKernel(const PetscInt n, const PetscReal LU[], const PetscInt piv[], PetscReal b[])
{
  /* the factorisation swapped whole rows, so L is in the final row order: permute b first */
  for (PetscInt p = 0; p < n; p++) {
    if (piv[p] != p) {
      const PetscReal tmp = b[p];
      b[p]                = b[piv[p]];
      b[piv[p]]           = tmp;
    }
  }
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal bp = b[p];
    if (bp == 0) continue;
    for (PetscInt i = p + 1; i < n; i++) b[i] -= LU[i * n + p] * bp;
  }
  for (PetscInt i = n - 1; i >= 0; i--) {
    const PetscReal *Ai = LU + i * n;
    PetscReal        s  = b[i];
    for (PetscInt j = i + 1; j < n; j++) s -= Ai[j] * b[j];
    b[i] = s / Ai[i];
  }
}

/* Solves A^T x = b with the factors of A from DenseLUFactorKernel (S A = L U, S the row swaps):
 * U^T y = b, L^T z = y, x = S^T z. A BAIJ block, stored column by column, is the row-major
 * transpose of the block: factor it as it is and solve with this. */
SLIM_ALWAYS_INLINE void DenseLUSolveTransposeKernel(const PetscInt n, const PetscReal LU[], const PetscInt piv[], PetscReal b[])
{
  for (PetscInt p = 0; p < n; p++) {
    const PetscReal *Up = LU + p * n, yp = b[p] / Up[p];
    b[p]                = yp;
    for (PetscInt i = p + 1; i < n; i++) b[i] -= Up[i] * yp;
  }
  for (PetscInt p = n - 1; p > 0; p--) {
    const PetscReal *Lp = LU + p * n, zp = b[p];
    for (PetscInt i = 0; i < p; i++) b[i] -= Lp[i] * zp;
  }
  for (PetscInt p = n - 1; p >= 0; p--) {
    if (piv[p] != p) {
      const PetscReal tmp = b[p];
      b[p]                = b[piv[p]];
      b[piv[p]]           = tmp;
    }
  }
}
