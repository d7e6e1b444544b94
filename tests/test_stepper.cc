// Stepper tests: Jacobian against finite differences, convergence order, long-time energy
// behaviour, discrete Noether (Kepler), ensembles against single runs, failure reporting.
#include <gtest/gtest.h>
#include <cmath>
#include <string>
#include <vector>
#include <slim/slim.h>
#include <slim/poll.h>
#include <slim/rk.h>
#include "testing.h"

using namespace slimtest;

namespace {

// Final-time error in q of the damped oscillator against its exact solution.
double DhoError(PetscInt r, double dt, double T, SlimSolverType type = SLIM_SOLVER_SNES)
{
  Fam       fam("dho");
  PetscReal th[3] = {1.0, 1.0, 0.1}, q0 = 1.0, v0 = 0.0, q, v, qe, ve, t;
  PetscBool has;
  for (int j = 0; j < 3; j++) fam.f->theta[j] = th[j];
  PetscInt N = (PetscInt)std::llround(T / dt);
  Stepper  st(fam.f, r, 1, dt, type);
  EXPECT_EQ(0, SlimStepperSetInitialState(st.s, 0, 0.0, &q0, &v0));
  EXPECT_EQ(0, SlimStepperIntegrate(st.s, N));
  EXPECT_EQ(0, SlimStepperGetState(st.s, 0, &t, &q, NULL));
  EXPECT_EQ(0, SlimStepperGetVelocity(st.s, 0, &v));
  EXPECT_EQ(0, fam.f->exact(th, 0.0, &q0, &v0, t, &qe, &ve, &has));
  EXPECT_TRUE(has);
  return std::fabs(q - qe);
}

} // namespace

// The analytic step Jacobian of every family agrees with central differences of the residual.
TEST(Stepper, JacobianMatchesFiniteDifferencesForEveryFamily)
{
  for (const std::string &name : FamilyNames()) {
    for (PetscInt r : {0, 1, 3}) {
      SCOPED_TRACE(name + " r=" + std::to_string(r));
      Fam     fam(name.c_str());
      Stepper st(fam.f, r, 1, 0.05);
      ASSERT_EQ(0, SlimStepperSetInitialState(st.s, 0, 0.3, fam.f->q0, fam.f->v0));
      SNES snes;
      ASSERT_EQ(0, SlimStepperGetSNES(st.s, &snes));
      Vec X, Y, dX, Rp, Rm, Jv;
      Mat J;
      ASSERT_EQ(0, SNESGetFunction(snes, &Y, NULL, NULL));
      ASSERT_EQ(0, SNESGetJacobian(snes, &J, NULL, NULL, NULL));
      PetscInt n;
      ASSERT_EQ(0, VecGetSize(Y, &n));
      ASSERT_EQ(0, VecDuplicate(Y, &X));
      ASSERT_EQ(0, VecDuplicate(Y, &dX));
      ASSERT_EQ(0, VecDuplicate(Y, &Rp));
      ASSERT_EQ(0, VecDuplicate(Y, &Rm));
      ASSERT_EQ(0, VecDuplicate(Y, &Jv));
      // a state near the initial one, perturbed so that every node differs
      PetscScalar *x, *dx;
      ASSERT_EQ(0, VecGetArray(X, &x));
      ASSERT_EQ(0, VecGetArray(dX, &dx));
      const PetscInt d = fam.f->dof;
      for (PetscInt i = 0; i < n; i++) {
        x[i]  = fam.f->q0[i % d] + 0.05 * fam.f->v0[i % d] * (1 + i / d) + 0.01 * std::sin(1.0 + i);
        dx[i] = std::cos(0.7 * i + 0.2);
      }
      ASSERT_EQ(0, VecRestoreArray(X, &x));
      ASSERT_EQ(0, VecRestoreArray(dX, &dx));
      ASSERT_EQ(0, SNESComputeJacobian(snes, X, J, J));
      ASSERT_EQ(0, MatMult(J, dX, Jv));
      const PetscReal h = 1e-6;
      ASSERT_EQ(0, VecAXPY(X, h, dX));
      ASSERT_EQ(0, SNESComputeFunction(snes, X, Rp));
      ASSERT_EQ(0, VecAXPY(X, -2 * h, dX));
      ASSERT_EQ(0, SNESComputeFunction(snes, X, Rm));
      ASSERT_EQ(0, VecAXPY(Rp, -1.0, Rm));
      ASSERT_EQ(0, VecScale(Rp, 1.0 / (2 * h)));
      PetscReal nj, nd;
      ASSERT_EQ(0, VecNorm(Jv, NORM_INFINITY, &nj));
      ASSERT_EQ(0, VecAXPY(Rp, -1.0, Jv));
      ASSERT_EQ(0, VecNorm(Rp, NORM_INFINITY, &nd));
      EXPECT_GT(nj, 0.0);
      EXPECT_LT(nd, 1e-6 * nj) << "|J dx - FD| = " << nd << " |J dx| = " << nj;
      VecDestroy(&X), VecDestroy(&dX), VecDestroy(&Rp), VecDestroy(&Rm), VecDestroy(&Jv);
    }
  }
}

