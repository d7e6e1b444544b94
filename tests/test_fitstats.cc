// Fit uncertainty (issue 11): the Gauss-Newton covariance of SlimFitGetUncertainty() must be a
// calibrated error bar -- over many noise realisations the truth lies within 3 std in about the
// nominal fraction of fits, and the predicted std matches the spread of the estimates -- and it
// must vanish without noise. Also SlimFitLossResiduals against SlimFitLossEvaluate.
#include <gtest/gtest.h>
#include <cmath>
#include <vector>
#include <slim/fit.h>
#include <slim/private/fitimpl.h> // white-box: the tests set fit fields directly

#include "testing.h"

using namespace slimtest;

namespace {

SlimFitProblem Dho(SlimFamily fam, double sigma, PetscInt64 seed)
{
  SlimFitProblem p;
  p.fam   = fam;
  p.r     = 1;
  p.N     = 50;
  p.dt    = 0.1;
  p.sigma = sigma;
  p.seed  = seed;
  return p;
}

struct Stats {
  int    n = 0, consistent = 0;
  double mean_rstd[2] = {0, 0}, spread[2] = {0, 0}, mean_sigma = 0;
};

// One tao lmvm fit of (k, lambda) per noise realisation (seed), guess within +-20 % of the truth.
Stats Realisations(SlimLossType kind, double sigma, int R)
{
  Fam                 fam("dho");
  Stats               st;
  std::vector<double> est[2];
  PetscReal           rt[2];
  EXPECT_EQ(0, fam.f->ratios(fam.f->theta, rt));
  for (int s = 0; s < R; s++) {
    Fit fit;
    fit.f->guesses   = 1;
    fit.f->box       = 0.2;
    fit.f->nloss     = 1;
    fit.f->loss[0]   = kind;
    fit.f->method[0] = SLIM_FIT_TAO;
    fit.f->grid      = 8;
    fit.f->nparams   = 2;
    EXPECT_EQ(0, PetscStrncpy(fit.f->params[0], "k", SLIM_FIT_NAME_LEN));
    EXPECT_EQ(0, PetscStrncpy(fit.f->params[1], "lambda", SLIM_FIT_NAME_LEN));
    SlimFitProblem     prob = Dho(fam.f, sigma, 1000 + 17 * s);
    Data               data;
    SlimFitResult      res;
    SlimFitUncertainty u;
    EXPECT_EQ(0, SlimFitCreateData(fit.f, &prob, kind, &data.d));
    EXPECT_EQ(0, SlimFitRun(fit.f, &prob, 0, data.d, &res, NULL));
    if (res.status != SLIM_FIT_CONVERGED) continue;
    EXPECT_EQ(0, SlimFitGetUncertainty(fit.f, &prob, data.d, &res, 0, &u));
    EXPECT_EQ(u.rank, 2);
    EXPECT_EQ(u.std[0], 0); // m is not fitted
    PetscReal ra[2];
    EXPECT_EQ(0, fam.f->ratios(res.theta, ra));
    st.n++;
    st.consistent += u.consistent;
    st.mean_sigma += u.sigma / R;
    for (int k = 0; k < 2; k++) {
      st.mean_rstd[k] += u.rstd[k];
      est[k].push_back(ra[k] - rt[k]);
    }
  }
  for (int k = 0; k < 2 && st.n > 1; k++) {
    double m = 0, v = 0;
    st.mean_rstd[k] /= st.n;
    for (double e : est[k]) m += e / st.n;
    for (double e : est[k]) v += (e - m) * (e - m) / (st.n - 1);
    st.spread[k] = std::sqrt(v);
  }
  return st;
}

} // namespace

