// Tests of the GGL quadrature (src/quad.c): exact small-r values, exactness degrees, high-r
// accuracy against an independent evaluation (long double) and an independent method (Golub-Welsch).
#include <gtest/gtest.h>
#include <slim/quad.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace
{
const PetscInt kRs[] = {0, 1, 2, 3, 5, 10, 50, 200};

// Independent Legendre P_n in long double (64-bit mantissa on x86), for reference values.
void LegendreLD(PetscInt n, long double x, long double *Pn, long double *Pnm1)
{
  long double p0 = 1.0L, p1 = x;
  if (n == 0) {
    *Pn = 1.0L;
    *Pnm1 = 0.0L;
    return;
  }
  for (PetscInt k = 1; k < n; k++) {
    long double p2 = ((2 * k + 1) * x * p1 - k * p0) / (k + 1);
    p0 = p1;
    p1 = p2;
  }
  *Pn = p1;
  *Pnm1 = p0;
}

struct Quad {
  SlimQuad q = NULL;
  PetscInt r = -1, n = 0;
  const PetscReal *x = NULL, *w = NULL, *D = NULL, *P = NULL;
  explicit Quad(PetscInt rr)
  {
    EXPECT_EQ(0, SlimQuadCreate(rr, &q));
    EXPECT_EQ(0, SlimQuadGetSize(q, &r, &n));
    EXPECT_EQ(0, SlimQuadGetReference(q, &x, &w, &D, &P));
  }
  ~Quad() { EXPECT_EQ(0, SlimQuadDestroy(&q)); }
};

// Interior GGL nodes by Golub-Welsch: they are the roots of P'_{r+1} ~ Jacobi P^{(1,1)}_r, i.e. the
// eigenvalues of the r x r Jacobi matrix with zero diagonal and off-diagonal
// b_k = sqrt(k(k+2)/((2k+1)(2k+3))), k = 1..r-1 (monic Jacobi recurrence, alpha = beta = 1).
// Eigenvalues by Sturm-sequence bisection in long double (LAPACK is not linked into the test
// binary directly: pkg-config PETSc gives only -lpetsc_real).
std::vector<PetscReal> GolubWelschInterior(PetscInt r)
{
  std::vector<long double> b2(r, 0.0L); // b2[k] = b_k^2, b2[0] unused
  for (PetscInt k = 1; k < r; k++) b2[k] = (long double)k * (k + 2) / ((long double)(2 * k + 1) * (2 * k + 3));
  // Number of eigenvalues < s (negative pivots of the LDL^T factorization of T - s I).
  auto count = [&](long double s) {
    PetscInt    c = 0;
    long double d = 1.0L;
    for (PetscInt k = 0; k < r; k++) {
      d = -s - (k ? b2[k] / d : 0.0L);
      if (d == 0.0L) d = -1e-300L;
      if (d < 0) c++;
    }
    return c;
  };
  std::vector<PetscReal> x(r);
  for (PetscInt i = 0; i < r; i++) { // i-th smallest eigenvalue, inside (-1, 1)
    long double lo = -1.0L, hi = 1.0L;
    for (int it = 0; it < 200 && hi - lo > 0; it++) {
      long double mid = 0.5L * (lo + hi);
      if (mid == lo || mid == hi) break;
      if (count(mid) > i) hi = mid;
      else lo = mid;
    }
    x[i] = (PetscReal)(0.5L * (lo + hi));
  }
  return x;
}
} // namespace

