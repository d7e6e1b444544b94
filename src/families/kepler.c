/* Kepler orbit in the plane: L = m |qdot|^2/2 + GM m/|q|, no K.
 *   F = -GM m q/r^3,  P = m qdot,  Fq = -GM m (I/r^3 - 3 q q^T/r^5).
 * m cancels from the motion, so only GM is identifiable from an orbit. */
#include <slim/family.h>
#include <slim/families.h>

enum {
  KEP_GM,
  KEP_M,
  KEP_NP
};

static PetscErrorCode KeplerEval(const PetscReal th[], PetscReal t, const PetscReal q[], const PetscReal v[], SlimEval *e)
{
  const PetscReal GM = th[KEP_GM], m = th[KEP_M];
  const PetscReal r2 = q[0] * q[0] + q[1] * q[1], ir2 = 1 / r2, ir3 = ir2 / PetscSqrtReal(r2);

  PetscFunctionBeginUser;
  (void)t;
  if (e->F)
    for (PetscInt a = 0; a < 2; a++) e->F[a] = -GM * m * q[a] * ir3;
  if (e->P)
    for (PetscInt a = 0; a < 2; a++) e->P[a] = m * v[a];
  if (e->Fq)
    for (PetscInt a = 0; a < 2; a++)
      for (PetscInt b = 0; b < 2; b++) e->Fq[a * 2 + b] = -GM * m * ir3 * ((a == b ? 1 : 0) - 3 * q[a] * q[b] * ir2);
  if (e->Fv) PetscCall(PetscArrayzero(e->Fv, 4));
  if (e->Pq) PetscCall(PetscArrayzero(e->Pq, 4));
  if (e->Pv) {
    e->Pv[0] = e->Pv[3] = m;
    e->Pv[1] = e->Pv[2] = 0;
  }
  if (e->Fth)
    for (PetscInt a = 0; a < 2; a++) {
      e->Fth[a * KEP_NP + KEP_GM] = -m * q[a] * ir3;
      e->Fth[a * KEP_NP + KEP_M]  = -GM * q[a] * ir3;
    }
  if (e->Pth)
    for (PetscInt a = 0; a < 2; a++) {
      e->Pth[a * KEP_NP + KEP_GM] = 0;
      e->Pth[a * KEP_NP + KEP_M]  = v[a];
    }
  if (e->Pqth) PetscCall(PetscArrayzero(e->Pqth, KEP_NP * 4));
  if (e->Pvth) {
    /* only dPv/dm = I is nonzero */
    PetscCall(PetscArrayzero(e->Pvth, KEP_NP * 4));
    e->Pvth[KEP_M * 4 + 0] = e->Pvth[KEP_M * 4 + 3] = 1;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KeplerEnergy(const PetscReal th[], PetscReal t, const PetscReal q[], const PetscReal v[], PetscReal *E)
{
  const PetscReal m = th[KEP_M];

  PetscFunctionBeginUser;
  (void)t;
  *E = 0.5 * m * (v[0] * v[0] + v[1] * v[1]) - th[KEP_GM] * m / PetscSqrtReal(q[0] * q[0] + q[1] * q[1]);
  PetscFunctionReturn(0);
}

static PetscErrorCode KeplerRatios(const PetscReal th[], PetscReal r[])
{
  PetscFunctionBeginUser;
  r[0] = th[KEP_GM];
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFamilyCreate_Kepler(SlimFamily fam)
{
  const PetscReal GM = 39.478758435, a = 1.0, ecc = 0.5;

  PetscFunctionBeginUser;
  fam->description   = "Kepler orbit in the plane: L = m |qdot|^2/2 + GM m/|q|";
  fam->dof           = 2;
  fam->nparam        = KEP_NP;
  fam->pname[KEP_GM] = "GM";
  fam->phelp[KEP_GM] = "gravitational parameter GM of the central body (AU^3/yr^2)";
  fam->theta[KEP_GM] = GM;
  fam->pname[KEP_M]  = "m";
  fam->phelp[KEP_M]  = "mass of the orbiting body (cancels from the motion)";
  fam->theta[KEP_M]  = 1.0;
  fam->nratio        = 1;
  fam->rname[0]      = "GM";
  /* perihelion of the a = 1, e = 0.5 orbit for the default GM; set -kepler_v0 when changing GM */
  fam->q0[0]  = a * (1 - ecc);
  fam->q0[1]  = 0;
  fam->v0[0]  = 0;
  fam->v0[1]  = PetscSqrtReal(GM * (1 + ecc) / (a * (1 - ecc)));
  fam->linear = PETSC_FALSE;
  fam->eval   = KeplerEval;
  fam->energy = KeplerEnergy;
  fam->exact  = NULL;
  fam->ratios = KeplerRatios;
  PetscFunctionReturn(0);
}
