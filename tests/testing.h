#pragma once
// Helpers shared by the GoogleTest files: owners that destroy libslim objects at scope exit,
// and the registered family names (tests loop over them, so a new family is covered).
#include <gtest/gtest.h>
#include <string>
#include <vector>
#include <slim/slim.h>
#include <slim/fit.h>

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

} // namespace slimtest
