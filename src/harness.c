/* SlimHarness: a sweep across MPI ranks into one parallel HDF5 file (include/slim/harness.h).
 *
 * This file is the part that knows no task kind: options, the kind list and the flat task
 * index, the file's opening and resume bookkeeping, the hand-out loop, progress and signals.
 * The kinds (src/task_*.c) define and write their own tables; /tasks and /sessions are in
 * src/harness_session.c, /orders in src/task_orders.c. File layout: README, "Results file". */
#include <signal.h>
#include <string.h>
#include <time.h>
#include <petsctime.h>
#include <slim/private/harnessimpl.h>
#include <slim/log.h>
#include <slim/poll.h>
#include <slim/options.h>

PetscBool SlimHarnessRunning = PETSC_FALSE;

/* The task kinds in flat-index order: a new kind is one file and one entry here. */
static const struct {
  const char *name;
  PetscErrorCode (*create)(SlimTaskKind);
} KindList[] = {
  {"point", SlimTaskKindCreate_Point},
  {"baseline", SlimTaskKindCreate_Baseline},
  {"fit", SlimTaskKindCreate_Fit},
  {"landscape", SlimTaskKindCreate_Landscape},
  {"train", SlimTaskKindCreate_Train},
};

/* Seconds: a killed job loses at most about this much of cheap finished work. */
#define SLIM_FLUSH_INTERVAL_DEFAULT 1.0
/* Finished tasks a rank buffers before writing: one write per column per batch. */
#define SLIM_FLUSH_TASKS_DEFAULT 16
/* Order fits leave out errors below max(this x max|q0|, the floor of what the step solves left,
 * /points/err_floor: SlimStepperGetResidualSum); 0: that floor alone. */
#define SLIM_ORDER_FLOOR_DEFAULT 0
/* Rank 0 runs the poll hook (MPI progress, progress lines) every this many integrator steps. */
#define SLIM_POLL_EVERY 32

/* Async-signal-safe: the next SlimPoll() of the task in flight unwinds it (src/poll.c). */
static void OnSignal(int sig)
{
  (void)sig;
  SlimPollRequestStop();
}

void SlimNowISO(char buf[], size_t len)
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
  (*h)->flush_interval    = SLIM_FLUSH_INTERVAL_DEFAULT;
  (*h)->flush_tasks       = SLIM_FLUSH_TASKS_DEFAULT;
  (*h)->nslices           = 1;
  (*h)->fail_task         = -1;
  (*h)->task              = -1;
  (*h)->order_floor       = SLIM_ORDER_FLOOR_DEFAULT;
  PetscCall(SlimSweepCreate(&(*h)->sw));
  PetscCall(SlimLogStageGet("Sweep setup", &(*h)->stage_setup));
  PetscCall(SlimLogStageGet("Results output", &(*h)->stage_output));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimHarnessDestroy(SlimHarness *h)
{
  PetscFunctionBeginUser;
  if (!*h) PetscFunctionReturn(0);
  for (PetscInt k = 0; k < (*h)->nkinds; k++) {
    SlimTaskKind kind = (*h)->kinds[k];
    if (kind->ops.destroy) PetscCall(kind->ops.destroy(kind));
    PetscCall(PetscFree(kind));
  }
  PetscCall(SlimOrdersDestroy(*h));
  PetscCall(SlimQueueDestroy(&(*h)->queue));
  PetscCall(SlimOutputDestroy(&(*h)->out));
  PetscCall(SlimReplaceDestroy(&(*h)->repl)); /* not committed: the temporary file goes */
  PetscCall(SlimLockRelease(&(*h)->lock));
  PetscCall(SlimSweepDestroy(&(*h)->sw));
  PetscCall(PetscFree3((*h)->tcost, (*h)->order, (*h)->done));
  PetscCall(PetscFree((*h)->trec));
  PetscCall(PetscFree((*h)->merge));
  PetscCall(PetscFree(*h));
  PetscFunctionReturn(0);
}

/* ---------- options ---------- */

