#pragma once
/* SlimFit: recovering a family's coefficients from (noisy) observations -- physics.md, "Fitting
 * Lagrangian coefficients"; options and file layout in docs/fits.md.
 *
 * For one sweep point (a SlimFitProblem) and one configuration (loss x method) SlimFitRun()
 * runs K fits from random initial guesses in a box around the reference parameters:
 *   gd   the weekly report's gradient descent with the damped step
 *          eps = eps0 exp(-(eps0 |grad|)^3),   x <- x - s eps grad
 *        where s in (0, 1] is a backtracking factor (halved when a trial step does not lower the
 *        loss, doubled back after a success; -fit_gd_backtrack 0 gives the report's plain rule).
 *        The K fits advance together: for the trajectory loss every iteration is ONE ensemble
 *        integration of all running fits (SlimFitLoss), so the per-step cost is shared.
 *   tao  any PETSc TAO solver (-fit_tao_type lmvm, nm, ...; every -fit_tao_* option applies),
 *        one fit after the other.
 * Robustness (both general, no family knows of them):
 *   -fit_horizons h1,...,1  trajectory loss: a continuation in the observation window -- stage s
 *        fits the samples within the first fraction h_s of the window, starting from stage s-1's
 *        result (over a short window the loss is nearly convex in the frequencies; over many
 *        periods it is multimodal, and a far guess falls into a wrong basin).
 *   -fit_restarts n, -fit_restart_ls armijo  tao: after a line-search failure (More-Thuente
 *        cannot bracket a step whose evaluation fails, e.g. lmvm's first unit step taking a mass
 *        negative), restart from TAO's last iterate with a fresh TAO and this line search.
 * A fit ends converged (gd: the step s eps |grad| fell below -fit_tol relative to the
 * parameters, or the gradient vanished; tao: TAO's own tests or the same step test), at
 * max-iterations, or diverged with a reason (failed first evaluation, non-finite loss or
 * gradient, failed integration, exploding parameters, a step frozen by the damping, a PETSc
 * error). A diverged fit never stops the others.
 *
 * Everything is deterministic given the problem (seeded data and guesses): results do not depend
 * on which rank runs them, nor on the other members of an ensemble. */
#include <slim/fitloss.h>
#include <slim/options.h>

typedef enum { SLIM_FIT_GD, SLIM_FIT_TAO } SlimFitMethod;
PETSC_EXTERN const char *const SlimFitMethods[];
typedef enum { SLIM_FIT_BOX_RELATIVE, SLIM_FIT_BOX_ABSOLUTE } SlimFitBoxMode;
PETSC_EXTERN const char *const SlimFitBoxModes[];
typedef enum { SLIM_FIT_SCALE_NONE, SLIM_FIT_SCALE_REFERENCE } SlimFitScale;
PETSC_EXTERN const char *const SlimFitScales[];
/* the values stored in /fits/status */
typedef enum { SLIM_FIT_CONVERGED = 0, SLIM_FIT_MAX_IT = 1, SLIM_FIT_DIVERGED = 2 } SlimFitStatus;
PETSC_EXTERN const char *const SlimFitStatusNames[];

#define SLIM_FIT_NAME_LEN 64

typedef struct _n_SlimFit *SlimFit; /* struct in include/slim/private/fitimpl.h */

/* One sweep point as the fits see it. fam->theta are the true parameters of synthetic data, and
 * the reference (box centre) of measured data. */
typedef struct {
  SlimFamily fam;
  PetscInt   r, N;
  PetscReal  dt, sigma;
  PetscInt64 seed;
} SlimFitProblem;

typedef struct {
  PetscReal     theta0[SLIM_MAX_PARAM], theta[SLIM_MAX_PARAM]; /* initial and final, full vectors */
  PetscReal     loss0, loss, gnorm;                            /* gnorm: gradient 2-norm w.r.t. the fitted coordinates */
  PetscInt      its, nevals;                                   /* summed over horizon stages and restarts */
  PetscInt      restarts;                                      /* tao: line-search restarts (-fit_restarts) */
  SlimFitStatus status;
  char          reason[160];
  PetscReal     wall;                                          /* s from the start of the batch to this fit's end, summed over horizon stages */
} SlimFitResult;

/* Errors of one result against the truth (NaN without truth): relative, or absolute where the
 * true value is 0. */
