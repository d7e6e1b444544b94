// Symplectic baselines (SlimRK with the TSBASICSYMPLECTIC types sympl1..sympl4) on the undamped
// oscillator: convergence orders 1..4, the bounded energy error of velocity Verlet over 1e5 steps
// next to RK4's drift and the slimplectic r = 0 integrator's error (physics.md), monitor times,
// the separability check that refuses damped, drag and position-dependent-mass families, and a
// sweep whose /baselines rows come from a symplectic type.
#include <gtest/gtest.h>
#include <petscsys.h>
#include <slim/family.h>
#include <slim/rk.h>
#include <slim/stepper.h>
#include <slim/private/harnessimpl.h>
#include "testing.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using slimtest::Fam;
using slimtest::QuietErrors;

struct RK {
  SlimRK r = nullptr;
  ~RK() { SlimRKDestroy(&r); }
};

// "dho" with m = k = 1 and the given lambda.
void SetDHO(SlimFamily f, PetscReal lambda)
{
  PetscInt il;
  ASSERT_EQ(0, SlimFamilyGetParamIndex(f, "lambda", &il));
  f->theta[il] = lambda;
}

// Least-squares slope of log(final error) against log(dt), dt = T/N, N = 50, 100, 200, 400.
void ObservedOrder(const char *type, PetscReal *order)
{
  Fam                    fam("dho");
  RK                     rk;
  const PetscReal        T = 10.0, q0[1] = {1.0}, v0[1] = {0.0};
  std::vector<PetscReal> x, y;

  *order = 0;
  SetDHO(fam.f, 0.0);
  ASSERT_EQ(0, SlimRKCreate(fam.f, fam.f->theta, type, &rk.r));
  for (PetscInt level = 0; level < 4; level++) {
    const PetscInt  N  = 50 << level;
    const PetscReal dt = T / N;
    PetscReal       q[1], v[1], qe[1], ve[1];
    PetscBool       has;
    ASSERT_EQ(0, SlimRKIntegrate(rk.r, dt, N, 0.0, q0, v0, q, v));
    ASSERT_EQ(0, fam.f->exact(fam.f->theta, 0.0, q0, v0, T, qe, ve, &has));
    ASSERT_TRUE(has);
    const PetscReal err = std::hypot(q[0] - qe[0], v[0] - ve[0]);
    ASSERT_GT(err, 0.0);
    std::printf("  %s dt %-8g error %.3e\n", type, (double)dt, (double)err);
    x.push_back(std::log(dt));
    y.push_back(std::log(err));
  }
  PetscReal mx = 0, my = 0, sxy = 0, sxx = 0;
  for (size_t i = 0; i < x.size(); i++) mx += x[i] / x.size(), my += y[i] / x.size();
  for (size_t i = 0; i < x.size(); i++) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
  *order = sxy / sxx;
  std::printf("  %s fitted order %.3f\n", type, (double)*order);
}

// Fractional energy error |E - E0|/E0 of a conservative run: max over the first and the last tenth.
struct EnergyLog {
  SlimFamily fam;
  PetscReal  E0 = 0, first = 0, last = 0, max = 0;
  PetscInt   N  = 0;
  void       Add(PetscInt step, PetscReal E)
  {
    const PetscReal rel = std::fabs(E - E0) / std::fabs(E0);
    if (10 * step <= N) first = std::max(first, rel);
    if (10 * step >= 9 * N) last = std::max(last, rel);
    max = std::max(max, rel);
  }
};

PetscErrorCode RKEnergy(PetscInt step, PetscReal t, const PetscReal q[], const PetscReal v[], void *ctx)
{
  EnergyLog *log = static_cast<EnergyLog *>(ctx);
  PetscReal  E;

  PetscFunctionBeginUser;
  PetscCall(log->fam->energy(log->fam->theta, t, q, v, &E));
  log->Add(step, E);
  PetscFunctionReturn(0);
}

PetscErrorCode StepperEnergy(SlimStepper st, PetscInt step, void *ctx)
{
  PetscReal E;

  PetscFunctionBeginUser;
  PetscCall(SlimStepperGetEnergy(st, 0, &E));
  static_cast<EnergyLog *>(ctx)->Add(step, E);
  PetscFunctionReturn(0);
}