// Observed order from a dt-halving study is 2r+2 (physics.md), r = 0..3.
TEST(Stepper, ConvergenceOrderIs2rPlus2)
{
  // coarse enough that the finest error stays well above round-off, fine enough to be asymptotic
  const double dt0[4] = {0.1, 0.25, 0.5, 1.0}, T = 40.0;
  for (PetscInt r = 0; r <= 3; r++) {
    double e1 = DhoError(r, dt0[r], T), e2 = DhoError(r, dt0[r] / 2, T), e3 = DhoError(r, dt0[r] / 4, T);
    double p1 = std::log2(e1 / e2), p2 = std::log2(e2 / e3);
    SCOPED_TRACE("r=" + std::to_string(r));
    EXPECT_NEAR(p2, 2 * r + 2, 0.3) << "errors " << e1 << " " << e2 << " " << e3 << " orders " << p1 << " " << p2;
    EXPECT_GT(e3, 1e-13) << "too close to round-off to measure an order";
  }
}

// SNES and the plain dense Newton loop solve the same equations.
TEST(Stepper, DenseLoopMatchesSNES)
{
  for (PetscInt r : {0, 2, 5}) {
    double a = DhoError(r, 0.2, 4.0, SLIM_SOLVER_SNES), b = DhoError(r, 0.2, 4.0, SLIM_SOLVER_DENSE);
    EXPECT_NEAR(a, b, 1e-12 + 1e-9 * a);
  }
  Fam       fam("kepler");
  PetscReal q[2][2], p[2][2];
  for (int k = 0; k < 2; k++) {
    Stepper st(fam.f, 2, 1, 0.01, k ? SLIM_SOLVER_DENSE : SLIM_SOLVER_SNES);
    ASSERT_EQ(0, SlimStepperSetInitialState(st.s, 0, 0.0, fam.f->q0, fam.f->v0));
    ASSERT_EQ(0, SlimStepperIntegrate(st.s, 300));
    ASSERT_EQ(0, SlimStepperGetState(st.s, 0, NULL, q[k], p[k]));
  }
  // both stop within the step tolerance of the same solution; compare on the orbit's scales
  const double qs = std::hypot(fam.f->q0[0], fam.f->q0[1]), ps = std::hypot(fam.f->v0[0], fam.f->v0[1]) * fam.f->theta[1];
  for (int a = 0; a < 2; a++) {
    EXPECT_NEAR(q[0][a], q[1][a], 1e-10 * qs);
    EXPECT_NEAR(p[0][a], p[1][a], 1e-10 * ps);
  }
}

