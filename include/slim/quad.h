#pragma once
/* SlimQuad: Galerkin-Gauss-Lobatto (GGL) quadrature with r interior points.
 *
 * Nodes x_0 = -1 < x_1 < ... < x_r < x_{r+1} = 1 are the end points and the roots of
 * P'_{r+1}; they are computed by Newton iteration on the Legendre three-term recurrence,
 * which stays accurate to machine precision for r in the hundreds (polynomial root finding
 * does not). Everything is stored on the reference interval [-1, 1]; SlimQuadGetScaled()
 * maps weights and the derivative matrix to a step of length dt. */
#include <petscsys.h>

typedef struct _n_SlimQuad *SlimQuad;

PETSC_EXTERN PetscErrorCode SlimQuadCreate(PetscInt r, SlimQuad *quad);
PETSC_EXTERN PetscErrorCode SlimQuadDestroy(SlimQuad *quad);
/* r interior points, n = r + 2 nodes */
PETSC_EXTERN PetscErrorCode SlimQuadGetSize(SlimQuad quad, PetscInt *r, PetscInt *n);
/* Reference data on [-1,1]: nodes x[n], weights w[n] (sum 2), derivative matrix D[n*n]
 * row-major (D[i*n+j] = d l_j/dx at x_i), and P_{r+1}(x_i) in Pr1[n]. Any output may be NULL. */
PETSC_EXTERN PetscErrorCode SlimQuadGetReference(SlimQuad quad, const PetscReal *x[], const PetscReal *w[], const PetscReal *D[], const PetscReal *Pr1[]);
/* Weights (sum dt) and derivative matrix for a step of length dt, into caller storage
 * w[n] and D[n*n] (row-major); either may be NULL. */
PETSC_EXTERN PetscErrorCode SlimQuadGetScaled(SlimQuad quad, PetscReal dt, PetscReal w[], PetscReal D[]);

/* Legendre P_n(x) and P_n'(x) by the three-term recurrence (either output may be NULL). */
PETSC_EXTERN PetscErrorCode SlimLegendre(PetscInt n, PetscReal x, PetscReal *Pn, PetscReal *dPn);
