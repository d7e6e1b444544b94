/* SlimOrder: observed convergence order of the asymptotic regime (include/slim/order.h). */
#include <math.h>
#include <slim/order.h>

const char *const SlimOrderMarks[] = {"used", "failed", "round-off", "pre-asymptotic", "too-few", "SlimOrderMark", "SLIM_ORDER_", NULL};

/* least-squares slope of log y against log x over points k in [a, b] of the sorted arrays */
static PetscReal LsqSlope(PetscInt a, PetscInt b, const PetscReal x[], const PetscReal y[])
{
  PetscReal sx = 0, sy = 0, sxx = 0, sxy = 0;
  PetscInt  n = b - a + 1;

  if (n < 2) return NAN;
  for (PetscInt k = a; k <= b; k++) {
    const PetscReal lx = log(x[k]), ly = log(y[k]);
    sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

/* do the pair slopes s[a..b] agree (order.h, step 4)? */
static PetscBool Agree(PetscInt a, PetscInt b, const PetscReal s[])
{
  PetscReal lo = PETSC_MAX_REAL, hi = -PETSC_MAX_REAL, mean = 0;

  for (PetscInt j = a; j <= b; j++) lo = PetscMin(lo, s[j]), hi = PetscMax(hi, s[j]), mean += s[j];
  mean /= (b - a + 1);
  return (PetscBool)(hi - lo <= SLIM_ORDER_RTOL * PetscMax(1.0, PetscAbsReal(mean)));
}

PetscErrorCode SlimOrderEstimate(PetscInt n, const PetscReal dt[], const PetscReal err[], const PetscBool ok[], const PetscReal floor[], SlimOrderResult *res, PetscInt mark[])
{
  PetscInt  *perm, *vi, m = 0, j0, a, b;
  PetscReal *sdt, *x, *y, *s;

  PetscFunctionBeginUser;
  res->order = res->order_finest = res->order_lsq = res->slope_min = res->slope_max = NAN;
  res->dt_min_used = res->dt_max_used = NAN;
  res->n_used = res->n_valid = 0;
  if (n <= 0) PetscFunctionReturn(0);
  PetscCall(PetscMalloc5(n, &perm, n, &vi, n, &sdt, n, &x, n, &y));
  PetscCall(PetscMalloc1(n, &s));
  for (PetscInt i = 0; i < n; i++) {
    PetscCheck(dt[i] > 0 && isfinite(dt[i]), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "order estimate: dt[%" PetscInt_FMT "] = %g (must be > 0)", i, (double)dt[i]);
    perm[i] = i;
    sdt[i]  = dt[i];
  }
  PetscCall(PetscSortRealWithPermutation(n, sdt, perm));
  /* step 1: failed and round-off points; the rest in increasing dt */
  for (PetscInt k = 0; k < n; k++) {
    const PetscInt i = perm[k];
    PetscInt       mk;

    if ((ok && !ok[i]) || !isfinite(err[i]) || !(err[i] > 0)) mk = SLIM_ORDER_FAILED;
    else if (floor && err[i] <= floor[i]) mk = SLIM_ORDER_ROUNDOFF;
    else {
      PetscCheck(m == 0 || dt[i] > x[m - 1], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "order estimate: dt = %g appears twice", (double)dt[i]);
      mk    = SLIM_ORDER_PREASYMPTOTIC; /* until chosen below */
      vi[m] = i, x[m] = dt[i], y[m] = err[i], m++;
    }
    if (mark) mark[i] = mk;
  }
  res->n_valid = m;
  if (m < 2) {
    for (PetscInt k = 0; k < m && mark; k++) mark[vi[k]] = SLIM_ORDER_TOO_FEW;
    goto done;
  }
  res->order_lsq = LsqSlope(0, m - 1, x, y);
  /* step 2: pair slopes; s[j] joins points j and j+1 */
  for (PetscInt j = 0; j < m - 1; j++) s[j] = log(y[j + 1] / y[j]) / log(x[j + 1] / x[j]);
  /* step 3: first pair from the fine end that still converges (none: the finest pair) */
  for (j0 = 0; j0 < m - 1 && !(s[j0] >= SLIM_ORDER_MIN_SLOPE); j0++) {}
  if (j0 == m - 1) j0 = 0;
  /* step 4: the finest run of >= 2 agreeing pairs starting at or after j0, grown towards larger dt */
  a = b = -1;
  for (PetscInt j = j0; j < m - 2 && a < 0; j++)
    if (Agree(j, j + 1, s)) a = j, b = j + 1;
  if (a < 0) a = b = j0;
  else
    while (b + 1 < m - 1 && Agree(a, b + 1, s)) b++;
  /* step 5: points a .. b+1 */
  res->order        = LsqSlope(a, b + 1, x, y);
  res->order_finest = s[a];
  res->n_used       = b - a + 2;
  res->dt_min_used  = x[a];
  res->dt_max_used  = x[b + 1];
  res->slope_min    = PETSC_MAX_REAL;
  res->slope_max    = -PETSC_MAX_REAL;
  for (PetscInt j = a; j <= b; j++) res->slope_min = PetscMin(res->slope_min, s[j]), res->slope_max = PetscMax(res->slope_max, s[j]);
  if (mark)
    for (PetscInt k = 0; k < m; k++) mark[vi[k]] = k < a ? SLIM_ORDER_ROUNDOFF : (k <= b + 1 ? SLIM_ORDER_USED : SLIM_ORDER_PREASYMPTOTIC);
done:
  PetscCall(PetscFree5(perm, vi, sdt, x, y));
  PetscCall(PetscFree(s));
  PetscFunctionReturn(0);
}