// A linear family needs exactly one Newton step per step.
TEST(Stepper, LinearFamilyTakesOneNewtonStep)
{
  Fam       fam("dho");
  PetscReal q0 = 1, v0 = 0.3;
  for (SlimSolverType type : {SLIM_SOLVER_SNES, SLIM_SOLVER_DENSE}) {
    Stepper st(fam.f, 4, 3, 0.1, type);
    for (PetscInt b = 0; b < 3; b++) ASSERT_EQ(0, SlimStepperSetInitialState(st.s, b, 0.0, &q0, &v0));
    ASSERT_EQ(0, SlimStepperIntegrate(st.s, 200));
    SlimStepStats s;
    ASSERT_EQ(0, SlimStepperGetStats(st.s, &s));
    EXPECT_EQ(s.steps, 200);
    EXPECT_EQ(s.newton_max, 1);
    EXPECT_EQ(s.newton_total, 200);
    EXPECT_EQ(s.nfailed, 0);
    // the sizes it was made with; statistics count again from a reset
    PetscInt r, B, dof;
    ASSERT_EQ(0, SlimStepperGetSizes(st.s, &r, &B, &dof));
    EXPECT_EQ(r, 4);
    EXPECT_EQ(B, 3);
    EXPECT_EQ(dof, 1);
    ASSERT_EQ(0, SlimStepperResetStats(st.s));
    ASSERT_EQ(0, SlimStepperIntegrate(st.s, 30));
    ASSERT_EQ(0, SlimStepperGetStats(st.s, &s));
    EXPECT_EQ(s.steps, 30);
    EXPECT_EQ(s.newton_total, 30);
  }
}

// Weakly damped oscillator, 1e5 steps: the fractional energy error stays bounded (physics.md).
TEST(Stepper, EnergyErrorBoundedWeakDamping)
{
  Fam fam("dho");
  fam.f->theta[0] = 1, fam.f->theta[1] = 1, fam.f->theta[2] = 1e-4;
  const PetscInt N = 100000, tenth = N / 10;
  for (PetscInt r : {0, 1}) {
    struct Ctx {
      SlimFamily f;
      double     first = 0, last = 0;
      PetscInt   N;
    } ctx{fam.f, 0, 0, N};
    Stepper   st(fam.f, r, 1, 0.1);
    PetscReal q0 = 1, v0 = 0;
    ASSERT_EQ(0, SlimStepperSetInitialState(st.s, 0, 0.0, &q0, &v0));
    auto mon = [](SlimStepper s, PetscInt step, void *vctx) -> PetscErrorCode {
      Ctx      *c = (Ctx *)vctx;
      PetscReal t, q, v, E, qe, ve, Ee, q0 = 1, v0 = 0;
      PetscBool has;
      PetscCall(SlimStepperGetState(s, 0, &t, &q, NULL));
      PetscCall(SlimStepperGetEnergy(s, 0, &E));
      PetscCall(c->f->exact(c->f->theta, 0, &q0, &v0, t, &qe, &ve, &has));
      PetscCall(c->f->energy(c->f->theta, t, &qe, &ve, &Ee));
      (void)v;
      double rel = std::fabs(E - Ee) / Ee;
      if (step <= c->N / 10) c->first = std::max(c->first, rel);
      if (step >= c->N - c->N / 10) c->last = std::max(c->last, rel);
      return 0;
    };
    ASSERT_EQ(0, SlimStepperSetMonitor(st.s, 1, mon, &ctx));
    ASSERT_EQ(0, SlimStepperIntegrate(st.s, N));
    SCOPED_TRACE("r=" + std::to_string(r));
    EXPECT_GT(ctx.first, 0.0);
    EXPECT_LE(ctx.last, 2 * ctx.first) << "first tenth " << ctx.first << " last tenth " << ctx.last;
    (void)tenth;
  }
}