TEST(FitStats, ResidualsReproduceTheLossAndItsGradient)
{
  Fam fam("dho");
  for (SlimLossType kind : {SLIM_LOSS_TRAJECTORY, SLIM_LOSS_ACCELERATION}) {
    SCOPED_TRACE(SlimLossTypes[kind]);
    Fit            fit;
    SlimFitProblem prob = Dho(fam.f, 0.01, 7);
    Data           data;
    Loss           loss;
    fit.f->grid = 8;
    ASSERT_EQ(0, SlimFitCreateData(fit.f, &prob, kind, &data.d));
    ASSERT_EQ(0, SlimFitLossCreate(fam.f, data.d, prob.r, SLIM_SOLVER_DENSE, &loss.l));
    PetscInt nres, npred, np = fam.f->nparam;
    ASSERT_EQ(0, SlimFitLossGetSizes(loss.l, &nres, &npred));
    std::vector<PetscReal> th = {1.1, 0.9, 0.12}, r(nres), J(nres * np), pred(npred), g(np);
    std::vector<PetscInt>  grp(nres);
    SlimFitEval            ev;
    PetscReal              f;
    ASSERT_EQ(0, SlimFitLossResiduals(loss.l, th.data(), r.data(), J.data(), grp.data(), pred.data(), &ev));
    ASSERT_TRUE(ev.ok) << ev.reason;
    ASSERT_EQ(0, SlimFitLossEvaluate(loss.l, 1, th.data(), &f, g.data(), NULL, &ev));
    double s[2] = {0, 0}, gr[2][3] = {{0, 0, 0}, {0, 0, 0}};
    for (PetscInt i = 0; i < nres; i++) {
      s[grp[i]] += r[i] * r[i];
      for (PetscInt j = 0; j < np; j++) gr[grp[i]][j] += r[i] * J[i * np + j];
    }
    if (kind == SLIM_LOSS_TRAJECTORY) {
      EXPECT_NEAR(f, 0.5 * (std::sqrt(s[0]) + std::sqrt(s[1])), 1e-12 * f);
      for (PetscInt j = 0; j < np; j++) EXPECT_NEAR(g[j], 0.5 * gr[0][j] / std::sqrt(s[0]) + 0.5 * gr[1][j] / std::sqrt(s[1]), 1e-10 * std::fabs(g[j]) + 1e-14);
      // predictions: q and qdot minus the residual are the observations
      EXPECT_NEAR(pred[0] - r[0], data.d->q[0], 1e-14);
      EXPECT_NEAR(pred[3 * 5 + 1] - r[2 * 5 + 1], data.d->v[5], 1e-14);
      EXPECT_EQ(npred, 3 * data.d->n);
    } else {
      EXPECT_NEAR(f, s[0] / nres, 1e-12 * f);
      for (PetscInt j = 0; j < np; j++) EXPECT_NEAR(g[j], 2 * gr[0][j] / nres, 1e-10 * std::fabs(g[j]) + 1e-14);
    }
  }
}

TEST(FitStats, TrajectoryUncertaintyIsCalibrated)
{
  const int R = 200;
  Stats     st = Realisations(SLIM_LOSS_TRAJECTORY, 0.01, R);
  std::printf("[ measured ] dho sigma=0.01 trajectory loss, %d realisations: %d/%d converged fits consistent (truth within 3 std); "
              "predicted std k/m %.3g lambda/m %.3g, spread of estimates %.3g %.3g; estimated sigma %.4g\n",
              R, st.consistent, st.n, st.mean_rstd[0], st.mean_rstd[1], st.spread[0], st.spread[1], st.mean_sigma);
  EXPECT_GE(st.n, (int)(0.9 * R));
  EXPECT_GE(st.consistent, (int)(0.95 * st.n)); // nominal 0.995 for two ratios at 3 std
  for (int k = 0; k < 2; k++) {
    EXPECT_GT(st.mean_rstd[k], st.spread[k] / 1.5);
    EXPECT_LT(st.mean_rstd[k], st.spread[k] * 1.5);
  }
  EXPECT_NEAR(st.mean_sigma, 0.01, 0.002);
}

TEST(FitStats, AccelerationUncertaintyIsCalibrated)
{
  const int R = 200;
  Stats     st = Realisations(SLIM_LOSS_ACCELERATION, 0.01, R);
  std::printf("[ measured ] dho sigma=0.01 acceleration loss, %d realisations: %d/%d consistent; predicted std k/m %.3g lambda/m %.3g, spread %.3g %.3g\n", R,
              st.consistent, st.n, st.mean_rstd[0], st.mean_rstd[1], st.spread[0], st.spread[1]);
  EXPECT_GE(st.n, (int)(0.9 * R));
  EXPECT_GE(st.consistent, (int)(0.95 * st.n)); // nominal 0.995 for two ratios at 3 std
}

TEST(FitStats, NoNoiseNoUncertaintyAndUnidentifiableScale)
{
  Fam                fam("dho");
  Fit                fit;
  SlimFitProblem     prob = Dho(fam.f, 0, 3);
  Data               data;
  SlimFitResult      res;
  SlimFitUncertainty u;
  fit.f->guesses   = 1;
  fit.f->method[0] = SLIM_FIT_TAO;
  ASSERT_EQ(0, SlimFitCreateData(fit.f, &prob, SLIM_LOSS_TRAJECTORY, &data.d));
  ASSERT_EQ(0, SlimFitRun(fit.f, &prob, 0, data.d, &res, NULL));
  ASSERT_EQ(res.status, SLIM_FIT_CONVERGED) << res.reason;
  ASSERT_EQ(0, SlimFitGetUncertainty(fit.f, &prob, data.d, &res, 0, &u));
  // all of m, k, lambda fitted: the overall scale is not determined by the motion
  EXPECT_EQ(u.nf, 3);
  EXPECT_EQ(u.rank, 2);
  for (int j = 0; j < 3; j++) EXPECT_TRUE(std::isinf(u.std[j]));
  EXPECT_LT(u.rstd[0], 1e-6);
  EXPECT_LT(u.rstd[1], 1e-6);
  std::printf("[ measured ] dho sigma=0 trajectory, all parameters: rank %d, std k/m %.2e lambda/m %.2e\n", (int)u.rank, u.rstd[0], u.rstd[1]);
  // a diverged fit has no uncertainty
  res.status = SLIM_FIT_DIVERGED;
  ASSERT_EQ(0, SlimFitGetUncertainty(fit.f, &prob, data.d, &res, 0, &u));
  EXPECT_TRUE(std::isnan(u.rstd[0]));
  EXPECT_FALSE(u.consistent);
}

