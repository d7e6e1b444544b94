/* What the point and baseline task kinds share (include/slim/private/harnessimpl.h): a row of
 * measurement results (SlimResult) after the kind's own definition columns, rows buffered for
 * batched writes, and one trajectory dataset per row. */
#include <math.h>
#include <slim/private/harnessimpl.h>
#include <slim/log.h>

typedef struct {
  PetscInt   rank, session;
  SlimResult res;
} ResultRow;

#define RREAL(m, name, u, d) SLIM_REC(ResultRow, res.m, SLIM_RECORD_REAL, 1, name, u, d)
#define RINT(m, name, u, d)  SLIM_REC(ResultRow, res.m, SLIM_RECORD_INT, 1, name, u, d)
/* status last: a row whose status is set is complete even if the writer dies mid-batch */
static const SlimRecordColumn ResultCols[] = {
  SLIM_REC(ResultRow, rank, SLIM_RECORD_INT, 1, "rank", "", "MPI rank that computed the row"),
  SLIM_REC(ResultRow, session, SLIM_RECORD_INT, 1, "session", "", "run that computed the row: 0 the first, k the k-th -sweep_resume (see /sessions/<k>)"),
  RINT(fail_reason, "fail_reason", "", "SNES converged reason of the first failure (negative), 0 if none"),
  RINT(fail_step, "fail_step", "", "step index of the first failure, -1 if none"),
  RINT(fail_traj, "fail_trajectory", "", "ensemble member of the first failure, -1 if none"),
  RINT(nfailed, "n_failed", "", "ensemble members whose solve failed"),
  RREAL(t_setup, "t_setup", "s", "setup time: objects, options, solver construction"),
  RREAL(t_min, "t_min", "s", "integration time of N steps, fastest timed repeat"),
  RREAL(t_median, "t_median", "s", "integration time of N steps, median of the timed repeats"),
  RREAL(t_max, "t_max", "s", "integration time of N steps, slowest timed repeat"),
  RREAL(ns_per_step, "ns_per_step", "ns", "t_min / N"),
  RREAL(ns_per_traj_step, "ns_per_traj_step", "ns", "t_min / (N B): cost of one trajectory-step"),
  RINT(steps, "steps", "", "steps taken in the measurement run"),
  RINT(newton_total, "newton_total", "", "Newton iterations summed over the steps of the measurement run"),
  RINT(newton_max, "newton_max", "", "most Newton iterations in one step"),
  RINT(linear_total, "linear_total", "", "linear (KSP) iterations summed over the measurement run"),
  RREAL(newton_per_step, "newton_per_step", "", "newton_total / steps"),
  RREAL(solve_residual, "solve_residual", "units of q", "sum over the steps of trajectory 0 (and of its reference run) of |R|/M |Z| at the accepted Newton iterate (M: the residual's scale, Z: the increments): what the step solves left, in units of q (behind /points/err_floor; NaN for baselines)"),
  SLIM_REC(ResultRow, res.error_kind, SLIM_RECORD_ENUM, 1, "error_kind", "", "what errors are measured against: 0 none, 1 exact solution, 2 reference run (dt/ref_dt_factor, r+ref_r_extra)"),
  RREAL(err_q_final, "err_q_final", "units of q", "max-norm error in q at the final time"),
  RREAL(err_q_max, "err_q_max", "units of q", "max over the run of the max-norm error in q"),
  RREAL(err_E_final, "err_E_final", "", "fractional energy error |E - E_ref|/|E_ref| at the final time"),
  RREAL(err_E_max, "err_E_max", "", "max over the run of the fractional energy error"),
  RREAL(wall, "wall", "s", "wall time spent on the task, everything included"),
  RINT(status, "status", "", "-1 not computed yet, 0 finished, 1 failed (see fail_*)"),
};
static const SlimRecordTable ResultTable = SLIM_RECORD_TABLE(NULL, ResultCols, ResultRow);

struct _n_SlimResultTable {
  SlimTaskKind           k;
  char                   table[32], traj[64], pname[8];
  const SlimRecordTable *def;
  ResultRow             *pend; /* rows awaiting the next flush, grown as needed */
  PetscInt              *rows, npend, maxpend;
};

