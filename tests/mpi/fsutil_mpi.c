/* Parallel tests of the collective fault helpers, on any number of ranks:
 *   - SlimErrorAgree: ranks 1.. fail alone (rank k with its own message); every rank returns the
 *     lowest failing rank's code and message, and the next collective call completes (no hang);
 *     with no failure, nobody fails;
 *   - SlimLockAcquire: the job's lock of a path refuses a second acquisition on every rank;
 *   - SlimReplace: every rank gets the same temporary name, rank 0's writes land in path only
 *     at Commit; an abandoned replacement leaves nothing;
 *   - SlimCheckResources: an impossible estimate is refused on every rank alike.
 *   fsutil_mpi DIR    (exit status 0 only if every check passed on every rank)
 *
 *   fsutil_mpi --diskfull DIR   DIR is a small filesystem (diskfull.sh mounts a 1 MiB tmpfs):
 *   - an estimate larger than its free space is refused before anything is written;
 *   - the last rank alone writes until ENOSPC; SlimErrorAgree makes every rank fail with its
 *     "No space left on device" before the next collective call, which then completes (no hang);
 *   - a replacement whose temporary file filled the disk is abandoned: the old file is intact,
 *     the temporary removed and the space free again. */
#include <slim/agree.h>
#include <slim/fsutil.h>
#include <slim/lock.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...) \
  do { \
    if (!(cond)) { \
      failures++; \
      printf("FAIL [rank %d] line %d: ", rank, __LINE__); \
      printf(__VA_ARGS__); \
      printf("\n"); \
    } \
  } while (0)

static const char *LastMessage(PetscErrorCode ierr)
{
  const char *text;
  char       *specific = NULL;
  PetscErrorMessage(ierr, &text, &specific);
  return specific ? specific : "";
}

static PetscErrorCode FailAlone(PetscMPIInt rank)
{
  PetscFunctionBeginUser;
  PetscCheck(rank == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "disk full on rank %d", rank);
  PetscFunctionReturn(0);
}

/* Appends to file until the disk is full: fails with the system's message. */
static PetscErrorCode FillDisk(const char file[])
{
  static char buf[65536];
  FILE       *f = fopen(file, "w");

  PetscFunctionBeginUser;
  PetscCheck(f, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot create '%s': %s", file, strerror(errno));
  memset(buf, 'x', sizeof(buf));
  for (int i = 0; i < 1 << 16; i++) {
    if (fwrite(buf, 1, sizeof(buf), f) != sizeof(buf) || fflush(f)) {
      int err = errno;
      fclose(f);
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot write '%s': %s", file, strerror(err));
    }
  }
  fclose(f);
  PetscFunctionReturn(0);
}

static int DiskFull(const char dir[], PetscMPIInt rank, PetscMPIInt size)
{
  char           path[PETSC_MAX_PATH_LEN], fill[PETSC_MAX_PATH_LEN];
  PetscInt64     free0, free1;
  PetscErrorCode ierr;

  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/results.h5", dir));
  PetscCall(SlimFileFreeSpace(path, &free0));
  CHECK(free0 > 0 && free0 <= (2 << 20), "free space of the small filesystem: %lld", (long long)free0);
  /* an estimate beyond the free space: refused, nothing written */
  ierr = SlimCheckResources(PETSC_COMM_WORLD, path, "-output", 4 << 20, 0, "-sweep_allow_large");
  CHECK(ierr && strstr(LastMessage(ierr), "-output: the results need about 4.0 MiB but "), "estimate: '%s'", LastMessage(ierr));
  CHECK(access(path, F_OK) != 0, "the refused estimate created the file");
  CHECK(SlimCheckResources(PETSC_COMM_WORLD, path, "-output", 64 << 10, 0, "-sweep_allow_large") == 0, "a fitting estimate was refused");

  /* one rank hits ENOSPC; all agree before the barrier */
  PetscCall(PetscSNPrintf(fill, sizeof(fill), "%s/fill.%d", dir, rank));
  ierr = rank == size - 1 ? FillDisk(fill) : 0;
  ierr = SlimErrorAgree(PETSC_COMM_WORLD, ierr);
  CHECK(ierr == PETSC_ERR_FILE_WRITE && strstr(LastMessage(ierr), "No space left on device"), "agree on ENOSPC: %d '%s'", (int)ierr, LastMessage(ierr));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  if (rank == size - 1) unlink(fill);
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));

  /* a replacement that fills the disk is abandoned; the old file survives */
  {
    SlimReplace r;
    const char *tmp;
    char        buf[16] = "";
    FILE       *f;
    if (!rank) {
      f = fopen(path, "w");
      fputs("old", f);
      fclose(f);
    }
    PetscCall(SlimReplaceCreate(PETSC_COMM_WORLD, path, &r));
    PetscCall(SlimReplaceGetTempPath(r, &tmp));
    ierr = !rank ? FillDisk(tmp) : 0;
    ierr = SlimErrorAgree(PETSC_COMM_WORLD, ierr);
    CHECK(ierr != 0, "filling the temporary file did not fail");
    PetscCall(SlimReplaceDestroy(&r));
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
    if (!rank) {
      f = fopen(path, "r");
      CHECK(f && fgets(buf, sizeof(buf), f) && !strcmp(buf, "old"), "old file after the abandoned replacement: '%s'", buf);
      if (f) fclose(f);
    }
    PetscCall(SlimFileFreeSpace(path, &free1));
    CHECK(free1 + (64 << 10) >= free0, "space not freed: %lld of %lld", (long long)free1, (long long)free0);
  }
  return 0;
}

