// Robust fits (issue 8 leftovers): the horizon continuation of the trajectory loss (-fit_horizons),
// TAO restarts after a line-search failure (-fit_restarts, -fit_restart_ls), and acceleration
// observations with times, so that a drive frequency is identifiable.
#include <gtest/gtest.h>
#include <cmath>
#include <string>
#include <vector>
#include <slim/fit.h>
#include <slim/private/fitimpl.h> // white-box: the tests set fit fields directly

#include "testing.h"

using namespace slimtest;

namespace {

// One TAO (lmvm) fit of the named parameters from exactly the given guess (an absolute box of
// zero width), coordinates scaled by the truth as in the shipped sweeps.
SlimFitResult FitFrom(SlimFit fit, const SlimFitProblem &prob, SlimLossType kind, const std::vector<std::string> &params, const std::vector<PetscReal> &guess)
{
  Data          data;
  SlimFitResult res;
  fit->guesses   = 1;
  fit->nloss     = 1;
  fit->loss[0]   = kind;
  fit->nmethod   = 1;
  fit->method[0] = SLIM_FIT_TAO;
  fit->scale     = SLIM_FIT_SCALE_REFERENCE;
  fit->box_mode  = SLIM_FIT_BOX_ABSOLUTE;
  fit->max_it    = 500;
  fit->nparams   = (PetscInt)params.size();
  for (size_t i = 0; i < params.size(); i++) {
    EXPECT_EQ(0, PetscStrncpy(fit->params[i], params[i].c_str(), sizeof(fit->params[i])));
    fit->box_lo[i] = fit->box_hi[i] = guess[i];
  }
  EXPECT_EQ(0, SlimFitCreateData(fit, &prob, kind, &data.d));
  EXPECT_EQ(0, SlimFitRun(fit, &prob, 0, data.d, &res, NULL));
  return res;
}

// Largest relative error of the family's identifiable ratios.
double RatioError(SlimFamily fam, const PetscReal theta[])
{
  PetscReal r[SLIM_MAX_PARAM], rt[SLIM_MAX_PARAM];
  double    worst = 0;
  EXPECT_EQ(0, fam->ratios(theta, r));
  EXPECT_EQ(0, fam->ratios(fam->theta, rt));
  for (PetscInt i = 0; i < fam->nratio; i++) worst = std::max(worst, (double)std::fabs(r[i] / rt[i] - 1));
  return worst;
}

} // namespace

// A lightly damped oscillator over 16 periods (T = 100, omega = 1, lambda/m = 0.01) from a guess
// 30 % off in the frequency (k = 1.69 or 0.49 times the truth; m and lambda at the truth): over
// the whole window the trajectory loss in k is a plateau with ripples (the prediction is out of
// phase with the data after a few periods) and lmvm stops on it; fitted on the first eighth of
// the window (2 periods, where the loss is nearly convex in k), then a quarter, a half, all of
// it, each stage starts in the next one's basin and the fit recovers k/m.
TEST(FitRobust, HorizonContinuationRecoversAMultiPeriodFrequency)
{
  Fam            fam("dho");
  SlimFitProblem prob = {fam.f, 1, 1000, 0.1, 0, 4242};
  fam.f->theta[2]     = 0.01; // light damping: the motion keeps its amplitude over the window
  for (PetscReal kguess : {1.69, 0.49}) {
    SCOPED_TRACE(kguess);
    Fit           plain, staged;
    SlimFitResult r0 = FitFrom(plain.f, prob, SLIM_LOSS_TRAJECTORY, {"k"}, {kguess});
    const double  e0 = RatioError(fam.f, r0.theta);
    staged.f->nhorizon = 4;
    for (PetscInt s = 0; s < 4; s++) staged.f->horizon[s] = std::ldexp(1.0, (int)s - 3);
    SlimFitResult r1 = FitFrom(staged.f, prob, SLIM_LOSS_TRAJECTORY, {"k"}, {kguess});
    const double  e1 = RatioError(fam.f, r1.theta);
    std::printf("[ measured ] dho T = 100, k guess %.2f: whole window: ratio error %.2e, loss %.3g (%s); horizons 1/8..1: ratio error %.2e, loss %.3g, %d iterations (%s)\n", (double)kguess, e0, (double)r0.loss, r0.reason, e1, (double)r1.loss, (int)r1.its, r1.reason);
    EXPECT_GT(e0, 1e-2) << "without the continuation the fit must stop in a wrong basin: " << r0.reason;
    EXPECT_EQ(r1.status, SLIM_FIT_CONVERGED) << r1.reason;
    EXPECT_LT(e1, 1e-6);
    EXPECT_NE(std::string(r1.reason).find("horizon stage 4/4"), std::string::npos) << r1.reason;
    // loss_init is the guess's loss over the whole window, as without stages
    EXPECT_DOUBLE_EQ(r1.loss0, r0.loss0);
  }
}

