#pragma once
/* SlimFamily: a family of nonconservative Lagrangians Lambda = L(q1) - L(q2) + K.
 *
 * The integrator only needs, at one quadrature node in the physical limit (physics.md),
 *     F = [dL/dq + dK/dq_-]_PL      P = [dL/dqdot + dK/dqdot_-]_PL
 * and their derivatives. A family supplies them through one callback, eval(), that fills
 * whichever outputs of a SlimEval are non-NULL, so the same code serves the residual, the
 * Jacobian, the parameter sensitivities of fits and the acceleration loss.
 *
 * Adding a family, three ways (README.md, "Your own system"):
 *  - a specification file (L, K, parameters, initial state) in sweeps/families/: CMake runs
 *    tools/slimgen.py on it and registers the generated family, no C written;
 *  - the same file turned into a plugin by `tools/slimgen.py plugin`, loaded at run time with
 *    -family_plugin (SlimFamilyLoadPlugins());
 *  - by hand: src/families/<name>.c with a SlimFamilyCreate_<Name>() that fills the struct
 *    below, and one SlimFamilyRegister() line in src/family.c. */
#include <petscsys.h>
#include <slim/dense.h>

#define SLIM_MAX_DOF   4
#define SLIM_MAX_PARAM 8
/* Version of this interface (struct layout, callbacks) that plugins are built against: bump on
 * any change of SlimEval or _n_SlimFamily, so a stale plugin is refused with a message instead
 * of crashing. tools/slimgen.py repeats the two limits above. */
#define SLIM_FAMILY_ABI 2

/* Outputs of SlimFamily.eval; every pointer may be NULL (= not wanted).
 * Matrices are row-major: Fq[a*dof+b] = dF_a/dq_b.
 * Parameter derivatives: Fth[a*np+j] = dF_a/dtheta_j.
 * Second derivatives for the acceleration-loss gradient:
 *   Pqth[(j*dof+a)*dof+b] = d^2 P_a/(dq_b dtheta_j), likewise Pvth with qdot. */
typedef struct {
  PetscReal *F, *P;
  PetscReal *Fq, *Fv, *Pq, *Pv;
  PetscReal *Fth, *Pth;
  PetscReal *Pqth, *Pvth;
} SlimEval;

typedef PetscErrorCode (*SlimFamilyEvalFn)(const PetscReal theta[], PetscReal t, const PetscReal q[], const PetscReal v[], SlimEval *e);
typedef PetscErrorCode (*SlimFamilyEnergyFn)(const PetscReal theta[], PetscReal t, const PetscReal q[], const PetscReal v[], PetscReal *E);
/* Exact solution at time t from (q0, v0) at t0; *has = PETSC_FALSE where none exists for these
 * parameters (e.g. an overdamped oscillator, if not implemented). */
typedef PetscErrorCode (*SlimFamilyExactFn)(const PetscReal theta[], PetscReal t0, const PetscReal q0[], const PetscReal v0[], PetscReal t, PetscReal q[], PetscReal v[], PetscBool *has);
/* Identifiable combinations of the parameters (e.g. k/m and lambda/m for the oscillator). */
typedef PetscErrorCode (*SlimFamilyRatiosFn)(const PetscReal theta[], PetscReal ratio[]);

typedef struct _n_SlimFamily *SlimFamily;
struct _n_SlimFamily {
  char               name[64];
  const char        *description;
  PetscInt           dof, nparam, nratio;
  const char        *pname[SLIM_MAX_PARAM];  /* parameter names, used in options -<family>_<pname> */
  const char        *phelp[SLIM_MAX_PARAM];  /* one line: meaning and unit */
  PetscReal          theta[SLIM_MAX_PARAM];  /* current values (defaults until set) */
  const char        *rname[SLIM_MAX_PARAM];  /* names of the identifiable ratios */
  PetscReal          q0[SLIM_MAX_DOF], v0[SLIM_MAX_DOF]; /* default initial state */
  PetscBool          linear;                 /* discrete equations linear: one Newton step is exact */
  SlimFamilyEvalFn   eval;
  SlimFamilyEnergyFn energy;
  SlimFamilyExactFn  exact;                  /* NULL when the family has no closed form */
  SlimFamilyRatiosFn ratios;                 /* NULL when nratio == 0 */
  /* period of each coordinate, 0 = not periodic. Periodic coordinates (angles) are kept in
   * [-period/2, period/2) after every step (like the original code's mod_list) and compared
   * modulo the period (SlimFamilyWrapDifference). */
  PetscReal          period[SLIM_MAX_DOF];
};

