/* The /orders table (include/slim/private/harnessimpl.h): points that differ only in dt (and in
 * N when the sweep fixes T) form a group; rank 0 estimates the asymptotic convergence order of
 * each group from the finished points at the end of every session (SlimOrderEstimate,
 * include/slim/order.h) and marks each point's part in it (/points/order_mark). */
#include <math.h>
#include <string.h>
#include <slim/order.h>
#include <slim/stepper.h>
#include <slim/private/harnessimpl.h>

typedef struct {
  char        family[SLIM_NAME_LEN];
  PetscInt    r, N;
  PetscReal   T, sigma;
  PetscInt    B;
  const char *solver;
  PetscInt    n_dt;
  PetscReal   order, order_finest, order_lsq, expected, dt_min, dt_max;
  PetscInt    n_used;
  PetscReal   dt_used_min, dt_used_max, slope_min, slope_max;
  char        points[256];
} OrderRow;

static const SlimRecordColumn OrderCols[] = {
  SLIM_REC(OrderRow, family, SLIM_RECORD_STRING, SLIM_NAME_LEN, "family", "", "Lagrangian family"),
  SLIM_REC(OrderRow, r, SLIM_RECORD_INT, 1, "r", "", "interior GGL points"),
  SLIM_REC(OrderRow, N, SLIM_RECORD_INT, 1, "N", "", "steps (-1 when the sweep fixes T instead)"),
  SLIM_REC(OrderRow, T, SLIM_RECORD_REAL, 1, "T", "time", "final time (NaN when the sweep fixes N)"),
  SLIM_REC(OrderRow, sigma, SLIM_RECORD_REAL, 1, "sigma", "", "noise level of the points"),
  SLIM_REC(OrderRow, B, SLIM_RECORD_INT, 1, "B", "", "ensemble size"),
  SLIM_REC(OrderRow, solver, SLIM_RECORD_STRPTR, 16, "solver", "", "step solver"),
  SLIM_REC(OrderRow, n_dt, SLIM_RECORD_INT, 1, "n_dt", "", "points with a usable error: finished, finite, above the round-off floor /points/err_floor"),
  SLIM_REC(OrderRow, order, SLIM_RECORD_REAL, 1, "order", "", "asymptotic order: least-squares slope of log err_q_final vs log dt over the finest run of dt whose pair slopes agree (include/slim/order.h)"),
  SLIM_REC(OrderRow, order_finest, SLIM_RECORD_REAL, 1, "order_finest", "", "slope of the finest pair of dt in the asymptotic run"),
  SLIM_REC(OrderRow, order_lsq, SLIM_RECORD_REAL, 1, "order_lsq", "", "least-squares slope over every usable point (mixes pre-asymptotic and round-off regimes)"),
  SLIM_REC(OrderRow, expected, SLIM_RECORD_REAL, 1, "expected", "", "2r+2, the theoretical order"),
  SLIM_REC(OrderRow, dt_min, SLIM_RECORD_REAL, 1, "dt_min", "time", "smallest dt with a usable error"),
  SLIM_REC(OrderRow, dt_max, SLIM_RECORD_REAL, 1, "dt_max", "time", "largest dt with a usable error"),
  SLIM_REC(OrderRow, n_used, SLIM_RECORD_INT, 1, "n_used", "", "points in the asymptotic fit (/points/order_mark 0)"),
  SLIM_REC(OrderRow, dt_used_min, SLIM_RECORD_REAL, 1, "dt_used_min", "time", "smallest dt in the asymptotic fit"),
  SLIM_REC(OrderRow, dt_used_max, SLIM_RECORD_REAL, 1, "dt_used_max", "time", "largest dt in the asymptotic fit"),
  SLIM_REC(OrderRow, slope_min, SLIM_RECORD_REAL, 1, "slope_min", "", "smallest consecutive-pair slope inside the asymptotic run"),
  SLIM_REC(OrderRow, slope_max, SLIM_RECORD_REAL, 1, "slope_max", "", "largest consecutive-pair slope inside the asymptotic run"),
  SLIM_REC(OrderRow, points, SLIM_RECORD_STRING, 256, "points", "", "indices of the points in the group, comma separated"),
};
static const SlimRecordTable OrderTable = SLIM_RECORD_TABLE("observed convergence order of points differing only in dt", OrderCols, OrderRow);

/* Relative tolerance on T = N dt when deciding that two points share their final time. */
#define SLIM_ORDER_T_RTOL 1e-9