TEST(Quad, LegendreValues)
{
  PetscReal P, dP;
  const PetscReal xs[] = {-1.0, -0.3, 0.0, 0.7, 1.0};
  for (PetscReal x : xs) {
    ASSERT_EQ(0, SlimLegendre(0, x, &P, &dP));
    EXPECT_EQ(1.0, P);
    EXPECT_EQ(0.0, dP);
    ASSERT_EQ(0, SlimLegendre(1, x, &P, &dP));
    EXPECT_EQ(x, P);
    EXPECT_EQ(1.0, dP);
    ASSERT_EQ(0, SlimLegendre(3, x, &P, &dP));
    EXPECT_NEAR(0.5 * (5 * x * x * x - 3 * x), P, 1e-15);
    EXPECT_NEAR(0.5 * (15 * x * x - 3), dP, 1e-14);
  }
  // End point derivatives P_n'(+-1) = (+-1)^{n-1} n(n+1)/2, where the (1-x^2) formula is singular.
  for (PetscInt n : {2, 7, 40, 201}) {
    ASSERT_EQ(0, SlimLegendre(n, 1.0, &P, &dP));
    EXPECT_DOUBLE_EQ(1.0, P);
    EXPECT_DOUBLE_EQ(0.5 * n * (n + 1), dP);
    ASSERT_EQ(0, SlimLegendre(n, -1.0, &P, &dP));
    EXPECT_DOUBLE_EQ(n % 2 ? -1.0 : 1.0, P);
    EXPECT_DOUBLE_EQ((n % 2 ? 0.5 : -0.5) * n * (n + 1), dP);
  }
  // Derivative against a central difference of P_12 at an interior point.
  PetscReal Pp, Pm, h = 1e-6;
  ASSERT_EQ(0, SlimLegendre(12, 0.41 + h, &Pp, NULL));
  ASSERT_EQ(0, SlimLegendre(12, 0.41 - h, &Pm, NULL));
  ASSERT_EQ(0, SlimLegendre(12, 0.41, NULL, &dP));
  EXPECT_NEAR((Pp - Pm) / (2 * h), dP, 1e-7 * std::fabs(dP) + 1e-8);
}

TEST(Quad, ExactSmallR)
{
  {
    Quad q(0);
    ASSERT_EQ(2, q.n);
    EXPECT_EQ(-1.0, q.x[0]);
    EXPECT_EQ(1.0, q.x[1]);
    EXPECT_NEAR(1.0, q.w[0], 1e-15);
    EXPECT_NEAR(1.0, q.w[1], 1e-15);
    const PetscReal D0[] = {-0.5, 0.5, -0.5, 0.5};
    for (int k = 0; k < 4; k++) EXPECT_NEAR(D0[k], q.D[k], 1e-15) << "k=" << k;
  }
  {
    Quad q(1);
    ASSERT_EQ(3, q.n);
    const PetscReal x[] = {-1, 0, 1}, w[] = {1.0 / 3, 4.0 / 3, 1.0 / 3};
    const PetscReal D[] = {-1.5, 2, -0.5, -0.5, 0, 0.5, 0.5, -2, 1.5};
    for (int i = 0; i < 3; i++) {
      EXPECT_NEAR(x[i], q.x[i], 1e-15);
      EXPECT_NEAR(w[i], q.w[i], 1e-15);
    }
    for (int k = 0; k < 9; k++) EXPECT_NEAR(D[k], q.D[k], 1e-14) << "k=" << k;
    // Scaled to dt = 0.5: weights * dt/2, D * 2/dt.
    PetscReal ws[3], Ds[9];
    ASSERT_EQ(0, SlimQuadGetScaled(q.q, 0.5, ws, Ds));
    for (int i = 0; i < 3; i++) EXPECT_NEAR(0.25 * w[i], ws[i], 1e-15);
    for (int k = 0; k < 9; k++) EXPECT_NEAR(4 * D[k], Ds[k], 1e-14);
  }
  {
    Quad q(2);
    ASSERT_EQ(4, q.n);
    const PetscReal s = 1 / std::sqrt(5.0);
    const PetscReal x[] = {-1, -s, s, 1}, w[] = {1.0 / 6, 5.0 / 6, 5.0 / 6, 1.0 / 6};
    for (int i = 0; i < 4; i++) {
      EXPECT_NEAR(x[i], q.x[i], 1e-15);
      EXPECT_NEAR(w[i], q.w[i], 1e-15);
    }
  }
  {
    Quad q(3);
    ASSERT_EQ(5, q.n);
    const PetscReal s = std::sqrt(3.0 / 7);
    const PetscReal x[] = {-1, -s, 0, s, 1}, w[] = {0.1, 49.0 / 90, 32.0 / 45, 49.0 / 90, 0.1};
    for (int i = 0; i < 5; i++) {
      EXPECT_NEAR(x[i], q.x[i], 1e-15);
      EXPECT_NEAR(w[i], q.w[i], 1e-15);
    }
    EXPECT_EQ(0.0, q.x[2]);
    EXPECT_EQ(-5.0, q.D[0]); // -(r+1)(r+2)/4
    EXPECT_EQ(5.0, q.D[5 * 5 - 1]);
    for (int i = 1; i < 4; i++) EXPECT_EQ(0.0, q.D[i * 5 + i]);
  }
}

