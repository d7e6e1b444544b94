/* Family registry and options, plus the quantities every family derives from its eval() alone:
 * momentum, velocity from momentum, acceleration and its parameter sensitivities.
 * Also the small dense solver used across the library. */
#include <float.h>
#include <slim/family.h>
#include <slim/families.h>
#include <slim/options.h>
#include <dlfcn.h>
#include <string.h>

/* the loader's own reason (missing file, wrong architecture, undefined symbol) */
static const char *dlerror_or_unknown(void)
{
  const char *e = dlerror();
  return e ? e : "unknown reason";
}

static PetscFunctionList SlimFamilyList              = NULL;
static PetscBool         SlimFamilyRegisterAllCalled = PETSC_FALSE;
static PetscBool         SlimFamilyFinalizeSet       = PETSC_FALSE;

static PetscErrorCode SlimFamilyFinalizePackage(void)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListDestroy(&SlimFamilyList));
  SlimFamilyRegisterAllCalled = PETSC_FALSE;
  SlimFamilyFinalizeSet       = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* Registering a name twice replaces the constructor (PetscFunctionListAdd semantics). */
PetscErrorCode SlimFamilyRegister(const char name[], PetscErrorCode (*create)(SlimFamily))
{
  PetscFunctionBeginUser;
  if (!SlimFamilyFinalizeSet) {
    /* free the list in PetscFinalize() so that a later PetscInitialize() starts clean */
    PetscCall(PetscRegisterFinalize(SlimFamilyFinalizePackage));
    SlimFamilyFinalizeSet = PETSC_TRUE;
  }
  PetscCall(PetscFunctionListAdd(&SlimFamilyList, name, create));
  PetscFunctionReturn(0);
}

/* Idempotent: one line per built-in family. */
PetscErrorCode SlimFamilyRegisterAll(void)
{
  PetscFunctionBeginUser;
  if (SlimFamilyRegisterAllCalled) PetscFunctionReturn(0);
  SlimFamilyRegisterAllCalled = PETSC_TRUE;
  PetscCall(SlimFamilyRegister("dho", SlimFamilyCreate_DHO));
  PetscCall(SlimFamilyRegister("anharmonic", SlimFamilyCreate_Anharmonic));
  PetscCall(SlimFamilyRegister("kepler", SlimFamilyCreate_Kepler));
  PetscCall(SlimFamilyRegister("pr", SlimFamilyCreate_PR));
  /* the specification files of sweeps/families/, generated at build time */
  PetscCall(SlimFamilyRegisterGenerated());
  PetscFunctionReturn(0);
}

static const char *SlimPluginCurrent = NULL; /* file being loaded, for messages */

/* The registration callback handed to plugins: a plugin may add families, not replace one. */
static PetscErrorCode SlimFamilyRegisterPlugin(const char name[], PetscErrorCode (*create)(SlimFamily))
{
  PetscErrorCode (*old)(SlimFamily) = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListFind(SlimFamilyList, name, &old));
  PetscCheck(!old, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-family_plugin %s: family '%s' is already registered (rename it in its specification file)", SlimPluginCurrent, name);
  PetscCall(SlimFamilyRegister(name, create));
  PetscFunctionReturn(0);
}

/* Loads the plugins named by -family_plugin (made by tools/slimgen.py plugin). Call after
 * SlimFamilyRegisterAll() and before anything that lists families (-help). Idempotent per file. */
