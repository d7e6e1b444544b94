/* SlimHarness: a sweep across MPI ranks into one parallel HDF5 file (include/slim/harness.h).
 *
 * File layout (README, "Results file"):
 *   /points             one row per sweep point: definition, status, timing, solver stats, errors
 *   /baselines          one row per (baseline group, Runge-Kutta type)
 *   /orders             observed convergence order per group of points differing only in dt
 *   /trajectories/<i>   samples of point i (with -sweep_trajectory_stride)
 *   /baselines/trajectories/<row>
 *   /sessions/<k>       one group per run or resume: per-rank busy/idle time, makespan
 *   /fits, /fit_summary, /fit_paths/<row>, /landscape/<point>/<loss>
 *                       coefficient fits (docs/fits.md), with -fit_guesses / -landscape_params
 *   attributes on /     provenance */
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <math.h>
#include <unistd.h>
#include <hdf5.h>
#include <petsctime.h>
#include <slim/harness.h>
#include <slim/output.h>
#include <slim/point.h>
#include <slim/queue.h>
#include <slim/log.h>
#include <slim/poll.h>
#include "slim_revision.h" /* SLIM_GIT_REVISION, generated at build time */

volatile int SlimStopRequested  = 0;
PetscBool    SlimHarnessRunning = PETSC_FALSE;

static void OnSignal(int sig)
{
  (void)sig;
  SlimStopRequested = 1;
}

typedef struct {
  PetscInt   task;
  PetscReal  seconds;
  SlimResult res;
} Pending;

typedef struct {
  PetscInt  task, status;
  PetscReal wall;
} TaskRecord;

struct _n_SlimHarness {
  MPI_Comm    comm;
  PetscMPIInt rank, size;
  SlimSweep   sw;
  char        output[PETSC_MAX_PATH_LEN];
  PetscBool   force, resume, quiet;
  PetscInt    slice, nslices;      /* -sweep_slice i/n: this run computes tasks with index % n == i */
  char        merge[8192];         /* -sweep_merge: part files to combine instead of computing */
  PetscReal   order_floor;         /* errors below floor * |q0| are round-off: left out of order fits */
  PetscInt    nother;              /* tasks of other slices */
  TaskRecord *trec;                /* finished tasks not yet written to /tasks */
  PetscInt    fail_task, nfailed;  /* lowest failed task of this rank; failures of this run */
  char        fail_text[512];
  PetscInt    ntrec;
  PetscReal   progress_interval, flush_interval;
  PetscInt    flush_tasks;
  SlimOutput  out;
  SlimQueue   queue;
  PetscInt    session;
  /* tasks: [0, npoints) points, then ngroups*nbase baselines, then npoints*nconf fit tasks
   * (point, configuration) from fit0, then landscape tasks (point, loss, block of rows) from land0 */
  PetscInt    ntask, nbaserows;
  PetscInt    nconf, fit0, nfit, land0, nland, nblk, npmax, nrmax;
  PetscReal  *tcost, total_cost;
  PetscInt   *order;
  PetscBool  *done;
  PetscInt    ndone_before;
  Pending    *pend;
  PetscInt    npend;
  /* this rank's accounting */
  PetscReal   busy, cost_done;
  PetscInt    ntasks_done;
  PetscLogDouble tstart, tlast_flush, tlast_progress;
  char        start_time[64];
  PetscLogStage stage_setup, stage_points, stage_baselines, stage_output, stage_fits;
  /* order groups: points that differ only in dt */
  PetscInt    norder, *order_of_point;
};

/* ---------- columns ---------- */

typedef struct {
  SlimColumn col;
  size_t     off; /* offset in SlimResult; the C type follows col.type (PetscReal / PetscInt) */
} ResultField;

#define RREAL(n, u, d, f) {{n, SLIM_COL_REAL, 1, u, d}, offsetof(SlimResult, f)}
#define RINT(n, u, d, f)  {{n, SLIM_COL_INT, 1, u, d}, offsetof(SlimResult, f)}
/* status last: a row whose status is set is complete even if the writer dies mid-batch */
static const ResultField ResultFields[] = {
  RINT("fail_reason", "", "SNES converged reason of the first failure (negative), 0 if none", fail_reason),
  RINT("fail_step", "", "step index of the first failure, -1 if none", fail_step),
  RINT("fail_trajectory", "", "ensemble member of the first failure, -1 if none", fail_traj),
  RINT("n_failed", "", "ensemble members whose solve failed", nfailed),
  RREAL("t_setup", "s", "setup time: objects, options, solver construction", t_setup),
  RREAL("t_min", "s", "integration time of N steps, fastest timed repeat", t_min),
  RREAL("t_median", "s", "integration time of N steps, median of the timed repeats", t_median),
  RREAL("t_max", "s", "integration time of N steps, slowest timed repeat", t_max),
  RREAL("ns_per_step", "ns", "t_min / N", ns_per_step),
  RREAL("ns_per_traj_step", "ns", "t_min / (N B): cost of one trajectory-step", ns_per_traj_step),
  RINT("steps", "", "steps taken in the measurement run", steps),
  RINT("newton_total", "", "Newton iterations summed over the steps of the measurement run", newton_total),
  RINT("newton_max", "", "most Newton iterations in one step", newton_max),
  RINT("linear_total", "", "linear (KSP) iterations summed over the measurement run", linear_total),
  RREAL("newton_per_step", "", "newton_total / steps", newton_per_step),
  RINT("error_kind", "", "what errors are measured against: 0 none, 1 exact solution, 2 reference run (dt/ref_dt_factor, r+ref_r_extra)", error_kind),
  RREAL("err_q_final", "units of q", "max-norm error in q at the final time", err_q_final),
  RREAL("err_q_max", "units of q", "max over the run of the max-norm error in q", err_q_max),
  RREAL("err_E_final", "", "fractional energy error |E - E_ref|/|E_ref| at the final time", err_E_final),
  RREAL("err_E_max", "", "max over the run of the fractional energy error", err_E_max),
  RREAL("wall", "s", "wall time spent on the task, everything included", wall),
  RINT("status", "", "-1 not computed yet, 0 finished, 1 failed (see fail_*)", status),
};
#define NRESULT ((PetscInt)(sizeof(ResultFields) / sizeof(ResultFields[0])))

static const SlimColumn PointDefCols[] = {
  {"index", SLIM_COL_INT, 1, "", "stable point index (lexicographic in family, r, dt, N|T, sigma, B, solver)"},
  {"family", SLIM_COL_STRING, SLIM_NAME_LEN, "", "Lagrangian family"},
  {"r", SLIM_COL_INT, 1, "", "interior GGL points (order 2r+2)"},
  {"dt", SLIM_COL_REAL, 1, "time", "time step"},
  {"N", SLIM_COL_INT, 1, "", "steps"},
  {"T", SLIM_COL_REAL, 1, "time", "final time N dt"},
  {"sigma", SLIM_COL_REAL, 1, "units of q", "noise standard deviation of fit observations"},
  {"B", SLIM_COL_INT, 1, "", "ensemble size (trajectories per solve)"},
  {"solver", SLIM_COL_STRING, 16, "", "step solver: snes or dense"},
  {"group", SLIM_COL_INT, 1, "", "baseline group: row of /baselines is group*n_baselines + type"},
  {"seed", SLIM_COL_INT, 1, "", "seed of the point's random stream, from (sweep seed, index)"},
  {"cost", SLIM_COL_REAL, 1, "", "estimated cost used to schedule expensive points first"},
};
static const SlimColumn BaseDefCols[] = {
  {"group", SLIM_COL_INT, 1, "", "baseline group"},
  {"point", SLIM_COL_INT, 1, "", "representative point of the group"},
  {"family", SLIM_COL_STRING, SLIM_NAME_LEN, "", "Lagrangian family"},
  {"type", SLIM_COL_STRING, 16, "", "PETSc TSRK type (2a: RK2, 4: classical RK4)"},
  {"dt", SLIM_COL_REAL, 1, "time", "time step"},
  {"N", SLIM_COL_INT, 1, "", "steps"},
  {"T", SLIM_COL_REAL, 1, "time", "final time"},
};
static const SlimColumn TaskCols[] = {
  {"rank", SLIM_COL_INT, 1, "", "MPI rank that computed the row"},
  {"session", SLIM_COL_INT, 1, "", "run that computed the row: 0 the first, k the k-th -sweep_resume (see /sessions/<k>)"},
};
static const SlimColumn OrderCols[] = {
  {"family", SLIM_COL_STRING, SLIM_NAME_LEN, "", "Lagrangian family"},
  {"r", SLIM_COL_INT, 1, "", "interior GGL points"},
  {"N", SLIM_COL_INT, 1, "", "steps (-1 when the sweep fixes T instead)"},
  {"T", SLIM_COL_REAL, 1, "time", "final time (NaN when the sweep fixes N)"},
  {"sigma", SLIM_COL_REAL, 1, "", "noise level of the points"},
  {"B", SLIM_COL_INT, 1, "", "ensemble size"},
  {"solver", SLIM_COL_STRING, 16, "", "step solver"},
  {"n_dt", SLIM_COL_INT, 1, "", "points with a usable error in the fit"},
  {"order", SLIM_COL_REAL, 1, "", "least-squares slope of log err_q_final vs log dt"},
  {"order_finest", SLIM_COL_REAL, 1, "", "slope between the two smallest dt"},
  {"expected", SLIM_COL_REAL, 1, "", "2r+2, the theoretical order"},
  {"dt_min", SLIM_COL_REAL, 1, "time", "smallest dt in the fit"},
  {"dt_max", SLIM_COL_REAL, 1, "time", "largest dt in the fit"},
  {"points", SLIM_COL_STRING, 256, "", "indices of the points in the group, comma separated"},
};
static const SlimColumn TaskTableCols[] = {
  {"kind", SLIM_COL_STRING, 16, "", "point, baseline, fit or landscape"},
  {"ref", SLIM_COL_INT, 1, "", "row of the task in its table (/points, /baselines, /fit_summary) or landscape block"},
  {"point", SLIM_COL_INT, 1, "", "sweep point the task belongs to"},
  {"cost", SLIM_COL_REAL, 1, "", "estimated cost: tasks are handed out in decreasing cost"},
  {"wall", SLIM_COL_REAL, 1, "s", "measured wall time of the task"},
  {"rank", SLIM_COL_INT, 1, "", "MPI rank that ran it"},
  {"session", SLIM_COL_INT, 1, "", "run that ran it (see /sessions/<k>)"},
  {"status", SLIM_COL_INT, 1, "", "-1 not run yet, 0 finished, 1 finished with a failure"},
};
static const SlimColumn RankCols[] = {
  {"rank", SLIM_COL_INT, 1, "", "MPI rank"},
  {"host", SLIM_COL_STRING, 64, "", "host name"},
  {"busy", SLIM_COL_REAL, 1, "s", "time spent computing tasks"},
  {"idle", SLIM_COL_REAL, 1, "s", "makespan minus busy: waiting for the slowest rank, I/O"},
  {"tasks", SLIM_COL_INT, 1, "", "tasks computed"},
  {"cost", SLIM_COL_REAL, 1, "", "estimated cost of the tasks computed"},
};
#define NCOLS(a) ((PetscInt)(sizeof(a) / sizeof((a)[0])))

