// Unit tests of the harness's parts without mpirun (one rank, PETSC_COMM_SELF): sweep
// enumeration and seeds, the flat task index and its decoding into kinds, the cost-ordered
// queue and its simulation, the /orders wiring, record tables written and read back,
// merging part files, and a whole sweep whose tasks fail.
#include <gtest/gtest.h>
#include <slim/order.h>
#include <slim/private/harnessimpl.h>
#include "testing.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

namespace
{
using Options     = slimtest::OptionsScope;
using QuietErrors = slimtest::QuietErrors;

struct TmpDir {
  std::string dir;
  TmpDir()
  {
    char tmpl[] = "/tmp/slim_harness_XXXXXX";
    EXPECT_NE(nullptr, mkdtemp(tmpl));
    dir = tmpl;
  }
  ~TmpDir() { EXPECT_EQ(0, system(("rm -rf " + dir).c_str())); }
  std::string File(const char *name) const { return dir + "/" + name; }
};

const char *kSweep = "-sweep_family dho,anharmonic -sweep_r 0,1 -sweep_dt 0.1,0.05 -sweep_N 10 -sweep_sigma 0,0.1 "
                     "-sweep_baselines 2a,4 -sweep_seed 99 -fit_guesses 2 -fit_loss trajectory,acceleration "
                     "-fit_method gd -fit_max_it 5 -landscape_params m,k -landscape_n 5 -landscape_rows_per_task 2";

// splitmix64's published finaliser (Steele, Lea & Flood 2014), written out independently
uint64_t Mix(uint64_t z)
{
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
} // namespace

TEST(Sweep, EnumerationIsLexicographicWithDerivedSeeds)
{
  Options   opt(kSweep);
  SlimSweep sw = nullptr;
  ASSERT_EQ(0, SlimSweepCreate(&sw));
  ASSERT_EQ(0, SlimSweepSetFromOptions(sw));
  ASSERT_EQ(16, sw->npoints); // 2 families x 2 r x 2 dt x 2 sigma
  std::set<PetscInt64> seeds;
  for (PetscInt i = 0; i < sw->npoints; i++) {
    const SlimPoint &p = sw->points[i];
    EXPECT_EQ(i, p.index);
    EXPECT_EQ(i / 8, p.family);
    EXPECT_EQ((i / 4) % 2, p.r);
    EXPECT_EQ((i / 2) % 2 ? 0.05 : 0.1, p.dt);
    EXPECT_EQ(i % 2 ? 0.1 : 0.0, p.sigma);
    EXPECT_EQ(SlimSeedDerive(99, i), p.seed);
    EXPECT_EQ((PetscInt64)(Mix(99ULL * 0x9E3779B97F4A7C15ULL + i + 1) & 0x7FFFFFFFFFFFFFFFULL), p.seed);
    seeds.insert(p.seed);
    // baseline group: same (family, dt, N)
    const SlimPoint &g = sw->points[sw->group_point[p.group]];
    EXPECT_TRUE(g.family == p.family && g.dt == p.dt && g.N == p.N);
  }
  EXPECT_EQ(16u, seeds.size());
  EXPECT_EQ(4, sw->ngroups);
  EXPECT_NE(SlimSeedDerive(99, 0), SlimSeedDerive(100, 0));
  ASSERT_EQ(0, SlimSweepDestroy(&sw));
}

TEST(Seed, NeighbouringIndicesGiveIndependentBits)
{
  // every bit of the derived seeds is set about half of the time over consecutive indices
  const int n = 4096;
  for (int bit = 0; bit < 63; bit++) {
    int ones = 0;
    for (int i = 0; i < n; i++) ones += (int)((SlimSeedDerive(2026, i) >> bit) & 1);
    EXPECT_NEAR(0.5, (double)ones / n, 0.05) << "bit " << bit;
  }
}

TEST(TaskMap, FlatIndexDecodesToKindsInOrder)
{
  Options     opt(kSweep);
  SlimHarness h = nullptr;
  ASSERT_EQ(0, SlimHarnessCreate(PETSC_COMM_SELF, &h));
  ASSERT_EQ(0, SlimHarnessSetFromOptions(h));
  ASSERT_EQ(0, SlimHarnessSetUpKinds(h));
  // 16 points, 4 groups x 2 RK types, 16 x 2 fit configurations, 16 x 2 losses x 3 blocks, no
  // training data
  const char    *names[] = {"point", "baseline", "fit", "landscape", "train"};
  const PetscInt counts[] = {16, 8, 32, 96, 0};
  ASSERT_EQ(5, h->nkinds);
  PetscInt first = 0;
  for (PetscInt k = 0; k < 5; k++) {
    EXPECT_STREQ(names[k], h->kinds[k]->name);
    EXPECT_EQ(counts[k], h->kinds[k]->n);
    EXPECT_EQ(first, h->kinds[k]->first);
    first += counts[k];
  }
  EXPECT_EQ(first, h->ntask);
  for (PetscInt t = 0; t < h->ntask; t++) {
    SlimTaskKind kind;
    PetscInt     local, point;
    ASSERT_EQ(0, SlimHarnessTaskDecode(h, t, &kind, &local));
    EXPECT_EQ(t, kind->first + local);
    ASSERT_EQ(0, kind->ops.point(kind, local, &point));
    ASSERT_TRUE(point >= 0 && point < 16);
    PetscInt expect = local;                                         // points
    if (kind == h->kinds[1]) expect = h->sw->group_point[local / 2]; // (group, RK type)
    if (kind == h->kinds[2]) expect = local / 2;                     // (point, configuration)
    if (kind == h->kinds[3]) expect = local / (2 * 3);               // (point, loss, block)
    EXPECT_EQ(expect, point);
  }
  {
    QuietErrors  q;
    SlimTaskKind kind;
    PetscInt     local;
    EXPECT_NE(0, SlimHarnessTaskDecode(h, h->ntask, &kind, &local));
  }
  ASSERT_EQ(0, SlimHarnessDestroy(&h));
}

TEST(Queue, OrderIsByDecreasingCostStableOnTies)
{
  const PetscReal cost[] = {1, 5, 3, 5, -1, 3};
  PetscInt        order[6];
  ASSERT_EQ(0, SlimScheduleOrder(6, cost, order));
  const PetscInt expect[] = {1, 3, 2, 5, 0, 4};
  for (int i = 0; i < 6; i++) EXPECT_EQ(expect[i], order[i]);
}

TEST(Queue, SimulationIsGreedyListScheduling)
{
  const PetscReal cost[]  = {5, 4, 3, 3, 3};
  const PetscInt  order[] = {0, 1, 2, 3, 4};
  PetscReal       mk, busy[8];
  // 2 ranks: 5 | 4, then 3 -> rank 1 (7), 3 -> rank 0 (8), 3 -> rank 1 (10)
  ASSERT_EQ(0, SlimScheduleSimulate(5, order, cost, 2, &mk, busy));
  EXPECT_DOUBLE_EQ(10, mk);
  EXPECT_DOUBLE_EQ(8, busy[0]);
  EXPECT_DOUBLE_EQ(10, busy[1]);
  ASSERT_EQ(0, SlimScheduleSimulate(5, order, cost, 1, &mk, NULL));
  EXPECT_DOUBLE_EQ(18, mk);
  ASSERT_EQ(0, SlimScheduleSimulate(5, order, cost, 8, &mk, NULL));
  EXPECT_DOUBLE_EQ(5, mk);
}

TEST(Queue, HandsOutEveryPositionOnceThenStops)
{
  SlimQueue q = nullptr;
  PetscInt  pos, done;
  PetscReal cost;
  PetscBool stop;
  ASSERT_EQ(0, SlimQueueCreate(PETSC_COMM_SELF, 3, &q));
  for (PetscInt i = 0; i < 3; i++) {
    ASSERT_EQ(0, SlimQueueNext(q, &pos));
    EXPECT_EQ(i, pos);
    ASSERT_EQ(0, SlimQueueDone(q, 2.0));
  }
  ASSERT_EQ(0, SlimQueueNext(q, &pos));
  EXPECT_EQ(-1, pos);
  ASSERT_EQ(0, SlimQueueProgress(q, &done, &cost, &stop));
  EXPECT_EQ(3, done);
  EXPECT_DOUBLE_EQ(6.0, cost);
  EXPECT_FALSE(stop);
  ASSERT_EQ(0, SlimQueueDestroy(&q));
  ASSERT_EQ(0, SlimQueueCreate(PETSC_COMM_SELF, 3, &q));
  ASSERT_EQ(0, SlimQueueStop(q));
  ASSERT_EQ(0, SlimQueueNext(q, &pos));
  EXPECT_EQ(-1, pos);
  ASSERT_EQ(0, SlimQueueProgress(q, &done, &cost, &stop));
  EXPECT_TRUE(stop);
  ASSERT_EQ(0, SlimQueueDestroy(&q));
}

namespace
{
struct Row {
  PetscInt    id;
  PetscInt64  big;
  int         kind;
  PetscReal   x, v[4];
  char        name[16];
  const char *label;
  PetscReal  *series;
  PetscInt    status;
};
enum { W_V = 1, W_SERIES };
const SlimRecordColumn kRowCols[] = {
  SLIM_REC(Row, id, SLIM_RECORD_INT, 1, "id", "", "identifier"),
  SLIM_REC(Row, big, SLIM_RECORD_INT64, 1, "big", "", "a 64-bit number"),
  SLIM_REC(Row, kind, SLIM_RECORD_ENUM, 1, "kind", "", "an enum"),
  SLIM_REC(Row, x, SLIM_RECORD_REAL, 1, "x", "m", "position"),
  SLIM_REC(Row, v, SLIM_RECORD_REAL, SLIM_RECORD_SLOT(W_V), "v", "", "a run-time width"),
  SLIM_REC(Row, name, SLIM_RECORD_STRING, 16, "name", "", "inline string"),
  SLIM_REC(Row, label, SLIM_RECORD_STRPTR, 8, "label", "", "string by pointer"),
  SLIM_REC_OPT(Row, series, SLIM_RECORD_REALPTR, SLIM_RECORD_SLOT(W_SERIES), W_SERIES, "series", "", "optional"),
  SLIM_REC(Row, status, SLIM_RECORD_INT, 1, "status", "", "written last"),
};
const SlimRecordTable kRowTable = SLIM_RECORD_TABLE("test rows", kRowCols, Row);
} // namespace

TEST(Record, RoundTripOfEveryTypeWithSlotsAndFill)
{
  TmpDir                       tmp;
  SlimOutput                   out = nullptr;
  const SlimRecordTable *const t[] = {&kRowTable};
  const PetscInt               widths[] = {0, 3, 2}, nowidths[] = {0, 3, 0};
  PetscReal                    s0[2] = {7, 8}, s1[2] = {9, 10};
  Row                          rows[2];
  const PetscInt               idx[2] = {4, 1};

  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_SELF, tmp.File("r.h5").c_str(), SLIM_OUTPUT_CREATE, "-output", &out));
  ASSERT_EQ(0, SlimRecordDefine(out, "a", 1, t, widths, 6));
  ASSERT_EQ(0, SlimRecordDefine(out, "b", 1, t, nowidths, 2));
  ASSERT_EQ(0, SlimOutputFlush(out));
  for (int k = 0; k < 2; k++) {
    SlimRecordFill(&kRowTable, widths, &rows[k]);
    EXPECT_TRUE(std::isnan(rows[k].v[2]));
    rows[k].id = 10 + k, rows[k].big = (PetscInt64)1 << 40, rows[k].kind = k, rows[k].x = 0.5 * k;
    rows[k].v[0] = k, rows[k].v[1] = -k; // v[2] stays at the fill value
    snprintf(rows[k].name, sizeof rows[k].name, "row%d", k);
    rows[k].label = k ? "a-long-label" : "short";
    rows[k].series = k ? s1 : s0;
    rows[k].status = 0;
  }
  // columns in two steps, as definitions and results are
  ASSERT_EQ(0, SlimRecordWrite(out, "a", &kRowTable, widths, 0, 4, 2, idx, rows));
  ASSERT_EQ(0, SlimRecordWrite(out, "a", &kRowTable, widths, 4, -1, 2, idx, rows));
  {
    PetscInt64 id[6], big[6], st[6];
    PetscReal  x[6], v[18], series[12];
    char       name[6 * 16], label[6 * 8];
    ASSERT_EQ(0, SlimOutputReadColumn(out, "a", "id", id));
    ASSERT_EQ(0, SlimOutputReadColumn(out, "a", "big", big));
    ASSERT_EQ(0, SlimOutputReadColumn(out, "a", "x", x));
    ASSERT_EQ(0, SlimOutputReadColumn(out, "a", "v", v));
    ASSERT_EQ(0, SlimOutputReadColumn(out, "a", "name", name));
    ASSERT_EQ(0, SlimOutputReadColumn(out, "a", "label", label));
    ASSERT_EQ(0, SlimOutputReadColumn(out, "a", "series", series));
    ASSERT_EQ(0, SlimOutputReadColumn(out, "a", "status", st));
    EXPECT_EQ(10, id[4]);
    EXPECT_EQ(11, id[1]);
    EXPECT_EQ(-1, id[0]); // never written: fill
    EXPECT_EQ((PetscInt64)1 << 40, big[1]);
    EXPECT_DOUBLE_EQ(0.5, x[1]);
    EXPECT_TRUE(std::isnan(x[2]));
    EXPECT_DOUBLE_EQ(-1, v[3 * 1 + 1]);
    EXPECT_TRUE(std::isnan(v[3 * 1 + 2]));
    EXPECT_EQ(std::string("row0"), std::string(name + 16 * 4, strnlen(name + 16 * 4, 16)));
    EXPECT_EQ(std::string("a-long-"), std::string(label + 8 * 1, strnlen(label + 8 * 1, 8))); // cut to width - 1
    EXPECT_DOUBLE_EQ(10, series[2 * 1 + 1]);
    EXPECT_EQ(0, st[1]);
    EXPECT_EQ(-1, st[3]);
  }
  {
    // a width slot of 0 leaves the optional column out
    QuietErrors q;
    PetscReal   series[4];
    EXPECT_NE(0, SlimOutputReadColumn(out, "b", "series", series));
  }
  EXPECT_EQ(7, SlimRecordFind(&kRowTable, "series"));
  EXPECT_EQ(-1, SlimRecordFind(&kRowTable, "nosuch"));
  ASSERT_EQ(0, SlimOutputDestroy(&out));
}

