/* Task kind "landscape": a block of rows of the loss landscape over two parameters
 * (-landscape_params; docs/fits.md) of one (point, loss) -- one ensemble run of its
 * rows x n parameter sets, written to /landscape/<point>/<loss>. */
#include <slim/private/harnessimpl.h>

enum { W_LAND = 1, W_NSLOTS };

typedef struct {
  const PetscReal *loss, *loss_clean;
  PetscInt         rank, status;
} LandRow;

static const SlimRecordColumn LandCols[] = {
  SLIM_REC(LandRow, loss, SLIM_RECORD_REALPTR, SLIM_RECORD_SLOT(W_LAND), "loss", "", "loss[i, j] at (p0 = p0_values[i], p1 = p1_values[j]), the other parameters at the truth"),
  SLIM_REC(LandRow, loss_clean, SLIM_RECORD_REALPTR, SLIM_RECORD_SLOT(W_LAND), "loss_clean", "", "the same against the observations without noise"),
  SLIM_REC(LandRow, rank, SLIM_RECORD_INT, 1, "rank", "", "MPI rank that computed the row"),
  SLIM_REC(LandRow, status, SLIM_RECORD_INT, 1, "status", "", "-1 not computed yet, 0 finished, 1 failed"),
};
static const SlimRecordTable LandTable = SLIM_RECORD_TABLE("loss landscape over two parameters (-landscape_params)", LandCols, LandRow);

typedef struct {
  PetscInt nblk; /* blocks of -landscape_rows rows per (point, loss) */
  PetscInt widths[W_NSLOTS];
} LandKind;

/* Task t = (point * nloss + loss) * nblk + block. */
static void Decode(SlimTaskKind k, PetscInt t, PetscInt *point, PetscInt *l, PetscInt *blk)
{
  const PetscInt nblk = ((LandKind *)k->data)->nblk, nloss = k->h->sw->fit->nloss;

  *point = t / (nloss * nblk);
  *l     = (t / nblk) % nloss;
  *blk   = t % nblk;
}

static PetscErrorCode Path(SlimTaskKind k, PetscInt point, PetscInt l, char path[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, len, "landscape/%" PetscInt_FMT "/%s", point, SlimLossTypes[k->h->sw->fit->loss[l]]));
  PetscFunctionReturn(0);
}

static PetscErrorCode Count(SlimTaskKind k, PetscInt *n)
{
  SlimFit   fit = k->h->sw->fit;
  LandKind *lk  = (LandKind *)k->data;

  PetscFunctionBeginUser;
  lk->nblk           = fit->landscape ? (fit->land_n + fit->land_rows - 1) / fit->land_rows : 0;
  lk->widths[W_LAND] = fit->land_n;
  *n                 = k->h->sw->npoints * fit->nloss * lk->nblk;
  PetscFunctionReturn(0);
}

static PetscErrorCode Point(SlimTaskKind k, PetscInt t, PetscInt *point)
{
  PetscInt l, blk;

  PetscFunctionBeginUser;
  Decode(k, t, point, &l, &blk);
  PetscFunctionReturn(0);
}

static PetscErrorCode Cost(SlimTaskKind k, PetscInt t, PetscReal *cost)
{
  SlimFit        fit = k->h->sw->fit;
  SlimFitProblem prob;
  PetscInt       point, l, blk;

  PetscFunctionBeginUser;
  Decode(k, t, &point, &l, &blk);
  PetscCall(SlimHarnessFitProblem(k->h, point, &prob));
  *cost = (PetscReal)fit->land_rows * fit->land_n * SlimFitEvalCost(fit, &prob, fit->loss[l]);
  PetscFunctionReturn(0);
}

/* One table per (point, loss), with its axes as attributes. */
static PetscErrorCode DefineTables(SlimTaskKind k)
{
  SlimSweep                    sw  = k->h->sw;
  SlimFit                      fit = sw->fit;
  const SlimRecordTable *const t[] = {&LandTable};
  const PetscInt               n   = fit->land_n;
  PetscReal                   *x0, *x1;

  PetscFunctionBeginUser;
  if (!k->n) PetscFunctionReturn(0);
  PetscCall(PetscMalloc2(n, &x0, n, &x1));
  for (PetscInt p = 0; p < sw->npoints; p++)
    for (PetscInt l = 0; l < fit->nloss; l++) {
      SlimFamily fam = sw->fam[sw->points[p].family];
      PetscInt   idx[2];
      PetscInt64 iv = p;
      char       names[160], path[256];
      PetscCall(Path(k, p, l, path, sizeof(path)));
      PetscCall(SlimRecordDefine(k->h->out, path, 1, t, ((LandKind *)k->data)->widths, n));
      PetscCall(SlimFitLandscapeAxes(fit, fam, idx, x0, x1));
      PetscCall(SlimJoinNames(2, fam->pname, idx, names, sizeof(names)));
      PetscCall(SlimOutputSetAttrString(k->h->out, path, "params", names));
      PetscCall(SlimOutputSetAttrString(k->h->out, path, "loss_type", SlimLossTypes[fit->loss[l]]));
      PetscCall(SlimOutputSetAttrReal(k->h->out, path, "p0_values", n, x0));
      PetscCall(SlimOutputSetAttrReal(k->h->out, path, "p1_values", n, x1));
      PetscCall(SlimOutputSetAttrInt(k->h->out, path, "point", 1, &iv));
    }
  PetscCall(PetscFree2(x0, x1));
  PetscFunctionReturn(0);
}

