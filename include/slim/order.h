#pragma once
/* SlimOrder: the observed convergence order of the asymptotic regime from errors at several
 * time steps (issue 11; analysis/slimresults.py order_estimate() is the same algorithm, and
 * tests/data/order_cases.txt holds the cases both must agree on).
 *
 * A least-squares slope of log err against log dt over every point mixes regimes: the coarsest
 * steps are pre-asymptotic, the finest may sit at round-off. SlimOrderEstimate() instead
 *   1. leaves out failed points (ok false, err not finite or <= 0) and round-off points
 *      (err <= floor, the point's own floor: src/task_orders.c takes 10 times what the point's
 *      step solves left by their own account, SlimStepperGetResidualSum());
 *   2. sorts the rest by dt and takes the slope of every consecutive pair,
 *        s_j = log(err_{j+1}/err_j) / log(dt_{j+1}/dt_j);
 *   3. skips pairs at the fine end whose slope is below SLIM_ORDER_MIN_SLOPE (the error has
 *      stopped falling: round-off or a reference-limited error) -- their finer points are marked
 *      round-off;
 *   4. takes the finest run of two or more consecutive pairs whose slopes agree:
 *        max s - min s <= SLIM_ORDER_RTOL * max(1, |mean s|)   over the run,
 *      grown from the fine end towards larger dt while the criterion holds (if no two adjacent
 *      pairs agree, the finest admissible pair alone);
 *   5. reports the least-squares slope over the points of that run. Points finer than the run
 *      are marked round-off, coarser ones pre-asymptotic. */
#include <petscsys.h>

#define SLIM_ORDER_RTOL      0.1 /* consecutive-pair slopes agree within 10 % (at least 0.1 absolute) */
#define SLIM_ORDER_MIN_SLOPE 0.5 /* a pair slope below this is not convergence */

/* per-point marks (also the values of /points/order_mark, docs/figures.md) */
typedef enum {
  SLIM_ORDER_USED           = 0, /* in the asymptotic fit */
  SLIM_ORDER_FAILED         = 1, /* solve failed, or error not finite / not positive */
  SLIM_ORDER_ROUNDOFF       = 2, /* below the floor, or finer than the asymptotic run */
  SLIM_ORDER_PREASYMPTOTIC  = 3, /* coarser than the asymptotic run */
  SLIM_ORDER_TOO_FEW        = 4  /* fewer than two usable points: no order */
} SlimOrderMark;
PETSC_EXTERN const char *const SlimOrderMarks[];

typedef struct {
  PetscReal order;        /* least-squares slope over the used points (NaN: fewer than 2) */
  PetscReal order_finest; /* slope of the finest used pair */
  PetscReal order_lsq;    /* least-squares slope over every point that is neither failed nor below the floor */
  PetscReal slope_min;    /* smallest and largest consecutive-pair slope inside the used run */
  PetscReal slope_max;
  PetscInt  n_used, n_valid; /* points in the fit; points neither failed nor below the floor */
  PetscReal dt_min_used, dt_max_used;
} SlimOrderResult;

/* n points (any order of dt; dt > 0). ok may be NULL (all ok). floor[i]: error at or below which
 * point i is round-off (NULL: none). mark (optional) receives one SlimOrderMark per point. */
PETSC_EXTERN PetscErrorCode SlimOrderEstimate(PetscInt n, const PetscReal dt[], const PetscReal err[], const PetscBool ok[], const PetscReal floor[], SlimOrderResult *res, PetscInt mark[]);