namespace
{
// A results-like file: signature, a table with a status, a free array.
void WritePart(const std::string &path, const char *sig, std::vector<PetscInt> rows, bool array)
{
  SlimOutput       out = nullptr;
  const SlimColumn cols[] = {{"x", SLIM_COL_REAL, 1, "", ""}, {"status", SLIM_COL_INT, 1, "", ""}};
  const PetscInt   dims[1] = {3};
  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_SELF, path.c_str(), SLIM_OUTPUT_FORCE, "-output", &out));
  ASSERT_EQ(0, SlimOutputSetAttrString(out, "/", "sweep_signature", sig));
  ASSERT_EQ(0, SlimOutputDefineTable(out, "t", "", 4, 2, cols));
  ASSERT_EQ(0, SlimOutputDefineArray(out, "trajectories/0", 1, dims, NULL, ""));
  ASSERT_EQ(0, SlimOutputFlush(out));
  for (PetscInt r : rows) {
    PetscReal  x  = 100 + r;
    PetscInt64 st = 0;
    ASSERT_EQ(0, SlimOutputWriteRows(out, "t", "x", 1, &r, &x));
    ASSERT_EQ(0, SlimOutputWriteRows(out, "t", "status", 1, &r, &st));
  }
  if (array) {
    const PetscReal a[3] = {1, 2, 3};
    ASSERT_EQ(0, SlimOutputWriteArray(out, "trajectories/0", a));
  }
  ASSERT_EQ(0, SlimOutputDestroy(&out));
}
} // namespace

