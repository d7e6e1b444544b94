// Tests of SlimOutput (src/output.c) on one rank: round trips of every column kind with
// unordered, non-contiguous rows, fill values, arrays, attributes, the open modes (CREATE
// refuses an existing file and leaves it untouched, FORCE replaces, RESUME keeps rows and
// checks shapes) and the dataset properties the crash-safety argument relies on.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <slim/output.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace
{
// Errors are expected: return the code instead of printing a traceback.
struct QuietErrors {
  QuietErrors() { PetscPushErrorHandler(PetscReturnErrorHandler, NULL); }
  ~QuietErrors() { PetscPopErrorHandler(); }
};

// The message of the last PETSc error raised.
std::string LastError(PetscErrorCode ierr)
{
  const char *text;
  char       *specific = NULL;
  PetscErrorMessage(ierr, &text, &specific);
  return specific ? specific : "";
}

std::string ReadBytes(const std::string &path)
{
  std::ifstream     f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool FileExists(const std::string &path)
{
  struct stat st;
  return !stat(path.c_str(), &st);
}

class Output : public ::testing::Test
{
protected:
  std::string dir;

  void SetUp() override
  {
    char tmpl[] = "/tmp/slim_output_XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir = tmpl;
  }
  void TearDown() override
  {
    if (DIR *d = opendir(dir.c_str())) {
      while (struct dirent *e = readdir(d))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlink((dir + "/" + e->d_name).c_str());
      closedir(d);
    }
    rmdir(dir.c_str());
  }
  std::string File(const char *name) const { return dir + "/" + name; }
};

// The columns used by most tests: every type, width 1 and > 1.
const PetscInt   kRows = 10;
const SlimColumn kCols[] = {
  {"x", SLIM_COL_REAL, 1, "m", "position"},
  {"n", SLIM_COL_INT, 1, NULL, "iterations"},
  {"s", SLIM_COL_STRING, 8, NULL, "status"},
  {"v", SLIM_COL_REAL, 3, "m/s", "velocity"},
  {"k", SLIM_COL_INT, 2, NULL, NULL},
};
const PetscInt kNCols = sizeof(kCols) / sizeof(kCols[0]);

double     X(PetscInt r) { return 0.5 * r + 1.0 / 3.0; }
PetscInt64 N(PetscInt r) { return 1000000000000LL * r - 7; }
double     V(PetscInt r, int j) { return r + 0.125 * j; }
PetscInt64 K(PetscInt r, int j) { return -100 * r - j; }
std::string S(PetscInt r) { return r % 2 ? "row" + std::to_string(r) : "exactly8"; } // 8 = full width, no terminator

// Writes rows[] of every column of kCols in table t.
void WriteAll(SlimOutput out, const char *t, const std::vector<PetscInt> &rows)
{
  PetscInt                n = (PetscInt)rows.size();
  std::vector<double>     x(n), v(3 * n);
  std::vector<PetscInt64> nn(n), k(2 * n);
  std::vector<char>       s(8 * n, 'Z');
  for (PetscInt i = 0; i < n; i++) {
    PetscInt r = rows[i];
    x[i]       = X(r);
    nn[i]      = N(r);
    for (int j = 0; j < 3; j++) v[3 * i + j] = V(r, j);
    for (int j = 0; j < 2; j++) k[2 * i + j] = K(r, j);
    std::string str = S(r);
    memcpy(&s[8 * i], str.c_str(), std::min<size_t>(8, str.size() + 1)); // garbage 'Z' after the terminator
  }
  ASSERT_EQ(0, SlimOutputWriteRows(out, t, "x", n, rows.data(), x.data()));
  ASSERT_EQ(0, SlimOutputWriteRows(out, t, "n", n, rows.data(), nn.data()));
  ASSERT_EQ(0, SlimOutputWriteRows(out, t, "s", n, rows.data(), s.data()));
  ASSERT_EQ(0, SlimOutputWriteRows(out, t, "v", n, rows.data(), v.data()));
  ASSERT_EQ(0, SlimOutputWriteRows(out, t, "k", n, rows.data(), k.data()));
}

// Checks every column of table t: rows in written[] hold their values, the others the fill.
void CheckAll(SlimOutput out, const char *t, const std::vector<PetscInt> &written)
{
  std::vector<double>     x(kRows), v(3 * kRows);
  std::vector<PetscInt64> nn(kRows), k(2 * kRows);
  std::vector<char>       s(8 * kRows, 'Q');
  ASSERT_EQ(0, SlimOutputReadColumn(out, t, "x", x.data()));
  ASSERT_EQ(0, SlimOutputReadColumn(out, t, "n", nn.data()));
  ASSERT_EQ(0, SlimOutputReadColumn(out, t, "s", s.data()));
  ASSERT_EQ(0, SlimOutputReadColumn(out, t, "v", v.data()));
  ASSERT_EQ(0, SlimOutputReadColumn(out, t, "k", k.data()));
  for (PetscInt r = 0; r < kRows; r++) {
    bool        w = std::find(written.begin(), written.end(), r) != written.end();
    std::string str(&s[8 * r], 8), want = w ? S(r) : "";
    want.resize(8, '\0'); // null-padded
    EXPECT_EQ(want, str) << "row " << r;
    if (w) {
      EXPECT_EQ(X(r), x[r]) << "row " << r;
      EXPECT_EQ(N(r), nn[r]) << "row " << r;
      for (int j = 0; j < 3; j++) EXPECT_EQ(V(r, j), v[3 * r + j]) << "row " << r;
      for (int j = 0; j < 2; j++) EXPECT_EQ(K(r, j), k[2 * r + j]) << "row " << r;
    } else {
      EXPECT_TRUE(std::isnan(x[r])) << "row " << r;
      EXPECT_EQ(-1, nn[r]) << "row " << r;
      for (int j = 0; j < 3; j++) EXPECT_TRUE(std::isnan(v[3 * r + j])) << "row " << r;
      for (int j = 0; j < 2; j++) EXPECT_EQ(-1, k[2 * r + j]) << "row " << r;
    }
  }
}
} // namespace

TEST_F(Output, RoundTripAndFill)
{
  std::string path = File("rt.h5");
  SlimOutput  out;
  const char *p;
  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_WORLD, path.c_str(), SLIM_OUTPUT_CREATE, "-output", &out));
  ASSERT_EQ(0, SlimOutputGetPath(out, &p));
  EXPECT_EQ(path, p);
  ASSERT_EQ(0, SlimOutputDefineTable(out, "runs", "one row per run", kRows, kNCols, kCols));
  ASSERT_EQ(0, SlimOutputDefineTable(out, "/nested/deeper/runs/", NULL, kRows, kNCols, kCols));
  CheckAll(out, "runs", {});
  WriteAll(out, "runs", {7, 2, 5});
  WriteAll(out, "runs", {9, 0});
  WriteAll(out, "nested/deeper/runs", {3});
  CheckAll(out, "runs", {7, 2, 5, 9, 0});
  CheckAll(out, "nested/deeper/runs", {3});
  WriteAll(out, "runs", {}); // nothing to do

  PetscBool ex;
  ASSERT_EQ(0, SlimOutputTableExists(out, "runs", &ex));
  EXPECT_TRUE(ex);
  ASSERT_EQ(0, SlimOutputTableExists(out, "nested/deeper", &ex));
  EXPECT_TRUE(ex);
  ASSERT_EQ(0, SlimOutputTableExists(out, "runs/x", &ex)); // a dataset, not a table
  EXPECT_FALSE(ex);
  ASSERT_EQ(0, SlimOutputTableExists(out, "nope/deeper", &ex));
  EXPECT_FALSE(ex);

  char buf[64];
  ASSERT_EQ(0, SlimOutputGetAttrString(out, "runs", "description", buf, sizeof(buf)));
  EXPECT_STREQ("one row per run", buf);
  ASSERT_EQ(0, SlimOutputGetAttrString(out, "runs/v", "units", buf, sizeof(buf)));
  EXPECT_STREQ("m/s", buf);
  ASSERT_EQ(0, SlimOutputGetAttrString(out, "runs/n", "description", buf, sizeof(buf)));
  EXPECT_STREQ("iterations", buf);
  PetscBool has;
  ASSERT_EQ(0, SlimOutputHasAttr(out, "runs/n", "units", &has));
  EXPECT_FALSE(has);

  {
    QuietErrors    q;
    PetscInt       bad[] = {3, kRows};
    double         xx[2] = {0, 0};
    PetscErrorCode ierr  = SlimOutputWriteRows(out, "runs", "x", 2, bad, xx);
    EXPECT_NE(0, ierr);
    EXPECT_NE(std::string::npos, LastError(ierr).find("out of range"));
    ierr = SlimOutputWriteRows(out, "runs", "nope", 1, bad, xx);
    EXPECT_NE(0, ierr);
    EXPECT_NE(std::string::npos, LastError(ierr).find("no column 'nope'"));
    EXPECT_NE(0, SlimOutputReadColumn(out, "other", "x", xx));
  }
  CheckAll(out, "runs", {7, 2, 5, 9, 0}); // the failed write changed nothing
  // empty tables and arrays are allowed (e.g. a sweep without baselines)
  PetscInt zero[] = {0, 4};
  ASSERT_EQ(0, SlimOutputDefineTable(out, "empty", NULL, 0, kNCols, kCols));
  ASSERT_EQ(0, SlimOutputDefineArray(out, "empty_array", 2, zero, NULL, NULL));
  ASSERT_EQ(0, SlimOutputReadColumn(out, "empty", "v", NULL));
  ASSERT_EQ(0, SlimOutputDestroy(&out));
  EXPECT_EQ(nullptr, out);
  ASSERT_EQ(0, SlimOutputDestroy(&out)); // NULL is fine

  // The properties the crash-safety argument relies on, seen by plain (serial) HDF5.
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  for (const char *name : {"runs/x", "runs/n", "runs/s", "runs/v", "nested/deeper/runs/k"}) {
    hid_t          d    = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t          dcpl = H5Dget_create_plist(d);
    H5D_alloc_time_t at;
    ASSERT_GE(d, 0);
    EXPECT_EQ(H5D_CONTIGUOUS, H5Pget_layout(dcpl)) << name;
    H5Pget_alloc_time(dcpl, &at);
    EXPECT_EQ(H5D_ALLOC_TIME_EARLY, at) << name;
    EXPECT_EQ(H5D_SPACE_STATUS_ALLOCATED, [&] { H5D_space_status_t s; H5Dget_space_status(d, &s); return s; }()) << name;
    H5Pclose(dcpl);
    H5Dclose(d);
  }
  hid_t d = H5Dopen2(f, "runs/v", H5P_DEFAULT), s = H5Dget_space(d);
  hsize_t dims[2];
  EXPECT_EQ(2, H5Sget_simple_extent_dims(s, dims, NULL));
  EXPECT_EQ((hsize_t)kRows, dims[0]);
  EXPECT_EQ(3u, dims[1]);
  H5Sclose(s);
  H5Dclose(d);
  d = H5Dopen2(f, "runs/s", H5P_DEFAULT);
  hid_t t = H5Dget_type(d);
  EXPECT_EQ(H5T_STRING, H5Tget_class(t));
  EXPECT_EQ(8u, H5Tget_size(t));
  EXPECT_EQ(H5T_STR_NULLPAD, H5Tget_strpad(t));
  EXPECT_FALSE(H5Tis_variable_str(t) > 0);
  H5Tclose(t);
  H5Dclose(d);
  // default libver: superblock version 0 (no status flags to clear after a crash)
  H5F_info2_t info;
  ASSERT_GE(H5Fget_info2(f, &info), 0);
  EXPECT_EQ(0u, info.super.version);
  H5Fclose(f);
}

