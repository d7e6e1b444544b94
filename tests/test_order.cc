// Observed order of the asymptotic regime (issue 11): SlimOrderEstimate() on synthetic data with
// a known order, a pre-asymptotic coarse point, a round-off plateau and floor, failed points,
// too few points; on the errors of sweeps/convergence.opts (r = 0 must read 2.0 +- 0.1, RK2 ~2);
// against the Python implementation (analysis/slimresults.py order_estimate) on the shared
// cases of tests/data/order_cases.txt; and the round-off floor the harness derives from the step
// solves (SlimStepperGetResidualSum, /points/solve_residual and err_floor).
#include <gtest/gtest.h>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>
#include <slim/order.h>
#include "testing.h"

namespace {

struct Case {
  std::string            name;
  std::vector<double>    floor; // one value, or one per point
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
    else if (key == "floor")
      while (ss >> w) c.floor.push_back(Num(w));
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
  std::vector<double> floor = c.floor.size() == 1 ? std::vector<double>(c.dt.size(), c.floor[0]) : c.floor;
  EXPECT_EQ(c.dt.size(), floor.size());
  e.mark.assign(c.dt.size(), -1);
  EXPECT_EQ(0, SlimOrderEstimate((PetscInt)c.dt.size(), c.dt.data(), c.err.data(), c.ok.data(), floor.data(), &e.res, e.mark.data()));
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
  ASSERT_EQ(0, SlimOrderEstimate(4, dt.data(), err.data(), nullptr, nullptr, &r, mark.data()));
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
  ASSERT_EQ(0, SlimOrderEstimate(4, dt.data(), err.data(), nullptr, nullptr, &r, mark.data()));
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
  ASSERT_EQ(0, SlimOrderEstimate((PetscInt)dt.size(), dt.data(), err.data(), nullptr, nullptr, &r, mark.data()));
  EXPECT_NEAR(r.order, 8.0, 0.1);
  EXPECT_EQ(mark[5], SLIM_ORDER_ROUNDOFF);
  EXPECT_EQ(mark[0], SLIM_ORDER_USED);
  EXPECT_EQ(r.n_used, 5);
  // with a floor above the plateau the two finest points go by the floor
  std::vector<double> floor(dt.size(), 1e-12);
  ASSERT_EQ(0, SlimOrderEstimate((PetscInt)dt.size(), dt.data(), err.data(), nullptr, floor.data(), &r, mark.data()));
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
  ASSERT_EQ(0, SlimOrderEstimate(4, dt.data(), err.data(), ok.data(), nullptr, &r, mark.data()));
  EXPECT_EQ(mark[1], SLIM_ORDER_FAILED);
  EXPECT_EQ(mark[2], SLIM_ORDER_FAILED);
  EXPECT_NEAR(r.order, 2.0, 1e-10);
  EXPECT_EQ(r.n_used, 2);
  // one usable point: no order, and nothing is claimed used
  ok[0] = PETSC_FALSE;
  ASSERT_EQ(0, SlimOrderEstimate(4, dt.data(), err.data(), ok.data(), nullptr, &r, mark.data()));
  EXPECT_TRUE(std::isnan(r.order));
  EXPECT_EQ(r.n_used, 0);
  EXPECT_EQ(mark[3], SLIM_ORDER_TOO_FEW);
  // no points at all
  ASSERT_EQ(0, SlimOrderEstimate(0, nullptr, nullptr, nullptr, nullptr, &r, nullptr));
  EXPECT_TRUE(std::isnan(r.order));
}

TEST(Order, BadStepsAreRefused)
{
  std::vector<double> dt = {0.1, 0.1}, err = {1e-2, 1e-3};
  SlimOrderResult     r;
  PetscPushErrorHandler(PetscReturnErrorHandler, nullptr);
  EXPECT_NE(0, SlimOrderEstimate(2, dt.data(), err.data(), nullptr, nullptr, &r, nullptr));
  dt[1] = -1;
  EXPECT_NE(0, SlimOrderEstimate(2, dt.data(), err.data(), nullptr, nullptr, &r, nullptr));
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

// What the step solves left, a posteriori (SlimStepperGetResidualSum, behind /points/err_floor):
// it grows with a looser tolerance, is the same for the SNES and the dense path (one kernel), is
// 0 for the dense loop of a linear family (no residual after its exact update) and starts again
// with a new initial state.
TEST(Order, SolveResidualSumFollowsTheSolves)
{
  auto sum = [](const char *fam, const char *opts, SlimSolverType type, PetscInt N) {
    slimtest::OptionsScope o(opts);
    slimtest::Fam          f(fam);
    slimtest::Stepper      st(f.f, 2, 1, 0.05);
    PetscReal              v = NAN;
    EXPECT_EQ(0, SlimStepperSetFromOptions(st.s));
    EXPECT_EQ(0, SlimStepperSetSolverType(st.s, type));
    EXPECT_EQ(0, SlimStepperSetInitialState(st.s, 0, 0, f.f->q0, f.f->v0));
    EXPECT_EQ(0, SlimStepperIntegrate(st.s, N));
    EXPECT_EQ(0, SlimStepperGetResidualSum(st.s, 0, &v));
    EXPECT_EQ(0, SlimStepperSetInitialState(st.s, 0, 0, f.f->q0, f.f->v0));
    PetscReal z = -1;
    EXPECT_EQ(0, SlimStepperGetResidualSum(st.s, 0, &z));
    EXPECT_EQ(0.0, z) << "a new initial state starts the sum again";
    return v;
  };
  const double tight = sum("anharmonic", "", SLIM_SOLVER_DENSE, 400), loose = sum("anharmonic", "-slim_step_rtol 1e-8 -slim_step_xtol 1e-30", SLIM_SOLVER_DENSE, 400);
  EXPECT_GT(tight, 0.0);
  EXPECT_GT(loose, 1e3 * tight);
  EXPECT_EQ(tight, sum("anharmonic", "", SLIM_SOLVER_SNES, 400));
  EXPECT_LT(sum("anharmonic", "", SLIM_SOLVER_DENSE, 100), tight);
  EXPECT_EQ(0.0, sum("dho", "", SLIM_SOLVER_DENSE, 400));
  std::printf("[ measured ] anharmonic r = 2, dt = 0.05, 400 steps: solve residual sum %.2e (rtol 1e-13), %.2e (rtol 1e-8)\n", tight, loose);
}

namespace {
struct FloorRun {
  std::vector<double> dt, err, floor, mark, order, rsum;
};

// anharmonic, r = 2, dt 0.2, 0.1, 0.05 to T = 20 (N 100, 200, 400): errors 8.7e-8, 1.4e-9, 2.2e-11
FloorRun RunFloorSweep(const std::string &extra)
{
  slimtest::TempDir tmp;
  std::string       out = tmp.path + "/floor.h5";
  PetscBool         complete;
  FloorRun          f;
  slimtest::RunSweep("-sweep_family anharmonic -sweep_r 2 -sweep_dt 0.2,0.1,0.05 -sweep_T 20 -sweep_repeats 0 -sweep_baselines none -sweep_quiet -output " + out + " " + extra, &complete);
  EXPECT_TRUE(complete);
  f.dt = slimtest::ReadReal(out, "points/dt"), f.err = slimtest::ReadReal(out, "points/err_q_final");
  f.floor = slimtest::ReadReal(out, "points/err_floor"), f.mark = slimtest::ReadReal(out, "points/order_mark");
  f.order = slimtest::ReadReal(out, "orders/order");
  f.rsum  = slimtest::ReadReal(out, "points/solve_residual");
  EXPECT_EQ(3u, f.floor.size());
  EXPECT_EQ(3u, f.mark.size());
  EXPECT_EQ(1u, f.order.size());
  return f;
}
} // namespace

// In a whole sweep: the floor is 10 times what the solves left by their own account
// (/points/solve_residual, at least N eps max|q0|); at the default tolerances the finest error
// (2.2e-11, slope 5.99 from the next) is clean and used: the solves left 1.1e-13.
TEST(Orders, FloorFromTheSolvesKeepsCleanErrors)
{
  FloorRun a = RunFloorSweep("");
  ASSERT_EQ(3u, a.err.size());
  ASSERT_EQ(3u, a.rsum.size());
  for (size_t i = 0; i < 3; i++) {
    EXPECT_GT(a.rsum[i], 0.0);
    EXPECT_NEAR(a.floor[i], SLIM_STEP_FLOOR_SAFETY * std::max(a.rsum[i], (20 / a.dt[i]) * SLIM_STEP_ROUNDOFF * PETSC_MACHINE_EPSILON), 1e-6 * a.floor[i]) << i;
    EXPECT_EQ(SLIM_ORDER_USED, a.mark[i]) << i;
  }
  EXPECT_EQ(0.05, a.dt[2]);
  EXPECT_LT(5 * a.floor[2], a.err[2]);
  EXPECT_NEAR(6.0, a.order[0], 0.1);
}

// A looser tolerance (rtol 1e-10, the xtol test off): the solves leave ~400 times more, the two
// finer errors are now the solver's (5 % and 170 % above the clean ones) and are marked
// round-off: no order rather than a wrong one.
TEST(Orders, DerivedFloorRisesWithTheTolerance)
{
  FloorRun a = RunFloorSweep(""), b = RunFloorSweep("-slim_step_rtol 1e-10 -slim_step_xtol 1e-30");
  ASSERT_EQ(3u, b.err.size());
  for (size_t i = 0; i < 3; i++) EXPECT_GT(b.floor[i], 100 * a.floor[i]) << i;
  EXPECT_EQ(SLIM_ORDER_ROUNDOFF, b.mark[2]);
  EXPECT_EQ(SLIM_ORDER_ROUNDOFF, b.mark[1]);
  EXPECT_TRUE(std::isnan(b.order[0]));
}

// A user's -sweep_order_floor above the derived floor wins: 1e-8 x max|q0| (= 1).
TEST(Orders, UserFloorAboveTheDerivedOneWins)
{
  FloorRun c = RunFloorSweep("-sweep_order_floor 1e-8");
  ASSERT_EQ(3u, c.err.size());
  for (size_t i = 0; i < 3; i++) EXPECT_NEAR(c.floor[i], 1e-8, 1e-20) << i;
  EXPECT_EQ(SLIM_ORDER_ROUNDOFF, c.mark[1]);
  EXPECT_EQ(SLIM_ORDER_TOO_FEW, c.mark[0]);
}
