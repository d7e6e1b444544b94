#pragma once
// Helpers shared by the GoogleTest files: owners that destroy libslim objects at scope exit,
// and the registered family names (tests loop over them, so a new family is covered).
#include <gtest/gtest.h>
#include <string>
#include <vector>
#include <slim/slim.h>

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

// The hand-written family a generated one reproduces ("dho_gen" -> "dho", from the specification
// files in sweeps/families/), so per-family test settings apply to both; other names unchanged.
inline std::string BaseFamily(const std::string &name)
{
  const std::string suffix = "_gen";
  return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 ? name.substr(0, name.size() - suffix.size()) : name;
}

} // namespace slimtest