TEST(Merge, CopiesFinishedRowsAndWrittenArraysOfEachPart)
{
  TmpDir     tmp;
  SlimOutput out = nullptr;
  PetscInt   copied;
  WritePart(tmp.File("a.h5"), "S", {0, 2}, false);
  WritePart(tmp.File("b.h5"), "S", {3}, true);
  WritePart(tmp.File("c.h5"), "other", {1}, false);
  WritePart(tmp.File("m.h5"), "S", {}, false);
  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_SELF, tmp.File("m.h5").c_str(), SLIM_OUTPUT_RESUME, "-output", &out));
  {
    const SlimColumn cols[] = {{"x", SLIM_COL_REAL, 1, "", ""}, {"status", SLIM_COL_INT, 1, "", ""}};
    const PetscInt   dims[1] = {3};
    ASSERT_EQ(0, SlimOutputDefineTable(out, "t", "", 4, 2, cols));
    ASSERT_EQ(0, SlimOutputDefineArray(out, "trajectories/0", 1, dims, NULL, ""));
  }
  ASSERT_EQ(0, SlimOutputMerge(out, tmp.File("a.h5").c_str(), "S", "-sweep_merge", &copied));
  EXPECT_EQ(4, copied); // 2 rows x 2 columns
  ASSERT_EQ(0, SlimOutputMerge(out, tmp.File("b.h5").c_str(), "S", "-sweep_merge", &copied));
  {
    QuietErrors q;
    EXPECT_NE(0, SlimOutputMerge(out, tmp.File("c.h5").c_str(), "S", "-sweep_merge", &copied));
    EXPECT_NE(0, SlimOutputMerge(out, tmp.File("none.h5").c_str(), "S", "-sweep_merge", &copied));
  }
  PetscReal  x[4], a[3];
  PetscInt64 st[4];
  ASSERT_EQ(0, SlimOutputReadColumn(out, "t", "x", x));
  ASSERT_EQ(0, SlimOutputReadColumn(out, "t", "status", st));
  ASSERT_EQ(0, SlimOutputReadArray(out, "trajectories/0", a));
  EXPECT_DOUBLE_EQ(100, x[0]);
  EXPECT_TRUE(std::isnan(x[1])); // only in the foreign part: not merged
  EXPECT_DOUBLE_EQ(102, x[2]);
  EXPECT_DOUBLE_EQ(103, x[3]);
  EXPECT_EQ(-1, st[1]);
  EXPECT_DOUBLE_EQ(2, a[1]);
  ASSERT_EQ(0, SlimOutputDestroy(&out));
}