static void NowISO(char buf[], size_t len)
{
  time_t    t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

PetscErrorCode SlimHarnessCreate(MPI_Comm comm, SlimHarness *h)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(h));
  (*h)->comm = comm;
  PetscCallMPI(MPI_Comm_rank(comm, &(*h)->rank));
  PetscCallMPI(MPI_Comm_size(comm, &(*h)->size));
  PetscCall(PetscStrcpy((*h)->output, "slimsweep.h5"));
  (*h)->progress_interval = 10;
  (*h)->flush_interval    = 1; /* a killed job loses at most ~1 s of cheap finished tasks */
  (*h)->flush_tasks       = 16;
  (*h)->nslices           = 1;
  (*h)->fail_task         = -1;
  (*h)->order_floor       = 1e-12;
  PetscCall(SlimSweepCreate(&(*h)->sw));
  PetscCall(PetscLogStageRegister("Sweep setup", &(*h)->stage_setup));
  PetscCall(PetscLogStageRegister("Sweep points", &(*h)->stage_points));
  PetscCall(PetscLogStageRegister("RK baselines", &(*h)->stage_baselines));
  PetscCall(PetscLogStageRegister("Results output", &(*h)->stage_output));
  PetscCall(PetscLogStageRegister("Fits", &(*h)->stage_fits));
  /* touch every stage on every rank so -log_view names them all, whoever ran what */
  {
    PetscLogStage all[5] = {(*h)->stage_setup, (*h)->stage_points, (*h)->stage_baselines, (*h)->stage_output, (*h)->stage_fits};
    for (int i = 0; i < 5; i++) {
      PetscCall(PetscLogStagePush(all[i]));
      PetscCall(PetscLogStagePop());
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimHarnessDestroy(SlimHarness *h)
{
  PetscFunctionBeginUser;
  if (!*h) PetscFunctionReturn(0);
  PetscCall(SlimSweepDestroy(&(*h)->sw));
  PetscCall(PetscFree3((*h)->tcost, (*h)->order, (*h)->done));
  PetscCall(PetscFree((*h)->pend));
  PetscCall(PetscFree((*h)->trec));
  PetscCall(PetscFree((*h)->order_of_point));
  PetscCall(PetscFree(*h));
  PetscFunctionReturn(0);
}

/* Options that nothing consumed but that carry one of our prefixes are typos: refuse them. */
static PetscErrorCode CheckUnusedOptions(SlimHarness h)
{
  PetscInt    n;
  char      **names, **values;
  const char *prefixes[SLIM_LIST_MAX + 4] = {"sweep_", "fit_", "landscape_"};
  PetscInt    np = 3;

  PetscFunctionBeginUser;
  for (PetscInt f = 0; f < h->sw->nfam; f++) prefixes[np++] = h->sw->fam[f]->name;
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt i = 0; i < n; i++) {
    for (PetscInt k = 0; k < np; k++) {
      size_t    len;
      PetscBool match;
      PetscCall(PetscStrlen(prefixes[k], &len));
      PetscCall(PetscStrncmp(names[i], prefixes[k], len, &match));
      if (match && k >= 3 && names[i][len] != '_') match = PETSC_FALSE;
      PetscCheck(!match, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-%s: unknown option (see -help for the options of this sweep)", names[i]);
    }
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimHarnessSetFromOptions(SlimHarness h)
{
  PetscBool set;

  PetscFunctionBeginUser;
  PetscOptionsBegin(h->comm, NULL, "slimsweep harness", NULL);
  PetscCall(PetscOptionsString("-output", "Results file (HDF5)", NULL, h->output, h->output, sizeof(h->output), &set));
  PetscCall(PetscOptionsBool("-force", "Replace an existing results file", NULL, h->force, &h->force, NULL));
  PetscCall(PetscOptionsBool("-sweep_resume", "Continue an existing results file: compute only the missing points", NULL, h->resume, &h->resume, NULL));
  PetscCall(PetscOptionsBool("-sweep_quiet", "No progress lines", NULL, h->quiet, &h->quiet, NULL));
  PetscCall(PetscOptionsReal("-sweep_progress_interval", "Seconds between progress lines on rank 0", NULL, h->progress_interval, &h->progress_interval, NULL));
  PetscCall(PetscOptionsInt("-sweep_flush_tasks", "Finished tasks a rank buffers before writing them", NULL, h->flush_tasks, &h->flush_tasks, NULL));
  PetscCall(PetscOptionsReal("-sweep_flush_interval", "Seconds after which a rank writes its finished tasks anyway", NULL, h->flush_interval, &h->flush_interval, NULL));
  {
    char      slice[64] = "0/1";
    PetscBool set;
    PetscCall(PetscOptionsString("-sweep_slice", "i/n: compute only the tasks with index % n == i (job arrays; combine the parts with -sweep_merge)", NULL, slice, slice, sizeof(slice), &set));
    if (set) {
      char c;
      int  i, n;
      PetscCheck(sscanf(slice, "%d/%d%c", &i, &n, &c) == 2 && n >= 1 && i >= 0 && i < n, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-sweep_slice: '%s' is invalid (expected i/n with 0 <= i < n)", slice);
      h->slice = i, h->nslices = n;
    }
  }
  PetscCall(PetscOptionsString("-sweep_merge", "Comma-separated part files (same sweep, e.g. from -sweep_slice) whose finished rows are combined into -output", NULL, h->merge, h->merge, sizeof(h->merge), NULL));
  PetscCall(PetscOptionsReal("-sweep_order_floor", "Errors below this times max|q0| are round-off and left out of the order fits", NULL, h->order_floor, &h->order_floor, NULL));
  PetscOptionsEnd();
  PetscCheck(!(h->merge[0] && h->resume), PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-sweep_merge and -sweep_resume: a merge writes a new file");
  PetscCheck(!(h->merge[0] && h->nslices > 1), PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-sweep_merge and -sweep_slice: a merge combines slices, it is not one");
  PetscCheck(h->order_floor >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_order_floor: value %g is invalid (must be >= 0)", (double)h->order_floor);
  PetscCheck(h->output[0], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-output: empty file name");
  PetscCheck(!(h->force && h->resume), PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-force and -sweep_resume: give one of them, not both");
  PetscCheck(h->flush_tasks >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_flush_tasks: value %" PetscInt_FMT " is invalid (must be >= 1)", h->flush_tasks);
  PetscCheck(h->flush_interval >= 0 && h->progress_interval >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_flush_interval and -sweep_progress_interval must be >= 0");
  PetscCall(SlimSweepSetFromOptions(h->sw));
  PetscCheck(h->sw->npoints > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "the sweep is empty");
  PetscCall(CheckUnusedOptions(h));
  PetscFunctionReturn(0);
}

/* ---------- tasks ---------- */

static PetscErrorCode BaselineCost(SlimHarness h, PetscInt row, PetscReal *cost)
{
  SlimSweep  sw = h->sw;
  SlimPoint *p  = &sw->points[sw->group_point[row / sw->nbase]];
  /* an RK4 step costs about 4 right-hand sides and TS overhead: comparable to an r = 0 SNES step */
  PetscFunctionBeginUser;
  *cost = (sw->repeats + 1) * p->N * 4000.0 * (sw->fam[p->family]->exact ? 1 : 1 + sw->ref_dt_factor);
  PetscFunctionReturn(0);
}

/* Groups of points that differ only in dt (and in N when the sweep fixes T). */
static PetscErrorCode SetUpOrderGroups(SlimHarness h)
{
  SlimSweep sw = h->sw;
  PetscInt *rep, *count;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(sw->npoints, &h->order_of_point));
  PetscCall(PetscMalloc2(sw->npoints, &rep, sw->npoints, &count));
  h->norder = 0;
  for (PetscInt i = 0; i < sw->npoints; i++) {
    SlimPoint *p = &sw->points[i];
    PetscInt   g = -1;
    for (PetscInt k = 0; k < h->norder && g < 0; k++) {
      SlimPoint *q = &sw->points[rep[k]];
      if (q->family == p->family && q->r == p->r && q->sigma == p->sigma && q->B == p->B && q->solver == p->solver && (sw->nT ? fabs(q->N * q->dt - p->N * p->dt) <= 1e-9 * q->N * q->dt : q->N == p->N)) g = k;
    }
    if (g < 0) {
      g          = h->norder++;
      rep[g]     = i;
      count[g]   = 0;
    }
    count[g]++;
    h->order_of_point[i] = g;
  }
  /* only groups with two or more dt make an order */
  {
    PetscInt *map, n = 0;
    PetscCall(PetscMalloc1(h->norder, &map));
    for (PetscInt g = 0; g < h->norder; g++) map[g] = count[g] >= 2 ? n++ : -1;
    for (PetscInt i = 0; i < sw->npoints; i++) h->order_of_point[i] = map[h->order_of_point[i]];
    h->norder = n;
    PetscCall(PetscFree(map));
  }
  PetscCall(PetscFree2(rep, count));
  PetscFunctionReturn(0);
}

static void FitProblem(SlimHarness h, PetscInt point, SlimFitProblem *prob);

/* Estimated cost of every task: the queue hands out the most expensive first. */
static PetscErrorCode ComputeCosts(SlimHarness h)
{
  SlimSweep sw = h->sw;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < h->ntask; i++) {
    if (i < sw->npoints) h->tcost[i] = sw->points[i].cost;
    else if (i < h->fit0) PetscCall(BaselineCost(h, i - sw->npoints, &h->tcost[i]));
    else {
      /* fit work: loss evaluations times their cost */
      SlimFit        fit = sw->fit;
      const PetscInt t   = i < h->land0 ? i - h->fit0 : i - h->land0;
      SlimFitProblem prob;
      SlimLossType   lt;
      SlimFitMethod  mt;
      PetscReal      evals;
      FitProblem(h, i < h->land0 ? t / h->nconf : t / (fit->nloss * h->nblk), &prob);
      if (i < h->land0) {
        PetscCall(SlimFitGetConfig(fit, t % h->nconf, &lt, &mt));
        evals = fit->guesses * PetscMin(fit->max_it, 300) * (mt == SLIM_FIT_TAO ? 3 : 1) + fit->slice_n + 1;
      } else {
        lt    = fit->loss[(t / h->nblk) % fit->nloss];
        evals = fit->land_rows * fit->land_n;
      }
      h->tcost[i] = evals * SlimFitEvalCost(fit, &prob, lt);
    }
  }
  PetscFunctionReturn(0);
}

/* What task `task` is: its kind, its row in its own table and the sweep point it serves. */
static void TaskInfo(SlimHarness h, PetscInt task, const char **kind, PetscInt *ref, PetscInt *point)
{
  SlimSweep sw = h->sw;

  if (task < sw->npoints) *kind = "point", *ref = task, *point = task;
  else if (task < h->fit0) *kind = "baseline", *ref = task - sw->npoints, *point = sw->group_point[(task - sw->npoints) / sw->nbase];
  else if (task < h->land0) *kind = "fit", *ref = task - h->fit0, *point = (task - h->fit0) / h->nconf;
  else *kind = "landscape", *ref = task - h->land0, *point = (task - h->land0) / (h->sw->fit->nloss * h->nblk);
}

/* ---------- file ---------- */

static PetscErrorCode TrajectoryPath(SlimHarness h, PetscInt task, char path[], size_t len)
{
  PetscFunctionBeginUser;
  if (task < h->sw->npoints) PetscCall(PetscSNPrintf(path, len, "trajectories/%" PetscInt_FMT, task));
  else PetscCall(PetscSNPrintf(path, len, "baselines/trajectories/%" PetscInt_FMT, task - h->sw->npoints));
  PetscFunctionReturn(0);
}

static PetscErrorCode DefineResultTable(SlimHarness h, const char table[], const char desc[], PetscInt nrows, PetscInt ndef, const SlimColumn def[])
{
  SlimColumn *cols;
  PetscInt    n = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(ndef + NRESULT + NCOLS(TaskCols), &cols));
  for (PetscInt i = 0; i < ndef; i++) cols[n++] = def[i];
  for (PetscInt i = 0; i < NCOLS(TaskCols); i++) cols[n++] = TaskCols[i];
  for (PetscInt i = 0; i < NRESULT; i++) cols[n++] = ResultFields[i].col;
  PetscCall(SlimOutputDefineTable(h->out, table, desc, nrows, n, cols));
  PetscCall(PetscFree(cols));
  PetscFunctionReturn(0);
}

/* One 2-D dataset per trajectory, [samples, columns] with the column names in its description:
 * five datasets per point would multiply the collective creations that dominate file setup. */
static PetscErrorCode TrajectoryColumns(SlimHarness h, PetscInt task, PetscInt d, char cols[], size_t len)
{
  const char *p = task >= h->sw->npoints ? "qdot" : "pi";

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(cols, "columns: t", len));
  for (int k = 0; k < 2; k++)
    for (PetscInt a = 0; a < d; a++) {
      char c[32];
      PetscCall(PetscSNPrintf(c, sizeof(c), ", %s%" PetscInt_FMT, k ? p : "q", a));
      PetscCall(PetscStrlcat(cols, c, len));
    }
  PetscCall(PetscStrlcat(cols, ", energy, energy_error", len));
  PetscFunctionReturn(0);
}

static PetscErrorCode DefineTrajectories(SlimHarness h)
{
  SlimSweep sw = h->sw;
  char      path[256], cols[512];

  PetscFunctionBeginUser;
  if (!sw->traj_stride) PetscFunctionReturn(0);
  for (PetscInt task = 0; task < h->fit0; task++) { /* points and baselines have trajectories */
    const char *kind;
    PetscInt    ref, pi;
    TaskInfo(h, task, &kind, &ref, &pi);
    SlimPoint *p     = &sw->points[pi];
    PetscInt   d     = sw->fam[p->family]->dof;
    PetscInt   dims[2] = {p->N / sw->traj_stride + 1, 3 + 2 * d};
    PetscCall(TrajectoryPath(h, task, path, sizeof(path)));
    PetscCall(TrajectoryColumns(h, task, d, cols, sizeof(cols)));
    PetscCall(SlimOutputDefineArray(h->out, path, 2, dims, NULL, cols));
  }
  PetscFunctionReturn(0);
}

/* Definition columns of /points and /baselines: known before any work, written by rank 0. */
static PetscErrorCode WriteDefinitions(SlimHarness h)
{
  SlimSweep  sw = h->sw;
  PetscInt   np = sw->npoints, nb = h->nbaserows, *rows;
  PetscInt64 *iv;
  PetscReal  *rv;
  char       *sv;

  PetscFunctionBeginUser;
  if (h->rank) PetscFunctionReturn(0);
  PetscInt nmax = PetscMax(np, nb);
  PetscCall(PetscMalloc4(nmax, &rows, nmax, &iv, nmax, &rv, nmax * SLIM_NAME_LEN, &sv));
  for (PetscInt i = 0; i < nmax; i++) rows[i] = i;
#define WI(tab, col, n, expr) \
  do { \
    for (PetscInt i = 0; i < (n); i++) iv[i] = (PetscInt64)(expr); \
    PetscCall(SlimOutputWriteRows(h->out, tab, col, n, rows, iv)); \
  } while (0)
#define WR(tab, col, n, expr) \
  do { \
    for (PetscInt i = 0; i < (n); i++) rv[i] = (PetscReal)(expr); \
    PetscCall(SlimOutputWriteRows(h->out, tab, col, n, rows, rv)); \
  } while (0)
#define WS(tab, col, n, width, expr) \
  do { \
    if ((n) > 0) memset(sv, 0, (size_t)(n) * (size_t)(width)); \
    for (PetscInt i = 0; i < (n); i++) PetscCall(PetscStrncpy(sv + i * (width), expr, width)); \
    PetscCall(SlimOutputWriteRows(h->out, tab, col, n, rows, sv)); \
  } while (0)
  {
    const SlimPoint *P = sw->points;
    WI("points", "index", np, P[i].index);
    WS("points", "family", np, SLIM_NAME_LEN, sw->famname[P[i].family]);
    WI("points", "r", np, P[i].r);
    WR("points", "dt", np, P[i].dt);
    WI("points", "N", np, P[i].N);
    WR("points", "T", np, P[i].N * P[i].dt);
    WR("points", "sigma", np, P[i].sigma);
    WI("points", "B", np, P[i].B);
    WS("points", "solver", np, 16, SlimSolverTypes[P[i].solver]);
    WI("points", "group", np, P[i].group);
    WI("points", "seed", np, P[i].seed);
    WR("points", "cost", np, P[i].cost);
  }
  if (nb) {
    const SlimPoint *P = sw->points;
#define GP(i) P[sw->group_point[(i) / sw->nbase]]
    WI("baselines", "group", nb, i / sw->nbase);
    WI("baselines", "point", nb, sw->group_point[i / sw->nbase]);
    WS("baselines", "family", nb, SLIM_NAME_LEN, sw->famname[GP(i).family]);
    WS("baselines", "type", nb, 16, sw->base[i % sw->nbase]);
    WR("baselines", "dt", nb, GP(i).dt);
    WI("baselines", "N", nb, GP(i).N);
    WR("baselines", "T", nb, GP(i).N * GP(i).dt);
#undef GP
  }
  {
    PetscInt    nt = h->ntask, *trows, ref, pt;
    PetscInt64 *ti, *tp;
    char       *tk;
    const char *kind;
    PetscCall(PetscMalloc4(nt, &trows, nt, &ti, nt, &tp, nt * 16, &tk));
    memset(tk, 0, (size_t)nt * 16);
    for (PetscInt i = 0; i < nt; i++) {
      TaskInfo(h, i, &kind, &ref, &pt);
      trows[i] = i, ti[i] = ref, tp[i] = pt;
      PetscCall(PetscStrncpy(tk + 16 * i, kind, 16));
    }
    PetscCall(SlimOutputWriteRows(h->out, "tasks", "kind", nt, trows, tk));
    PetscCall(SlimOutputWriteRows(h->out, "tasks", "ref", nt, trows, ti));
    PetscCall(SlimOutputWriteRows(h->out, "tasks", "point", nt, trows, tp));
    PetscCall(SlimOutputWriteRows(h->out, "tasks", "cost", nt, trows, h->tcost));
    PetscCall(PetscFree4(trows, ti, tp, tk));
  }
#undef WI
#undef WR
#undef WS
  PetscCall(PetscFree4(rows, iv, rv, sv));
  PetscFunctionReturn(0);
}

/* Records a PETSc error raised inside one task so that the sweep can go on. */
typedef struct {
  char msg[512];
  int  set;
} TaskError;

static PetscErrorCode TaskErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  TaskError *e = (TaskError *)ctx;
  (void)comm, (void)line, (void)file;
  if (p == PETSC_ERROR_INITIAL && !e->set) {
    PetscSNPrintf(e->msg, sizeof(e->msg), "%s (in %s)", mess ? mess : "error", fun);
    e->set = 1;
  }
  return n;
}

/* ---------- fits (docs/fits.md) ---------- */

static void FitProblem(SlimHarness h, PetscInt point, SlimFitProblem *prob)
{
  const SlimPoint *p = &h->sw->points[point];

  prob->fam   = h->sw->fam[p->family];
  prob->r     = p->r;
  prob->N     = p->N;
  prob->dt    = p->dt;
  prob->sigma = p->sigma;
  prob->seed  = p->seed;
}

static PetscErrorCode LandscapePath(SlimHarness h, PetscInt point, PetscInt l, char path[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, len, "landscape/%" PetscInt_FMT "/%s", point, SlimLossTypes[h->sw->fit->loss[l]]));
  PetscFunctionReturn(0);
}

/* comma-separated names */
static PetscErrorCode JoinNames(PetscInt n, const char *const names[], const PetscInt idx[], char buf[], size_t len)
{
  PetscFunctionBeginUser;
  buf[0] = 0;
  for (PetscInt i = 0; i < n; i++) {
    if (i) PetscCall(PetscStrlcat(buf, ",", len));
    PetscCall(PetscStrlcat(buf, names[idx ? idx[i] : i], len));
  }
  PetscFunctionReturn(0);
}

/* Every fit dataset, created collectively at its final size (output.h); attributes describe the
 * landscapes. Also called on resume, where it checks and opens them. */
static PetscErrorCode DefineFitTables(SlimHarness h)
{
  SlimSweep      sw = h->sw;
  SlimFit        fit = sw->fit;
  const PetscInt K = fit->guesses, np = h->npmax, nr = h->nrmax, ns = fit->slice_n;
  char           path[256], *sig;

  PetscFunctionBeginUser;
  PetscCall(SlimFitGetSignature(fit, &sig));
  if (h->nconf && K) {
    const SlimColumn cols[] = {
      {"point", SLIM_COL_INT, 1, "", "sweep point (row of /points)"},
      {"config", SLIM_COL_INT, 1, "", "fit configuration (loss x method); the row of /fit_summary is point*n_configs + config"},
      {"guess", SLIM_COL_INT, 1, "", "initial guess k; a point's configurations share their K guesses"},
      {"theta_init", SLIM_COL_REAL, np, "", "initial guess: the family's parameters in the order of /fit_summary/param_names, NaN-padded"},
      {"theta_final", SLIM_COL_REAL, np, "", "fitted parameters (order of /fit_summary/param_names)"},
      {"param_err", SLIM_COL_REAL, np, "", "|theta_final - truth| / |truth| per parameter (absolute where the truth is 0; NaN for measured data)"},
      {"ratio_final", SLIM_COL_REAL, nr, "", "identifiable ratios of the fitted parameters (/fit_summary/ratio_names)"},
      {"ratio_err", SLIM_COL_REAL, nr, "", "relative error of each ratio against the truth"},
      {"recovered", SLIM_COL_INT, 1, "", "1: converged and every ratio within -fit_recover_tol of the truth"},
      {"loss_init", SLIM_COL_REAL, 1, "", "loss at the initial guess"},
      {"loss_final", SLIM_COL_REAL, 1, "", "loss at the fitted parameters"},
      {"grad_norm", SLIM_COL_REAL, 1, "", "2-norm of the final gradient with respect to the fitted coordinates"},
      {"iterations", SLIM_COL_INT, 1, "", "gd: trial steps (loss evaluations after the first); tao: TAO iterations"},
      {"evaluations", SLIM_COL_INT, 1, "", "loss evaluations"},
      {"reason", SLIM_COL_STRING, 160, "", "how the fit ended, e.g. 'converged: step below -fit_tol' or 'diverged: <why>'"},
      {"fit_wall", SLIM_COL_REAL, 1, "s", "wall time until this fit ended (gd fits of a point run together)"},
      {"rank", SLIM_COL_INT, 1, "", "MPI rank that computed the row"},
      {"status", SLIM_COL_INT, 1, "", "-1 not computed yet, 0 converged, 1 max-iterations, 2 diverged (see reason)"},
    };
    PetscCall(SlimOutputDefineTable(h->out, "fits", "one row per fit: (point*n_configs + config)*K + guess", sw->npoints * h->nconf * K, NCOLS(cols), cols));
    PetscCall(SlimOutputSetAttrString(h->out, "fits", "settings", sig));
  }
  if (h->nconf) {
    const SlimColumn cols[] = {
      {"point", SLIM_COL_INT, 1, "", "sweep point (row of /points)"},
      {"config", SLIM_COL_INT, 1, "", "fit configuration: loss index * n_methods + method index"},
      {"family", SLIM_COL_STRING, SLIM_NAME_LEN, "", "Lagrangian family"},
      {"loss", SLIM_COL_STRING, 16, "", "trajectory (student paper eq. 28) or acceleration (weekly report eq. 1)"},
      {"method", SLIM_COL_STRING, 16, "", "gd (damped gradient descent) or tao"},
      {"tao_type", SLIM_COL_STRING, 16, "", "TAO solver of method tao"},
      {"param_names", SLIM_COL_STRING, 128, "", "names of the columns of the width-n_params datasets"},
      {"ratio_names", SLIM_COL_STRING, 128, "", "names of the columns of the width-n_ratios datasets"},
      {"fitted", SLIM_COL_STRING, 128, "", "fitted parameters (-fit_params); the others stay at the truth"},
      {"sigma", SLIM_COL_REAL, 1, "units of the data", "noise standard deviation of the observations"},
      {"n_obs", SLIM_COL_INT, 1, "", "observations (trajectory samples or acceleration grid points)"},
      {"theta_true", SLIM_COL_REAL, np, "", "true parameters (NaN for measured data)"},
      {"ratio_true", SLIM_COL_REAL, nr, "", "true identifiable ratios"},
      {"loss_true", SLIM_COL_REAL, 1, "", "loss at the true parameters: 0 without noise, the noise floor with"},
      {"n_fits", SLIM_COL_INT, 1, "", "K"},
      {"n_converged", SLIM_COL_INT, 1, "", "fits that converged"},
      {"n_max_it", SLIM_COL_INT, 1, "", "fits stopped by -fit_max_it"},
      {"n_diverged", SLIM_COL_INT, 1, "", "fits that diverged"},
      {"n_recovered", SLIM_COL_INT, 1, "", "converged fits with every ratio within -fit_recover_tol"},
      {"frac_converged", SLIM_COL_REAL, 1, "", "n_converged / K"},
      {"frac_recovered", SLIM_COL_REAL, 1, "", "n_recovered / K"},
      {"param_err_median", SLIM_COL_REAL, np, "", "median over the fits that did not diverge of /fits/param_err"},
      {"param_err_iqr", SLIM_COL_REAL, np, "", "interquartile range of /fits/param_err (same fits)"},
      {"ratio_median", SLIM_COL_REAL, nr, "", "median of the fitted ratios"},
      {"ratio_iqr", SLIM_COL_REAL, nr, "", "interquartile range of the fitted ratios"},
      {"ratio_err_median", SLIM_COL_REAL, nr, "", "median relative ratio error"},
      {"ratio_err_iqr", SLIM_COL_REAL, nr, "", "interquartile range of the relative ratio error"},
      {"loss_median", SLIM_COL_REAL, 1, "", "median final loss"},
      {"loss_iqr", SLIM_COL_REAL, 1, "", "interquartile range of the final loss"},
      {"loss_min", SLIM_COL_REAL, 1, "", "smallest final loss"},
      {"iterations_median", SLIM_COL_REAL, 1, "", "median iterations"},
      {"slice_param", SLIM_COL_STRING, 64, "", "noise slice: parameter varied through its true value"},
      {"slice_values", SLIM_COL_REAL, PetscMax(ns, 1), "", "noise slice: values of slice_param"},
      {"slice_loss", SLIM_COL_REAL, PetscMax(ns, 1), "", "noise slice: loss against the noisy data"},
      {"slice_loss_clean", SLIM_COL_REAL, PetscMax(ns, 1), "", "noise slice: loss against the same data without noise"},
      {"slice_rms_change", SLIM_COL_REAL, 1, "", "sqrt(mean (slice_loss - slice_loss_clean)^2): RMS change of the loss caused by the noise"},
      {"slice_rms_rel", SLIM_COL_REAL, 1, "", "slice_rms_change / sqrt(mean slice_loss_clean^2)"},
      {"error", SLIM_COL_STRING, 256, "", "PETSc error that failed the task (status 1)"},
      {"fit_wall", SLIM_COL_REAL, 1, "s", "wall time of the task"},
      {"rank", SLIM_COL_INT, 1, "", "MPI rank that computed the row"},
      {"status", SLIM_COL_INT, 1, "", "-1 not computed yet, 0 finished, 1 failed (see error)"},
    };
    /* without a slice its columns are left out */
    SlimColumn use[NCOLS(cols)];
    PetscInt   n = 0;
    for (PetscInt i = 0; i < NCOLS(cols); i++)
      if (ns || strncmp(cols[i].name, "slice_", 6)) use[n++] = cols[i];
    PetscCall(SlimOutputDefineTable(h->out, "fit_summary", "fit statistics per point and configuration: row point*n_configs + config", sw->npoints * h->nconf, n, use));
    PetscCall(SlimOutputSetAttrString(h->out, "fit_summary", "settings", sig));
    if (K && fit->store_path)
      for (PetscInt row = 0; row < sw->npoints * h->nconf; row++) {
        SlimFamily fam     = sw->fam[sw->points[row / h->nconf].family];
        PetscInt   dims[3] = {K, fit->max_it + 1, fam->nparam + 1};
        char       desc[256], names[160];
        PetscCall(JoinNames(fam->nparam, fam->pname, NULL, names, sizeof(names)));
        PetscCall(PetscSNPrintf(desc, sizeof(desc), "[guess, iteration, column]: columns %s, loss after each iteration (row 0: the guess); NaN after the fit ended", names));
        PetscCall(PetscSNPrintf(path, sizeof(path), "fit_paths/%" PetscInt_FMT, row));
        PetscCall(SlimOutputDefineArray(h->out, path, 3, dims, NULL, desc));
      }
  }
  if (fit->landscape) {
    const PetscInt   n = fit->land_n;
    const SlimColumn cols[] = {
      {"loss", SLIM_COL_REAL, n, "", "loss[i, j] at (p0 = p0_values[i], p1 = p1_values[j]), the other parameters at the truth"},
      {"loss_clean", SLIM_COL_REAL, n, "", "the same against the observations without noise"},
      {"rank", SLIM_COL_INT, 1, "", "MPI rank that computed the row"},
      {"status", SLIM_COL_INT, 1, "", "-1 not computed yet, 0 finished, 1 failed"},
    };
    PetscReal *x0, *x1;
    PetscCall(PetscMalloc2(n, &x0, n, &x1));
    for (PetscInt p = 0; p < sw->npoints; p++)
      for (PetscInt l = 0; l < fit->nloss; l++) {
        SlimFamily fam = sw->fam[sw->points[p].family];
        PetscInt   idx[2];
        PetscInt64 iv;
        char       names[160];
        PetscCall(LandscapePath(h, p, l, path, sizeof(path)));
        PetscCall(SlimOutputDefineTable(h->out, path, "loss landscape over two parameters (-landscape_params)", n, NCOLS(cols), cols));
        PetscCall(SlimFitLandscapeAxes(fit, fam, idx, x0, x1));
        PetscCall(JoinNames(2, fam->pname, idx, names, sizeof(names)));
        PetscCall(SlimOutputSetAttrString(h->out, path, "params", names));
        PetscCall(SlimOutputSetAttrString(h->out, path, "loss_type", SlimLossTypes[fit->loss[l]]));
        PetscCall(SlimOutputSetAttrReal(h->out, path, "p0_values", n, x0));
        PetscCall(SlimOutputSetAttrReal(h->out, path, "p1_values", n, x1));
        iv = p;
        PetscCall(SlimOutputSetAttrInt(h->out, path, "point", 1, &iv));
      }
    PetscCall(PetscFree2(x0, x1));
  }
  PetscCall(PetscFree(sig));
  PetscFunctionReturn(0);
}

/* Definition columns of /fit_summary and /fits, known before any work (rank 0). */
static PetscErrorCode WriteFitDefinitions(SlimHarness h)
{
  SlimSweep      sw = h->sw;
  SlimFit        fit = sw->fit;
  const PetscInt K = fit->guesses, nrow = sw->npoints * h->nconf;

  PetscFunctionBeginUser;
  if (h->rank || !h->nconf) PetscFunctionReturn(0);
  for (PetscInt row = 0; row < nrow; row++) {
    const PetscInt   p = row / h->nconf, c = row % h->nconf;
    const SlimPoint *pt = &sw->points[p];
    SlimFamily       fam = sw->fam[pt->family];
    SlimLossType     lt;
    SlimFitMethod    mt;
    PetscInt64       iv[2] = {p, c};
    PetscInt         nf, idx[SLIM_MAX_PARAM];
    char             s64[SLIM_NAME_LEN] = "", s16[16] = "", s128[128] = "";
    PetscCall(SlimFitGetConfig(fit, c, &lt, &mt));
    PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "point", 1, &row, &iv[0]));
    PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "config", 1, &row, &iv[1]));
    PetscCall(PetscStrncpy(s64, fam->name, sizeof(s64)));
    PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "family", 1, &row, s64));
    PetscCall(PetscStrncpy(s16, SlimLossTypes[lt], sizeof(s16)));
    PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "loss", 1, &row, s16));
    PetscCall(PetscStrncpy(s16, SlimFitMethods[mt], sizeof(s16)));
    PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "method", 1, &row, s16));
    PetscCall(PetscStrncpy(s16, mt == SLIM_FIT_TAO ? fit->tao_type : "", sizeof(s16)));
    PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "tao_type", 1, &row, s16));
    PetscCall(JoinNames(fam->nparam, fam->pname, NULL, s128, sizeof(s128)));
    PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "param_names", 1, &row, s128));
    PetscCall(JoinNames(fam->nratio, fam->rname, NULL, s128, sizeof(s128)));
    PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "ratio_names", 1, &row, s128));
    PetscCall(SlimFitGetFitted(fit, fam, &nf, idx));
    PetscCall(JoinNames(nf, fam->pname, idx, s128, sizeof(s128)));
    PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "fitted", 1, &row, s128));
    PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "sigma", 1, &row, &pt->sigma));
    if (K) {
      PetscInt   *rows;
      PetscInt64 *v;
      PetscCall(PetscMalloc2(K, &rows, K, &v));
      for (PetscInt k = 0; k < K; k++) rows[k] = row * K + k;
      for (PetscInt k = 0; k < K; k++) v[k] = p;
      PetscCall(SlimOutputWriteRows(h->out, "fits", "point", K, rows, v));
      for (PetscInt k = 0; k < K; k++) v[k] = c;
      PetscCall(SlimOutputWriteRows(h->out, "fits", "config", K, rows, v));
      for (PetscInt k = 0; k < K; k++) v[k] = k;
      PetscCall(SlimOutputWriteRows(h->out, "fits", "guess", K, rows, v));
      PetscCall(PetscFree2(rows, v));
    }
  }
  PetscFunctionReturn(0);
}

