#pragma once
/* SlimStepper: advances B independent trajectories of one family with the slimplectic
 * (GGL) discrete equations of physics.md, solving the implicit equations of every step with
 * PETSc SNES over the ensemble or with a plain dense Newton loop per trajectory; both run the
 * same kernel (one family evaluation per Newton iteration, Newton guess extrapolated from the
 * previous step), so their cost ratio measures only solver overhead.
 *
 * Unknowns of one step for trajectory b: q^(1..r+1), (r+1)*dof numbers. The ensemble forms one
 * block-diagonal system (MATSEQBAIJ, block size (r+1)*dof) so one SNES per step serves all B
 * trajectories; each trajectory has its own convergence test and its own failure record. */
#include <petscsnes.h>
#include <slim/family.h>
#include <slim/quad.h>

typedef struct _n_SlimStepper *SlimStepper;

/* auto (the default of SlimStepperCreate): the dense loop for a single trajectory, where one SNES
 * solve per step costs a fixed few microseconds per Newton iteration (README, "Stepper speed"),
 * SNES for an ensemble, where that cost is shared. Benchmarks set the solver explicitly. */
typedef enum { SLIM_SOLVER_SNES, SLIM_SOLVER_DENSE, SLIM_SOLVER_AUTO } SlimSolverType;
PETSC_EXTERN const char *const SlimSolverTypes[];

/* What happened to one trajectory. reason is a SNESConvergedReason; step is the index of the
 * step that failed (-1 while none has). A failed trajectory is frozen at its last good state. */
typedef struct {
  SNESConvergedReason reason;
  PetscInt            step;
} SlimFailure;

/* Solver statistics accumulated since the last SlimStepperResetStats(). */
typedef struct {
  PetscInt  steps;         /* steps taken */
  PetscInt  newton_total;  /* Newton iterations summed over steps */
  PetscInt  newton_max;    /* most Newton iterations in one step */
  PetscInt  linear_total;  /* linear (KSP) iterations summed */
  PetscInt  nfailed;       /* trajectories that failed */
} SlimStepStats;

/* The family is referenced, not copied; it must outlive the stepper. Parameters of every
 * trajectory start as the family's current theta. */
/* Defaults: -slim_solver auto, Newton guess from the previous step's node polynomial (degree
 * min(r+1, 3)), per-trajectory tests -slim_step_rtol 1e-13, -slim_step_xtol/-slim_step_stol 1e-8. */
PETSC_EXTERN PetscErrorCode SlimStepperCreate(SlimFamily fam, PetscInt r, PetscInt B, SlimStepper *st);
PETSC_EXTERN PetscErrorCode SlimStepperDestroy(SlimStepper *st);
/* Options (prefix "slim_"): -slim_solver snes|dense|auto, -slim_step_rtol, -slim_step_atol,
 * -slim_step_stol, -slim_step_xtol, -slim_step_maxit, -slim_step_predictor_degree,
 * -slim_step_kernel, and every -slim_snes_* / -slim_ksp_* / -slim_pc_* option (SNES solver). */
PETSC_EXTERN PetscErrorCode SlimStepperSetFromOptions(SlimStepper st);
PETSC_EXTERN PetscErrorCode SlimStepperSetSolverType(SlimStepper st, SlimSolverType type);
PETSC_EXTERN PetscErrorCode SlimStepperSetTimeStep(SlimStepper st, PetscReal dt);
PETSC_EXTERN PetscErrorCode SlimStepperSetParameters(SlimStepper st, PetscInt b, const PetscReal theta[]);
/* Initial state of trajectory b: q and qdot (momentum computed as pi_0 = P(q, qdot)). */
PETSC_EXTERN PetscErrorCode SlimStepperSetInitialState(SlimStepper st, PetscInt b, PetscReal t0, const PetscReal q[], const PetscReal v[]);
/* Initial state as (q, pi). */
PETSC_EXTERN PetscErrorCode SlimStepperSetInitialMomentum(SlimStepper st, PetscInt b, PetscReal t0, const PetscReal q[], const PetscReal pi[]);
/* Builds the solver objects; called by the first step if not called before. */
PETSC_EXTERN PetscErrorCode SlimStepperSetUp(SlimStepper st);

/* Monitor called after every `stride` steps (and after step 0 = initial state). */
typedef PetscErrorCode (*SlimStepperMonitorFn)(SlimStepper st, PetscInt step, void *ctx);
PETSC_EXTERN PetscErrorCode SlimStepperSetMonitor(SlimStepper st, PetscInt stride, SlimStepperMonitorFn fn, void *ctx);

