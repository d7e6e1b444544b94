/* Poynting-Robertson drag on a dust grain (physics.md), in the plane:
 *   L = m |qdot|^2/2 + (1 - beta) GM m/|q|,  K such that the physical-limit force is the drag
 *   F_d = -(beta GM m/(c r^2)) [(qdot.qhat) qhat + qdot]   (dE/dt = qdot.F_d < 0).
 * With a = (1 - beta) GM m, b = beta GM m/c, s = q.qdot, r = |q|:
 *   F  = -a q/r^3 - b h,   h = qdot/r^2 + s q/r^4,   P = m qdot
 *   Fq = -a (I/r^3 - 3 q q^T/r^5) - b (-2 qdot q^T/r^4 + (q qdot^T + s I)/r^4 - 4 s q q^T/r^6)
 *   Fv = -b (I/r^2 + q q^T/r^4)
 * K has no qdot- dependence, so P carries no drag term. */
#include <slim/family.h>
#include <slim/families.h>

enum {
  PR_GM,
  PR_BETA,
  PR_C,
  PR_M,
  PR_NP
};

PetscErrorCode SlimFamilyEval_PR(const PetscReal th[], PetscReal t, const PetscReal q[], const PetscReal v[], SlimEval *e)
{
  const PetscReal GM = th[PR_GM], beta = th[PR_BETA], c = th[PR_C], m = th[PR_M];
  const PetscReal A = (1 - beta) * GM * m, B = beta * GM * m / c;
  const PetscReal r2 = q[0] * q[0] + q[1] * q[1], ir2 = 1 / r2, ir3 = ir2 / PetscSqrtReal(r2), ir4 = ir2 * ir2;
  const PetscReal s = q[0] * v[0] + q[1] * v[1];
  PetscReal       g[2], h[2]; /* gravity and drag directions: F = -A g - B h */

  PetscFunctionBeginUser;
  (void)t;
  for (PetscInt a = 0; a < 2; a++) {
    g[a] = q[a] * ir3;
    h[a] = v[a] * ir2 + s * q[a] * ir4;
  }
  if (e->F)
    for (PetscInt a = 0; a < 2; a++) e->F[a] = -A * g[a] - B * h[a];
  if (e->P)
    for (PetscInt a = 0; a < 2; a++) e->P[a] = m * v[a];
  if (e->Fq)
    for (PetscInt a = 0; a < 2; a++)
      for (PetscInt b = 0; b < 2; b++) {
        const PetscReal d = a == b ? 1 : 0;

        e->Fq[a * 2 + b] = -A * ir3 * (d - 3 * q[a] * q[b] * ir2) - B * ir4 * (-2 * v[a] * q[b] + q[a] * v[b] + s * d - 4 * s * q[a] * q[b] * ir2);
      }
  if (e->Fv)
    for (PetscInt a = 0; a < 2; a++)
      for (PetscInt b = 0; b < 2; b++) e->Fv[a * 2 + b] = -B * ((a == b ? ir2 : 0) + q[a] * q[b] * ir4);
  if (e->Pq) PetscCall(PetscArrayzero(e->Pq, 4));
  if (e->Pv) {
    e->Pv[0] = e->Pv[3] = m;
    e->Pv[1] = e->Pv[2] = 0;
  }
  if (e->Fth)
    for (PetscInt a = 0; a < 2; a++) {
      PetscReal *f = e->Fth + a * PR_NP;

      /* dA/dth and dB/dth applied to -A g - B h */
      f[PR_GM]   = -(1 - beta) * m * g[a] - beta * m / c * h[a];
      f[PR_BETA] = GM * m * g[a] - GM * m / c * h[a];
      f[PR_C]    = B / c * h[a];
      f[PR_M]    = -(1 - beta) * GM * g[a] - beta * GM / c * h[a];
    }
  if (e->Pth)
    for (PetscInt a = 0; a < 2; a++) {
      PetscReal *p = e->Pth + a * PR_NP;

      p[PR_GM] = p[PR_BETA] = p[PR_C] = 0;
      p[PR_M]                         = v[a];
    }
  if (e->Pqth) PetscCall(PetscArrayzero(e->Pqth, PR_NP * 4));
  if (e->Pvth) {
    /* only dPv/dm = I is nonzero */
    PetscCall(PetscArrayzero(e->Pvth, PR_NP * 4));
    e->Pvth[PR_M * 4 + 0] = e->Pvth[PR_M * 4 + 3] = 1;
  }
  PetscFunctionReturn(0);
}

/* Energy of the conservative part; the drag makes it decrease. */
PetscErrorCode SlimFamilyEnergy_PR(const PetscReal th[], PetscReal t, const PetscReal q[], const PetscReal v[], PetscReal *E)
{
  const PetscReal m = th[PR_M];

  PetscFunctionBeginUser;
  (void)t;
  *E = 0.5 * m * (v[0] * v[0] + v[1] * v[1]) - (1 - th[PR_BETA]) * th[PR_GM] * m / PetscSqrtReal(q[0] * q[0] + q[1] * q[1]);
  PetscFunctionReturn(0);
}

/* The orbit sees (1 - beta) GM through gravity and beta GM/c through the drag; m cancels. */
static PetscErrorCode PRRatios(const PetscReal th[], PetscReal r[])
{
  PetscFunctionBeginUser;
  r[0] = (1 - th[PR_BETA]) * th[PR_GM];
  r[1] = th[PR_BETA] * th[PR_GM] / th[PR_C];
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFamilyCreate_PR(SlimFamily fam)
{
  /* physics.md: the primary sources' test case */
  const PetscReal GM = 39.478758435, beta = 0.01153812, c = 63241.3, a = 1.0, ecc = 0.2;

  PetscFunctionBeginUser;
  fam->description    = "Poynting-Robertson drag: L = m |qdot|^2/2 + (1 - beta) GM m/|q|, drag -(beta GM m/(c r^2)) [(qdot.qhat) qhat + qdot]";
  fam->dof            = 2;
  fam->nparam         = PR_NP;
  fam->pname[PR_GM]   = "GM";
  fam->phelp[PR_GM]   = "gravitational parameter GM of the star (AU^3/yr^2)";
  fam->theta[PR_GM]   = GM;
  fam->pname[PR_BETA] = "beta";
  fam->phelp[PR_BETA] = "beta: ratio of radiation pressure to gravity (dimensionless)";
  fam->theta[PR_BETA] = beta;
  fam->pname[PR_C]    = "c";
  fam->phelp[PR_C]    = "speed of light (AU/yr)";
  fam->theta[PR_C]    = c;
  fam->pname[PR_M]    = "m";
  fam->phelp[PR_M]    = "grain mass (cancels from the motion)";
  fam->theta[PR_M]    = 1.0;
  fam->nratio         = 2;
  fam->rname[0]       = "(1-beta)GM";
  fam->rname[1]       = "beta*GM/c";
  /* perihelion of the a = 1 AU, e = 0.2 orbit under the reduced gravity (1 - beta) GM;
   * computed from the default parameters: set -pr_v0 when changing GM or beta */
  fam->q0[0]  = a * (1 - ecc);
  fam->q0[1]  = 0;
  fam->v0[0]  = 0;
  fam->v0[1]  = PetscSqrtReal((1 - beta) * GM * (1 + ecc) / (a * (1 - ecc)));
  fam->linear = PETSC_FALSE;
  fam->eval   = SlimFamilyEval_PR;
  fam->energy = SlimFamilyEnergy_PR;
  fam->exact  = NULL;
  fam->ratios = PRRatios;
  PetscFunctionReturn(0);
}