using slimtest::ReadReal;
using slimtest::RunSweep;

// One rank, no mpirun: a sweep whose dho points fail with a PETSc error (m = 0: singular
// momentum map) and whose anharmonic points fail their solves; every task is recorded, typed,
// and the sweep completes.
TEST(Harness, FailedTasksAreRecordedAndTheSweepGoesOn)
{
  TmpDir      tmp;
  std::string out  = tmp.File("fail.h5");
  std::string opts = "-sweep_family dho,anharmonic -dho_m 0 -sweep_r 1 -sweep_dt 0.5 -sweep_N 10 -slim_step_maxit 1 "
                     "-sweep_baselines 4 -fit_guesses 2 -fit_max_it 5 -landscape_params m,k -landscape_n 3 -sweep_quiet -output " +
                     out;
  Options     opt(opts.c_str());
  SlimHarness h = nullptr;
  PetscBool   complete;
  PetscInt    nfailed;
  ASSERT_EQ(0, SlimHarnessCreate(PETSC_COMM_SELF, &h));
  ASSERT_EQ(0, SlimHarnessSetFromOptions(h));
  ASSERT_EQ(0, SlimHarnessRun(h, &complete));
  ASSERT_EQ(0, SlimHarnessGetFailed(h, &nfailed));
  EXPECT_TRUE(complete);
  EXPECT_EQ(7, nfailed); // 2 points, the dho baseline, 2 fit tasks, 2 landscape tasks
  EXPECT_NE(nullptr, strstr(h->fail_text, "point 0 (family dho")) << h->fail_text;
  EXPECT_NE(nullptr, strstr(h->fail_text, "a PETSc error: ")) << h->fail_text;
  ASSERT_EQ(0, SlimHarnessDestroy(&h));
  std::vector<double> st = ReadReal(out, "points/status"), why = ReadReal(out, "points/fail_reason");
  ASSERT_EQ(2u, st.size());
  EXPECT_EQ(1, st[0]);
  EXPECT_EQ(0, why[0]); // a PETSc error: no SNES reason
  EXPECT_EQ(1, st[1]);
  EXPECT_LT(why[1], 0); // the anharmonic solve: a SNES divergence
  std::vector<double> ts = ReadReal(out, "tasks/status");
  EXPECT_EQ(8u, ts.size());
  EXPECT_EQ(7, std::count(ts.begin(), ts.end(), 1.0));
}