PetscErrorCode SlimFamilyLoadPlugins(void)
{
  char     *files[16];
  PetscInt  n = 16;
  PetscBool set;
  static PetscBool loaded = PETSC_FALSE;

  PetscFunctionBeginUser;
  if (loaded) PetscFunctionReturn(0);
  PetscCall(SlimFamilyRegisterAll());
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Family plugins", NULL);
  PetscCall(PetscOptionsStringArray("-family_plugin", "shared libraries made by tools/slimgen.py plugin, comma separated; their families join the registry", "SlimFamilyLoadPlugins", files, &n, &set));
  PetscOptionsEnd();
  loaded = PETSC_TRUE;
  for (PetscInt i = 0; set && i < n; i++) {
    void     *handle;
    int (*abi)(void) = NULL;
    PetscErrorCode (*reg)(SlimPluginRegisterFn) = NULL;
    PetscBool exists;

    SlimPluginCurrent = files[i];
    PetscCall(PetscTestFile(files[i], 'r', &exists));
    PetscCheck(exists, PETSC_COMM_WORLD, PETSC_ERR_FILE_OPEN, "-family_plugin %s: no such readable file", files[i]);
    /* dlopen() directly rather than PetscDLOpen(): its own reason (wrong architecture,
     * undefined symbol) goes into the one-line message */
    {
      char path[PETSC_MAX_PATH_LEN];

      /* a bare name is a file here, not a library to look up on LD_LIBRARY_PATH */
      PetscCall(PetscSNPrintf(path, sizeof(path), "%s%s", strchr(files[i], '/') ? "" : "./", files[i]));
      handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    }
    PetscCheck(handle, PETSC_COMM_WORLD, PETSC_ERR_FILE_OPEN, "-family_plugin %s: cannot be loaded as a shared library (%s)", files[i], dlerror_or_unknown());
    *(void **)&abi = dlsym(handle, "SlimPluginABI");
    *(void **)&reg = dlsym(handle, "SlimPluginRegister");
    PetscCheck(abi && reg, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-family_plugin %s: not a slimsweep family plugin (no SlimPluginABI/SlimPluginRegister; make plugins with tools/slimgen.py plugin)", files[i]);
    PetscCheck(abi() == SLIM_FAMILY_ABI, PETSC_COMM_WORLD, PETSC_ERR_ARG_WRONG, "-family_plugin %s: built for family interface version %d, this slimsweep has version %d: rebuild it with this slimsweep's tools/slimgen.py plugin", files[i], abi(), SLIM_FAMILY_ABI);
    PetscCall(reg(SlimFamilyRegisterPlugin));
    /* the handle stays open: the families' callbacks live in it until the process ends */
  }
  SlimPluginCurrent = NULL;
  for (PetscInt i = 0; set && i < n; i++) PetscCall(PetscFree(files[i]));
  PetscFunctionReturn(0);
}

/* Names separated by ", " in registration order; silently truncated to len - 1 characters. */
PetscErrorCode SlimFamilyListNames(char buf[], size_t len)
{
  const char **names = NULL;
  int          n     = 0;

  PetscFunctionBeginUser;
  if (!len) PetscFunctionReturn(0);
  buf[0] = 0;
  PetscCall(SlimFamilyRegisterAll());
  PetscCall(PetscFunctionListGet(SlimFamilyList, &names, &n));
  /* PETSc 3.18 counts a terminating NULL in n */
  for (int i = 0; i < n && names[i]; i++) {
    if (i) PetscCall(PetscStrlcat(buf, ", ", len));
    PetscCall(PetscStrlcat(buf, names[i], len));
  }
  PetscCall(PetscFree(names));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFamilyCreate(const char name[], const char option[], SlimFamily *fam)
{
  PetscErrorCode (*create)(SlimFamily) = NULL;
  SlimFamily f;

  PetscFunctionBeginUser;
  *fam = NULL;
  PetscCall(SlimFamilyRegisterAll());
  if (name) PetscCall(PetscFunctionListFind(SlimFamilyList, name, &create));
  if (!create) {
    char known[256];

    PetscCall(SlimFamilyListNames(known, sizeof(known)));
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_UNKNOWN_TYPE, "%s: unknown family '%s' (known: %s)", option ? option : "family", name ? name : "(null)", known);
  }
  PetscCall(PetscNew(&f));
  PetscCall(PetscStrncpy(f->name, name, sizeof(f->name)));
  PetscCall((*create)(f));
  /* catch a malformed constructor here rather than as an overflow in the stepper */
  PetscCheck(f->dof >= 1 && f->dof <= SLIM_MAX_DOF, PETSC_COMM_SELF, PETSC_ERR_PLIB, "family '%s': dof %" PetscInt_FMT " not in [1, %d]", name, f->dof, SLIM_MAX_DOF);
  PetscCheck(f->nparam >= 0 && f->nparam <= SLIM_MAX_PARAM, PETSC_COMM_SELF, PETSC_ERR_PLIB, "family '%s': nparam %" PetscInt_FMT " not in [0, %d]", name, f->nparam, SLIM_MAX_PARAM);
  PetscCheck(f->nratio >= 0 && f->nratio <= SLIM_MAX_PARAM, PETSC_COMM_SELF, PETSC_ERR_PLIB, "family '%s': nratio %" PetscInt_FMT " not in [0, %d]", name, f->nratio, SLIM_MAX_PARAM);
  PetscCheck(f->eval && f->energy && (f->ratios || !f->nratio), PETSC_COMM_SELF, PETSC_ERR_PLIB, "family '%s': constructor left eval, energy or ratios unset", name);
  for (PetscInt a = 0; a < f->dof; a++) PetscCheck(f->period[a] >= 0 && !PetscIsInfOrNanReal(f->period[a]), PETSC_COMM_SELF, PETSC_ERR_PLIB, "family '%s': period of coordinate %" PetscInt_FMT " is %g (0: not periodic)", name, a, (double)f->period[a]);
  *fam = f;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFamilyDestroy(SlimFamily *fam)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(*fam));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFamilyGetParamIndex(SlimFamily fam, const char pname[], PetscInt *idx)
{
  char known[256] = "";

  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < fam->nparam; j++) {
    PetscBool same;

    PetscCall(PetscStrcmp(fam->pname[j], pname, &same));
    if (same) {
      *idx = j;
      PetscFunctionReturn(0);
    }
  }
  for (PetscInt j = 0; j < fam->nparam; j++) {
    if (j) PetscCall(PetscStrlcat(known, ", ", sizeof(known)));
    PetscCall(PetscStrlcat(known, fam->pname[j], sizeof(known)));
  }
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "family '%s' has no parameter '%s' (parameters: %s)", fam->name, pname ? pname : "(null)", known);
}

