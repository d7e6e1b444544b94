// Family registry, eval() derivatives, derived quantities and the per-family physics.
// Generic tests loop over the registry, so a newly registered family is covered automatically.
#include <gtest/gtest.h>
#include <petscsys.h>
#include <slim/family.h>
#include <slim/families.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "testing.h"

using slimtest::FamilyNames;

namespace
{

typedef std::vector<double> RVec;


// Deterministic uniform numbers in [-1, 1].
struct Rng {
  unsigned long long s;
  explicit Rng(unsigned long long seed) : s(seed) { }
  double operator()()
  {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return 2.0 * (double)(s >> 11) / 9007199254740992.0 - 1.0;
  }
};

// All outputs of one eval, sized for the family.
struct Out {
  RVec      F, P, Fq, Fv, Pq, Pv, Fth, Pth, Pqth, Pvth;
  SlimEval e;
  Out(PetscInt n, PetscInt np) : F(n), P(n), Fq(n * n), Fv(n * n), Pq(n * n), Pv(n * n), Fth(n * np), Pth(n * np), Pqth(np * n * n), Pvth(np * n * n)
  {
    e = SlimEval{F.data(), P.data(), Fq.data(), Fv.data(), Pq.data(), Pv.data(), Fth.data(), Pth.data(), Pqth.data(), Pvth.data()};
  }
};

PetscErrorCode EvalAll(SlimFamily fam, const double *th, const double *q, const double *v, Out &o)
{
  return fam->eval(th, 0.25, q, v, &o.e);
}

double MaxAbs(const RVec &x)
{
  double m = 0;
  for (double y : x) m = std::max(m, std::fabs(y));
  return m;
}

// A state near the family's default one, on the scale of the default one.
void RandomState(SlimFamily fam, Rng &rng, double q[], double v[], double *sq = nullptr, double *sv = nullptr)
{
  double aq = 0, av = 0;
  for (PetscInt a = 0; a < fam->dof; a++) {
    aq = std::max(aq, std::fabs(fam->q0[a]));
    av = std::max(av, std::fabs(fam->v0[a]));
  }
  if (aq == 0) aq = 1;
  if (av == 0) av = aq;
  for (PetscInt a = 0; a < fam->dof; a++) {
    q[a] = fam->q0[a] + 0.5 * aq * rng();
    v[a] = fam->v0[a] + 0.5 * av * rng();
  }
  if (sq) *sq = aq;
  if (sv) *sv = av;
}

// Parameter sets for the generic checks: defaults, defaults perturbed by up to 20%, and O(1)
// values (where e.g. the PR drag is no longer a 1e-5 correction, so its derivatives are tested
// well above the finite-difference rounding floor).
std::vector<RVec> ParamSets(SlimFamily fam, Rng &rng, bool o1)
{
  std::vector<RVec> sets;
  RVec              d(fam->theta, fam->theta + fam->nparam), p(d), u(d);
  for (PetscInt j = 0; j < fam->nparam; j++) {
    p[j] *= 1 + 0.2 * rng();
    u[j] = 1 + 0.5 * rng();
  }
  sets.push_back(d);
  sets.push_back(p);
  if (o1) sets.push_back(u);
  return sets;
}

// Compares an analytic derivative block with its central-difference estimate: ~1e-6 relative
// per entry plus 1e-8 of the block's size, plus the difference quotient's rounding floor
// (eps |Y| / h, Y the differentiated output).
void ExpectDerivClose(const RVec &an, const RVec &fd, double ymax, double h, const std::string &what)
{
  const double scale = std::max(MaxAbs(an), MaxAbs(fd));
  const double floor = 1e-8 * scale + 1e3 * DBL_EPSILON * ymax / h;
  for (size_t i = 0; i < an.size(); i++) EXPECT_LE(std::fabs(an[i] - fd[i]), 1e-6 * std::fabs(an[i]) + floor) << what << " entry " << i << ": analytic " << an[i] << " vs finite difference " << fd[i];
}

// Small LU determinant, for skipping near-singular kinetic matrices.
double Det(RVec A, PetscInt n)
{
  double det = 1;
  for (PetscInt p = 0; p < n; p++) {
    PetscInt piv = p;
    for (PetscInt i = p + 1; i < n; i++)
      if (std::fabs(A[i * n + p]) > std::fabs(A[piv * n + p])) piv = i;
    if (A[piv * n + p] == 0) return 0;
    if (piv != p) {
      for (PetscInt j = 0; j < n; j++) std::swap(A[p * n + j], A[piv * n + j]);
      det = -det;
    }
    det *= A[p * n + p];
    for (PetscInt i = p + 1; i < n; i++) {
      double l = A[i * n + p] / A[p * n + p];
      for (PetscInt j = p; j < n; j++) A[i * n + j] -= l * A[p * n + j];
    }
  }
  return det;
}

bool WellConditionedPv(SlimFamily fam, const double *th, const double *q, const double *v)
{
  const PetscInt n = fam->dof;
  Out            o(n, fam->nparam);
  if (EvalAll(fam, th, q, v, o)) return false;
  return std::fabs(Det(o.Pv, n)) > 0.1 * std::pow(MaxAbs(o.Pv), (double)n);
}

struct FamilyGuard {
  SlimFamily fam = nullptr;
  ~FamilyGuard() { SlimFamilyDestroy(&fam); }
};

// Quiet error handling for tests that expect an error.
struct QuietErrors {
  QuietErrors() { PetscPushErrorHandler(PetscReturnErrorHandler, nullptr); }
  ~QuietErrors() { PetscPopErrorHandler(); }
};

std::string LastErrorMessage(PetscErrorCode ierr)
{
  const char *text     = nullptr;
  char       *specific = nullptr;
  PetscErrorMessage(ierr, &text, &specific);
  return specific ? std::string(specific) : std::string();
}

} // namespace