/* x mapped into [-p/2, p/2) for p > 0; unchanged for p == 0. */
static inline PetscReal SlimWrapPeriodic(PetscReal x, PetscReal p)
{
  if (!(p > 0)) return x;
  x -= p * PetscFloorReal(x / p + 0.5);
  return x >= 0.5 * p ? x - p : x;
}
/* Wraps the periodic coordinates of q in place. */
static inline void SlimFamilyWrap(SlimFamily fam, PetscReal q[])
{
  for (PetscInt a = 0; a < fam->dof; a++)
    if (fam->period[a] > 0) q[a] = SlimWrapPeriodic(q[a], fam->period[a]);
}
/* q - qref per coordinate, periodic coordinates modulo their period (the shortest way round). */
static inline PetscReal SlimFamilyWrapDifference(SlimFamily fam, PetscInt a, PetscReal q, PetscReal qref)
{
  return SlimWrapPeriodic(q - qref, fam->period[a]);
}

/* Plugins (shared libraries made by `tools/slimgen.py plugin`) export
 *   int SlimPluginABI(void)                             returns SLIM_FAMILY_ABI of their build
 *   PetscErrorCode SlimPluginRegister(SlimPluginRegisterFn reg)   calls reg(name, create) per family
 * and are loaded by SlimFamilyLoadPlugins() from the option -family_plugin file1,file2,... */
typedef PetscErrorCode (*SlimPluginRegisterFn)(const char[], PetscErrorCode (*)(SlimFamily));
PETSC_EXTERN PetscErrorCode SlimFamilyLoadPlugins(void);

PETSC_EXTERN PetscErrorCode SlimFamilyRegister(const char name[], PetscErrorCode (*create)(SlimFamily));
PETSC_EXTERN PetscErrorCode SlimFamilyRegisterAll(void);
/* Names of all registered families, comma separated, for -help and error messages. */
PETSC_EXTERN PetscErrorCode SlimFamilyListNames(char buf[], size_t len);
/* Creates a family by name; an unknown name is an error naming `option` and the value. */
PETSC_EXTERN PetscErrorCode SlimFamilyCreate(const char name[], const char option[], SlimFamily *fam);
PETSC_EXTERN PetscErrorCode SlimFamilyDestroy(SlimFamily *fam);
/* Reads -<name>_<param> and -<name>_q0 / -<name>_v0 from the options database. */
PETSC_EXTERN PetscErrorCode SlimFamilySetFromOptions(SlimFamily fam);
PETSC_EXTERN PetscErrorCode SlimFamilyGetParamIndex(SlimFamily fam, const char pname[], PetscInt *idx);

/* Derived quantities computed from eval() alone, so they hold for every family:
 * momentum pi = P(q, v); velocity from momentum (Newton on P(q, v) = pi, starting from v);
 * acceleration qddot = Pv^{-1} (F - Pq v) and, if dacc != NULL, dqddot/dtheta (dof*np). */
PETSC_EXTERN PetscErrorCode SlimFamilyMomentum(SlimFamily fam, const PetscReal theta[], PetscReal t, const PetscReal q[], const PetscReal v[], PetscReal pi[]);
PETSC_EXTERN PetscErrorCode SlimFamilyVelocity(SlimFamily fam, const PetscReal theta[], PetscReal t, const PetscReal q[], const PetscReal pi[], PetscReal v[]);
PETSC_EXTERN PetscErrorCode SlimFamilyAcceleration(SlimFamily fam, const PetscReal theta[], PetscReal t, const PetscReal q[], const PetscReal v[], PetscReal acc[], PetscReal dacc[]);
/* Whether the equations of motion split as qdot = v, M vdot = F(q) (separable Hamiltonian
 * T(p) + V(q), what symplectic splitting methods need): F independent of qdot and conservative,
 * P = M qdot with a constant mass matrix. Checked from eval() at the initial state and sample
 * states around it; theta == NULL means fam->theta. If not, why[] (len > 0) says what fails. */
PETSC_EXTERN PetscErrorCode SlimFamilyIsSeparable(SlimFamily fam, const PetscReal theta[], PetscBool *sep, char why[], size_t len);