/* Reads into copies and validates after PetscOptionsEnd(), so a rejected value leaves fam
 * untouched. Only this family's options are registered: see SlimFamilyOptionsHelpAll() for -help. */
PetscErrorCode SlimFamilySetFromOptions(SlimFamily fam)
{
  const PetscInt n = fam->dof;
  PetscReal      theta[SLIM_MAX_PARAM], x0[2][SLIM_MAX_DOF];
  PetscBool      set[2]   = {PETSC_FALSE, PETSC_FALSE};
  const char    *sname[2] = {"q0", "v0"};
  const char    *shelp[2] = {"initial position", "initial velocity"};
  char           title[128], opt[160], help[128];

  PetscFunctionBeginUser;
  PetscCall(PetscArraycpy(theta, fam->theta, fam->nparam));
  PetscCall(PetscArraycpy(x0[0], fam->q0, n));
  PetscCall(PetscArraycpy(x0[1], fam->v0, n));
  PetscCall(PetscSNPrintf(title, sizeof(title), "%s parameters", fam->name));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, title, NULL);
  for (PetscInt j = 0; j < fam->nparam; j++) {
    PetscCall(PetscSNPrintf(opt, sizeof(opt), "-%s_%s", fam->name, fam->pname[j]));
    PetscCall(SlimOptionsReal(opt, fam->phelp[j], "SlimFamilySetFromOptions", theta[j], &theta[j], NULL));
  }
  for (PetscInt s = 0; s < 2; s++) {
    PetscInt cnt = n; /* n entries: -help shows the default state */

    PetscCall(PetscSNPrintf(opt, sizeof(opt), "-%s_%s", fam->name, sname[s]));
    PetscCall(PetscSNPrintf(help, sizeof(help), "%s: %" PetscInt_FMT " comma-separated values", shelp[s], n));
    PetscCall(SlimOptionsRealArray(opt, help, "SlimFamilySetFromOptions", x0[s], &cnt, &set[s]));
  }
  PetscOptionsEnd();

  for (PetscInt j = 0; j < fam->nparam; j++) {
    PetscCall(PetscSNPrintf(opt, sizeof(opt), "-%s_%s", fam->name, fam->pname[j]));
    PetscCheck(!PetscIsInfOrNanReal(theta[j]), PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "%s: value %g is not finite", opt, (double)theta[j]);
  }
  for (PetscInt s = 0; s < 2; s++) {
    PetscReal buf[64];
    PetscInt  cnt = 64;

    if (!set[s]) continue;
    PetscCall(PetscSNPrintf(opt, sizeof(opt), "-%s_%s", fam->name, sname[s]));
    /* PetscOptionsRealArray() silently drops surplus values: count them with a larger buffer */
    PetscCall(PetscOptionsGetRealArray(NULL, NULL, opt, buf, &cnt, NULL));
    PetscCheck(cnt == n, PETSC_COMM_WORLD, PETSC_ERR_ARG_SIZ, "%s: expected %" PetscInt_FMT " comma-separated values (dof of family '%s'), got %" PetscInt_FMT, opt, n, fam->name, cnt);
    for (PetscInt a = 0; a < n; a++) PetscCheck(!PetscIsInfOrNanReal(x0[s][a]), PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "%s: value %g is not finite", opt, (double)x0[s][a]);
  }
  PetscCall(PetscArraycpy(fam->theta, theta, fam->nparam));
  PetscCall(PetscArraycpy(fam->q0, x0[0], n));
  PetscCall(PetscArraycpy(fam->v0, x0[1], n));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFamilyOptionsHelpAll(void)
{
  const char **names = NULL;
  int          n     = 0;

  PetscFunctionBeginUser;
  PetscCall(SlimFamilyRegisterAll());
  PetscCall(PetscFunctionListGet(SlimFamilyList, &names, &n));
  for (int i = 0; i < n && names[i]; i++) {
    SlimFamily fam;

    PetscCall(SlimFamilyCreate(names[i], "SlimFamilyOptionsHelpAll", &fam));
    PetscCall(SlimFamilySetFromOptions(fam));
    PetscCall(SlimFamilyDestroy(&fam));
  }
  PetscCall(PetscFree(names));
  PetscFunctionReturn(0);
}

