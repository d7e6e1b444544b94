#pragma once
/* SlimRK: classical Runge-Kutta baselines through PETSc TS (TSRK, fixed step), on the
 * first-order system y = (q, qdot), ydot = (qdot, qddot(q, qdot)), with qddot from
 * SlimFamilyAcceleration(): the same family code drives both integrators. */
#include <petscts.h>
#include <slim/family.h>

typedef struct _n_SlimRK *SlimRK;

/* Called at step 0 and then every `stride` steps with the current state. */
typedef PetscErrorCode (*SlimRKMonitorFn)(PetscInt step, PetscReal t, const PetscReal q[], const PetscReal v[], void *ctx);

/* rktype is a TSRKType name, e.g. "2a" (RK2, Heun) or "4" (classical RK4). The family is
 * referenced and must outlive the object; theta is copied. */
PETSC_EXTERN PetscErrorCode SlimRKCreate(SlimFamily fam, const PetscReal theta[], const char rktype[], SlimRK *rk);
PETSC_EXTERN PetscErrorCode SlimRKDestroy(SlimRK *rk);
/* Options prefix "rk_": every -rk_ts_* option overrides the defaults. */
PETSC_EXTERN PetscErrorCode SlimRKSetFromOptions(SlimRK rk);
PETSC_EXTERN PetscErrorCode SlimRKSetMonitor(SlimRK rk, PetscInt stride, SlimRKMonitorFn fn, void *ctx);
/* Integrates N fixed steps of size dt from (q0, v0) at t0; returns the final (q, v). */
PETSC_EXTERN PetscErrorCode SlimRKIntegrate(SlimRK rk, PetscReal dt, PetscInt N, PetscReal t0, const PetscReal q0[], const PetscReal v0[], PetscReal q[], PetscReal v[]);