TEST_F(Output, Arrays)
{
  std::string path = File("arr.h5");
  SlimOutput  out;
  PetscInt    d3[] = {2, 3, 4}, d1[] = {5};
  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_WORLD, path.c_str(), SLIM_OUTPUT_CREATE, "-output", &out));
  ASSERT_EQ(0, SlimOutputDefineArray(out, "trajectories/17/q", 3, d3, "m", "positions"));
  ASSERT_EQ(0, SlimOutputDefineArray(out, "trajectories/17/p", 3, d3, NULL, NULL));
  ASSERT_EQ(0, SlimOutputDefineArray(out, "scalar", 0, NULL, NULL, NULL));
  ASSERT_EQ(0, SlimOutputDefineArray(out, "vec", 1, d1, NULL, NULL));
  // many arrays: the handle table grows past its first sizes
  for (int i = 0; i < 70; i++) ASSERT_EQ(0, SlimOutputDefineArray(out, ("many/" + std::to_string(i)).c_str(), 1, d1, NULL, NULL));
  ASSERT_EQ(0, SlimOutputDefineArray(out, "trajectories/17/q", 3, d3, "m", "positions")); // again: same shape is fine
  {
    QuietErrors q;
    PetscInt    other[] = {2, 3, 5};
    PetscErrorCode ierr = SlimOutputDefineArray(out, "trajectories/17/q", 3, other, NULL, NULL);
    EXPECT_NE(0, ierr);
    EXPECT_NE(std::string::npos, LastError(ierr).find("trajectories/17/q"));
    EXPECT_NE(0, SlimOutputDefineArray(out, "trajectories/17/q", 2, other, NULL, NULL));
    EXPECT_NE(0, SlimOutputDefineArray(out, "bad", 4, other, NULL, NULL));
    EXPECT_NE(0, SlimOutputWriteArray(out, "undefined", NULL));
  }
  std::vector<double> q(24), r(24);
  for (int i = 0; i < 24; i++) q[i] = i * 1.5 - 3;
  ASSERT_EQ(0, SlimOutputWriteArray(out, "trajectories/17/q", q.data()));
  double sc = 42;
  ASSERT_EQ(0, SlimOutputWriteArray(out, "scalar", &sc));
  for (int i = 0; i < 70; i += 7) {
    double v[5] = {1.0 * i, 2.0 * i, 3.0, 4.0, 5.0};
    ASSERT_EQ(0, SlimOutputWriteArray(out, ("many/" + std::to_string(i)).c_str(), v));
  }
  ASSERT_EQ(0, SlimOutputDestroy(&out));

  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_WORLD, path.c_str(), SLIM_OUTPUT_RESUME, "-output", &out));
  ASSERT_EQ(0, SlimOutputDefineArray(out, "trajectories/17/q", 3, d3, NULL, NULL));
  ASSERT_EQ(0, SlimOutputDefineArray(out, "trajectories/17/p", 3, d3, NULL, NULL));
  ASSERT_EQ(0, SlimOutputDefineArray(out, "scalar", 0, NULL, NULL, NULL));
  ASSERT_EQ(0, SlimOutputReadArray(out, "trajectories/17/q", r.data()));
  EXPECT_EQ(q, r);
  ASSERT_EQ(0, SlimOutputReadArray(out, "trajectories/17/p", r.data()));
  for (double x : r) EXPECT_TRUE(std::isnan(x));
  sc = 0;
  ASSERT_EQ(0, SlimOutputReadArray(out, "scalar", &sc));
  EXPECT_EQ(42, sc);
  for (int i = 0; i < 70; i += 1) {
    std::string name = "many/" + std::to_string(i);
    double      v[5];
    ASSERT_EQ(0, SlimOutputDefineArray(out, name.c_str(), 1, d1, NULL, NULL));
    ASSERT_EQ(0, SlimOutputReadArray(out, name.c_str(), v));
    if (i % 7 == 0) EXPECT_EQ(2.0 * i, v[1]);
    else EXPECT_TRUE(std::isnan(v[1]));
  }
  {
    QuietErrors q;
    PetscInt    other[] = {2, 4, 3};
    EXPECT_NE(0, SlimOutputDefineArray(out, "trajectories/17/p", 3, other, NULL, NULL));
    EXPECT_NE(0, SlimOutputDefineArray(out, "trajectories", 1, d1, NULL, NULL)); // a group
  }
  char units[8];
  ASSERT_EQ(0, SlimOutputGetAttrString(out, "trajectories/17/q", "units", units, sizeof(units)));
  EXPECT_STREQ("m", units);
  ASSERT_EQ(0, SlimOutputDestroy(&out));
}

