// Training data (issue 11): the prior (ranges, exact zeros at the stated rate, log-uniform,
// samples independent of batching), its options, and the ensemble generation against the damped
// oscillator's exact solution.
#include <gtest/gtest.h>
#include <cmath>
#include <vector>
#include <slim/train.h>

#include "testing.h"

using namespace slimtest;

TEST(Train, PriorRangesZerosAndBatchIndependence)
{
  Fam       fam("dho");
  SlimPrior p;
  ASSERT_EQ(0, SlimPriorInit(fam.f, &p));
  // the seed paper's DHO prior shape: m > 0, k and lambda >= 0 with 5 % exact zeros
  p.kind[0] = SLIM_PRIOR_LOGUNIFORM, p.lo[0] = 0.5, p.hi[0] = 2;
  p.kind[1] = SLIM_PRIOR_UNIFORM, p.lo[1] = 0, p.hi[1] = 2, p.pzero[1] = 0.05;
  p.kind[2] = SLIM_PRIOR_UNIFORM, p.lo[2] = 0, p.hi[2] = 1, p.pzero[2] = 0.05;
  const PetscInt         K = 20000;
  std::vector<PetscReal> th(3 * K);
  ASSERT_EQ(0, SlimPriorSample(fam.f, &p, 7, 0, K, th.data()));
  int    zk = 0, zl = 0, below = 0;
  double lmin = 1e9, lmax = 0;
  for (PetscInt i = 0; i < K; i++) {
    EXPECT_GE(th[3 * i], 0.5);
    EXPECT_LE(th[3 * i], 2.0);
    below += th[3 * i] < 1.0; // log-uniform on [0.5, 2]: half below the geometric mean 1
    zk += th[3 * i + 1] == 0;
    zl += th[3 * i + 2] == 0;
    if (th[3 * i + 2] > 0) lmin = std::min(lmin, th[3 * i + 2]), lmax = std::max(lmax, th[3 * i + 2]);
  }
  // 5 % of 20000 = 1000 +- 31 (binomial): within 4 standard deviations
  EXPECT_NEAR(zk, 1000, 124);
  EXPECT_NEAR(zl, 1000, 124);
  EXPECT_NEAR(below, K / 2, 4 * 71);
  EXPECT_LT(lmin, 0.01);
  EXPECT_GT(lmax, 0.99);
  // sample i is the same whether drawn alone or in a batch
  std::vector<PetscReal> one(3);
  ASSERT_EQ(0, SlimPriorSample(fam.f, &p, 7, 12345, 1, one.data()));
  for (int j = 0; j < 3; j++) EXPECT_EQ(one[j], th[3 * 12345 + j]);
  // fixed parameters stay at the family's values; a different seed gives different samples
  SlimPrior fixed;
  ASSERT_EQ(0, SlimPriorInit(fam.f, &fixed));
  ASSERT_EQ(0, SlimPriorSample(fam.f, &fixed, 7, 0, 1, one.data()));
  for (int j = 0; j < 3; j++) EXPECT_EQ(one[j], fam.f->theta[j]);
  ASSERT_EQ(0, SlimPriorSample(fam.f, &p, 8, 0, 1, one.data()));
  EXPECT_NE(one[0], th[0]);
  char buf[512];
  ASSERT_EQ(0, SlimPriorDescribe(fam.f, &p, buf, sizeof buf));
  EXPECT_NE(std::string(buf).find("k: uniform [0, 2], P(0) = 0.05"), std::string::npos) << buf;
}

TEST(Train, PriorOptionsAndTheirErrors)
{
  Fam       fam("dho");
  SlimPrior p;
  ASSERT_EQ(0, SlimPriorInit(fam.f, &p));
  ASSERT_EQ(0, PetscOptionsSetValue(NULL, "-train_dho_k", "0.5,3"));
  ASSERT_EQ(0, PetscOptionsSetValue(NULL, "-train_dho_k_log", "1"));
  ASSERT_EQ(0, PetscOptionsSetValue(NULL, "-train_dho_lambda_zero", "0.1"));
  ASSERT_EQ(0, SlimPriorSetFromOptions(fam.f, &p));
  EXPECT_EQ(p.kind[1], SLIM_PRIOR_LOGUNIFORM);
  EXPECT_EQ(p.hi[1], 3.0);
  EXPECT_EQ(p.kind[2], SLIM_PRIOR_FIXED);
  EXPECT_EQ(p.pzero[2], 0.1);
  // log-uniform over a range that includes 0, a probability above 1: refused
  ASSERT_EQ(0, PetscOptionsSetValue(NULL, "-train_dho_k", "0,3"));
  PetscPushErrorHandler(PetscReturnErrorHandler, nullptr);
  EXPECT_NE(0, SlimPriorSetFromOptions(fam.f, &p));
  ASSERT_EQ(0, PetscOptionsClearValue(NULL, "-train_dho_k_log"));
  ASSERT_EQ(0, PetscOptionsSetValue(NULL, "-train_dho_lambda_zero", "1.5"));
  EXPECT_NE(0, SlimPriorSetFromOptions(fam.f, &p));
  PetscPopErrorHandler();
  for (const char *o : {"-train_dho_k", "-train_dho_lambda_zero"}) ASSERT_EQ(0, PetscOptionsClearValue(NULL, o));
}

TEST(Train, EnsembleMatchesExactSolutions)
{
  Fam       fam("dho");
  SlimPrior p;
  ASSERT_EQ(0, SlimPriorInit(fam.f, &p));
  p.kind[0] = SLIM_PRIOR_UNIFORM, p.lo[0] = 0.5, p.hi[0] = 2;
  p.kind[1] = SLIM_PRIOR_UNIFORM, p.lo[1] = 0.5, p.hi[1] = 2;
  p.kind[2] = SLIM_PRIOR_UNIFORM, p.lo[2] = 0, p.hi[2] = 0.3;
  const PetscInt K = 16, N = 200, stride = 10, S = N / stride + 1;
  const double   dt = 0.05;
  std::vector<PetscReal> th(3 * K), t(S), q(K * S), pi(K * S), v(K * S);
  std::vector<PetscInt>  fail(K);
  ASSERT_EQ(0, SlimPriorSample(fam.f, &p, 3, 0, K, th.data()));
  ASSERT_EQ(0, SlimTrainGenerate(fam.f, 2, dt, N, stride, SLIM_SOLVER_DENSE, K, th.data(), t.data(), q.data(), pi.data(), v.data(), fail.data()));
  double worst = 0;
  for (PetscInt k = 0; k < K; k++) {
    EXPECT_EQ(fail[k], -1);
    for (PetscInt s = 0; s < S; s++) {
      PetscReal qe, ve;
      PetscBool has;
      EXPECT_NEAR(t[s], s * stride * dt, 1e-12);
      ASSERT_EQ(0, fam.f->exact(&th[3 * k], 0, fam.f->q0, fam.f->v0, t[s], &qe, &ve, &has));
      ASSERT_TRUE(has);
      worst = std::max(worst, std::fabs(q[k * S + s] - qe));
      EXPECT_NEAR(v[k * S + s], ve, 1e-6);
      EXPECT_NEAR(pi[k * S + s], th[3 * k] * v[k * S + s], 1e-12); // pi = m qdot
    }
  }
  std::printf("[ measured ] 16 random DHO members, r = 2, dt = 0.05, 200 steps: worst |q - exact| %.1e\n", worst);
  EXPECT_LT(worst, 1e-7);
}
