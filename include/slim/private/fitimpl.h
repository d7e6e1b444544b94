#pragma once
/* Private to libslim's fit sources (src/fit*.c) and the fit task kinds: the SlimFit and
 * SlimFitData structs and helpers shared by the fit sources. */
#include <petsctao.h>
#include <slim/fit.h>
#include <slim/private/util.h>

#define SLIM_FIT_MAX_HORIZON 16

struct _n_SlimFit {
  /* configurations: every loss with every method, same data and same initial guesses */
  PetscInt       guesses;                                    /* K; 0: no fits */
  PetscInt       nloss, nmethod;
  SlimLossType   loss[2];
  SlimFitMethod  method[2];
  char           tao_type[SLIM_FIT_NAME_LEN];
  char           params[SLIM_MAX_PARAM][SLIM_FIT_NAME_LEN];   /* fitted parameters; nparams = 0: all */
  PetscInt       nparams;
  /* initial guesses */
  SlimFitBoxMode box_mode;
  PetscReal      box, box_lo[SLIM_MAX_PARAM], box_hi[SLIM_MAX_PARAM];
  SlimFitScale   scale;
  /* descent */
  PetscReal      eps0, tol, explode, recover_tol;
  PetscInt       max_it;
  PetscBool      backtrack;
  /* robustness: horizon continuation (trajectory loss) and line-search restarts (tao) */
  PetscInt       nhorizon;
  PetscReal      horizon[SLIM_FIT_MAX_HORIZON];               /* increasing fractions, the last 1 */
  PetscInt       restarts;
  char           restart_ls[SLIM_FIT_NAME_LEN];
  /* data */
  PetscInt       obs_stride, grid;
  PetscBool      qrange_set, vrange_set;
  PetscReal      qrange[2], vrange[2];
  SlimSolverType solver;
  char           obs_file[PETSC_MAX_PATH_LEN], obs_dataset[256];
  PetscInt       obs_rows, obs_cols;
  PetscReal     *obs;                                        /* measured data, NULL: synthetic */
  /* extra outputs */
  PetscBool      store_path;
  char           slice_param[SLIM_FIT_NAME_LEN];
  PetscInt       slice_n;
  PetscReal      slice_box;
  char           land_params[2][SLIM_FIT_NAME_LEN];
  PetscBool      landscape, land_bounds_set;
  PetscInt       land_n, land_rows;
  PetscReal      land_box, land_bounds[4];
};

struct _n_SlimFitData {
  SlimLossType kind;
  PetscInt     dof, n;                          /* n observations */
  PetscReal    dt, t0, q0[SLIM_MAX_DOF], v0[SLIM_MAX_DOF]; /* trajectory: prediction start */
  PetscInt    *step;                            /* trajectory: steps after t0 of each sample, increasing */
  PetscReal   *t;                               /* n sample times (trajectory), observation times (acceleration: the drive phase) */
  PetscReal   *q, *v, *a;                       /* n*dof each; a for acceleration data only */
  PetscReal   *qc, *vc, *ac;                    /* noise-free copies, NULL for measured data */
  PetscReal    sigma;
  PetscInt     ndropped;                        /* acceleration grid points without a finite qddot */
};

/* The optimisers work in coordinates x_i = theta[idx[i]] / scale[i] (src/fitrun.c; TAO in
 * src/fittao.c). */
typedef struct {
  SlimFit     fit;
  SlimFamily  fam;
  SlimFitLoss loss;
  PetscInt    np, nf, idx[SLIM_MAX_PARAM];
  PetscReal   scale[SLIM_MAX_PARAM], ref[SLIM_MAX_PARAM]; /* ref: full parameter vector */
  PetscReal   bound[SLIM_MAX_PARAM];                       /* |x_i| beyond this: exploded */
  PetscReal  *path;                                        /* this fit's rows, or NULL */
  PetscInt    row0;                                        /* path row of TAO's iteration 0 (restarts) */
  PetscInt    max_its;                                     /* TAO iterations of a fit, over its restarts */
  /* tao */
  PetscInt    nevals;
  PetscBool   failed, stepconv, have_prev;
  char        failure[160];
  PetscReal   xprev[SLIM_MAX_PARAM];
} SlimFitCtx;

PETSC_INTERN void           SlimFitCtxToTheta(const SlimFitCtx *c, const PetscReal x[], PetscReal th[]);
PETSC_INTERN void           SlimFitCtxToX(const SlimFitCtx *c, const PetscReal th[], PetscReal x[]);
PETSC_INTERN void           SlimFitCtxGradX(const SlimFitCtx *c, const PetscReal gth[], PetscReal gx[]);
PETSC_INTERN PetscReal      SlimFitNorm2(PetscInt n, const PetscReal x[]);
PETSC_INTERN PetscBool      SlimFitCtxAtZeroLoss(const SlimFitCtx *c, const PetscReal x[], PetscReal f, PetscReal gn);
PETSC_INTERN const char    *SlimFitCtxExploded(const SlimFitCtx *c, const PetscReal x[]);
PETSC_INTERN void           SlimFitCtxPathRow(const SlimFitCtx *c, PetscReal *path, PetscInt row, const PetscReal x[], PetscReal f);
/* One TAO fit from theta0 (restarted with -fit_restart_ls after a line-search failure). */
PETSC_INTERN PetscErrorCode SlimFitTaoSolve(SlimFitCtx *c, TaoType type, const PetscReal theta0[], SlimFitResult *res);

/* A TAO object for the fits: prefix fit_, type -fit_tao_type, -fit_max_it iterations. */
PETSC_INTERN PetscErrorCode SlimFitTaoCreate(SlimFit fit, Tao *tao);
/* Loss (and, fclean != NULL, noise-free loss) of nb parameter sets on data: one SlimFitLoss
 * for the batch, destroyed also when the evaluation fails. */
PETSC_INTERN PetscErrorCode SlimFitEvaluateSets(SlimFit fit, const SlimFitProblem *prob, SlimFitData data, PetscInt nb, const PetscReal theta[], PetscReal f[], PetscReal fclean[], SlimFitEval ev[]);

/* Most acceleration-loss grid points (-fit_grid^(2 dof)) of one family: memory and time grow as
 * grid^(2 dof); larger grids are refused with the options. */
#define SLIM_FIT_GRID_MAX (1 << 20)