TEST(FitStats, PredictAndBestGiveTheObservedVsFittedOutput)
{
  Fam            fam("dho");
  Fit            fit;
  SlimFitProblem prob = Dho(fam.f, 0.01, 11);
  Data           data;
  fit.f->guesses   = 4;
  fit.f->method[0] = SLIM_FIT_TAO;
  fit.f->nparams   = 2;
  ASSERT_EQ(0, PetscStrncpy(fit.f->params[0], "k", SLIM_FIT_NAME_LEN));
  ASSERT_EQ(0, PetscStrncpy(fit.f->params[1], "lambda", SLIM_FIT_NAME_LEN));
  ASSERT_EQ(0, SlimFitCreateData(fit.f, &prob, SLIM_LOSS_TRAJECTORY, &data.d));
  std::vector<SlimFitResult> res(4);
  ASSERT_EQ(0, SlimFitRun(fit.f, &prob, 0, data.d, res.data(), NULL));
  res[1].status = SLIM_FIT_DIVERGED;
  res[1].loss   = -1; // a diverged fit is never the best, whatever its loss
  PetscInt best = SlimFitBest(4, res.data());
  ASSERT_GE(best, 0);
  ASSERT_NE(best, 1);
  for (int k = 0; k < 4; k++) {
    if (k != 1) { EXPECT_LE(res[best].loss, res[k].loss); }
  }
  EXPECT_EQ(SlimFitBest(0, res.data()), -1);
  const PetscInt         n = data.d->n;
  std::vector<PetscReal> pf(3 * n), pt(3 * n);
  PetscBool              ok;
  ASSERT_EQ(0, SlimFitPredict(fit.f, &prob, data.d, res[best].theta, pf.data(), &ok));
  ASSERT_TRUE(ok);
  ASSERT_EQ(0, SlimFitPredict(fit.f, &prob, data.d, fam.f->theta, pt.data(), &ok));
  // the truth's prediction is the noise-free data; pi = m qdot for the oscillator
  double rq = 0, rp = 0;
  for (PetscInt i = 0; i < n; i++) {
    EXPECT_NEAR(pt[3 * i], data.d->qc[i], 1e-12);
    EXPECT_NEAR(pt[3 * i + 2], fam.f->theta[0] * pt[3 * i + 1], 1e-12);
    rq += (pf[3 * i] - pt[3 * i]) * (pf[3 * i] - pt[3 * i]) / n;
    rp += (pf[3 * i + 2] - pt[3 * i + 2]) * (pf[3 * i + 2] - pt[3 * i + 2]) / n;
  }
  std::printf("[ measured ] dho sigma=0.01, k and lambda fitted: RMS of the best fit in q %.2e, in pi %.2e\n", std::sqrt(rq), std::sqrt(rp));
  EXPECT_GT(std::sqrt(rq), 0);
  EXPECT_LT(std::sqrt(rq), 0.01);
  EXPECT_LT(std::sqrt(rp), 0.01);
}

// Every registered family: at the truth of noisy data the noise level is estimated from the
// residual, the identifiable directions are counted, and every ratio gets a finite positive std.
TEST(FitStats, UncertaintyForEveryFamily)
{
  for (const std::string &name : FamilyNames()) {
    SCOPED_TRACE(name);
    Fam            fam(name.c_str());
    Fit            fit;
    const bool     orbit = fam.f->dof > 1;
    SlimFitProblem prob  = Dho(fam.f, 0.01, 5);
    Data           data;
    prob.N  = orbit ? 60 : 50;
    prob.dt = orbit ? 0.005 : 0.1;
    ASSERT_EQ(0, SlimFitCreateData(fit.f, &prob, SLIM_LOSS_TRAJECTORY, &data.d));
    SlimFitResult res;
    ASSERT_EQ(0, PetscMemzero(&res, sizeof(res)));
    for (PetscInt j = 0; j < fam.f->nparam; j++) res.theta[j] = fam.f->theta[j];
    res.status = SLIM_FIT_CONVERGED;
    SlimFitUncertainty u;
    ASSERT_EQ(0, SlimFitGetUncertainty(fit.f, &prob, data.d, &res, 0, &u));
    EXPECT_GE(u.rank, 1);
    EXPECT_LE(u.rank, u.nf);
    EXPECT_GT(u.sigma, 0.005);
    EXPECT_LT(u.sigma, 0.02);
    if (fam.f->nratio)
      for (PetscInt k = 0; k < fam.f->nratio; k++) {
        EXPECT_TRUE(std::isfinite(u.rstd[k]) && u.rstd[k] > 0) << fam.f->rname[k] << " std " << u.rstd[k];
      }
    std::printf("[ measured ] %s sigma=0.01 at the truth: rank %d of %d, estimated sigma %.4f\n", name.c_str(), (int)u.rank, (int)u.nf, u.sigma);
  }
}
