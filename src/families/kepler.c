/* Kepler orbit in the plane: L = m |qdot|^2/2 + GM m/|q|, no K.
 *   F = -GM m q/r^3,  P = m qdot,  Fq = -GM m (I/r^3 - 3 q q^T/r^5).
 * This is the Poynting-Robertson family without radiation (beta = 0), so its callbacks are
 * those of pr.c with the parameters (GM, m) mapped onto (GM, beta = 0, c, m); only the
 * derivatives with respect to GM and m are kept. m cancels from the motion: only GM is
 * identifiable from an orbit. */
#include <slim/family.h>
#include <slim/families.h>

enum { KEP_GM, KEP_M, KEP_NP };
enum { PR_GM, PR_BETA, PR_C, PR_M, PR_NP }; /* pr.c's parameter order */

static void ToPR(const PetscReal th[], PetscReal pr[])
{
  pr[PR_GM]   = th[KEP_GM];
  pr[PR_BETA] = 0;
  pr[PR_C]    = 1; /* irrelevant at beta = 0 */
  pr[PR_M]    = th[KEP_M];
}

static PetscErrorCode KeplerEval(const PetscReal th[], PetscReal t, const PetscReal q[], const PetscReal v[], SlimEval *e)
{
  const PetscInt map[KEP_NP] = {PR_GM, PR_M};
  PetscReal      pr[PR_NP], Fth[2 * PR_NP], Pth[2 * PR_NP], Pqth[PR_NP * 4], Pvth[PR_NP * 4];
  SlimEval       f = *e;

  PetscFunctionBeginUser;
  ToPR(th, pr);
  /* parameter derivatives come back in pr.c's layout; keep the columns of GM and m */
  f.Fth  = e->Fth ? Fth : NULL;
  f.Pth  = e->Pth ? Pth : NULL;
  f.Pqth = e->Pqth ? Pqth : NULL;
  f.Pvth = e->Pvth ? Pvth : NULL;
  PetscCall(SlimFamilyEval_PR(pr, t, q, v, &f));
  for (PetscInt j = 0; j < KEP_NP; j++) {
    for (PetscInt a = 0; a < 2; a++) {
      if (e->Fth) e->Fth[a * KEP_NP + j] = Fth[a * PR_NP + map[j]];
      if (e->Pth) e->Pth[a * KEP_NP + j] = Pth[a * PR_NP + map[j]];
    }
    if (e->Pqth) PetscCall(PetscArraycpy(e->Pqth + j * 4, Pqth + map[j] * 4, 4));
    if (e->Pvth) PetscCall(PetscArraycpy(e->Pvth + j * 4, Pvth + map[j] * 4, 4));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode KeplerEnergy(const PetscReal th[], PetscReal t, const PetscReal q[], const PetscReal v[], PetscReal *E)
{
  PetscReal pr[PR_NP];

  PetscFunctionBeginUser;
  ToPR(th, pr);
  PetscCall(SlimFamilyEnergy_PR(pr, t, q, v, E));
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
