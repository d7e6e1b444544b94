/* Task kind "point": one sweep point (include/slim/private/harnessimpl.h) -- an untimed
 * measurement run and timed repeats of the slimplectic integrator (SlimPointRun), a row of
 * /points and the trajectory /trajectories/<point>. */
#include <slim/private/harnessimpl.h>

typedef struct {
  PetscInt    index;
  const char *family;
  PetscInt    r;
  PetscReal   dt;
  PetscInt    N;
  PetscReal   T, sigma;
  PetscInt    B;
  const char *solver;
  PetscInt    group;
  PetscInt64  seed;
  PetscReal   cost;
} PointDef;

static const SlimRecordColumn PointCols[] = {
  SLIM_REC(PointDef, index, SLIM_RECORD_INT, 1, "index", "", "stable point index (lexicographic in family, r, dt, N|T, sigma, B, solver)"),
  SLIM_REC(PointDef, family, SLIM_RECORD_STRPTR, SLIM_NAME_LEN, "family", "", "Lagrangian family"),
  SLIM_REC(PointDef, r, SLIM_RECORD_INT, 1, "r", "", "interior GGL points (order 2r+2)"),
  SLIM_REC(PointDef, dt, SLIM_RECORD_REAL, 1, "dt", "time", "time step"),
  SLIM_REC(PointDef, N, SLIM_RECORD_INT, 1, "N", "", "steps"),
  SLIM_REC(PointDef, T, SLIM_RECORD_REAL, 1, "T", "time", "final time N dt"),
  SLIM_REC(PointDef, sigma, SLIM_RECORD_REAL, 1, "sigma", "units of q", "noise standard deviation of fit observations"),
  SLIM_REC(PointDef, B, SLIM_RECORD_INT, 1, "B", "", "ensemble size (trajectories per solve)"),
  SLIM_REC(PointDef, solver, SLIM_RECORD_STRPTR, 16, "solver", "", "step solver: snes or dense"),
  SLIM_REC(PointDef, group, SLIM_RECORD_INT, 1, "group", "", "baseline group: row of /baselines is group*n_baselines + type"),
  SLIM_REC(PointDef, seed, SLIM_RECORD_INT64, 1, "seed", "", "seed of the point's random stream, from (sweep seed, index)"),
  SLIM_REC(PointDef, cost, SLIM_RECORD_REAL, 1, "cost", "", "estimated cost used to schedule expensive points first"),
};
static const SlimRecordTable PointTable = SLIM_RECORD_TABLE("one row per sweep point", PointCols, PointDef);

static PetscErrorCode Count(SlimTaskKind k, PetscInt *n)
{
  PetscFunctionBeginUser;
  *n = k->h->sw->npoints;
  PetscFunctionReturn(0);
}

/* The sweep's own estimate (SlimSweepSetFromOptions), also written to /points/cost. */
static PetscErrorCode Cost(SlimTaskKind k, PetscInt i, PetscReal *cost)
{
  PetscFunctionBeginUser;
  *cost = k->h->sw->points[i].cost;
  PetscFunctionReturn(0);
}

static PetscErrorCode Point(SlimTaskKind k, PetscInt i, PetscInt *point)
{
  PetscFunctionBeginUser;
  (void)k;
  *point = i;
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteDefinitions(SlimTaskKind k)
{
  SlimSweep      sw = k->h->sw;
  PointDef      *d;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(k->n, &d));
  for (PetscInt i = 0; i < k->n; i++) {
    const SlimPoint *p = &sw->points[i];
    d[i] = (PointDef){p->index, sw->famname[p->family], p->r, p->dt, p->N, p->N * p->dt, p->sigma, p->B, SlimSolverTypes[p->solver], p->group, p->seed, p->cost};
  }
  ierr = SlimResultKindWriteDefinitions(k, d);
  PetscCall(PetscFree(d));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(SlimTaskKind k, PetscInt i, SlimTaskFailure *fail)
{
  PetscFunctionBeginUser;
  PetscCall(SlimResultKindRun(k, i, &k->h->sw->points[i], NULL, fail));
  PetscFunctionReturn(0);
}

static PetscErrorCode Plan(SlimTaskKind k, char buf[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(buf, len, "%" PetscInt_FMT " points", k->n));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimTaskKindCreate_Point(SlimTaskKind k)
{
  PetscFunctionBeginUser;
  PetscCall(SlimTaskKindSetStage(k, "Sweep points"));
  k->ops = (SlimTaskOps){Count, Cost, Point, SlimResultKindDefineTables, WriteDefinitions, SlimResultKindStatus, Run, SlimResultKindFlush, NULL, Plan, SlimResultKindDestroy};
  k->ref = "row of /points";
  PetscCall(SlimResultKindSetUp(k, "points", &PointTable, "trajectories", "pi"));
  PetscFunctionReturn(0);
}
