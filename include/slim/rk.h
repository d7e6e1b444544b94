#pragma once
/* SlimRK: baseline integrators through PETSc TS (fixed step), on the first-order system
 * y = (q, qdot), ydot = (qdot, qddot(q, qdot)), with qddot from SlimFamilyAcceleration(): the same
 * family code drives the slimplectic integrator and the baselines. A baseline type is
 *  - a TSRK type (classical Runge-Kutta, any family), e.g. "2a" (RK2, Heun) or "4" (RK4), or
 *  - a symplectic splitting method of TSBASICSYMPLECTIC on the splits position q and momentum
 *    (in velocity form) qdot, for separable families only (SlimFamilyIsSeparable()). */
#include <petscts.h>
#include <slim/family.h>

typedef struct _n_SlimRK *SlimRK;

/* Called at step 0 and then every `stride` steps with the current state. */
typedef PetscErrorCode (*SlimRKMonitorFn)(PetscInt step, PetscReal t, const PetscReal q[], const PetscReal v[], void *ctx);

/* The baseline types, for help and error messages: PETSc's TSRK types and the symplectic ones. */
#define SLIM_RK_TSRK_TYPES       "1fe, 2a, 2b, 3, 3bs, 4, 5f, 5dp, 5bs, 6vr, 7vr, 8vr"
#define SLIM_RK_SYMPLECTIC_TYPES "sympl1 symplectic Euler, sympl2 velocity Verlet, sympl3 Ruth order 3, sympl4 Forest-Ruth order 4"

/* rktype is a TSRKType name, e.g. "2a" (RK2, Heun) or "4" (classical RK4), or one of
 * SLIM_RK_SYMPLECTIC_TYPES; a symplectic type on a family that is not separable is an error that
 * names the type, the family and the reason. The family is referenced and must outlive the
 * object; theta is copied. */
PETSC_EXTERN PetscErrorCode SlimRKCreate(SlimFamily fam, const PetscReal theta[], const char rktype[], SlimRK *rk);
/* Whether type is one of the symplectic (TSBASICSYMPLECTIC) types; NULL or unknown: no. */
PETSC_EXTERN PetscErrorCode SlimRKTypeIsSymplectic(const char type[], PetscBool *symplectic);
PETSC_EXTERN PetscErrorCode SlimRKDestroy(SlimRK *rk);
/* Options prefix "rk_": every -rk_ts_* option overrides the defaults. */
PETSC_EXTERN PetscErrorCode SlimRKSetFromOptions(SlimRK rk);
PETSC_EXTERN PetscErrorCode SlimRKSetMonitor(SlimRK rk, PetscInt stride, SlimRKMonitorFn fn, void *ctx);
/* Integrates N fixed steps of size dt from (q0, v0) at t0; returns the final (q, v). */
PETSC_EXTERN PetscErrorCode SlimRKIntegrate(SlimRK rk, PetscReal dt, PetscInt N, PetscReal t0, const PetscReal q0[], const PetscReal v0[], PetscReal q[], PetscReal v[]);
