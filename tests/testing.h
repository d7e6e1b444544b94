#pragma once
// Helpers shared by the GoogleTest files: owners that destroy libslim objects at scope exit,
// and the registered family names (tests loop over them, so a new family is covered).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <slim/slim.h>
#include <slim/fit.h>
#include <slim/harness.h>
#include <slim/output.h>

namespace slimtest {

struct Fam {
  SlimFamily f = nullptr;
  explicit Fam(const char *name) { EXPECT_EQ(0, SlimFamilyCreate(name, "-family", &f)); }
  ~Fam() { SlimFamilyDestroy(&f); }
};

struct Stepper {
  SlimStepper s = nullptr;
  Stepper(SlimFamily f, PetscInt r, PetscInt B, PetscReal dt, SlimSolverType type = SLIM_SOLVER_SNES)
  {
    EXPECT_EQ(0, SlimStepperCreate(f, r, B, &s));
    EXPECT_EQ(0, SlimStepperSetSolverType(s, type));
    EXPECT_EQ(0, SlimStepperSetTimeStep(s, dt));
  }
  ~Stepper() { SlimStepperDestroy(&s); }
};

// owners of the fit objects
struct Fit {
  SlimFit f = nullptr;
  Fit() { EXPECT_EQ(0, SlimFitCreate(&f)); }
  ~Fit() { SlimFitDestroy(&f); }
};

struct Data {
  SlimFitData d = nullptr;
  ~Data() { SlimFitDataDestroy(&d); }
};

struct Loss {
  SlimFitLoss l = nullptr;
  ~Loss() { SlimFitLossDestroy(&l); }
};

inline std::vector<std::string> FamilyNames()
{
  char                     buf[1024];
  std::vector<std::string> names;
  std::string              cur;
  EXPECT_EQ(0, SlimFamilyListNames(buf, sizeof buf));
  for (const char *c = buf;; c++) {
    if (*c == ',' || !*c) {
      if (!cur.empty()) names.push_back(cur);
      cur.clear();
      if (!*c) break;
    } else if (*c != ' ') cur += *c;
  }
  return names;
}

// Errors are expected: return the code instead of printing a traceback.
struct QuietErrors {
  QuietErrors() { PetscPushErrorHandler(PetscReturnErrorHandler, NULL); }
  ~QuietErrors() { PetscPopErrorHandler(); }
};

// The message of the last PETSc error raised.
inline std::string LastError(PetscErrorCode ierr)
{
  const char *text;
  char       *specific = NULL;
  PetscErrorMessage(ierr, &text, &specific);
  return specific ? specific : "";
}

// A fresh directory under /tmp, removed with its content at scope exit.
struct TempDir {
  std::string path;
  TempDir()
  {
    char tmpl[] = "/tmp/slim_test_XXXXXX";
    EXPECT_NE(nullptr, mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() { EXPECT_EQ(0, std::system(("rm -rf '" + path + "'").c_str())); }
  // Writes text to the file name in this directory; returns its path.
  std::string Write(const std::string &name, const std::string &text) const
  {
    std::string p = path + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

inline std::string ReadFile(const std::string &p)
{
  std::ifstream     f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

inline bool Exists(const std::string &p)
{
  struct stat st;
  return !stat(p.c_str(), &st);
}

// The hand-written family a generated one reproduces ("dho_gen" -> "dho", from the specification
// files in sweeps/families/), so per-family test settings apply to both; other names unchanged.
inline std::string BaseFamily(const std::string &name)
{
  const std::string suffix = "_gen";
  return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 ? name.substr(0, name.size() - suffix.size()) : name;
}

// An options database of its own for one scope: the global one is left as it was.
struct OptionsScope {
  PetscOptions o = nullptr;
  explicit OptionsScope(const char *text)
  {
    EXPECT_EQ(0, PetscOptionsCreate(&o));
    EXPECT_EQ(0, PetscOptionsInsertString(o, text));
    EXPECT_EQ(0, PetscOptionsPush(o));
  }
  ~OptionsScope()
  {
    PetscOptionsPop();
    PetscOptionsDestroy(&o);
  }
};

// A dataset of a results file as doubles (rows x columns, row-major).
inline std::vector<double> ReadReal(const std::string &file, const char *path)
{
  PetscInt            rows, cols;
  PetscReal          *v = nullptr;
  std::vector<double> r;
  EXPECT_EQ(0, SlimOutputReadMatrix(file.c_str(), path, "-test", &rows, &cols, &v));
  if (v) r.assign(v, v + rows * cols);
  PetscFree(v);
  return r;
}

// Runs a whole sweep in-process on one rank (its own options database); *complete: every task
// finished.
inline void RunSweep(const std::string &opts, PetscBool *complete)
{
  OptionsScope opt(opts.c_str());
  SlimHarness  h = nullptr;
  *complete      = PETSC_FALSE;
  ASSERT_EQ(0, SlimHarnessCreate(PETSC_COMM_SELF, &h));
  ASSERT_EQ(0, SlimHarnessSetFromOptions(h));
  ASSERT_EQ(0, SlimHarnessRun(h, complete));
  ASSERT_EQ(0, SlimHarnessDestroy(&h));
}

} // namespace slimtest