TEST(Family, RegistryListsBuiltinsAndIsIdempotent)
{
  std::vector<std::string> before = FamilyNames();
  ASSERT_EQ(0, SlimFamilyRegisterAll());
  ASSERT_EQ(0, SlimFamilyRegisterAll());
  std::vector<std::string> names = FamilyNames();
  EXPECT_EQ(before, names);
  for (const char *want : {"dho", "anharmonic", "kepler", "pr"}) EXPECT_NE(names.end(), std::find(names.begin(), names.end(), want)) << want;
  std::vector<std::string> sorted(names);
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted.end(), std::adjacent_find(sorted.begin(), sorted.end())) << "duplicate family name";
}

TEST(Family, MetadataIsConsistent)
{
  for (const std::string &name : FamilyNames()) {
    SCOPED_TRACE(name);
    FamilyGuard g;
    ASSERT_EQ(0, SlimFamilyCreate(name.c_str(), "-family", &g.fam));
    SlimFamily f = g.fam;
    EXPECT_EQ(name, std::string(f->name));
    EXPECT_TRUE(f->description && f->description[0]);
    EXPECT_GE(f->dof, 1);
    EXPECT_LE(f->dof, SLIM_MAX_DOF);
    EXPECT_LE(f->nparam, SLIM_MAX_PARAM);
    EXPECT_LE(f->nratio, SLIM_MAX_PARAM);
    for (PetscInt j = 0; j < f->nparam; j++) {
      ASSERT_TRUE(f->pname[j] && f->phelp[j]);
      PetscInt idx = -1;
      ASSERT_EQ(0, SlimFamilyGetParamIndex(f, f->pname[j], &idx));
      EXPECT_EQ(j, idx) << f->pname[j];
      EXPECT_TRUE(std::isfinite(f->theta[j]));
    }
    for (PetscInt a = 0; a < f->dof; a++) EXPECT_TRUE(std::isfinite(f->q0[a]) && std::isfinite(f->v0[a]));
    EXPECT_TRUE(f->eval && f->energy);
    EXPECT_EQ(f->nratio > 0, f->ratios != nullptr);
    if (f->ratios) {
      double r[SLIM_MAX_PARAM];
      ASSERT_EQ(0, f->ratios(f->theta, r));
      for (PetscInt i = 0; i < f->nratio; i++) {
        EXPECT_TRUE(f->rname[i] != nullptr);
        EXPECT_TRUE(std::isfinite(r[i]));
      }
    }
  }
}

TEST(Family, RatiosOfBuiltins)
{
  struct Case {
    const char *name;
    RVec         theta, ratio;
  } cases[] = {
    {"dho",        {2, 3, 0.4},        {1.5, 0.2}      },
    {"anharmonic", {2, 3, 0.5, 0.4},   {1.5, 0.25, 0.2}},
    {"kepler",     {39.5, 3},          {39.5}          },
    {"pr",         {40, 0.25, 100, 7}, {30, 0.1}       },
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.name);
    FamilyGuard g;
    ASSERT_EQ(0, SlimFamilyCreate(c.name, "-family", &g.fam));
    ASSERT_EQ((PetscInt)c.ratio.size(), g.fam->nratio);
    double r[SLIM_MAX_PARAM];
    ASSERT_EQ(0, g.fam->ratios(c.theta.data(), r));
    for (size_t i = 0; i < c.ratio.size(); i++) EXPECT_NEAR(c.ratio[i], r[i], 1e-14 * std::fabs(c.ratio[i])) << g.fam->rname[i];
  }
}

TEST(Family, UnknownNamesAreErrors)
{
  SlimFamily     fam = nullptr;
  PetscErrorCode ierr;
  {
    QuietErrors q;
    ierr = SlimFamilyCreate("nosuchfamily", "-slim_family", &fam);
  }
  EXPECT_NE(0, ierr);
  EXPECT_EQ(nullptr, fam);
  std::string msg = LastErrorMessage(ierr);
  EXPECT_NE(std::string::npos, msg.find("-slim_family")) << msg;
  EXPECT_NE(std::string::npos, msg.find("nosuchfamily")) << msg;
  EXPECT_NE(std::string::npos, msg.find("dho")) << msg;

  FamilyGuard g;
  ASSERT_EQ(0, SlimFamilyCreate("dho", "-slim_family", &g.fam));
  PetscInt idx = -1;
  {
    QuietErrors q;
    ierr = SlimFamilyGetParamIndex(g.fam, "omega", &idx);
  }
  EXPECT_NE(0, ierr);
  msg = LastErrorMessage(ierr);
  EXPECT_NE(std::string::npos, msg.find("omega")) << msg;
}

