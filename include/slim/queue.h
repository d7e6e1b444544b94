#pragma once
/* SlimQueue: dynamic hand-out of tasks across ranks without an idle coordinator rank.
 *
 * Tasks are sorted by estimated cost, most expensive first (SlimScheduleOrder); a shared MPI-3
 * one-sided counter on rank 0 (MPI_Fetch_and_op) gives each rank the next position in that list
 * when it becomes free. That is greedy list scheduling (LPT); SlimScheduleSimulate replays the
 * same policy on measured costs for any number of virtual ranks. The window also carries a
 * done counter (for progress lines) and a stop flag (a signalled rank stops every rank). */
#include <petscsys.h>

typedef struct _n_SlimQueue *SlimQueue;

/* Collective. n tasks. */
PETSC_EXTERN PetscErrorCode SlimQueueCreate(MPI_Comm comm, PetscInt n, SlimQueue *q);
PETSC_EXTERN PetscErrorCode SlimQueueDestroy(SlimQueue *q);
/* Next position in [0, n), or -1 when the list is exhausted or a stop was requested. */
PETSC_EXTERN PetscErrorCode SlimQueueNext(SlimQueue q, PetscInt *pos);
/* Reports a finished task and its cost (in the units of SlimScheduleOrder's costs). */
PETSC_EXTERN PetscErrorCode SlimQueueDone(SlimQueue q, PetscReal cost);
PETSC_EXTERN PetscErrorCode SlimQueueStop(SlimQueue q);
/* Tasks finished, their summed cost, and whether a stop was requested, across all ranks. */
PETSC_EXTERN PetscErrorCode SlimQueueProgress(SlimQueue q, PetscInt *done, PetscReal *cost, PetscBool *stop);

/* order[] = task indices sorted by decreasing cost (ties by index, so the order is stable). */
PETSC_EXTERN PetscErrorCode SlimScheduleOrder(PetscInt n, const PetscReal cost[], PetscInt order[]);
/* Makespan of the queue's policy on P ranks for tasks taken in the given order with the given
 * costs (seconds): each task goes to the rank that becomes free first. Optional per-rank busy. */
PETSC_EXTERN PetscErrorCode SlimScheduleSimulate(PetscInt n, const PetscInt order[], const PetscReal cost[], PetscInt P, PetscReal *makespan, PetscReal busy[]);