typedef struct {
  PetscInt     norder;
  PetscInt    *group_of_point; /* order group of each point, -1: in none */
} Orders;

static PetscBool SameGroup(SlimSweep sw, const SlimPoint *q, const SlimPoint *p)
{
  if (q->family != p->family || q->r != p->r || q->sigma != p->sigma || q->B != p->B || q->solver != p->solver) return PETSC_FALSE;
  if (sw->nT) return (PetscBool)(fabs(q->N * q->dt - p->N * p->dt) <= SLIM_ORDER_T_RTOL * q->N * q->dt);
  return (PetscBool)(q->N == p->N);
}

/* Groups of points that differ only in dt; only groups with two or more dt make an order. */
PetscErrorCode SlimOrdersCreate(SlimHarness h)
{
  SlimSweep sw = h->sw;
  Orders   *o;
  PetscInt *rep, *count, *map, ng = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&o));
  PetscCall(PetscMalloc1(sw->npoints, &o->group_of_point));
  PetscCall(PetscMalloc3(sw->npoints, &rep, sw->npoints, &count, sw->npoints, &map));
  for (PetscInt i = 0; i < sw->npoints; i++) {
    PetscInt g = -1;
    for (PetscInt k = 0; k < ng && g < 0; k++)
      if (SameGroup(sw, &sw->points[rep[k]], &sw->points[i])) g = k;
    if (g < 0) g = ng++, rep[g] = i, count[g] = 0;
    count[g]++;
    o->group_of_point[i] = g;
  }
  for (PetscInt g = 0; g < ng; g++) map[g] = count[g] >= 2 ? o->norder++ : -1;
  for (PetscInt i = 0; i < sw->npoints; i++) o->group_of_point[i] = map[o->group_of_point[i]];
  PetscCall(PetscFree3(rep, count, map));
  h->orders = o;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOrdersDestroy(SlimHarness h)
{
  Orders *o = (Orders *)h->orders;

  PetscFunctionBeginUser;
  if (!o) PetscFunctionReturn(0);
  PetscCall(PetscFree(o->group_of_point));
  PetscCall(PetscFree(h->orders));
  PetscFunctionReturn(0);
}

/* /points/order_mark: each point's part in its group's order (SlimOrderMark, -1: in no group);
 * /points/err_floor: the error at or below which the point is round-off */
typedef struct {
  PetscInt  order_mark;
  PetscReal err_floor;
} MarkRow;
static const SlimRecordColumn MarkCols[] = {
  SLIM_REC(MarkRow, order_mark, SLIM_RECORD_INT, 1, "order_mark", "", "part in the /orders fit: -1 in no order group, 0 used, 1 failed, 2 round-off (err_q_final <= err_floor, or finer than the asymptotic run), 3 pre-asymptotic, 4 too few usable points"),
  SLIM_REC(MarkRow, err_floor, SLIM_RECORD_REAL, 1, "err_floor", "units of q", "round-off floor of the order estimate: max(-sweep_order_floor max|q0|, 10 max(solve_residual, N eps max|q0|)): what the step solves left, a posteriori (SlimStepperGetResidualSum)"),
};
static const SlimRecordTable MarkTable = SLIM_RECORD_TABLE("sweep points", MarkCols, MarkRow);

PetscErrorCode SlimOrdersDefine(SlimHarness h)
{
  Orders                      *o   = (Orders *)h->orders;
  const SlimRecordTable *const t[] = {&OrderTable}, *const m[] = {&MarkTable};

  PetscFunctionBeginUser;
  if (!o->norder) PetscFunctionReturn(0);
  PetscCall(SlimRecordDefine(h->out, "orders", 1, t, NULL, o->norder));
  PetscCall(SlimRecordDefine(h->out, "points", 1, m, NULL, h->sw->npoints));
  PetscFunctionReturn(0);
}

/* work arrays of npoints for one row */
typedef struct {
  PetscReal *dt, *e, *floor;
  PetscBool *ok;
  PetscInt  *idx, *gmark;
} Work;