TEST(Quad, NodesSymmetricSortedPositiveWeights)
{
  for (PetscInt r : kRs) {
    Quad q(r);
    ASSERT_EQ(r + 2, q.n);
    EXPECT_EQ(-1.0, q.x[0]);
    EXPECT_EQ(1.0, q.x[q.n - 1]);
    for (PetscInt i = 0; i < q.n; i++) {
      EXPECT_EQ(q.x[i], -q.x[q.n - 1 - i]) << "r=" << r << " i=" << i;
      EXPECT_GT(q.w[i], 0.0) << "r=" << r << " i=" << i;
      EXPECT_EQ(q.w[i], q.w[q.n - 1 - i]) << "r=" << r << " i=" << i;
      if (i > 0) {
        EXPECT_GT(q.x[i], q.x[i - 1]) << "r=" << r << " i=" << i;
      }
    }
  }
}

TEST(Quad, ScaledWeightsSumToDt)
{
  const PetscReal dt = 0.37;
  for (PetscInt r : kRs) {
    Quad q(r);
    std::vector<PetscReal> w(q.n);
    ASSERT_EQ(0, SlimQuadGetScaled(q.q, dt, w.data(), NULL));
    long double s = 0, sref = 0;
    for (PetscInt i = 0; i < q.n; i++) {
      s += w[i];
      sref += q.w[i];
    }
    EXPECT_NEAR(1.0, (double)(s / dt), 1e-13) << "r=" << r;
    EXPECT_NEAR(2.0, (double)sref, 2e-13) << "r=" << r;
  }
}

TEST(Quad, DerivativeRowsSumToZero)
{
  const PetscReal dt = 0.37;
  for (PetscInt r : kRs) {
    Quad q(r);
    const PetscInt n = q.n;
    std::vector<PetscReal> D(n * n);
    ASSERT_EQ(0, SlimQuadGetScaled(q.q, dt, NULL, D.data()));
    PetscReal worst = 0;
    for (PetscInt i = 0; i < n; i++) {
      PetscReal s = 0, m = 0;
      for (PetscInt j = 0; j < n; j++) {
        s += D[i * n + j];
        m = std::max(m, std::fabs(D[i * n + j]));
      }
      worst = std::max(worst, std::fabs(s) / m);
    }
    EXPECT_LT(worst, 1e-12) << "r=" << r;
  }
}

// Summation by parts, W D + D^T W = diag(-1, 0, ..., 0, 1): the discrete equations use the weighted
// columns sum_i w_i D_ik, so this (not D 1 = 0 alone) is what conserves momentum.
TEST(Quad, SummationByParts)
{
  for (PetscInt r : kRs) {
    Quad q(r);
    const PetscInt n = q.n;
    PetscReal worst = 0;
    for (PetscInt i = 0; i < n; i++) {
      for (PetscInt j = 0; j < n; j++) {
        const PetscReal B = (i != j) ? 0.0 : (i == 0 ? -1.0 : (i == n - 1 ? 1.0 : 0.0));
        worst = std::max(worst, std::fabs(q.w[i] * q.D[i * n + j] + q.w[j] * q.D[j * n + i] - B));
      }
    }
    EXPECT_LT(worst, 1e-14) << "r=" << r;
  }
}

// D differentiates polynomials of degree <= r+1 exactly on [t0, t0+dt]; f(t) = u^p with
// u = (t - t_mid)/(dt/2) = x, so f'(t) = (2/dt) p x^{p-1}. For p = r+2 the error at the right end is
// -omega'(1) * 2/dt with omega the monic nodal polynomial: omega'(1) = (N+1)/k_N, N = r+1, k_N the
// leading coefficient of P_N; checked for small r, where it is large enough to see.
TEST(Quad, DerivativeExactness)
{
  const PetscReal dt = 0.37;
  for (PetscInt r : kRs) {
    Quad q(r);
    const PetscInt n = q.n;
    std::vector<PetscReal> D(n * n), f(n), df(n);
    ASSERT_EQ(0, SlimQuadGetScaled(q.q, dt, NULL, D.data()));
    PetscReal worst = 0;
    for (PetscInt p = 0; p <= r + 2; p++) {
      PetscReal m = 1e-300, err = 0;
      for (PetscInt i = 0; i < n; i++) {
        f[i] = std::pow(q.x[i], (PetscReal)p);
        df[i] = p ? (2 / dt) * p * std::pow(q.x[i], (PetscReal)(p - 1)) : 0.0;
        m = std::max(m, std::fabs(df[i]));
      }
      for (PetscInt i = 0; i < n; i++) {
        PetscReal s = 0;
        for (PetscInt j = 0; j < n; j++) s += D[i * n + j] * f[j];
        if (p <= r + 1) err = std::max(err, std::fabs(s - df[i]) / std::max(m, 2 / dt));
        else if (i == n - 1 && r <= 10) {
          const PetscInt N = r + 1;
          const PetscReal kN = std::exp(std::lgamma(2.0 * N + 1) - N * std::log(2.0) - 2 * std::lgamma(N + 1.0));
          const PetscReal expect = -(2 / dt) * (N + 1) / kN;
          EXPECT_NEAR(expect, s - df[i], 1e-9 * std::fabs(expect)) << "r=" << r;
          EXPECT_GT(std::fabs(s - df[i]), 1e-6) << "r=" << r;
        }
      }
      worst = std::max(worst, err);
    }
    // The closed-form D (zero interior diagonal) is exact only at the exact nodes; the O(eps) node
    // rounding meets entries up to O(r^2) and node spacing O(1/r^2) at the ends, so row errors grow
    // like eps r^4 (measured 4.5e-9 at r = 200, 2.8e-14 at r = 10).
    EXPECT_LT(worst, 1e-14 + 2e-17 * std::pow(r + 1.0, 4)) << "r=" << r;
  }
}