// -sweep_flush_tasks larger than any fixed batch (the harness once refused more than 256 rows
// per flush): 320 points written in one batch at the end.
TEST(Harness, OneFlushOfManyRows)
{
  TmpDir      tmp;
  std::string out = tmp.File("big.h5"), dts;
  for (int i = 1; i <= 64; i++) dts += (i > 1 ? "," : "") + std::to_string(0.01 * i);
  std::string opts = "-sweep_family dho -sweep_r 0 -sweep_N 2 -sweep_sigma 0,1,2,3,4 -sweep_baselines none -sweep_repeats 0 "
                     "-sweep_flush_tasks 1000 -sweep_flush_interval 1000 -sweep_quiet -sweep_dt " +
                     dts + " -output " + out;
  PetscBool   complete;
  RunSweep(opts, &complete);
  EXPECT_TRUE(complete);
  std::vector<double> st = ReadReal(out, "points/status"), ts = ReadReal(out, "tasks/status");
  EXPECT_EQ(320u, st.size());
  EXPECT_EQ(320, std::count(st.begin(), st.end(), 0.0));
  EXPECT_EQ(320, std::count(ts.begin(), ts.end(), 0.0));
}

// An explicit baseline's round-off floor is its own (10 N eps max|q0|), not the slimplectic
// point's (10 times what its solves left, /points/solve_residual): /baselines/err_floor.
TEST(Harness, BaselineFloorIsTheExplicitIntegrationsOwn)
{
  TmpDir      tmp;
  std::string out  = tmp.File("bfloor.h5");
  std::string opts = "-sweep_family anharmonic -anharmonic_q0 2 -sweep_r 0 -sweep_dt 0.2,0.1 -sweep_N 50 -sweep_baselines 4 -sweep_repeats 0 -sweep_quiet -output " + out;
  PetscBool   complete;
  RunSweep(opts, &complete);
  EXPECT_TRUE(complete);
  std::vector<double> bf = ReadReal(out, "baselines/err_floor"), pf = ReadReal(out, "points/err_floor");
  ASSERT_EQ(2u, bf.size());
  for (double v : bf) EXPECT_NEAR(v, SLIM_STEP_FLOOR_SAFETY * 50 * PETSC_MACHINE_EPSILON * 2, 1e-25);
  std::vector<double> rs = ReadReal(out, "points/solve_residual");
  ASSERT_EQ(2u, pf.size());
  ASSERT_EQ(2u, rs.size());
  for (size_t i = 0; i < 2; i++) EXPECT_NEAR(pf[i], SLIM_STEP_FLOOR_SAFETY * std::max(rs[i], 50 * PETSC_MACHINE_EPSILON * 2), 1e-6 * pf[i]);
}