typedef struct {
  PetscReal perr[SLIM_MAX_PARAM], ratio[SLIM_MAX_PARAM], rerr[SLIM_MAX_PARAM];
  PetscBool recovered; /* converged and every ratio (parameter, if no ratios) within recover_tol */
} SlimFitErrors;

/* Statistics over the K fits of one point and configuration. Error, ratio and loss statistics
 * are over the fits that did not diverge (NaN if all did); spread = interquartile range. */
typedef struct {
  PetscInt  n, nconv, nmaxit, ndiv, nrecovered;
  PetscReal frac_conv, frac_recovered;
  PetscReal truth[SLIM_MAX_PARAM], rtruth[SLIM_MAX_PARAM];
  PetscReal perr_med[SLIM_MAX_PARAM], perr_iqr[SLIM_MAX_PARAM];
  PetscReal ratio_med[SLIM_MAX_PARAM], ratio_iqr[SLIM_MAX_PARAM];
  PetscReal rerr_med[SLIM_MAX_PARAM], rerr_iqr[SLIM_MAX_PARAM];
  PetscReal loss_med, loss_iqr, loss_min, its_med;
} SlimFitSummary;

/* Uncertainty of one fit (issue 11): Gauss-Newton covariance at the fitted parameters from the
 * exact residual Jacobian J (SlimFitLossResiduals), linearised about the estimate:
 *   acceleration loss (least squares)   C = s^2 (J^T J)^+
 *   trajectory loss (sum of two norms)  stationary where sum_g w_g J_g^T r_g = 0 with
 *                                       w_g = 1/|r_g| (g = q, qdot residuals): the sandwich
 *                                       C = A^+ (sum_g w_g^2 s_g^2 J_g^T J_g) A^+, A = sum_g w_g J_g^T J_g
 * over the fitted coordinates; s^2 is the given noise variance, or (sigma <= 0) estimated from the
 * residual, |r_g|^2 / n_g scaled by nres / (nres - rank). ^+ is the pseudo-inverse: directions the
 * data do not determine (eigenvalues of A below 1e-10 of the largest; e.g. the overall scale of
 * a Lagrangian, physics.md) are left out, and a parameter that moves along them gets std = Inf.
 * The identifiable ratios do not move along them, so their covariance J_R C J_R^T (J_R by central
 * differences of the family's ratios) is finite. consistent: the truth lies within 3 std of the
 * estimate for every ratio (every fitted parameter for families without ratios); meaningful when
 * the noise dominates the error -- at sigma = 0 the error is the optimiser's and std ~ 0. */
typedef struct {
  PetscInt  nf, rank;                                  /* fitted parameters, identifiable directions */
  PetscReal sigma;                                     /* noise std used (given or estimated) */
  PetscReal std[SLIM_MAX_PARAM];                       /* per family parameter: 0 when not fitted, Inf when not identifiable */
  PetscReal rstd[SLIM_MAX_PARAM];                      /* per ratio */
  PetscReal rcov[SLIM_MAX_PARAM * SLIM_MAX_PARAM];     /* ratio covariance, nratio x nratio */
  PetscReal zmax;                                      /* max |estimate - truth| / std over the tested quantities (NaN without truth) */
  PetscBool consistent;                                /* truth within 3 std (false without truth, or for a diverged fit) */
} SlimFitUncertainty;

PETSC_EXTERN PetscErrorCode SlimFitCreate(SlimFit *fit);
PETSC_EXTERN PetscErrorCode SlimFitDestroy(SlimFit *fit);
/* Reads and validates every -fit_* and -landscape_* option against the sweep's families (a
 * parameter named by an option must exist in each of them) and time steps (measured samples must
 * lie on each step grid), reads -fit_obs_file, and runs the TAO options (prefix fit_) once so
 * that -help lists them and typos are caught before any work. */
PETSC_EXTERN PetscErrorCode SlimFitSetFromOptions(SlimFit fit, PetscInt nfam, const SlimFamily fam[], PetscInt ndt, const PetscReal dt[]);
/* Canonical text of every fit setting that changes results, for resume checks (PetscFree it). */
PETSC_EXTERN PetscErrorCode SlimFitGetSignature(SlimFit fit, char **sig);
/* Whether a point has fit work: K > 0 or a noise slice. Configurations: nloss * nmethod, index
 * c = iloss * nmethod + imethod. */
