#pragma once
/* SlimHarness: runs a whole sweep across the ranks of a communicator into one HDF5 file.
 *
 * Tasks (sweep points, Runge-Kutta baselines, and the fit work of issue-level features) are
 * handed out dynamically, most expensive first, by a SlimQueue; finished rows are written in
 * batches through SlimOutput, so a job killed part-way keeps every finished task and
 * -sweep_resume computes only the rest. SIGTERM/SIGUSR1 abandon the task in flight (within a
 * step of its integration; a resume recomputes it), write what is finished and stop every rank. */
#include <slim/sweep.h>

typedef struct _n_SlimHarness *SlimHarness;

PETSC_EXTERN PetscErrorCode SlimHarnessCreate(MPI_Comm comm, SlimHarness *h);
PETSC_EXTERN PetscErrorCode SlimHarnessDestroy(SlimHarness *h);
/* Reads -output, -force, -sweep_resume, -sweep_quiet, progress and flush options, the sweep
 * definition with its fit options, and rejects misspelt -sweep_ / -fit_ / -landscape_ /
 * -<family>_ options. */
PETSC_EXTERN PetscErrorCode SlimHarnessSetFromOptions(SlimHarness h);
/* Runs (or resumes) the sweep: points, baselines, and with fits on (docs/fits.md) one task per
 * (point, fit configuration) and per block of landscape rows. *complete is PETSC_FALSE when a
 * signal stopped it early. */
PETSC_EXTERN PetscErrorCode SlimHarnessRun(SlimHarness h, PetscBool *complete);
/* Tasks of the last run whose solve failed (recorded as failed in the file; the sweep went on). */
PETSC_EXTERN PetscErrorCode SlimHarnessGetFailed(SlimHarness h, PetscInt *nfailed);

/* Exit statuses of the slimsweep executable (README, "Exit status"). A failure to write the
 * results file (a full disk, a vanished filesystem) is raised on every rank alike with the code
 * PETSC_ERR_FILE_WRITE, before any rank enters another collective call. */
#define SLIM_EXIT_BAD_INPUT 1
#define SLIM_EXIT_STOPPED   3
#define SLIM_EXIT_FAILED    4
#define SLIM_EXIT_WRITE     5
/* True once the results file is open and ranks work independently (errors are no longer
 * input errors that every rank sees alike). */
PETSC_EXTERN PetscBool SlimHarnessRunning;
