#pragma once
/* Private to libslim (like PETSc's tsimpl.h): the SlimSweep struct, read by the harness, its task
 * kinds and the point measurements. */
#include <slim/sweep.h>
#include <slim/options.h>
#include <slim/fit.h>

struct _n_SlimSweep {
  PetscInt       nfam, nr, ndt, nN, nT, nsigma, nB, nsolver, nbase;
  char           famname[SLIM_LIST_MAX][SLIM_NAME_LEN];
  SlimFamily     fam[SLIM_LIST_MAX];
  PetscInt       r[SLIM_LIST_MAX], N[SLIM_LIST_MAX], B[SLIM_LIST_MAX];
  PetscReal      dt[SLIM_LIST_MAX], T[SLIM_LIST_MAX], sigma[SLIM_LIST_MAX];
  SlimSolverType solver[SLIM_LIST_MAX];
  char           base[SLIM_LIST_MAX][SLIM_NAME_LEN]; /* TSRK types of the baselines */
  PetscInt       repeats;     /* timed repeats after the (untimed) measurement run */
  PetscInt64     seed;
  PetscInt       traj_stride; /* 0: no trajectories */
  PetscReal      ref_dt_factor; /* reference run: dt / ref_dt_factor ... */
  PetscInt       ref_r_extra;   /* ... and r + ref_r_extra, for families without exact solution */
  PetscInt       npoints, ngroups;
  SlimPoint     *points;
  PetscInt      *group_point;   /* representative point of each baseline group */
  char          *signature;     /* canonical text of everything that defines the points */
  SlimFit        fit;           /* coefficient fits, landscapes and noise slices of the points */
};
