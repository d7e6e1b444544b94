#pragma once
/* Training data for learned models (issue 11; the seed paper's section 4.4 trained a network on
 * 5e5 random Lagrangians of the DHO family, c1 > 0, c2, c3 >= 0, about 5 % of c2 and c3 exactly
 * zero): random coefficient sets of a family from a stated prior, and their motion integrated as
 * one ensemble.
 *
 * The prior is per parameter: fixed at the family's value (default), uniform in [lo, hi], or
 * log-uniform in [lo, hi] (lo > 0); independently, with probability pzero the parameter is exactly
 * 0. Options (family f, parameter p, e.g. -train_dho_k 0,2 -train_dho_k_zero 0.05):
 *   -train_<f>_<p> lo,hi      uniform (or log-uniform with -train_<f>_<p>_log)
 *   -train_<f>_<p>_log        log-uniform
 *   -train_<f>_<p>_zero prob  probability of an exact 0
 * Sample i depends only on (seed, i), never on how the samples are split into batches or ranks. */
#include <slim/stepper.h>

typedef enum { SLIM_PRIOR_FIXED, SLIM_PRIOR_UNIFORM, SLIM_PRIOR_LOGUNIFORM } SlimPriorKind;
PETSC_EXTERN const char *const SlimPriorKinds[];

typedef struct {
  SlimPriorKind kind[SLIM_MAX_PARAM];
  PetscReal     lo[SLIM_MAX_PARAM], hi[SLIM_MAX_PARAM], pzero[SLIM_MAX_PARAM];
  PetscReal     fixed[SLIM_MAX_PARAM];
} SlimPrior;

/* Every parameter fixed at the family's current value, no zeros. */
PETSC_EXTERN PetscErrorCode SlimPriorInit(SlimFamily fam, SlimPrior *prior);
/* Reads the -train_<family>_* options above; a bad value is an error naming the option. */
PETSC_EXTERN PetscErrorCode SlimPriorSetFromOptions(SlimFamily fam, SlimPrior *prior);
/* Canonical one-line description ("m: uniform [0.5, 2]; k: uniform [0, 2], P(0) = 0.05; ..."),
 * for the results file and resume signatures. */
PETSC_EXTERN PetscErrorCode SlimPriorDescribe(SlimFamily fam, const SlimPrior *prior, char buf[], size_t len);
/* Samples i0 ... i0+K-1 into theta[K*np]. */
PETSC_EXTERN PetscErrorCode SlimPriorSample(SlimFamily fam, const SlimPrior *prior, PetscInt64 seed, PetscInt64 i0, PetscInt K, PetscReal theta[]);

/* Integrates the K parameter sets theta[K*np] from the family's initial state (q0, v0) as one
 * ensemble, N steps of dt with r interior points, and stores every `stride` steps (S = N/stride + 1
 * samples, the initial state first): t[S], q, pi, qdot [K][S][dof] (any of them may be NULL).
 * A trajectory whose step solve fails keeps NaN from the failed sample on, and fail_step[k] (if
 * given) is the failed step (-1: none). */
PETSC_EXTERN PetscErrorCode SlimTrainGenerate(SlimFamily fam, PetscInt r, PetscReal dt, PetscInt N, PetscInt stride, SlimSolverType solver, PetscInt K, const PetscReal theta[], PetscReal t[], PetscReal q[], PetscReal pi[], PetscReal qdot[], PetscInt fail_step[]);