/* Options that nothing consumed but that carry one of our prefixes are typos: refuse them. */
static PetscErrorCode CheckUnusedOptions(SlimHarness h)
{
  PetscInt    n;
  char      **names, **values;
  const char *prefixes[SLIM_LIST_MAX + 4] = {"sweep_", "fit_", "landscape_", "train_"};
  PetscInt    np = 4;

  PetscFunctionBeginUser;
  for (PetscInt f = 0; f < h->sw->nfam; f++) prefixes[np++] = h->sw->fam[f]->name;
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt i = 0; i < n; i++) {
    for (PetscInt k = 0; k < np; k++) {
      size_t    len;
      PetscBool match;
      PetscCall(PetscStrlen(prefixes[k], &len));
      PetscCall(PetscStrncmp(names[i], prefixes[k], len, &match));
      if (match && k >= 4 && names[i][len] != '_') match = PETSC_FALSE;
      PetscCheck(!match, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-%s: unknown option (see -help for the options of this sweep)", names[i]);
    }
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscFunctionReturn(0);
}

/* -sweep_slice i/n and -sweep_merge a.h5,b.h5 (read whole: no fixed-size buffer to overflow). */
static PetscErrorCode SetFromOptions_Parts(PetscOptionItems *PetscOptionsObject, SlimHarness h)
{
  char      slice[64] = "0/1";
  PetscBool set;
  size_t    len = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsString("-sweep_slice", "i/n: compute only the tasks with index % n == i (job arrays; combine the parts with -sweep_merge)", NULL, slice, slice, sizeof(slice), &set));
  if (set) {
    char c;
    int  i, n;
    PetscCheck(sscanf(slice, "%d/%d%c", &i, &n, &c) == 2 && n >= 1 && i >= 0 && i < n, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-sweep_slice: '%s' is invalid (expected i/n with 0 <= i < n)", slice);
    h->slice = i, h->nslices = n;
  }
  {
    const char *v = NULL;
    PetscCall(PetscOptionsFindPair(NULL, NULL, "-sweep_merge", &v, &set));
    if (set && v) PetscCall(PetscStrlen(v, &len));
  }
  PetscCall(PetscFree(h->merge));
  PetscCall(PetscCalloc1(len + 1, &h->merge));
  PetscCall(PetscOptionsString("-sweep_merge", "Comma-separated part files (same sweep, e.g. from -sweep_slice) whose finished rows are combined into -output", NULL, h->merge, h->merge, len + 1, NULL));
  PetscFunctionReturn(0);
}

/* -output must name a file, and no part of a merge may be the output (its rows would be lost). */
static PetscErrorCode CheckPaths(SlimHarness h)
{
  PetscBool isdir, same = PETSC_FALSE;
  char     *list, *tok, *save;

  PetscFunctionBeginUser;
  PetscCall(SlimFileIsDirectory(h->output, &isdir));
  PetscCheck(!isdir, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-output: '%s' is a directory (give a file name)", h->output);
  PetscCall(PetscStrallocpy(h->merge, &list));
  for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    PetscCall(SlimFileSame(h->output, tok, &same));
    if (!same) PetscCall(PetscStrcmp(h->output, tok, &same));
    if (same) break;
  }
  PetscCall(PetscFree(list));
  PetscCheck(!same, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-sweep_merge: a part is the -output file '%s'; merge into a new file", h->output);
  PetscFunctionReturn(0);
}

static PetscErrorCode CheckOptions(SlimHarness h)
{
  PetscFunctionBeginUser;
  PetscCheck(!(h->merge[0] && h->resume), PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-sweep_merge and -sweep_resume: a merge writes a new file");
  PetscCheck(!(h->merge[0] && h->nslices > 1), PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-sweep_merge and -sweep_slice: a merge combines slices, it is not one");
  PetscCheck(h->order_floor >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_order_floor: value %g is invalid (must be >= 0)", (double)h->order_floor);
  PetscCheck(h->output[0], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-output: empty file name");
  PetscCheck(!(h->force && h->resume), PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-force and -sweep_resume: give one of them, not both");
  PetscCheck(h->flush_tasks >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_flush_tasks: value %" PetscInt_FMT " is invalid (must be >= 1)", h->flush_tasks);
  PetscCheck(h->flush_interval >= 0 && h->progress_interval >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_flush_interval and -sweep_progress_interval must be >= 0");
  PetscCall(CheckPaths(h));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimHarnessSetFromOptions(SlimHarness h)
{
  PetscFunctionBeginUser;
  PetscOptionsBegin(h->comm, NULL, "slimsweep harness", NULL);
  /* the results file */
  PetscCall(PetscOptionsString("-output", "Results file (HDF5)", NULL, h->output, h->output, sizeof(h->output), NULL));
  PetscCall(PetscOptionsBool("-force", "Replace an existing results file", NULL, h->force, &h->force, NULL));
  PetscCall(PetscOptionsBool("-sweep_resume", "Continue an existing results file: compute only the missing points", NULL, h->resume, &h->resume, NULL));
  /* progress lines and write batching */
  PetscCall(PetscOptionsBool("-sweep_quiet", "No progress lines", NULL, h->quiet, &h->quiet, NULL));
  PetscCall(SlimOptionsReal("-sweep_progress_interval", "Seconds between progress lines on rank 0 (0: only the final line)", NULL, h->progress_interval, &h->progress_interval, NULL));
  PetscCall(SlimOptionsInt("-sweep_flush_tasks", "Finished tasks a rank buffers before writing them", NULL, h->flush_tasks, &h->flush_tasks, NULL));
  PetscCall(SlimOptionsReal("-sweep_flush_interval", "Seconds after which a rank writes its finished tasks anyway", NULL, h->flush_interval, &h->flush_interval, NULL));
  /* resources, checked before the file is created */
  PetscCall(PetscOptionsBool("-sweep_dry_run", "Print the plan, the estimated file size and peak memory per rank, and exit without computing", NULL, h->dry_run, &h->dry_run, NULL));
  PetscCall(PetscOptionsBool("-sweep_allow_large", "Run even if the estimated file size exceeds the free disk space or the estimated memory the available memory", NULL, h->allow_large, &h->allow_large, NULL));
  /* job arrays */
  PetscCall(SetFromOptions_Parts(PetscOptionsObject, h));
  /* derived tables */
  PetscCall(SlimOptionsReal("-sweep_order_floor", "Order fits leave out errors at or below max(this, the floor the step solver's tolerances and N steps leave) times max|q0|; raise it to leave out more", NULL, h->order_floor, &h->order_floor, NULL));
  PetscOptionsEnd();
  PetscCall(CheckOptions(h));
  PetscCall(SlimSweepSetFromOptions(h->sw));
  PetscCheck(h->sw->npoints > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "the sweep is empty");
  PetscCall(SlimTaskTrainSetFromOptions(h)); /* read again by the kind; here for -help and checks */
  PetscCall(CheckUnusedOptions(h));
  PetscFunctionReturn(0);
}

/* ---------- the kinds and the flat task index ---------- */

PetscErrorCode SlimHarnessSetUpKinds(SlimHarness h)
{
  PetscFunctionBeginUser;
  PetscCheck(!h->nkinds, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "the task kinds are set up once per harness");
  PetscCheck(sizeof(KindList) / sizeof(KindList[0]) <= SLIM_TASK_KINDS_MAX, PETSC_COMM_SELF, PETSC_ERR_PLIB, "raise SLIM_TASK_KINDS_MAX");
  h->ntask = 0;
  for (size_t k = 0; k < sizeof(KindList) / sizeof(KindList[0]); k++) {
    SlimTaskKind kind;
    PetscCall(PetscNew(&kind));
    PetscCall(PetscStrncpy(kind->name, KindList[k].name, sizeof(kind->name)));
    kind->h     = h;
    kind->stage = -1;
    PetscCall(KindList[k].create(kind));
    PetscCall(kind->ops.count(kind, &kind->n));
    kind->first          = h->ntask;
    h->ntask            += kind->n;
    h->kinds[h->nkinds++] = kind;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimHarnessTaskDecode(SlimHarness h, PetscInt task, SlimTaskKind *kind, PetscInt *local)
{
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < h->nkinds; k++)
    if (task < h->kinds[k]->first + h->kinds[k]->n) {
      *kind  = h->kinds[k];
      *local = task - h->kinds[k]->first;
      PetscFunctionReturn(0);
    }
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "task %" PetscInt_FMT " is out of range [0, %" PetscInt_FMT ")", task, h->ntask);
}

static PetscErrorCode ComputeCosts(SlimHarness h)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc3(h->ntask, &h->tcost, h->ntask, &h->order, h->ntask, &h->done));
  for (PetscInt k = 0; k < h->nkinds; k++)
    for (PetscInt i = 0; i < h->kinds[k]->n; i++) PetscCall(h->kinds[k]->ops.cost(h->kinds[k], i, &h->tcost[h->kinds[k]->first + i]));
  PetscFunctionReturn(0);
}

/* ---------- the file ---------- */

/* Which tasks a previous session (or the merged parts) finished, from the kinds' status columns;
 * /tasks/status is brought in line with them (collective). */
static PetscErrorCode ReadDone(SlimHarness h)
{
  PetscInt *st;

  PetscFunctionBeginUser;
  PetscCall(PetscArrayzero(h->done, h->ntask));
  h->ndone_before = h->nfailed_before = 0;
  if (!h->resume && !h->merge[0]) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1(h->ntask, &st));
  for (PetscInt k = 0; k < h->nkinds; k++)
    if (h->kinds[k]->n) PetscCall(h->kinds[k]->ops.status(h->kinds[k], st + h->kinds[k]->first));
  for (PetscInt i = 0; i < h->ntask; i++) h->done[i] = (PetscBool)(st[i] >= 0), h->ndone_before += h->done[i], h->nfailed_before += st[i] > 0;
  PetscCall(SlimTasksReconcile(h, st));
  PetscCall(PetscFree(st));
  PetscFunctionReturn(0);
}

/* Writes what this rank buffered: the /tasks accounting, the kinds' rows, the /tasks status. */
static PetscErrorCode WritePending(SlimHarness h)
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogStagePush(h->stage_output));
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscCall(SlimTasksFlush(h, PETSC_FALSE));
  for (PetscInt k = 0; k < h->nkinds; k++)
    if (h->kinds[k]->ops.flush) PetscCall(h->kinds[k]->ops.flush(h->kinds[k]));
  PetscCall(SlimTasksFlush(h, PETSC_TRUE));
  PetscCall(PetscTime(&h->tlast_flush));
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}

/* Independent: a failure is kept for the next agreement (SlimHarnessKeepWriteFailure), and
 * after one nothing more is written: the unwritten tasks are recomputed on resume. */
static PetscErrorCode FlushPending(SlimHarness h)
{
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  if (!h->ntrec || h->werr) PetscFunctionReturn(0);
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = WritePending(h);
  PetscCall(PetscPopErrorHandler());
  PetscCall(SlimHarnessKeepWriteFailure(h, ierr));
  PetscFunctionReturn(0);
}

/* ---------- progress ---------- */

static PetscErrorCode Progress(SlimHarness h, PetscBool final)
{
  PetscLogDouble now;
  PetscInt       done, todo = h->ntask - h->ndone_before - h->nother;
  PetscReal      cost, el, frac;

  PetscFunctionBeginUser;
  if (h->rank || h->quiet || h->merge[0]) PetscFunctionReturn(0);
  PetscCall(PetscTime(&now));
  if (!final && (h->progress_interval <= 0 || now - h->tlast_progress < h->progress_interval)) PetscFunctionReturn(0);
  h->tlast_progress = now;
  PetscCall(SlimQueueProgress(h->queue, &done, &cost, NULL));
  el   = now - h->tstart;
  frac = h->total_cost > 0 ? cost / h->total_cost : 1;
  if (frac > 0 && frac < 1)
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "slimsweep: %" PetscInt_FMT "/%" PetscInt_FMT " tasks done (%.0f%% of estimated work), elapsed %.1f s, remaining ~%.1f s\n", done, todo, 100 * frac, el, el * (1 - frac) / frac));
  else PetscCall(PetscPrintf(PETSC_COMM_SELF, "slimsweep: %" PetscInt_FMT "/%" PetscInt_FMT " tasks done, elapsed %.1f s\n", done, todo, el));
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

/* ---------- running ---------- */

/* Everything before the first task: the kinds, costs, the file, what is done, the queue. */
static PetscErrorCode SetUpRun(SlimHarness h)
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogStagePush(h->stage_setup));
  PetscCall(PetscTime(&h->tstart));
  SlimNowISO(h->start_time, sizeof(h->start_time));
  PetscCall(SlimHarnessSetUpKinds(h));
  PetscCall(PetscMalloc1(h->flush_tasks, &h->trec));
  PetscCall(SlimOrdersCreate(h));
  PetscCall(ComputeCosts(h));
  PetscCall(SlimHarnessEstimate(h));
  if (h->dry_run) {
    PetscCall(PetscLogStagePop());
    PetscFunctionReturn(0);
  }
  PetscCall(SlimHarnessOpenFile(h));
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
  PetscCall(SlimQueueCreate(h->comm, h->ntask - h->ndone_before - h->nother, &h->queue));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}

/* "slimsweep: 54 points, 12 baseline runs, ... on 2 ranks -> file": each kind counts itself. */
static PetscErrorCode PrintPlan(SlimHarness h)
{
  char line[1024] = "slimsweep: ", part[128];

  PetscFunctionBeginUser;
  if (h->rank || h->quiet) PetscFunctionReturn(0);
  for (PetscInt k = 0, first = 1; k < h->nkinds; k++) {
    SlimTaskKind kind = h->kinds[k];
    if (!kind->n) continue;
    if (kind->ops.plan) PetscCall(kind->ops.plan(kind, part, sizeof(part)));
    else PetscCall(PetscSNPrintf(part, sizeof(part), "%" PetscInt_FMT " %s tasks", kind->n, kind->name));
    if (!first) PetscCall(PetscStrlcat(line, ", ", sizeof(line)));
    PetscCall(PetscStrlcat(line, part, sizeof(line)));
    first = 0;
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "%s on %d ranks -> %s", line, h->size, h->output));
  if (h->resume) PetscCall(PetscPrintf(PETSC_COMM_SELF, " (resume: %" PetscInt_FMT " tasks already done)", h->ndone_before));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "\n"));
  PetscFunctionReturn(0);
}