/* theta == NULL in the three functions below means fam->theta. */
PetscErrorCode SlimFamilyMomentum(SlimFamily fam, const PetscReal theta[], PetscReal t, const PetscReal q[], const PetscReal v[], PetscReal pi[])
{
  SlimEval e = {NULL};

  PetscFunctionBeginUser;
  e.P = pi;
  PetscCall(fam->eval(theta ? theta : fam->theta, t, q, v, &e));
  PetscFunctionReturn(0);
}

/* v[] is the initial guess on entry (the previous velocity is a good one) and the solution on
 * exit. Newton on P(q, v) = pi; for families with P linear in v one step is exact. */
PetscErrorCode SlimFamilyVelocity(SlimFamily fam, const PetscReal theta[], PetscReal t, const PetscReal q[], const PetscReal pi[], PetscReal v[])
{
  const PetscInt  n = fam->dof, maxit = 50;
  const PetscReal rtol = 1e-15;
  PetscReal       r[SLIM_MAX_DOF], Pv[SLIM_MAX_DOF * SLIM_MAX_DOF], vscale = 0, prev = PETSC_MAX_REAL, dvn = 0;
  SlimEval        e = {NULL};

  PetscFunctionBeginUser;
  if (!theta) theta = fam->theta;
  e.P  = r;
  e.Pv = Pv;
  for (PetscInt it = 0; it < maxit; it++) {
    PetscReal vn = 0;

    PetscCall(fam->eval(theta, t, q, v, &e));
    if (it == 0) {
      /* absolute scale for v ~ 0: the guess and |pi|/|Pv| */
      PetscReal pin = 0, pvn = 0;

      for (PetscInt a = 0; a < n; a++) pin = PetscMax(pin, PetscAbsReal(pi[a]));
      for (PetscInt a = 0; a < n * n; a++) pvn = PetscMax(pvn, PetscAbsReal(Pv[a]));
      for (PetscInt a = 0; a < n; a++) vscale = PetscMax(vscale, PetscAbsReal(v[a]));
      if (pvn > 0) vscale = PetscMax(vscale, pin / pvn);
    }
    for (PetscInt a = 0; a < n; a++) r[a] -= pi[a];
    PetscCall(SlimDenseSolve(n, Pv, r, 1));
    dvn = 0;
    for (PetscInt a = 0; a < n; a++) {
      v[a] -= r[a];
      dvn = PetscMax(dvn, PetscAbsReal(r[a]));
      vn  = PetscMax(vn, PetscAbsReal(v[a]));
    }
    PetscCheck(!PetscIsInfOrNanReal(dvn), PETSC_COMM_SELF, PETSC_ERR_NOT_CONVERGED, "SlimFamilyVelocity (%s): Newton produced a non-finite step at iteration %" PetscInt_FMT, fam->name, it);
    /* relative test; a step below the smallest normal number is converged at any scale (a
     * strongly damped motion decays into denormals, where rtol * |v| underflows to zero) */
    if (dvn <= PetscMax(rtol * PetscMax(vn, vscale), DBL_MIN)) PetscFunctionReturn(0);
    /* rounding floor: the step stopped shrinking while already tiny */
    if (dvn >= prev && dvn <= 1e3 * rtol * PetscMax(vn, vscale)) PetscFunctionReturn(0);
    prev = dvn;
  }
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_NOT_CONVERGED, "SlimFamilyVelocity (%s): Newton on P(q, v) = pi did not converge in %" PetscInt_FMT " iterations (last step %g)", fam->name, maxit, (double)dvn);
}