/* Pads a row of n values to width w with NaN. */
static void PadReal(PetscInt n, const PetscReal x[], PetscInt w, PetscReal out[])
{
  for (PetscInt i = 0; i < w; i++) out[i] = i < n ? x[i] : NAN;
}

/* K fits of one (point, configuration), their statistics and the noise slice. The /fits rows
 * are written first and the /fit_summary status last, so a row with a status is complete. */
static PetscErrorCode RunFitTask(SlimHarness h, PetscInt task, PetscInt *status)
{
  SlimSweep      sw = h->sw;
  SlimFit        fit = sw->fit;
  const PetscInt row = task - h->fit0, point = row / h->nconf, conf = row % h->nconf, K = fit->guesses;
  const PetscInt np = h->npmax, nr = h->nrmax, ns = fit->slice_n;
  SlimFitProblem prob;
  SlimLossType   lt;
  SlimFitData    data = NULL;
  SlimFitResult *res  = NULL;
  SlimFitSummary sum;
  PetscReal     *path = NULL, *sx = NULL, *sl = NULL, *slc = NULL, rms = NAN, rel = NAN, loss_true = NAN;
  PetscInt       nobs = 0;
  TaskError      err  = {{0}, 0};
  PetscErrorCode ierr = 0;
  PetscLogDouble t0, t1;
  PetscInt64     iv;
  PetscReal      rv;

  PetscFunctionBeginUser;
  PetscCall(PetscTime(&t0));
  FitProblem(h, point, &prob);
  PetscCall(SlimFitGetConfig(fit, conf, &lt, NULL));
  PetscCall(PetscCalloc1(PetscMax(K, 1), &res));
  PetscCall(PetscMalloc3(PetscMax(ns, 1), &sx, PetscMax(ns, 1), &sl, PetscMax(ns, 1), &slc));
  if (K && fit->store_path) PetscCall(PetscMalloc1(K * (fit->max_it + 1) * (prob.fam->nparam + 1), &path));
  PetscCall(PetscLogStagePush(h->stage_fits));
  /* an error (e.g. the truth cannot be integrated) fails this task only */
  PetscCall(PetscPushErrorHandler(TaskErrorHandler, &err));
  ierr = SlimFitCreateData(fit, &prob, lt, &data);
  if (!ierr) {
    SlimFitLoss L;
    SlimFitEval ev;
    nobs = data->n;
    /* loss at the truth: the floor the noise puts under every fit */
    ierr = SlimFitLossCreate(prob.fam, data, prob.r, fit->solver, &L);
    if (!ierr) ierr = SlimFitLossEvaluate(L, 1, prob.fam->theta, &loss_true, NULL, NULL, &ev);
    if (!ierr) ierr = SlimFitLossDestroy(&L);
  }
  if (!ierr && K) ierr = SlimFitRun(fit, &prob, conf, data, res, path);
  if (!ierr && ns) ierr = SlimFitSlice(fit, &prob, data, sx, sl, slc, &rms, &rel);
  PetscCall(PetscPopErrorHandler());
  PetscCall(PetscLogStagePop());
  PetscCall(SlimFitDataDestroy(&data));
  PetscCall(PetscTime(&t1));

  PetscCall(PetscLogStagePush(h->stage_output));
  if (ierr) PetscCall(PetscFPrintf(PETSC_COMM_SELF, stderr, "slimsweep: [rank %d] fit task %" PetscInt_FMT " (point %" PetscInt_FMT ", config %" PetscInt_FMT ") failed: %s\n", h->rank, task, point, conf, err.msg));
  if (!ierr && K) {
    PetscInt   *rows;
    PetscReal  *rw;
    PetscInt64 *iw;
    char       *sw160;
    PetscCall(PetscMalloc4(K, &rows, K * PetscMax(np, nr), &rw, K, &iw, K * 160, &sw160));
    for (PetscInt k = 0; k < K; k++) rows[k] = row * K + k;
#define FW_REAL(col, w, expr) \
  do { \
    for (PetscInt k = 0; k < K; k++) { \
      PetscReal *o = rw + k * (w); \
      (void)o; \
      expr; \
    } \
    PetscCall(SlimOutputWriteRows(h->out, "fits", col, K, rows, rw)); \
  } while (0)
#define FW_INT(col, expr) \
  do { \
    for (PetscInt k = 0; k < K; k++) iw[k] = (PetscInt64)(expr); \
    PetscCall(SlimOutputWriteRows(h->out, "fits", col, K, rows, iw)); \
  } while (0)
    {
      SlimFitErrors *e;
      PetscCall(PetscMalloc1(K, &e));
      for (PetscInt k = 0; k < K; k++) PetscCall(SlimFitGetErrors(fit, &prob, &res[k], &e[k]));
      FW_REAL("theta_init", np, PadReal(prob.fam->nparam, res[k].theta0, np, o));
      FW_REAL("theta_final", np, PadReal(prob.fam->nparam, res[k].theta, np, o));
      FW_REAL("param_err", np, PadReal(prob.fam->nparam, e[k].perr, np, o));
      FW_REAL("ratio_final", nr, PadReal(prob.fam->nratio, e[k].ratio, nr, o));
      FW_REAL("ratio_err", nr, PadReal(prob.fam->nratio, e[k].rerr, nr, o));
      FW_INT("recovered", e[k].recovered);
      PetscCall(PetscFree(e));
    }
    FW_REAL("loss_init", 1, o[0] = res[k].loss0);
    FW_REAL("loss_final", 1, o[0] = res[k].loss);
    FW_REAL("grad_norm", 1, o[0] = res[k].gnorm);
    FW_REAL("fit_wall", 1, o[0] = res[k].wall);
    FW_INT("iterations", res[k].its);
    FW_INT("evaluations", res[k].nevals);
    FW_INT("rank", h->rank);
    PetscCall(PetscArrayzero(sw160, K * 160));
    for (PetscInt k = 0; k < K; k++) PetscCall(PetscStrncpy(sw160 + 160 * k, res[k].reason, 160));
    PetscCall(SlimOutputWriteRows(h->out, "fits", "reason", K, rows, sw160));
    FW_INT("status", res[k].status);
#undef FW_REAL
#undef FW_INT
    PetscCall(PetscFree4(rows, rw, iw, sw160));
    if (path) {
      char p[64];
      PetscCall(PetscSNPrintf(p, sizeof(p), "fit_paths/%" PetscInt_FMT, row));
      PetscCall(SlimOutputWriteArray(h->out, p, path));
    }
  }
  {
    PetscReal w[SLIM_MAX_PARAM];
#define SW_REAL(col, v) (rv = (v), SlimOutputWriteRows(h->out, "fit_summary", col, 1, &row, &rv))
#define SW_INT(col, v)  (iv = (PetscInt64)(v), SlimOutputWriteRows(h->out, "fit_summary", col, 1, &row, &iv))
#define SW_ARR(col, n, x, wd) \
  do { \
    PadReal(n, x, wd, w); \
    PetscCall(SlimOutputWriteRows(h->out, "fit_summary", col, 1, &row, w)); \
  } while (0)
    if (!ierr) {
      PetscCall(SlimFitSummarize(fit, &prob, K, res, &sum));
      PetscCall(SW_INT("n_obs", nobs));
      SW_ARR("theta_true", prob.fam->nparam, sum.truth, np);
      SW_ARR("ratio_true", prob.fam->nratio, sum.rtruth, nr);
      PetscCall(SW_REAL("loss_true", loss_true));
      PetscCall(SW_INT("n_fits", K));
      PetscCall(SW_INT("n_converged", sum.nconv));
      PetscCall(SW_INT("n_max_it", sum.nmaxit));
      PetscCall(SW_INT("n_diverged", sum.ndiv));
      PetscCall(SW_INT("n_recovered", sum.nrecovered));
      PetscCall(SW_REAL("frac_converged", sum.frac_conv));
      PetscCall(SW_REAL("frac_recovered", sum.frac_recovered));
      SW_ARR("param_err_median", prob.fam->nparam, sum.perr_med, np);
      SW_ARR("param_err_iqr", prob.fam->nparam, sum.perr_iqr, np);
      SW_ARR("ratio_median", prob.fam->nratio, sum.ratio_med, nr);
      SW_ARR("ratio_iqr", prob.fam->nratio, sum.ratio_iqr, nr);
      SW_ARR("ratio_err_median", prob.fam->nratio, sum.rerr_med, nr);
      SW_ARR("ratio_err_iqr", prob.fam->nratio, sum.rerr_iqr, nr);
      PetscCall(SW_REAL("loss_median", sum.loss_med));
      PetscCall(SW_REAL("loss_iqr", sum.loss_iqr));
      PetscCall(SW_REAL("loss_min", sum.loss_min));
      PetscCall(SW_REAL("iterations_median", sum.its_med));
      if (ns) {
        PetscInt j;
        char     s64[64] = "";
        PetscCall(SlimFitSliceParam(fit, prob.fam, &j));
        PetscCall(PetscStrncpy(s64, prob.fam->pname[j], sizeof(s64)));
        PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "slice_param", 1, &row, s64));
        PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "slice_values", 1, &row, sx));
        PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "slice_loss", 1, &row, sl));
        PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "slice_loss_clean", 1, &row, slc));
        PetscCall(SW_REAL("slice_rms_change", rms));
        PetscCall(SW_REAL("slice_rms_rel", rel));
      }
    } else {
      char msg[256] = "";
      PetscCall(PetscStrncpy(msg, err.msg, sizeof(msg)));
      PetscCall(SlimOutputWriteRows(h->out, "fit_summary", "error", 1, &row, msg));
    }
    PetscCall(SW_REAL("fit_wall", t1 - t0));
    PetscCall(SW_INT("rank", h->rank));
    PetscCall(SW_INT("status", ierr ? 1 : 0));