// /orders and /points/order_mark hold SlimOrderEstimate's result on the file's own errors
// (include/slim/order.h; the estimator itself is tested in tests/test_order.cc), and r = 0 of
// the shipped convergence sweep (dho, lambda 0.1, T 40) reads order 2 where the all-points
// slope is 0.7.
TEST(Orders, FileHoldsTheAsymptoticEstimateAndMarks)
{
  TmpDir      tmp;
  std::string out  = tmp.File("orders.h5");
  std::string opts = "-sweep_family dho -dho_lambda 0.1 -sweep_r 0,1 -sweep_dt 1,0.5,0.25,0.125,0.0625 -sweep_T 40 "
                     "-sweep_repeats 0 -sweep_baselines none -sweep_quiet -output " +
                     out;
  PetscBool   complete;
  RunSweep(opts, &complete);
  ASSERT_TRUE(complete);
  std::vector<double> r = ReadReal(out, "points/r"), dt = ReadReal(out, "points/dt"), err = ReadReal(out, "points/err_q_final");
  std::vector<double> st = ReadReal(out, "points/status"), mark = ReadReal(out, "points/order_mark"), fl = ReadReal(out, "points/err_floor");
  ASSERT_EQ(10u, mark.size());
  std::vector<double> order = ReadReal(out, "orders/order"), lsq = ReadReal(out, "orders/order_lsq"), fin = ReadReal(out, "orders/order_finest");
  std::vector<double> nused = ReadReal(out, "orders/n_used"), nval = ReadReal(out, "orders/n_dt"), dmin = ReadReal(out, "orders/dt_used_min");
  std::vector<double> dmax = ReadReal(out, "orders/dt_used_max"), smin = ReadReal(out, "orders/slope_min"), smax = ReadReal(out, "orders/slope_max");
  std::vector<double> gr = ReadReal(out, "orders/r");
  ASSERT_EQ(2u, order.size());
  for (size_t g = 0; g < 2; g++) {
    PetscReal       d[5], e[5], f[5];
    PetscBool       ok[5];
    PetscInt        n = 0, m[5];
    SlimOrderResult res;
    for (size_t i = 0; i < r.size(); i++)
      if (r[i] == gr[g]) d[n] = dt[i], e[n] = err[i], f[n] = fl[i], ok[n] = (PetscBool)(st[i] == 0), n++;
    ASSERT_EQ(5, n);
    ASSERT_EQ(0, SlimOrderEstimate(n, d, e, ok, f, &res, m));
    EXPECT_EQ(res.order, order[g]);
    EXPECT_EQ(res.order_lsq, lsq[g]);
    EXPECT_EQ(res.order_finest, fin[g]);
    EXPECT_EQ(res.n_used, nused[g]);
    EXPECT_EQ(res.n_valid, nval[g]);
    EXPECT_EQ(res.dt_min_used, dmin[g]);
    EXPECT_EQ(res.dt_max_used, dmax[g]);
    EXPECT_EQ(res.slope_min, smin[g]);
    EXPECT_EQ(res.slope_max, smax[g]);
    for (size_t i = 0, j = 0; i < r.size(); i++) {
      if (r[i] == gr[g]) { EXPECT_EQ(m[j++], mark[i]) << "point " << i; }
    }
  }
  EXPECT_EQ(0, gr[0]);
  EXPECT_NEAR(2.0, order[0], 0.1);
  EXPECT_LT(lsq[0], 1.0);
  EXPECT_EQ(0.0625, dmin[0]);
  // the coarsest r = 0 point is pre-asymptotic: the fit does not use it
  for (size_t i = 0; i < r.size(); i++) {
    if (r[i] == 0 && dt[i] == 1) { EXPECT_EQ(SLIM_ORDER_PREASYMPTOTIC, mark[i]); }
  }
}