// Kepler e = 0.5 at r = 1: bounded energy error over 1000 orbits, angular momentum conserved.
TEST(Stepper, KeplerEnergyBoundedAngularMomentumConserved)
{
  Fam            fam("kepler");
  const double   GM = fam.f->theta[0], P = 2 * M_PI / std::sqrt(GM); // a = 1
  const PetscInt per = 100, orbits = 1000, N = per * orbits;
  struct Ctx {
    double   E0, L0, first = 0, last = 0, dL = 0;
    PetscInt N;
  } ctx{0, 0, 0, 0, 0, N};
  Stepper st(fam.f, 1, 1, P / per);
  ASSERT_EQ(0, SlimStepperSetInitialState(st.s, 0, 0.0, fam.f->q0, fam.f->v0));
  PetscReal q[2], p[2];
  ASSERT_EQ(0, SlimStepperGetEnergy(st.s, 0, &ctx.E0));
  ASSERT_EQ(0, SlimStepperGetState(st.s, 0, NULL, q, p));
  ctx.L0   = q[0] * p[1] - q[1] * p[0];
  auto mon = [](SlimStepper s, PetscInt step, void *vctx) -> PetscErrorCode {
    Ctx      *c = (Ctx *)vctx;
    PetscReal q[2], p[2], E;
    PetscCall(SlimStepperGetState(s, 0, NULL, q, p));
    PetscCall(SlimStepperGetEnergy(s, 0, &E));
    double rel = std::fabs((E - c->E0) / c->E0);
    if (step <= c->N / 10) c->first = std::max(c->first, rel);
    if (step >= c->N - c->N / 10) c->last = std::max(c->last, rel);
    c->dL = std::max(c->dL, std::fabs((q[0] * p[1] - q[1] * p[0] - c->L0) / c->L0));
    return 0;
  };
  ASSERT_EQ(0, SlimStepperSetMonitor(st.s, 1, mon, &ctx));
  ASSERT_EQ(0, SlimStepperIntegrate(st.s, N));
  SlimFailure f;
  ASSERT_EQ(0, SlimStepperGetFailure(st.s, 0, &f));
  EXPECT_EQ(f.step, -1);
  EXPECT_GT(ctx.first, 0.0);
  EXPECT_LE(ctx.last, 2 * ctx.first) << "first tenth " << ctx.first << " last tenth " << ctx.last;
  EXPECT_LT(ctx.dL, 1e-8);
}

// Round-off over long runs: 10^6 steps of a Kepler orbit (100 orbits, r = 1, dt = 1e-4) with
// either solver and the default tolerances. The method's own energy error is bounded and
// oscillates with the orbital phase (up to 3.7e-14 at other phases); sampled every 5 orbits, at
// the same phase, what remains is the drift that round-off adds: 1.1e-15 with compensated sums
// of q and pi, 1.0e-13 with sums that drop the increments' low bits every step.
TEST(Stepper, LongRunsKeepEnergyToRoundOff)
{
  Fam       fam("kepler");
  const int N = 1000000, chunk = 50000; /* 5 orbits (period 1) */
  for (SlimSolverType type : {SLIM_SOLVER_DENSE, SLIM_SOLVER_SNES}) {
    SCOPED_TRACE(SlimSolverTypes[type]);
    Stepper st(fam.f, 1, 1, 1e-4);
    ASSERT_EQ(0, SlimStepperSetSolverType(st.s, type));
    ASSERT_EQ(0, SlimStepperSetInitialState(st.s, 0, 0.0, fam.f->q0, fam.f->v0));
    PetscReal E0, E;
    double    worst = 0;
    ASSERT_EQ(0, SlimStepperGetEnergy(st.s, 0, &E0));
    for (int done = 0; done < N; done += chunk) {
      ASSERT_EQ(0, SlimStepperIntegrate(st.s, chunk));
      ASSERT_EQ(0, SlimStepperGetEnergy(st.s, 0, &E));
      worst = std::max(worst, std::fabs((E - E0) / E0));
    }
    SlimFailure f;
    ASSERT_EQ(0, SlimStepperGetFailure(st.s, 0, &f));
    EXPECT_EQ(f.step, -1);
    EXPECT_LT(worst, 1e-14);
    std::printf("[ measured ] kepler r = 1, dt = 1e-4, 10^6 steps, %s: largest relative energy error %.1e\n", SlimSolverTypes[type], worst);
  }
}

