/* SlimSweep: sweep definition, validation and point enumeration (include/slim/sweep.h). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <slim/sweep.h>
#include <slim/rk.h>
#include <slim/private/sweepimpl.h>
#include <slim/private/fitimpl.h>
#include <slim/private/util.h>

PetscErrorCode SlimSweepCreate(SlimSweep *sw)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(sw));
  PetscCall(SlimFitCreate(&(*sw)->fit));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimSweepDestroy(SlimSweep *sw)
{
  PetscFunctionBeginUser;
  if (!*sw) PetscFunctionReturn(0);
  for (PetscInt f = 0; f < (*sw)->nfam; f++) PetscCall(SlimFamilyDestroy(&(*sw)->fam[f]));
  PetscCall(PetscFree((*sw)->points));
  PetscCall(PetscFree((*sw)->group_point));
  PetscCall(PetscFree((*sw)->signature));
  PetscCall(SlimFitDestroy(&(*sw)->fit));
  PetscCall(PetscFree(*sw));
  PetscFunctionReturn(0);
}

/* The cost model: rough floating-point work of a point, so that expensive points start first.
 * Per Newton iteration and trajectory, the residual and Jacobian assembly cost about
 * SLIM_COST_ASSEMBLY n^2 dof (n = r + 2 nodes) and, for nonlinear families, the dense solve of
 * the (r+1) dof block SLIM_COST_SOLVE n^3 dof^2; nonlinear steps take about SLIM_COST_NEWTON_ITS
 * iterations (linear ones one). Each iteration adds a fixed solver overhead: PETSc SNES objects
 * (SLIM_COST_SNES_OVERHEAD) or the plain dense loop (SLIM_COST_DENSE_OVERHEAD). The constants
 * were fitted by eye to measured ns_per_step; only the ordering of points depends on them. */
#define SLIM_COST_ASSEMBLY       20
#define SLIM_COST_SOLVE          3
#define SLIM_COST_NEWTON_ITS     3
#define SLIM_COST_SNES_OVERHEAD  3000
#define SLIM_COST_DENSE_OVERHEAD 100

static PetscReal PointCost(SlimSweep sw, const SlimPoint *p, PetscBool ref)
{
  SlimFamily fam = sw->fam[p->family];
  PetscReal  n = p->r + 2, d = fam->dof, its = fam->linear ? 1 : SLIM_COST_NEWTON_ITS;
  PetscReal  per = p->B * its * (SLIM_COST_ASSEMBLY * n * n * d + (fam->linear ? 0 : SLIM_COST_SOLVE * n * n * n * d * d)) + its * (p->solver == SLIM_SOLVER_SNES ? SLIM_COST_SNES_OVERHEAD : SLIM_COST_DENSE_OVERHEAD);
  PetscReal  c   = (sw->repeats + 1) * p->N * per;
  if (ref && !fam->exact) {
    /* the reference run (untimed, once): finer step, more nodes, one trajectory */
    SlimPoint q = *p;
    q.r += sw->ref_r_extra;
    q.N = (PetscInt)ceil(p->N * sw->ref_dt_factor);
    q.B = 1;
    c += PointCost(sw, &q, PETSC_FALSE) / (sw->repeats + 1);
  }
  return c;
}

/* Memory of one point: per trajectory the stepper keeps parameters, state and prediction
 * vectors (about SLIM_MEM_VECTORS of dof each), the Newton block of (r+1) dof unknowns (Jacobian,
 * its factors, residual and update, also as PETSc objects for SNES) and the linear families'
 * end maps; plus the stored samples (t, q, pi, energy, energy error) of one trajectory and the
 * times of the repeats. */
#define SLIM_MEM_VECTORS 12
static PetscReal PointMemory(SlimSweep sw, const SlimPoint *p)
{
  SlimFamily fam = sw->fam[p->family];
  PetscReal  d = fam->dof, n = p->r + 2, bs = (p->r + 1) * d;
  PetscReal  per     = fam->nparam + SLIM_MEM_VECTORS * d + 3 * bs * bs + 8 * bs + n * d * d;
  PetscReal  samples = sw->traj_stride ? (PetscReal)(p->N / sw->traj_stride + 1) * (2 * d + 3) : 0;
  return 8 * (p->B * per + samples + sw->repeats + 1); /* + the repeats' times */
}

