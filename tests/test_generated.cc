// Families generated from specification files (sweeps/families/*.toml, tools/slimgen.py):
// they reproduce the hand-written ones, and the new systems' special structure (2-dof mass
// matrix, periodic angles, linear detection) is what the specification says.
#include <gtest/gtest.h>
#include <petscsys.h>
#include <slim/family.h>
#include <slim/stepper.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

#include "testing.h"

using slimtest::Fam;
using slimtest::Stepper;

namespace
{

// Steppers solved to round-off (the update criterion ends every Newton iteration): a residual
// tolerance would let two runs stop one iteration apart and differ by the solver's tolerance.
void RoundOff(SlimStepper s, SlimSolverType type)
{
  ASSERT_EQ(0, PetscOptionsSetValue(NULL, "-slim_step_rtol", "1e-16"));
  PetscErrorCode e = SlimStepperSetFromOptions(s);
  ASSERT_EQ(0, PetscOptionsClearValue(NULL, "-slim_step_rtol"));
  ASSERT_EQ(0, e);
  ASSERT_EQ(0, SlimStepperSetSolverType(s, type));
}

struct Diff {
  double step = 0;  // largest one-step difference from the same state, relative
  double traj = 0;  // largest difference of whole trajectories, relative
  double floor = 0; // the same for the hand-written family against itself, started 2 ulp away
};

// 1000 steps of `hand` and `gen` from the default state; differences of q and pi relative to
// their largest magnitudes.
void Compare(const char *hand, const char *gen, PetscInt r, double dt, SlimSolverType type, Diff *d)
{
  Fam       a(hand), b(gen);
  const int N = 1000;
  const PetscInt n = a.f->dof;
  ASSERT_EQ(n, b.f->dof);
  ASSERT_EQ(a.f->nparam, b.f->nparam);
  ASSERT_EQ(a.f->linear, b.f->linear) << "linear detection";
  for (PetscInt j = 0; j < a.f->nparam; j++) ASSERT_EQ(a.f->theta[j], b.f->theta[j]) << a.f->pname[j];
  for (PetscInt i = 0; i < n; i++) {
    ASSERT_EQ(a.f->q0[i], b.f->q0[i]);
    ASSERT_EQ(a.f->v0[i], b.f->v0[i]);
  }
  Stepper sa(a.f, r, 1, dt), sb(b.f, r, 1, dt), s1(b.f, r, 1, dt), sp(a.f, r, 1, dt);
  for (SlimStepper s : {sa.s, sb.s, s1.s, sp.s}) RoundOff(s, type);
  PetscReal qp[SLIM_MAX_DOF];
  for (PetscInt i = 0; i < n; i++) qp[i] = a.f->q0[i] + 2 * DBL_EPSILON * std::fabs(a.f->q0[i]);
  ASSERT_EQ(0, SlimStepperSetInitialState(sa.s, 0, 0, a.f->q0, a.f->v0));
  ASSERT_EQ(0, SlimStepperSetInitialState(sb.s, 0, 0, a.f->q0, a.f->v0));
  ASSERT_EQ(0, SlimStepperSetInitialState(sp.s, 0, 0, qp, a.f->v0));
  double mq = 0, mp = 0, dq[3] = {0, 0, 0}, dp[3] = {0, 0, 0};
  for (int k = 0; k < N; k++) {
    PetscReal t, q[4][SLIM_MAX_DOF], p[4][SLIM_MAX_DOF];
    ASSERT_EQ(0, SlimStepperGetState(sa.s, 0, &t, q[0], p[0]));
    ASSERT_EQ(0, SlimStepperSetInitialMomentum(s1.s, 0, t, q[0], p[0])); // one step of gen from hand's state
    for (SlimStepper s : {sa.s, sb.s, s1.s, sp.s}) ASSERT_EQ(0, SlimStepperStep(s));
    ASSERT_EQ(0, SlimStepperGetState(sa.s, 0, NULL, q[0], p[0]));
    ASSERT_EQ(0, SlimStepperGetState(s1.s, 0, NULL, q[1], p[1]));
    ASSERT_EQ(0, SlimStepperGetState(sb.s, 0, NULL, q[2], p[2]));
    ASSERT_EQ(0, SlimStepperGetState(sp.s, 0, NULL, q[3], p[3]));
    for (PetscInt i = 0; i < n; i++) {
      mq = std::max(mq, std::fabs(q[0][i]));
      mp = std::max(mp, std::fabs(p[0][i]));
      for (int c = 0; c < 3; c++) {
        dq[c] = std::max(dq[c], std::fabs(q[c + 1][i] - q[0][i]));
        dp[c] = std::max(dp[c], std::fabs(p[c + 1][i] - p[0][i]));
      }
    }
  }
  for (SlimStepper s : {sa.s, sb.s, s1.s, sp.s}) {
    SlimFailure f;
    ASSERT_EQ(0, SlimStepperGetFailure(s, 0, &f));
    ASSERT_LT(f.step, 0);
  }
  d->step  = std::max(dq[0] / mq, dp[0] / mp);
  d->traj  = std::max(dq[1] / mq, dp[1] / mp);
  d->floor = std::max(dq[2] / mq, dp[2] / mp);
}

} // namespace