#undef SW_REAL
#undef SW_INT
#undef SW_ARR
  }
  PetscCall(PetscLogStagePop());
  PetscCall(PetscFree(path));
  PetscCall(PetscFree3(sx, sl, slc));
  PetscCall(PetscFree(res));
  *status = ierr ? 1 : 0;
  PetscFunctionReturn(0);
}

/* One block of landscape rows: one ensemble run of its (rows x n) parameter sets. */
static PetscErrorCode RunLandscapeTask(SlimHarness h, PetscInt task, PetscInt *status)
{
  SlimSweep      sw = h->sw;
  SlimFit        fit = sw->fit;
  const PetscInt t = task - h->land0, point = t / (fit->nloss * h->nblk), l = (t / h->nblk) % fit->nloss, blk = t % h->nblk;
  const PetscInt n = fit->land_n, i0 = blk * fit->land_rows, i1 = PetscMin(n, i0 + fit->land_rows), nr = i1 - i0;
  SlimFitProblem prob;
  SlimFitData    data = NULL;
  PetscReal     *loss, *lossc;
  PetscInt      *rows;
  PetscInt64    *iv;
  TaskError      err  = {{0}, 0};
  PetscErrorCode ierr;
  char           path[256];

  PetscFunctionBeginUser;
  FitProblem(h, point, &prob);
  PetscCall(PetscMalloc4(nr * n, &loss, nr * n, &lossc, nr, &rows, nr, &iv));
  PetscCall(PetscLogStagePush(h->stage_fits));
  PetscCall(PetscPushErrorHandler(TaskErrorHandler, &err));
  ierr = SlimFitCreateData(fit, &prob, fit->loss[l], &data);
  if (!ierr) ierr = SlimFitLandscapeRows(fit, &prob, data, i0, i1, loss, lossc);
  PetscCall(PetscPopErrorHandler());
  PetscCall(PetscLogStagePop());
  PetscCall(SlimFitDataDestroy(&data));
  if (ierr) PetscCall(PetscFPrintf(PETSC_COMM_SELF, stderr, "slimsweep: [rank %d] landscape task %" PetscInt_FMT " (point %" PetscInt_FMT ") failed: %s\n", h->rank, task, point, err.msg));
  PetscCall(PetscLogStagePush(h->stage_output));
  PetscCall(LandscapePath(h, point, l, path, sizeof(path)));
  for (PetscInt i = 0; i < nr; i++) rows[i] = i0 + i;
  if (!ierr) {
    PetscCall(SlimOutputWriteRows(h->out, path, "loss", nr, rows, loss));
    PetscCall(SlimOutputWriteRows(h->out, path, "loss_clean", nr, rows, lossc));
  }
  for (PetscInt i = 0; i < nr; i++) iv[i] = h->rank;
  PetscCall(SlimOutputWriteRows(h->out, path, "rank", nr, rows, iv));
  for (PetscInt i = 0; i < nr; i++) iv[i] = ierr ? 1 : 0;
  PetscCall(SlimOutputWriteRows(h->out, path, "status", nr, rows, iv));
  PetscCall(PetscLogStagePop());
  PetscCall(PetscFree4(loss, lossc, rows, iv));
  *status = ierr ? 1 : 0;
  PetscFunctionReturn(0);
}

