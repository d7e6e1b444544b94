#pragma once
/* Private to the harness and its task kinds (src/harness*.c, src/task_*.c), like PETSc's
 * tsimpl.h: the SlimHarness struct and the task-kind ops table.
 *
 * Data flow: options -> SlimSweep (the plan: points, groups, fit settings) -> task kinds (each
 * turns the plan into numbered tasks with costs) -> SlimQueue (hands tasks out, most expensive
 * first) -> a kind's run (SlimPointRun / SlimFitRun ...) -> its record tables
 * (include/slim/private/record.h) -> SlimOutput (HDF5).
 *
 * A task kind is one file src/task_<kind>.c with a SlimTaskKindCreate_<Kind>() that fills the
 * ops below, and one line in the kind list of src/harness.c. The harness loop knows no kind:
 * the flat task index is decoded in one place (SlimHarnessTaskDecode). */
#include <slim/harness.h>
#include <slim/output.h>
#include <slim/point.h>
#include <slim/queue.h>
#include <slim/private/record.h>
#include <slim/private/sweepimpl.h>
#include <slim/private/fitimpl.h>
#include <slim/private/util.h>
#include <slim/lock.h>
#include <slim/fsutil.h>
#include <slim/poll.h>

typedef struct _n_SlimTaskKind *SlimTaskKind;

/* Why a task failed: the typed outcome every kind reports instead of a coded integer. */
typedef enum {
  SLIM_TASK_OK = 0,
  SLIM_TASK_SOLVE_FAILED, /* the nonlinear solve of a step did not converge (see the row) */
  SLIM_TASK_PETSC_ERROR,  /* a PETSc error was raised inside the task and caught */
  SLIM_TASK_ABANDONED     /* a stop (signal) ended it: nothing written, a resume recomputes it */
} SlimTaskFailureType;

typedef struct {
  SlimTaskFailureType type;
  PetscErrorCode      ierr;     /* SLIM_TASK_PETSC_ERROR: the caught error code */
  char                msg[256]; /* one line: what failed */
} SlimTaskFailure;

typedef struct {
  /* number of tasks of this kind in the sweep (called once, after the sweep is set up) */
  PetscErrorCode (*count)(SlimTaskKind, PetscInt *n);
  /* estimated cost of local task i, in the sweep's cost units (queue order) */
  PetscErrorCode (*cost)(SlimTaskKind, PetscInt i, PetscReal *cost);
  /* the sweep point local task i serves (/tasks/point) */
  PetscErrorCode (*point)(SlimTaskKind, PetscInt i, PetscInt *point);
  /* collective: define (or, resuming, check and open) the kind's tables */
  PetscErrorCode (*definetables)(SlimTaskKind);
  /* rank 0, new files only: columns known before any work (definitions) */
  PetscErrorCode (*writedefinitions)(SlimTaskKind);
  /* what a previous session (or a merge) left, from the kind's status columns: status[i] -1
   * not finished, 0 finished, 1 finished with a failure (the values of /tasks/status) */
  PetscErrorCode (*status)(SlimTaskKind, PetscInt status[]);
  /* runs local task i; never raises for a failure of the task itself, which goes in *fail. A
   * kind that finds SlimPollStopRequested() true after its computation writes and queues
   * nothing for the task and reports SLIM_TASK_ABANDONED (SlimTaskAbandoned()) */
  PetscErrorCode (*run)(SlimTaskKind, PetscInt i, SlimTaskFailure *fail);
  /* writes rows the kind buffered (optional). A task's rows are committed by its status column,
   * written last: by flush if the kind has one, else by its SlimTaskWrite() in run */
  PetscErrorCode (*flush)(SlimTaskKind);
  /* what names task i beyond its sweep point, e.g. ", RK 4" (optional): the harness's line on
   * a failed task is "<kind> <i> (family, r, dt, N, B<this>): <failure>" */
  PetscErrorCode (*describe)(SlimTaskKind, PetscInt i, char extra[], size_t len);
  /* how the plan line counts this kind's tasks, e.g. "108 fit tasks (432 fits)" (optional;
   * default "<n> <kind> tasks") */
  PetscErrorCode (*plan)(SlimTaskKind, char buf[], size_t len);
  PetscErrorCode (*destroy)(SlimTaskKind);
} SlimTaskOps;

