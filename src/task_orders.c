/* The /orders table (include/slim/private/harnessimpl.h): points that differ only in dt (and in
 * N when the sweep fixes T) form a group; rank 0 fits the observed convergence order of each
 * group from the finished points at the end of every session. */
#include <math.h>
#include <string.h>
#include <slim/private/harnessimpl.h>

typedef struct {
  char        family[SLIM_NAME_LEN];
  PetscInt    r, N;
  PetscReal   T, sigma;
  PetscInt    B;
  const char *solver;
  PetscInt    n_dt;
  PetscReal   order, order_finest, expected, dt_min, dt_max;
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
  SLIM_REC(OrderRow, n_dt, SLIM_RECORD_INT, 1, "n_dt", "", "points with a usable error in the fit"),
  SLIM_REC(OrderRow, order, SLIM_RECORD_REAL, 1, "order", "", "least-squares slope of log err_q_final vs log dt"),
  SLIM_REC(OrderRow, order_finest, SLIM_RECORD_REAL, 1, "order_finest", "", "slope between the two smallest dt"),
  SLIM_REC(OrderRow, expected, SLIM_RECORD_REAL, 1, "expected", "", "2r+2, the theoretical order"),
  SLIM_REC(OrderRow, dt_min, SLIM_RECORD_REAL, 1, "dt_min", "time", "smallest dt in the fit"),
  SLIM_REC(OrderRow, dt_max, SLIM_RECORD_REAL, 1, "dt_max", "time", "largest dt in the fit"),
  SLIM_REC(OrderRow, points, SLIM_RECORD_STRING, 256, "points", "", "indices of the points in the group, comma separated"),
};
static const SlimRecordTable OrderTable = SLIM_RECORD_TABLE("observed convergence order of points differing only in dt", OrderCols, OrderRow);

/* Relative tolerance on T = N dt when deciding that two points share their final time. */
#define SLIM_ORDER_T_RTOL 1e-9

typedef struct {
  PetscInt  norder;
  PetscInt *group_of_point; /* order group of each point, -1: in none */
} Orders;

void SlimOrderFit(PetscInt n, const PetscReal dt[], const PetscReal err[], PetscReal *order, PetscReal *order_finest)
{
  PetscReal sx = 0, sy = 0, sxx = 0, sxy = 0, d1 = PETSC_MAX_REAL, d2 = PETSC_MAX_REAL, e1 = NAN, e2 = NAN;

  for (PetscInt i = 0; i < n; i++) {
    PetscReal x = log(dt[i]), y = log(err[i]);
    sx += x, sy += y, sxx += x * x, sxy += x * y;
    if (dt[i] < d1) d2 = d1, e2 = e1, d1 = dt[i], e1 = err[i];
    else if (dt[i] < d2) d2 = dt[i], e2 = err[i];
  }
  *order        = n >= 2 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : NAN;
  *order_finest = n >= 2 ? log(e2 / e1) / log(d2 / d1) : NAN;
}

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

PetscErrorCode SlimOrdersDefine(SlimHarness h)
{
  Orders                      *o   = (Orders *)h->orders;
  const SlimRecordTable *const t[] = {&OrderTable};

  PetscFunctionBeginUser;
  if (o->norder) PetscCall(SlimRecordDefine(h->out, "orders", 1, t, NULL, o->norder));
  PetscFunctionReturn(0);
}

/* Errors at round-off level say nothing about the order: below floor * max|q0| they are left out. */
static PetscBool Usable(SlimHarness h, const SlimPoint *p, PetscInt64 status, PetscReal err)
{
  SlimFamily fam   = h->sw->fam[p->family];
  PetscReal  scale = 0;

  if (status != 0 || !isfinite(err)) return PETSC_FALSE;
  for (PetscInt a = 0; a < fam->dof; a++) scale = PetscMax(scale, PetscAbsReal(fam->q0[a]));
  return (PetscBool)(err > h->order_floor * PetscMax(scale, PETSC_SMALL));
}

/* Row g of /orders from the points' errors. */
static PetscErrorCode OrderRowCompute(SlimHarness h, PetscInt g, const PetscReal err[], const PetscInt64 st[], PetscReal dt[], PetscReal e[], OrderRow *o)
{
  SlimSweep  sw = h->sw;
  Orders    *os = (Orders *)h->orders;
  PetscInt   n = 0, rep = -1;
  SlimPoint *p;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(o, sizeof(*o)));
  for (PetscInt i = 0; i < sw->npoints; i++) {
    char num[32];
    if (os->group_of_point[i] != g) continue;
    if (rep < 0) rep = i;
    PetscCall(PetscSNPrintf(num, sizeof(num), "%s%" PetscInt_FMT, o->points[0] ? "," : "", i));
    if (strlen(o->points) + strlen(num) < sizeof(o->points)) PetscCall(PetscStrlcat(o->points, num, sizeof(o->points)));
    if (!Usable(h, &sw->points[i], st[i], err[i])) continue;
    dt[n] = sw->points[i].dt, e[n] = err[i], n++;
  }
  p = &sw->points[rep];
  SlimOrderFit(n, dt, e, &o->order, &o->order_finest);
  PetscCall(PetscStrncpy(o->family, sw->famname[p->family], sizeof(o->family)));
  o->r = p->r, o->N = sw->nT ? -1 : p->N, o->T = sw->nT ? p->N * p->dt : NAN, o->sigma = p->sigma, o->B = p->B;
  o->solver = SlimSolverTypes[p->solver], o->n_dt = n, o->expected = 2 * p->r + 2;
  o->dt_min = o->dt_max = NAN;
  for (PetscInt i = 0; i < n; i++) {
    o->dt_min = i ? PetscMin(o->dt_min, dt[i]) : dt[i];
    o->dt_max = i ? PetscMax(o->dt_max, dt[i]) : dt[i];
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOrdersWrite(SlimHarness h)
{
  SlimSweep   sw = h->sw;
  Orders     *os = (Orders *)h->orders;
  PetscReal  *err, *dt, *e;
  PetscInt64 *st;
  PetscInt   *rows;
  OrderRow   *o;

  PetscFunctionBeginUser;
  if (!os->norder || h->rank) PetscFunctionReturn(0);
  PetscCall(PetscMalloc5(sw->npoints, &err, sw->npoints, &st, sw->npoints, &dt, sw->npoints, &e, os->norder, &rows));
  PetscCall(PetscMalloc1(os->norder, &o));
  PetscCall(SlimOutputReadColumn(h->out, "points", "err_q_final", err));
  PetscCall(SlimOutputReadColumn(h->out, "points", "status", st));
  for (PetscInt g = 0; g < os->norder; g++) {
    rows[g] = g;
    PetscCall(OrderRowCompute(h, g, err, st, dt, e, &o[g]));
  }
  PetscCall(SlimRecordWrite(h->out, "orders", &OrderTable, NULL, 0, -1, os->norder, rows, o));
  PetscCall(PetscFree(o));
  PetscCall(PetscFree5(err, st, dt, e, rows));
  PetscFunctionReturn(0);
}