TEST(Family, EvalDerivativesMatchFiniteDifferences)
{
  Rng rng(20240611);
  for (const std::string &name : FamilyNames()) {
    FamilyGuard g;
    ASSERT_EQ(0, SlimFamilyCreate(name.c_str(), "-family", &g.fam));
    SlimFamily     f = g.fam;
    const PetscInt n = f->dof, np = f->nparam;
    for (const RVec &th : ParamSets(f, rng, true)) {
      for (int trial = 0; trial < 4; trial++) {
        double q[SLIM_MAX_DOF], v[SLIM_MAX_DOF], sq, sv;
        RandomState(f, rng, q, v, &sq, &sv);
        SCOPED_TRACE(name + " trial " + std::to_string(trial) + " theta[0] " + std::to_string(th[0]));
        Out o(n, np);
        ASSERT_EQ(0, EvalAll(f, th.data(), q, v, o));

        // state derivatives: column b of Fq, Fv, Pq, Pv
        RVec    fdFq(n * n), fdFv(n * n), fdPq(n * n), fdPv(n * n), fdPqthQ(np * n * n);
        double ymaxF = 0, ymaxP = 0, ymaxPth = 0;
        for (PetscInt b = 0; b < n; b++) {
          for (int which = 0; which < 2; which++) {
            double  xp[SLIM_MAX_DOF], xm[SLIM_MAX_DOF];
            double *x = which ? v : q, h = 1e-5 * std::max(std::fabs(x[b]), which ? sv : sq);
            std::copy(x, x + n, xp);
            std::copy(x, x + n, xm);
            xp[b] += h;
            xm[b] -= h;
            Out op(n, np), om(n, np);
            ASSERT_EQ(0, EvalAll(f, th.data(), which ? q : xp, which ? xp : v, op));
            ASSERT_EQ(0, EvalAll(f, th.data(), which ? q : xm, which ? xm : v, om));
            ymaxF   = std::max({ymaxF, MaxAbs(op.F), MaxAbs(om.F)});
            ymaxP   = std::max({ymaxP, MaxAbs(op.P), MaxAbs(om.P)});
            ymaxPth = std::max({ymaxPth, MaxAbs(op.Pth), MaxAbs(om.Pth)});
            for (PetscInt a = 0; a < n; a++) {
              (which ? fdFv : fdFq)[a * n + b] = (op.F[a] - om.F[a]) / (2 * h);
              (which ? fdPv : fdPq)[a * n + b] = (op.P[a] - om.P[a]) / (2 * h);
            }
            // Pqth also as the q-derivative of Pth (mixed partials agree)
            if (!which)
              for (PetscInt j = 0; j < np; j++)
                for (PetscInt a = 0; a < n; a++) fdPqthQ[(j * n + a) * n + b] = (op.Pth[a * np + j] - om.Pth[a * np + j]) / (2 * h);
          }
        }
        // the rounding floor uses the smallest step of each kind
        const double hqmin = 1e-5 * sq, hvmin = 1e-5 * sv;
        ExpectDerivClose(o.Fq, fdFq, ymaxF, hqmin, "Fq");
        ExpectDerivClose(o.Fv, fdFv, ymaxF, hvmin, "Fv");
        ExpectDerivClose(o.Pq, fdPq, ymaxP, hqmin, "Pq");
        ExpectDerivClose(o.Pv, fdPv, ymaxP, hvmin, "Pv");
        ExpectDerivClose(o.Pqth, fdPqthQ, ymaxPth, hqmin, "Pqth (from Pth)");

        // parameter derivatives: column j of Fth, Pth and block j of Pqth, Pvth
        for (PetscInt j = 0; j < np; j++) {
          const double h = 1e-5 * std::max(std::fabs(th[j]), 1.0);
          RVec          tp(th), tm(th);
          tp[j] += h;
          tm[j] -= h;
          Out op(n, np), om(n, np);
          ASSERT_EQ(0, EvalAll(f, tp.data(), q, v, op));
          ASSERT_EQ(0, EvalAll(f, tm.data(), q, v, om));
          RVec anF(n), fdF(n), anP(n), fdP(n), anPq(n * n), fdPq2(n * n), anPv(n * n), fdPv2(n * n);
          for (PetscInt a = 0; a < n; a++) {
            anF[a] = o.Fth[a * np + j];
            fdF[a] = (op.F[a] - om.F[a]) / (2 * h);
            anP[a] = o.Pth[a * np + j];
            fdP[a] = (op.P[a] - om.P[a]) / (2 * h);
            for (PetscInt b = 0; b < n; b++) {
              anPq[a * n + b]  = o.Pqth[(j * n + a) * n + b];
              fdPq2[a * n + b] = (op.Pq[a * n + b] - om.Pq[a * n + b]) / (2 * h);
              anPv[a * n + b]  = o.Pvth[(j * n + a) * n + b];
              fdPv2[a * n + b] = (op.Pv[a * n + b] - om.Pv[a * n + b]) / (2 * h);
            }
          }
          const std::string p = std::string(" wrt ") + f->pname[j];
          ExpectDerivClose(anF, fdF, std::max(MaxAbs(op.F), MaxAbs(om.F)), h, "Fth" + p);
          ExpectDerivClose(anP, fdP, std::max(MaxAbs(op.P), MaxAbs(om.P)), h, "Pth" + p);
          ExpectDerivClose(anPq, fdPq2, std::max(MaxAbs(op.Pq), MaxAbs(om.Pq)), h, "Pqth" + p);
          ExpectDerivClose(anPv, fdPv2, std::max(MaxAbs(op.Pv), MaxAbs(om.Pv)), h, "Pvth" + p);
        }
      }
    }
  }
}

// Each output requested alone equals the same output of a full eval (and eval touches nothing
// that was not requested: NULL outputs must be skipped, or this crashes).
TEST(Family, EvalPartialOutputsMatchFull)
{
  Rng rng(7);
  for (const std::string &name : FamilyNames()) {
    SCOPED_TRACE(name);
    FamilyGuard g;
    ASSERT_EQ(0, SlimFamilyCreate(name.c_str(), "-family", &g.fam));
    SlimFamily     f = g.fam;
    const PetscInt n = f->dof, np = f->nparam;
    for (int trial = 0; trial < 3; trial++) {
      double q[SLIM_MAX_DOF], v[SLIM_MAX_DOF];
      RandomState(f, rng, q, v);
      Out full(n, np);
      ASSERT_EQ(0, EvalAll(f, f->theta, q, v, full));
      for (int k = 0; k < 10; k++) {
        Out      one(n, np);
        SlimEval e     = {};
        RVec     *src[] = {&full.F, &full.P, &full.Fq, &full.Fv, &full.Pq, &full.Pv, &full.Fth, &full.Pth, &full.Pqth, &full.Pvth};
        RVec     *dst[] = {&one.F, &one.P, &one.Fq, &one.Fv, &one.Pq, &one.Pv, &one.Fth, &one.Pth, &one.Pqth, &one.Pvth};
        double **ptr[] = {&e.F, &e.P, &e.Fq, &e.Fv, &e.Pq, &e.Pv, &e.Fth, &e.Pth, &e.Pqth, &e.Pvth};
        std::fill(dst[k]->begin(), dst[k]->end(), std::nan(""));
        *ptr[k] = dst[k]->data();
        ASSERT_EQ(0, f->eval(f->theta, 0.25, q, v, &e));
        for (size_t i = 0; i < src[k]->size(); i++) EXPECT_NEAR((*src[k])[i], (*dst[k])[i], 1e-14 * std::fabs((*src[k])[i])) << "output " << k << " entry " << i;
      }
    }
  }
}