struct _n_SlimTaskKind {
  char        name[16]; /* /tasks/kind */
  const char *ref;      /* what /tasks/ref indexes, e.g. "row of /points" (set by the Create) */
  SlimTaskOps ops;
  SlimHarness h;
  PetscInt      n, first; /* tasks of this kind: flat indices [first, first + n) */
  PetscLogStage stage;    /* -log_view stage its runs are counted in (SlimTaskKindSetStage) */
  void       *data;     /* the kind's own state */
};

#define SLIM_TASK_KINDS_MAX 8
/* Longest sweep signature a resumed file may hold. */
#define SLIM_SIGNATURE_MAX 65536

/* finished tasks not yet written to /tasks */
typedef struct {
  PetscInt  task, status;
  PetscReal wall;
} SlimTaskRecord;

struct _n_SlimHarness {
  MPI_Comm    comm;
  PetscMPIInt rank, size;
  SlimSweep   sw;
  /* options */
  char        output[PETSC_MAX_PATH_LEN];
  PetscBool   force, resume, quiet;
  PetscInt    slice, nslices; /* -sweep_slice i/n: this run computes tasks with index % n == i */
  char       *merge;          /* -sweep_merge: part files to combine instead of computing */
  PetscReal   order_floor;    /* -sweep_order_floor: least relative round-off floor of the order fits */
  PetscReal   progress_interval, flush_interval;
  PetscInt    flush_tasks;
  PetscBool   allow_large, dry_run; /* -sweep_allow_large, -sweep_dry_run (resource estimate) */
  /* the task kinds, in flat-index order */
  SlimTaskKind kinds[SLIM_TASK_KINDS_MAX];
  PetscInt     nkinds, ntask;
  PetscReal   *tcost, total_cost;
  PetscInt    *order;
  PetscBool   *done;
  PetscInt     ndone_before, nother; /* finished by earlier sessions; other slices' tasks */
  /* file */
  SlimOutput   out;
  SlimLock     lock;      /* held on -output for the whole run: a second writer is refused */
  SlimReplace  repl;      /* new files are written under a temporary name, renamed when complete */
  PetscInt64   est_bytes, est_mem; /* estimated file size and peak memory per rank */
  PetscErrorCode werr;             /* this rank's first failed write (kept until agreed) */
  char           werr_msg[512];
  PetscBool      abandoned;        /* a stop abandoned this rank's task in flight */
  PetscInt       nfailed_before;   /* tasks recorded as failed by earlier sessions */
  PetscInt       task;             /* the task in flight (flat index), its start, and whether */
  PetscLogDouble ttask;            /* its /tasks accounting is written (SlimTasksWriteRunning) */
  PetscBool      task_acct;
  SlimQueue    queue;
  PetscInt     session;
  void        *orders; /* the /orders table (src/task_orders.c) */
  /* this rank's accounting */
  SlimTaskRecord *trec;
  PetscInt        ntrec;
  PetscInt        fail_task, nfailed;
  char            fail_text[512];
  PetscReal       busy, cost_done;
  PetscInt        ntasks_done;
  PetscLogDouble  tstart, tlast_flush, tlast_progress;
  char            start_time[64];
  PetscLogStage   stage_setup, stage_output;
};