/* Pv qddot = F - Pq v (dP/dt = F without explicit time dependence); differentiating at fixed
 * (q, v): Pv dqddot/dth_j = dF/dth_j - (dPq/dth_j) v - (dPv/dth_j) qddot. dacc[a*np+j]. */
PetscErrorCode SlimFamilyAcceleration(SlimFamily fam, const PetscReal theta[], PetscReal t, const PetscReal q[], const PetscReal v[], PetscReal acc[], PetscReal dacc[])
{
  const PetscInt  n = fam->dof, np = fam->nparam;
  PetscReal       F[SLIM_MAX_DOF], Pq[SLIM_MAX_DOF * SLIM_MAX_DOF], Pv[SLIM_MAX_DOF * SLIM_MAX_DOF], Pv2[SLIM_MAX_DOF * SLIM_MAX_DOF];
  PetscReal       Fth[SLIM_MAX_DOF * SLIM_MAX_PARAM], Pqth[SLIM_MAX_PARAM * SLIM_MAX_DOF * SLIM_MAX_DOF], Pvth[SLIM_MAX_PARAM * SLIM_MAX_DOF * SLIM_MAX_DOF];
  PetscReal       rhs[SLIM_MAX_PARAM * SLIM_MAX_DOF];
  const PetscBool sens = (PetscBool)(dacc && np > 0);
  SlimEval        e    = {NULL};

  PetscFunctionBeginUser;
  if (!theta) theta = fam->theta;
  e.F  = F;
  e.Pq = Pq;
  e.Pv = Pv;
  if (sens) {
    e.Fth  = Fth;
    e.Pqth = Pqth;
    e.Pvth = Pvth;
  }
  PetscCall(fam->eval(theta, t, q, v, &e));
  for (PetscInt a = 0; a < n; a++) {
    PetscReal s = F[a];

    for (PetscInt b = 0; b < n; b++) s -= Pq[a * n + b] * v[b];
    acc[a] = s;
  }
  if (sens) PetscCall(PetscArraycpy(Pv2, Pv, n * n)); /* the solve destroys Pv */
  PetscCall(SlimDenseSolve(n, Pv, acc, 1));
  if (!sens) PetscFunctionReturn(0);
  for (PetscInt j = 0; j < np; j++) {
    for (PetscInt a = 0; a < n; a++) {
      const PetscReal *pq = Pqth + (j * n + a) * n, *pv = Pvth + (j * n + a) * n;
      PetscReal        s = Fth[a * np + j];

      for (PetscInt b = 0; b < n; b++) s -= pq[b] * v[b] + pv[b] * acc[b];
      rhs[j * n + a] = s;
    }
  }
  PetscCall(SlimDenseSolve(n, Pv2, rhs, np));
  for (PetscInt a = 0; a < n; a++)
    for (PetscInt j = 0; j < np; j++) dacc[a * np + j] = rhs[j * n + a];
  PetscFunctionReturn(0);
}


/* Deterministic sample states for SlimFamilyIsSeparable: the family's initial state and a few
 * states around it (scaled by its size, so a Kepler orbit is not sampled at the singularity). */