static PetscErrorCode OpenFile(SlimHarness h)
{
  SlimSweep sw = h->sw;
  char      sig[65536];
  PetscBool exists;

  PetscFunctionBeginUser;
  PetscCall(SlimOutputOpen(h->comm, h->output, h->resume ? SLIM_OUTPUT_RESUME : (h->force ? SLIM_OUTPUT_FORCE : SLIM_OUTPUT_CREATE), "-output", &h->out));
  if (h->resume) {
    /* refuse to mix results of a different sweep into the file */
    PetscCall(SlimOutputGetAttrString(h->out, "/", "sweep_signature", sig, sizeof(sig)));
    if (strcmp(sig, sw->signature)) {
      size_t k = 0;
      while (sig[k] && sig[k] == sw->signature[k]) k++;
      while (k > 0 && sig[k - 1] != ' ') k--;
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-sweep_resume: the options conflict with '%s': it has \"%.60s\", these options give \"%.60s\"", h->output, sig + k, sw->signature + k);
    }
    for (h->session = 1;; h->session++) {
      char path[64];
      PetscCall(PetscSNPrintf(path, sizeof(path), "sessions/%" PetscInt_FMT "/ranks", h->session));
      PetscCall(SlimOutputTableExists(h->out, path, &exists));
      if (!exists) break;
    }
  } else {
    PetscCall(SlimOutputSetAttrString(h->out, "/", "sweep_signature", sw->signature));
  }
  PetscCall(DefineResultTable(h, "points", "one row per sweep point", sw->npoints, NCOLS(PointDefCols), PointDefCols));
  if (h->nbaserows) PetscCall(DefineResultTable(h, "baselines", "Runge-Kutta baselines (PETSc TSRK), one row per (group, type)", h->nbaserows, NCOLS(BaseDefCols), BaseDefCols));
  if (h->norder) PetscCall(SlimOutputDefineTable(h->out, "orders", "observed convergence order of points differing only in dt", h->norder, NCOLS(OrderCols), OrderCols));
  PetscCall(SlimOutputDefineTable(h->out, "tasks", "every unit of work the ranks were handed: its estimated cost and measured time", h->ntask, NCOLS(TaskTableCols), TaskTableCols));
  PetscCall(DefineTrajectories(h));
  PetscCall(DefineFitTables(h));
  if (!h->resume) PetscCall(WriteDefinitions(h));
  if (!h->resume) PetscCall(WriteFitDefinitions(h));
  PetscCall(SlimOutputFlush(h->out));
  PetscFunctionReturn(0);
}

/* Which tasks a previous session finished (status written means the row is complete). */
static PetscErrorCode ReadDone(SlimHarness h)
{
  PetscInt64 *st;
  SlimSweep   sw = h->sw;

  PetscFunctionBeginUser;
  PetscCall(PetscArrayzero(h->done, h->ntask));
  h->ndone_before = 0;
  if (!h->resume && !h->merge[0]) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1(PetscMax(sw->npoints, h->nbaserows), &st));
  PetscCall(SlimOutputReadColumn(h->out, "points", "status", st));
  for (PetscInt i = 0; i < sw->npoints; i++) h->done[i] = st[i] >= 0 ? PETSC_TRUE : PETSC_FALSE;
  if (h->nbaserows) {
    PetscCall(SlimOutputReadColumn(h->out, "baselines", "status", st));
    for (PetscInt i = 0; i < h->nbaserows; i++) h->done[sw->npoints + i] = st[i] >= 0 ? PETSC_TRUE : PETSC_FALSE;
  }
  if (h->nfit) {
    PetscInt64 *fs;
    PetscCall(PetscMalloc1(h->nfit, &fs));
    PetscCall(SlimOutputReadColumn(h->out, "fit_summary", "status", fs));
    for (PetscInt i = 0; i < h->nfit; i++) h->done[h->fit0 + i] = fs[i] >= 0 ? PETSC_TRUE : PETSC_FALSE;
    PetscCall(PetscFree(fs));
  }
  if (h->nland) {
    SlimFit     fit = sw->fit;
    PetscInt64 *ls;
    char        path[256];
    PetscCall(PetscMalloc1(fit->land_n, &ls));
    for (PetscInt p = 0; p < sw->npoints; p++)
      for (PetscInt l = 0; l < fit->nloss; l++) {
        PetscCall(LandscapePath(h, p, l, path, sizeof(path)));
        PetscCall(SlimOutputReadColumn(h->out, path, "status", ls));
        /* a block is done when all its rows are (the status column is written last) */
        for (PetscInt b = 0; b < h->nblk; b++) {
          PetscBool d = PETSC_TRUE;
          for (PetscInt i = b * fit->land_rows; i < PetscMin(fit->land_n, (b + 1) * fit->land_rows); i++) d = (PetscBool)(d && ls[i] >= 0);
          h->done[h->land0 + (p * fit->nloss + l) * h->nblk + b] = d;
        }
      }
    PetscCall(PetscFree(ls));
  }
  for (PetscInt i = 0; i < h->ntask; i++) h->ndone_before += h->done[i];
  PetscCall(PetscFree(st));
  PetscFunctionReturn(0);
}