/* The kind list (src/harness.c) and the one place a flat task index is decoded. */
PETSC_EXTERN PetscErrorCode SlimHarnessSetUpKinds(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimHarnessTaskDecode(SlimHarness h, PetscInt task, SlimTaskKind *kind, PetscInt *local);

/* The built-in kinds. */
PETSC_EXTERN PetscErrorCode SlimTaskKindCreate_Point(SlimTaskKind);
PETSC_EXTERN PetscErrorCode SlimTaskKindCreate_Baseline(SlimTaskKind);
PETSC_EXTERN PetscErrorCode SlimTaskKindCreate_Fit(SlimTaskKind);
PETSC_EXTERN PetscErrorCode SlimTaskKindCreate_Landscape(SlimTaskKind);
PETSC_EXTERN PetscErrorCode SlimTaskKindCreate_Train(SlimTaskKind);
/* Reads and checks the training-data options (-train_*) without keeping them: the harness's
 * option pass, so that -help lists them and bad values are refused before any work. */
PETSC_EXTERN PetscErrorCode SlimTaskTrainSetFromOptions(SlimHarness h);

/* Shared by the point and baseline kinds (src/task_result.c): the result record, its buffer
 * of rows awaiting a batched write, and the trajectory datasets. */
typedef struct _n_SlimResultTable *SlimResultTable;
/* Sets k->data up as a result table. table: "points" or "baselines"; def: the kind's
 * definition columns (written once by rank 0); traj: the group of the trajectory datasets;
 * pname: name of their momentum columns. The functions below serve directly as ops. */
PETSC_EXTERN PetscErrorCode SlimResultKindSetUp(SlimTaskKind k, const char table[], const SlimRecordTable *def, const char traj[], const char pname[]);
PETSC_EXTERN PetscErrorCode SlimResultKindDestroy(SlimTaskKind k);
PETSC_EXTERN PetscErrorCode SlimResultKindDefineTables(SlimTaskKind k);
PETSC_EXTERN PetscErrorCode SlimResultKindStatus(SlimTaskKind k, PetscInt status[]);
PETSC_EXTERN PetscErrorCode SlimResultKindFlush(SlimTaskKind k);
/* k->n definition records (rank 0) */
PETSC_EXTERN PetscErrorCode SlimResultKindWriteDefinitions(SlimTaskKind k, const void *defs);
/* Runs one point (rktype NULL) or Runge-Kutta baseline with errors caught, writes its samples
 * and queues its row for the next flush. */
PETSC_EXTERN PetscErrorCode SlimResultKindRun(SlimTaskKind k, PetscInt row, const SlimPoint *p, const char rktype[], SlimTaskFailure *fail);

/* Helpers of the fit and landscape kinds: the fit problem of sweep point `point`; names[idx[i]]
 * (idx NULL: names[i]) joined by commas; an ops.destroy that frees k->data. */
PETSC_EXTERN PetscErrorCode SlimHarnessFitProblem(SlimHarness h, PetscInt point, SlimFitProblem *prob);
PETSC_EXTERN PetscErrorCode SlimJoinNames(PetscInt n, const char *const names[], const PetscInt idx[], char buf[], size_t len);
PETSC_EXTERN PetscErrorCode SlimTaskKindDestroyData(SlimTaskKind k);
/* The kind's log stage, by name: kinds that share a name share the stage. */
PETSC_EXTERN PetscErrorCode SlimTaskKindSetStage(SlimTaskKind k, const char name[]);

/* /fit_obs/<row> of the fit kind (src/task_fitobs.c): trajectory observations, the truth's and
 * the best fit's predicted motion per (point, configuration) of synthetic data. */
typedef struct {
  PetscInt   n, dof, best;  /* samples, dof, index of the best fit (-1: all diverged) */
  PetscReal *t, *x[8];      /* t[n]; [n, dof] series in the order of the datasets (one allocation) */
  PetscReal  theta[SLIM_MAX_PARAM];
} SlimFitObs;
/* samples of the trajectory data of a point with N steps */
PETSC_EXTERN PetscInt       SlimFitObsSamples(SlimFit fit, PetscInt N);
/* collective: the datasets and attributes of row `row` */
PETSC_EXTERN PetscErrorCode SlimFitObsDefine(SlimHarness h, PetscInt row, PetscInt point, PetscInt config);
/* data: the configuration's data (trajectory data are made when it is acceleration data) */
PETSC_EXTERN PetscErrorCode SlimFitObsCompute(SlimFit fit, const SlimFitProblem *prob, SlimFitData data, PetscInt K, const SlimFitResult res[], SlimFitObs *o);
PETSC_EXTERN PetscErrorCode SlimFitObsWrite(SlimOutput out, PetscInt row, const SlimFitObs *o);
PETSC_EXTERN PetscErrorCode SlimFitObsReset(SlimFitObs *o);
/* The results file in a run (src/harness_file.c): estimate and resource check, lock, checked
 * resume, creation under a temporary name, closing and replacement; write failures kept per
 * rank and agreed on by all (SlimHarnessWriteStep wraps a collective step that writes). */
PETSC_EXTERN PetscErrorCode SlimHarnessEstimate(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimHarnessPrintEstimate(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimHarnessOpenFile(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimHarnessCloseFile(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimHarnessKeepWriteFailure(SlimHarness h, PetscErrorCode ierr);
PETSC_EXTERN PetscErrorCode SlimHarnessMergeParts(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimHarnessAgreeWrites(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimHarnessAgree(SlimHarness h, PetscErrorCode code, const char msg[]);
PETSC_EXTERN PetscErrorCode SlimHarnessAgreeError(SlimHarness h, PetscErrorCode ierr);
PETSC_EXTERN PetscErrorCode SlimHarnessWriteStep(SlimHarness h, PetscErrorCode (*fn)(SlimHarness, void *), void *ctx);

/* UTC now as 2026-01-31T12:00:00Z (session times). */
PETSC_EXTERN void SlimNowISO(char buf[], size_t len);

/* The /orders table (src/task_orders.c): groups of points differing only in dt, the asymptotic
 * convergence order of each (SlimOrderEstimate) and /points/order_mark, written by rank 0 at the
 * end of every session. */
PETSC_EXTERN PetscErrorCode SlimOrdersCreate(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimOrdersDestroy(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimOrdersDefine(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimOrdersWrite(SlimHarness h);

/* /sessions/<k> and the provenance attributes on "/" (src/harness_session.c). Collective.
 * Define: the /sessions/<k>/ranks table (at open, so that the end of a run allocates nothing);
 * Begin: provenance and this session's attributes from the start (a killed session is named in
 * /sessions with an empty end_time); Write: the same at the end, with the accounting. */
PETSC_EXTERN PetscErrorCode SlimSessionFind(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimSessionDefine(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimSessionBegin(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimSessionWrite(SlimHarness h, PetscReal makespan, PetscBool complete);
/* The /tasks table (src/harness_session.c). Its accounting follows the kinds' commits (ops.flush,
 * ops.status): a task's wall, rank and session are written before its rows are committed, its
 * /tasks/status after them, so that whatever stops a run in between (a write failure, a kill),
 * the committed tasks have their accounting and a resume or merge completes their status from
 * the kinds' status columns (SlimTasksReconcile, collective). Flush(h, PETSC_FALSE) writes the
 * buffered tasks' wall, rank and session, Flush(h, PETSC_TRUE) their status and empties the
 * buffer; WriteRunning writes the task in flight's before the kind's SlimTaskWrite(). */
PETSC_EXTERN PetscErrorCode SlimTasksDefine(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimTasksWriteDefinitions(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimTasksFlush(SlimHarness h, PetscBool status);
PETSC_EXTERN PetscErrorCode SlimTasksWriteRunning(SlimHarness h);
PETSC_EXTERN PetscErrorCode SlimTasksReconcile(SlimHarness h, const PetscInt status[]);

/* True (and *fail set to SLIM_TASK_ABANDONED) if a stop was requested: the task is abandoned. */
PETSC_EXTERN PetscBool SlimTaskAbandoned(SlimTaskFailure *fail);
/* Sets a typed failure; msg says what failed (a caught PETSc error's message, a solve's reason). */
PETSC_EXTERN void SlimTaskFailureSet(SlimTaskFailure *f, SlimTaskFailureType type, PetscErrorCode ierr, const char msg[]);
/* A caught error ierr (0: nothing) of a task: unless a stop was requested, one stderr line
 * "[rank] <fmt...> failed: <c->msg>"; *fail becomes a PETSc error failure (src/task_common.c). */
PETSC_EXTERN PetscErrorCode SlimTaskCaught(SlimTaskKind k, PetscErrorCode ierr, const SlimCatch *c, SlimTaskFailure *fail, const char fmt[], ...) PETSC_ATTRIBUTE_FORMAT(5, 6);
/* Calls write(k, t, ctx) from inside ops.run with errors caught under the output stage: a
 * failure is kept (SlimHarnessKeepWriteFailure) for the next agreement of all ranks, not raised,
 * and after one nothing more is written (the task is recomputed on resume). For a kind without
 * ops.flush (its write commits the task) the task's /tasks accounting is written first. */
PETSC_EXTERN PetscErrorCode SlimTaskWrite(SlimTaskKind k, PetscErrorCode (*write)(SlimTaskKind, PetscInt, void *), PetscInt t, void *ctx);