TEST_F(Output, Attributes)
{
  std::string path = File("attr.h5");
  SlimOutput  out;
  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_WORLD, path.c_str(), SLIM_OUTPUT_CREATE, "-output", &out));
  ASSERT_EQ(0, SlimOutputDefineTable(out, "runs", "desc", kRows, kNCols, kCols));
  ASSERT_EQ(0, SlimOutputSetAttrString(out, "/", "git", "abc123"));
  ASSERT_EQ(0, SlimOutputSetAttrString(out, "/", "git", "a much longer replacement")); // replaces
  ASSERT_EQ(0, SlimOutputSetAttrString(out, "/", "empty", ""));
  ASSERT_EQ(0, SlimOutputSetAttrString(out, "runs", "description", "new description"));
  ASSERT_EQ(0, SlimOutputSetAttrString(out, "runs/x", "units", "km"));
  PetscReal  re[] = {1.5, -2.25, 1e300};
  PetscInt64 in[] = {-1, 1LL << 62};
  ASSERT_EQ(0, SlimOutputSetAttrReal(out, "/", "tol", 1, re));
  ASSERT_EQ(0, SlimOutputSetAttrReal(out, "runs", "box", 3, re));
  ASSERT_EQ(0, SlimOutputSetAttrInt(out, "/", "seed", 2, in));
  ASSERT_EQ(0, SlimOutputSetAttrInt(out, "/", "tol", 1, in)); // replaces, with another type
  ASSERT_EQ(0, SlimOutputSetAttrString(out, "/", "box", "root box"));

  char      buf[64];
  PetscBool has;
  ASSERT_EQ(0, SlimOutputGetAttrString(out, "/", "git", buf, sizeof(buf)));
  EXPECT_STREQ("a much longer replacement", buf);
  ASSERT_EQ(0, SlimOutputGetAttrString(out, "", "empty", buf, sizeof(buf)));
  EXPECT_STREQ("", buf);
  ASSERT_EQ(0, SlimOutputGetAttrString(out, "runs", "description", buf, sizeof(buf)));
  EXPECT_STREQ("new description", buf);
  ASSERT_EQ(0, SlimOutputGetAttrString(out, "/runs/x", "units", buf, sizeof(buf)));
  EXPECT_STREQ("km", buf);
  ASSERT_EQ(0, SlimOutputHasAttr(out, "/", "git", &has));
  EXPECT_TRUE(has);
  ASSERT_EQ(0, SlimOutputHasAttr(out, "/", "nope", &has));
  EXPECT_FALSE(has);
  ASSERT_EQ(0, SlimOutputHasAttr(out, "runs", "box", &has));
  EXPECT_TRUE(has);
  ASSERT_EQ(0, SlimOutputHasAttr(out, "no/such/object", "git", &has));
  EXPECT_FALSE(has);
  {
    QuietErrors    q;
    PetscErrorCode ierr = SlimOutputGetAttrString(out, "/", "nope", buf, sizeof(buf));
    EXPECT_NE(0, ierr);
    EXPECT_NE(std::string::npos, LastError(ierr).find("no attribute 'nope'"));
    EXPECT_NE(0, SlimOutputGetAttrString(out, "/", "git", buf, 5)); // does not fit
    EXPECT_NE(0, SlimOutputGetAttrString(out, "/", "seed", buf, sizeof(buf))); // not a string
    ierr = SlimOutputSetAttrString(out, "missing", "a", "b");
    EXPECT_NE(0, ierr);
    EXPECT_NE(std::string::npos, LastError(ierr).find("no object 'missing'"));
  }
  ASSERT_EQ(0, SlimOutputDestroy(&out));

  // numeric attributes as plain HDF5 sees them
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  PetscInt64 iv[2] = {0, 0};
  double     rv[3] = {0, 0, 0};
  hid_t      a     = H5Aopen_by_name(f, "/", "seed", H5P_DEFAULT, H5P_DEFAULT);
  EXPECT_GE(H5Aread(a, H5T_NATIVE_INT64, iv), 0);
  EXPECT_EQ(in[0], iv[0]);
  EXPECT_EQ(in[1], iv[1]);
  H5Aclose(a);
  a = H5Aopen_by_name(f, "/", "tol", H5P_DEFAULT, H5P_DEFAULT);
  hid_t t = H5Aget_type(a), s = H5Aget_space(a);
  EXPECT_EQ(H5T_INTEGER, H5Tget_class(t));
  EXPECT_EQ(H5S_SCALAR, H5Sget_simple_extent_type(s));
  H5Tclose(t);
  H5Sclose(s);
  H5Aclose(a);
  a = H5Aopen_by_name(f, "runs", "box", H5P_DEFAULT, H5P_DEFAULT);
  EXPECT_GE(H5Aread(a, H5T_NATIVE_DOUBLE, rv), 0);
  for (int i = 0; i < 3; i++) EXPECT_EQ(re[i], rv[i]);
  H5Aclose(a);
  H5Fclose(f);
}