// 1e5 steps of dt = 0.1 of the undamped oscillator (m = k = 1, q0 = 1) with a baseline type.
void BaselineEnergy(SlimFamily f, const char *type, EnergyLog *log)
{
  RK        rk;
  PetscReal q[1], v[1];
  log->fam = f;
  log->N   = 100000;
  ASSERT_EQ(0, f->energy(f->theta, 0.0, f->q0, f->v0, &log->E0));
  ASSERT_EQ(0, SlimRKCreate(f, f->theta, type, &rk.r));
  ASSERT_EQ(0, SlimRKSetMonitor(rk.r, 1, RKEnergy, log));
  ASSERT_EQ(0, SlimRKIntegrate(rk.r, 0.1, log->N, 0.0, f->q0, f->v0, q, v));
  std::printf("  %-6s 1e5 steps dt 0.1: max |dE/E| first tenth %.3e, last tenth %.3e, whole run %.3e\n", type, (double)log->first, (double)log->last, (double)log->max);
}

// Hand-made families for the branches of SlimFamilyIsSeparable that no built-in family reaches:
// a circulatory force, a position-dependent mass, a velocity-dependent mass, and a plain
// oscillator standing for a driven one (a drive F(t) changes none of the derivatives checked:
// explicit time dependence of the force is allowed).
enum { CIRCULATORY, POSITION_MASS, VELOCITY_MASS, DRIVEN };
template <int kind>
PetscErrorCode ToyEval(const PetscReal *, PetscReal t, const PetscReal q[], const PetscReal v[], SlimEval *e)
{
  const PetscInt n = kind == CIRCULATORY ? 2 : 1;
  PetscFunctionBeginUser;
  for (PetscInt a = 0; a < n * n; a++) {
    if (e->Fq) e->Fq[a] = (a % (n + 1) == 0) ? -1.0 : 0.0;
    if (e->Fv) e->Fv[a] = 0;
    if (e->Pq) e->Pq[a] = 0;
    if (e->Pv) e->Pv[a] = (a % (n + 1) == 0) ? 1.0 : 0.0;
  }
  if (kind == CIRCULATORY && e->Fq) e->Fq[1] = 0.5, e->Fq[2] = -0.5;
  if (kind == POSITION_MASS && e->Pq) e->Pq[0] = 2 * q[0] * v[0];
  if (kind == POSITION_MASS && e->Pv) e->Pv[0] = 1 + q[0] * q[0];
  if (kind == VELOCITY_MASS && e->Pv) e->Pv[0] = 1 + 3 * v[0] * v[0];
  (void)t;
  PetscFunctionReturn(0);
}

} // namespace

TEST(Symplectic, ConvergenceOrders)
{
  const char *types[] = {"sympl1", "sympl2", "sympl3", "sympl4"};
  for (int k = 0; k < 4; k++) {
    PetscReal order;
    ObservedOrder(types[k], &order);
    EXPECT_NEAR(k + 1.0, order, 0.3) << types[k];
  }
}

// physics.md: on a conservative system the energy error of a symplectic method stays bounded,
// RK4's grows. Velocity Verlet and the slimplectic r = 0 integrator (the variational form of
// Stoermer-Verlet for L = T - V) over the same 1e5 steps of dt = 0.1.
TEST(Symplectic, VelocityVerletEnergyBoundedRK4Drifts)
{
  Fam       fam("dho");
  EnergyLog vv, rk4, slim;
  SetDHO(fam.f, 0.0);
  fam.f->q0[0] = 1.0, fam.f->v0[0] = 0.0;
  BaselineEnergy(fam.f, "sympl2", &vv);
  BaselineEnergy(fam.f, "4", &rk4);
  EXPECT_GT(vv.first, 1e-4);            // a second-order method at dt = 0.1 does have an error...
  EXPECT_LT(vv.last, 1.05 * vv.first);  // ...but no drift: the last tenth is no worse than the first
  EXPECT_LT(vv.max, 1e-2);
  EXPECT_GT(rk4.last, 5.0 * rk4.first); // RK4 drifts (linearly: ~10x from the first to the last tenth)

  slimtest::Stepper st(fam.f, 0, 1, 0.1, SLIM_SOLVER_DENSE);
  slim.fam = fam.f, slim.N = vv.N, slim.E0 = vv.E0;
  ASSERT_EQ(0, SlimStepperSetInitialState(st.s, 0, 0.0, fam.f->q0, fam.f->v0));
  ASSERT_EQ(0, SlimStepperSetUp(st.s));
  ASSERT_EQ(0, SlimStepperSetMonitor(st.s, 1, StepperEnergy, &slim));
  ASSERT_EQ(0, SlimStepperIntegrate(st.s, slim.N));
  std::printf("  slim r=0 1e5 steps dt 0.1: max |dE/E| first tenth %.3e, last tenth %.3e, whole run %.3e\n", (double)slim.first, (double)slim.last, (double)slim.max);
  EXPECT_LT(slim.last, 1.05 * slim.first);
}