TEST(Family, VelocityInvertsMomentum)
{
  Rng rng(99);
  for (const std::string &name : FamilyNames()) {
    SCOPED_TRACE(name);
    FamilyGuard g;
    ASSERT_EQ(0, SlimFamilyCreate(name.c_str(), "-family", &g.fam));
    SlimFamily f = g.fam;
    for (const RVec &th : ParamSets(f, rng, true)) {
      for (int trial = 0; trial < 5; trial++) {
        double q[SLIM_MAX_DOF], v[SLIM_MAX_DOF], pi[SLIM_MAX_DOF], w[SLIM_MAX_DOF], sv;
        RandomState(f, rng, q, v, nullptr, &sv);
        if (!WellConditionedPv(f, th.data(), q, v)) continue;
        ASSERT_EQ(0, SlimFamilyMomentum(f, th.data(), 0.0, q, v, pi));
        for (PetscInt a = 0; a < f->dof; a++) w[a] = v[a] + 0.1 * sv * rng(); // initial guess
        ASSERT_EQ(0, SlimFamilyVelocity(f, th.data(), 0.0, q, pi, w));
        double vmax = 0;
        for (PetscInt a = 0; a < f->dof; a++) vmax = std::max(vmax, std::fabs(v[a]));
        for (PetscInt a = 0; a < f->dof; a++) EXPECT_NEAR(v[a], w[a], 1e-13 * vmax) << "component " << a;
      }
    }
  }
}

// All built-in families have P linear in v (one Newton step). A test-only family with
// P = m v + beta v^3 (L = m v^2/2 + beta v^4/4 - k q^2/2) makes the Newton iteration work.
static PetscErrorCode CubicEval(const PetscReal th[], PetscReal, const PetscReal q[], const PetscReal v[], SlimEval *e)
{
  if (e->F) e->F[0] = -th[1] * q[0];
  if (e->P) e->P[0] = th[0] * v[0] + th[2] * v[0] * v[0] * v[0];
  if (e->Fq) e->Fq[0] = -th[1];
  if (e->Fv) e->Fv[0] = 0;
  if (e->Pq) e->Pq[0] = 0;
  if (e->Pv) e->Pv[0] = th[0] + 3 * th[2] * v[0] * v[0];
  return 0;
}

TEST(Family, VelocityNewtonConvergesOrFails)
{
  struct _n_SlimFamily cubic = {};
  std::strcpy(cubic.name, "cubic");
  cubic.dof          = 1;
  cubic.nparam       = 3;
  cubic.eval         = CubicEval;
  const double th[3] = {1, 1, 0.5};
  for (double vtrue : {1.3, -0.2, 4.0, 1e-8}) {
    double       pi, v = 0; // a poor initial guess
    const double q = 0.3;
    ASSERT_EQ(0, SlimFamilyMomentum(&cubic, th, 0, &q, &vtrue, &pi));
    ASSERT_EQ(0, SlimFamilyVelocity(&cubic, th, 0, &q, &pi, &v));
    EXPECT_NEAR(vtrue, v, 4 * DBL_EPSILON * std::fabs(vtrue)) << "v " << vtrue;
  }
  // P = v^3, pi = 0: Newton only converges linearly (v -> 2v/3), so 50 iterations are not enough
  const double   th0[3] = {0, 1, 1}, q = 0, pi = 0;
  double         v = 1;
  PetscErrorCode ierr;
  {
    QuietErrors quiet;
    ierr = SlimFamilyVelocity(&cubic, th0, 0, &q, &pi, &v);
  }
  EXPECT_EQ(PETSC_ERR_NOT_CONVERGED, ierr);
}

// A strongly damped motion decays into denormal numbers, where a relative step test underflows:
// the velocity must still be found (it failed whole training blocks of heavily damped samples).
TEST(Family, VelocityConvergesInDenormals)
{
  slimtest::Fam fam("dho");
  PetscInt  im;
  PetscReal th[SLIM_MAX_PARAM];
  ASSERT_EQ(0, SlimFamilyGetParamIndex(fam.f, "m", &im));
  for (PetscInt j = 0; j < fam.f->nparam; j++) th[j] = fam.f->theta[j];
  for (double m : {0.7, 1.3, 1.9}) {
    th[im] = m;
    for (double pi : {1e-310, 3e-318, -7e-321}) {
      const double q = 1e-315;
      double       v = 0;
      ASSERT_EQ(0, SlimFamilyVelocity(fam.f, th, 0, &q, &pi, &v)) << "m " << m << " pi " << pi;
      EXPECT_LE(std::fabs(v - pi / m), 4 * DBL_EPSILON * std::fabs(pi / m) + 1e-323) << "m " << m << " pi " << pi;
    }
  }
}