// B trajectories in one SNES agree with B single runs.
TEST(Stepper, EnsembleMatchesSingleRuns)
{
  for (const char *name : {"dho", "anharmonic", "kepler"}) {
    SCOPED_TRACE(name);
    Fam            fam(name);
    const PetscInt B = 5, d = fam.f->dof, np = fam.f->nparam;
    std::vector<PetscReal> q0(B * d), v0(B * d), th(B * np);
    for (PetscInt b = 0; b < B; b++) {
      for (PetscInt a = 0; a < d; a++) q0[b * d + a] = fam.f->q0[a] * (1 + 0.05 * b), v0[b * d + a] = fam.f->v0[a] * (1 - 0.03 * b);
      for (PetscInt j = 0; j < np; j++) th[b * np + j] = fam.f->theta[j] * (1 + 0.02 * b);
    }
    Stepper ens(fam.f, 2, B, 0.01);
    for (PetscInt b = 0; b < B; b++) {
      ASSERT_EQ(0, SlimStepperSetParameters(ens.s, b, &th[b * np]));
      ASSERT_EQ(0, SlimStepperSetInitialState(ens.s, b, 0.0, &q0[b * d], &v0[b * d]));
    }
    ASSERT_EQ(0, SlimStepperIntegrate(ens.s, 200));
    for (PetscInt b = 0; b < B; b++) {
      Stepper one(fam.f, 2, 1, 0.01);
      ASSERT_EQ(0, SlimStepperSetParameters(one.s, 0, &th[b * np]));
      ASSERT_EQ(0, SlimStepperSetInitialState(one.s, 0, 0.0, &q0[b * d], &v0[b * d]));
      ASSERT_EQ(0, SlimStepperIntegrate(one.s, 200));
      PetscReal qa[SLIM_MAX_DOF], pa[SLIM_MAX_DOF], qb[SLIM_MAX_DOF], pb[SLIM_MAX_DOF];
      ASSERT_EQ(0, SlimStepperGetState(ens.s, b, NULL, qa, pa));
      ASSERT_EQ(0, SlimStepperGetState(one.s, 0, NULL, qb, pb));
      for (PetscInt a = 0; a < d; a++) {
        EXPECT_NEAR(qa[a], qb[a], 1e-12 * (1 + std::fabs(qb[a])));
        EXPECT_NEAR(pa[a], pb[a], 1e-12 * (1 + std::fabs(pb[a])));
      }
    }
  }
}

// A failed solve is reported with its reason and step; the other trajectories go on.
TEST(Stepper, FailureIsReportedNotFatal)
{
  Fam     fam("kepler");
  Stepper st(fam.f, 1, 3, 0.001);
  PetscReal origin[2] = {0, 0};
  ASSERT_EQ(0, SlimStepperSetInitialState(st.s, 0, 0.0, fam.f->q0, fam.f->v0));
  ASSERT_EQ(0, SlimStepperSetInitialState(st.s, 1, 0.0, origin, fam.f->v0)); // force is infinite at q = 0
  ASSERT_EQ(0, SlimStepperSetInitialState(st.s, 2, 0.0, fam.f->q0, fam.f->v0));
  ASSERT_EQ(0, SlimStepperIntegrate(st.s, 50));
  SlimFailure f0, f1;
  ASSERT_EQ(0, SlimStepperGetFailure(st.s, 0, &f0));
  ASSERT_EQ(0, SlimStepperGetFailure(st.s, 1, &f1));
  EXPECT_EQ(f0.step, -1);
  EXPECT_EQ(f1.step, 0);
  EXPECT_LT((int)f1.reason, 0);
  PetscReal q[2], t;
  ASSERT_EQ(0, SlimStepperGetState(st.s, 2, &t, q, NULL));
  EXPECT_NEAR(t, 0.05, 1e-12);
  EXPECT_TRUE(std::isfinite(q[0]) && std::isfinite(q[1]));
  SlimStepStats s;
  ASSERT_EQ(0, SlimStepperGetStats(st.s, &s));
  EXPECT_EQ(s.nfailed, 1);

  // an iteration limit too small for a nonlinear family fails at step 0 with DIVERGED_MAX_IT
  for (SlimSolverType type : {SLIM_SOLVER_SNES, SLIM_SOLVER_DENSE}) {
    Stepper lim(fam.f, 2, 1, 0.01, type);
    ASSERT_EQ(0, PetscOptionsSetValue(NULL, "-slim_step_maxit", "1"));
    ASSERT_EQ(0, SlimStepperSetFromOptions(lim.s));
    ASSERT_EQ(0, PetscOptionsClearValue(NULL, "-slim_step_maxit"));
    ASSERT_EQ(0, SlimStepperSetInitialState(lim.s, 0, 0.0, fam.f->q0, fam.f->v0));
    ASSERT_EQ(0, SlimStepperIntegrate(lim.s, 5));
    SlimFailure f;
    ASSERT_EQ(0, SlimStepperGetFailure(lim.s, 0, &f));
    EXPECT_EQ(f.step, 0);
    EXPECT_EQ(f.reason, SNES_DIVERGED_MAX_IT);
  }
}