// Quadrature exact for degree <= 2r+1, not for 2r+2. Monomials with the scaled weights; the
// degree-(2r+2) error of x^{2r+2} is Lobatto's closed form (checked where it is visible), and for all
// r the rule gives sum w P_{r+1}^2 = 2/(r+1) instead of 2/(2r+3).
TEST(Quad, QuadratureExactness)
{
  const PetscReal dt = 0.37, h = dt / 2;
  for (PetscInt r : kRs) {
    Quad q(r);
    const PetscInt n = q.n;
    std::vector<PetscReal> w(n);
    ASSERT_EQ(0, SlimQuadGetScaled(q.q, dt, w.data(), NULL));
    PetscReal worst = 0;
    for (PetscInt p = 0; p <= 2 * r + 2; p++) {
      PetscReal s = 0, exact = (p % 2) ? 0.0 : h * 2.0 / (p + 1);
      for (PetscInt i = 0; i < n; i++) s += w[i] * std::pow(q.x[i], (PetscReal)p);
      if (p <= 2 * r + 1) worst = std::max(worst, std::fabs(s - exact) / dt);
      else {
        // E = int - sum = -n(n-1)^3 2^{2n-1} ((n-2)!)^4 / ((2n-1) ((2n-2)!)^3) f^{(2n-2)}, f^{(2n-2)} = (2n-2)!
        const PetscReal lE = std::log((PetscReal)n) + 3 * std::log(n - 1.0) + (2 * n - 1) * std::log(2.0) + 4 * std::lgamma(n - 1.0) - std::log(2 * n - 1.0) - 2 * std::lgamma(2 * n - 1.0);
        const PetscReal E = -h * std::exp(lE);
        if (std::fabs(E) > 1e-8 * dt) {
          EXPECT_NEAR(E, exact - s, 1e-9 * std::fabs(E)) << "r=" << r;
          EXPECT_GT(std::fabs(exact - s), 1e-8 * dt) << "r=" << r;
        }
      }
    }
    EXPECT_LT(worst, 1e-14) << "r=" << r;
    // Degree 2r+2 with an O(1) error at every r.
    PetscReal s = 0;
    for (PetscInt i = 0; i < n; i++) s += q.w[i] * q.P[i] * q.P[i];
    EXPECT_NEAR(2.0 / (r + 1), s, 1e-13) << "r=" << r;
    EXPECT_GT(std::fabs(s - 2.0 / (2 * r + 3)), 0.1 / (r + 1)) << "r=" << r;
  }
}