PetscErrorCode SlimSweepEstimateMemory(SlimSweep sw, PetscInt64 *bytes)
{
  PetscReal m = 0;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < sw->npoints; i++) {
    SlimPoint q = sw->points[i];
    m = PetscMax(m, PointMemory(sw, &q));
    q.r += sw->ref_r_extra, q.B = 1; /* the reference run */
    m = PetscMax(m, PointMemory(sw, &q));
  }
  *bytes = m > 4e18 ? (PetscInt64)4e18 : (PetscInt64)m; /* saturates instead of overflowing */
  PetscFunctionReturn(0);
}

static PetscErrorCode AppendSig(char **sig, size_t *len, const char *fmt, ...)
{
  va_list ap;
  size_t  used = *sig ? strlen(*sig) : 0, fin;
  char    tmp[1024];

  PetscFunctionBeginUser;
  va_start(ap, fmt);
  PetscCall(PetscVSNPrintf(tmp, sizeof(tmp), fmt, &fin, ap));
  va_end(ap);
  if (used + strlen(tmp) + 1 > *len) {
    char *n;
    *len = 2 * (used + strlen(tmp) + 1);
    PetscCall(PetscMalloc1(*len, &n));
    n[0] = 0;
    if (*sig) PetscCall(PetscStrcpy(n, *sig));
    PetscCall(PetscFree(*sig));
    *sig = n;
  }
  PetscCall(PetscStrcat(*sig, tmp));
  PetscFunctionReturn(0);
}