// Forward sensitivities agree with central differences of the integrated state, every family.
TEST(Stepper, SensitivitiesMatchFiniteDifferences)
{
  for (const std::string &name : FamilyNames()) {
    for (SlimSolverType type : {SLIM_SOLVER_SNES, SLIM_SOLVER_DENSE}) {
      SCOPED_TRACE(name + (type == SLIM_SOLVER_SNES ? " snes" : " dense"));
      Fam            fam(name.c_str());
      const PetscInt d = fam.f->dof, np = fam.f->nparam, N = 60;
      const std::string base = slimtest::BaseFamily(name);
      const double   dt = base == "dho" || base == "anharmonic" ? 0.1 : 0.01;
      // the state after N steps as a function of theta
      auto run = [&](const std::vector<PetscReal> &th, PetscReal *q, PetscReal *p, PetscReal *v, PetscReal *dq, PetscReal *dp, PetscReal *dv) {
        Stepper st(fam.f, 2, 2, dt, type);
        EXPECT_EQ(0, SlimStepperSetSensitivities(st.s, dq ? PETSC_TRUE : PETSC_FALSE));
        for (PetscInt b = 0; b < 2; b++) {
          EXPECT_EQ(0, SlimStepperSetParameters(st.s, b, th.data()));
          EXPECT_EQ(0, SlimStepperSetInitialState(st.s, b, 0.0, fam.f->q0, fam.f->v0));
        }
        EXPECT_EQ(0, SlimStepperIntegrate(st.s, N));
        EXPECT_EQ(0, SlimStepperGetState(st.s, 1, NULL, q, p));
        EXPECT_EQ(0, SlimStepperGetVelocity(st.s, 1, v));
        if (dq) { EXPECT_EQ(0, SlimStepperGetSensitivities(st.s, 1, dq, dp, dv)); }
      };
      std::vector<PetscReal> th(fam.f->theta, fam.f->theta + np);
      if (base == "anharmonic") th[3] = 0.05; // damping on, so every parameter matters
      PetscReal q[SLIM_MAX_DOF], p[SLIM_MAX_DOF], v[SLIM_MAX_DOF], dq[SLIM_MAX_DOF * SLIM_MAX_PARAM], dp[SLIM_MAX_DOF * SLIM_MAX_PARAM], dv[SLIM_MAX_DOF * SLIM_MAX_PARAM];
      run(th, q, p, v, dq, dp, dv);
      for (PetscInt j = 0; j < np; j++) {
        // h balances truncation (h^2) against the solver-tolerance noise of each run (tol/h)
        const double h = 1e-5 * std::fabs(th[j]);
        std::vector<PetscReal> tp = th, tm = th;
        tp[j] += h, tm[j] -= h;
        PetscReal qp[SLIM_MAX_DOF], pp[SLIM_MAX_DOF], vp[SLIM_MAX_DOF], qm[SLIM_MAX_DOF], pm[SLIM_MAX_DOF], vm[SLIM_MAX_DOF];
        run(tp, qp, pp, vp, NULL, NULL, NULL);
        run(tm, qm, pm, vm, NULL, NULL, NULL);
        for (PetscInt a = 0; a < d; a++) {
          const double fq = (qp[a] - qm[a]) / (2 * h), fp = (pp[a] - pm[a]) / (2 * h), fv = (vp[a] - vm[a]) / (2 * h);
          // relative to the derivative and to its natural scale |x| / |theta_j|
          const double sj = 1.0 / std::fabs(th[j]);
          EXPECT_NEAR(dq[a * np + j], fq, 1e-6 * (std::fabs(fq) + std::fabs(q[a]) * sj)) << "dq param " << fam.f->pname[j];
          EXPECT_NEAR(dp[a * np + j], fp, 1e-6 * (std::fabs(fp) + std::fabs(p[a]) * sj)) << "dpi param " << fam.f->pname[j];
          EXPECT_NEAR(dv[a * np + j], fv, 1e-6 * (std::fabs(fv) + std::fabs(v[a]) * sj)) << "dv param " << fam.f->pname[j];
        }
      }
    }
  }
}

