/* Damped harmonic oscillator (physics.md): L = m qdot^2/2 - k q^2/2, K = -lambda qdot+ q-.
 * F = -k q - lambda qdot, P = m qdot: the discrete equations are linear. */
#include <slim/family.h>
#include <slim/families.h>

enum {
  DHO_M,
  DHO_K,
  DHO_LAMBDA,
  DHO_NP
};

static PetscErrorCode DHOEval(const PetscReal th[], PetscReal t, const PetscReal q[], const PetscReal v[], SlimEval *e)
{
  const PetscReal m = th[DHO_M], k = th[DHO_K], lam = th[DHO_LAMBDA];

  PetscFunctionBeginUser;
  (void)t;
  if (e->F) e->F[0] = -k * q[0] - lam * v[0];
  if (e->P) e->P[0] = m * v[0];
  if (e->Fq) e->Fq[0] = -k;
  if (e->Fv) e->Fv[0] = -lam;
  if (e->Pq) e->Pq[0] = 0;
  if (e->Pv) e->Pv[0] = m;
  if (e->Fth) {
    e->Fth[DHO_M]      = 0;
    e->Fth[DHO_K]      = -q[0];
    e->Fth[DHO_LAMBDA] = -v[0];
  }
  if (e->Pth) {
    e->Pth[DHO_M]      = v[0];
    e->Pth[DHO_K]      = 0;
    e->Pth[DHO_LAMBDA] = 0;
  }
  if (e->Pqth) e->Pqth[DHO_M] = e->Pqth[DHO_K] = e->Pqth[DHO_LAMBDA] = 0;
  if (e->Pvth) {
    e->Pvth[DHO_M]      = 1;
    e->Pvth[DHO_K]      = 0;
    e->Pvth[DHO_LAMBDA] = 0;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode DHOEnergy(const PetscReal th[], PetscReal t, const PetscReal q[], const PetscReal v[], PetscReal *E)
{
  PetscFunctionBeginUser;
  (void)t;
  *E = 0.5 * th[DHO_M] * v[0] * v[0] + 0.5 * th[DHO_K] * q[0] * q[0];
  PetscFunctionReturn(0);
}

/* With g = lambda/m, d = k/m - g^2/4, s = t - t0 and C = v0 + g q0/2:
 *   q = e^{-g s/2} (q0 c(s) + C S(s)),   c = cos(W s), S = sin(W s)/W     (d = W^2 > 0)
 *                                        c = 1,        S = s              (d = 0, critical)
 *                                        c = cosh(mu s), S = sinh(mu s)/mu (d = -mu^2 < 0)
 * and c' = -d S, S' = c give qdot. S is written so that it stays accurate as W, mu -> 0, and the
 * overdamped branch folds e^{-g s/2} into the hyperbolic functions so it cannot overflow for s > 0. */
static PetscErrorCode DHOExact(const PetscReal th[], PetscReal t0, const PetscReal q0[], const PetscReal v0[], PetscReal t, PetscReal q[], PetscReal v[], PetscBool *has)
{
  const PetscReal m = th[DHO_M], k = th[DHO_K], lam = th[DHO_LAMBDA];
  const PetscReal s = t - t0;
  PetscReal       g, d, C, ec, eS; /* ec = e^{-g s/2} c, eS = e^{-g s/2} S */

  PetscFunctionBeginUser;
  *has = PETSC_FALSE;
  if (!(m != 0) || PetscIsInfOrNanReal(k) || PetscIsInfOrNanReal(lam)) PetscFunctionReturn(0);
  g = lam / m;
  d = k / m - 0.25 * g * g;
  C = v0[0] + 0.5 * g * q0[0];
  if (d > 0) {
    const PetscReal W = PetscSqrtReal(d), ed = PetscExpReal(-0.5 * g * s);

    ec = ed * PetscCosReal(W * s);
    eS = ed * PetscSinReal(W * s) / W;
  } else if (d == 0) {
    const PetscReal ed = PetscExpReal(-0.5 * g * s);

    ec = ed;
    eS = ed * s;
  } else {
    /* e^{-g s/2} cosh(mu s) = e^{(mu - g/2) s} (1 + e^{-2 mu s})/2, sinh likewise with expm1 */
    const PetscReal mu = PetscSqrtReal(-d), ep = PetscExpReal((mu - 0.5 * g) * s);

    ec = 0.5 * ep * (1 + PetscExpReal(-2 * mu * s));
    eS = -0.5 * ep * expm1(-2 * mu * s) / mu;
  }
  q[0] = q0[0] * ec + C * eS;
  v[0] = (C - 0.5 * g * q0[0]) * ec - (0.5 * g * C + d * q0[0]) * eS;
  *has = PETSC_TRUE;
  PetscFunctionReturn(0);
}

static PetscErrorCode DHORatios(const PetscReal th[], PetscReal r[])
{
  PetscFunctionBeginUser;
  r[0] = th[DHO_K] / th[DHO_M];
  r[1] = th[DHO_LAMBDA] / th[DHO_M];
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFamilyCreate_DHO(SlimFamily fam)
{
  PetscFunctionBeginUser;
  fam->description       = "damped harmonic oscillator: L = m qdot^2/2 - k q^2/2, K = -lambda qdot+ q-";
  fam->dof               = 1;
  fam->nparam            = DHO_NP;
  fam->pname[DHO_M]      = "m";
  fam->phelp[DHO_M]      = "mass m";
  fam->theta[DHO_M]      = 1.0;
  fam->pname[DHO_K]      = "k";
  fam->phelp[DHO_K]      = "spring constant k";
  fam->theta[DHO_K]      = 1.0;
  fam->pname[DHO_LAMBDA] = "lambda";
  fam->phelp[DHO_LAMBDA] = "damping coefficient lambda (force -lambda qdot)";
  fam->theta[DHO_LAMBDA] = 0.1;
  fam->nratio            = 2;
  fam->rname[0]          = "k/m";
  fam->rname[1]          = "lambda/m";
  fam->q0[0]             = 1.0;
  fam->v0[0]             = 0.0;
  fam->linear            = PETSC_TRUE;
  fam->eval              = DHOEval;
  fam->energy            = DHOEnergy;
  fam->exact             = DHOExact;
  fam->ratios            = DHORatios;
  PetscFunctionReturn(0);
}
