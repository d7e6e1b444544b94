// SlimRK (TSRK baselines) on the damped oscillator "dho": convergence orders of RK2 (2a) and
// RK4, monitor bookkeeping, reproducibility of repeated calls, argument checking, and the secular
// energy drift of RK4 that the slimplectic integrator is meant to avoid (physics.md).
#include <gtest/gtest.h>
#include <petscsys.h>
#include <slim/family.h>
#include <slim/rk.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

// Creates "dho" with the given m, k, lambda written into fam->theta.
PetscErrorCode CreateDHO(PetscReal m, PetscReal k, PetscReal lambda, SlimFamily *fam)
{
  PetscInt im, ik, il;

  PetscFunctionBeginUser;
  PetscCall(SlimFamilyCreate("dho", "-family", fam));
  PetscCall(SlimFamilyGetParamIndex(*fam, "m", &im));
  PetscCall(SlimFamilyGetParamIndex(*fam, "k", &ik));
  PetscCall(SlimFamilyGetParamIndex(*fam, "lambda", &il));
  (*fam)->theta[im] = m;
  (*fam)->theta[ik] = k;
  (*fam)->theta[il] = lambda;
  PetscFunctionReturn(0);
}

// Final-time error |(q, v) - exact| of an RK run of N steps of size dt from q0 = 1, v0 = 0.
PetscErrorCode FinalError(SlimFamily fam, SlimRK rk, PetscReal dt, PetscInt N, PetscReal *err)
{
  const PetscReal q0[1] = {1.0}, v0[1] = {0.0};
  PetscReal       q[1], v[1], qe[1], ve[1];
  PetscBool       has;

  PetscFunctionBeginUser;
  PetscCall(SlimRKIntegrate(rk, dt, N, 0.0, q0, v0, q, v));
  PetscCall(fam->exact(fam->theta, 0.0, q0, v0, N * dt, qe, ve, &has));
  PetscCheck(has, PETSC_COMM_SELF, PETSC_ERR_PLIB, "dho has no exact solution for these parameters");
  *err = std::hypot(q[0] - qe[0], v[0] - ve[0]);
  PetscFunctionReturn(0);
}

// Observed order from a dt-halving study: least-squares slope of log(err) against log(dt).
void ObservedOrder(const char *rktype, PetscReal *order)
{
  SlimFamily             fam = NULL;
  SlimRK                 rk  = NULL;
  const PetscReal        T   = 10.0;
  std::vector<PetscReal> ldt, lerr;

  *order = 0;
  // lambda = 0.1: strong enough that a wrong damping term or exact solution would show.
  ASSERT_EQ(0, CreateDHO(1.0, 1.0, 0.1, &fam));
  ASSERT_EQ(0, SlimRKCreate(fam, fam->theta, rktype, &rk));
  for (PetscInt level = 0; level < 4; level++) {
    const PetscInt  N  = 100 << level;
    const PetscReal dt = T / N;
    PetscReal       err;
    ASSERT_EQ(0, FinalError(fam, rk, dt, N, &err));
    ASSERT_GT(err, 0.0);
    ldt.push_back(std::log(dt));
    lerr.push_back(std::log(err));
    if (level) std::printf("  RK %-3s dt %-8g error %.3e  order %.3f\n", rktype, (double)dt, (double)err, (double)((lerr[level - 1] - lerr[level]) / std::log(2.0)));
    else std::printf("  RK %-3s dt %-8g error %.3e\n", rktype, (double)dt, (double)err);
  }
  const size_t n = ldt.size();
  PetscReal    mx = 0, my = 0, sxy = 0, sxx = 0;
  for (size_t i = 0; i < n; i++) {
    mx += ldt[i] / n;
    my += lerr[i] / n;
  }
  for (size_t i = 0; i < n; i++) {
    sxy += (ldt[i] - mx) * (lerr[i] - my);
    sxx += (ldt[i] - mx) * (ldt[i] - mx);
  }
  *order = sxy / sxx;
  std::printf("  RK %-3s fitted order %.3f\n", rktype, (double)*order);
  ASSERT_EQ(0, SlimRKDestroy(&rk));
  ASSERT_EQ(0, SlimFamilyDestroy(&fam));
}