/* Writes the buffered results of this rank: one write per column per table; status last. */
static PetscErrorCode FlushPending(SlimHarness h)
{
  SlimSweep   sw = h->sw;
  PetscInt   *rows, n;
  PetscInt64 *iv;
  PetscReal  *rv;

  PetscFunctionBeginUser;
  if (!h->npend && !h->ntrec) PetscFunctionReturn(0);
  PetscCall(PetscLogStagePush(h->stage_output));
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscCall(PetscMalloc3(h->flush_tasks, &rows, h->flush_tasks, &iv, h->flush_tasks, &rv));
  for (int tab = 0; tab < 2; tab++) {
    const char *table = tab ? "baselines" : "points";
    Pending    *sel[256];
    n = 0;
    for (PetscInt k = 0; k < h->npend; k++) {
      PetscBool isbase = h->pend[k].task >= sw->npoints;
      if (isbase != (PetscBool)tab) continue;
      rows[n] = tab ? h->pend[k].task - sw->npoints : h->pend[k].task;
      if (n < 256) sel[n] = &h->pend[k];
      n++;
    }
    if (!n) continue;
    PetscCheck(n <= 256, PETSC_COMM_SELF, PETSC_ERR_PLIB, "flush batch too large");
    for (PetscInt k = 0; k < n; k++) iv[k] = h->rank;
    PetscCall(SlimOutputWriteRows(h->out, table, "rank", n, rows, iv));
    for (PetscInt k = 0; k < n; k++) iv[k] = h->session;
    PetscCall(SlimOutputWriteRows(h->out, table, "session", n, rows, iv));
    for (PetscInt c = 0; c < NRESULT; c++) {
      const ResultField *f = &ResultFields[c];
      for (PetscInt k = 0; k < n; k++) {
        const char *base = (const char *)&sel[k]->res + f->off;
        if (f->col.type == SLIM_COL_REAL) rv[k] = *(const PetscReal *)base;
        else iv[k] = f->off == offsetof(SlimResult, error_kind) ? (PetscInt64)sel[k]->res.error_kind : (PetscInt64) * (const PetscInt *)base;
      }
      PetscCall(SlimOutputWriteRows(h->out, table, f->col.name, n, rows, f->col.type == SLIM_COL_REAL ? (const void *)rv : (const void *)iv));
    }
  }
  /* the task accounting of every finished task, status last */
  if (h->ntrec) {
    n = h->ntrec;
    for (PetscInt k = 0; k < n; k++) rows[k] = h->trec[k].task, rv[k] = h->trec[k].wall;
    PetscCall(SlimOutputWriteRows(h->out, "tasks", "wall", n, rows, rv));
    for (PetscInt k = 0; k < n; k++) iv[k] = h->rank;
    PetscCall(SlimOutputWriteRows(h->out, "tasks", "rank", n, rows, iv));
    for (PetscInt k = 0; k < n; k++) iv[k] = h->session;
    PetscCall(SlimOutputWriteRows(h->out, "tasks", "session", n, rows, iv));
    for (PetscInt k = 0; k < n; k++) iv[k] = h->trec[k].status ? 1 : 0;
    PetscCall(SlimOutputWriteRows(h->out, "tasks", "status", n, rows, iv));
  }
  PetscCall(PetscFree3(rows, iv, rv));
  h->npend = 0;
  h->ntrec = 0;
  PetscCall(PetscTime(&h->tlast_flush));
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteSamples(SlimHarness h, PetscInt task, const SlimSamples *s)
{
  char       path[256];
  PetscReal *a;
  PetscInt   d = s->dof, nc = 3 + 2 * d;

  PetscFunctionBeginUser;
  if (s->stride <= 0) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1(s->n * nc, &a));
  for (PetscInt i = 0; i < s->n; i++) {
    PetscReal *row = a + i * nc;
    row[0]         = s->t[i];
    for (PetscInt k = 0; k < d; k++) row[1 + k] = s->q[i * d + k], row[1 + d + k] = s->p[i * d + k];
    row[1 + 2 * d] = s->energy[i];
    row[2 + 2 * d] = s->energy_error[i];
  }
  PetscCall(TrajectoryPath(h, task, path, sizeof(path)));
  PetscCall(SlimOutputWriteArray(h->out, path, a));
  PetscCall(PetscFree(a));
  PetscFunctionReturn(0);
}

/* One line naming a failed task's parameters and why it failed. */
static PetscErrorCode DescribeFailure(SlimHarness h, PetscInt task, const SlimResult *res)
{
  SlimSweep   sw = h->sw;
  const char *kind;
  PetscInt    ref, pt;
  SlimPoint  *p;
  char        why[160];

  PetscFunctionBeginUser;
  TaskInfo(h, task, &kind, &ref, &pt);
  p            = &sw->points[pt];
  h->fail_task = task;
  if (res->fail_reason <= -1000) PetscCall(PetscSNPrintf(why, sizeof(why), "a PETSc error (see the line above)"));
  else if (res->fail_reason < 0) PetscCall(PetscSNPrintf(why, sizeof(why), "%s at step %" PetscInt_FMT " of trajectory %" PetscInt_FMT, SNESConvergedReasons[res->fail_reason], res->fail_step, res->fail_traj));
  else PetscCall(PetscSNPrintf(why, sizeof(why), "see its row"));
  PetscCall(PetscSNPrintf(h->fail_text, sizeof(h->fail_text), "%s %" PetscInt_FMT " (family %s, r %" PetscInt_FMT ", dt %g, N %" PetscInt_FMT ", B %" PetscInt_FMT "%s%s): %s", kind, ref, sw->famname[p->family], p->r, (double)p->dt, p->N, p->B, task >= sw->npoints && task < h->fit0 ? ", RK " : "", task >= sw->npoints && task < h->fit0 ? sw->base[ref % sw->nbase] : "", why));
  PetscFunctionReturn(0);
}

/* Runs one task. Points and baselines leave their row in res for the batched writes
 * (*pending = PETSC_TRUE); fit and landscape tasks write their larger results themselves and
 * only set res->status. */
static PetscErrorCode RunTask(SlimHarness h, PetscInt task, SlimResult *res, PetscBool *pending)
{
  SlimSweep      sw = h->sw;
  SlimSamples    s;
  PetscInt       pi, ref, st;
  const char    *kind;
  SlimPoint     *p;
  TaskError      err = {{0}, 0};
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *pending = PETSC_FALSE;
  if (task >= h->fit0) {
    PetscCall(PetscMemzero(res, sizeof(*res)));
    if (task >= h->land0) PetscCall(RunLandscapeTask(h, task, &st));
    else PetscCall(RunFitTask(h, task, &st));
    res->status = st;
    PetscFunctionReturn(0);
  }
  *pending = PETSC_TRUE;
  TaskInfo(h, task, &kind, &ref, &pi);
  p        = &sw->points[pi];
  PetscCall(SlimSamplesCreate(p->N, sw->traj_stride, sw->fam[p->family]->dof, &s));
  PetscCall(PetscLogStagePush(task < sw->npoints ? h->stage_points : h->stage_baselines));
  /* an error inside one task (e.g. a momentum that cannot be inverted) fails that task only */
  PetscCall(PetscPushErrorHandler(TaskErrorHandler, &err));
  if (task < sw->npoints) ierr = SlimPointRun(sw, p, res, &s);
  else ierr = SlimBaselineRun(sw, p, sw->base[ref % sw->nbase], res, &s);
  PetscCall(PetscPopErrorHandler());
  PetscCall(PetscLogStagePop());
  if (ierr) {
    PetscCall(PetscFPrintf(PETSC_COMM_SELF, stderr, "slimsweep: [rank %d] task %" PetscInt_FMT " failed: %s\n", h->rank, task, err.msg));
    res->status      = 1;
    res->fail_reason = -1000 - (PetscInt)ierr; /* not a SNES reason: a PETSc error code, offset */
  } else PetscCall(WriteSamples(h, task, &s));
  PetscCall(SlimSamplesDestroy(&s));
  PetscFunctionReturn(0);
}

static PetscErrorCode Progress(SlimHarness h, PetscBool final)
{
  PetscLogDouble now;
  PetscInt       done;
  PetscReal      cost;

  PetscFunctionBeginUser;
  if (h->rank || h->quiet || h->merge[0]) PetscFunctionReturn(0);
  PetscCall(PetscTime(&now));
  if (!final && now - h->tlast_progress < h->progress_interval) PetscFunctionReturn(0);
  h->tlast_progress = now;
  PetscCall(SlimQueueProgress(h->queue, &done, &cost, NULL));
  {
    PetscInt  todo = h->ntask - h->ndone_before - h->nother;
    PetscReal el = now - h->tstart, frac = h->total_cost > 0 ? cost / h->total_cost : 1;
    if (frac > 0 && frac < 1)
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "slimsweep: %" PetscInt_FMT "/%" PetscInt_FMT " tasks done (%.0f%% of estimated work), elapsed %.1f s, remaining ~%.1f s\n", done, todo, 100 * frac, el, el * (1 - frac) / frac));
    else PetscCall(PetscPrintf(PETSC_COMM_SELF, "slimsweep: %" PetscInt_FMT "/%" PetscInt_FMT " tasks done, elapsed %.1f s\n", done, todo, el));
  }
  PetscFunctionReturn(0);
}

/* Rank 0 hosts the task counter: while it integrates, poll MPI so other ranks' one-sided
 * requests progress (components such as osc/pt2pt need the target's help), and print the
 * progress lines that are due even in the middle of a long task. */
static PetscErrorCode PollHook(void *ctx)
{
  SlimHarness h = (SlimHarness)ctx;
  int         flag;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, h->comm, &flag, MPI_STATUS_IGNORE));
  PetscCall(Progress(h, PETSC_FALSE));
  PetscFunctionReturn(0);
}

