#pragma once
/* Private definition of SlimStepper (public header: include/slim/stepper.h), shared by
 *   stepper.c      object lifecycle, options, state access, the step loop
 *   stepkernel.c   the per-trajectory kernel: residual, node derivatives, Jacobian assembly,
 *                  predictor, convergence test, sensitivities
 *   stepsnes.c     the SNES driver (one block-diagonal solve over the ensemble)
 *   stepdense.c    the plain dense Newton loop (one trajectory at a time)
 * The two drivers run the same kernel, so their cost ratio measures only solver overhead. */
#include <slim/stepper.h>
#include <slim/log.h>

/* Node derivatives of one trajectory: Fq, Fv, Pq, Pv at every node, each n*dof*dof. */
#define SLIM_ND_FQ 0
#define SLIM_ND_FV 1
#define SLIM_ND_PQ 2
#define SLIM_ND_PV 3

/* Which compiled kernel instance runs (-slim_step_kernel): generic (n and dof at run time),
 * dof (compiled for the dof), nodes (compiled for n and dof where r <= 4, else as dof). */
typedef enum {
  SLIM_KERNEL_GENERIC,
  SLIM_KERNEL_DOF,
  SLIM_KERNEL_NODES
} SlimStepKernelType;
PETSC_INTERN const char *const SlimStepKernelTypes[];

typedef struct {
  PetscErrorCode (*eval)(SlimStepper, PetscInt, const PetscReal *, PetscReal *, PetscReal *, PetscBool);
  void (*jacobian)(SlimStepper, const PetscReal *, PetscReal *);
  /* LU of one block (transposed Jacobian) and the solve with it, for the SNES preconditioner */
  PetscInt (*lufactor)(PetscInt, PetscReal *, PetscInt *);
  void (*lusolvet)(PetscInt, const PetscReal *, const PetscInt *, PetscReal *);
} SlimStepOps;

struct _n_SlimStepper {
  SlimFamily     fam;
  SlimStepOps    ops;                          /* kernel compiled for (n, dof), or the generic one */
  SlimStepKernelType kernel;
  SlimQuad       quad;
  PetscInt       r, n, dof, np, B, bs; /* n = r+2 nodes, bs = (r+1)*dof unknowns per trajectory */
  PetscReal      dt, t;
  PetscInt       step;
  SlimSolverType solver;
  PetscReal      rtol, atol, stol, xtol; /* per-trajectory convergence test, see ConvergedKernel() */
  PetscInt       maxit;
  PetscBool      setup, jac_valid, lu_valid; /* cached Jacobian (SNES) / LU factors (dense) of a linear family */
  /* quadrature scaled to dt, with the products the kernel needs precomputed */
  PetscReal *w, *D, *WD, *tau; /* WD_ik = w_i D_ik, tau_i = (1 + x_i) dt/2 */
  PetscReal *WDs;              /* sum_k WD_ik: zero but for the rounding of WD (impulse form of pi_{n+1}) */
  PetscReal *Dt;               /* D transposed: V = D Q as axpy's over contiguous columns */
  /* predictor: the previous step's node polynomial, interpolated at npred of its nodes (degree
   * min(r+1, 3), both end points included), evaluated at the new step's nodes */
  PetscInt   pred_degree, npred;
  PetscReal *Epred;   /* (n-1) x npred extrapolation weights */
  PetscInt  *ipred;   /* the npred node indices of the previous step */
  PetscReal *prev;    /* B*npred*dof: those node values of the last accepted step */
  PetscBool *hasprev; /* B: a previous step exists (not after a (re)start) */
  /* per-trajectory state */
  PetscReal   *theta;         /* B*np */
  PetscReal   *q, *pi, *vpred; /* B*dof: state, and qdot at t_n (first-step predictor) */
  PetscReal   *impulse, *vend; /* B*dof: pi_{n+1} - pi_n and qdot(t_{n+1}) from the latest residual */
  PetscBool    impulse_deferred; /* the dense loop of a nonlinear family: impulse computed once, at acceptance */
  PetscReal   *qlo, *pilo;     /* B*dof: what rounding q and pi dropped (compensated summation) */
  PetscReal   *rsum;           /* B: sum over accepted steps of |R|/M |Z| at the accepted iterate */
  PetscBool   *active;
  SlimFailure *fail;
  PetscReal   *mag;  /* residual scale: largest sum of absolute terms in a row */
  PetscBool   *conv;
  /* node workspace of one trajectory */
  PetscReal *Q, *V, *F, *P, *Racc, *Macc;
  /* node derivatives left by the residual evaluation, for the Jacobian at the same point: one
   * set per trajectory on the SNES path (nd + b*ndstride; ndX holds the unknowns they belong
   * to, ndepoch the epoch they were computed in), one reused set on the dense path */
  PetscReal *nd, *ndX, *ndsens; /* ndsens: the sensitivities' own set */
  size_t     ndstride;
  PetscInt  *ndepoch, epoch;
  /* dense path workspace (also the sensitivities' Jacobian) */
  PetscReal *Jd, *Rd, *Xd, *dXd;
  PetscReal *LU; /* linear families, dense path: B factored blocks, reused every step */
  /* linear families take one residual evaluation per step: the end-point row of the (constant)
   * Jacobian, dpi_{n+1}/dX, updates pi_{n+1} from the predicted to the solved unknowns */
  PetscBool  ksponly;      /* SNES path runs SNESKSPONLY (the default for linear families) */
  PetscReal *Gimp, *Xpred; /* B*(r+1)*dof*dof: d(impulse)/dZ of linear families; B*bs */
  PetscInt  *piv;
  /* forward sensitivities: dq, dpi [B][dof][np]; node parameter derivatives; solve workspace */
  PetscBool  sens;
  PetscReal *dq, *dpi, *dpinew, *Fth, *Pth, *Gth, *Ys;
  PetscInt  *spiv;
  /* SNES path */
  SNES                 snes;
  Mat                  J;
  Vec                  X, R;
  PetscReal           *blu;  /* default PC: B factored blocks (transposed, as BAIJ stores them) */
  PetscInt            *bpiv; /* and their pivots */
  PetscBool            blufresh; /* blu holds the factors of J's values (FormJacobian wrote both) */
  PetscBool            pcjac;    /* during SNESSolve: the block-LU apply assembles and factors J */
  SlimStepStats        stats;
  PetscInt             mon_stride;
  SlimStepperMonitorFn mon;
  void                *mon_ctx;
};