TEST(Family, AccelerationSolvesTheEquationOfMotion)
{
  Rng rng(5);
  for (const std::string &name : FamilyNames()) {
    SCOPED_TRACE(name);
    FamilyGuard g;
    ASSERT_EQ(0, SlimFamilyCreate(name.c_str(), "-family", &g.fam));
    SlimFamily     f = g.fam;
    const PetscInt n = f->dof, np = f->nparam;
    for (const RVec &th : ParamSets(f, rng, true)) {
      for (int trial = 0; trial < 4; trial++) {
        double q[SLIM_MAX_DOF], v[SLIM_MAX_DOF], acc[SLIM_MAX_DOF], acc2[SLIM_MAX_DOF];
        RandomState(f, rng, q, v);
        if (!WellConditionedPv(f, th.data(), q, v)) continue;
        RVec dacc(n * np);
        ASSERT_EQ(0, SlimFamilyAcceleration(f, th.data(), 0.25, q, v, acc, dacc.data()));
        ASSERT_EQ(0, SlimFamilyAcceleration(f, th.data(), 0.25, q, v, acc2, nullptr));
        for (PetscInt a = 0; a < n; a++) EXPECT_EQ(acc[a], acc2[a]);
        // dP/dt = Pq v + Pv qddot = F (EvalAll evaluates at t = 0.25 too: the drive of a
        // time-dependent family must be taken at the same time)
        Out o(n, np);
        ASSERT_EQ(0, EvalAll(f, th.data(), q, v, o));
        for (PetscInt a = 0; a < n; a++) {
          double lhs = 0, mag = std::fabs(o.F[a]);
          for (PetscInt b = 0; b < n; b++) {
            lhs += o.Pq[a * n + b] * v[b] + o.Pv[a * n + b] * acc[b];
            mag += std::fabs(o.Pq[a * n + b] * v[b]) + std::fabs(o.Pv[a * n + b] * acc[b]);
          }
          EXPECT_NEAR(o.F[a], lhs, 1e-13 * mag);
        }
        // dacc against central differences in theta
        for (PetscInt j = 0; j < np; j++) {
          const double h = 1e-5 * std::max(std::fabs(th[j]), 1.0);
          RVec          tp(th), tm(th);
          double       ap[SLIM_MAX_DOF], am[SLIM_MAX_DOF];
          tp[j] += h;
          tm[j] -= h;
          ASSERT_EQ(0, SlimFamilyAcceleration(f, tp.data(), 0.25, q, v, ap, nullptr));
          ASSERT_EQ(0, SlimFamilyAcceleration(f, tm.data(), 0.25, q, v, am, nullptr));
          RVec an(n), fd(n), ya(acc, acc + n);
          for (PetscInt a = 0; a < n; a++) {
            an[a] = dacc[a * np + j];
            fd[a] = (ap[a] - am[a]) / (2 * h);
          }
          ExpectDerivClose(an, fd, MaxAbs(ya), h, std::string("dacc wrt ") + f->pname[j]);
        }
      }
    }
  }
}

TEST(Family, DHOAccelerationIsClosedForm)
{
  Rng         rng(3);
  FamilyGuard g;
  ASSERT_EQ(0, SlimFamilyCreate("dho", "-family", &g.fam));
  for (int trial = 0; trial < 6; trial++) {
    const double th[3] = {1 + 0.5 * rng(), 1 + 0.5 * rng(), 0.3 + 0.2 * rng()}, m = th[0], k = th[1], lam = th[2];
    const double q = 2 * rng(), v = 2 * rng();
    double       acc, dacc[3];
    ASSERT_EQ(0, SlimFamilyAcceleration(g.fam, th, 0.0, &q, &v, &acc, dacc));
    const double scale = (std::fabs(k * q) + std::fabs(lam * v)) / m;
    EXPECT_NEAR(-(k * q + lam * v) / m, acc, 1e-15 * scale);
    EXPECT_NEAR((k * q + lam * v) / (m * m), dacc[0], 1e-15 * scale / m);
    EXPECT_NEAR(-q / m, dacc[1], 1e-15 * std::fabs(q / m));
    EXPECT_NEAR(-v / m, dacc[2], 1e-15 * std::fabs(v / m));
  }
}

// q(t0) = q0, qdot(t0) = v0, qdot = dq/dt and m qddot = -k q - lambda qdot, in the under-,
// critically and overdamped regimes, with general (q0, v0, t0).
TEST(Family, DHOExactSolutionSolvesTheODE)
{
  Rng         rng(11);
  FamilyGuard g;
  ASSERT_EQ(0, SlimFamilyCreate("dho", "-family", &g.fam));
  ASSERT_TRUE(g.fam->exact != nullptr);
  const double params[][3] = {
    {1,   1,   0.1 }, // underdamped (physics.md)
    {2,   3,   0.7 },
    {1,   1,   2   }, // critical: k/m = (lambda/m)^2/4 exactly
    {0.5, 2,   2   }, // critical
    {1,   1,   3   }, // overdamped
    {1,   0.5, 1e-4},
  };
  for (const auto &th : params) {
    const double m = th[0], k = th[1], lam = th[2];
    for (int trial = 0; trial < 3; trial++) {
      const double q0 = 1.5 * rng(), v0 = 1.5 * rng(), t0 = 3 * rng();
      double       q, v;
      PetscBool    has = PETSC_FALSE;
      SCOPED_TRACE("m " + std::to_string(m) + " k " + std::to_string(k) + " lambda " + std::to_string(lam));
      ASSERT_EQ(0, g.fam->exact(th, t0, &q0, &v0, t0, &q, &v, &has));
      ASSERT_TRUE(has);
      EXPECT_NEAR(q0, q, 1e-15 * std::fabs(q0));
      EXPECT_NEAR(v0, v, 1e-15 * std::fabs(v0));
      for (double s : {0.3, 1.7, 5.2, 12.9}) {
        const double t = t0 + s, h = 1e-4;
        double       qp, vp, qm, vm;
        ASSERT_EQ(0, g.fam->exact(th, t0, &q0, &v0, t, &q, &v, &has));
        ASSERT_EQ(0, g.fam->exact(th, t0, &q0, &v0, t + h, &qp, &vp, &has));
        ASSERT_EQ(0, g.fam->exact(th, t0, &q0, &v0, t - h, &qm, &vm, &has));
        const double scale = std::fabs(k * q) + std::fabs(lam * v) + std::fabs(v) + 1e-3 * (std::fabs(q0) + std::fabs(v0));
        EXPECT_NEAR(v, (qp - qm) / (2 * h), 1e-7 * scale) << "s " << s;
        EXPECT_NEAR(-k * q - lam * v, m * (vp - vm) / (2 * h), 1e-7 * scale) << "s " << s;
      }
    }
  }
}