/* The line naming a failed task: "<kind> <i> (family, r, dt, N, B<extra>): <failure>". */
static PetscErrorCode DescribeFailure(SlimHarness h, SlimTaskKind kind, PetscInt local, const SlimTaskFailure *fail)
{
  PetscInt         pi;
  const SlimPoint *p;
  char             extra[128] = "";

  PetscFunctionBeginUser;
  PetscCall(kind->ops.point(kind, local, &pi));
  p = &h->sw->points[pi];
  if (kind->ops.describe) PetscCall(kind->ops.describe(kind, local, extra, sizeof(extra)));
  PetscCall(PetscSNPrintf(h->fail_text, sizeof(h->fail_text), "%s %" PetscInt_FMT " (family %s, r %" PetscInt_FMT ", dt %g, N %" PetscInt_FMT ", B %" PetscInt_FMT "%s): %s", kind->name, local, h->sw->famname[p->family], p->r, (double)p->dt, p->N, p->B, extra, fail->msg));
  PetscFunctionReturn(0);
}

/* One task: run it, account for it, remember the lowest failure, flush when due. A stop
 * requested while it runs unwinds it from the next SlimPoll() of its integration: the task is
 * abandoned (not recorded; a resume recomputes it). */
static PetscErrorCode RunOne(SlimHarness h, PetscInt task, PetscInt *nfail)
{
  SlimTaskKind    kind  = NULL;
  PetscInt        local = -1;
  SlimTaskFailure fail = {SLIM_TASK_OK, 0, ""};
  PetscLogDouble  a, b;

  PetscFunctionBeginUser;
  PetscCall(SlimHarnessTaskDecode(h, task, &kind, &local));
  PetscCall(PetscTime(&a));
  h->task = task, h->ttask = a, h->task_acct = PETSC_FALSE;
  PetscCall(SlimPollSetStopCheck(PETSC_TRUE));
  PetscCall(kind->ops.run(kind, local, &fail));
  PetscCall(SlimPollSetStopCheck(PETSC_FALSE));
  h->task = -1;
  if (fail.type == SLIM_TASK_ABANDONED) {
    h->abandoned = PETSC_TRUE;
    PetscFunctionReturn(0);
  }
  PetscCall(PetscTime(&b));
  h->trec[h->ntrec++] = (SlimTaskRecord){task, fail.type != SLIM_TASK_OK, b - a};
  h->busy += b - a;
  h->cost_done += h->tcost[task];
  h->ntasks_done++;
  if (fail.type != SLIM_TASK_OK) {
    (*nfail)++;
    if (h->fail_task < 0 || task < h->fail_task) {
      h->fail_task = task;
      PetscCall(DescribeFailure(h, kind, local, &fail));
    }
  }
  if (h->ntrec == h->flush_tasks || b - h->tlast_flush >= h->flush_interval) PetscCall(FlushPending(h));
  PetscFunctionReturn(0);
}