// The poll hook (the harness keeps MPI progressing with it) runs every `every` steps of any
// integration, slimplectic or Runge-Kutta, and not at all once cleared.
TEST(Stepper, PollHookRunsDuringLongIntegrations)
{
  int  calls = 0;
  auto hook  = [](void *ctx) -> PetscErrorCode {
    ++*(int *)ctx;
    return 0;
  };
  Fam fam("dho");
  ASSERT_EQ(0, SlimPollSet(hook, &calls, 10));
  {
    Stepper st(fam.f, 1, 1, 0.1);
    ASSERT_EQ(0, SlimStepperSetInitialState(st.s, 0, 0.0, fam.f->q0, fam.f->v0));
    ASSERT_EQ(0, SlimStepperIntegrate(st.s, 100));
  }
  EXPECT_EQ(calls, 10);
  SlimRK    rk;
  PetscReal q, v;
  ASSERT_EQ(0, SlimRKCreate(fam.f, fam.f->theta, "4", &rk));
  ASSERT_EQ(0, SlimRKIntegrate(rk, 0.1, 50, 0, fam.f->q0, fam.f->v0, &q, &v));
  EXPECT_EQ(calls, 15);
  ASSERT_EQ(0, SlimPollSet(NULL, NULL, 10));
  ASSERT_EQ(0, SlimRKIntegrate(rk, 0.1, 50, 0, fam.f->q0, fam.f->v0, &q, &v));
  EXPECT_EQ(calls, 15);
  ASSERT_EQ(0, SlimRKDestroy(&rk));
}

namespace {

// q_N, pi_N of trajectory 0 after N steps of family `name` at r, dt, with extra options set
// while the stepper reads them.
void RunWithOptions(const char *name, PetscInt r, PetscReal dt, PetscInt N, SlimSolverType type, const std::vector<std::pair<const char *, const char *>> &opts, PetscReal q[], PetscReal p[], SlimStepStats *stats = nullptr)
{
  Fam     fam(name);
  Stepper st(fam.f, r, 1, dt, type);
  for (auto &o : opts) ASSERT_EQ(0, PetscOptionsSetValue(NULL, o.first, o.second));
  ASSERT_EQ(0, SlimStepperSetFromOptions(st.s));
  for (auto &o : opts) ASSERT_EQ(0, PetscOptionsClearValue(NULL, o.first));
  ASSERT_EQ(0, SlimStepperSetInitialState(st.s, 0, 0.0, fam.f->q0, fam.f->v0));
  ASSERT_EQ(0, SlimStepperIntegrate(st.s, N));
  ASSERT_EQ(0, SlimStepperGetState(st.s, 0, NULL, q, p));
  if (stats) { ASSERT_EQ(0, SlimStepperGetStats(st.s, stats)); }
}

} // namespace

// The Newton guess extrapolates the previous step's node polynomial: at anharmonic r = 2,
// dt = 0.1 a step takes at most 2.1 Newton iterations on average (the first-order guess
// q_n + qdot_n tau took 2.7), for both solvers.
TEST(Stepper, PredictorNeedsAtMostTwoPointOneNewtonIterations)
{
  for (SlimSolverType type : {SLIM_SOLVER_SNES, SLIM_SOLVER_DENSE}) {
    PetscReal     q[1], p[1];
    SlimStepStats s;
    RunWithOptions("anharmonic", 2, 0.1, 200, type, {}, q, p, &s);
    EXPECT_EQ(s.steps, 200);
    EXPECT_LE((double)s.newton_total / s.steps, 2.1) << (type == SLIM_SOLVER_SNES ? "snes" : "dense");
    // the first-order guess is still available (degree 1) and needs more iterations
    PetscReal     q1[1], p1[1];
    SlimStepStats s1;
    RunWithOptions("anharmonic", 2, 0.1, 200, type, {{"-slim_step_predictor_degree", "1"}}, q1, p1, &s1);
    EXPECT_GT(s1.newton_total, s.newton_total);
    // the guess changes the iterations, not the solution: both stop within the step tolerance
    EXPECT_NEAR(q[0], q1[0], 1e-11);
    EXPECT_NEAR(p[0], p1[0], 1e-11);
  }
}

