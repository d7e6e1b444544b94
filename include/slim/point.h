#pragma once
/* Measuring one sweep point: an untimed measurement run (errors, optional trajectory samples;
 * it is also the warm-up) followed by timed repeats, setup timed separately -- the way
 * benchmark tools do it. The same SlimTracker measures errors of the slimplectic run and of
 * the Runge-Kutta baselines, against the exact solution where the family has one and against
 * a finer reference run (dt/ref_dt_factor, r + ref_r_extra) otherwise. */
#include <slim/sweep.h>

typedef enum { SLIM_ERROR_NONE = 0, SLIM_ERROR_EXACT = 1, SLIM_ERROR_REFERENCE = 2 } SlimErrorKind;

/* Trajectory samples every `stride` steps: t[ns], q[ns*dof], p[ns*dof] (pi for slimplectic,
 * qdot for Runge-Kutta), energy[ns], energy_error[ns] (fractional, NaN without reference). */
typedef struct {
  PetscInt   stride, n, dof;
  PetscReal *t, *q, *p, *energy, *energy_error;
} SlimSamples;

typedef struct {
  PetscInt      status; /* 0 ok, 1 failed */
  PetscInt      fail_reason, fail_step, fail_traj, nfailed;
  PetscReal     t_setup, t_min, t_median, t_max;
  PetscReal     ns_per_step, ns_per_traj_step;
  PetscInt      steps, newton_total, newton_max, linear_total;
  PetscReal     newton_per_step;
  PetscReal     solve_residual; /* trajectory 0 (+ its reference run): SlimStepperGetResidualSum; NAN for RK */
  SlimErrorKind error_kind;
  PetscReal     err_q_final, err_q_max, err_E_final, err_E_max;
  PetscReal     wall; /* seconds spent on the point, everything included */
} SlimResult;

PETSC_EXTERN PetscErrorCode SlimSamplesCreate(PetscInt N, PetscInt stride, PetscInt dof, SlimSamples *s);
PETSC_EXTERN PetscErrorCode SlimSamplesDestroy(SlimSamples *s);

/* Runs point p of the sweep; samples may be NULL (no trajectory). Never raises an error for a
 * failed solve: that is recorded in res. */
PETSC_EXTERN PetscErrorCode SlimPointRun(SlimSweep sw, const SlimPoint *p, SlimResult *res, SlimSamples *samples);
/* Runs Runge-Kutta baseline `type` (a TSRK type) on point p's family, dt and N. */
PETSC_EXTERN PetscErrorCode SlimBaselineRun(SlimSweep sw, const SlimPoint *p, const char type[], SlimResult *res, SlimSamples *samples);