/* The -sweep_* options; list items are checked by SweepValidate. */
static PetscErrorCode SweepOptions(SlimSweep sw, char names[][64], char solvers[][64], PetscInt *nsolver, PetscBool *setN, PetscBool *setT)
{
  char     famlist[1024], help[1200];
  PetscInt seed = (PetscInt)sw->seed;

  PetscFunctionBeginUser;
  PetscCall(SlimFamilyListNames(famlist, sizeof(famlist)));
  PetscCall(PetscSNPrintf(help, sizeof(help), "Families to sweep, comma separated (known: %s)", famlist));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Sweep definition (cartesian product of the lists)", NULL);
  /* the lists whose product is the sweep */
  PetscCall(SlimOptionsStringList(PetscOptionsObject, "-sweep_family", help, "dho", SLIM_LIST_MAX, 64, names, &sw->nfam, NULL));
  PetscCall(SlimOptionsIntList(PetscOptionsObject, "-sweep_r", "Numbers of interior GGL points r (order 2r+2)", "0,1", SLIM_LIST_MAX, sw->r, &sw->nr, NULL));
  PetscCall(SlimOptionsRealListDistinct(PetscOptionsObject, "-sweep_dt", "Time steps", "0.1", SLIM_LIST_MAX, sw->dt, &sw->ndt, NULL));
  PetscCall(SlimOptionsIntList(PetscOptionsObject, "-sweep_N", "Step counts (ignored where -sweep_T is given)", "1000", SLIM_LIST_MAX, sw->N, &sw->nN, setN));
  PetscCall(SlimOptionsRealListDistinct(PetscOptionsObject, "-sweep_T", "Final times instead of step counts: N = T/dt (for convergence studies)", "0", SLIM_LIST_MAX, sw->T, &sw->nT, setT));
  PetscCall(SlimOptionsRealListDistinct(PetscOptionsObject, "-sweep_sigma", "Noise standard deviations of the fit observations", "0", SLIM_LIST_MAX, sw->sigma, &sw->nsigma, NULL));
  PetscCall(SlimOptionsIntList(PetscOptionsObject, "-sweep_B", "Ensemble sizes: trajectories advanced together in one solve", "1", SLIM_LIST_MAX, sw->B, &sw->nB, NULL));
  PetscCall(SlimOptionsStringList(PetscOptionsObject, "-sweep_solver", "Step solvers: snes (PETSc SNES) and/or dense (plain Newton loop)", "snes", SLIM_LIST_MAX, 64, solvers, nsolver, NULL));
  PetscCall(SlimOptionsStringList(PetscOptionsObject, "-sweep_baselines", "Baselines run on every (family, dt, N): PETSc TSRK types (" SLIM_RK_TSRK_TYPES ") and, for separable families only, TSBASICSYMPLECTIC types (" SLIM_RK_SYMPLECTIC_TYPES "); or none", "2a,4", SLIM_LIST_MAX, 64, sw->base, &sw->nbase, NULL));
  /* how every point is measured */
  PetscCall(SlimOptionsInt("-sweep_repeats", "Timed repeats of every point after its untimed measurement (warm-up) run", NULL, sw->repeats, &sw->repeats, NULL));
  PetscCall(SlimOptionsInt("-sweep_seed", "Base seed; point i uses a random stream derived from (seed, i)", NULL, seed, &seed, NULL));
  sw->seed = seed;
  PetscCall(SlimOptionsInt("-sweep_trajectory_stride", "Store t, q, pi, energy every k steps (0: no trajectories)", NULL, sw->traj_stride, &sw->traj_stride, NULL));
  PetscCall(SlimOptionsReal("-sweep_ref_dt_factor", "Reference runs (families without exact solution) use dt divided by this integer", NULL, sw->ref_dt_factor, &sw->ref_dt_factor, NULL));
  PetscCall(SlimOptionsInt("-sweep_ref_r_extra", "Reference runs use r plus this many interior points", NULL, sw->ref_r_extra, &sw->ref_r_extra, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(0);
}

/* Validation: one line naming the option and the value. */
static PetscErrorCode SweepValidate(SlimSweep sw, PetscBool setN, PetscBool setT)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < sw->nr; i++) PetscCheck(sw->r[i] >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_r: value %" PetscInt_FMT " is invalid (r must be >= 0)", sw->r[i]);
  for (PetscInt i = 0; i < sw->ndt; i++) PetscCheck(sw->dt[i] > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_dt: value %g is invalid (dt must be > 0)", (double)sw->dt[i]);
  for (PetscInt i = 0; i < sw->nN; i++) PetscCheck(sw->N[i] >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_N: value %" PetscInt_FMT " is invalid (N must be >= 1)", sw->N[i]);
  if (setT)
    for (PetscInt i = 0; i < sw->nT; i++) PetscCheck(sw->T[i] > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_T: value %g is invalid (T must be > 0)", (double)sw->T[i]);
  PetscCheck(!(setN && setT), PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-sweep_N and -sweep_T: give one of them, not both");
  if (!setT) sw->nT = 0;
  for (PetscInt i = 0; i < sw->nsigma; i++) PetscCheck(sw->sigma[i] >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_sigma: value %g is invalid (sigma must be >= 0)", (double)sw->sigma[i]);
  for (PetscInt i = 0; i < sw->nB; i++) PetscCheck(sw->B[i] >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_B: value %" PetscInt_FMT " is invalid (B must be >= 1)", sw->B[i]);
  PetscCheck(sw->repeats >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_repeats: value %" PetscInt_FMT " is invalid (must be >= 0)", sw->repeats);
  PetscCheck(sw->traj_stride >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_trajectory_stride: value %" PetscInt_FMT " is invalid (must be >= 0)", sw->traj_stride);
  PetscCheck(sw->ref_dt_factor >= 1 && sw->ref_dt_factor == floor(sw->ref_dt_factor), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_ref_dt_factor: value %g is invalid (must be an integer >= 1)", (double)sw->ref_dt_factor);
  PetscCheck(sw->ref_r_extra >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-sweep_ref_r_extra: value %" PetscInt_FMT " is invalid (must be >= 0)", sw->ref_r_extra);
  for (PetscInt i = 0; i < sw->nbase; i++) {
    PetscBool none;
    PetscCall(PetscStrcasecmp(sw->base[i], "none", &none));
    PetscCheck(!none || sw->nbase == 1, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-sweep_baselines: 'none' cannot be combined with baseline types");
    if (none) sw->nbase = 0;
  }
  PetscFunctionReturn(0);
}

/* Every baseline type is known (a TSRK or a symplectic type), and every symplectic one applies to
 * every swept family: refused now, not in every baseline task. A symplectic baseline on a family
 * that is not separable (damped, driven by a drag, position-dependent mass) is a mistake in the
 * sweep definition, not a failed solve: recorded as failed rows it would make the whole sweep
 * exit as failed after hours of work. */
static PetscErrorCode SweepBaselines(SlimSweep sw)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < sw->nbase; i++) {
    SlimRK         rk = NULL;
    PetscBool      sym;
    PetscErrorCode ierr;
    PetscCall(SlimRKTypeIsSymplectic(sw->base[i], &sym));
    for (PetscInt f = 0; sym && f < sw->nfam; f++) {
      PetscBool sep;
      char      why[128];
      PetscCall(SlimFamilyIsSeparable(sw->fam[f], NULL, &sep, why, sizeof(why)));
      PetscCheck(sep, PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-sweep_baselines: symplectic type '%s' does not apply to family '%s': %s; symplectic baselines need a separable family (qdot = v, M vdot = F(q)), run them in a sweep of such families", sw->base[i], sw->famname[f], why);
    }
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = SlimRKCreate(sw->fam[0], sw->fam[0]->theta, sw->base[i], &rk);
    PetscCall(PetscPopErrorHandler());
    PetscCall(SlimRKDestroy(&rk));
    PetscCheck(!ierr, PETSC_COMM_SELF, PETSC_ERR_ARG_UNKNOWN_TYPE, "-sweep_baselines: unknown baseline type '%s' (PETSc TSRK types: " SLIM_RK_TSRK_TYPES "; symplectic: sympl1, sympl2, sympl3, sympl4; or none)", sw->base[i]);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode SweepSolvers(SlimSweep sw, PetscInt nsolver, char solvers[][64])
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < nsolver; i++) {
    PetscBool found = PETSC_FALSE;
    for (PetscInt k = 0; SlimSolverTypes[k] && k < 2; k++) {
      PetscBool eq;
      PetscCall(PetscStrcasecmp(solvers[i], SlimSolverTypes[k], &eq));
      if (eq) sw->solver[i] = (SlimSolverType)k, found = PETSC_TRUE;
    }
    PetscCheck(found, PETSC_COMM_SELF, PETSC_ERR_ARG_UNKNOWN_TYPE, "-sweep_solver: unknown solver '%s' (known: snes, dense)", solvers[i]);
  }
  sw->nsolver = nsolver;
  PetscFunctionReturn(0);
}

static PetscErrorCode SweepFamilies(SlimSweep sw, char names[][64])
{
  PetscFunctionBeginUser;
  for (PetscInt f = 0; f < sw->nfam; f++) {
    PetscCall(PetscStrncpy(sw->famname[f], names[f], SLIM_NAME_LEN));
    for (PetscInt g = 0; g < f; g++) {
      PetscBool eq;
      PetscCall(PetscStrcmp(names[f], names[g], &eq));
      PetscCheck(!eq, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-sweep_family: '%s' is listed twice", names[f]);
    }
    PetscCall(SlimFamilyCreate(names[f], "-sweep_family", &sw->fam[f]));
    PetscCall(SlimFamilySetFromOptions(sw->fam[f]));
  }
  PetscFunctionReturn(0);
}

/* The points: index lexicographic in (family, r, dt, N|T, sigma, B, solver); then the baseline
 * groups (family, dt, N) in order of first appearance. */
static PetscErrorCode SweepEnumerate(SlimSweep sw)
{
  const PetscInt nlen = sw->nT ? sw->nT : sw->nN;
  PetscInt       k    = 0;

  PetscFunctionBeginUser;
  sw->npoints = sw->nfam * sw->nr * sw->ndt * nlen * sw->nsigma * sw->nB * sw->nsolver;
  PetscCall(PetscCalloc1(sw->npoints, &sw->points));
  PetscCall(PetscCalloc1(sw->npoints, &sw->group_point));
  for (PetscInt f = 0; f < sw->nfam; f++)
    for (PetscInt ir = 0; ir < sw->nr; ir++)
      for (PetscInt id = 0; id < sw->ndt; id++)
        for (PetscInt iN = 0; iN < nlen; iN++)
          for (PetscInt is = 0; is < sw->nsigma; is++)
            for (PetscInt iB = 0; iB < sw->nB; iB++)
              for (PetscInt iv = 0; iv < sw->nsolver; iv++, k++) {
                SlimPoint *p = &sw->points[k];
                p->index     = k;
                p->family    = f;
                p->r         = sw->r[ir];
                p->dt        = sw->dt[id];
                p->N         = sw->nT ? PetscMax(1, (PetscInt)llround(sw->T[iN] / sw->dt[id])) : sw->N[iN];
                p->sigma     = sw->sigma[is];
                p->B         = sw->B[iB];
                p->solver    = sw->solver[iv];
                p->seed      = SlimSeedDerive(sw->seed, k);
                p->group     = -1;
                p->cost      = PointCost(sw, p, PETSC_TRUE);
              }
  sw->ngroups = 0;
  for (PetscInt i = 0; i < sw->npoints; i++) {
    SlimPoint *p = &sw->points[i];
    for (PetscInt g = 0; g < sw->ngroups && p->group < 0; g++) {
      SlimPoint *q = &sw->points[sw->group_point[g]];
      if (q->family == p->family && q->dt == p->dt && q->N == p->N) p->group = g;
    }
    if (p->group < 0) {
      p->group                       = sw->ngroups;
      sw->group_point[sw->ngroups++] = i;
    }
  }
  PetscFunctionReturn(0);
}

/* " name=a,b,c" of a real or integer list */
static PetscErrorCode SigReals(char **sig, size_t *len, const char name[], PetscInt n, const PetscReal x[])
{
  PetscFunctionBeginUser;
  PetscCall(AppendSig(sig, len, " %s=", name));
  for (PetscInt i = 0; i < n; i++) PetscCall(AppendSig(sig, len, "%s%.17g", i ? "," : "", (double)x[i]));
  PetscFunctionReturn(0);
}

static PetscErrorCode SigInts(char **sig, size_t *len, const char name[], PetscInt n, const PetscInt x[])
{
  PetscFunctionBeginUser;
  PetscCall(AppendSig(sig, len, " %s=", name));
  for (PetscInt i = 0; i < n; i++) PetscCall(AppendSig(sig, len, "%s%" PetscInt_FMT, i ? "," : "", x[i]));
  PetscFunctionReturn(0);
}

/* Options of the step solver (-slim_*, incl. SNES/KSP/PC) and of the Runge-Kutta baselines
 * (-rk_*) change results (a tolerance, a solver type) but are read inside every task, not by
 * the sweep: the signature lists every such option that is set, by name, with numbers in one
 * canonical form, so that a resume with other solver settings is refused instead of mixing
 * two settings in one file. Diagnostics (monitors, views) change no result and are left out;
 * with none set the signature is that of earlier versions. */
static PetscBool SigSolverOption(const char name[])
{
  static const char *const diag[] = {"monitor", "view", "converged_reason", "log", "test"};
  if (strncmp(name, "slim_", 5) && strncmp(name, "rk_", 3)) return PETSC_FALSE;
  for (size_t i = 0; i < sizeof(diag) / sizeof(diag[0]); i++)
    if (strstr(name, diag[i])) return PETSC_FALSE;
  return PETSC_TRUE;
}

static int CmpStr(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static PetscErrorCode SigSolverOptions(char **sig, size_t *len)
{
  char    *all, *tok, *save, *items[256];
  PetscInt n = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetAll(NULL, &all));
  /* " -name [value] -name ...": a name is '-' and a letter (a value may be a negative number) */
  for (tok = strtok_r(all, " ", &save); tok && n < 256; tok = strtok_r(NULL, " ", &save)) {
    const char *value = NULL;
    char        buf[512], *end;
    double      x;
    if (tok[0] != '-' || !isalpha((unsigned char)tok[1]) || !SigSolverOption(tok + 1)) continue;
    PetscCall(PetscOptionsFindPair(NULL, NULL, tok, &value, NULL));
    if (value && value[0] && (x = strtod(value, &end), !*end)) PetscCall(PetscSNPrintf(buf, sizeof(buf), "%s=%.15g", tok, x));
    else PetscCall(PetscSNPrintf(buf, sizeof(buf), "%s=%s", tok, value ? value : ""));
    for (char *c = buf; *c; c++) *c = (char)tolower((unsigned char)*c);
    PetscCall(PetscStrallocpy(buf, &items[n++]));
  }
  PetscCall(PetscFree(all));
  if (n) {
    qsort(items, (size_t)n, sizeof(items[0]), CmpStr);
    PetscCall(AppendSig(sig, len, " solver_options{"));
    for (PetscInt i = 0; i < n; i++) PetscCall(AppendSig(sig, len, "%s%s", i ? " " : "", items[i]));
    PetscCall(AppendSig(sig, len, "}"));
  }
  for (PetscInt i = 0; i < n; i++) PetscCall(PetscFree(items[i]));
  PetscFunctionReturn(0);
}

/* Everything that defines the points and their results, for resume checks. */
static PetscErrorCode SweepSignature(SlimSweep sw)
{
  size_t   siglen = 0;
  char   **sig    = &sw->signature;
  PetscInt nconf;

  PetscFunctionBeginUser;
  PetscCall(AppendSig(sig, &siglen, "family="));
  for (PetscInt f = 0; f < sw->nfam; f++) {
    SlimFamily fam = sw->fam[f];
    PetscCall(AppendSig(sig, &siglen, "%s%s(", f ? "," : "", fam->name));
    for (PetscInt j = 0; j < fam->nparam; j++) PetscCall(AppendSig(sig, &siglen, "%s=%.17g;", fam->pname[j], (double)fam->theta[j]));
    for (PetscInt a = 0; a < fam->dof; a++) PetscCall(AppendSig(sig, &siglen, "q0=%.17g;v0=%.17g;", (double)fam->q0[a], (double)fam->v0[a]));
    PetscCall(AppendSig(sig, &siglen, ")"));
  }
  PetscCall(SigInts(sig, &siglen, "r", sw->nr, sw->r));
  PetscCall(SigReals(sig, &siglen, "dt", sw->ndt, sw->dt));
  if (sw->nT) PetscCall(SigReals(sig, &siglen, "T", sw->nT, sw->T));
  else PetscCall(SigInts(sig, &siglen, "N", sw->nN, sw->N));
  PetscCall(SigReals(sig, &siglen, "sigma", sw->nsigma, sw->sigma));
  PetscCall(SigInts(sig, &siglen, "B", sw->nB, sw->B));
  PetscCall(AppendSig(sig, &siglen, " solver="));
  for (PetscInt i = 0; i < sw->nsolver; i++) PetscCall(AppendSig(sig, &siglen, "%s%s", i ? "," : "", SlimSolverTypes[sw->solver[i]]));
  PetscCall(AppendSig(sig, &siglen, " baselines="));
  for (PetscInt i = 0; i < sw->nbase; i++) PetscCall(AppendSig(sig, &siglen, "%s%s", i ? "," : "", sw->base[i]));
  PetscCall(AppendSig(sig, &siglen, " repeats=%" PetscInt_FMT " seed=%" PetscInt64_FMT " stride=%" PetscInt_FMT " ref=%g,%" PetscInt_FMT, sw->repeats, sw->seed, sw->traj_stride, (double)sw->ref_dt_factor, sw->ref_r_extra));
  PetscCall(SigSolverOptions(sig, &siglen));
  /* fit settings only when there is fit work, so files of sweeps without fits keep their signature */
  PetscCall(SlimFitGetConfigs(sw->fit, &nconf));
  if (nconf || sw->fit->landscape) {
    char *fs;
    PetscCall(SlimFitGetSignature(sw->fit, &fs));
    /* AppendSig formats into a 1024-byte buffer: add long text in pieces */
    PetscCall(AppendSig(sig, &siglen, " fits{"));
    for (size_t k = 0, len = strlen(fs); k < len; k += 512) PetscCall(AppendSig(sig, &siglen, "%.512s", fs + k));
    PetscCall(AppendSig(sig, &siglen, "}"));
    PetscCall(PetscFree(fs));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimSweepSetFromOptions(SlimSweep sw)
{
  char      names[SLIM_LIST_MAX][64], solvers[SLIM_LIST_MAX][64];
  PetscBool setN, setT;
  PetscInt  nsolver;

  PetscFunctionBeginUser;
  sw->repeats       = 3;
  sw->seed          = 1;
  sw->traj_stride   = 0;
  sw->ref_dt_factor = 4;
  sw->ref_r_extra   = 2;
  PetscCall(SweepOptions(sw, names, solvers, &nsolver, &setN, &setT));
  PetscCall(SweepValidate(sw, setN, setT));
  PetscCall(SweepSolvers(sw, nsolver, solvers));
  PetscCall(SweepFamilies(sw, names));
  PetscCall(SweepBaselines(sw));
  PetscCall(SlimFitSetFromOptions(sw->fit, sw->nfam, sw->fam, sw->ndt, sw->dt));
  PetscCall(SweepEnumerate(sw));
  PetscCall(SweepSignature(sw));
  PetscFunctionReturn(0);
}