PetscErrorCode SlimResultKindSetUp(SlimTaskKind k, const char table[], const SlimRecordTable *def, const char traj[], const char pname[])
{
  SlimResultTable *rt = (SlimResultTable *)&k->data;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(rt));
  (*rt)->k   = k;
  (*rt)->def = def;
  PetscCall(PetscStrncpy((*rt)->table, table, sizeof((*rt)->table)));
  PetscCall(PetscStrncpy((*rt)->traj, traj, sizeof((*rt)->traj)));
  PetscCall(PetscStrncpy((*rt)->pname, pname, sizeof((*rt)->pname)));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimResultKindDestroy(SlimTaskKind k)
{
  SlimResultTable rt = (SlimResultTable)k->data;

  PetscFunctionBeginUser;
  if (!rt) PetscFunctionReturn(0);
  PetscCall(PetscFree2(rt->pend, rt->rows));
  PetscCall(PetscFree(k->data));
  PetscFunctionReturn(0);
}

static PetscErrorCode TrajectoryPath(SlimResultTable rt, PetscInt row, char path[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, len, "%s/%" PetscInt_FMT, rt->traj, row));
  PetscFunctionReturn(0);
}

/* One 2-D dataset per trajectory, [samples, columns] with the column names in its description:
 * five datasets per row would multiply the collective creations that dominate file setup. */