/* Kernel (stepkernel.c) */
PETSC_INTERN PetscErrorCode SlimStepEval(SlimStepper, PetscInt, const PetscReal *, PetscReal *, PetscReal *, PetscBool);
PETSC_INTERN void           SlimStepJacobian(SlimStepper, const PetscReal *, PetscReal *);
PETSC_INTERN void           SlimStepStoreImpulseRow(SlimStepper, PetscInt, const PetscReal *);
PETSC_INTERN void           SlimStepEndUpdate(SlimStepper, PetscInt, const PetscReal *, const PetscReal *);
PETSC_INTERN PetscErrorCode SlimStepSensitivity(SlimStepper, PetscInt, const PetscReal *);
PETSC_INTERN void           SlimStepPredict(SlimStepper, PetscInt, PetscReal *);
PETSC_INTERN void           SlimStepAccept(SlimStepper, PetscInt, const PetscReal *);
PETSC_INTERN void           SlimStepMarkFailed(SlimStepper, PetscInt, SNESConvergedReason);
PETSC_INTERN PetscErrorCode SlimStepSetUpPredictor(SlimStepper);
PETSC_INTERN PetscErrorCode SlimStepSelectKernel(SlimStepper);
/* No Inf or NaN in x[0..n): x - x is 0 for finite x and NaN otherwise (inline, no library call
 * per entry in the hot path). */
static inline PetscBool SlimStepAllFinite(PetscInt n, const PetscReal *x)
{
  PetscReal s = 0;
  for (PetscInt i = 0; i < n; i++) s += x[i] - x[i];
  return (PetscBool)(s == 0);
}
/* Drivers */
PETSC_INTERN PetscErrorCode SlimStepSetUp_SNES(SlimStepper);
PETSC_INTERN PetscErrorCode SlimStepStep_SNES(SlimStepper, PetscInt *);
PETSC_INTERN PetscErrorCode SlimStepStep_Dense(SlimStepper, PetscInt *);