// /fits uncertainty columns, /fit_summary consistency counts and /fit_obs/<row> as the fit kind
// writes them (the uncertainty itself is tested in tests/test_fitstats.cc): dho, k and lambda
// fitted on noisy trajectory and acceleration data.
TEST(FitKind, UncertaintyColumnsAndObservedVsFitted)
{
  TmpDir      tmp;
  std::string out  = tmp.File("fits.h5");
  std::string opts = "-sweep_family dho -sweep_r 1 -sweep_dt 0.1 -sweep_N 40 -sweep_sigma 0.01 -sweep_seed 5 -sweep_baselines none "
                     "-sweep_repeats 0 -fit_guesses 4 -fit_params k,lambda -fit_loss trajectory,acceleration -fit_method gd -fit_grid 6 "
                     "-fit_max_it 2000 -fit_obs_stride 2 -sweep_quiet -output " +
                     out;
  PetscBool   complete;
  RunSweep(opts, &complete);
  ASSERT_TRUE(complete);
  const size_t        K = 4, np = 3, nr = 2;
  std::vector<double> st = ReadReal(out, "fits/status"), loss = ReadReal(out, "fits/loss_final"), cons = ReadReal(out, "fits/consistent");
  std::vector<double> pstd = ReadReal(out, "fits/param_std"), rstd = ReadReal(out, "fits/ratio_std"), ratio = ReadReal(out, "fits/ratio_final");
  std::vector<double> zmax = ReadReal(out, "fits/z_max"), sig = ReadReal(out, "fits/sigma_est"), rank = ReadReal(out, "fits/gn_rank");
  std::vector<double> theta = ReadReal(out, "fits/theta_final"), rtrue = ReadReal(out, "fit_summary/ratio_true");
  std::vector<double> ncons = ReadReal(out, "fit_summary/n_consistent"), fcons = ReadReal(out, "fit_summary/frac_consistent");
  std::vector<double> ndiv = ReadReal(out, "fit_summary/n_diverged"), best = ReadReal(out, "fit_summary/best_fit");
  ASSERT_EQ(2 * K, st.size());
  ASSERT_EQ(2 * K * np, pstd.size());
  ASSERT_EQ(2 * K * nr, rstd.size());
  for (size_t row = 0; row < 2; row++) {
    int    n = 0, b = -1;
    double ok = 0;
    for (size_t g = row * K; g < row * K + K; g++) {
      if (st[g] == 2) {
        EXPECT_EQ(-1, cons[g]);
        continue;
      }
      ok++;
      EXPECT_EQ(0, pstd[g * np]);                    // m is not fitted
      EXPECT_GT(rstd[g * nr], 0);                    // k/m
      EXPECT_EQ(2, rank[g]);                         // k and lambda are both identifiable with m fixed
      EXPECT_GT(sig[g], 0.001);                      // the noise estimate is of the order of sigma
      EXPECT_LT(sig[g], 0.1);
      bool within = true;                            // consistent: truth within 3 std of every ratio
      for (size_t j = 0; j < nr; j++) within = within && std::fabs(ratio[g * nr + j] - rtrue[row * nr + j]) <= 3 * rstd[g * nr + j];
      EXPECT_EQ(within ? 1 : 0, cons[g]) << "fit " << g << " z_max " << zmax[g];
      EXPECT_EQ(within, zmax[g] <= 3) << "fit " << g;
      n += cons[g] == 1;
      if (b < 0 || loss[g] < loss[b]) b = (int)g;
    }
    EXPECT_EQ(n, ncons[row]);
    EXPECT_DOUBLE_EQ(n / ok, fcons[row]);
    EXPECT_EQ(K - ndiv[row], ok);
    EXPECT_EQ(b, best[row]);
    // /fit_obs/<row>: observations, truth and best fit on the trajectory samples (every 2nd step)
    std::string         g  = "fit_obs/" + std::to_string(row) + "/";
    std::vector<double> t = ReadReal(out, (g + "t").c_str()), qo = ReadReal(out, (g + "q_obs").c_str()), qt = ReadReal(out, (g + "q_true").c_str());
    std::vector<double> qf = ReadReal(out, (g + "q_fit").c_str()), pt = ReadReal(out, (g + "pi_true").c_str()), pf = ReadReal(out, (g + "pi_fit").c_str());
    std::vector<double> th = ReadReal(out, (g + "theta_fit").c_str());
    ASSERT_EQ(21u, t.size());
    EXPECT_DOUBLE_EQ(0.2, t[1]);
    ASSERT_EQ(21u, qf.size());
    double noise = 0, dq = 0, dp = 0;
    for (size_t i = 0; i < t.size(); i++) noise += (qo[i] - qt[i]) * (qo[i] - qt[i]), dq = std::max(dq, std::fabs(qf[i] - qt[i])), dp = std::max(dp, std::fabs(pf[i] - pt[i]));
    EXPECT_NEAR(0.01, std::sqrt(noise / t.size()), 0.005); // the observations carry sigma = 0.01
    EXPECT_GT(dq, 0);                                        // the fit is not the truth ...
    EXPECT_LT(dq, 0.05);                                     // ... but close to it
    EXPECT_LT(dp, 0.1);
    for (size_t j = 0; j < np; j++) EXPECT_EQ(theta[(size_t)best[row] * np + j], th[j]);
  }
}