PETSC_EXTERN PetscErrorCode SlimFitGetConfigs(SlimFit fit, PetscInt *nconf);
PETSC_EXTERN PetscErrorCode SlimFitGetConfig(SlimFit fit, PetscInt c, SlimLossType *loss, SlimFitMethod *method);
/* Indices of the fitted parameters of a family (nf of them). */
PETSC_EXTERN PetscErrorCode SlimFitGetFitted(SlimFit fit, SlimFamily fam, PetscInt *nf, PetscInt idx[]);
/* Rough cost of one loss evaluation of a problem, in the sweep's cost units (task ordering). */
PETSC_EXTERN PetscReal SlimFitEvalCost(SlimFit fit, const SlimFitProblem *prob, SlimLossType loss);

/* The observations of a problem for one loss: synthetic from the truth, or the measured data. */
PETSC_EXTERN PetscErrorCode SlimFitCreateData(SlimFit fit, const SlimFitProblem *prob, SlimLossType loss, SlimFitData *data);
/* The K initial guesses (full parameter vectors, K*np), from the problem's seed. */
PETSC_EXTERN PetscErrorCode SlimFitGuesses(SlimFit fit, const SlimFitProblem *prob, PetscReal theta0[]);
/* K fits of configuration c on data. path (optional) receives K x (max_it+1) x (np+1) numbers:
 * the parameters and loss after every iteration (row 0: the guess), NaN after the end. */
PETSC_EXTERN PetscErrorCode SlimFitRun(SlimFit fit, const SlimFitProblem *prob, PetscInt c, SlimFitData data, SlimFitResult res[], PetscReal path[]);
PETSC_EXTERN PetscErrorCode SlimFitGetErrors(SlimFit fit, const SlimFitProblem *prob, const SlimFitResult *res, SlimFitErrors *err);
/* Uncertainty of result res (fitted on data for problem prob, configuration's loss = the data's);
 * sigma > 0: the known standard deviation of every residual; sigma <= 0: estimated from the
 * residual (use this for the acceleration loss: noise on q and qdot enters its residual too).
 * A diverged fit gives NaN and consistent = false. */
PETSC_EXTERN PetscErrorCode SlimFitGetUncertainty(SlimFit fit, const SlimFitProblem *prob, SlimFitData data, const SlimFitResult *res, PetscReal sigma, SlimFitUncertainty *u);
/* The motion a parameter set predicts at the samples of trajectory data (the "observed vs fitted"
 * output, docs/figures.md /fit_obs): pred[n*3*dof], per sample q, qdot, pi, integrated with the
 * problem's r and the fits' step solver from the data's initial state. *ok says whether the
 * integration worked (pred is NaN otherwise). */
PETSC_EXTERN PetscErrorCode SlimFitPredict(SlimFit fit, const SlimFitProblem *prob, SlimFitData data, const PetscReal theta[], PetscReal pred[], PetscBool *ok);
/* Index of the best result: the lowest final loss among the fits that did not diverge (-1: none). */
PETSC_EXTERN PetscInt SlimFitBest(PetscInt K, const SlimFitResult res[]);
PETSC_EXTERN PetscErrorCode SlimFitSummarize(SlimFit fit, const SlimFitProblem *prob, PetscInt K, const SlimFitResult res[], SlimFitSummary *sum);

/* Noise slice (weekly report figs. 4-5): the loss along slice_n values of the slice parameter
 * (truth x (1 + t), t in [-slice_box, slice_box]), the rest at the truth, against the noisy and
 * the noise-free data; rms = sqrt(mean (L - L_clean)^2), rel = rms / sqrt(mean L_clean^2). */
PETSC_EXTERN PetscErrorCode SlimFitSliceParam(SlimFit fit, SlimFamily fam, PetscInt *j);
PETSC_EXTERN PetscErrorCode SlimFitSlice(SlimFit fit, const SlimFitProblem *prob, SlimFitData data, PetscReal x[], PetscReal loss[], PetscReal loss_clean[], PetscReal *rms, PetscReal *rel);
/* Loss landscape over two parameters (land_n x land_n, the rest at the reference): axes, and rows
 * [i0, i1) of the grid, loss[(i - i0)*n + j] at (p0 = x0[i], p1 = x1[j]) -- one ensemble run. */
PETSC_EXTERN PetscErrorCode SlimFitLandscapeAxes(SlimFit fit, SlimFamily fam, PetscInt idx[2], PetscReal x0[], PetscReal x1[]);
PETSC_EXTERN PetscErrorCode SlimFitLandscapeRows(SlimFit fit, const SlimFitProblem *prob, SlimFitData data, PetscInt i0, PetscInt i1, PetscReal loss[], PetscReal loss_clean[]);