// The fourth-order scheme on the Kepler orbit (2 dof, nonlinear force): energy bounded too.
TEST(Symplectic, FourthOrderKeplerEnergyBounded)
{
  Fam       fam("kepler");
  EnergyLog log;
  RK        rk;
  PetscReal q[2], v[2];
  log.fam = fam.f, log.N = 20000;
  ASSERT_EQ(0, fam.f->energy(fam.f->theta, 0.0, fam.f->q0, fam.f->v0, &log.E0));
  ASSERT_EQ(0, SlimRKCreate(fam.f, fam.f->theta, "sympl4", &rk.r));
  ASSERT_EQ(0, SlimRKSetMonitor(rk.r, 1, RKEnergy, &log));
  ASSERT_EQ(0, SlimRKIntegrate(rk.r, 0.01, log.N, 0.0, fam.f->q0, fam.f->v0, q, v));
  std::printf("  kepler sympl4 dt 0.01: max |dE/E| first tenth %.3e, last tenth %.3e\n", (double)log.first, (double)log.last);
  EXPECT_GT(log.first, 0.0);
  EXPECT_LT(log.last, 1.5 * log.first);
  EXPECT_LT(log.max, 1e-3); // e = 0.5 orbit, ~100 steps per period
}

// The schemes advance the time in stages; the monitor still sees t = t0 + step dt, every step once,
// and a second call repeats the first bit for bit.
TEST(Symplectic, MonitorTimesAndReproducibility)
{
  Fam       fam("dho");
  RK        rk;
  PetscReal q1[1], v1[1], q2[1], v2[1];
  struct Log {
    std::vector<PetscInt>  steps;
    std::vector<PetscReal> t;
  } log;
  auto mon = [](PetscInt step, PetscReal t, const PetscReal *, const PetscReal *, void *ctx) -> PetscErrorCode {
    static_cast<Log *>(ctx)->steps.push_back(step);
    static_cast<Log *>(ctx)->t.push_back(t);
    return 0;
  };
  SetDHO(fam.f, 0.0);
  ASSERT_EQ(0, SlimRKCreate(fam.f, fam.f->theta, "sympl4", &rk.r));
  ASSERT_EQ(0, SlimRKSetMonitor(rk.r, 1, mon, &log));
  ASSERT_EQ(0, SlimRKIntegrate(rk.r, 0.05, 40, 3.0, fam.f->q0, fam.f->v0, q1, v1));
  ASSERT_EQ(41u, log.steps.size());
  for (PetscInt i = 0; i <= 40; i++) {
    EXPECT_EQ(i, log.steps[i]);
    EXPECT_NEAR(3.0 + 0.05 * i, log.t[i], 1e-12);
  }
  ASSERT_EQ(0, SlimRKSetMonitor(rk.r, 1, NULL, NULL));
  ASSERT_EQ(0, SlimRKIntegrate(rk.r, 0.05, 40, 3.0, fam.f->q0, fam.f->v0, q2, v2));
  EXPECT_EQ(q1[0], q2[0]);
  EXPECT_EQ(v1[0], v2[0]);
}

// Separable: undamped oscillator, Kepler. Not: damped oscillator (F depends on qdot),
// anharmonic with alpha != 0 (F = -k q - 2 alpha q qdot^2), Poynting-Robertson drag.
TEST(Symplectic, SeparabilityAndRefusal)
{
  struct {
    const char *family;
    PetscReal   lambda; // for dho only
    bool        separable;
    const char *why;
  } cases[] = {
    {"dho", 0.0, true, ""}, {"kepler", 0, true, ""}, {"dho", 0.1, false, "velocity"}, {"anharmonic", 0, false, "velocity"}, {"pr", 0, false, "velocity"},
  };
  for (const auto &c : cases) {
    Fam       fam(c.family);
    PetscBool sep;
    char      why[128];
    if (!strcmp(c.family, "dho")) SetDHO(fam.f, c.lambda);
    ASSERT_EQ(0, SlimFamilyIsSeparable(fam.f, NULL, &sep, why, sizeof why));
    EXPECT_EQ(c.separable, (bool)sep) << c.family << " lambda " << c.lambda << ": " << why;
    EXPECT_NE(nullptr, strstr(why, c.why)) << c.family << ": " << why;
    RK             rk;
    PetscErrorCode ierr;
    {
      QuietErrors quiet;
      ierr = SlimRKCreate(fam.f, fam.f->theta, "sympl2", &rk.r);
    }
    if (c.separable) EXPECT_EQ(0, ierr) << c.family;
    else {
      EXPECT_NE(0, ierr) << c.family;
      EXPECT_EQ(nullptr, rk.r);
      std::string msg = slimtest::LastError(ierr);
      EXPECT_NE(std::string::npos, msg.find("sympl2")) << msg;
      EXPECT_NE(std::string::npos, msg.find(c.family)) << msg;
    }
    // the Runge-Kutta types apply to every family
    RK rk4;
    EXPECT_EQ(0, SlimRKCreate(fam.f, fam.f->theta, "4", &rk4.r)) << c.family;
  }
  PetscBool sym;
  EXPECT_EQ(0, SlimRKTypeIsSymplectic("sympl4", &sym));
  EXPECT_TRUE(sym);
  EXPECT_EQ(0, SlimRKTypeIsSymplectic("4", &sym));
  EXPECT_FALSE(sym);
}

