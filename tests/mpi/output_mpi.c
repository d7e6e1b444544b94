/* Parallel test of SlimOutput (src/output.c).
 *
 *   output_mpi FILE
 *     All ranks write interleaved rows of one table (rank k owns rows = k mod size, written in
 *     reverse order in small batches; rows = 6 mod 7 are left out) and one array each; CREATE
 *     on the finished file must then fail on every rank; rank 0 reopens the file alone and
 *     checks every value and fill value; all ranks resume, fill in the missing rows from other
 *     ranks than before, and rank 0 checks again. Exit code 0 only if everything matched.
 *
 *   output_mpi --slow FILE PREFIX
 *     For the SIGKILL test (output_kill.sh): every rank writes its pid to PREFIX.<rank>.pid,
 *     then writes rows of a large table one at a time, slowly, forever, appending the row number
 *     to PREFIX.<rank> after each row is complete (so a row listed there was fully written when
 *     the process was killed). Values follow the formulas below, which output_kill.sh repeats. */
#define _POSIX_C_SOURCE 200809L
#include <slim/output.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SW 16 /* string column width */

static double     X(PetscInt r) { return 0.25 * (double)r + 1.0 / 3.0; }
static PetscInt64 N(PetscInt r) { return 1000003LL * r - 5; }
static double     V(PetscInt r, int j) { return (double)r + 0.125 * j; }
static void       S(PetscInt r, char s[SW])
{
  memset(s, 0, SW);
  snprintf(s, SW, "r%" PetscInt_FMT, r);
}
static double A(int k, PetscInt i) { return 100.0 * k + 0.5 * (double)i; } /* array of rank k */

static const SlimColumn Cols[] = {
  {"x", SLIM_COL_REAL, 1, "m", "a real"},
  {"n", SLIM_COL_INT, 1, NULL, "an int"},
  {"s", SLIM_COL_STRING, SW, NULL, "a string"},
  {"v", SLIM_COL_REAL, 3, "m/s", "a real triple"},
};
#define NCOL 4

static PetscBool Skipped(PetscInt r) { return (PetscBool)(r % 7 == 6); }

/* Writes rows[0..n) of every column. */
static PetscErrorCode WriteRows(SlimOutput out, PetscInt n, const PetscInt rows[])
{
  double     x[8], v[24];
  PetscInt64 nn[8];
  char       s[8 * SW];

  PetscFunctionBeginUser;
  PetscCheck(n <= 8, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "batch too large");
  for (PetscInt i = 0; i < n; i++) {
    x[i]  = X(rows[i]);
    nn[i] = N(rows[i]);
    S(rows[i], s + SW * i);
    for (int j = 0; j < 3; j++) v[3 * i + j] = V(rows[i], j);
  }
  PetscCall(SlimOutputWriteRows(out, "results", "x", n, rows, x));
  PetscCall(SlimOutputWriteRows(out, "results", "n", n, rows, nn));
  PetscCall(SlimOutputWriteRows(out, "results", "s", n, rows, s));
  PetscCall(SlimOutputWriteRows(out, "results", "v", n, rows, v));
  PetscFunctionReturn(0);
}

/* Rank 0 alone: reopens the file and counts mismatches; rows with Skipped(r) must hold the fill
 * unless filled is set. */
