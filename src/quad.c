/* Galerkin-Gauss-Lobatto (GGL) quadrature: nodes, weights and derivative matrix (physics.md). */
#include <slim/quad.h>

struct _n_SlimQuad {
  PetscInt   r, n; /* r interior points, n = r + 2 nodes */
  PetscReal *x;    /* nodes on [-1,1], ascending, exactly symmetric */
  PetscReal *w;    /* reference weights, sum 2 */
  PetscReal *D;    /* reference derivative matrix, row-major n*n */
  PetscReal *P;    /* P_{r+1}(x_i) */
};

PetscErrorCode SlimLegendre(PetscInt n, PetscReal x, PetscReal *Pn, PetscReal *dPn)
{
  PetscReal p0 = 1.0, p1 = x, d0 = 0.0, d1 = 1.0;

  PetscFunctionBeginUser;
  PetscCheck(n >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Legendre degree n = %" PetscInt_FMT " must be >= 0", n);
  if (n == 0) {
    p1 = 1.0;
    d1 = 0.0;
  }
  /* (k+1) P_{k+1} = (2k+1) x P_k - k P_{k-1}, and its derivative in x. Differentiating the
     recurrence (instead of n (P_{n-1} - x P_n)/(1 - x^2)) has no singularity at x = +-1, where it
     reproduces P_n'(+-1) = (+-1)^{n-1} n(n+1)/2 exactly, and no cancellation near the ends. */
  for (PetscInt k = 1; k < n; k++) {
    PetscReal p2 = ((2 * k + 1) * x * p1 - k * p0) / (k + 1);
    PetscReal d2 = ((2 * k + 1) * (p1 + x * d1) - k * d0) / (k + 1);

    p0 = p1;
    p1 = p2;
    d0 = d1;
    d1 = d2;
  }
  if (Pn) *Pn = p1;
  if (dPn) *dPn = d1;
  PetscFunctionReturn(0);
}

/* Interior GGL node nearest to the guess x: Newton on f(x) = (1 - x^2) P_N'(x) = N (P_{N-1} - x P_N),
   whose derivative is f'(x) = -N(N+1) P_N(x). This is the classic Lobatto iteration
   x <- x - (x P_N - P_{N-1}) / ((N+1) P_N); it needs no division by 1 - x^2. */
static PetscErrorCode LobattoNewton(PetscInt N, PetscReal *x)
{
  PetscReal xk = *x;
  PetscBool close = PETSC_FALSE;
  PetscInt  it;

  PetscFunctionBeginUser;
  for (it = 0; it < 100; it++) {
    PetscReal pm1, pn, dx;

    PetscCall(SlimLegendre(N - 1, xk, &pm1, NULL));
    PetscCall(SlimLegendre(N, xk, &pn, NULL));
    dx = (xk * pn - pm1) / ((N + 1) * pn);
    xk -= dx;
    /* Convergence is quadratic: one step after |dx| < 1e-9 the error is at rounding level, and
       waiting for |dx| < eps could loop forever on rounding noise. */
    if (close) break;
    if (PetscAbsReal(dx) < 1e-9) close = PETSC_TRUE;
  }
  PetscCheck(it < 100, PETSC_COMM_SELF, PETSC_ERR_CONV_FAILED, "Newton for GGL node of P'_%" PetscInt_FMT " did not converge", N);
  *x = xk;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimQuadCreate(PetscInt r, SlimQuad *quad)
{
  SlimQuad  q;
  PetscInt  n = r + 2, N = r + 1;
  PetscReal c = (PetscReal)N * (N + 1); /* (r+1)(r+2) */

  PetscFunctionBeginUser;
  PetscCheck(quad, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null SlimQuad pointer");
  PetscCheck(r >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Number of interior GGL points r = %" PetscInt_FMT " must be >= 0", r);
  PetscCall(PetscNew(&q));
  q->r = r;
  q->n = n;
  PetscCall(PetscMalloc4(n, &q->x, n, &q->w, n * n, &q->D, n, &q->P));

  /* End points; P_N(+-1) = (+-1)^N. */
  q->x[0]     = -1.0;
  q->x[n - 1] = 1.0;
  q->P[0]     = (N % 2) ? -1.0 : 1.0;
  q->P[n - 1] = 1.0;
  /* Interior nodes of the left half from Chebyshev-Gauss-Lobatto guesses; the right half is
     mirrored so that x_i = -x_{n-1-i} holds exactly (P_N has parity (-1)^N). */
  for (PetscInt i = 1; i <= r / 2; i++) {
    PetscReal xi = -PetscCosReal(PETSC_PI * i / N);

    PetscCall(LobattoNewton(N, &xi));
    q->x[i]         = xi;
    q->x[n - 1 - i] = -xi;
    PetscCall(SlimLegendre(N, xi, &q->P[i], NULL));
    q->P[n - 1 - i] = (N % 2) ? -q->P[i] : q->P[i];
  }
  if (r % 2) { /* odd r: N even, P_N' odd, so 0 is a node */
    q->x[N / 2] = 0.0;
    PetscCall(SlimLegendre(N, 0.0, &q->P[N / 2], NULL));
  }
  for (PetscInt i = 1; i < n; i++) PetscCheck(q->x[i] > q->x[i - 1], PETSC_COMM_SELF, PETSC_ERR_PLIB, "GGL nodes not increasing at i = %" PetscInt_FMT " (r = %" PetscInt_FMT ")", i, r);

  for (PetscInt i = 0; i < n; i++) q->w[i] = 2.0 / (c * q->P[i] * q->P[i]);
  /* Derivative of the Lagrange basis at the nodes, written with P_N (the nodal polynomial is
     (x^2 - 1) P_N'); the closed form avoids products over all nodes, which under/overflow at large r.
     The diagonal is the closed form too (not -sum of the row): that keeps summation by parts,
     W D + D^T W = diag(-1,0,...,0,1), at rounding level, and the discrete equations use W D. */
  for (PetscInt i = 0; i < n; i++) {
    for (PetscInt j = 0; j < n; j++) q->D[i * n + j] = (i == j) ? 0.0 : q->P[i] / (q->P[j] * (q->x[i] - q->x[j]));
  }
  q->D[0]         = -c / 4;
  q->D[n * n - 1] = c / 4;
  *quad           = q;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimQuadDestroy(SlimQuad *quad)
{
  PetscFunctionBeginUser;
  if (!quad || !*quad) PetscFunctionReturn(0);
  PetscCall(PetscFree4((*quad)->x, (*quad)->w, (*quad)->D, (*quad)->P));
  PetscCall(PetscFree(*quad));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimQuadGetSize(SlimQuad quad, PetscInt *r, PetscInt *n)
{
  PetscFunctionBeginUser;
  PetscCheck(quad, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null SlimQuad");
  if (r) *r = quad->r;
  if (n) *n = quad->n;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimQuadGetReference(SlimQuad quad, const PetscReal *x[], const PetscReal *w[], const PetscReal *D[], const PetscReal *Pr1[])
{
  PetscFunctionBeginUser;
  PetscCheck(quad, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null SlimQuad");
  if (x) *x = quad->x;
  if (w) *w = quad->w;
  if (D) *D = quad->D;
  if (Pr1) *Pr1 = quad->P;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimQuadGetScaled(SlimQuad quad, PetscReal dt, PetscReal w[], PetscReal D[])
{
  PetscInt n;

  PetscFunctionBeginUser;
  PetscCheck(quad, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null SlimQuad");
  PetscCheck(dt > 0 && !PetscIsInfOrNanReal(dt), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Step dt = %g must be positive and finite", (double)dt);
  n = quad->n;
  /* t = t_n + (1 + x) dt/2: dt/dx = dt/2 scales the weights, d/dt = (2/dt) d/dx the derivative. */
  if (w) for (PetscInt i = 0; i < n; i++) w[i] = 0.5 * dt * quad->w[i];
  if (D) for (PetscInt k = 0; k < n * n; k++) D[k] = (2.0 / dt) * quad->D[k];
  PetscFunctionReturn(0);
}
