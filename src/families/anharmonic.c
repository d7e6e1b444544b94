/* Anharmonic oscillator (weekly report): L = m qdot^2/2 - k q^2/2 - alpha q^2 qdot^2 with the
 * optional damping K = -lambda qdot+ q-. In the physical limit
 *   F = dL/dq + dK/dq-     = -k q - 2 alpha q qdot^2 - lambda qdot
 *   P = dL/dqdot + dK/dqdot- = (m - 2 alpha q^2) qdot        (K has no qdot- dependence)
 * Pv = m - 2 alpha q^2 vanishes at q^2 = m/(2 alpha): the family is only sensible inside that. */
#include <slim/family.h>
#include <slim/families.h>

enum {
  AH_M,
  AH_K,
  AH_ALPHA,
  AH_LAMBDA,
  AH_NP
};

static PetscErrorCode AnharmonicEval(const PetscReal th[], PetscReal t, const PetscReal q[], const PetscReal v[], SlimEval *e)
{
  const PetscReal m = th[AH_M], k = th[AH_K], al = th[AH_ALPHA], lam = th[AH_LAMBDA];
  const PetscReal x = q[0], y = v[0];

  PetscFunctionBeginUser;
  (void)t;
  if (e->F) e->F[0] = -k * x - 2 * al * x * y * y - lam * y;
  if (e->P) e->P[0] = (m - 2 * al * x * x) * y;
  if (e->Fq) e->Fq[0] = -k - 2 * al * y * y;
  if (e->Fv) e->Fv[0] = -4 * al * x * y - lam;
  if (e->Pq) e->Pq[0] = -4 * al * x * y;
  if (e->Pv) e->Pv[0] = m - 2 * al * x * x;
  if (e->Fth) {
    e->Fth[AH_M]      = 0;
    e->Fth[AH_K]      = -x;
    e->Fth[AH_ALPHA]  = -2 * x * y * y;
    e->Fth[AH_LAMBDA] = -y;
  }
  if (e->Pth) {
    e->Pth[AH_M]      = y;
    e->Pth[AH_K]      = 0;
    e->Pth[AH_ALPHA]  = -2 * x * x * y;
    e->Pth[AH_LAMBDA] = 0;
  }
  if (e->Pqth) {
    e->Pqth[AH_M]      = 0;
    e->Pqth[AH_K]      = 0;
    e->Pqth[AH_ALPHA]  = -4 * x * y;
    e->Pqth[AH_LAMBDA] = 0;
  }
  if (e->Pvth) {
    e->Pvth[AH_M]      = 1;
    e->Pvth[AH_K]      = 0;
    e->Pvth[AH_ALPHA]  = -2 * x * x;
    e->Pvth[AH_LAMBDA] = 0;
  }
  PetscFunctionReturn(0);
}

/* E = qdot dL/dqdot - L = m qdot^2/2 + k q^2/2 - alpha q^2 qdot^2 (conserved when lambda = 0). */
static PetscErrorCode AnharmonicEnergy(const PetscReal th[], PetscReal t, const PetscReal q[], const PetscReal v[], PetscReal *E)
{
  const PetscReal x = q[0], y = v[0];

  PetscFunctionBeginUser;
  (void)t;
  *E = 0.5 * th[AH_M] * y * y + 0.5 * th[AH_K] * x * x - th[AH_ALPHA] * x * x * y * y;
  PetscFunctionReturn(0);
}

static PetscErrorCode AnharmonicRatios(const PetscReal th[], PetscReal r[])
{
  PetscFunctionBeginUser;
  r[0] = th[AH_K] / th[AH_M];
  r[1] = th[AH_ALPHA] / th[AH_M];
  r[2] = th[AH_LAMBDA] / th[AH_M];
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFamilyCreate_Anharmonic(SlimFamily fam)
{
  PetscFunctionBeginUser;
  fam->description      = "anharmonic oscillator: L = m qdot^2/2 - k q^2/2 - alpha q^2 qdot^2, K = -lambda qdot+ q-";
  fam->dof              = 1;
  fam->nparam           = AH_NP;
  fam->pname[AH_M]      = "m";
  fam->phelp[AH_M]      = "mass m";
  fam->theta[AH_M]      = 1.0;
  fam->pname[AH_K]      = "k";
  fam->phelp[AH_K]      = "spring constant k";
  fam->theta[AH_K]      = 1.0;
  fam->pname[AH_ALPHA]  = "alpha";
  fam->phelp[AH_ALPHA]  = "anharmonic coefficient alpha (term -alpha q^2 qdot^2 in L)";
  fam->theta[AH_ALPHA]  = 0.1;
  fam->pname[AH_LAMBDA] = "lambda";
  fam->phelp[AH_LAMBDA] = "damping coefficient lambda (force -lambda qdot)";
  fam->theta[AH_LAMBDA] = 0.0;
  fam->nratio           = 3;
  fam->rname[0]         = "k/m";
  fam->rname[1]         = "alpha/m";
  fam->rname[2]         = "lambda/m";
  fam->q0[0]            = 1.0;
  fam->v0[0]            = 0.0;
  fam->linear           = PETSC_FALSE;
  fam->eval             = AnharmonicEval;
  fam->energy           = AnharmonicEnergy;
  fam->exact            = NULL;
  fam->ratios           = AnharmonicRatios;
  PetscFunctionReturn(0);
}