static PetscErrorCode Verify(const char path[], PetscInt nrows, PetscMPIInt size, PetscBool filled, PetscInt *bad)
{
  SlimOutput  out;
  double     *x, *v, *a;
  PetscInt64 *nn;
  char       *s, buf[64];
  PetscInt    dims[3] = {2, 3, 0};

  PetscFunctionBeginUser;
  *bad = 0;
  PetscCall(SlimOutputOpen(PETSC_COMM_SELF, path, SLIM_OUTPUT_RESUME, "-output", &out));
  PetscCall(SlimOutputDefineTable(out, "results", NULL, nrows, NCOL, Cols));
  PetscCall(PetscMalloc4(nrows, &x, 3 * nrows, &v, nrows, &nn, SW * nrows, &s));
  PetscCall(SlimOutputReadColumn(out, "results", "x", x));
  PetscCall(SlimOutputReadColumn(out, "results", "n", nn));
  PetscCall(SlimOutputReadColumn(out, "results", "s", s));
  PetscCall(SlimOutputReadColumn(out, "results", "v", v));
  for (PetscInt r = 0; r < nrows; r++) {
    char      want[SW];
    PetscBool fill = (PetscBool)(!filled && Skipped(r)), ok = PETSC_TRUE;
    if (fill) {
      memset(want, 0, SW);
      ok = (PetscBool)(isnan(x[r]) && nn[r] == -1 && isnan(v[3 * r]) && isnan(v[3 * r + 1]) && isnan(v[3 * r + 2]));
    } else {
      S(r, want);
      ok = (PetscBool)(x[r] == X(r) && nn[r] == N(r));
      for (int j = 0; j < 3; j++) ok = (PetscBool)(ok && v[3 * r + j] == V(r, j));
    }
    ok = (PetscBool)(ok && !memcmp(want, s + SW * r, SW));
    if (!ok) {
      (*bad)++;
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "row %" PetscInt_FMT " wrong: x %g n %" PetscInt64_FMT " s '%.16s' v %g %g %g\n", r, x[r], nn[r], s + SW * r, v[3 * r], v[3 * r + 1], v[3 * r + 2]));
    }
  }
  PetscCall(PetscFree4(x, v, nn, s));

  for (int k = 0; k < size; k++) {
    char name[64];
    dims[2] = k + 1;
    PetscCall(PetscMalloc1(6 * (k + 1), &a));
    PetscCall(PetscSNPrintf(name, sizeof(name), "arrays/rank%d", k));
    PetscCall(SlimOutputDefineArray(out, name, 3, dims, NULL, NULL));
    PetscCall(SlimOutputReadArray(out, name, a));
    for (PetscInt i = 0; i < 6 * (k + 1); i++)
      if (a[i] != A(k, i)) {
        (*bad)++;
        PetscCall(PetscPrintf(PETSC_COMM_SELF, "%s[%" PetscInt_FMT "] = %g, expected %g\n", name, i, a[i], A(k, i)));
      }
    PetscCall(PetscFree(a));
  }
  PetscCall(SlimOutputGetAttrString(out, "/", "title", buf, sizeof(buf)));
  if (strcmp(buf, "output_mpi")) (*bad)++;
  PetscCall(SlimOutputGetAttrString(out, "results", "description", buf, sizeof(buf)));
  if (strcmp(buf, "interleaved rows")) (*bad)++;
  PetscCall(SlimOutputGetAttrString(out, "results/v", "units", buf, sizeof(buf)));
  if (strcmp(buf, "m/s")) (*bad)++;
  PetscCall(SlimOutputDestroy(&out));
  PetscFunctionReturn(0);
}