/* Row g of /orders and the marks of its points from the points' errors and floors. */
static PetscErrorCode OrderRowCompute(SlimHarness h, PetscInt g, const PetscReal err[], const PetscInt64 st[], Work *w, MarkRow mark[], OrderRow *o)
{
  SlimSweep       sw = h->sw;
  Orders         *os = (Orders *)h->orders;
  PetscInt        n  = 0;
  SlimPoint      *p;
  SlimOrderResult res;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(o, sizeof(*o)));
  for (PetscInt i = 0; i < sw->npoints; i++) {
    char num[32];
    if (os->group_of_point[i] != g) continue;
    PetscCall(PetscSNPrintf(num, sizeof(num), "%s%" PetscInt_FMT, o->points[0] ? "," : "", i));
    if (strlen(o->points) + strlen(num) < sizeof(o->points)) PetscCall(PetscStrlcat(o->points, num, sizeof(o->points)));
    w->idx[n] = i, w->dt[n] = sw->points[i].dt, w->e[n] = err[i], w->ok[n] = (PetscBool)(st[i] == 0), w->floor[n] = mark[i].err_floor, n++;
  }
  p = &sw->points[w->idx[0]];
  PetscCall(SlimOrderEstimate(n, w->dt, w->e, w->ok, w->floor, &res, w->gmark));
  for (PetscInt j = 0; j < n; j++) mark[w->idx[j]].order_mark = w->gmark[j];
  PetscCall(PetscStrncpy(o->family, sw->famname[p->family], sizeof(o->family)));
  o->r = p->r, o->N = sw->nT ? -1 : p->N, o->T = sw->nT ? p->N * p->dt : NAN, o->sigma = p->sigma, o->B = p->B;
  o->solver = SlimSolverTypes[p->solver], o->n_dt = res.n_valid, o->expected = 2 * p->r + 2;
  o->order = res.order, o->order_finest = res.order_finest, o->order_lsq = res.order_lsq;
  o->n_used = res.n_used, o->dt_used_min = res.dt_min_used, o->dt_used_max = res.dt_max_used;
  o->slope_min = res.slope_min, o->slope_max = res.slope_max;
  o->dt_min = o->dt_max = NAN;
  for (PetscInt j = 0; j < n; j++) {
    if (!w->ok[j] || !isfinite(w->e[j]) || w->e[j] <= w->floor[j]) continue; /* the usable points (n_valid) */
    o->dt_min = isnan(o->dt_min) ? w->dt[j] : PetscMin(o->dt_min, w->dt[j]);
    o->dt_max = isnan(o->dt_max) ? w->dt[j] : PetscMax(o->dt_max, w->dt[j]);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOrdersWrite(SlimHarness h)
{
  SlimSweep      sw = h->sw;
  Orders        *os = (Orders *)h->orders;
  PetscReal     *err, *rsum;
  PetscInt64    *st;
  PetscInt      *rows;
  Work           w;
  OrderRow      *o;
  MarkRow       *m;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  if (!os->norder || h->rank) PetscFunctionReturn(0);
  PetscCall(PetscMalloc5(sw->npoints, &err, sw->npoints, &st, sw->npoints, &w.dt, sw->npoints, &w.e, sw->npoints, &rows));
  PetscCall(PetscMalloc5(os->norder, &o, sw->npoints, &m, sw->npoints, &w.ok, sw->npoints, &w.idx, sw->npoints, &w.gmark));
  PetscCall(PetscMalloc2(sw->npoints, &w.floor, sw->npoints, &rsum));
  PetscCall(SlimOutputReadColumn(h->out, "points", "err_q_final", err));
  PetscCall(SlimOutputReadColumn(h->out, "points", "status", st));
  PetscCall(SlimOutputReadColumn(h->out, "points", "solve_residual", rsum));
  for (PetscInt i = 0; i < sw->npoints; i++) {
    rows[i] = i, m[i].order_mark = -1;
    /* errors at the level the step solves left say nothing about the order */
    PetscCall(SlimErrorFloor(sw->fam[sw->points[i].family], sw->points[i].N, rsum[i], h->order_floor, &m[i].err_floor));
  }
  for (PetscInt g = 0; g < os->norder; g++) PetscCall(OrderRowCompute(h, g, err, st, &w, m, &o[g]));
  /* a failed write still frees the work arrays */
  ierr = SlimRecordWrite(h->out, "orders", &OrderTable, NULL, 0, -1, os->norder, rows, o);
  if (!ierr) ierr = SlimRecordWrite(h->out, "points", &MarkTable, NULL, 0, -1, sw->npoints, rows, m);
  PetscCall(PetscFree5(o, m, w.ok, w.idx, w.gmark));
  PetscCall(PetscFree5(err, st, w.dt, w.e, rows));
  PetscCall(PetscFree2(w.floor, rsum));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