/* A block is finished when all its rows are (the status column is written last), failed when
 * its rows are. */
static PetscErrorCode TaskStatus(SlimTaskKind k, PetscInt status[])
{
  SlimFit     fit  = k->h->sw->fit;
  PetscInt    nblk = ((LandKind *)k->data)->nblk;
  PetscInt64 *ls;
  char        path[256];

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(fit->land_n, &ls));
  for (PetscInt p = 0; p < k->h->sw->npoints; p++)
    for (PetscInt l = 0; l < fit->nloss; l++) {
      PetscCall(Path(k, p, l, path, sizeof(path)));
      PetscCall(SlimOutputReadColumn(k->h->out, path, "status", ls));
      for (PetscInt b = 0; b < nblk; b++) {
        PetscInt s = 0;
        for (PetscInt i = b * fit->land_rows; i < PetscMin(fit->land_n, (b + 1) * fit->land_rows); i++) s = ls[i] < 0 || s < 0 ? -1 : PetscMax(s, (PetscInt)PetscMin(ls[i], 1));
        status[(p * fit->nloss + l) * nblk + b] = s;
      }
    }
  PetscCall(PetscFree(ls));
  PetscFunctionReturn(0);
}

/* The rows of one block of the landscape. */
typedef struct {
  PetscInt       nr;
  const PetscInt *rows;
  const LandRow  *rec;
} LandWrite;

static PetscErrorCode Write(SlimTaskKind k, PetscInt t, void *ctx)
{
  const LandWrite *lw = (const LandWrite *)ctx;
  PetscInt         point, l, blk;
  char             path[256];

  PetscFunctionBeginUser;
  Decode(k, t, &point, &l, &blk);
  PetscCall(Path(k, point, l, path, sizeof(path)));
  PetscCall(SlimRecordWrite(k->h->out, path, &LandTable, ((LandKind *)k->data)->widths, 0, -1, lw->nr, lw->rows, lw->rec));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(SlimTaskKind k, PetscInt t, SlimTaskFailure *fail)
{
  SlimFit        fit = k->h->sw->fit;
  const PetscInt n   = fit->land_n;
  PetscInt       point, l, blk, i0, i1, nr, *rows;
  SlimFitProblem prob;
  SlimFitData    data = NULL;
  PetscReal     *loss, *lossc;
  LandRow       *rec;
  SlimCatch      c;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  Decode(k, t, &point, &l, &blk);
  i0 = blk * fit->land_rows, i1 = PetscMin(n, i0 + fit->land_rows), nr = i1 - i0;
  PetscCall(SlimHarnessFitProblem(k->h, point, &prob));
  PetscCall(PetscMalloc4(nr * n, &loss, nr * n, &lossc, nr, &rows, nr, &rec));
  PetscCall(PetscLogStagePush(k->stage));
  SlimCatchBegin(&c);
  ierr = SlimFitCreateData(fit, &prob, fit->loss[l], &data);
  if (!ierr) ierr = SlimFitLandscapeRows(fit, &prob, data, i0, i1, loss, lossc);
  SlimCatchEnd(&c);
  PetscCall(PetscLogStagePop());
  PetscCall(SlimFitDataDestroy(&data));
  PetscCall(SlimTaskCaught(k, ierr, &c, fail, "landscape task %" PetscInt_FMT " (point %" PetscInt_FMT ")", k->first + t, point));
  for (PetscInt i = 0; i < nr; i++) {
    rows[i] = i0 + i;
    rec[i]  = (LandRow){ierr ? NULL : loss + i * n, ierr ? NULL : lossc + i * n, k->h->rank, ierr ? 1 : 0};
  }
  /* an abandoned task writes nothing: a resume recomputes it */
  if (!SlimTaskAbandoned(fail)) {
    LandWrite lw = {nr, rows, rec};
    PetscCall(SlimTaskWrite(k, Write, t, &lw));
  }
  PetscCall(PetscFree4(loss, lossc, rows, rec));
  PetscFunctionReturn(0);
}

static PetscErrorCode Describe(SlimTaskKind k, PetscInt t, char extra[], size_t len)
{
  PetscInt point, l, blk;

  PetscFunctionBeginUser;
  Decode(k, t, &point, &l, &blk);
  PetscCall(PetscSNPrintf(extra, len, ", %s loss, block %" PetscInt_FMT, SlimLossTypes[k->h->sw->fit->loss[l]], blk));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimTaskKindCreate_Landscape(SlimTaskKind k)
{
  PetscFunctionBeginUser;
  PetscCall(SlimTaskKindSetStage(k, "Fits"));
  k->ops = (SlimTaskOps){Count, Cost, Point, DefineTables, NULL, TaskStatus, Run, NULL, Describe, NULL, SlimTaskKindDestroyData};
  k->ref = "(point * losses + loss) * blocks + b: block b (-landscape_rows_per_task rows) of /landscape/<point>/<loss>";
  PetscCall(PetscNew((LandKind **)&k->data));
  PetscFunctionReturn(0);
}