/* Combines the parts instead of computing; then the file is checked like a resumed one. A
 * failed merge fails every rank alike (the temporary file is removed, -output is untouched). */
static PetscErrorCode Merge(SlimHarness h, PetscInt *ndone)
{
  PetscFunctionBeginUser;
  PetscCall(SlimHarnessMergeParts(h));
  PetscCall(ReadDone(h));
  *ndone          = h->rank ? 0 : h->ndone_before; /* summed over ranks by the caller */
  h->ndone_before = 0;
  PetscFunctionReturn(0);
}

/* Totals over the ranks; the lowest failed task of all ranks is named on rank 0. */
static PetscErrorCode Reduce(SlimHarness h, PetscInt *ndone, PetscInt *nfail, PetscBool *complete)
{
  PetscInt64 counts[2] = {*ndone, *nfail}, tot[2];
  struct {
    int task, rank;
  } in = {h->fail_task < 0 ? PETSC_MAX_INT : (int)h->fail_task, h->rank}, out;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(counts, tot, 2, MPIU_INT64, MPI_SUM, h->comm));
  *complete  = (PetscBool)(h->ndone_before + h->nother + tot[0] == h->ntask);
  *ndone     = (PetscInt)tot[0];
  *nfail     = (PetscInt)tot[1];
  h->nfailed = *nfail;
  PetscCallMPI(MPI_Allreduce(&in, &out, 1, MPI_2INT, MPI_MINLOC, h->comm));
  if (out.task != PETSC_MAX_INT) PetscCallMPI(MPI_Bcast(h->fail_text, sizeof(h->fail_text), MPI_CHAR, out.rank, h->comm));
  PetscFunctionReturn(0);
}