struct MonitorLog {
  std::vector<PetscInt>  steps;
  std::vector<PetscReal> times;
};

PetscErrorCode LogMonitor(PetscInt step, PetscReal t, const PetscReal q[], const PetscReal v[], void *ctx)
{
  MonitorLog *log = static_cast<MonitorLog *>(ctx);

  PetscFunctionBeginUser;
  (void)q;
  (void)v;
  log->steps.push_back(step);
  log->times.push_back(t);
  PetscFunctionReturn(0);
}

// Fractional energy error against the exact solution, max over the first and last tenth of a run.
struct EnergyLog {
  SlimFamily fam;
  PetscReal  q0[1], v0[1];
  PetscInt   N;
  PetscReal  first, last;
};

PetscErrorCode EnergyMonitor(PetscInt step, PetscReal t, const PetscReal q[], const PetscReal v[], void *ctx)
{
  EnergyLog *log = static_cast<EnergyLog *>(ctx);
  PetscReal  qe[1], ve[1], E, Ee, rel;
  PetscBool  has;

  PetscFunctionBeginUser;
  PetscCall(log->fam->exact(log->fam->theta, 0.0, log->q0, log->v0, t, qe, ve, &has));
  PetscCheck(has, PETSC_COMM_SELF, PETSC_ERR_PLIB, "dho has no exact solution for these parameters");
  PetscCall(log->fam->energy(log->fam->theta, t, q, v, &E));
  PetscCall(log->fam->energy(log->fam->theta, t, qe, ve, &Ee));
  rel = std::fabs(E - Ee) / std::fabs(Ee);
  if (10 * step <= log->N) log->first = std::max(log->first, rel);
  if (10 * step >= 9 * log->N) log->last = std::max(log->last, rel);
  PetscFunctionReturn(0);
}

} // namespace

TEST(RK, ConvergenceOrderRK2a)
{
  PetscReal order;
  ObservedOrder("2a", &order);
  EXPECT_NEAR(2.0, order, 0.3);
}

TEST(RK, ConvergenceOrderRK4)
{
  PetscReal order;
  ObservedOrder("4", &order);
  EXPECT_NEAR(4.0, order, 0.3);
}

// Step 0 and every stride-th step, each exactly once, with t = t0 + step dt.
TEST(RK, MonitorCallCount)
{
  SlimFamily      fam = NULL;
  SlimRK          rk  = NULL;
  const PetscReal q0[1] = {1.0}, v0[1] = {0.0}, t0 = 2.0, dt = 0.1;
  PetscReal       q[1], v[1];

  ASSERT_EQ(0, CreateDHO(1.0, 1.0, 0.1, &fam));
  ASSERT_EQ(0, SlimRKCreate(fam, fam->theta, "4", &rk));
  const PetscInt cases[][2] = {{10, 3}, {10, 5}, {10, 1}, {7, 10}, {0, 4}}; // {N, stride}
  for (const auto &c : cases) {
    const PetscInt N = c[0], stride = c[1];
    MonitorLog     log;
    ASSERT_EQ(0, SlimRKSetMonitor(rk, stride, LogMonitor, &log));
    ASSERT_EQ(0, SlimRKIntegrate(rk, dt, N, t0, q0, v0, q, v));
    ASSERT_EQ((size_t)(N / stride + 1), log.steps.size()) << "N " << N << " stride " << stride;
    for (size_t i = 0; i < log.steps.size(); i++) {
      EXPECT_EQ((PetscInt)i * stride, log.steps[i]);
      EXPECT_NEAR(t0 + log.steps[i] * dt, log.times[i], 1e-12);
    }
  }
  // N = 0 returns the initial state untouched.
  EXPECT_EQ(q0[0], q[0]);
  EXPECT_EQ(v0[0], v[0]);
  // Removing the monitor stops the calls.
  MonitorLog log;
  ASSERT_EQ(0, SlimRKSetMonitor(rk, 1, LogMonitor, &log));
  ASSERT_EQ(0, SlimRKSetMonitor(rk, 0, NULL, NULL));
  ASSERT_EQ(0, SlimRKIntegrate(rk, dt, 5, t0, q0, v0, q, v));
  EXPECT_EQ(0u, log.steps.size());
  ASSERT_EQ(0, SlimRKDestroy(&rk));
  ASSERT_EQ(0, SlimFamilyDestroy(&fam));
}

