/* Task kind "train": training data for learned models (docs/training.md, include/slim/train.h).
 * With -train_count K, every family of the sweep gets K coefficient sets drawn from its prior
 * (-train_<family>_<param> ...) and their motion at the r, dt, N and solver of the family's sweep
 * points, stored every -train_stride steps. A task is one block of -train_block samples of one
 * family: SlimPriorSample, then SlimTrainGenerate as one ensemble, written to rows
 * [i0, i0 + K) of /training/<family>/{theta, q, pi, qdot, fail_step} (chunked arrays,
 * src/output_chunked.c) and, last, its row of /training/<family>/blocks. */
#include <petsctime.h>
#include <slim/train.h>
#include <slim/private/harnessimpl.h>
#include <slim/options.h>

/* rows per chunk: a training loop reads whole chunks (slimresults.training_batches) */
#define SLIM_TRAIN_CHUNK 256
/* samples of one family are seeded from (sweep seed, this + family index) */
#define SLIM_TRAIN_SEED_STREAM 1000003

typedef struct {
  PetscInt first, count; /* definitions */
  PetscInt n_failed;
  PetscReal wall;
  PetscInt  rank, status;
} BlockRow;
#define BLOCK_NDEF 2

static const SlimRecordColumn BlockCols[] = {
  SLIM_REC(BlockRow, first, SLIM_RECORD_INT, 1, "first", "", "first sample (row of theta, q, pi, qdot, fail_step) of the block"),
  SLIM_REC(BlockRow, count, SLIM_RECORD_INT, 1, "count", "", "samples in the block"),
  SLIM_REC(BlockRow, n_failed, SLIM_RECORD_INT, 1, "n_failed", "", "samples whose integration failed (fail_step >= 0: NaN from there on)"),
  SLIM_REC(BlockRow, wall, SLIM_RECORD_REAL, 1, "wall", "s", "wall time of the block: sampling, integration and writing"),
  SLIM_REC(BlockRow, rank, SLIM_RECORD_INT, 1, "rank", "", "MPI rank that computed the block"),
  SLIM_REC(BlockRow, status, SLIM_RECORD_INT, 1, "status", "", "-1 not computed yet (its rows are NaN), 0 finished, 1 failed (a PETSc error)"),
};
static const SlimRecordTable BlockTable = SLIM_RECORD_TABLE("training data blocks: one task each; rows of a block are valid where its status is 0", BlockCols, BlockRow);

typedef struct {
  PetscInt   count, block, stride, nblk;
  SlimPrior  prior[SLIM_LIST_MAX];
  PetscInt   point[SLIM_LIST_MAX]; /* the sweep point whose r, dt, N, solver a family's data use */
  PetscInt64 seed[SLIM_LIST_MAX];
} TrainKind;