static PetscErrorCode PrintEnd(SlimHarness h, PetscInt ndone, PetscInt todo, PetscInt nfail, PetscBool complete)
{
  PetscLogDouble tend;

  PetscFunctionBeginUser;
  PetscCall(PetscTime(&tend));
  if (h->rank) PetscFunctionReturn(0);
  if (complete) PetscCall(PetscPrintf(PETSC_COMM_SELF, "slimsweep: done: %" PetscInt_FMT " tasks (%" PetscInt_FMT " failed) in %.2f s on %d ranks; results in %s\n", ndone, nfail, tend - h->tstart, h->size, h->output));
  else if (h->merge[0]) PetscCall(PetscPrintf(PETSC_COMM_SELF, "slimsweep: merged %" PetscInt_FMT " of %" PetscInt_FMT " tasks into %s; the parts lack the other %" PetscInt_FMT ": compute them with -sweep_resume\n", ndone, h->ntask, h->output, h->ntask - ndone));
  else PetscCall(PetscPrintf(PETSC_COMM_SELF, "slimsweep: stopped by signal after %" PetscInt_FMT " of %" PetscInt_FMT " remaining tasks (%.2f s from the signal to the end of the run); finished results are in %s; rerun with -sweep_resume to finish\n", ndone, todo, (double)SlimPollStopElapsed(), h->output));
  if (nfail) PetscCall(PetscFPrintf(PETSC_COMM_SELF, stderr, "slimsweep: %" PetscInt_FMT " task(s) failed and are recorded as failed in %s; first: %s\n", nfail, h->output, h->fail_text));
  if (h->nfailed_before) PetscCall(PetscFPrintf(PETSC_COMM_SELF, stderr, "slimsweep: %" PetscInt_FMT " task(s) are recorded as failed in %s by %s (see /tasks/status and the tables' status columns)\n", h->nfailed_before, h->output, h->merge[0] ? "the merged parts" : "earlier sessions"));
  PetscFunctionReturn(0);
}

