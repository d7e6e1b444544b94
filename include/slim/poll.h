#pragma once
/* SlimPoll: a hook that long computations call every few steps. The harness uses it on rank 0,
 * which hosts the task counter: with one-sided MPI components that progress only inside MPI
 * calls (Open MPI's osc/pt2pt, common on TCP clusters) another rank's request for the next task
 * would otherwise wait until rank 0 finishes its own task; the hook also prints progress lines
 * during long tasks. No hook is set by default, and a call then costs an increment.
 *
 * Stops: a signal handler calls SlimPollRequestStop(). With the stop check on, the next
 * SlimPoll() -- every step of every integration, so within milliseconds at any point of any
 * task -- fails with SLIM_ERR_STOPPED, which unwinds the task in flight through the callers'
 * PetscCall(); whoever runs the task (the harness) catches that code and abandons the task,
 * which a resume recomputes. */
#include <petscsys.h>

/* Error code of SlimPoll() after a stop request (above PETSc's own codes). */
#define SLIM_ERR_STOPPED (PETSC_ERR_MAX_VALUE + 1)

typedef PetscErrorCode (*SlimPollFn)(void *ctx);

/* Sets (or, with fn = NULL, clears) the hook, called every `every` polls. */
PETSC_EXTERN PetscErrorCode SlimPollSet(SlimPollFn fn, void *ctx, PetscInt every);
/* Called by the integrators once per step. */
PETSC_EXTERN PetscErrorCode SlimPoll(void);

/* Async-signal-safe: records a stop request (from a SIGTERM/SIGUSR1 handler). */
PETSC_EXTERN void SlimPollRequestStop(void);
/* Whether a stop was requested; a read of a flag, cheap enough for any loop. */
PETSC_EXTERN PetscBool SlimPollStopRequested(void);
/* Seconds since the stop was requested (-1 without a request): what a stop costs, measured. */
PETSC_EXTERN PetscReal SlimPollStopElapsed(void);
/* Forgets a stop request (a new run in the same process, tests). */
PETSC_EXTERN void SlimPollClearStop(void);
/* With check on, SlimPoll() fails with SLIM_ERR_STOPPED once a stop was requested (default off:
 * code that cannot abandon its work, such as a merge, keeps running). */
PETSC_EXTERN PetscErrorCode SlimPollSetStopCheck(PetscBool check);