// SlimFitLossSetHorizon keeps the samples within the first fraction of the window (at least two)
// and the loss follows: 0 at the truth, growing with the window for a wrong parameter.
TEST(FitRobust, HorizonSelectsTheFirstSamples)
{
  Fam            fam("dho");
  Fit            fit;
  Data           data;
  Loss           loss;
  SlimFitProblem prob = {fam.f, 1, 100, 0.1, 0, 7};
  ASSERT_EQ(0, SlimFitCreateData(fit.f, &prob, SLIM_LOSS_TRAJECTORY, &data.d));
  ASSERT_EQ(0, SlimFitLossCreate(fam.f, data.d, prob.r, SLIM_SOLVER_DENSE, &loss.l));
  PetscInt n;
  ASSERT_EQ(0, SlimFitLossSetHorizon(loss.l, 1, &n));
  EXPECT_EQ(n, 101);
  ASSERT_EQ(0, SlimFitLossSetHorizon(loss.l, 0.25, &n));
  EXPECT_EQ(n, 26); // steps 0..25
  ASSERT_EQ(0, SlimFitLossSetHorizon(loss.l, 1e-6, &n));
  EXPECT_EQ(n, 2);
  PetscInt nres;
  ASSERT_EQ(0, SlimFitLossGetSizes(loss.l, &nres, NULL));
  EXPECT_EQ(nres, 2 * 2);
  std::vector<PetscReal> th(fam.f->theta, fam.f->theta + fam.f->nparam);
  th[1] *= 1.1;
  PetscReal   f[3];
  SlimFitEval ev;
  const PetscReal fr[3] = {0.25, 0.5, 1};
  for (int i = 0; i < 3; i++) {
    ASSERT_EQ(0, SlimFitLossSetHorizon(loss.l, fr[i], NULL));
    ASSERT_EQ(0, SlimFitLossEvaluate(loss.l, 1, th.data(), &f[i], NULL, NULL, &ev));
    ASSERT_TRUE(ev.ok) << ev.reason;
  }
  EXPECT_LT(f[0], f[1]);
  EXPECT_LT(f[1], f[2]);
  PetscPushErrorHandler(PetscIgnoreErrorHandler, NULL);
  EXPECT_NE(0, SlimFitLossSetHorizon(loss.l, 0, NULL));
  EXPECT_NE(0, SlimFitLossSetHorizon(loss.l, 1.5, NULL));
  PetscPopErrorHandler();
}

// Duffing's trajectory loss from a guess of the shipped sweep (+-30 %): lmvm's first unit step
// along the scaled gradient takes the mass negative (m = -3), the integration fails there, and
// TAO's default More-Thuente line search cannot bracket an infinite value: DIVERGED_LS_FAILURE
// at iteration 1. Restarted from the last iterate with an armijo line search, the fit recovers
// every ratio, omega included.
TEST(FitRobust, RestartAfterLineSearchFailureRecovers)
{
  Fam                    fam("duffing");
  SlimFitProblem         prob  = {fam.f, 1, 50, 0.1, 0, 2026};
  std::vector<PetscReal> guess = {1.29106969, 1.08229863, 0.46935348, 0.08804572, 0.38730807, 1.2 * 1.1};
  Fit                    none, dflt;
  none.f->restarts       = 0;
  SlimFitResult r0       = FitFrom(none.f, prob, SLIM_LOSS_TRAJECTORY, {"m", "k", "beta", "gamma", "F0", "omega"}, guess);
  SlimFitResult r1       = FitFrom(dflt.f, prob, SLIM_LOSS_TRAJECTORY, {"m", "k", "beta", "gamma", "F0", "omega"}, guess);
  std::printf("[ measured ] duffing trajectory loss, no restarts: %s after %d iterations; default: %s, %d iterations, ratio error %.2e\n", r0.reason, (int)r0.its, r1.reason, (int)r1.its, RatioError(fam.f, r1.theta));
  EXPECT_EQ(r0.status, SLIM_FIT_DIVERGED);
  EXPECT_NE(std::string(r0.reason).find("DIVERGED_LS_FAILURE"), std::string::npos) << r0.reason;
  EXPECT_EQ(r0.restarts, 0);
  EXPECT_EQ(r1.status, SLIM_FIT_CONVERGED) << r1.reason;
  EXPECT_GE(r1.restarts, 1);
  EXPECT_LE(r1.restarts, 3);
  EXPECT_NE(std::string(r1.reason).find("line-search restart"), std::string::npos) << r1.reason;
  EXPECT_LT(RatioError(fam.f, r1.theta), 1e-6);
}