// Every family's closed form (hand-written or from a specification's [exact]) starts at its
// initial state and solves the equations of motion: qdot = dq/dt and dP/dt = F along it.
TEST(Family, ExactSolutionsSolveTheEquationsOfMotion)
{
  Rng rng(41);
  int checked = 0;
  for (const std::string &name : FamilyNames()) {
    FamilyGuard g;
    ASSERT_EQ(0, SlimFamilyCreate(name.c_str(), "-family", &g.fam));
    SlimFamily f = g.fam;
    if (!f->exact) continue;
    SCOPED_TRACE(name);
    const PetscInt n = f->dof;
    for (int trial = 0; trial < 3; trial++) {
      double q0[SLIM_MAX_DOF], v0[SLIM_MAX_DOF], q[SLIM_MAX_DOF], v[SLIM_MAX_DOF];
      const double t0 = 2 * rng();
      PetscBool    has = PETSC_FALSE;
      RandomState(f, rng, q0, v0);
      ASSERT_EQ(0, f->exact(f->theta, t0, q0, v0, t0, q, v, &has));
      ASSERT_TRUE(has) << "no closed form at the default parameters";
      for (PetscInt a = 0; a < n; a++) {
        EXPECT_NEAR(q0[a], q[a], 1e-14 * (1 + std::fabs(q0[a])));
        EXPECT_NEAR(v0[a], v[a], 1e-14 * (1 + std::fabs(v0[a])));
      }
      for (double s : {0.4, 2.3, 7.1}) {
        const double t = t0 + s, h = 1e-4;
        double       qp[SLIM_MAX_DOF], vp[SLIM_MAX_DOF], qm[SLIM_MAX_DOF], vm[SLIM_MAX_DOF], Pp[SLIM_MAX_DOF], Pm[SLIM_MAX_DOF], F[SLIM_MAX_DOF];
        ASSERT_EQ(0, f->exact(f->theta, t0, q0, v0, t, q, v, &has));
        ASSERT_EQ(0, f->exact(f->theta, t0, q0, v0, t + h, qp, vp, &has));
        ASSERT_EQ(0, f->exact(f->theta, t0, q0, v0, t - h, qm, vm, &has));
        ASSERT_EQ(0, SlimFamilyMomentum(f, NULL, t + h, qp, vp, Pp));
        ASSERT_EQ(0, SlimFamilyMomentum(f, NULL, t - h, qm, vm, Pm));
        SlimEval e = {};
        e.F        = F;
        ASSERT_EQ(0, f->eval(f->theta, t, q, v, &e));
        double scale = 0;
        for (PetscInt a = 0; a < n; a++) scale = std::max({scale, std::fabs(q[a]), std::fabs(v[a]), std::fabs(F[a]), std::fabs(q0[a]), std::fabs(v0[a])});
        for (PetscInt a = 0; a < n; a++) {
          EXPECT_NEAR(v[a], (qp[a] - qm[a]) / (2 * h), 1e-6 * scale) << "s " << s << " component " << a;
          EXPECT_NEAR(F[a], (Pp[a] - Pm[a]) / (2 * h), 1e-6 * scale) << "s " << s << " component " << a;
        }
      }
    }
    checked++;
  }
  EXPECT_GE(checked, 3) << "dho, dho_gen and coupled_dashpot have closed forms";
}

// The regimes join continuously: the formulas stay accurate next to critical damping.
TEST(Family, DHOExactIsContinuousAtCriticalDamping)
{
  FamilyGuard g;
  ASSERT_EQ(0, SlimFamilyCreate("dho", "-family", &g.fam));
  const double q0 = 0.8, v0 = -0.3;
  for (double s : {0.5, 2.0, 7.0}) {
    double    qc, vc, q, v;
    PetscBool has;
    double    crit[3] = {1, 1, 2};
    ASSERT_EQ(0, g.fam->exact(crit, 0, &q0, &v0, s, &qc, &vc, &has));
    for (double dl : {-1e-9, 1e-9}) {
      double th[3] = {1, 1, 2 + dl};
      ASSERT_EQ(0, g.fam->exact(th, 0, &q0, &v0, s, &q, &v, &has));
      ASSERT_TRUE(has);
      EXPECT_NEAR(qc, q, 1e-6) << "s " << s << " dlambda " << dl;
      EXPECT_NEAR(vc, v, 1e-6) << "s " << s << " dlambda " << dl;
    }
  }
}

// physics.md, qdot(0) = 0: q = q0 e^{-g t/2} (cos W t + g/(2W) sin W t),
// qdot = -q0 e^{-g t/2} (W + g^2/(4W)) sin W t.
TEST(Family, DHOExactMatchesPhysicsClosedForm)
{
  FamilyGuard g;
  ASSERT_EQ(0, SlimFamilyCreate("dho", "-family", &g.fam));
  const double th[3] = {1, 1, 0.1}, gam = 0.1, W = std::sqrt(1 - gam * gam / 4);
  for (double q0 : {1.0, 0.7}) {
    const double v0 = 0;
    for (double t : {0.0, 0.5, 3.0, 10.0, 31.4, 100.0}) {
      double    q, v;
      PetscBool has;
      ASSERT_EQ(0, g.fam->exact(th, 0, &q0, &v0, t, &q, &v, &has));
      ASSERT_TRUE(has);
      const double e = std::exp(-gam * t / 2);
      EXPECT_NEAR(q0 * e * (std::cos(W * t) + gam / (2 * W) * std::sin(W * t)), q, 1e-13 * q0) << "t " << t;
      EXPECT_NEAR(-q0 * e * (W + gam * gam / (4 * W)) * std::sin(W * t), v, 1e-13 * q0) << "t " << t;
    }
    // time-translation invariance: starting at t0 only shifts the solution
    double    q1, v1, q2, v2;
    PetscBool has;
    ASSERT_EQ(0, g.fam->exact(th, 0, &q0, &v0, 2.5, &q1, &v1, &has));
    ASSERT_EQ(0, g.fam->exact(th, 4, &q0, &v0, 6.5, &q2, &v2, &has));
    EXPECT_NEAR(q1, q2, 1e-14);
    EXPECT_NEAR(v1, v2, 1e-14);
  }
}