TEST_F(Output, CreateOnExistingFileFailsAndLeavesItAlone)
{
  std::string path = File("exists.h5");
  SlimOutput  out;
  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_WORLD, path.c_str(), SLIM_OUTPUT_CREATE, "-output", &out));
  ASSERT_EQ(0, SlimOutputDefineTable(out, "runs", NULL, kRows, kNCols, kCols));
  WriteAll(out, "runs", {4, 1});
  ASSERT_EQ(0, SlimOutputDestroy(&out));
  std::string before = ReadBytes(path);
  ASSERT_FALSE(before.empty());
  {
    QuietErrors    q;
    PetscErrorCode ierr = SlimOutputOpen(PETSC_COMM_WORLD, path.c_str(), SLIM_OUTPUT_CREATE, "-output", &out);
    EXPECT_NE(0, ierr);
    EXPECT_EQ(nullptr, out);
    EXPECT_EQ("-output: file '" + path + "' exists; use -force to replace it or -sweep_resume to continue it", LastError(ierr));
    ierr = SlimOutputOpen(PETSC_COMM_WORLD, path.c_str(), SLIM_OUTPUT_CREATE, "-results", &out);
    EXPECT_NE(std::string::npos, LastError(ierr).find("-results: file '" + path + "' exists"));
  }
  EXPECT_EQ(before, ReadBytes(path));
}