// The TS is reused across calls; it must be fully rewound each time. 3bs is FSAL, so it also
// checks that the last stage of the previous run is not reused.
TEST(RK, RepeatIsBitIdentical)
{
  SlimFamily      fam = NULL;
  const PetscReal q0[1] = {1.0}, v0[1] = {0.0};

  ASSERT_EQ(0, CreateDHO(1.0, 1.0, 0.1, &fam));
  for (const char *type : {"4", "2a", "3bs"}) {
    SlimRK    rk = NULL;
    PetscReal q1[1], v1[1], q2[1], v2[1], qo[1], vo[1];
    ASSERT_EQ(0, SlimRKCreate(fam, fam->theta, type, &rk));
    ASSERT_EQ(0, SlimRKIntegrate(rk, 0.01, 1000, 0.0, q0, v0, q1, v1));
    ASSERT_EQ(0, SlimRKIntegrate(rk, 0.01, 1000, 0.0, q0, v0, q2, v2));
    EXPECT_EQ(0, std::memcmp(q1, q2, sizeof q1)) << type;
    EXPECT_EQ(0, std::memcmp(v1, v2, sizeof v1)) << type;
    // A different run in between (other dt, N, t0, state) must not leak into the next one.
    const PetscReal qa[1] = {-0.3}, va[1] = {2.0};
    ASSERT_EQ(0, SlimRKIntegrate(rk, 0.037, 77, 5.0, qa, va, qo, vo));
    ASSERT_EQ(0, SlimRKIntegrate(rk, 0.01, 1000, 0.0, q0, v0, q2, v2));
    EXPECT_EQ(0, std::memcmp(q1, q2, sizeof q1)) << type;
    EXPECT_EQ(0, std::memcmp(v1, v2, sizeof v1)) << type;
    ASSERT_EQ(0, SlimRKDestroy(&rk));
  }
  ASSERT_EQ(0, SlimFamilyDestroy(&fam));
}

// physics.md: m = k = 1, lambda = 1e-4, dt = 0.1, q0 = 1, 1e5 steps. RK4's fractional energy
// error keeps growing (no long-time bound), unlike the slimplectic integrator's.
TEST(RK, EnergyErrorGrowsRK4)
{
  SlimFamily fam = NULL;
  SlimRK     rk  = NULL;
  EnergyLog  log;
  PetscReal  q[1], v[1];

  ASSERT_EQ(0, CreateDHO(1.0, 1.0, 1e-4, &fam));
  ASSERT_EQ(0, SlimRKCreate(fam, fam->theta, "4", &rk));
  log.fam   = fam;
  log.q0[0] = 1.0;
  log.v0[0] = 0.0;
  log.N     = 100000;
  log.first = 0;
  log.last  = 0;
  ASSERT_EQ(0, SlimRKSetMonitor(rk, 1, EnergyMonitor, &log));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(0, SlimRKIntegrate(rk, 0.1, log.N, 0.0, log.q0, log.v0, q, v));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("  RK4 1e5 steps (with per-step energy monitor): %.3f s; max |dE/E| first tenth %.3e, last tenth %.3e\n", secs, (double)log.first, (double)log.last);
  EXPECT_GT(log.first, 0.0);
  EXPECT_GT(log.last, 2.0 * log.first);
  ASSERT_EQ(0, SlimRKDestroy(&rk));
  ASSERT_EQ(0, SlimFamilyDestroy(&fam));
}

