static const char help[] = "slimsweep: run, time and fit slimplectic (nonconservative variational) integrators over a sweep.\n"
                           "  mpirun -n P slimsweep -options_file sweeps/default.opts -output results.h5\n"
                           "Every option is listed below with its default; sweeps/ holds commented options files.\n\n";

#include <string.h>
#include <slim/slim.h>
#include <slim/harness.h>
#include <slim/rk.h>
#include <slim/log.h>
#include <slim/options.h>
#include <slim/poll.h>

/* Bad input is reported as one line, "slimsweep: <message>", by rank 0 (all ranks see the same
 * options and fail alike); errors that happen while running are reported by the rank that
 * hit them. */
static PetscErrorCode OneLineErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  PetscMPIInt rank;
  char        explained[1024];
  PetscBool   flg = PETSC_FALSE;
  (void)comm, (void)line, (void)fun, (void)file, (void)ctx;
  /* a stop requested by a signal unwinds the task in flight: not an error */
  if (p != PETSC_ERROR_INITIAL || n == SLIM_ERR_STOPPED) return n;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (!SlimHarnessRunning && rank) return n;
  /* PETSc's parsers do not say which option holds a value that is not a number */
  if (!SlimOptionsExplainError(mess, explained, sizeof(explained), &flg) && flg) mess = explained;
  if (!SlimHarnessRunning) fprintf(stderr, "slimsweep: %s\n", mess && mess[0] ? mess : "error");
  else fprintf(stderr, "slimsweep: [rank %d] %s (%s)\n", rank, mess && mess[0] ? mess : "error", fun);
  fflush(stderr);
  return n;
}

/* The step solver's and the RK baselines' options are read inside every task, where a bad value
 * (-slim_step_maxit 0, -slim_snes_rtol abc, -rk_ts_type nosuch) would fail task after task: read
 * them once before any work too, so that they are refused like the sweep's own options, with one
 * line. With all (-help), the options of every family are listed as well, not only those of the
 * families chosen for this sweep. */
static PetscErrorCode ReadTaskOptions(PetscBool all)
{
  char        names[1024], *tok, *save;
  SlimFamily  fam;
  SlimStepper st;
  SlimRK      rk;

  PetscFunctionBeginUser;
  PetscCall(SlimFamilyListNames(names, sizeof(names)));
  for (tok = strtok_r(names, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
    const PetscBool dho = (PetscBool)!strcmp(tok, "dho");
    if (!all && !dho) continue;
    PetscCall(SlimFamilyCreate(tok, "-sweep_family", &fam));
    if (all) PetscCall(SlimFamilySetFromOptions(fam));
    if (dho) {
      PetscCall(SlimStepperCreate(fam, 1, 1, &st));
      PetscCall(SlimStepperSetFromOptions(st));
      PetscCall(SlimStepperSetSolverType(st, SLIM_SOLVER_SNES)); /* one trajectory would run dense: list the SNES options */
      PetscCall(SlimStepperSetTimeStep(st, 0.1));
      PetscCall(SlimStepperSetUp(st));
      PetscCall(SlimStepperDestroy(&st));
      PetscCall(SlimRKCreate(fam, fam->theta, "4", &rk));
      PetscCall(SlimRKSetFromOptions(rk));
      PetscCall(SlimRKDestroy(&rk));
    }
    PetscCall(SlimFamilyDestroy(&fam));
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  SlimHarness    h;
  PetscBool      complete = PETSC_TRUE, helpflg;
  PetscErrorCode ierr;
  PetscInt       nfailed = 0;
  PetscMPIInt    provided, rank;
  char           msg[PETSC_MAX_PATH_LEN + 256];

  /* MPI first, so that an unreadable -options_file is one line from rank 0 instead of PETSc's
   * traceback from inside PetscInitialize(); PETSc then leaves MPI_Finalize() to us */
  if (MPI_Init_thread(&argc, &argv, PETSC_MPI_THREAD_REQUIRED, &provided) != MPI_SUCCESS) return 1;
  if (SlimOptionsCheckFiles(argc, argv, msg, sizeof(msg))) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (!rank) fprintf(stderr, "slimsweep: %s\n", msg);
    MPI_Finalize();
    return 1;
  }
  ierr = PetscInitialize(&argc, &argv, NULL, help);
  if (ierr) {
    MPI_Finalize();
    return 1;
  }
  PetscCall(PetscPushErrorHandler(OneLineErrorHandler, NULL));
  PetscCall(SlimFamilyRegisterAll());
  PetscCall(SlimFamilyLoadPlugins()); /* -family_plugin: before -help lists the families */
  PetscCall(SlimLogRegister());
  PetscCall(PetscOptionsHasHelp(NULL, &helpflg));
  if (helpflg) {
    PetscCall(ReadTaskOptions(PETSC_TRUE));
    PetscCall(SlimHarnessCreate(PETSC_COMM_WORLD, &h));
    PetscCall(SlimHarnessSetFromOptions(h));
    PetscCall(SlimHarnessDestroy(&h));
    PetscCall(PetscFinalize());
    MPI_Finalize();
    return 0;
  }
  PetscCall(SlimHarnessCreate(PETSC_COMM_WORLD, &h));
  ierr = SlimHarnessSetFromOptions(h);
  if (!ierr) ierr = ReadTaskOptions(PETSC_FALSE);
  if (!ierr) ierr = SlimHarnessRun(h, &complete);
  if (ierr) {
    PetscMPIInt size;
    PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
    /* a failure of one rank while running may leave the others waiting in a collective call;
     * failures that every rank saw alike (bad input, a refused lock, a write failure agreed on
     * by all: SlimHarnessRunning is false again) end every rank in order */
    if (SlimHarnessRunning && size > 1) PetscCallMPI(MPI_Abort(PETSC_COMM_WORLD, SLIM_EXIT_BAD_INPUT));
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    (void)SlimHarnessDestroy(&h); /* closes the file, removes a temporary one, releases the lock */
    PetscCall(PetscPopErrorHandler());
    (void)PetscFinalize();
    MPI_Finalize();
    return ierr == PETSC_ERR_FILE_WRITE ? SLIM_EXIT_WRITE : SLIM_EXIT_BAD_INPUT;
  }
  PetscCall(SlimHarnessGetFailed(h, &nfailed));
  PetscCall(SlimHarnessDestroy(&h));
  PetscCall(PetscFinalize());
  MPI_Finalize();
  /* 3: stopped early by a signal (or a merge whose parts lack tasks); the file is consistent
   *    and -sweep_resume finishes it.
   * 4: complete, but some solves failed (recorded per point; the sweep went on)
   * 5: the results file could not be written (a full disk): every rank stopped, rows written
   *    before are kept */
  return !complete ? SLIM_EXIT_STOPPED : nfailed ? SLIM_EXIT_FAILED : 0;
}