/* Least-squares slope of log(err) against log(dt) for every order group, written by rank 0. */
static PetscErrorCode WriteOrders(SlimHarness h)
{
  SlimSweep   sw = h->sw;
  PetscReal  *err;
  PetscInt64 *st;

  PetscFunctionBeginUser;
  if (!h->norder || h->rank) PetscFunctionReturn(0);
  PetscCall(PetscMalloc2(sw->npoints, &err, sw->npoints, &st));
  PetscCall(SlimOutputReadColumn(h->out, "points", "err_q_final", err));
  PetscCall(SlimOutputReadColumn(h->out, "points", "status", st));
  for (PetscInt g = 0; g < h->norder; g++) {
    PetscReal  sx = 0, sy = 0, sxx = 0, sxy = 0, dmin = PETSC_MAX_REAL, dmax = 0, d1 = PETSC_MAX_REAL, d2 = PETSC_MAX_REAL, e1 = NAN, e2 = NAN;
    PetscInt   n = 0, rep = -1, row = g;
    char       list[256] = "";
    for (PetscInt i = 0; i < sw->npoints; i++) {
      if (h->order_of_point[i] != g) continue;
      SlimPoint *p = &sw->points[i];
      char       num[32];
      if (rep < 0) rep = i;
      PetscCall(PetscSNPrintf(num, sizeof(num), "%s%" PetscInt_FMT, list[0] ? "," : "", i));
      if (strlen(list) + strlen(num) < sizeof(list)) PetscCall(PetscStrcat(list, num));
      if (st[i] != 0 || !isfinite(err[i])) continue;
      {
        /* errors at round-off level say nothing about the order: leave them out */
        SlimFamily fam   = sw->fam[p->family];
        PetscReal  scale = 0;
        for (PetscInt a = 0; a < fam->dof; a++) scale = PetscMax(scale, PetscAbsReal(fam->q0[a]));
        if (!(err[i] > h->order_floor * PetscMax(scale, PETSC_SMALL))) continue;
      }
      PetscReal x = log(p->dt), y = log(err[i]);
      sx += x, sy += y, sxx += x * x, sxy += x * y, n++;
      dmin = PetscMin(dmin, p->dt), dmax = PetscMax(dmax, p->dt);
      if (p->dt < d1) d2 = d1, e2 = e1, d1 = p->dt, e1 = err[i];
      else if (p->dt < d2) d2 = p->dt, e2 = err[i];
    }
    SlimPoint *p     = &sw->points[rep];
    PetscReal  slope = n >= 2 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : NAN;
    PetscReal  fin   = n >= 2 ? log(e2 / e1) / log(d2 / d1) : NAN;
    PetscInt64 iv;
    PetscReal  rv;
    char       s[SLIM_NAME_LEN] = "";
#define OI(c, v) (iv = (PetscInt64)(v), SlimOutputWriteRows(h->out, "orders", c, 1, &row, &iv))
#define OR(c, v) (rv = (PetscReal)(v), SlimOutputWriteRows(h->out, "orders", c, 1, &row, &rv))
    PetscCall(PetscStrncpy(s, sw->famname[p->family], sizeof(s)));
    PetscCall(SlimOutputWriteRows(h->out, "orders", "family", 1, &row, s));
    PetscCall(OI("r", p->r));
    PetscCall(OI("N", sw->nT ? -1 : p->N));
    PetscCall(OR("T", sw->nT ? p->N * p->dt : NAN));
    PetscCall(OR("sigma", p->sigma));
    PetscCall(OI("B", p->B));
    {
      char sv[16] = "";
      PetscCall(PetscStrncpy(sv, SlimSolverTypes[p->solver], sizeof(sv)));
      PetscCall(SlimOutputWriteRows(h->out, "orders", "solver", 1, &row, sv));
    }
    PetscCall(OI("n_dt", n));
    PetscCall(OR("order", slope));
    PetscCall(OR("order_finest", fin));
    PetscCall(OR("expected", 2 * p->r + 2));
    PetscCall(OR("dt_min", n ? dmin : NAN));
    PetscCall(OR("dt_max", n ? dmax : NAN));
    {
      char sv[256] = "";
      PetscCall(PetscStrncpy(sv, list, sizeof(sv)));
      PetscCall(SlimOutputWriteRows(h->out, "orders", "points", 1, &row, sv));
    }
#undef OI
#undef OR
  }
  PetscCall(PetscFree2(err, st));
  PetscFunctionReturn(0);
}

/* Per-rank busy/idle for this session and provenance on "/". Collective. */
static PetscErrorCode WriteSession(SlimHarness h, PetscReal makespan, PetscBool complete)
{
  char        grp[64], tab[80], host[MPI_MAX_PROCESSOR_NAME] = "", *hosts, end[64], buf[1024];
  int         hl;
  PetscReal  *busy;
  PetscInt64 *tasks;
  PetscReal  *cost;

  PetscFunctionBeginUser;
  PetscCall(PetscLogStagePush(h->stage_output));
  PetscCallMPI(MPI_Get_processor_name(host, &hl));
  PetscCall(PetscMalloc4(h->size * 64, &hosts, h->size, &busy, h->size, &tasks, h->size, &cost));
  {
    char mine[64] = "";
    PetscInt64 nt = h->ntasks_done;
    PetscCall(PetscStrncpy(mine, host, sizeof(mine)));
    PetscCallMPI(MPI_Allgather(mine, 64, MPI_CHAR, hosts, 64, MPI_CHAR, h->comm));
    PetscCallMPI(MPI_Allgather(&h->busy, 1, MPIU_REAL, busy, 1, MPIU_REAL, h->comm));
    PetscCallMPI(MPI_Allgather(&nt, 1, MPIU_INT64, tasks, 1, MPIU_INT64, h->comm));
    PetscCallMPI(MPI_Allgather(&h->cost_done, 1, MPIU_REAL, cost, 1, MPIU_REAL, h->comm));
  }
  PetscCall(PetscSNPrintf(grp, sizeof(grp), "sessions/%" PetscInt_FMT, h->session));
  PetscCall(PetscSNPrintf(tab, sizeof(tab), "%s/ranks", grp));
  PetscCall(SlimOutputDefineTable(h->out, tab, "per-rank accounting of this run", h->size, NCOLS(RankCols), RankCols));
  PetscCall(SlimOutputFlush(h->out));
  if (!h->rank) {
    PetscInt   *rows;
    PetscInt64 *iv;
    PetscReal  *idle;
    PetscCall(PetscMalloc3(h->size, &rows, h->size, &iv, h->size, &idle));
    for (PetscInt i = 0; i < h->size; i++) rows[i] = i, iv[i] = i, idle[i] = makespan - busy[i];
    PetscCall(SlimOutputWriteRows(h->out, tab, "rank", h->size, rows, iv));
    PetscCall(SlimOutputWriteRows(h->out, tab, "host", h->size, rows, hosts));
    PetscCall(SlimOutputWriteRows(h->out, tab, "busy", h->size, rows, busy));
    PetscCall(SlimOutputWriteRows(h->out, tab, "idle", h->size, rows, idle));
    PetscCall(SlimOutputWriteRows(h->out, tab, "tasks", h->size, rows, tasks));
    PetscCall(SlimOutputWriteRows(h->out, tab, "cost", h->size, rows, cost));
    PetscCall(PetscFree3(rows, iv, idle));
  }
  NowISO(end, sizeof(end));
  {
    PetscReal  v[1];
    PetscInt64 iv[1];
    char      *opts;
    PetscCall(SlimOutputSetAttrString(h->out, grp, "start_time", h->start_time));
    PetscCall(SlimOutputSetAttrString(h->out, grp, "end_time", end));
    v[0] = makespan;
    PetscCall(SlimOutputSetAttrReal(h->out, grp, "makespan", 1, v));
    iv[0] = h->size;
    PetscCall(SlimOutputSetAttrInt(h->out, grp, "nranks", 1, iv));
    iv[0] = h->ndone_before;
    PetscCall(SlimOutputSetAttrInt(h->out, grp, "tasks_done_before", 1, iv));
    iv[0] = complete;
    PetscCall(SlimOutputSetAttrInt(h->out, grp, "complete", 1, iv));
    PetscCall(SlimOutputSetAttrString(h->out, grp, "kind", h->merge[0] ? "merge" : h->session ? "resume" : "initial run"));
    if (h->merge[0]) PetscCall(SlimOutputSetAttrString(h->out, "/", "merged_from", h->merge));
    if (h->nslices > 1) {
      char sl[64];
      PetscCall(PetscSNPrintf(sl, sizeof(sl), "%" PetscInt_FMT "/%" PetscInt_FMT, h->slice, h->nslices));
      PetscCall(SlimOutputSetAttrString(h->out, grp, "slice", sl));
      PetscCall(SlimOutputSetAttrString(h->out, "/", "slice", sl));
    }
    PetscCall(PetscOptionsGetAll(NULL, &opts));
    PetscCall(SlimOutputSetAttrString(h->out, grp, "options", opts));
    PetscCall(SlimOutputSetAttrString(h->out, "/", "options", opts));
    PetscCall(PetscFree(opts));
  }
  /* provenance of the latest session on the root */
  {
    unsigned    maj, min, rel;
    int         len;
    char        mpiv[MPI_MAX_LIBRARY_VERSION_STRING], *nl;
    PetscInt64  iv[1] = {h->size};
    char       *hl2;
    PetscCall(SlimOutputSetAttrString(h->out, "/", "program", "slimsweep"));
    PetscCall(SlimOutputSetAttrString(h->out, "/", "version", SLIM_VERSION));
    PetscCall(SlimOutputSetAttrString(h->out, "/", "git_revision", SLIM_GIT_REVISION));
    PetscCall(PetscGetVersion(buf, sizeof(buf)));
    PetscCall(SlimOutputSetAttrString(h->out, "/", "petsc_version", buf));
    PetscCallMPI(MPI_Get_library_version(mpiv, &len));
    if ((nl = strchr(mpiv, '\n'))) *nl = 0;
    PetscCall(SlimOutputSetAttrString(h->out, "/", "mpi_version", mpiv));
    H5get_libversion(&maj, &min, &rel);
    PetscCall(PetscSNPrintf(buf, sizeof(buf), "%u.%u.%u", maj, min, rel));
    PetscCall(SlimOutputSetAttrString(h->out, "/", "hdf5_version", buf));
    PetscCall(SlimOutputSetAttrInt(h->out, "/", "nranks", 1, iv));
    PetscCall(PetscMalloc1(h->size * 65 + 1, &hl2));
    hl2[0] = 0;
    for (PetscMPIInt r = 0; r < h->size; r++) {
      PetscCall(PetscStrcat(hl2, hosts + 64 * r));
      if (r + 1 < h->size) PetscCall(PetscStrcat(hl2, ","));
    }
    PetscCall(SlimOutputSetAttrString(h->out, "/", "hostnames", hl2));
    PetscCall(PetscFree(hl2));
    if (!h->session) PetscCall(SlimOutputSetAttrString(h->out, "/", "start_time", h->start_time));
    PetscCall(SlimOutputSetAttrString(h->out, "/", "end_time", end));
    iv[0] = h->session + 1;
    PetscCall(SlimOutputSetAttrInt(h->out, "/", "sessions", 1, iv));
    iv[0] = complete;
    PetscCall(SlimOutputSetAttrInt(h->out, "/", "complete", 1, iv));
  }
  PetscCall(PetscFree4(hosts, busy, tasks, cost));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}

/* ---------- merge ---------- */

typedef struct {
  char   **names;
  PetscInt n, cap;
} NameList;

static herr_t CollectDatasets(hid_t obj, const char *name, const H5O_info_t *info, void *ctx)
{
  NameList *l = (NameList *)ctx;
  (void)obj;
  if (info->type != H5O_TYPE_DATASET) return 0;
  if (l->n == l->cap) {
    char **nn;
    l->cap = l->cap ? 2 * l->cap : 256;
    if (PetscMalloc1(l->cap, &nn)) return -1;
    for (PetscInt i = 0; i < l->n; i++) nn[i] = l->names[i];
    PetscFree(l->names);
    l->names = nn;
  }
  if (PetscStrallocpy(name, &l->names[l->n])) return -1;
  l->n++;
  return 0;
}

/* Reads a whole dataset in its natural memory type (double, int64 or the file's fixed string). */
static PetscErrorCode ReadWhole(hid_t d, void **buf, size_t *rowbytes, hsize_t *nrows, H5T_class_t *cls)
{
  hid_t   ft = H5Dget_type(d), mt, sp = H5Dget_space(d);
  hsize_t dims[4] = {1, 1, 1, 1};
  int     rank = H5Sget_simple_extent_ndims(sp);
  size_t  row = 1;

  PetscFunctionBeginUser;
  PetscCheck(rank >= 0 && rank <= 4, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-sweep_merge: unexpected dataset rank %d", rank);
  H5Sget_simple_extent_dims(sp, dims, NULL);
  *cls = H5Tget_class(ft);
  mt   = *cls == H5T_FLOAT ? H5Tcopy(H5T_NATIVE_DOUBLE) : *cls == H5T_INTEGER ? H5Tcopy(H5T_NATIVE_INT64) : H5Tcopy(ft);
  for (int i = 1; i < rank; i++) row *= dims[i];
  *rowbytes = row * H5Tget_size(mt);
  *nrows    = rank ? dims[0] : 1;
  PetscCall(PetscMalloc(*rowbytes * *nrows + 1, buf));
  PetscCheck(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *buf) >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "-sweep_merge: cannot read a dataset");
  H5Tclose(mt);
  H5Tclose(ft);
  H5Sclose(sp);
  PetscFunctionReturn(0);
}

/* Copies every finished row of every part into the output: table rows whose status (written
 * last, so it vouches for the row) is set, and free arrays (trajectories, fit paths) that were
 * written, i.e. are not all NaN fill. Orders and sessions are recomputed, not copied. Rank 0. */