TEST_F(Output, ForceReplaces)
{
  std::string path = File("force.h5"), junk = File("junk.h5");
  SlimOutput  out;
  PetscBool   ex;
  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_WORLD, path.c_str(), SLIM_OUTPUT_CREATE, "-output", &out));
  ASSERT_EQ(0, SlimOutputDefineTable(out, "runs", NULL, kRows, kNCols, kCols));
  WriteAll(out, "runs", {4});
  ASSERT_EQ(0, SlimOutputDestroy(&out));

  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_WORLD, path.c_str(), SLIM_OUTPUT_FORCE, "-output", &out));
  ASSERT_EQ(0, SlimOutputTableExists(out, "runs", &ex));
  EXPECT_FALSE(ex);
  ASSERT_EQ(0, SlimOutputDefineTable(out, "runs", NULL, kRows, kNCols, kCols)); // fresh: all fill
  CheckAll(out, "runs", {});
  ASSERT_EQ(0, SlimOutputDestroy(&out));

  std::ofstream(junk) << "not an HDF5 file";
  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_WORLD, junk.c_str(), SLIM_OUTPUT_FORCE, "-output", &out));
  ASSERT_EQ(0, SlimOutputDestroy(&out));
  EXPECT_GT(H5Fis_hdf5(junk.c_str()), 0);

  // FORCE on a path that does not exist simply creates it
  std::string fresh = File("fresh.h5");
  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_WORLD, fresh.c_str(), SLIM_OUTPUT_FORCE, "-output", &out));
  ASSERT_EQ(0, SlimOutputDestroy(&out));
  EXPECT_TRUE(FileExists(fresh));
}