/* Reads and checks -train_count, -train_block, -train_stride and every family's prior. */
static PetscErrorCode ReadOptions(SlimHarness h, TrainKind *tk)
{
  SlimSweep sw = h->sw;

  PetscFunctionBeginUser;
  tk->block = 4096, tk->stride = 10;
  PetscOptionsBegin(h->comm, NULL, "Training data (task kind train, docs/training.md)", NULL);
  PetscCall(SlimOptionsInt("-train_count", "Coefficient sets (trajectories) of training data per family of the sweep; 0: none", NULL, tk->count, &tk->count, NULL));
  PetscCall(SlimOptionsInt("-train_block", "Samples per task (one ensemble; a multiple of 256 keeps writes chunk-aligned)", NULL, tk->block, &tk->block, NULL));
  PetscCall(SlimOptionsInt("-train_stride", "Store q, pi, qdot every this many steps", NULL, tk->stride, &tk->stride, NULL));
  PetscOptionsEnd();
  PetscCheck(tk->count >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-train_count: value %" PetscInt_FMT " is invalid (must be >= 0)", tk->count);
  PetscCheck(tk->block >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-train_block: value %" PetscInt_FMT " is invalid (must be >= 1)", tk->block);
  PetscCheck(tk->stride >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-train_stride: value %" PetscInt_FMT " is invalid (must be >= 1)", tk->stride);
  for (PetscInt f = 0; f < sw->nfam; f++) {
    PetscCall(SlimPriorInit(sw->fam[f], &tk->prior[f]));
    PetscCall(SlimPriorSetFromOptions(sw->fam[f], &tk->prior[f]));
    tk->seed[f]  = SlimSeedDerive(sw->seed, SLIM_TRAIN_SEED_STREAM + f);
    tk->point[f] = -1;
  }
  tk->nblk = (tk->count + tk->block - 1) / tk->block;
  if (!tk->count) PetscFunctionReturn(0);
  PetscCheck(h->nslices <= 1 && !h->merge[0], PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-train_count: training data are not split with -sweep_slice or combined with -sweep_merge; run them as one job");
  /* one r, dt, N and solver per family: the points of the family must agree on them */
  for (PetscInt i = 0; i < sw->npoints; i++) {
    const SlimPoint *p = &sw->points[i], *q;
    if (tk->point[p->family] < 0) {
      tk->point[p->family] = i;
      continue;
    }
    q = &sw->points[tk->point[p->family]];
    PetscCheck(q->r == p->r && q->dt == p->dt && q->N == p->N && q->solver == p->solver, PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-train_count: the training data of family %s need one r, dt, N and solver, but its sweep points have several (give one -sweep_r, -sweep_dt, -sweep_N or -sweep_T, -sweep_solver)", sw->famname[p->family]);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimTaskTrainSetFromOptions(SlimHarness h)
{
  TrainKind *tk;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&tk));
  PetscCall(ReadOptions(h, tk));
  PetscCall(PetscFree(tk));
  PetscFunctionReturn(0);
}

static PetscInt Samples(TrainKind *tk, const SlimPoint *p)
{
  return p->N / tk->stride + 1;
}

static PetscErrorCode Count(SlimTaskKind k, PetscInt *n)
{
  TrainKind *tk = (TrainKind *)k->data;

  PetscFunctionBeginUser;
  PetscCall(ReadOptions(k->h, tk));
  *n = tk->count ? k->h->sw->nfam * tk->nblk : 0;
  PetscFunctionReturn(0);
}

static void Decode(SlimTaskKind k, PetscInt t, PetscInt *f, PetscInt *i0, PetscInt *K)
{
  TrainKind *tk = (TrainKind *)k->data;

  *f  = t / tk->nblk;
  *i0 = (t % tk->nblk) * tk->block;
  *K  = PetscMin(tk->block, tk->count - *i0);
}

static PetscErrorCode Point(SlimTaskKind k, PetscInt t, PetscInt *point)
{
  PetscInt f, i0, K;

  PetscFunctionBeginUser;
  Decode(k, t, &f, &i0, &K);
  *point = ((TrainKind *)k->data)->point[f];
  PetscFunctionReturn(0);
}

/* the family's point (an ensemble of B) scaled to K members */
static PetscErrorCode Cost(SlimTaskKind k, PetscInt t, PetscReal *cost)
{
  PetscInt         f, i0, K;
  const SlimPoint *p;

  PetscFunctionBeginUser;
  Decode(k, t, &f, &i0, &K);
  p     = &k->h->sw->points[((TrainKind *)k->data)->point[f]];
  *cost = p->cost * K / PetscMax(p->B, 1);
  PetscFunctionReturn(0);
}

static PetscErrorCode Path(SlimTaskKind k, PetscInt f, const char what[], char path[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, len, "training/%s%s%s", k->h->sw->famname[f], what[0] ? "/" : "", what));
  PetscFunctionReturn(0);
}

/* What changes the data: refused on resume when it differs from the file's. */
static PetscErrorCode Settings(SlimTaskKind k, PetscInt f, char buf[], size_t len)
{
  TrainKind       *tk = (TrainKind *)k->data;
  const SlimPoint *p  = &k->h->sw->points[tk->point[f]];
  char             prior[1024];

  PetscFunctionBeginUser;
  PetscCall(SlimPriorDescribe(k->h->sw->fam[f], &tk->prior[f], prior, sizeof(prior)));
  PetscCall(PetscSNPrintf(buf, len, "count=%" PetscInt_FMT " block=%" PetscInt_FMT " stride=%" PetscInt_FMT " r=%" PetscInt_FMT " dt=%.17g N=%" PetscInt_FMT " solver=%s seed=%" PetscInt64_FMT " prior=%s", tk->count, tk->block, tk->stride, p->r, (double)p->dt, p->N, SlimSolverTypes[p->solver], tk->seed[f], prior));
  PetscFunctionReturn(0);
}

static PetscErrorCode DefineFamily(SlimTaskKind k, PetscInt f)
{
  TrainKind                   *tk  = (TrainKind *)k->data;
  SlimOutput                   out = k->h->out;
  SlimFamily                   fam = k->h->sw->fam[f];
  const SlimPoint             *p   = &k->h->sw->points[tk->point[f]];
  const PetscInt               S = Samples(tk, p), d3[3] = {tk->count, S, fam->dof}, d2[2] = {tk->count, fam->nparam};
  const SlimRecordTable *const t[]    = {&BlockTable};
  static const char *const     ser[]  = {"q", "pi", "qdot"};
  static const char *const     sdes[] = {"q [sample, time sample, dof]; NaN from a failed step on", "conjugate momentum pi, same layout", "velocity qdot, same layout"};
  char                         g[160], path[192], set[2048], old[2048], names[160];
  PetscBool                    has;
  PetscInt64                   iv;

  PetscFunctionBeginUser;
  PetscCall(Path(k, f, "", g, sizeof(g)));
  PetscCall(Settings(k, f, set, sizeof(set)));
  PetscCall(SlimOutputHasAttr(out, g, "settings", &has));
  if (has) { /* resume: the same data or nothing */
    PetscCall(SlimOutputGetAttrString(out, g, "settings", old, sizeof(old)));
    PetscCheck(!strcmp(old, set), PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-sweep_resume: the training options conflict with '%s': it has \"%s\", these options give \"%s\"", k->h->output, old, set);
  }
  PetscCall(Path(k, f, "theta", path, sizeof(path)));
  PetscCall(SlimOutputDefineBlocks(out, path, SLIM_COL_REAL, 2, d2, SLIM_TRAIN_CHUNK, NULL, "coefficient sets [sample, parameter] (order of param_names), drawn from the prior"));
  for (PetscInt s = 0; s < 3; s++) {
    PetscCall(Path(k, f, ser[s], path, sizeof(path)));
    PetscCall(SlimOutputDefineBlocks(out, path, SLIM_COL_REAL, 3, d3, SLIM_TRAIN_CHUNK, NULL, sdes[s]));
  }
  PetscCall(Path(k, f, "fail_step", path, sizeof(path)));
  PetscCall(SlimOutputDefineBlocks(out, path, SLIM_COL_INT, 1, d3, SLIM_TRAIN_CHUNK, NULL, "-1, or the step whose solve failed"));
  PetscCall(Path(k, f, "t", path, sizeof(path)));
  PetscCall(SlimOutputDefineArray(out, path, 1, &S, "time", "sample times"));
  PetscCall(Path(k, f, "blocks", path, sizeof(path)));
  PetscCall(SlimRecordDefine(out, path, 1, t, NULL, tk->nblk));
  if (has) PetscFunctionReturn(0);
  PetscCall(SlimOutputSetAttrString(out, g, "settings", set));
  PetscCall(SlimPriorDescribe(fam, &tk->prior[f], set, sizeof(set)));
  PetscCall(SlimOutputSetAttrString(out, g, "prior", set));
  PetscCall(SlimJoinNames(fam->nparam, fam->pname, NULL, names, sizeof(names)));
  PetscCall(SlimOutputSetAttrString(out, g, "param_names", names));
  PetscCall(SlimOutputSetAttrString(out, g, "solver", SlimSolverTypes[p->solver]));
  PetscCall(SlimOutputSetAttrReal(out, g, "dt", 1, &p->dt));
  iv = p->r;
  PetscCall(SlimOutputSetAttrInt(out, g, "r", 1, &iv));
  iv = p->N;
  PetscCall(SlimOutputSetAttrInt(out, g, "N", 1, &iv));
  iv = tk->stride;
  PetscCall(SlimOutputSetAttrInt(out, g, "stride", 1, &iv));
  PetscCall(SlimOutputSetAttrInt(out, g, "seed", 1, &tk->seed[f]));
  PetscFunctionReturn(0);
}

static PetscErrorCode DefineTables(SlimTaskKind k)
{
  PetscFunctionBeginUser;
  if (!k->n) PetscFunctionReturn(0);
  for (PetscInt f = 0; f < k->h->sw->nfam; f++) PetscCall(DefineFamily(k, f));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteDefinitions(SlimTaskKind k)
{
  TrainKind *tk = (TrainKind *)k->data;
  BlockRow      *b;
  PetscInt      *rows;
  char           path[192];
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  if (!k->n) PetscFunctionReturn(0);
  PetscCall(PetscMalloc2(tk->nblk, &b, tk->nblk, &rows));
  for (PetscInt j = 0; j < tk->nblk; j++) {
    PetscInt f, i0, K;
    Decode(k, j, &f, &i0, &K);
    rows[j] = j, b[j] = (BlockRow){.first = i0, .count = K};
  }
  for (PetscInt f = 0; f < k->h->sw->nfam && !ierr; f++) {
    PetscCall(Path(k, f, "blocks", path, sizeof(path)));
    ierr = SlimRecordWrite(k->h->out, path, &BlockTable, NULL, 0, BLOCK_NDEF, tk->nblk, rows, b);
  }
  PetscCall(PetscFree2(b, rows));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

static PetscErrorCode TaskStatus(SlimTaskKind k, PetscInt status[])
{
  TrainKind  *tk = (TrainKind *)k->data;
  PetscInt64 *st;
  char        path[192];

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(tk->nblk, &st));
  for (PetscInt f = 0; f < k->h->sw->nfam; f++) {
    PetscCall(Path(k, f, "blocks", path, sizeof(path)));
    PetscCall(SlimOutputReadColumn(k->h->out, path, "status", st));
    for (PetscInt j = 0; j < tk->nblk; j++) status[f * tk->nblk + j] = (PetscInt)PetscMin(st[j], 1);
  }
  PetscCall(PetscFree(st));
  PetscFunctionReturn(0);
}

/* What one block computes. */
typedef struct {
  PetscReal  *theta, *t, *q, *pi, *qdot;
  PetscInt   *fail;
  PetscInt64 *fail64;
  PetscErrorCode ierr; /* of Generate */
  PetscLogDouble t0;   /* the block's start */
} Block;

static PetscErrorCode Generate(SlimTaskKind k, PetscInt f, PetscInt i0, PetscInt K, Block *b)
{
  TrainKind       *tk  = (TrainKind *)k->data;
  SlimFamily       fam = k->h->sw->fam[f];
  const SlimPoint *p   = &k->h->sw->points[tk->point[f]];

  PetscFunctionBeginUser;
  PetscCall(SlimPriorSample(fam, &tk->prior[f], tk->seed[f], i0, K, b->theta));
  PetscCall(SlimTrainGenerate(fam, p->r, p->dt, p->N, tk->stride, p->solver, K, b->theta, b->t, b->q, b->pi, b->qdot, b->fail));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteBlock(SlimTaskKind k, PetscInt f, PetscInt i0, PetscInt K, const Block *b)
{
  const char *const ser[] = {"q", "pi", "qdot"};
  const PetscReal  *dat[] = {b->q, b->pi, b->qdot};
  char              path[192];

  PetscFunctionBeginUser;
  PetscCall(Path(k, f, "theta", path, sizeof(path)));
  PetscCall(SlimOutputWriteBlock(k->h->out, path, i0, K, b->theta));
  for (PetscInt s = 0; s < 3; s++) {
    PetscCall(Path(k, f, ser[s], path, sizeof(path)));
    PetscCall(SlimOutputWriteBlock(k->h->out, path, i0, K, dat[s]));
  }
  for (PetscInt i = 0; i < K; i++) b->fail64[i] = b->fail[i];
  PetscCall(Path(k, f, "fail_step", path, sizeof(path)));
  PetscCall(SlimOutputWriteBlock(k->h->out, path, i0, K, b->fail64));
  if (i0 == 0) { /* the sample times, once */
    PetscCall(Path(k, f, "t", path, sizeof(path)));
    PetscCall(SlimOutputWriteArray(k->h->out, path, b->t));
  }
  PetscFunctionReturn(0);
}

/* The arrays first, the block's status last: a block with a status has complete rows. */
static PetscErrorCode Write(SlimTaskKind k, PetscInt t, void *ctx)
{
  TrainKind     *tk = (TrainKind *)k->data;
  Block         *b  = (Block *)ctx;
  PetscInt       f, i0, K, row = t % tk->nblk;
  BlockRow       rec;
  PetscLogDouble t1;
  char           path[192];

  PetscFunctionBeginUser;
  Decode(k, t, &f, &i0, &K);
  SlimRecordFill(&BlockTable, NULL, &rec);
  if (!b->ierr) {
    PetscCall(WriteBlock(k, f, i0, K, b));
    rec.n_failed = 0;
    for (PetscInt i = 0; i < K; i++) rec.n_failed += b->fail[i] >= 0;
  }
  PetscCall(PetscTime(&t1));
  rec.wall = t1 - b->t0, rec.rank = k->h->rank, rec.status = b->ierr ? 1 : 0;
  PetscCall(Path(k, f, "blocks", path, sizeof(path)));
  PetscCall(SlimRecordWrite(k->h->out, path, &BlockTable, NULL, BLOCK_NDEF, -1, 1, &row, &rec));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(SlimTaskKind k, PetscInt t, SlimTaskFailure *fail)
{
  TrainKind *tk = (TrainKind *)k->data;
  PetscInt   f, i0, K, S, d;
  Block      b;
  SlimCatch  c;

  PetscFunctionBeginUser;
  PetscCall(PetscTime(&b.t0));
  Decode(k, t, &f, &i0, &K);
  S = Samples(tk, &k->h->sw->points[tk->point[f]]), d = k->h->sw->fam[f]->dof;
  PetscCall(PetscMalloc5(K * k->h->sw->fam[f]->nparam, &b.theta, S, &b.t, K * S * d, &b.q, K * S * d, &b.pi, K * S * d, &b.qdot));
  PetscCall(PetscMalloc2(K, &b.fail, K, &b.fail64));
  PetscCall(PetscLogStagePush(k->stage));
  SlimCatchBegin(&c);
  b.ierr = Generate(k, f, i0, K, &b);
  SlimCatchEnd(&c);
  PetscCall(PetscLogStagePop());
  /* a stop: the block writes nothing, a resume recomputes it */
  if (!SlimTaskAbandoned(fail)) {
    PetscCall(SlimTaskCaught(k, b.ierr, &c, fail, "training block %" PetscInt_FMT " (%s, samples %" PetscInt_FMT "..%" PetscInt_FMT ")", t % tk->nblk, k->h->sw->famname[f], i0, i0 + K - 1));
    PetscCall(SlimTaskWrite(k, Write, t, &b));
  }
  PetscCall(PetscFree2(b.fail, b.fail64));
  PetscCall(PetscFree5(b.theta, b.t, b.q, b.pi, b.qdot));
  PetscFunctionReturn(0);
}

static PetscErrorCode Describe(SlimTaskKind k, PetscInt t, char extra[], size_t len)
{
  PetscInt f, i0, K;

  PetscFunctionBeginUser;
  Decode(k, t, &f, &i0, &K);
  PetscCall(PetscSNPrintf(extra, len, ", training samples %" PetscInt_FMT "..%" PetscInt_FMT, i0, i0 + K - 1));
  PetscFunctionReturn(0);
}

static PetscErrorCode Plan(SlimTaskKind k, char buf[], size_t len)
{
  TrainKind *tk = (TrainKind *)k->data;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(buf, len, "%" PetscInt_FMT " training blocks (%" PetscInt_FMT " trajectories)", k->n, tk->count * k->h->sw->nfam));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimTaskKindCreate_Train(SlimTaskKind k)
{
  PetscFunctionBeginUser;
  PetscCall(SlimTaskKindSetStage(k, "Training data"));
  k->ops = (SlimTaskOps){Count, Cost, Point, DefineTables, WriteDefinitions, TaskStatus, Run, NULL, Describe, Plan, SlimTaskKindDestroyData};
  k->ref = "family * blocks + j: row j of /training/<family>/blocks";
  PetscCall(PetscNew((TrainKind **)&k->data));
  PetscFunctionReturn(0);
}