// The kernels compiled for the dof and for (r, dof) compute what the generic kernel computes,
// for every family, on both sides of the r <= 4 node-count instances.
TEST(Stepper, CompiledKernelsMatchGeneric)
{
  for (const std::string &name : FamilyNames()) {
    const double dt = name == "dho" || name == "anharmonic" ? 0.1 : 0.01;
    for (PetscInt r : {0, 1, 4, 5}) {
      for (SlimSolverType type : {SLIM_SOLVER_SNES, SLIM_SOLVER_DENSE}) {
        SCOPED_TRACE(name + " r=" + std::to_string(r) + (type == SLIM_SOLVER_SNES ? " snes" : " dense"));
        PetscReal q[3][SLIM_MAX_DOF], p[3][SLIM_MAX_DOF];
        const char *kinds[3] = {"generic", "dof", "nodes"};
        for (int k = 0; k < 3; k++) RunWithOptions(name.c_str(), r, dt, 40, type, {{"-slim_step_kernel", kinds[k]}}, q[k], p[k]);
        Fam fam(name.c_str());
        for (int k = 1; k < 3; k++)
          for (PetscInt a = 0; a < fam.f->dof; a++) {
            EXPECT_NEAR(q[k][a], q[0][a], 1e-12 * (1 + std::fabs(q[0][a]))) << kinds[k];
            EXPECT_NEAR(p[k][a], p[0][a], 1e-12 * (1 + std::fabs(p[0][a]))) << kinds[k];
          }
      }
    }
  }
}

// The default block-LU preconditioner of the SNES path gives the solution PCPBJACOBI gives.
TEST(Stepper, BlockLUMatchesPointBlockJacobi)
{
  for (const char *name : {"anharmonic", "kepler", "dho"}) {
    SCOPED_TRACE(name);
    const double dt = std::string(name) == "kepler" ? 0.01 : 0.1;
    PetscReal    q[2][SLIM_MAX_DOF], p[2][SLIM_MAX_DOF];
    RunWithOptions(name, 3, dt, 50, SLIM_SOLVER_SNES, {}, q[0], p[0]);
    RunWithOptions(name, 3, dt, 50, SLIM_SOLVER_SNES, {{"-slim_pc_type", "pbjacobi"}}, q[1], p[1]);
    Fam fam(name);
    for (PetscInt a = 0; a < fam.f->dof; a++) {
      EXPECT_NEAR(q[0][a], q[1][a], 1e-11 * (1 + std::fabs(q[1][a])));
      EXPECT_NEAR(p[0][a], p[1][a], 1e-11 * (1 + std::fabs(p[1][a])));
    }
  }
}

// -slim_solver auto (the default): the dense loop for one trajectory, SNES for an ensemble.
TEST(Stepper, AutoSolverIsDenseForOneTrajectorySNESForEnsembles)
{
  Fam fam("anharmonic");
  for (PetscInt B : {1, 4}) {
    SlimStepper    st;
    SlimSolverType type;
    SNES           snes;
    ASSERT_EQ(0, SlimStepperCreate(fam.f, 1, B, &st));
    ASSERT_EQ(0, SlimStepperGetSolverType(st, &type));
    EXPECT_EQ(type, SLIM_SOLVER_AUTO);
    ASSERT_EQ(0, SlimStepperSetTimeStep(st, 0.1));
    ASSERT_EQ(0, SlimStepperSetUp(st));
    ASSERT_EQ(0, SlimStepperGetSolverType(st, &type));
    EXPECT_EQ(type, B == 1 ? SLIM_SOLVER_DENSE : SLIM_SOLVER_SNES);
    PetscPushErrorHandler(PetscReturnErrorHandler, NULL);
    PetscErrorCode ierr = SlimStepperGetSNES(st, &snes);
    PetscPopErrorHandler();
    EXPECT_EQ(ierr != 0, B == 1);
    ASSERT_EQ(0, SlimStepperDestroy(&st));
  }
}
