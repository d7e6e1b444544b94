// Observed order of the asymptotic regime (issue 11): SlimOrderEstimate() on synthetic data with
// a known order, a pre-asymptotic coarse point, a round-off plateau and floor, failed points,
// too few points; on the errors of sweeps/convergence.opts (r = 0 must read 2.0 +- 0.1, RK2 ~2);
// and against the Python implementation (analysis/slimresults.py order_estimate) on the shared
// cases of tests/data/order_cases.txt.
#include <gtest/gtest.h>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>
#include <slim/order.h>

namespace {

struct Case {
  std::string            name;
  double                 floor = 0;
  std::vector<double>    dt, err;
  std::vector<PetscBool> ok;
  double                 order = NAN, order_finest = NAN, order_lsq = NAN;
  PetscInt               n_used = -1, n_valid = -1;
  std::vector<PetscInt>  marks;
};

double Num(const std::string &s)
{
  if (s == "nan") return NAN;
  return std::stod(s);
}

std::map<std::string, Case> ReadCases()
{
  std::map<std::string, Case> cases;
  std::ifstream               in(SLIM_TEST_DATA "/order_cases.txt");
  EXPECT_TRUE(in.good()) << "cannot read " << SLIM_TEST_DATA "/order_cases.txt";
  std::string line;
  Case        c;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string        key, w;
    if (!(ss >> key) || key[0] == '#') continue;
    if (key == "case") ss >> c.name;
    else if (key == "floor") ss >> w, c.floor = Num(w);
    else if (key == "dt") {
      int n;
      ss >> n;
      while (ss >> w) c.dt.push_back(Num(w));
      EXPECT_EQ((size_t)n, c.dt.size());
    } else if (key == "err")
      while (ss >> w) c.err.push_back(Num(w));
    else if (key == "ok")
      while (ss >> w) c.ok.push_back(w == "1" ? PETSC_TRUE : PETSC_FALSE);
    else if (key == "order") {
      ss >> w, c.order = Num(w);
      ss >> w, c.order_finest = Num(w);
      ss >> w, c.order_lsq = Num(w);
    } else if (key == "n") ss >> c.n_used >> c.n_valid;
    else if (key == "marks")
      while (ss >> w) c.marks.push_back(std::stoi(w));
    else if (key == "end") {
      cases[c.name] = c;
      c             = Case();
    }
  }
  return cases;
}

struct Est {
  SlimOrderResult       res;
  std::vector<PetscInt> mark;
};

Est Estimate(const Case &c)
{
  Est e;
  e.mark.assign(c.dt.size(), -1);
  EXPECT_EQ(0, SlimOrderEstimate((PetscInt)c.dt.size(), c.dt.data(), c.err.data(), c.ok.data(), c.floor, &e.res, e.mark.data()));
  return e;
}

void ExpectSame(double a, double b)
{
  if (std::isnan(b)) EXPECT_TRUE(std::isnan(a)) << a;
  else EXPECT_NEAR(a, b, 1e-10 * std::max(1.0, std::fabs(b)));
}

} // namespace

TEST(Order, AgreesWithPythonOnSharedCases)
{
  auto cases = ReadCases();
  ASSERT_GE(cases.size(), 10u);
  for (auto &kv : cases) {
    SCOPED_TRACE(kv.first);
    Est e = Estimate(kv.second);
    ExpectSame(e.res.order, kv.second.order);
    ExpectSame(e.res.order_finest, kv.second.order_finest);
    ExpectSame(e.res.order_lsq, kv.second.order_lsq);
    EXPECT_EQ(e.res.n_used, kv.second.n_used);
    EXPECT_EQ(e.res.n_valid, kv.second.n_valid);
    EXPECT_EQ(e.mark, kv.second.marks);
  }
}

TEST(Order, PurePowerLawUsesEveryPoint)
{
  std::vector<double> dt = {0.2, 0.1, 0.05, 0.025}, err;
  for (double d : dt) err.push_back(7.0 * std::pow(d, 6));
  SlimOrderResult       r;
  std::vector<PetscInt> mark(dt.size());
  ASSERT_EQ(0, SlimOrderEstimate(4, dt.data(), err.data(), nullptr, 0, &r, mark.data()));
  EXPECT_NEAR(r.order, 6.0, 1e-10);
  EXPECT_NEAR(r.order_finest, 6.0, 1e-10);
  EXPECT_NEAR(r.slope_max - r.slope_min, 0.0, 1e-10);
  EXPECT_EQ(r.n_used, 4);
  EXPECT_EQ(r.dt_min_used, 0.025);
  EXPECT_EQ(r.dt_max_used, 0.2);
  for (PetscInt m : mark) EXPECT_EQ(m, SLIM_ORDER_USED);
}