TEST_F(Output, UnwritablePathFails)
{
  QuietErrors q;
  SlimOutput  out = NULL;
  std::string nodir = File("no/such/dir/x.h5");
  for (SlimOutputMode mode : {SLIM_OUTPUT_CREATE, SLIM_OUTPUT_FORCE}) {
    for (const std::string &p : {std::string("/proc/nope/x.h5"), nodir, dir /* a directory */}) {
      PetscErrorCode ierr = SlimOutputOpen(PETSC_COMM_WORLD, p.c_str(), mode, "-output", &out);
      EXPECT_NE(0, ierr) << p;
      EXPECT_EQ(nullptr, out);
      std::string msg = LastError(ierr);
      if (p == dir && mode == SLIM_OUTPUT_CREATE) EXPECT_NE(std::string::npos, msg.find("exists")) << msg;
      else EXPECT_EQ(0u, msg.find("-output: cannot create '" + p + "': ")) << msg;
    }
  }
  EXPECT_NE(std::string::npos, LastError(SlimOutputOpen(PETSC_COMM_WORLD, nodir.c_str(), SLIM_OUTPUT_CREATE, "-output", &out)).find("No such file or directory"));
  EXPECT_FALSE(FileExists(nodir));
}

TEST_F(Output, ResumeKeepsRowsAndChecksShapes)
{
  std::string path = File("resume.h5");
  SlimOutput  out;
  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_WORLD, path.c_str(), SLIM_OUTPUT_CREATE, "-output", &out));
  ASSERT_EQ(0, SlimOutputDefineTable(out, "runs", "the runs", kRows, kNCols, kCols));
  ASSERT_EQ(0, SlimOutputSetAttrString(out, "/", "config", "abc"));
  WriteAll(out, "runs", {8, 3, 6});
  ASSERT_EQ(0, SlimOutputDestroy(&out));

  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_WORLD, path.c_str(), SLIM_OUTPUT_RESUME, "-output", &out));
  {
    QuietErrors q; // before DefineTable nothing is open
    double      x[kRows];
    EXPECT_NE(0, SlimOutputReadColumn(out, "runs", "x", x));
  }
  PetscBool has;
  char      buf[16];
  ASSERT_EQ(0, SlimOutputHasAttr(out, "/", "config", &has));
  EXPECT_TRUE(has);
  ASSERT_EQ(0, SlimOutputGetAttrString(out, "/", "config", buf, sizeof(buf)));
  EXPECT_STREQ("abc", buf);
  ASSERT_EQ(0, SlimOutputDefineTable(out, "runs", "the runs", kRows, kNCols, kCols));
  CheckAll(out, "runs", {8, 3, 6});
  WriteAll(out, "runs", {1, 0});
  // a table new in this run is simply created
  ASSERT_EQ(0, SlimOutputDefineTable(out, "more", NULL, kRows, kNCols, kCols));
  {
    QuietErrors    q;
    PetscErrorCode ierr = SlimOutputDefineTable(out, "runs", NULL, kRows + 1, kNCols, kCols);
    EXPECT_NE(0, ierr);
    std::string msg = LastError(ierr);
    EXPECT_NE(std::string::npos, msg.find("table 'runs' column 'x'")) << msg;
    SlimColumn c = kCols[3]; // v: width 3 -> 4
    c.width      = 4;
    ierr         = SlimOutputDefineTable(out, "runs", NULL, kRows, 1, &c);
    EXPECT_NE(0, ierr);
    EXPECT_NE(std::string::npos, LastError(ierr).find("column 'v'"));
    c      = kCols[1]; // n: int -> real
    c.type = SLIM_COL_REAL;
    EXPECT_NE(0, SlimOutputDefineTable(out, "runs", NULL, kRows, 1, &c));
    c       = kCols[2]; // s: string(8) -> string(9)
    c.width = 9;
    EXPECT_NE(0, SlimOutputDefineTable(out, "runs", NULL, kRows, 1, &c));
  }
  CheckAll(out, "runs", {8, 3, 6, 1, 0});
  ASSERT_EQ(0, SlimOutputDestroy(&out));

  // the same checks against the file itself (nothing cached in this session)
  ASSERT_EQ(0, SlimOutputOpen(PETSC_COMM_WORLD, path.c_str(), SLIM_OUTPUT_RESUME, "-output", &out));
  {
    QuietErrors    q;
    PetscErrorCode ierr = SlimOutputDefineTable(out, "runs", NULL, kRows - 1, kNCols, kCols);
    EXPECT_NE(0, ierr);
    std::string msg = LastError(ierr);
    EXPECT_NE(std::string::npos, msg.find("table 'runs' column 'x'")) << msg;
    EXPECT_NE(std::string::npos, msg.find("real [10]")) << msg;
    EXPECT_NE(std::string::npos, msg.find("real [9]")) << msg;
    SlimColumn c = kCols[2];
    c.width      = 9;
    EXPECT_NE(0, SlimOutputDefineTable(out, "runs", NULL, kRows, 1, &c));
    c      = kCols[1];
    c.type = SLIM_COL_REAL;
    EXPECT_NE(0, SlimOutputDefineTable(out, "runs", NULL, kRows, 1, &c));
    c       = kCols[4]; // k: width 2 -> 1 changes the rank
    c.width = 1;
    EXPECT_NE(0, SlimOutputDefineTable(out, "runs", NULL, kRows, 1, &c));
  }
  ASSERT_EQ(0, SlimOutputDefineTable(out, "runs", NULL, kRows, kNCols, kCols));
  CheckAll(out, "runs", {8, 3, 6, 1, 0});
  ASSERT_EQ(0, SlimOutputDestroy(&out));

  {
    QuietErrors    q;
    std::string    missing = File("missing.h5"), junk = File("junk.h5");
    PetscErrorCode ierr    = SlimOutputOpen(PETSC_COMM_WORLD, missing.c_str(), SLIM_OUTPUT_RESUME, "-output", &out);
    EXPECT_NE(0, ierr);
    EXPECT_EQ("-output: cannot resume '" + missing + "': the file does not exist", LastError(ierr));
    EXPECT_FALSE(FileExists(missing));
    std::ofstream(junk) << "not an HDF5 file";
    ierr = SlimOutputOpen(PETSC_COMM_WORLD, junk.c_str(), SLIM_OUTPUT_RESUME, "-output", &out);
    EXPECT_NE(0, ierr);
    EXPECT_NE(std::string::npos, LastError(ierr).find("not an HDF5 file"));
  }
}