// The drag part of the PR force, F - F(c = infinity), is the formula of physics.md and does
// negative work: v . F_d = -(beta GM m/(c r^2)) (|v|^2 + (v.qhat)^2) < 0.
TEST(Family, PRDragDissipates)
{
  Rng         rng(17);
  FamilyGuard g;
  ASSERT_EQ(0, SlimFamilyCreate("pr", "-family", &g.fam));
  SlimFamily f = g.fam;
  PetscInt   iGM, ib, ic, im;
  ASSERT_EQ(0, SlimFamilyGetParamIndex(f, "GM", &iGM));
  ASSERT_EQ(0, SlimFamilyGetParamIndex(f, "beta", &ib));
  ASSERT_EQ(0, SlimFamilyGetParamIndex(f, "c", &ic));
  ASSERT_EQ(0, SlimFamilyGetParamIndex(f, "m", &im));
  RVec strong(f->theta, f->theta + f->nparam);
  strong[ib] = 0.2;
  strong[ic] = 10;
  strong[im] = 2;
  for (const RVec &th : {RVec(f->theta, f->theta + f->nparam), strong}) {
    for (int trial = 0; trial < 5; trial++) {
      double q[2], v[2], F[2], Fc[2];
      RandomState(f, rng, q, v);
      RVec      thc(th);
      SlimEval e = {};
      thc[ic]    = PETSC_INFINITY;
      e.F        = F;
      ASSERT_EQ(0, f->eval(th.data(), 0, q, v, &e));
      e.F = Fc;
      ASSERT_EQ(0, f->eval(thc.data(), 0, q, v, &e));
      const double r2 = q[0] * q[0] + q[1] * q[1], s = q[0] * v[0] + q[1] * v[1], B = th[ib] * th[iGM] * th[im] / th[ic];
      const double work = v[0] * (F[0] - Fc[0]) + v[1] * (F[1] - Fc[1]);
      const double want = -B / r2 * (v[0] * v[0] + v[1] * v[1] + s * s / r2);
      EXPECT_LT(work, 0);
      EXPECT_NEAR(want, work, 1e-9 * std::fabs(want) + 1e-13 * (std::fabs(v[0] * F[0]) + std::fabs(v[1] * F[1])));
      // the conservative part is the reduced gravity -(1 - beta) GM m q/r^3
      for (int a = 0; a < 2; a++) EXPECT_NEAR(-(1 - th[ib]) * th[iGM] * th[im] * q[a] / (r2 * std::sqrt(r2)), Fc[a], 1e-14 * std::fabs(Fc[a]) + 1e-300);
    }
  }
}

// dE/dt along the flow (q' = v, v' = SlimFamilyAcceleration), by central differences of the
// family's energy, equals the power of the nonconservative force: 0 for Kepler and undamped
// oscillators, -lambda v^2 for the damped ones, v . F_d for PR. Ties energy(), F and P together.
TEST(Family, EnergyBalanceAlongTheFlow)
{
  struct Case {
    const char *name;
    RVec         theta; // empty: defaults
  } cases[] = {
    {"kepler",     {}                        },
    {"kepler",     {1.3, 2.0}                },
    {"dho",        {1.0, 1.0, 0.0}           },
    {"dho",        {1.5, 2.0, 0.3}           },
    {"anharmonic", {1.0, 1.0, 0.1, 0.0}      },
    {"anharmonic", {1.2, 0.8, 0.2, 0.3}      },
    {"pr",         {}                        },
    {"pr",         {39.478758435, 0.2, 10, 2}},
  };
  Rng rng(23);
  for (const Case &c : cases) {
    SCOPED_TRACE(c.name);
    FamilyGuard g;
    ASSERT_EQ(0, SlimFamilyCreate(c.name, "-family", &g.fam));
    SlimFamily     f  = g.fam;
    const PetscInt n  = f->dof;
    RVec            th = c.theta.empty() ? RVec(f->theta, f->theta + f->nparam) : c.theta;
    for (int trial = 0; trial < 4; trial++) {
      double q[SLIM_MAX_DOF], v[SLIM_MAX_DOF], acc[SLIM_MAX_DOF], F[SLIM_MAX_DOF], sq, sv;
      RandomState(f, rng, q, v, &sq, &sv);
      ASSERT_EQ(0, SlimFamilyAcceleration(f, th.data(), 0, q, v, acc, nullptr));
      double   vn = 0;
      SlimEval e  = {};
      e.F         = F;
      ASSERT_EQ(0, f->eval(th.data(), 0, q, v, &e));
      for (PetscInt a = 0; a < n; a++) vn = std::max(vn, std::fabs(v[a]));
      const double h = 1e-5 * sq / std::max(vn, 1e-3 * sv);
      double       qp[SLIM_MAX_DOF], vp[SLIM_MAX_DOF], qm[SLIM_MAX_DOF], vm[SLIM_MAX_DOF], Ep, Em;
      for (PetscInt a = 0; a < n; a++) {
        qp[a] = q[a] + h * v[a];
        vp[a] = v[a] + h * acc[a];
        qm[a] = q[a] - h * v[a];
        vm[a] = v[a] - h * acc[a];
      }
      ASSERT_EQ(0, f->energy(th.data(), 0, qp, vp, &Ep));
      ASSERT_EQ(0, f->energy(th.data(), 0, qm, vm, &Em));
      const double dEdt  = (Ep - Em) / (2 * h);
      double       power = 0, vF = 0; // expected power; |v.F| sets the scale of dE/dt's terms
      for (PetscInt a = 0; a < n; a++) vF += std::fabs(v[a] * F[a]);
      const std::string name(c.name);
      if (name == "dho") power = -th[2] * v[0] * v[0];
      else if (name == "anharmonic") power = -th[3] * v[0] * v[0];
      else if (name == "pr") {
        const double r2 = q[0] * q[0] + q[1] * q[1], s = q[0] * v[0] + q[1] * v[1];
        power = -(th[1] * th[0] * th[3] / th[2]) / r2 * (v[0] * v[0] + v[1] * v[1] + s * s / r2);
        EXPECT_LT(dEdt, 0);
      }
      EXPECT_NEAR(power, dEdt, 1e-6 * vF + 1e3 * DBL_EPSILON * std::max(std::fabs(Ep), std::fabs(Em)) / h) << "trial " << trial;

      // and at fixed velocity, the potential's rate is minus the conservative force's power
      if (name == "kepler") {
        ASSERT_EQ(0, f->energy(th.data(), 0, qp, v, &Ep));
        ASSERT_EQ(0, f->energy(th.data(), 0, qm, v, &Em));
        EXPECT_NEAR(-(v[0] * F[0] + v[1] * F[1]), (Ep - Em) / (2 * h), 1e-7 * vF);
      }
    }
  }
}

