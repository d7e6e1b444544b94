/* The harness's own tables (include/slim/private/harnessimpl.h): /tasks (every unit of work:
 * kind, estimated cost, measured time, who ran it) and /sessions/<k> (per-rank accounting of
 * one run), and the provenance attributes on "/". */
#include <string.h>
#include <petsctime.h>
#include <slim/private/harnessimpl.h>
#include "slim_revision.h" /* SLIM_GIT_REVISION, generated at build time */

typedef struct {
  const char *kind;
  PetscInt    ref, point;
  PetscReal   cost, wall;
  PetscInt    rank, session, status;
} TaskRow;
#define TASK_NDEF   4 /* kind, ref, point, cost: known before any work */
#define TASK_STATUS 7 /* the last column: written after the task's rows are committed */

/* The descriptions of kind and ref name the kinds: SlimTasksDefine() makes them from the kind
 * list (KindDescriptions), so that a new kind cannot make them stale. */
static const SlimRecordColumn TaskCols[] = {
  SLIM_REC(TaskRow, kind, SLIM_RECORD_STRPTR, 16, "kind", "", NULL),
  SLIM_REC(TaskRow, ref, SLIM_RECORD_INT, 1, "ref", "", NULL),
  SLIM_REC(TaskRow, point, SLIM_RECORD_INT, 1, "point", "", "sweep point the task belongs to"),
  SLIM_REC(TaskRow, cost, SLIM_RECORD_REAL, 1, "cost", "", "estimated cost: tasks are handed out in decreasing cost"),
  SLIM_REC(TaskRow, wall, SLIM_RECORD_REAL, 1, "wall", "s", "measured wall time of the task"),
  SLIM_REC(TaskRow, rank, SLIM_RECORD_INT, 1, "rank", "", "MPI rank that ran it"),
  SLIM_REC(TaskRow, session, SLIM_RECORD_INT, 1, "session", "", "run that ran it (see /sessions/<k>)"),
  SLIM_REC(TaskRow, status, SLIM_RECORD_INT, 1, "status", "", "-1 not run yet, 0 finished, 1 finished with a failure (as the status of the task's row in its own table)"),
};
static const SlimRecordTable TaskTable = SLIM_RECORD_TABLE("every unit of work the ranks were handed: its estimated cost and measured time", TaskCols, TaskRow);

typedef struct {
  PetscInt   rank;
  char       host[64];
  PetscReal  busy, idle;
  PetscInt64 tasks;
  PetscReal  cost;
} RankRow;

static const SlimRecordColumn RankCols[] = {
  SLIM_REC(RankRow, rank, SLIM_RECORD_INT, 1, "rank", "", "MPI rank"),
  SLIM_REC(RankRow, host, SLIM_RECORD_STRING, 64, "host", "", "host name"),
  SLIM_REC(RankRow, busy, SLIM_RECORD_REAL, 1, "busy", "s", "time spent computing tasks"),
  SLIM_REC(RankRow, idle, SLIM_RECORD_REAL, 1, "idle", "s", "makespan minus busy: waiting for the slowest rank, I/O"),
  SLIM_REC(RankRow, tasks, SLIM_RECORD_INT64, 1, "tasks", "", "tasks computed"),
  SLIM_REC(RankRow, cost, SLIM_RECORD_REAL, 1, "cost", "", "estimated cost of the tasks computed"),
};
static const SlimRecordTable RankTable = SLIM_RECORD_TABLE("per-rank accounting of this run", RankCols, RankRow);

/* "task kind: point, baseline or fit" and "index of the task in its kind: point: row of
 * /points; ...", from the kinds of h. */
