static const char help[] = "slimsweep: run, time and fit slimplectic (nonconservative variational) integrators over a sweep.\n"
                           "  mpirun -n P slimsweep -options_file sweeps/default.opts -output results.h5\n"
                           "Every option is listed below with its default; sweeps/ holds commented options files.\n\n";

#include <string.h>
#include <slim/slim.h>
#include <slim/harness.h>
#include <slim/rk.h>
#include <slim/log.h>

/* Bad input is reported as one line, "slimsweep: <message>", by rank 0 (all ranks see the same
 * options and fail alike); errors that happen while running are reported by the rank that
 * hit them. */
static PetscErrorCode OneLineErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  PetscMPIInt rank;
  (void)comm, (void)line, (void)fun, (void)file, (void)ctx;
  if (p != PETSC_ERROR_INITIAL) return n;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (!SlimHarnessRunning && rank) return n;
  if (!SlimHarnessRunning) fprintf(stderr, "slimsweep: %s\n", mess && mess[0] ? mess : "error");
  else fprintf(stderr, "slimsweep: [rank %d] %s (%s)\n", rank, mess && mess[0] ? mess : "error", fun);
  fflush(stderr);
  return n;
}

/* -help lists the options of every family, of the stepper and of the baselines too, not only
 * those of the families chosen for this sweep. */
static PetscErrorCode HelpAll(void)
{
  char        names[1024], *tok, *save;
  SlimFamily  fam;
  SlimStepper st;
  SlimRK      rk;

  PetscFunctionBeginUser;
  PetscCall(SlimFamilyListNames(names, sizeof(names)));
  for (tok = strtok_r(names, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
    PetscCall(SlimFamilyCreate(tok, "-sweep_family", &fam));
    PetscCall(SlimFamilySetFromOptions(fam));
    if (!strcmp(tok, "dho")) {
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

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(PetscPushErrorHandler(OneLineErrorHandler, NULL));
  PetscCall(SlimFamilyRegisterAll());
  PetscCall(SlimLogRegister());
  PetscCall(PetscOptionsHasHelp(NULL, &helpflg));
  if (helpflg) {
    PetscCall(HelpAll());
    PetscCall(SlimHarnessCreate(PETSC_COMM_WORLD, &h));
    PetscCall(SlimHarnessSetFromOptions(h));
    PetscCall(SlimHarnessDestroy(&h));
    PetscCall(PetscFinalize());
    return 0;
  }
  PetscCall(SlimHarnessCreate(PETSC_COMM_WORLD, &h));
  ierr = SlimHarnessSetFromOptions(h);
  if (!ierr) ierr = SlimHarnessRun(h, &complete);
  if (ierr) {
    PetscMPIInt size;
    PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
    /* a failure while running may leave other ranks waiting in a collective call */
    if (SlimHarnessRunning && size > 1) PetscCallMPI(MPI_Abort(PETSC_COMM_WORLD, 1));
    (void)PetscFinalize();
    return 1;
  }
  PetscCall(SlimHarnessGetFailed(h, &nfailed));
  PetscCall(SlimHarnessDestroy(&h));
  PetscCall(PetscFinalize());
  /* 3: stopped early by a signal; the file is consistent and -sweep_resume finishes it.
   * 4: complete, but some solves failed (recorded per point; the sweep went on) */
  return !complete ? 3 : nfailed ? 4 : 0;
}
