#pragma once
/* Private helpers shared by the fit sources (src/fit*.c). */
#include <petscsys.h>

/* Runs one call with PETSc errors caught instead of propagated: a bad trial parameter set (a
 * singular momentum map, say) must end one fit, not the sweep. The first error message is kept
 * in msg; *ierr is the call's error code (0 if it succeeded). Usage:
 *   SlimCatch c; SlimCatchBegin(&c); ierr = Call(...); SlimCatchEnd(&c);            */
typedef struct {
  char msg[256];
  int  set;
} SlimCatch;

PETSC_INTERN PetscErrorCode SlimCatchHandler(MPI_Comm, int, const char *, const char *, PetscErrorCode, PetscErrorType, const char *, void *);

#define SlimCatchBegin(c) \
  do { \
    (c)->msg[0] = 0; \
    (c)->set    = 0; \
    PetscCall(PetscPushErrorHandler(SlimCatchHandler, (c))); \
  } while (0)
#define SlimCatchEnd(c) PetscCall(PetscPopErrorHandler())

/* Quantile q in [0, 1] of x[0..n) (sorted in place), linear interpolation; NaN when n == 0. */
PETSC_INTERN PetscReal SlimQuantile(PetscInt n, PetscReal x[], PetscReal q);