static PetscErrorCode MergeParts(SlimHarness h)
{
  char    *list, *tok, *save;
  PetscInt nparts = 0;

  PetscFunctionBeginUser;
  if (h->rank) PetscFunctionReturn(0);
  PetscCall(PetscStrallocpy(h->merge, &list));
  for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save), nparts++) {
    hid_t    f;
    NameList l = {NULL, 0, 0};
    char     sig[65536] = "";
    PetscInt copied = 0;

    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    f = H5Fopen(tok, H5F_ACC_RDONLY, H5P_DEFAULT);
    PetscCheck(f >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "-sweep_merge: cannot open '%s' as an HDF5 file", tok);
    {
      hid_t a = H5Aopen(f, "sweep_signature", H5P_DEFAULT), t;
      PetscCheck(a >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "-sweep_merge: '%s' is not a slimsweep results file", tok);
      t = H5Aget_type(a);
      if (H5Tis_variable_str(t) > 0) {
        char *v = NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(t));
        H5Aread(a, mt, &v);
        if (v) PetscCall(PetscStrncpy(sig, v, sizeof(sig)));
        H5free_memory(v);
        H5Tclose(mt);
      }
      H5Tclose(t);
      H5Aclose(a);
    }
    PetscCheck(!strcmp(sig, h->sw->signature), PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-sweep_merge: '%s' is a part of a different sweep than these options define", tok);
    PetscCheck(H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_NATIVE, CollectDatasets, &l, H5O_INFO_BASIC) >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "-sweep_merge: cannot list '%s'", tok);
    for (PetscInt k = 0; k < l.n; k++) {
      char       *name = l.names[k], *slash = strrchr(name, '/'), parent[512] = "", status[600];
      hid_t       d;
      void       *buf;
      size_t      rb;
      hsize_t     nr;
      H5T_class_t cls;
      PetscBool   table;

      if (!slash || !strncmp(name, "sessions/", 9) || !strncmp(name, "orders/", 7)) continue;
      PetscCall(PetscStrncpy(parent, name, PetscMin(sizeof(parent), (size_t)(slash - name) + 1)));
      PetscCall(PetscSNPrintf(status, sizeof(status), "%s/status", parent));
      table = (PetscBool)(H5Lexists(f, status, H5P_DEFAULT) > 0);
      if (!table && strncmp(name, "trajectories/", 13) && strncmp(name, "baselines/trajectories/", 23) && strncmp(name, "fit_paths/", 10)) continue;
      d = H5Dopen2(f, name, H5P_DEFAULT);
      PetscCheck(d >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "-sweep_merge: cannot open %s in '%s'", name, tok);
      PetscCall(ReadWhole(d, &buf, &rb, &nr, &cls));
      H5Dclose(d);
      if (table) {
        hid_t       sd = H5Dopen2(f, status, H5P_DEFAULT);
        PetscInt64 *st;
        PetscInt   *rows, n = 0;
        char       *sel;
        PetscCall(PetscMalloc3(nr, &st, nr, &rows, rb * nr + 1, &sel));
        PetscCheck(H5Dread(sd, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, st) >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "-sweep_merge: cannot read %s", status);
        H5Dclose(sd);
        for (hsize_t i = 0; i < nr; i++)
          if (st[i] >= 0) {
            PetscCall(PetscMemcpy(sel + n * rb, (char *)buf + i * rb, rb));
            rows[n++] = (PetscInt)i;
          }
        if (n) PetscCall(SlimOutputWriteRows(h->out, parent, slash + 1, n, rows, sel));
        copied += n;
        PetscCall(PetscFree3(st, rows, sel));
      } else if (cls == H5T_FLOAT) {
        const double *v   = (const double *)buf;
        PetscBool     any = PETSC_FALSE;
        for (size_t i = 0; i < nr * rb / sizeof(double) && !any; i++) any = (PetscBool)!isnan(v[i]);
        if (any) PetscCall(SlimOutputWriteArray(h->out, name, v));
      }
      PetscCall(PetscFree(buf));
    }
    for (PetscInt k = 0; k < l.n; k++) PetscCall(PetscFree(l.names[k]));
    PetscCall(PetscFree(l.names));
    H5Fclose(f);
    if (!h->quiet) PetscCall(PetscPrintf(PETSC_COMM_SELF, "slimsweep: merged %s (%" PetscInt_FMT " table cells copied)\n", tok, copied));
  }
  PetscCheck(nparts > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-sweep_merge: no part files given");
  PetscCall(PetscFree(list));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimHarnessRun(SlimHarness h, PetscBool *complete)
{
  SlimSweep        sw = h->sw;
  struct sigaction sa;
  PetscLogDouble   t0, t1, tend;
  PetscReal        makespan, local;
  PetscInt         ndone_now = 0, nfail = 0, todo;

  PetscFunctionBeginUser;
  PetscCall(PetscLogStagePush(h->stage_setup));
  PetscCall(PetscTime(&h->tstart));
  NowISO(h->start_time, sizeof(h->start_time));
  h->nbaserows = sw->ngroups * sw->nbase;
  PetscCall(SlimFitGetConfigs(sw->fit, &h->nconf));
  h->fit0  = sw->npoints + h->nbaserows;
  h->nfit  = sw->npoints * h->nconf;
  h->land0 = h->fit0 + h->nfit;
  h->nblk  = sw->fit->landscape ? (sw->fit->land_n + sw->fit->land_rows - 1) / sw->fit->land_rows : 0;
  h->nland = sw->npoints * sw->fit->nloss * h->nblk;
  h->ntask = h->land0 + h->nland;
  h->npmax = h->nrmax = 1;
  for (PetscInt f = 0; f < sw->nfam; f++) h->npmax = PetscMax(h->npmax, sw->fam[f]->nparam), h->nrmax = PetscMax(h->nrmax, sw->fam[f]->nratio);
  PetscCall(PetscMalloc3(h->ntask, &h->tcost, h->ntask, &h->order, h->ntask, &h->done));
  PetscCall(PetscMalloc1(h->flush_tasks, &h->pend));
  PetscCall(PetscMalloc1(h->flush_tasks, &h->trec));
  PetscCall(SetUpOrderGroups(h));
  PetscCall(ComputeCosts(h));
  PetscCall(OpenFile(h));
  PetscCall(ReadDone(h));
  SlimHarnessRunning = PETSC_TRUE;
  /* finished before, or another slice's: sorted last and never handed out */
  h->total_cost = 0;
  h->nother     = 0;
  for (PetscInt i = 0; i < h->ntask; i++) {
    if (!h->done[i] && i % h->nslices != h->slice) h->done[i] = PETSC_TRUE, h->nother++;
    if (h->done[i]) h->tcost[i] = -1;
    else h->total_cost += h->tcost[i];
  }
  PetscCall(SlimScheduleOrder(h->ntask, h->tcost, h->order));
  todo = h->ntask - h->ndone_before - h->nother;
  PetscCall(SlimQueueCreate(h->comm, todo, &h->queue));
  if (!h->rank && !h->quiet) {
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "slimsweep: %" PetscInt_FMT " points, %" PetscInt_FMT " baseline runs", sw->npoints, h->nbaserows));
    if (h->nfit || h->nland) PetscCall(PetscPrintf(PETSC_COMM_SELF, ", %" PetscInt_FMT " fit tasks (%" PetscInt_FMT " fits), %" PetscInt_FMT " landscape tasks", h->nfit, h->nfit * sw->fit->guesses, h->nland));
    PetscCall(PetscPrintf(PETSC_COMM_SELF, " on %d ranks -> %s", h->size, h->output));
    if (h->resume) PetscCall(PetscPrintf(PETSC_COMM_SELF, " (resume: %" PetscInt_FMT " tasks already done)", h->ndone_before));
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "\n"));
  }
  PetscCall(PetscLogStagePop());

  /* a batch scheduler's SIGTERM (or SIGUSR1 ahead of the time limit): finish the task in
   * flight, write what is buffered, stop every rank */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);

  PetscCallMPI(MPI_Barrier(h->comm));
  PetscCall(PetscTime(&t0));
  h->tlast_flush = h->tlast_progress = t0;
  if (h->merge[0]) {
    /* combine the parts instead of computing; then the file is checked like a resumed one */
    PetscErrorCode ierr = MergeParts(h);
    PetscCallMPI(MPI_Bcast(&ierr, 1, MPI_INT, 0, h->comm));
    PetscCheck(!ierr, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-sweep_merge failed");
    PetscCallMPI(MPI_Barrier(h->comm));
    PetscCall(ReadDone(h));
    ndone_now       = h->rank ? 0 : h->ndone_before; /* summed over ranks below */
    h->ndone_before = 0;
  }
  if (!h->rank) PetscCall(SlimPollSet(PollHook, h, 32));
  while (!SlimStopRequested && !h->merge[0]) {
    PetscInt       pos, task;
    PetscLogDouble a, b;
    Pending       *pe;
    PetscBool      pending;

    PetscCall(SlimQueueNext(h->queue, &pos));
    if (pos < 0) break;
    task = h->order[pos];
    PetscCall(PetscTime(&a));
    pe       = &h->pend[h->npend];
    pe->task = task;
    PetscCall(RunTask(h, task, &pe->res, &pending));
    PetscCall(PetscTime(&b));
    pe->seconds = b - a;
    if (pending) h->npend++;
    h->trec[h->ntrec++] = (TaskRecord){task, pe->res.status, b - a};
    h->busy += b - a;
    h->cost_done += h->tcost[task];
    h->ntasks_done++;
    ndone_now++;
    if (pe->res.status != 0) {
      nfail++;
      if (h->fail_task < 0 || task < h->fail_task) PetscCall(DescribeFailure(h, task, &pe->res));
    }
    if (h->ntrec == h->flush_tasks || b - h->tlast_flush >= h->flush_interval || SlimStopRequested) PetscCall(FlushPending(h));
    PetscCall(SlimQueueDone(h->queue, h->tcost[task]));
    PetscCall(Progress(h, PETSC_FALSE));
  }
  PetscCall(SlimPollSet(NULL, NULL, 256));
  PetscCall(FlushPending(h));
  if (SlimStopRequested) PetscCall(SlimQueueStop(h->queue));
  PetscCall(PetscTime(&t1));
  local = t1 - t0;
  PetscCallMPI(MPI_Allreduce(&local, &makespan, 1, MPIU_REAL, MPIU_MAX, h->comm));
  {
    PetscInt64 counts[2] = {ndone_now, nfail}, tot[2];
    PetscCallMPI(MPI_Allreduce(counts, tot, 2, MPIU_INT64, MPI_SUM, h->comm));
    *complete = (PetscBool)(h->ndone_before + h->nother + tot[0] == h->ntask);
    nfail     = (PetscInt)tot[1];
    ndone_now = (PetscInt)tot[0];
  }
  PetscCall(Progress(h, PETSC_TRUE));
  {
    /* the lowest failed task of all ranks, named on rank 0 */
    struct {
      int task, rank;
    } in = {h->fail_task < 0 ? PETSC_MAX_INT : (int)h->fail_task, h->rank}, out;
    PetscCallMPI(MPI_Allreduce(&in, &out, 1, MPI_2INT, MPI_MINLOC, h->comm));
    if (out.task != PETSC_MAX_INT) PetscCallMPI(MPI_Bcast(h->fail_text, sizeof(h->fail_text), MPI_CHAR, out.rank, h->comm));
    h->nfailed = nfail;
  }
  PetscCall(SlimQueueDestroy(&h->queue));
  PetscCall(WriteOrders(h));
  PetscCall(WriteSession(h, makespan, *complete));
  PetscCall(SlimOutputDestroy(&h->out));
  PetscCall(PetscTime(&tend));
  if (!h->rank) {
    if (*complete) PetscCall(PetscPrintf(PETSC_COMM_SELF, "slimsweep: done: %" PetscInt_FMT " tasks (%" PetscInt_FMT " failed) in %.2f s on %d ranks; results in %s\n", ndone_now, nfail, tend - h->tstart, h->size, h->output));
    else PetscCall(PetscPrintf(PETSC_COMM_SELF, "slimsweep: stopped by signal after %" PetscInt_FMT " of %" PetscInt_FMT " remaining tasks; finished results are in %s; rerun with -sweep_resume to finish\n", ndone_now, todo, h->output));
    if (nfail) PetscCall(PetscFPrintf(PETSC_COMM_SELF, stderr, "slimsweep: %" PetscInt_FMT " task(s) failed and are recorded as failed in %s; first: %s\n", nfail, h->output, h->fail_text));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimHarnessGetFailed(SlimHarness h, PetscInt *nfailed)
{
  PetscFunctionBeginUser;
  *nfailed = h->nfailed;
  PetscFunctionReturn(0);
}