// Acceptance: the generated dho, anharmonic, kepler and pr reproduce the hand-written families
// over 1000 steps at r = 0..3 (SNES at even r, the dense loop at odd r):
//  - every step, taken from the hand-written trajectory's state, agrees to 1e-13 relative;
//  - the whole trajectories agree to 1e-13 relative.
// The second needs a step solved to the last bits: increments from q_n as unknowns, pi_{n+1}
// from the step's impulse and compensated sums (stepkernel.c). With the node positions as
// unknowns and pi_{n+1} from its cancelling sum one step agreed to only 5e-14 and Kepler's
// trajectories to 1e-10. The hand-written family against itself from q0 + 2 ulp is printed for
// scale: that is how much the motion itself amplifies a last-bit difference.
TEST(Generated, ReproducesHandWrittenFamilies)
{
  struct Case {
    const char *hand, *gen;
    double       dt;
  } cases[] = {
    {"dho",        "dho_gen",        0.1 },
    {"anharmonic", "anharmonic_gen", 0.1 },
    {"kepler",     "kepler_gen",     0.01},
    {"pr",         "pr_gen",         0.01},
  };
  for (const Case &c : cases) {
    Diff worst;
    for (PetscInt r = 0; r <= 3; r++) {
      SCOPED_TRACE(std::string(c.gen) + " r " + std::to_string(r));
      Diff d;
      Compare(c.hand, c.gen, r, c.dt, r % 2 ? SLIM_SOLVER_DENSE : SLIM_SOLVER_SNES, &d);
      EXPECT_LE(d.step, 2e-15); // the issue asks 1e-13; measured <= 1.9e-16 (was 5.4e-14)
      EXPECT_LE(d.traj, 1e-13);
      worst.step  = std::max(worst.step, d.step);
      worst.traj  = std::max(worst.traj, d.traj);
      worst.floor = std::max(worst.floor, d.floor);
    }
    std::printf("[ measured ] %s vs %s, 1000 steps, r = 0..3: one step %.1e, trajectory %.1e (hand-written vs itself from q0 + 2 ulp: %.1e)\n", c.gen, c.hand, worst.step, worst.traj, worst.floor);
  }
}

// The linear detection gives the one-solve-per-step path to linear systems only.
TEST(Generated, LinearDetection)
{
  for (const char *lin : {"dho_gen", "coupled_dashpot"}) {
    Fam f(lin);
    EXPECT_TRUE(f.f->linear) << lin;
  }
  for (const char *non : {"anharmonic_gen", "kepler_gen", "pr_gen", "duffing", "double_pendulum"}) {
    Fam f(non);
    EXPECT_FALSE(f.f->linear) << non;
  }
}

// Double pendulum: the configuration-dependent, coupled 2x2 mass matrix and the joint friction
// against their closed forms (the generic tests check every derivative by finite differences).
TEST(Generated, DoublePendulumMassMatrixAndFriction)
{
  Fam f("double_pendulum");
  ASSERT_EQ(2, f.f->dof);
  PetscInt im1, im2, il1, il2, ig, ib1, ib2;
  ASSERT_EQ(0, SlimFamilyGetParamIndex(f.f, "m1", &im1));
  ASSERT_EQ(0, SlimFamilyGetParamIndex(f.f, "m2", &im2));
  ASSERT_EQ(0, SlimFamilyGetParamIndex(f.f, "l1", &il1));
  ASSERT_EQ(0, SlimFamilyGetParamIndex(f.f, "l2", &il2));
  ASSERT_EQ(0, SlimFamilyGetParamIndex(f.f, "g", &ig));
  ASSERT_EQ(0, SlimFamilyGetParamIndex(f.f, "b1", &ib1));
  ASSERT_EQ(0, SlimFamilyGetParamIndex(f.f, "b2", &ib2));
  const double th[7] = {1.3, 0.7, 1.1, 0.9, 9.81, 0.2, 0.3};
  double       theta[SLIM_MAX_PARAM];
  theta[im1] = th[0], theta[im2] = th[1], theta[il1] = th[2], theta[il2] = th[3], theta[ig] = th[4], theta[ib1] = th[5], theta[ib2] = th[6];
  const double m1 = th[0], m2 = th[1], l1 = th[2], l2 = th[3], g = th[4], b1 = th[5], b2 = th[6];
  for (double d : {0.0, 0.4, 2.0, -3.0}) {
    const double q[2] = {0.3 + d, 0.3}, v[2] = {0.7, -1.2}, c = std::cos(q[0] - q[1]), s = std::sin(q[0] - q[1]);
    double       F[2], P[2], Pv[4], Fv[4];
    SlimEval     e = {};
    e.F = F, e.P = P, e.Pv = Pv, e.Fv = Fv;
    ASSERT_EQ(0, f.f->eval(theta, 0, q, v, &e));
    const double M[4] = {(m1 + m2) * l1 * l1, m2 * l1 * l2 * c, m2 * l1 * l2 * c, m2 * l2 * l2};
    for (int i = 0; i < 4; i++) EXPECT_NEAR(M[i], Pv[i], 1e-14 * (m1 + m2) * l1 * l1) << "Pv entry " << i << " at phi1 - phi2 = " << q[0] - q[1];
    EXPECT_NEAR(M[0] * v[0] + M[1] * v[1], P[0], 1e-13);
    EXPECT_NEAR(M[2] * v[0] + M[3] * v[1], P[1], 1e-13);
    // joint friction: torques -b1 phi1dot + b2 (phi2dot - phi1dot) on rod 1, -b2 (phi2dot - phi1dot) on rod 2
    // F = dL/dphi + generalized friction
    const double F0 = -m2 * l1 * l2 * v[0] * v[1] * s - (m1 + m2) * g * l1 * std::sin(q[0]) - b1 * v[0] + b2 * (v[1] - v[0]);
    const double F1 = m2 * l1 * l2 * v[0] * v[1] * s - m2 * g * l2 * std::sin(q[1]) - b2 * (v[1] - v[0]);
    EXPECT_NEAR(F0, F[0], 1e-13 * 40);
    EXPECT_NEAR(F1, F[1], 1e-13 * 40);
    // dF/dqdot couples the two joints through the friction and the velocity terms
    EXPECT_NEAR(-m2 * l1 * l2 * v[1] * s - b1 - b2, Fv[0], 1e-13 * 40);
    EXPECT_NEAR(-m2 * l1 * l2 * v[0] * s + b2, Fv[1], 1e-13 * 40);
    EXPECT_NEAR(m2 * l1 * l2 * v[1] * s + b2, Fv[2], 1e-13 * 40);
    EXPECT_NEAR(m2 * l1 * l2 * v[0] * s - b2, Fv[3], 1e-13 * 40);
  }
}