// -rk_ts_* options override the type given to SlimRKCreate: "4" told -rk_ts_rk_type 2a must
// reproduce a "2a" run bit for bit.
TEST(RK, OptionsOverride)
{
  SlimFamily      fam = NULL;
  SlimRK          rk2 = NULL, rk4 = NULL;
  const PetscReal q0[1] = {1.0}, v0[1] = {0.0};
  PetscReal       qa[1], va[1], qb[1], vb[1];

  ASSERT_EQ(0, CreateDHO(1.0, 1.0, 0.1, &fam));
  ASSERT_EQ(0, SlimRKCreate(fam, fam->theta, "2a", &rk2));
  ASSERT_EQ(0, SlimRKCreate(fam, fam->theta, "4", &rk4));
  ASSERT_EQ(0, PetscOptionsSetValue(NULL, "-rk_ts_rk_type", "2a"));
  ASSERT_EQ(0, SlimRKSetFromOptions(rk4));
  ASSERT_EQ(0, PetscOptionsClearValue(NULL, "-rk_ts_rk_type"));
  ASSERT_EQ(0, SlimRKIntegrate(rk2, 0.05, 200, 0.0, q0, v0, qa, va));
  ASSERT_EQ(0, SlimRKIntegrate(rk4, 0.05, 200, 0.0, q0, v0, qb, vb));
  EXPECT_EQ(0, std::memcmp(qa, qb, sizeof qa));
  EXPECT_EQ(0, std::memcmp(va, vb, sizeof va));
  ASSERT_EQ(0, SlimRKDestroy(&rk2));
  ASSERT_EQ(0, SlimRKDestroy(&rk4));
  ASSERT_EQ(0, SlimFamilyDestroy(&fam));
}

// Errors come back as codes with a message naming the offending value; the return handler keeps
// the expected failures from printing tracebacks.
TEST(RK, BadArgumentsFail)
{
  SlimFamily      fam = NULL;
  SlimRK          rk  = NULL;
  const PetscReal q0[1] = {1.0}, v0[1] = {0.0};
  PetscReal       q[1], v[1];
  char           *msg = NULL;

  ASSERT_EQ(0, CreateDHO(1.0, 1.0, 0.1, &fam));
  ASSERT_EQ(0, PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  EXPECT_NE(0, SlimRKCreate(fam, fam->theta, "bogus7", &rk));
  EXPECT_EQ(nullptr, rk);
  ASSERT_EQ(0, PetscErrorMessage(PETSC_ERR_ARG_UNKNOWN_TYPE, NULL, &msg));
  ASSERT_NE(nullptr, msg);
  EXPECT_NE(std::string::npos, std::string(msg).find("bogus7")) << msg;
  ASSERT_EQ(0, PetscPopErrorHandler());

  ASSERT_EQ(0, SlimRKCreate(fam, fam->theta, "4", &rk));
  ASSERT_EQ(0, PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  EXPECT_NE(0, SlimRKIntegrate(rk, 0.0, 10, 0.0, q0, v0, q, v));
  EXPECT_NE(0, SlimRKIntegrate(rk, -0.1, 10, 0.0, q0, v0, q, v));
  EXPECT_NE(0, SlimRKIntegrate(rk, NAN, 10, 0.0, q0, v0, q, v));
  EXPECT_NE(0, SlimRKIntegrate(rk, INFINITY, 10, 0.0, q0, v0, q, v));
  EXPECT_NE(0, SlimRKIntegrate(rk, 0.1, -1, 0.0, q0, v0, q, v));
  EXPECT_NE(0, SlimRKSetMonitor(rk, 0, LogMonitor, NULL));
  ASSERT_EQ(0, PetscPopErrorHandler());
  // The object is still usable after rejected calls.
  EXPECT_EQ(0, SlimRKIntegrate(rk, 0.1, 10, 0.0, q0, v0, q, v));
  ASSERT_EQ(0, SlimRKDestroy(&rk));
  ASSERT_EQ(0, SlimFamilyDestroy(&fam));
}