// r = 200: each node's residual in (1 - x^2) P'_N = N (P_{N-1} - x P_N), evaluated in long double and
// divided by its derivative -N(N+1) P_N, is the Newton correction, i.e. the node error.
TEST(Quad, HighOrderR200)
{
  const PetscInt r = 200, N = r + 1;
  Quad q(r);
  long double maxdx = 0, sw = 0;
  for (PetscInt i = 1; i < q.n - 1; i++) {
    long double PN, PNm1;
    LegendreLD(N, q.x[i], &PN, &PNm1);
    maxdx = std::max(maxdx, std::fabs((q.x[i] * PN - PNm1) / ((N + 1) * PN)));
    EXPECT_GT(q.x[i], q.x[i - 1]);
    EXPECT_GT(q.w[i], 0.0);
    // The stored P_{r+1}(x_i) must agree too (the weights and D are built from it).
    EXPECT_NEAR(1.0, (double)(q.P[i] / PN), 1e-13) << "i=" << i;
  }
  for (PetscInt i = 0; i < q.n; i++) sw += q.w[i];
  EXPECT_LT((double)maxdx, 1e-15);
  EXPECT_NEAR(2.0, (double)sw, 1e-13);
  printf("[ info     ] r = 200: max node error (long double Newton correction) %.3e, |sum w - 2| %.3e\n", (double)maxdx, (double)std::fabs(sw - 2));
  // int P_k^2 = 2/(2k+1) exactly for 2k <= 2r+1.
  for (PetscInt k : {0, 1, 17, 100, 150, 199, 200}) {
    PetscReal s = 0, Pk;
    for (PetscInt i = 0; i < q.n; i++) {
      ASSERT_EQ(0, SlimLegendre(k, q.x[i], &Pk, NULL));
      s += q.w[i] * Pk * Pk;
    }
    EXPECT_NEAR(1.0, s * (2 * k + 1) / 2.0, 1e-13) << "k=" << k;
  }
}

// Golub-Welsch reference is itself checked against exact values, then compared at r = 150.
TEST(Quad, GolubWelschAgreement)
{
  {
    std::vector<PetscReal> g2 = GolubWelschInterior(2), g3 = GolubWelschInterior(3);
    EXPECT_NEAR(-1 / std::sqrt(5.0), g2[0], 1e-15);
    EXPECT_NEAR(1 / std::sqrt(5.0), g2[1], 1e-15);
    EXPECT_NEAR(-std::sqrt(3.0 / 7), g3[0], 1e-15);
    EXPECT_NEAR(0.0, g3[1], 1e-15);
    EXPECT_NEAR(std::sqrt(3.0 / 7), g3[2], 1e-15);
  }
  for (PetscInt r : {5, 10, 150}) {
    const PetscInt N = r + 1;
    Quad q(r);
    std::vector<PetscReal> g = GolubWelschInterior(r);
    PetscReal dx = 0, dw = 0;
    for (PetscInt i = 1; i <= r; i++) {
      long double PN, PNm1;
      LegendreLD(N, (long double)g[i - 1], &PN, &PNm1);
      const long double wi = 2.0L / ((long double)N * (N + 1) * PN * PN);
      dx = std::max(dx, std::fabs(q.x[i] - g[i - 1]));
      dw = std::max(dw, (PetscReal)std::fabs((q.w[i] - wi) / wi));
    }
    EXPECT_LT(dx, 1e-13) << "r=" << r;
    EXPECT_LT(dw, 1e-13) << "r=" << r;
    if (r == 150) printf("[ info     ] r = 150 vs Golub-Welsch: max |dx| %.3e, max rel |dw| %.3e\n", dx, dw);
  }
}

TEST(Quad, Errors)
{
  SlimQuad q = NULL;
  PetscReal w[3];
  ASSERT_EQ(0, PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  EXPECT_NE(0, SlimQuadCreate(-1, &q));
  EXPECT_EQ(NULL, q);
  EXPECT_NE(0, SlimLegendre(-1, 0.5, NULL, NULL));
  ASSERT_EQ(0, SlimQuadCreate(1, &q));
  EXPECT_NE(0, SlimQuadGetScaled(q, 0.0, w, NULL));
  EXPECT_NE(0, SlimQuadGetScaled(q, -0.1, w, NULL));
  EXPECT_NE(0, SlimQuadGetScaled(q, (PetscReal)INFINITY, w, NULL));
  EXPECT_NE(0, SlimQuadGetScaled(q, (PetscReal)NAN, w, NULL));
  ASSERT_EQ(0, PetscPopErrorHandler());
  // NULL outputs are allowed.
  EXPECT_EQ(0, SlimQuadGetScaled(q, 1.0, NULL, NULL));
  EXPECT_EQ(0, SlimQuadGetReference(q, NULL, NULL, NULL, NULL));
  EXPECT_EQ(0, SlimQuadGetSize(q, NULL, NULL));
  ASSERT_EQ(0, SlimQuadDestroy(&q));
  EXPECT_EQ(NULL, q);
  EXPECT_EQ(0, SlimQuadDestroy(&q)); // NULL-safe
  EXPECT_EQ(0, SlimQuadDestroy(NULL));
}