int main(int argc, char **argv)
{
  PetscMPIInt    rank, size;
  PetscErrorCode ierr;
  char           path[PETSC_MAX_PATH_LEN], expect[256];

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCheck(argc > 1, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "usage: fsutil_mpi [--diskfull] DIR");
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  if (argc > 2 && !strcmp(argv[1], "--diskfull")) {
    (void)DiskFull(argv[2], rank, size);
    goto done;
  }
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/agree.h5", argv[1]));

  /* no failure: nobody fails */
  CHECK(SlimErrorAgree(PETSC_COMM_WORLD, 0) == 0, "agree without failure failed");
  /* ranks >= 1 fail alone; all agree on rank 1's error */
  ierr = FailAlone(rank);
  ierr = SlimErrorAgree(PETSC_COMM_WORLD, ierr);
  if (size > 1) {
    PetscCall(PetscSNPrintf(expect, sizeof(expect), "disk full on rank 1"));
    CHECK(ierr == PETSC_ERR_FILE_WRITE, "agree: code %d", (int)ierr);
    CHECK(!strcmp(LastMessage(ierr), expect), "agree: message '%s'", LastMessage(ierr));
  } else CHECK(ierr == 0, "agree on one rank: %d", (int)ierr);
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD)); /* the next collective call: reached by all */

  /* the lock: held by this job, a second acquisition is refused on every rank */
  {
    SlimLock a = NULL, b = NULL;
    CHECK(SlimLockAcquire(PETSC_COMM_WORLD, path, "-output", &a) == 0, "lock: %s", LastMessage(1));
    ierr = SlimLockAcquire(PETSC_COMM_WORLD, path, "-output", &b);
    CHECK(ierr != 0 && strstr(LastMessage(ierr), "-output: another run"), "second lock: %d '%s'", (int)ierr, LastMessage(ierr));
    CHECK(b == NULL, "second lock returned an object");
    PetscCall(SlimLockRelease(&a));
  }

  /* replace: one temporary name; path changes only at Commit; an abandoned one leaves nothing */
  {
    SlimReplace r = NULL;
    const char *tmp;
    char        names[2][PETSC_MAX_PATH_LEN];
    FILE       *f;
    PetscCall(SlimReplaceCreate(PETSC_COMM_WORLD, path, &r));
    PetscCall(SlimReplaceGetTempPath(r, &tmp));
    PetscCall(PetscStrncpy(names[0], tmp, sizeof(names[0])));
    PetscCallMPI(MPI_Allreduce(names[0], names[1], sizeof(names[0]), MPI_CHAR, MPI_MAX, PETSC_COMM_WORLD));
    CHECK(!strcmp(names[0], names[1]), "temporary names differ: %s", names[0]);
    if (!rank) {
      f = fopen(tmp, "w");
      fputs("new", f);
      fclose(f);
    }
    CHECK(access(path, F_OK) != 0, "path exists before Commit");
    PetscCall(SlimReplaceCommit(r));
    PetscCall(SlimReplaceDestroy(&r));
    CHECK(access(path, F_OK) == 0 && access(names[0], F_OK) != 0, "after Commit: path missing or temporary left");
    PetscCall(SlimReplaceCreate(PETSC_COMM_WORLD, path, &r));
    PetscCall(SlimReplaceGetTempPath(r, &tmp));
    if (!rank) {
      f = fopen(tmp, "w");
      fputs("stub", f);
      fclose(f);
    }
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
    PetscCall(SlimReplaceDestroy(&r));
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
    CHECK(access(names[0], F_OK) != 0, "abandoned temporary left behind");
    if (!rank) {
      char buf[16] = "";
      f            = fopen(path, "r");
      CHECK(f && fgets(buf, sizeof(buf), f) && !strcmp(buf, "new"), "path content '%s'", buf);
      if (f) fclose(f);
      unlink(path);
    }
  }

  /* an impossible estimate: refused on every rank with the same line */
  ierr = SlimCheckResources(PETSC_COMM_WORLD, path, "-output", (PetscInt64)1 << 62, 0, "-sweep_allow_large");
  CHECK(ierr != 0 && strstr(LastMessage(ierr), "-output: the results need about "), "resources: %d '%s'", (int)ierr, LastMessage(ierr));

done:
  PetscCall(PetscPopErrorHandler());
  {
    int all;
    PetscCallMPI(MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, PETSC_COMM_WORLD));
    failures = all;
  }
  PetscCall(PetscFinalize());
  return failures ? 1 : 0;
}