static PetscErrorCode TrajectoryColumns(SlimResultTable rt, PetscInt d, char cols[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(cols, "columns: t", len));
  for (int k = 0; k < 2; k++)
    for (PetscInt a = 0; a < d; a++) {
      char c[32];
      PetscCall(PetscSNPrintf(c, sizeof(c), ", %s%" PetscInt_FMT, k ? rt->pname : "q", a));
      PetscCall(PetscStrlcat(cols, c, len));
    }
  PetscCall(PetscStrlcat(cols, ", energy, energy_error", len));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimResultKindDefineTables(SlimTaskKind k)
{
  SlimResultTable              rt  = (SlimResultTable)k->data;
  PetscInt                     nrows = k->n;
  SlimHarness                  h   = k->h;
  SlimSweep                    sw  = h->sw;
  const SlimRecordTable *const t[] = {rt->def, &ResultTable};
  char                         path[256], cols[512];

  PetscFunctionBeginUser;
  if (!nrows) PetscFunctionReturn(0); /* e.g. no baselines: no table */
  PetscCall(SlimRecordDefine(h->out, rt->table, 2, t, NULL, nrows));
  if (!sw->traj_stride) PetscFunctionReturn(0);
  for (PetscInt row = 0; row < nrows; row++) {
    PetscInt   pi;
    PetscCall(rt->k->ops.point(rt->k, row, &pi));
    SlimPoint *p       = &sw->points[pi];
    PetscInt   d       = sw->fam[p->family]->dof;
    PetscInt   dims[2] = {p->N / sw->traj_stride + 1, 3 + 2 * d};
    PetscCall(TrajectoryPath(rt, row, path, sizeof(path)));
    PetscCall(TrajectoryColumns(rt, d, cols, sizeof(cols)));
    PetscCall(SlimOutputDefineArray(h->out, path, 2, dims, NULL, cols));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimResultKindWriteDefinitions(SlimTaskKind k, const void *defs)
{
  SlimResultTable rt = (SlimResultTable)k->data;
  PetscInt        n  = k->n, *rows;
  PetscErrorCode  ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(n, &rows));
  for (PetscInt i = 0; i < n; i++) rows[i] = i;
  ierr = SlimRecordWrite(rt->k->h->out, rt->table, rt->def, NULL, 0, -1, n, rows, defs);
  PetscCall(PetscFree(rows));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimResultKindStatus(SlimTaskKind k, PetscInt status[])
{
  SlimResultTable rt = (SlimResultTable)k->data;
  PetscInt64     *st;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(rt->k->n, &st));
  PetscCall(SlimOutputReadColumn(rt->k->h->out, rt->table, "status", st));
  for (PetscInt i = 0; i < rt->k->n; i++) status[i] = (PetscInt)PetscMin(st[i], 1);
  PetscCall(PetscFree(st));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimResultKindFlush(SlimTaskKind k)
{
  SlimResultTable rt = (SlimResultTable)k->data;

  PetscFunctionBeginUser;
  PetscCall(SlimRecordWrite(rt->k->h->out, rt->table, &ResultTable, NULL, 0, -1, rt->npend, rt->rows, rt->pend));
  rt->npend = 0;
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteSamples(SlimTaskKind k, PetscInt row, void *ctx)
{
  SlimResultTable    rt = (SlimResultTable)k->data;
  const SlimSamples *s  = (const SlimSamples *)ctx;
  char               path[256];
  PetscReal         *a;
  PetscInt           d = s->dof, nc = 3 + 2 * d;
  PetscErrorCode     ierr;

  PetscFunctionBeginUser;
  if (s->stride <= 0) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1(s->n * nc, &a));
  for (PetscInt i = 0; i < s->n; i++) {
    PetscReal *r = a + i * nc;
    r[0]         = s->t[i];
    for (PetscInt k = 0; k < d; k++) r[1 + k] = s->q[i * d + k], r[1 + d + k] = s->p[i * d + k];
    r[1 + 2 * d] = s->energy[i];
    r[2 + 2 * d] = s->energy_error[i];
  }
  PetscCall(TrajectoryPath(rt, row, path, sizeof(path)));
  ierr = SlimOutputWriteArray(rt->k->h->out, path, a);
  PetscCall(PetscFree(a)); /* also after a failed write: the harness goes on */
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* A free slot in the buffer of rows awaiting the flush (grown: no fixed batch size). */
static PetscErrorCode NextRow(SlimResultTable rt, PetscInt row, ResultRow **r)
{
  PetscFunctionBeginUser;
  if (rt->npend == rt->maxpend) {
    ResultRow *p;
    PetscInt  *rows, max = PetscMax(16, 2 * rt->maxpend);
    PetscCall(PetscMalloc2(max, &p, max, &rows));
    PetscCall(PetscArraycpy(p, rt->pend, rt->npend));
    PetscCall(PetscArraycpy(rows, rt->rows, rt->npend));
    PetscCall(PetscFree2(rt->pend, rt->rows));
    rt->pend = p, rt->rows = rows, rt->maxpend = max;
  }
  rt->rows[rt->npend] = row;
  *r                  = &rt->pend[rt->npend++];
  PetscCall(PetscMemzero(*r, sizeof(**r)));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimResultKindRun(SlimTaskKind k, PetscInt row, const SlimPoint *p, const char rktype[], SlimTaskFailure *fail)
{
  SlimResultTable rt = (SlimResultTable)k->data;
  SlimHarness    h  = k->h;
  SlimSweep      sw = h->sw;
  SlimSamples    s;
  SlimCatch      c;
  ResultRow     *r = NULL;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(NextRow(rt, row, &r));
  r->rank    = h->rank;
  r->session = h->session;
  PetscCall(SlimSamplesCreate(p->N, sw->traj_stride, sw->fam[p->family]->dof, &s));
  PetscCall(PetscLogStagePush(k->stage));
  /* an error inside one task (e.g. a momentum that cannot be inverted) fails that task only */
  SlimCatchBegin(&c);
  ierr = rktype ? SlimBaselineRun(sw, p, rktype, &r->res, &s) : SlimPointRun(sw, p, &r->res, &s);
  SlimCatchEnd(&c);
  PetscCall(PetscLogStagePop());
  if (SlimTaskAbandoned(fail)) rt->npend--; /* the row queued last: a resume recomputes it */
  else if (ierr) {
    PetscCall(SlimTaskCaught(k, ierr, &c, fail, "task %" PetscInt_FMT, rt->k->first + row));
    SlimRecordFill(&ResultTable, NULL, r);
    r->rank = h->rank, r->session = h->session;
    r->res.status = 1, r->res.fail_reason = 0, r->res.nfailed = 0;
  } else if (r->res.status) {
    char why[160];
    PetscCall(PetscSNPrintf(why, sizeof(why), "%s at step %" PetscInt_FMT " of trajectory %" PetscInt_FMT, SNESConvergedReasons[r->res.fail_reason], r->res.fail_step, r->res.fail_traj));
    SlimTaskFailureSet(fail, SLIM_TASK_SOLVE_FAILED, 0, why);
  } else PetscCall(SlimTaskWrite(k, WriteSamples, row, &s));
  PetscCall(SlimSamplesDestroy(&s));
  PetscFunctionReturn(0);
}