TEST(Family, OptionsSetParametersAndState)
{
  ASSERT_EQ(0, PetscOptionsSetValue(NULL, "-dho_k", "2.5"));
  ASSERT_EQ(0, PetscOptionsSetValue(NULL, "-dho_q0", "0.3"));
  ASSERT_EQ(0, PetscOptionsSetValue(NULL, "-kepler_v0", "0.1,7"));
  FamilyGuard d, k;
  ASSERT_EQ(0, SlimFamilyCreate("dho", "-family", &d.fam));
  ASSERT_EQ(0, SlimFamilyCreate("kepler", "-family", &k.fam));
  PetscErrorCode e1 = SlimFamilySetFromOptions(d.fam), e2 = SlimFamilySetFromOptions(k.fam);
  PetscErrorCode e3 = SlimFamilyOptionsHelpAll();
  ASSERT_EQ(0, PetscOptionsClearValue(NULL, "-dho_k"));
  ASSERT_EQ(0, PetscOptionsClearValue(NULL, "-dho_q0"));
  ASSERT_EQ(0, PetscOptionsClearValue(NULL, "-kepler_v0"));
  ASSERT_EQ(0, e1);
  ASSERT_EQ(0, e2);
  ASSERT_EQ(0, e3);
  EXPECT_EQ(2.5, d.fam->theta[1]);
  EXPECT_EQ(1.0, d.fam->theta[0]);
  EXPECT_EQ(0.3, d.fam->q0[0]);
  EXPECT_EQ(0.1, k.fam->v0[0]);
  EXPECT_EQ(7.0, k.fam->v0[1]);
  EXPECT_EQ(0.5, k.fam->q0[0]);
}

TEST(Family, OptionsRejectBadValues)
{
  const char *bad[][2] = {
    {"-dho_q0",    "1,2"  }, // too many values for dof 1
    {"-kepler_q0", "1"    }, // too few for dof 2
    {"-kepler_v0", "1,2,3"},
    {"-dho_m",     "inf"  }, // not finite
    {"-pr_v0",     "0,nan"},
  };
  for (const auto &b : bad) {
    SCOPED_TRACE(std::string(b[0]) + " " + b[1]);
    std::string fname(b[0] + 1);
    fname = fname.substr(0, fname.find('_'));
    FamilyGuard g;
    ASSERT_EQ(0, SlimFamilyCreate(fname.c_str(), "-family", &g.fam));
    const double th0 = g.fam->theta[0], q00 = g.fam->q0[0], v00 = g.fam->v0[0];
    ASSERT_EQ(0, PetscOptionsSetValue(NULL, b[0], b[1]));
    PetscErrorCode ierr;
    {
      QuietErrors q;
      ierr = SlimFamilySetFromOptions(g.fam);
    }
    ASSERT_EQ(0, PetscOptionsClearValue(NULL, b[0]));
    EXPECT_NE(0, ierr);
    std::string msg = LastErrorMessage(ierr);
    EXPECT_NE(std::string::npos, msg.find(b[0])) << msg;
    // a rejected value leaves the family unchanged
    EXPECT_EQ(th0, g.fam->theta[0]);
    EXPECT_EQ(q00, g.fam->q0[0]);
    EXPECT_EQ(v00, g.fam->v0[0]);
  }
}

TEST(Family, DenseSolveMatchesResidual)
{
  Rng rng(31);
  for (PetscInt n : {1, 2, 3, 7, 40, 150}) {
    const PetscInt nrhs = 3;
    RVec            A(n * n), A0, b(n * nrhs), b0;
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt j = 0; j < n; j++) A[i * n + j] = rng() + (i == (j + 1) % n ? 2.0 : 0.0); // needs pivoting
    for (double &x : b) x = rng();
    A0 = A;
    b0 = b;
    ASSERT_EQ(0, SlimDenseSolve(n, A.data(), b.data(), nrhs));
    for (PetscInt k = 0; k < nrhs; k++)
      for (PetscInt i = 0; i < n; i++) {
        double r = b0[k * n + i], mag = std::fabs(r);
        for (PetscInt j = 0; j < n; j++) {
          r -= A0[i * n + j] * b[k * n + j];
          mag += std::fabs(A0[i * n + j] * b[k * n + j]);
        }
        EXPECT_NEAR(0, r, 1e-12 * mag) << "n " << n << " rhs " << k << " row " << i;
      }
  }
  // a zero leading entry needs a row swap
  double A[4] = {0, 1, 1, 0}, b[2] = {2, 3};
  ASSERT_EQ(0, SlimDenseSolve(2, A, b, 1));
  EXPECT_EQ(3, b[0]);
  EXPECT_EQ(2, b[1]);
}

TEST(Family, DenseSolveReportsSingular)
{
  double         A1[4] = {2, 4, 1, 2}, b1[2] = {1, 1};
  double         A2[9] = {1, 0, 2, 3, 0, 4, 5, 0, 6}, b2[3] = {1, 2, 3};
  PetscErrorCode e1, e2;
  {
    QuietErrors q;
    e1 = SlimDenseSolve(2, A1, b1, 1);
    e2 = SlimDenseSolve(3, A2, b2, 1);
  }
  EXPECT_EQ(PETSC_ERR_MAT_LU_ZRPVT, e1);
  EXPECT_EQ(PETSC_ERR_MAT_LU_ZRPVT, e2);
}
