/* Task kind "baseline": one Runge-Kutta baseline (PETSc TSRK) per (baseline group, type)
 * (include/slim/private/harnessimpl.h) -- a row of /baselines and the trajectory
 * /baselines/trajectories/<row>. Points sharing (family, dt, N) form a group. */
#include <slim/private/harnessimpl.h>

/* An RK4 step costs about 4 right-hand sides and TS overhead: comparable to an r = 0 SNES step
 * of the point cost model (SlimSweep), which this many units represent. */
#define SLIM_BASELINE_STEP_COST 4000.0

typedef struct {
  PetscInt    group, point;
  const char *family, *type;
  PetscReal   dt;
  PetscInt    N;
  PetscReal   T, err_floor;
} BaselineDef;

static const SlimRecordColumn BaselineCols[] = {
  SLIM_REC(BaselineDef, group, SLIM_RECORD_INT, 1, "group", "", "baseline group"),
  SLIM_REC(BaselineDef, point, SLIM_RECORD_INT, 1, "point", "", "representative point of the group"),
  SLIM_REC(BaselineDef, family, SLIM_RECORD_STRPTR, SLIM_NAME_LEN, "family", "", "Lagrangian family"),
  SLIM_REC(BaselineDef, type, SLIM_RECORD_STRPTR, 16, "type", "", "PETSc TSRK type (2a: RK2, 4: classical RK4) or TSBASICSYMPLECTIC type (sympl1..sympl4: symplectic Euler, velocity Verlet, Ruth 3, Forest-Ruth 4)"),
  SLIM_REC(BaselineDef, dt, SLIM_RECORD_REAL, 1, "dt", "time", "time step"),
  SLIM_REC(BaselineDef, N, SLIM_RECORD_INT, 1, "N", "", "steps"),
  SLIM_REC(BaselineDef, T, SLIM_RECORD_REAL, 1, "T", "time", "final time"),
  SLIM_REC(BaselineDef, err_floor, SLIM_RECORD_REAL, 1, "err_floor", "units of q", "round-off floor of the integration itself (explicit steps: 10 N eps max|q0|); errors against a reference run also carry that run's floor (/points/err_floor of the group's point)"),
};
static const SlimRecordTable BaselineTable = SLIM_RECORD_TABLE("baselines (PETSc TSRK and TSBASICSYMPLECTIC), one row per (group, type)", BaselineCols, BaselineDef);

static PetscErrorCode Count(SlimTaskKind k, PetscInt *n)
{
  PetscFunctionBeginUser;
  *n = k->h->sw->ngroups * k->h->sw->nbase;
  PetscFunctionReturn(0);
}

static PetscErrorCode Point(SlimTaskKind k, PetscInt i, PetscInt *point)
{
  PetscFunctionBeginUser;
  *point = k->h->sw->group_point[i / k->h->sw->nbase];
  PetscFunctionReturn(0);
}

static PetscErrorCode Cost(SlimTaskKind k, PetscInt i, PetscReal *cost)
{
  SlimSweep  sw = k->h->sw;
  PetscInt   pi;
  SlimPoint *p;

  PetscFunctionBeginUser;
  PetscCall(Point(k, i, &pi));
  p     = &sw->points[pi];
  *cost = (sw->repeats + 1) * p->N * SLIM_BASELINE_STEP_COST * (sw->fam[p->family]->exact ? 1 : 1 + sw->ref_dt_factor);
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteDefinitions(SlimTaskKind k)
{
  SlimSweep      sw = k->h->sw;
  BaselineDef   *d;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  if (!k->n) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1(k->n, &d));
  for (PetscInt i = 0; i < k->n; i++) {
    PetscInt         pi = sw->group_point[i / sw->nbase];
    const SlimPoint *p  = &sw->points[pi];
    PetscReal        floor;

    /* an explicit step has no solver tolerance: only its round-off, ~eps per step */
    PetscCall(SlimErrorFloor(sw->fam[p->family], p->N, 0, 0, &floor));
    d[i] = (BaselineDef){i / sw->nbase, pi, sw->famname[p->family], sw->base[i % sw->nbase], p->dt, p->N, p->N * p->dt, floor};
  }
  ierr = SlimResultKindWriteDefinitions(k, d);
  PetscCall(PetscFree(d));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(SlimTaskKind k, PetscInt i, SlimTaskFailure *fail)
{
  SlimSweep sw = k->h->sw;
  PetscInt  pi;

  PetscFunctionBeginUser;
  PetscCall(Point(k, i, &pi));
  PetscCall(SlimResultKindRun(k, i, &sw->points[pi], sw->base[i % sw->nbase], fail));
  PetscFunctionReturn(0);
}

static PetscErrorCode Describe(SlimTaskKind k, PetscInt i, char extra[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(extra, len, ", baseline %s", k->h->sw->base[i % k->h->sw->nbase]));
  PetscFunctionReturn(0);
}

static PetscErrorCode Plan(SlimTaskKind k, char buf[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(buf, len, "%" PetscInt_FMT " baseline runs", k->n));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimTaskKindCreate_Baseline(SlimTaskKind k)
{
  PetscFunctionBeginUser;
  PetscCall(SlimTaskKindSetStage(k, "RK baselines"));
  k->ops = (SlimTaskOps){Count, Cost, Point, SlimResultKindDefineTables, WriteDefinitions, SlimResultKindStatus, Run, SlimResultKindFlush, Describe, Plan, SlimResultKindDestroy};
  k->ref = "row of /baselines";
  PetscCall(SlimResultKindSetUp(k, "baselines", &BaselineTable, "baselines/trajectories", "qdot"));
  PetscFunctionReturn(0);
}
