#pragma once
/* Private helpers of libslim that several objects need, defined once (src/util.c): catching the
 * PETSc error of one unit of work, sorting and quantiles, and deriving independent seeds. */
#include <petscsys.h>

/* Runs calls with PETSc errors caught instead of propagated: a bad trial parameter set (a
 * singular momentum map, say) must end one fit, and a failed sweep point one task, not the
 * sweep. The first error message is kept in msg. Usage:
 *   SlimCatch c; SlimCatchBegin(&c); ierr = Call(...); SlimCatchEnd(&c);            */
typedef struct {
  char msg[256];
  int  set;
} SlimCatch;

PETSC_EXTERN PetscErrorCode SlimCatchHandler(MPI_Comm, int, const char *, const char *, PetscErrorCode, PetscErrorType, const char *, void *);

#define SlimCatchBegin(c) \
  do { \
    (c)->msg[0] = 0; \
    (c)->set    = 0; \
    PetscCall(PetscPushErrorHandler(SlimCatchHandler, (c))); \
  } while (0)
#define SlimCatchEnd(c) PetscCall(PetscPopErrorHandler())

/* Sorts x[0..n) ascending in place (NaN-free input). */
PETSC_EXTERN void SlimSortReal(PetscInt n, PetscReal x[]);
/* Quantile q in [0, 1] of x[0..n) (sorted in place), linear interpolation; NaN when n == 0. */
PETSC_EXTERN PetscReal SlimQuantile(PetscInt n, PetscReal x[], PetscReal q);
/* Seed of stream `index` derived from `base` (splitmix64): neighbouring indices get independent
 * streams, and the result depends on nothing else (not on ranks). Sweep points use
 * (sweep seed, point index); a point's fits derive their sub-streams from the point's seed. */
PETSC_EXTERN PetscInt64 SlimSeedDerive(PetscInt64 base, PetscInt index);