TEST(Order, PreAsymptoticCoarsePointIsExcluded)
{
  // order 2 with the coarsest point off by a factor 5: the all-points slope is wrong, ours is not
  std::vector<double> dt = {0.1, 0.05, 0.025, 0.0125}, err;
  for (double d : dt) err.push_back(d * d);
  err[0] *= 5;
  SlimOrderResult       r;
  std::vector<PetscInt> mark(4);
  ASSERT_EQ(0, SlimOrderEstimate(4, dt.data(), err.data(), nullptr, 0, &r, mark.data()));
  EXPECT_NEAR(r.order, 2.0, 1e-10);
  EXPECT_GT(std::fabs(r.order_lsq - 2.0), 0.3);
  EXPECT_EQ(mark[0], SLIM_ORDER_PREASYMPTOTIC);
  EXPECT_EQ(r.n_used, 3);
  EXPECT_EQ(r.dt_max_used, 0.05);
}

TEST(Order, RoundOffAtFineStepsIsExcluded)
{
  // order 8 down to a 1e-14 plateau: the finest point is round-off by its stalled slope
  std::vector<double> dt = {0.4, 0.2, 0.1, 0.05, 0.025, 0.0125}, err;
  for (double d : dt) err.push_back(std::pow(d, 8) + 1e-14 * (1 + d));
  SlimOrderResult       r;
  std::vector<PetscInt> mark(dt.size());
  ASSERT_EQ(0, SlimOrderEstimate((PetscInt)dt.size(), dt.data(), err.data(), nullptr, 0, &r, mark.data()));
  EXPECT_NEAR(r.order, 8.0, 0.1);
  EXPECT_EQ(mark[5], SLIM_ORDER_ROUNDOFF);
  EXPECT_EQ(mark[0], SLIM_ORDER_USED);
  EXPECT_EQ(r.n_used, 5);
  // with a floor above the plateau the two finest points go by the floor
  ASSERT_EQ(0, SlimOrderEstimate((PetscInt)dt.size(), dt.data(), err.data(), nullptr, 1e-12, &r, mark.data()));
  EXPECT_NEAR(r.order, 8.0, 0.05);
  EXPECT_EQ(mark[5], SLIM_ORDER_ROUNDOFF);
  EXPECT_EQ(mark[4], SLIM_ORDER_ROUNDOFF);
  EXPECT_EQ(r.n_valid, 4);
}

TEST(Order, FailedPointsAndTooFewPoints)
{
  std::vector<double>    dt = {0.1, 0.05, 0.025, 0.0125}, err = {1e-2, NAN, 6.25e-4, 1.5625e-4};
  std::vector<PetscBool> ok = {PETSC_TRUE, PETSC_TRUE, PETSC_FALSE, PETSC_TRUE};
  SlimOrderResult        r;
  std::vector<PetscInt>  mark(4);
  ASSERT_EQ(0, SlimOrderEstimate(4, dt.data(), err.data(), ok.data(), 0, &r, mark.data()));
  EXPECT_EQ(mark[1], SLIM_ORDER_FAILED);
  EXPECT_EQ(mark[2], SLIM_ORDER_FAILED);
  EXPECT_NEAR(r.order, 2.0, 1e-10);
  EXPECT_EQ(r.n_used, 2);
  // one usable point: no order, and nothing is claimed used
  ok[0] = PETSC_FALSE;
  ASSERT_EQ(0, SlimOrderEstimate(4, dt.data(), err.data(), ok.data(), 0, &r, mark.data()));
  EXPECT_TRUE(std::isnan(r.order));
  EXPECT_EQ(r.n_used, 0);
  EXPECT_EQ(mark[3], SLIM_ORDER_TOO_FEW);
  // no points at all
  ASSERT_EQ(0, SlimOrderEstimate(0, nullptr, nullptr, nullptr, 0, &r, nullptr));
  EXPECT_TRUE(std::isnan(r.order));
}

TEST(Order, BadStepsAreRefused)
{
  std::vector<double> dt = {0.1, 0.1}, err = {1e-2, 1e-3};
  SlimOrderResult     r;
  PetscPushErrorHandler(PetscReturnErrorHandler, nullptr);
  EXPECT_NE(0, SlimOrderEstimate(2, dt.data(), err.data(), nullptr, 0, &r, nullptr));
  dt[1] = -1;
  EXPECT_NE(0, SlimOrderEstimate(2, dt.data(), err.data(), nullptr, 0, &r, nullptr));
  PetscPopErrorHandler();
}

TEST(Order, ShippedConvergenceSweep)
{
  // err_q_final of sweeps/convergence.opts (dho, lambda 0.1, T 40), run with this build
  auto cases = ReadCases();
  Est  r0    = Estimate(cases.at("convergence_r0"));
  EXPECT_NEAR(r0.res.order, 2.0, 0.1);
  EXPECT_LT(r0.res.order_lsq, 1.0); // the old all-points slope, 0.71
  EXPECT_EQ(r0.res.dt_min_used, 0.0625);
  Est rk2 = Estimate(cases.at("convergence_rk2"));
  EXPECT_NEAR(rk2.res.order, 2.0, 0.1);
  Est rk4 = Estimate(cases.at("convergence_rk4"));
  EXPECT_NEAR(rk4.res.order, 4.0, 0.2);
  Est r3 = Estimate(cases.at("convergence_r3_nofloor"));
  EXPECT_NEAR(r3.res.order, 8.0, 0.1);
  EXPECT_EQ(r3.mark[4], SLIM_ORDER_ROUNDOFF);
}