/* The steps at the end of a session that write collectively, each agreed on by all ranks. */
typedef struct {
  PetscReal makespan;
  PetscBool complete;
} EndCtx;

/* Rank 0 alone: the /orders rows. */
static PetscErrorCode WriteOrders(SlimHarness h, void *ctx)
{
  (void)ctx;
  PetscFunctionBeginUser;
  PetscCall(SlimOrdersWrite(h));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteEnd(SlimHarness h, void *ctx)
{
  EndCtx *e = (EndCtx *)ctx;

  PetscFunctionBeginUser;
  PetscCall(SlimHarnessWriteStep(h, WriteOrders, NULL));
  PetscCall(SlimSessionWrite(h, e->makespan, e->complete));
  PetscFunctionReturn(0);
}

/* The hand-out loop of this rank; a stop request (signal), a write failure of any rank
 * (SlimQueueStop) or the end of the queue ends it. */
static PetscErrorCode Work(SlimHarness h, PetscInt *ndone, PetscInt *nfail)
{
  PetscFunctionBeginUser;
  if (!h->rank) PetscCall(SlimPollSet(PollHook, h, SLIM_POLL_EVERY));
  while (!SlimPollStopRequested() && !h->merge[0] && !h->werr) {
    PetscInt pos;
    PetscCall(SlimQueueNext(h->queue, &pos));
    if (pos < 0) break;
    PetscCall(RunOne(h, h->order[pos], nfail));
    if (h->abandoned) break;
    (*ndone)++;
    PetscCall(SlimQueueDone(h->queue, h->tcost[h->order[pos]]));
    PetscCall(Progress(h, PETSC_FALSE));
  }
  PetscCall(SlimPollSet(NULL, NULL, SLIM_POLL_EVERY));
  PetscCall(FlushPending(h));
  if (SlimPollStopRequested()) PetscCall(SlimQueueStop(h->queue));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimHarnessRun(SlimHarness h, PetscBool *complete)
{
  struct sigaction sa;
  PetscLogDouble   t0, t1;
  PetscReal        local;
  PetscInt         ndone = 0, nfail = 0, todo;
  EndCtx           end;

  PetscFunctionBeginUser;
  /* a batch scheduler's SIGTERM (or SIGUSR1 ahead of the time limit): abandon the task in
   * flight, write what is finished, stop every rank */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  PetscCall(SetUpRun(h));
  PetscCall(PrintPlan(h));
  *complete = PETSC_TRUE;
  if (h->dry_run) {
    PetscCall(SlimHarnessPrintEstimate(h));
    PetscFunctionReturn(0);
  }
  todo = h->ntask - h->ndone_before - h->nother;

  PetscCallMPI(MPI_Barrier(h->comm));
  PetscCall(PetscTime(&t0));
  h->tlast_flush = h->tlast_progress = t0;
  if (h->merge[0]) PetscCall(Merge(h, &ndone));
  PetscCall(Work(h, &ndone, &nfail));
  PetscCall(SlimHarnessAgreeWrites(h)); /* before any rank enters a collective call */
  PetscCall(PetscTime(&t1));
  local = t1 - t0;
  PetscCallMPI(MPI_Allreduce(&local, &end.makespan, 1, MPIU_REAL, MPIU_MAX, h->comm));
  PetscCall(Reduce(h, &ndone, &nfail, complete));
  PetscCall(Progress(h, PETSC_TRUE));
  PetscCall(SlimQueueDestroy(&h->queue));
  end.complete = *complete;
  PetscCall(SlimHarnessWriteStep(h, WriteEnd, &end));
  PetscCall(SlimHarnessCloseFile(h));
  h->nfailed += h->nfailed_before;
  PetscCall(PrintEnd(h, ndone, todo, nfail, *complete));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimHarnessGetFailed(SlimHarness h, PetscInt *nfailed)
{
  PetscFunctionBeginUser;
  *nfailed = h->nfailed;
  PetscFunctionReturn(0);
}