static void SeparableSample(SlimFamily fam, PetscInt s, PetscReal *t, PetscReal q[], PetscReal v[])
{
  static const PetscReal c[] = {0.31, -0.17, 0.23, -0.29, 0.11, 0.37, -0.13, 0.19};
  PetscReal              qs = 0, vs = 0;

  for (PetscInt a = 0; a < fam->dof; a++) qs = PetscMax(qs, PetscAbsReal(fam->q0[a])), vs = PetscMax(vs, PetscAbsReal(fam->v0[a]));
  if (qs == 0) qs = 1;
  if (vs == 0) vs = 1;
  *t = 0.7 * s;
  for (PetscInt a = 0; a < fam->dof; a++) {
    q[a] = fam->q0[a] + (s ? c[(s + a) % 8] * qs : 0);
    v[a] = fam->v0[a] + (s ? c[(s + 3 * a + 4) % 8] * vs : 0);
  }
}

/* A symplectic splitting (qdot = v, M vdot = F(q)) needs F independent of qdot, F conservative
 * (dF/dq symmetric: F = -grad V) and P = M qdot + const with a constant mass matrix M. The family
 * interface does not declare this, so it is checked from eval() at SLIM_SEPARABLE_SAMPLES states
 * (the initial state and states around it), to 1e-12 relative to the largest |dF/dq|, |dP/dqdot|. */
#define SLIM_SEPARABLE_SAMPLES 5
PetscErrorCode SlimFamilyIsSeparable(SlimFamily fam, const PetscReal theta[], PetscBool *sep, char why[], size_t len)
{
  const PetscInt n = fam->dof, nn = n * n;
  PetscReal      Fq[SLIM_SEPARABLE_SAMPLES][SLIM_MAX_DOF * SLIM_MAX_DOF], Fv[SLIM_SEPARABLE_SAMPLES][SLIM_MAX_DOF * SLIM_MAX_DOF];
  PetscReal      Pq[SLIM_SEPARABLE_SAMPLES][SLIM_MAX_DOF * SLIM_MAX_DOF], Pv[SLIM_SEPARABLE_SAMPLES][SLIM_MAX_DOF * SLIM_MAX_DOF];
  PetscReal      scale = 0, tol;
  const char    *bad   = NULL;

  PetscFunctionBeginUser;
  PetscCheck(fam && sep, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "SlimFamilyIsSeparable: family and sep must not be NULL");
  if (!theta) theta = fam->theta;
  for (PetscInt s = 0; s < SLIM_SEPARABLE_SAMPLES; s++) {
    PetscReal t, q[SLIM_MAX_DOF], v[SLIM_MAX_DOF];
    SlimEval  e = {NULL};

    SeparableSample(fam, s, &t, q, v);
    e.Fq = Fq[s], e.Fv = Fv[s], e.Pq = Pq[s], e.Pv = Pv[s];
    PetscCall(fam->eval(theta, t, q, v, &e));
    for (PetscInt k = 0; k < nn; k++) scale = PetscMax(scale, PetscMax(PetscAbsReal(Fq[s][k]), PetscAbsReal(Pv[s][k])));
  }
  tol = 1e-12 * scale;
  for (PetscInt s = 0; s < SLIM_SEPARABLE_SAMPLES && !bad; s++)
    for (PetscInt a = 0; a < n && !bad; a++)
      for (PetscInt b = 0; b < n && !bad; b++) {
        const PetscInt k = a * n + b;
        if (!(PetscAbsReal(Fv[s][k]) <= tol)) bad = "the force depends on the velocity (dF/dqdot != 0)";
        else if (!(PetscAbsReal(Fq[s][k] - Fq[s][b * n + a]) <= tol)) bad = "the force is not conservative (dF/dq not symmetric)";
        else if (!(PetscAbsReal(Pq[s][k]) <= tol)) bad = "the momentum depends on the position (dP/dq != 0)";
        else if (!(PetscAbsReal(Pv[s][k] - Pv[0][k]) <= tol)) bad = "the mass matrix dP/dqdot is not constant";
      }
  *sep = bad ? PETSC_FALSE : PETSC_TRUE;
  if (why) PetscCall(PetscStrncpy(why, bad ? bad : "", len));
  PetscFunctionReturn(0);
}