static PetscErrorCode KindDescriptions(SlimHarness h, char kinds[], char refs[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(kinds, "task kind: ", len));
  PetscCall(PetscStrncpy(refs, "index of the task in its kind: ", len));
  for (PetscInt k = 0; k < h->nkinds; k++) {
    SlimTaskKind kind = h->kinds[k];
    PetscCheck(kind->ref, PETSC_COMM_SELF, PETSC_ERR_PLIB, "task kind %s does not say what /tasks/ref indexes", kind->name);
    if (k) PetscCall(PetscStrlcat(kinds, k + 1 < h->nkinds ? ", " : " or ", len));
    PetscCall(PetscStrlcat(kinds, kind->name, len));
    if (k) PetscCall(PetscStrlcat(refs, "; ", len));
    PetscCall(PetscStrlcat(refs, kind->name, len));
    PetscCall(PetscStrlcat(refs, ": ", len));
    PetscCall(PetscStrlcat(refs, kind->ref, len));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimTasksDefine(SlimHarness h)
{
  SlimRecordColumn             cols[sizeof(TaskCols) / sizeof(TaskCols[0])];
  SlimRecordTable              table = TaskTable;
  const SlimRecordTable *const t[]   = {&table};
  char                         kinds[1024], refs[1024];

  PetscFunctionBeginUser;
  PetscCall(KindDescriptions(h, kinds, refs, sizeof(kinds)));
  PetscCall(PetscArraycpy(cols, TaskCols, table.ncol));
  cols[0].desc = kinds, cols[1].desc = refs;
  table.cols   = cols;
  PetscCall(SlimRecordDefine(h->out, "tasks", 1, t, NULL, h->ntask));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimTasksWriteDefinitions(SlimHarness h)
{
  TaskRow       *t;
  PetscInt      *rows;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(h->ntask, &t, h->ntask, &rows));
  for (PetscInt i = 0; i < h->ntask; i++) {
    SlimTaskKind kind;
    PetscInt     local, point;
    PetscCall(SlimHarnessTaskDecode(h, i, &kind, &local));
    PetscCall(kind->ops.point(kind, local, &point));
    rows[i] = i;
    t[i]    = (TaskRow){kind->name, local, point, h->tcost[i], 0, 0, 0, 0};
  }
  ierr = SlimRecordWrite(h->out, "tasks", &TaskTable, NULL, 0, TASK_NDEF, h->ntask, rows, t);
  PetscCall(PetscFree2(t, rows));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* The accounting of the finished tasks this rank buffered: wall, rank and session before the
 * kinds commit the tasks' rows, status after (SlimTasksFlush(h, PETSC_TRUE) empties the buffer). */
PetscErrorCode SlimTasksFlush(SlimHarness h, PetscBool status)
{
  TaskRow       *t;
  PetscInt      *rows;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(h->ntrec, &t, h->ntrec, &rows));
  for (PetscInt k = 0; k < h->ntrec; k++) {
    rows[k] = h->trec[k].task;
    t[k]    = (TaskRow){NULL, 0, 0, 0, h->trec[k].wall, h->rank, h->session, h->trec[k].status ? 1 : 0};
  }
  ierr = SlimRecordWrite(h->out, "tasks", &TaskTable, NULL, status ? TASK_STATUS : TASK_NDEF, status ? -1 : TASK_STATUS, h->ntrec, rows, t);
  PetscCall(PetscFree2(t, rows)); /* also after a failed write: the harness goes on */
  PetscCall(ierr);
  if (status) h->ntrec = 0;
  PetscFunctionReturn(0);
}

/* Wall (so far), rank and session of the task in flight, once, before a kind without ops.flush
 * commits its rows from its run: whatever stops the run after the commit, the task keeps them
 * (its status follows with the next flush, or from the resume's SlimTasksReconcile). */
PetscErrorCode SlimTasksWriteRunning(SlimHarness h)
{
  PetscLogDouble now;
  TaskRow        t;

  PetscFunctionBeginUser;
  if (h->task_acct || h->task < 0) PetscFunctionReturn(0);
  PetscCall(PetscTime(&now));
  t = (TaskRow){NULL, 0, 0, 0, now - h->ttask, h->rank, h->session, -1};
  PetscCall(SlimRecordWrite(h->out, "tasks", &TaskTable, NULL, TASK_NDEF, TASK_STATUS, 1, &h->task, &t));
  h->task_acct = PETSC_TRUE;
  PetscFunctionReturn(0);
}

typedef struct {
  PetscInt  n, *rows;
  TaskRow  *t;
} StatusRows;

/* Rank 0 alone (independent writes). */
static PetscErrorCode WriteStatusRows(SlimHarness h, void *ctx)
{
  StatusRows *c = (StatusRows *)ctx;

  PetscFunctionBeginUser;
  if (!h->rank) PetscCall(SlimRecordWrite(h->out, "tasks", &TaskTable, NULL, TASK_STATUS, -1, c->n, c->rows, c->t));
  PetscFunctionReturn(0);
}

/* Resume and merge, collective: tasks whose rows the kinds committed (status[] from ops.status)
 * but whose /tasks/status was not written (a write failure or a kill came between) get it from
 * the kinds' status; their wall, rank and session were written before the commit. */
PetscErrorCode SlimTasksReconcile(SlimHarness h, const PetscInt status[])
{
  PetscInt64    *st;
  StatusRows     c = {0, NULL, NULL};
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc3(h->ntask, &st, h->ntask, &c.rows, h->ntask, &c.t));
  PetscCall(SlimOutputReadColumn(h->out, "tasks", "status", st));
  for (PetscInt i = 0; i < h->ntask; i++)
    if (status[i] >= 0 && st[i] != status[i]) {
      c.rows[c.n] = i;
      c.t[c.n++]  = (TaskRow){NULL, 0, 0, 0, 0, 0, 0, status[i]};
    }
  ierr = SlimHarnessWriteStep(h, WriteStatusRows, &c); /* raises on every rank if one failed */
  PetscCall(PetscFree3(st, c.rows, c.t));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* A resumed file: this run is the first session without a /sessions/<k>/ranks table (defined
 * when a session starts, so a killed session keeps its number). */
PetscErrorCode SlimSessionFind(SlimHarness h)
{
  PetscBool exists;

  PetscFunctionBeginUser;
  for (h->session = 1;; h->session++) {
    char path[64];
    PetscCall(PetscSNPrintf(path, sizeof(path), "sessions/%" PetscInt_FMT "/ranks", h->session));
    PetscCall(SlimOutputTableExists(h->out, path, &exists));
    if (!exists) break;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode SessionPaths(SlimHarness h, char grp[], char tab[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(grp, 64, "sessions/%" PetscInt_FMT, h->session));
  PetscCall(PetscSNPrintf(tab, 80, "%s/ranks", grp));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimSessionDefine(SlimHarness h)
{
  char                         grp[64], tab[80];
  const SlimRecordTable *const t[] = {&RankTable};

  PetscFunctionBeginUser;
  PetscCall(SessionPaths(h, grp, tab));
  PetscCall(SlimRecordDefine(h->out, tab, 1, t, NULL, h->size));
  PetscFunctionReturn(0);
}

/* Every rank's host name, 64 bytes each, on every rank. */
static PetscErrorCode GatherHosts(SlimHarness h, char hosts[])
{
  char host[MPI_MAX_PROCESSOR_NAME] = "", mine[64] = "";
  int  hl;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Get_processor_name(host, &hl));
  PetscCall(PetscStrncpy(mine, host, sizeof(mine)));
  PetscCallMPI(MPI_Allgather(mine, 64, MPI_CHAR, hosts, 64, MPI_CHAR, h->comm));
  PetscFunctionReturn(0);
}

/* /sessions/<k>/ranks: every rank's host, busy and idle time, tasks and their cost. */
static PetscErrorCode WriteRanks(SlimHarness h, const char tab[], PetscReal makespan, char hosts[])
{
  PetscInt64                   nt = h->ntasks_done;
  RankRow                     *r;
  PetscReal                   *busy, *cost;
  PetscInt64                  *tasks;
  PetscInt                    *rows;
  const SlimRecordTable *const t[] = {&RankTable};
  PetscErrorCode               ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc5(h->size, &r, h->size, &busy, h->size, &cost, h->size, &tasks, h->size, &rows));
  PetscCall(GatherHosts(h, hosts));
  PetscCallMPI(MPI_Allgather(&h->busy, 1, MPIU_REAL, busy, 1, MPIU_REAL, h->comm));
  PetscCallMPI(MPI_Allgather(&nt, 1, MPIU_INT64, tasks, 1, MPIU_INT64, h->comm));
  PetscCallMPI(MPI_Allgather(&h->cost_done, 1, MPIU_REAL, cost, 1, MPIU_REAL, h->comm));
  PetscCall(SlimRecordDefine(h->out, tab, 1, t, NULL, h->size)); /* defined at the start: a check */
  for (PetscMPIInt i = 0; i < h->size; i++) {
    rows[i] = i;
    r[i]    = (RankRow){i, "", busy[i], makespan - busy[i], tasks[i], cost[i]};
    PetscCall(PetscStrncpy(r[i].host, hosts + 64 * i, sizeof(r[i].host)));
  }
  if (!h->rank) ierr = SlimRecordWrite(h->out, tab, &RankTable, NULL, 0, -1, h->size, rows, r);
  PetscCall(PetscFree5(r, busy, cost, tasks, rows));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

static PetscErrorCode SetAttrInt(SlimHarness h, const char obj[], const char name[], PetscInt64 v)
{
  PetscFunctionBeginUser;
  PetscCall(SlimOutputSetAttrInt(h->out, obj, name, 1, &v));
  PetscFunctionReturn(0);
}

/* Attributes of /sessions/<k>; the slice and options also go on "/". */
static PetscErrorCode WriteSessionAttrs(SlimHarness h, const char grp[], const char end[], PetscReal makespan, PetscBool complete)
{
  char *opts;

  PetscFunctionBeginUser;
  PetscCall(SlimOutputSetAttrString(h->out, grp, "start_time", h->start_time));
  PetscCall(SlimOutputSetAttrString(h->out, grp, "end_time", end));
  PetscCall(SlimOutputSetAttrReal(h->out, grp, "makespan", 1, &makespan));
  PetscCall(SetAttrInt(h, grp, "nranks", h->size));
  PetscCall(SetAttrInt(h, grp, "tasks_done_before", h->ndone_before));
  PetscCall(SetAttrInt(h, grp, "complete", complete));
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
  PetscFunctionReturn(0);
}

/* Provenance of the latest session on the root. */
static PetscErrorCode WriteProvenance(SlimHarness h, const char end[], const char hosts[], PetscBool complete)
{
  char  buf[1024], mpiv[MPI_MAX_LIBRARY_VERSION_STRING], *nl, *list;
  int   len;

  PetscFunctionBeginUser;
  PetscCall(SlimOutputSetAttrString(h->out, "/", "program", "slimsweep"));
  PetscCall(SlimOutputSetAttrString(h->out, "/", "version", SLIM_VERSION));
  PetscCall(SlimOutputSetAttrString(h->out, "/", "git_revision", SLIM_GIT_REVISION));
  PetscCall(PetscGetVersion(buf, sizeof(buf)));
  PetscCall(SlimOutputSetAttrString(h->out, "/", "petsc_version", buf));
  PetscCallMPI(MPI_Get_library_version(mpiv, &len));
  if ((nl = strchr(mpiv, '\n'))) *nl = 0;
  PetscCall(SlimOutputSetAttrString(h->out, "/", "mpi_version", mpiv));
  PetscCall(SlimOutputGetLibraryVersion(buf, sizeof(buf)));
  PetscCall(SlimOutputSetAttrString(h->out, "/", "hdf5_version", buf));
  PetscCall(SetAttrInt(h, "/", "nranks", h->size));
  PetscCall(PetscCalloc1(h->size * 65 + 1, &list));
  for (PetscMPIInt r = 0; r < h->size; r++) {
    PetscCall(PetscStrlcat(list, hosts + 64 * r, h->size * 65 + 1));
    if (r + 1 < h->size) PetscCall(PetscStrlcat(list, ",", h->size * 65 + 1));
  }
  PetscCall(SlimOutputSetAttrString(h->out, "/", "hostnames", list));
  PetscCall(PetscFree(list));
  if (!h->session) PetscCall(SlimOutputSetAttrString(h->out, "/", "start_time", h->start_time));
  PetscCall(SlimOutputSetAttrString(h->out, "/", "end_time", end));
  PetscCall(SetAttrInt(h, "/", "sessions", h->session + 1));
  PetscCall(SetAttrInt(h, "/", "complete", complete));
  PetscFunctionReturn(0);
}

/* The provenance and this session's attributes as the session starts, so that a file or a
 * resume killed before its end still says what wrote it: end_time "" and complete 0 mark a
 * session that did not end in order. */
PetscErrorCode SlimSessionBegin(SlimHarness h)
{
  char grp[64], tab[80], *hosts;

  PetscFunctionBeginUser;
  PetscCall(SessionPaths(h, grp, tab));
  PetscCall(PetscMalloc1(h->size * 64, &hosts));
  PetscCall(GatherHosts(h, hosts));
  PetscCall(WriteSessionAttrs(h, grp, "", 0, PETSC_FALSE));
  PetscCall(WriteProvenance(h, "", hosts, PETSC_FALSE));
  PetscCall(PetscFree(hosts));
  PetscFunctionReturn(0);
}

typedef struct {
  const char *tab;
  PetscReal   makespan;
  char       *hosts;
} RanksCtx;

static PetscErrorCode WriteRanksStep(SlimHarness h, void *ctx)
{
  RanksCtx *c = (RanksCtx *)ctx;

  PetscFunctionBeginUser;
  PetscCall(WriteRanks(h, c->tab, c->makespan, c->hosts));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimSessionWrite(SlimHarness h, PetscReal makespan, PetscBool complete)
{
  char     grp[64], tab[80], end[64], *hosts;
  RanksCtx rc = {tab, makespan, NULL};

  PetscFunctionBeginUser;
  PetscCall(PetscLogStagePush(h->stage_output));
  PetscCall(SessionPaths(h, grp, tab));
  PetscCall(PetscMalloc1(h->size * 64, &hosts));
  rc.hosts = hosts;
  /* rank 0's rows are agreed on before the collective attribute writes */
  PetscCall(SlimHarnessWriteStep(h, WriteRanksStep, &rc));
  SlimNowISO(end, sizeof(end));
  PetscCall(WriteSessionAttrs(h, grp, end, makespan, complete));
  PetscCall(WriteProvenance(h, end, hosts, complete));
  PetscCall(PetscFree(hosts));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}