static PetscErrorCode Normal(const char path[])
{
  SlimOutput     out;
  PetscMPIInt    rank, size;
  PetscInt       nrows, bad = 0, allbad, batch[3], nb = 0, dims[3] = {2, 3, 0};
  PetscErrorCode ierr;
  PetscInt64     nr;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  nrows = 11 * size + 4; /* the last rows are not a multiple of size */
  if (!rank) unlink(path);
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));

  PetscCall(SlimOutputOpen(PETSC_COMM_WORLD, path, SLIM_OUTPUT_CREATE, "-output", &out));
  PetscCall(SlimOutputSetAttrString(out, "/", "title", "output_mpi"));
  nr = size;
  PetscCall(SlimOutputSetAttrInt(out, "/", "nranks", 1, &nr));
  PetscCall(SlimOutputDefineTable(out, "results", "interleaved rows", nrows, NCOL, Cols));
  for (int k = 0; k < size; k++) {
    char name[64];
    dims[2] = k + 1;
    PetscCall(PetscSNPrintf(name, sizeof(name), "arrays/rank%d", k));
    PetscCall(SlimOutputDefineArray(out, name, 3, dims, "1", "one array per rank"));
  }
  /* own rows, highest first, in batches of up to 3 */
  for (PetscInt r = nrows - 1; r >= 0; r--) {
    if (r % size != rank || Skipped(r)) continue;
    batch[nb++] = r;
    if (nb == 3) {
      PetscCall(WriteRows(out, nb, batch));
      nb = 0;
    }
  }
  if (nb) PetscCall(WriteRows(out, nb, batch));
  {
    char      name[64];
    PetscReal a[6 * 64];
    PetscCheck(size <= 64, PETSC_COMM_SELF, PETSC_ERR_SUP, "at most 64 ranks");
    for (PetscInt i = 0; i < 6 * (rank + 1); i++) a[i] = A(rank, i);
    PetscCall(PetscSNPrintf(name, sizeof(name), "arrays/rank%d", rank));
    PetscCall(SlimOutputWriteArray(out, name, a));
  }
  PetscCall(SlimOutputDestroy(&out));

  /* CREATE on the existing file: every rank must get the error (and nobody hang) */
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SlimOutputOpen(PETSC_COMM_WORLD, path, SLIM_OUTPUT_CREATE, "-output", &out);
  PetscCall(PetscPopErrorHandler());
  if (!ierr || out) {
    bad++;
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "[%d] CREATE on an existing file did not fail\n", rank));
  }

  if (!rank) PetscCall(Verify(path, nrows, size, PETSC_FALSE, &bad));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));

  /* resume collectively and fill the skipped rows, each from another rank than its owner */
  PetscCall(SlimOutputOpen(PETSC_COMM_WORLD, path, SLIM_OUTPUT_RESUME, "-output", &out));
  PetscCall(SlimOutputDefineTable(out, "results", NULL, nrows, NCOL, Cols));
  for (PetscInt r = 0; r < nrows; r++)
    if (Skipped(r) && (r + 1) % size == rank) PetscCall(WriteRows(out, 1, &r));
  PetscCall(SlimOutputDestroy(&out));
  if (!rank) {
    PetscInt bad2;
    PetscCall(Verify(path, nrows, size, PETSC_TRUE, &bad2));
    bad += bad2;
  }

  PetscCallMPI(MPI_Allreduce(&bad, &allbad, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "output_mpi: %d ranks, %" PetscInt_FMT " rows: %s\n", size, nrows, allbad ? "MISMATCH" : "ok"));
  PetscCheck(!allbad, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "%" PetscInt_FMT " mismatches", allbad);
  PetscFunctionReturn(0);
}

static PetscErrorCode Slow(const char path[], const char prefix[])
{
  SlimOutput      out;
  PetscMPIInt     rank, size;
  const PetscInt  nrows = 20000;
  char            name[PETSC_MAX_PATH_LEN], line[64];
  int             fd;
  struct timespec pause = {0, 2000000}; /* 2 ms per row */

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s.%d.pid", prefix, rank));
  fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  PetscCheck(fd >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot create %s", name);
  PetscCheck(write(fd, line, (size_t)snprintf(line, sizeof(line), "%ld\n", (long)getpid())) > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "write");
  close(fd);

  PetscCall(SlimOutputOpen(PETSC_COMM_WORLD, path, SLIM_OUTPUT_FORCE, "-output", &out));
  PetscCall(SlimOutputDefineTable(out, "results", "rows written until killed", nrows, NCOL, Cols));
  PetscCall(SlimOutputFlush(out)); /* metadata on disk before the first independent write */

  /* the progress file is written with plain write(2) after each row, so it never runs ahead */
  PetscCall(PetscSNPrintf(name, sizeof(name), "%s.%d", prefix, rank));
  fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  PetscCheck(fd >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot create %s", name);
  for (PetscInt i = 0;; i++) {
    PetscInt r = (nrows - 1 - rank - i * size) % nrows; /* own rows, highest first, then again */
    if (r < 0) r += nrows;
    PetscCall(WriteRows(out, 1, &r));
    PetscCheck(write(fd, line, (size_t)snprintf(line, sizeof(line), "%" PetscInt_FMT "\n", r)) > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "write");
    nanosleep(&pause, NULL);
  }
  PetscFunctionReturn(0); /* not reached: killed */
}

int main(int argc, char **argv)
{
  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  if (argc == 4 && !strcmp(argv[1], "--slow")) PetscCall(Slow(argv[2], argv[3]));
  else if (argc == 2) PetscCall(Normal(argv[1]));
  else SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "usage: output_mpi FILE | output_mpi --slow FILE PREFIX");
  PetscCall(PetscFinalize());
  return 0;
}