/* One step of every active trajectory. */
PETSC_EXTERN PetscErrorCode SlimStepperStep(SlimStepper st);
/* N steps. Failures do not raise errors: they are recorded per trajectory. */
PETSC_EXTERN PetscErrorCode SlimStepperIntegrate(SlimStepper st, PetscInt N);

PETSC_EXTERN PetscErrorCode SlimStepperGetState(SlimStepper st, PetscInt b, PetscReal *t, PetscReal q[], PetscReal pi[]);
/* qdot at the current time, from P(q, qdot) = pi. */
PETSC_EXTERN PetscErrorCode SlimStepperGetVelocity(SlimStepper st, PetscInt b, PetscReal v[]);
PETSC_EXTERN PetscErrorCode SlimStepperGetEnergy(SlimStepper st, PetscInt b, PetscReal *E);
PETSC_EXTERN PetscErrorCode SlimStepperGetStepIndex(SlimStepper st, PetscInt *n);
PETSC_EXTERN PetscErrorCode SlimStepperGetFailure(SlimStepper st, PetscInt b, SlimFailure *f);
PETSC_EXTERN PetscErrorCode SlimStepperGetStats(SlimStepper st, SlimStepStats *s);
PETSC_EXTERN PetscErrorCode SlimStepperResetStats(SlimStepper st);
/* The step's SNES (after setup); an error if the stepper runs the dense loop. */
PETSC_EXTERN PetscErrorCode SlimStepperGetSNES(SlimStepper st, SNES *snes);
/* The solver in use: after setup, auto is resolved to snes or dense. */
PETSC_EXTERN PetscErrorCode SlimStepperGetSolverType(SlimStepper st, SlimSolverType *type);
PETSC_EXTERN PetscErrorCode SlimStepperGetSizes(SlimStepper st, PetscInt *r, PetscInt *B, PetscInt *dof);

/* What the step solves of trajectory b left, a posteriori, in units of q: the sum over the steps
 * since its initial state of |R|/M |Z| at each accepted Newton iterate (M the residual's scale,
 * the largest sum of absolute terms of a row; Z the increments, the unknowns): an error dX of the
 * unknowns moves R by J dX ~ M |dX| / |Z|. The dense loop of a linear family takes no residual
 * after its exact update: 0. The round-off floor of an order estimate (src/task_orders.c) is
 * SLIM_STEP_FLOOR_SAFETY times this, at least SLIM_STEP_FLOOR_SAFETY N SLIM_STEP_ROUNDOFF eps
 * max|q0|; measured (README "The round-off floor of the observed order",
 * scripts/measure_error_floor.py). */
#define SLIM_STEP_FLOOR_SAFETY 10
#define SLIM_STEP_ROUNDOFF     1 /* eps per step: a linear family's exact update, measured <= 0.41 eps */
PETSC_EXTERN PetscErrorCode SlimStepperGetResidualSum(SlimStepper st, PetscInt b, PetscReal *sum);
/* That floor, in units of q, for N steps of family fam whose solves left solve (0, or not finite:
 * none, e.g. an explicit integration): max(user max|q0|, SLIM_STEP_FLOOR_SAFETY max(solve,
 * N SLIM_STEP_ROUNDOFF eps max|q0|)); user is -sweep_order_floor, relative to max|q0|. */
PETSC_EXTERN PetscErrorCode SlimErrorFloor(SlimFamily fam, PetscInt N, PetscReal solve, PetscReal user, PetscReal *floor);

/* Forward sensitivities with respect to the family parameters, for exact gradients of fits:
 * every step also solves the differentiated step equations (the step's Jacobian at the
 * converged point, one dense solve with np right-hand sides). Turn on before setting the
 * initial states (pi_0 = P(q_0, qdot_0; theta) depends on theta; q_0 does not). */
PETSC_EXTERN PetscErrorCode SlimStepperSetSensitivities(SlimStepper st, PetscBool on);
/* d q/d theta, d pi/d theta and (optional) d qdot/d theta of trajectory b now, each dof*np
 * row-major (x[a*np + j] = d x_a / d theta_j); any output may be NULL. */
PETSC_EXTERN PetscErrorCode SlimStepperGetSensitivities(SlimStepper st, PetscInt b, PetscReal dq[], PetscReal dpi[], PetscReal dv[]);
