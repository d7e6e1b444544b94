static const char help[] = "slimsched: replay the measured task costs of a slimsweep results file through the harness's\n"
                           "own assignment policy (cost-ordered list, next task to the first free rank) for many rank\n"
                           "counts, and report the predicted makespan against the ideal.\n"
                           "  slimsched -input results.h5 [-ranks 2,4,8,...] [-output sched.h5]\n\n";

/* What a cluster allocation would buy, before it is spent: for P virtual ranks the makespan of
 * the harness's policy (SlimScheduleSimulate, the code SlimQueue's hand-out follows) on the
 * measured wall time of every task, against the ideal max(total work / P, longest task). */
#include <math.h>
#include <slim/queue.h>
#include <slim/options.h>
#include <slim/private/record.h>

/* The finished tasks of /tasks: their scheduling cost and measured wall time. */
typedef struct {
  PetscInt   n, skipped;
  PetscReal *cost, *wall, total, longest;
} Tasks;

/* One column of /tasks as doubles (serial read through the output layer). */
static PetscErrorCode ReadTaskColumn(const char input[], const char col[], PetscInt *n, PetscReal **v)
{
  char     path[64];
  PetscInt cols;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof(path), "tasks/%s", col));
  PetscCall(SlimOutputReadMatrix(input, path, "-input", n, &cols, v));
  PetscCheck(cols == 1, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input: /%s of '%s' is not a column", path, input);
  PetscFunctionReturn(0);
}

static PetscErrorCode ReadTasks(const char input[], Tasks *t)
{
  PetscReal *pcost, *pwall, *pstat;
  PetscInt   np, nw, ns;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(t, sizeof(*t)));
  PetscCall(ReadTaskColumn(input, "cost", &np, &pcost));
  PetscCall(ReadTaskColumn(input, "wall", &nw, &pwall));
  PetscCall(ReadTaskColumn(input, "status", &ns, &pstat));
  PetscCheck(np > 0 && nw == np && ns == np, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input: the /tasks table of '%s' is inconsistent", input);
  PetscCall(PetscMalloc2(np, &t->cost, np, &t->wall));
  for (PetscInt i = 0; i < np; i++) {
    if (pstat[i] < 0 || !isfinite(pwall[i])) {
      t->skipped++;
      continue;
    }
    t->cost[t->n] = pcost[i];
    t->wall[t->n] = pwall[i];
    t->total += pwall[i];
    t->longest = PetscMax(t->longest, pwall[i]);
    t->n++;
  }
  PetscCall(PetscFree(pcost));
  PetscCall(PetscFree(pwall));
  PetscCall(PetscFree(pstat));
  PetscCheck(t->n > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-input: '%s' has no finished tasks", input);
  PetscFunctionReturn(0);
}

typedef struct {
  PetscInt  ranks;
  PetscReal makespan, ideal, efficiency;
} SimRow;

static const SlimRecordColumn SimCols[] = {
  SLIM_REC(SimRow, ranks, SLIM_RECORD_INT, 1, "ranks", "", "virtual rank count"),
  SLIM_REC(SimRow, makespan, SLIM_RECORD_REAL, 1, "makespan", "s", "predicted makespan of the harness's policy on the measured task times"),
  SLIM_REC(SimRow, ideal, SLIM_RECORD_REAL, 1, "ideal", "s", "max(total work / ranks, longest task)"),
  SLIM_REC(SimRow, efficiency, SLIM_RECORD_REAL, 1, "efficiency", "", "total work / (ranks * makespan)"),
};
static const SlimRecordTable SimTable = SLIM_RECORD_TABLE("scheduling simulation of the harness's policy on measured task times", SimCols, SimRow);

static PetscErrorCode WriteTable(const char output[], const char input[], const Tasks *t, PetscInt n, const SimRow sim[])
{
  SlimOutput                   out;
  PetscInt                    *rows;
  const SlimRecordTable *const tab[] = {&SimTable};
  PetscReal                    a[2] = {t->total, t->longest};

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(n, &rows));
  for (PetscInt k = 0; k < n; k++) rows[k] = k;
  PetscCall(SlimOutputOpen(PETSC_COMM_SELF, output, SLIM_OUTPUT_FORCE, "-output", &out));
  PetscCall(SlimRecordDefine(out, "simulation", 1, tab, NULL, n));
  PetscCall(SlimOutputFlush(out));
  PetscCall(SlimRecordWrite(out, "simulation", &SimTable, NULL, 0, -1, n, rows, sim));
  PetscCall(SlimOutputSetAttrString(out, "/", "input", input));
  PetscCall(SlimOutputSetAttrReal(out, "simulation", "total_work_and_longest_task", 2, a));
  PetscCall(SlimOutputDestroy(&out));
  PetscCall(PetscFree(rows));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  char        input[PETSC_MAX_PATH_LEN] = "", output[PETSC_MAX_PATH_LEN] = "";
  PetscInt    ranks[SLIM_LIST_MAX], nranks, *order;
  Tasks       t;
  SimRow     *sim;
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

  /* /tasks: every unit of work with the cost the harness sorted it by and the time it took */
  PetscCall(ReadTasks(input, &t));
  PetscCall(PetscMalloc2(t.n, &order, nranks, &sim));
  PetscCall(SlimScheduleOrder(t.n, t.cost, order));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "slimsched: %" PetscInt_FMT " finished tasks of %s (%" PetscInt_FMT " not finished, left out); total work %.4g s, longest task %.4g s\n", t.n, input, t.skipped, t.total, t.longest));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "%8s %14s %14s %14s %12s\n", "ranks", "makespan [s]", "ideal [s]", "work/P [s]", "efficiency"));
  for (PetscInt k = 0; k < nranks; k++) {
    sim[k].ranks = ranks[k];
    PetscCall(SlimScheduleSimulate(t.n, order, t.wall, ranks[k], &sim[k].makespan, NULL));
    sim[k].ideal      = PetscMax(t.total / ranks[k], t.longest);
    sim[k].efficiency = t.total / (ranks[k] * sim[k].makespan);
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "%8" PetscInt_FMT " %14.4g %14.4g %14.4g %11.1f%%\n", ranks[k], sim[k].makespan, sim[k].ideal, t.total / ranks[k], 100 * sim[k].efficiency));
  }
  if (output[0]) PetscCall(WriteTable(output, input, &t, nranks, sim));
  PetscCall(PetscFree2(order, sim));
  PetscCall(PetscFree2(t.cost, t.wall));
  PetscCall(PetscFinalize());
  return 0;
}