// A sweep with an RK and a symplectic baseline on the undamped oscillator: two finished rows of
// /baselines whose errors are those of direct runs; on the damped oscillator the sweep is refused
// before any work with one message naming the option, the type and the family.
TEST(Symplectic, SweepWritesBaselineRows)
{
  slimtest::TempDir tmp;
  std::string       out = tmp.path + "/sympl.h5";
  PetscBool         complete;
  slimtest::RunSweep("-sweep_family dho -dho_lambda 0 -sweep_r 0 -sweep_dt 0.1 -sweep_N 500 -sweep_baselines 4,sympl2 -sweep_repeats 0 -fit_guesses 0 -sweep_quiet -output " + out, &complete);
  EXPECT_TRUE(complete);
  std::vector<double> st = slimtest::ReadReal(out, "baselines/status"), eq = slimtest::ReadReal(out, "baselines/err_q_final");
  ASSERT_EQ(2u, st.size());
  EXPECT_EQ(0, st[0]);
  EXPECT_EQ(0, st[1]);
  const char *types[] = {"4", "sympl2"};
  for (int k = 0; k < 2; k++) {
    Fam       fam("dho");
    RK        rk;
    PetscReal q[1], v[1], qe[1], ve[1];
    PetscBool has;
    SetDHO(fam.f, 0.0);
    ASSERT_EQ(0, SlimRKCreate(fam.f, fam.f->theta, types[k], &rk.r));
    ASSERT_EQ(0, SlimRKIntegrate(rk.r, 0.1, 500, 0.0, fam.f->q0, fam.f->v0, q, v));
    ASSERT_EQ(0, fam.f->exact(fam.f->theta, 0.0, fam.f->q0, fam.f->v0, 50.0, qe, ve, &has));
    EXPECT_NEAR(std::fabs(q[0] - qe[0]), eq[k], 1e-12) << types[k];
  }
  EXPECT_GT(eq[1], 100 * eq[0]); // second order against fourth: the rows are not swapped

  slimtest::OptionsScope opt(("-sweep_family dho -sweep_baselines 4,sympl2 -sweep_N 10 -sweep_quiet -output " + tmp.path + "/refused.h5").c_str());
  SlimHarness            h = nullptr;
  PetscErrorCode         ierr;
  ASSERT_EQ(0, SlimHarnessCreate(PETSC_COMM_SELF, &h));
  {
    QuietErrors quiet;
    ierr = SlimHarnessSetFromOptions(h);
  }
  EXPECT_NE(0, ierr);
  std::string msg = slimtest::LastError(ierr);
  EXPECT_NE(std::string::npos, msg.find("-sweep_baselines")) << msg;
  EXPECT_NE(std::string::npos, msg.find("sympl2")) << msg;
  EXPECT_NE(std::string::npos, msg.find("'dho'")) << msg;
  ASSERT_EQ(0, SlimHarnessDestroy(&h));
  EXPECT_FALSE(slimtest::Exists(tmp.path + "/refused.h5"));
}

TEST(Symplectic, SeparabilityBranches)
{
  struct {
    SlimFamilyEvalFn eval;
    PetscInt         dof;
    bool             separable;
    const char      *why;
  } cases[] = {
    {ToyEval<CIRCULATORY>, 2, false, "not conservative"},
    {ToyEval<POSITION_MASS>, 1, false, "depends on the position"},
    {ToyEval<VELOCITY_MASS>, 1, false, "not constant"},
    {ToyEval<DRIVEN>, 1, true, ""},
  };
  for (const auto &c : cases) {
    struct _n_SlimFamily fam = {};
    PetscBool            sep;
    char                 why[128];
    fam.dof = c.dof, fam.eval = c.eval, fam.q0[0] = 1.0, fam.v0[1] = 0.5;
    ASSERT_EQ(0, SlimFamilyIsSeparable(&fam, NULL, &sep, why, sizeof why));
    EXPECT_EQ(c.separable, (bool)sep) << c.why << ": " << why;
    EXPECT_NE(nullptr, strstr(why, c.why)) << why;
  }
}