// The acceleration loss at one time (t = 0, as before the observations carried times) cannot see
// the drive frequency: d qddot / d omega = -F0 t sin(omega t) / m = 0 there, so the gradient in
// omega vanishes exactly and a fit leaves omega at its guess. With the observation times spread
// over the run the gradient is not 0 and fits from +-30 % recover every ratio, omega included.
TEST(FitRobust, AccelerationLossSeesTheDriveFrequency)
{
  Fam            fam("duffing");
  Fit            fit;
  Data           data;
  SlimFitProblem prob = {fam.f, 1, 50, 0.1, 0, 2026};
  PetscInt       jw;
  fit.f->grid = 12;
  ASSERT_EQ(0, SlimFamilyGetParamIndex(fam.f, "omega", &jw));
  ASSERT_EQ(0, SlimFitCreateData(fit.f, &prob, SLIM_LOSS_ACCELERATION, &data.d));
  double tmin = 1e300, tmax = -1;
  for (PetscInt i = 0; i < data.d->n; i++) tmin = std::min(tmin, (double)data.d->t[i]), tmax = std::max(tmax, (double)data.d->t[i]);
  EXPECT_GE(tmin, 0);
  EXPECT_LT(tmax, 5.0);
  EXPECT_GT(tmax - tmin, 4.5) << "observation times cover the run";
  std::vector<PetscReal> th(fam.f->theta, fam.f->theta + fam.f->nparam), g(fam.f->nparam);
  th[jw] *= 1.1;
  PetscReal   f;
  SlimFitEval ev;
  {
    Loss loss;
    ASSERT_EQ(0, SlimFitLossCreate(fam.f, data.d, prob.r, SLIM_SOLVER_DENSE, &loss.l));
    ASSERT_EQ(0, SlimFitLossEvaluate(loss.l, 1, th.data(), &f, g.data(), NULL, &ev));
    EXPECT_GT(std::fabs(g[jw]), 1e-3) << "d loss / d omega with timed observations";
  }
  for (PetscInt i = 0; i < data.d->n; i++) data.d->t[i] = 0; // the old behaviour: one time
  {
    Loss loss;
    ASSERT_EQ(0, SlimFitLossCreate(fam.f, data.d, prob.r, SLIM_SOLVER_DENSE, &loss.l));
    ASSERT_EQ(0, SlimFitLossEvaluate(loss.l, 1, th.data(), &f, g.data(), NULL, &ev));
    EXPECT_EQ(g[jw], 0.0) << "at t = 0 the loss cannot see omega";
  }
  // fits from 8 guesses within +-30 % of every parameter
  Fit fits;
  fits.f->guesses   = 8;
  fits.f->box       = 0.3;
  fits.f->grid      = 12;
  fits.f->scale     = SLIM_FIT_SCALE_REFERENCE;
  fits.f->method[0] = SLIM_FIT_TAO;
  fits.f->loss[0]   = SLIM_LOSS_ACCELERATION;
  fits.f->max_it    = 500;
  Data                       d2;
  std::vector<SlimFitResult> res(8);
  SlimFitSummary             sum;
  ASSERT_EQ(0, SlimFitCreateData(fits.f, &prob, SLIM_LOSS_ACCELERATION, &d2.d));
  ASSERT_EQ(0, SlimFitRun(fits.f, &prob, 0, d2.d, res.data(), NULL));
  ASSERT_EQ(0, SlimFitSummarize(fits.f, &prob, 8, res.data(), &sum));
  EXPECT_EQ(sum.nrecovered, 8);
  std::printf("[ measured ] duffing acceleration loss, omega fitted: %d/8 recovered every ratio to 1e-4\n", (int)sum.nrecovered);
}

// Measured acceleration data may carry the time of each observation as a first column.
TEST(FitRobust, MeasuredAccelerationDataWithTimes)
{
  const PetscReal rows[2 * 4] = {0.5, 1, 2, 3, 1.5, 4, 5, 6};
  Data            a, b;
  ASSERT_EQ(0, SlimFitDataCreateFromArray(SLIM_LOSS_ACCELERATION, 1, 0.1, 2, 4, rows, "test", &a.d));
  EXPECT_EQ(a.d->t[0], 0.5);
  EXPECT_EQ(a.d->t[1], 1.5);
  EXPECT_EQ(a.d->q[1], 4);
  EXPECT_EQ(a.d->a[1], 6);
  ASSERT_EQ(0, SlimFitDataCreateFromArray(SLIM_LOSS_ACCELERATION, 1, 0.1, 2, 3, rows, "test", &b.d));
  EXPECT_EQ(b.d->t[1], 0);
  EXPECT_EQ(b.d->q[1], 3);
  Data c;
  PetscPushErrorHandler(PetscIgnoreErrorHandler, NULL);
  EXPECT_NE(0, SlimFitDataCreateFromArray(SLIM_LOSS_ACCELERATION, 1, 0.1, 1, 5, rows, "test", &c.d));
  PetscPopErrorHandler();
}
