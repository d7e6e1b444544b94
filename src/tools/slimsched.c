static const char help[] = "slimsched: replay the measured task costs of a slimsweep results file through the harness's\n"
                           "own assignment policy (cost-ordered list, next task to the first free rank) for many rank\n"
                           "counts, and report the predicted makespan against the ideal.\n"
                           "  slimsched -input results.h5 [-ranks 2,4,8,...] [-output sched.h5]\n\n";

/* What a cluster allocation would buy, before it is spent: for P virtual ranks the makespan of
 * the harness's policy (SlimScheduleSimulate, the code SlimQueue's hand-out follows) on the
 * measured wall time of every task, against the ideal max(total work / P, longest task). */
#include <math.h>
#include <hdf5.h>
#include <slim/queue.h>
#include <slim/options.h>
#include <slim/output.h>

/* Reads a 1-D double or int64 dataset as doubles; *n = 0 when it does not exist. */
static PetscErrorCode ReadColumn(hid_t file, const char path[], PetscInt *n, PetscReal **v)
{
  hid_t   d, s;
  hsize_t dims[2];

  PetscFunctionBeginUser;
  *n = 0;
  *v = NULL;
  if (H5Lexists(file, path, H5P_DEFAULT) <= 0) PetscFunctionReturn(0);
  d = H5Dopen2(file, path, H5P_DEFAULT);
  PetscCheck(d >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "-input: cannot open dataset %s", path);
  s = H5Dget_space(d);
  H5Sget_simple_extent_dims(s, dims, NULL);
  *n = (PetscInt)dims[0];
  PetscCall(PetscMalloc1(*n, v));
  PetscCheck(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *v) >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "-input: cannot read %s", path);
  H5Sclose(s);
  H5Dclose(d);
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  char        input[PETSC_MAX_PATH_LEN] = "", output[PETSC_MAX_PATH_LEN] = "";
  PetscInt    ranks[SLIM_LIST_MAX], nranks, n = 0, np, nb, ntasks = 0, skipped = 0;
  PetscReal  *pcost, *pwall, *pstat, *cost, *wall, total = 0, longest = 0;
  PetscInt   *order;
  hid_t       file;
  PetscMPIInt size;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCheck(size == 1, PETSC_COMM_WORLD, PETSC_ERR_WRONG_MPI_SIZE, "slimsched runs on one process");
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "slimsched options", NULL);
  PetscCall(PetscOptionsString("-input", "slimsweep results file whose measured task times are replayed", NULL, input, input, sizeof(input), NULL));
  PetscCall(SlimOptionsIntList(PetscOptionsObject, "-ranks", "Virtual rank counts to simulate", "1,2,4,8,16,32,64,128,256,512,1024,2048,4096", SLIM_LIST_MAX, ranks, &nranks, NULL));
  PetscCall(PetscOptionsString("-output", "Optional HDF5 file for the table (/simulation)", NULL, output, output, sizeof(output), NULL));
  PetscOptionsEnd();
  PetscCheck(input[0], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-input: give the results file to replay");
  for (PetscInt i = 0; i < nranks; i++) PetscCheck(ranks[i] >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-ranks: value %" PetscInt_FMT " is invalid (must be >= 1)", ranks[i]);

  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  file = H5Fopen(input, H5F_ACC_RDONLY, H5P_DEFAULT);
  PetscCheck(file >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "-input: cannot open '%s' as an HDF5 file", input);
  /* /tasks: every unit of work with the cost the harness sorted it by and the time it took */
  PetscCall(ReadColumn(file, "tasks/cost", &np, &pcost));
  PetscCall(ReadColumn(file, "tasks/wall", &nb, &pwall));
  PetscCall(ReadColumn(file, "tasks/status", &nb, &pstat));
  H5Fclose(file);
  PetscCheck(np > 0 && nb == np, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input: '%s' has no /tasks table: not a slimsweep results file (or one from before /tasks existed)", input);
  PetscCall(PetscMalloc3(np, &cost, np, &wall, np, &order));
  for (PetscInt i = 0; i < np; i++) {
    if (pstat[i] < 0 || !isfinite(pwall[i])) {
      skipped++;
      continue;
    }
    cost[ntasks] = pcost[i];
    wall[ntasks] = pwall[i];
    total += pwall[i];
    longest = PetscMax(longest, pwall[i]);
    ntasks++;
  }
  n = ntasks;
  PetscCheck(n > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input: '%s' has no finished tasks", input);
  PetscCall(SlimScheduleOrder(n, cost, order));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "slimsched: %" PetscInt_FMT " finished tasks of %s (%" PetscInt_FMT " not finished, left out); total work %.4g s, longest task %.4g s\n", n, input, skipped, total, longest));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "%8s %14s %14s %14s %12s\n", "ranks", "makespan [s]", "ideal [s]", "work/P [s]", "efficiency"));
  {
    PetscReal *mk, *ideal, *eff;
    PetscCall(PetscMalloc3(nranks, &mk, nranks, &ideal, nranks, &eff));
    for (PetscInt k = 0; k < nranks; k++) {
      PetscCall(SlimScheduleSimulate(n, order, wall, ranks[k], &mk[k], NULL));
      ideal[k] = PetscMax(total / ranks[k], longest);
      eff[k]   = total / (ranks[k] * mk[k]);
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "%8" PetscInt_FMT " %14.4g %14.4g %14.4g %11.1f%%\n", ranks[k], mk[k], ideal[k], total / ranks[k], 100 * eff[k]));
    }
    if (output[0]) {
      SlimOutput       out;
      PetscInt        *rows;
      PetscInt64      *iv;
      const SlimColumn cols[] = {
        {"ranks", SLIM_COL_INT, 1, "", "virtual rank count"},
        {"makespan", SLIM_COL_REAL, 1, "s", "predicted makespan of the harness's policy on the measured task times"},
        {"ideal", SLIM_COL_REAL, 1, "s", "max(total work / ranks, longest task)"},
        {"efficiency", SLIM_COL_REAL, 1, "", "total work / (ranks * makespan)"},
      };
      PetscCall(PetscMalloc2(nranks, &rows, nranks, &iv));
      for (PetscInt k = 0; k < nranks; k++) rows[k] = k, iv[k] = ranks[k];
      PetscCall(SlimOutputOpen(PETSC_COMM_SELF, output, SLIM_OUTPUT_FORCE, "-output", &out));
      PetscCall(SlimOutputDefineTable(out, "simulation", "scheduling simulation of the harness's policy on measured task times", nranks, 4, cols));
      PetscCall(SlimOutputFlush(out));
      PetscCall(SlimOutputWriteRows(out, "simulation", "ranks", nranks, rows, iv));
      PetscCall(SlimOutputWriteRows(out, "simulation", "makespan", nranks, rows, mk));
      PetscCall(SlimOutputWriteRows(out, "simulation", "ideal", nranks, rows, ideal));
      PetscCall(SlimOutputWriteRows(out, "simulation", "efficiency", nranks, rows, eff));
      PetscCall(SlimOutputSetAttrString(out, "/", "input", input));
      {
        PetscReal a[2] = {total, longest};
        PetscCall(SlimOutputSetAttrReal(out, "simulation", "total_work_and_longest_task", 2, a));
      }
      PetscCall(SlimOutputDestroy(&out));
      PetscCall(PetscFree2(rows, iv));
    }
    PetscCall(PetscFree3(mk, ideal, eff));
  }
  PetscCall(PetscFree3(cost, wall, order));
  PetscCall(PetscFree(pcost));
  PetscCall(PetscFree(pwall));
  PetscCall(PetscFree(pstat));
  PetscCall(PetscFinalize());
  return 0;
}