TEST(Generated, WrapPeriodic)
{
  const double p = 2 * M_PI;
  EXPECT_EQ(0.5, SlimWrapPeriodic(0.5, 0));
  EXPECT_EQ(100.0, SlimWrapPeriodic(100.0, 0));
  for (double x : {0.0, 1.0, -1.0, 3.0, -3.0, 3.2, -3.2, 7.0, -7.0, 100.0, -1e4, M_PI, -M_PI}) {
    const double w = SlimWrapPeriodic(x, p);
    EXPECT_GE(w, -M_PI) << x;
    EXPECT_LT(w, M_PI) << x;
    EXPECT_NEAR(0, std::remainder(x - w, p), 1e-12 * std::max(1.0, std::fabs(x))) << x;
  }
}

// The double pendulum going over the top: its angles stay in [-pi, pi) step by step, and agree
// modulo 2 pi with the same motion integrated without wrapping.
TEST(Generated, DoublePendulumAnglesWrap)
{
  Fam wrapped("double_pendulum"), free_("double_pendulum");
  ASSERT_NEAR(2 * M_PI, wrapped.f->period[0], 1e-15);
  ASSERT_NEAR(2 * M_PI, wrapped.f->period[1], 1e-15);
  free_.f->period[0] = free_.f->period[1] = 0;
  const PetscReal q0[2] = {0.5, -0.3}, v0[2] = {9.0, -7.0}; // enough energy to rotate
  Stepper         sw(wrapped.f, 1, 1, 0.01, SLIM_SOLVER_DENSE), sf(free_.f, 1, 1, 0.01, SLIM_SOLVER_DENSE);
  ASSERT_EQ(0, SlimStepperSetInitialState(sw.s, 0, 0, q0, v0));
  ASSERT_EQ(0, SlimStepperSetInitialState(sf.s, 0, 0, q0, v0));
  double maxabs = 0, maxdiff = 0;
  for (int n = 0; n < 400; n++) {
    ASSERT_EQ(0, SlimStepperStep(sw.s));
    ASSERT_EQ(0, SlimStepperStep(sf.s));
    PetscReal qw[2], qf[2], pw[2], pf[2];
    ASSERT_EQ(0, SlimStepperGetState(sw.s, 0, NULL, qw, pw));
    ASSERT_EQ(0, SlimStepperGetState(sf.s, 0, NULL, qf, pf));
    for (int a = 0; a < 2; a++) {
      EXPECT_GE(qw[a], -M_PI);
      EXPECT_LT(qw[a], M_PI);
      maxabs  = std::max(maxabs, std::fabs(qf[a]));
      maxdiff = std::max(maxdiff, std::fabs(SlimFamilyWrapDifference(wrapped.f, a, qw[a], qf[a])));
      EXPECT_NEAR(pf[a], pw[a], 1e-8 * (1 + std::fabs(pf[a])));
    }
  }
  EXPECT_GT(maxabs, 3 * M_PI) << "the test motion must go round";
  EXPECT_LT(maxdiff, 1e-8);
  // differences of wrapped angles are taken the short way round
  EXPECT_NEAR(0.2, SlimFamilyWrapDifference(wrapped.f, 0, -M_PI + 0.1, M_PI - 0.1), 1e-14);
}
