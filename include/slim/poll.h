#pragma once
/* SlimPoll: a hook that long computations call every few steps. The harness uses it on rank 0,
 * which hosts the task counter: with one-sided MPI components that progress only inside MPI
 * calls (Open MPI's osc/pt2pt, common on TCP clusters) another rank's request for the next task
 * would otherwise wait until rank 0 finishes its own task; the hook also prints progress lines
 * during long tasks. No hook is set by default, and a call then costs an increment. */
#include <petscsys.h>

typedef PetscErrorCode (*SlimPollFn)(void *ctx);

/* Sets (or, with fn = NULL, clears) the hook, called every `every` polls. */
PETSC_EXTERN PetscErrorCode SlimPollSet(SlimPollFn fn, void *ctx, PetscInt every);
/* Called by the integrators once per step. */
PETSC_EXTERN PetscErrorCode SlimPoll(void);
