// Tests of the strict option parsers (src/options.c): lists (integers beyond PetscInt, exponent
// forms, duplicates, missing values), the single-value drop-ins, the rewriting of PETSc's own
// parse errors so that they name the option, and the options-file check made before
// PetscInitialize().
#include <gtest/gtest.h>
#include <petscsys.h>
#include <slim/options.h>

#include <string>
#include <vector>

#include "testing.h"

using slimtest::LastError;
using slimtest::QuietErrors;
using slimtest::TempDir;

namespace
{

// Sets options for one test and removes them afterwards (the database is global).
struct Options {
  std::vector<std::string> names;
  void Set(const char *name, const char *value)
  {
    names.push_back(name);
    EXPECT_EQ(0, PetscOptionsSetValue(NULL, name, value));
  }
  ~Options()
  {
    for (auto &n : names) PetscOptionsClearValue(NULL, n.c_str());
  }
};

enum Kind { INTS, REALS, REALS_DISTINCT, STRINGS, INT, REAL, REAL_ARRAY };

// Reads -t_opt as kind inside an options block, as the library's SetFromOptions do.
PetscErrorCode Read(Kind kind, const char def[], std::vector<double> *out, std::vector<std::string> *sout = NULL)
{
  PetscInt  n = 0, ivals[SLIM_LIST_MAX], ival = 7;
  PetscReal rvals[SLIM_LIST_MAX], rval = 0.5;
  char      svals[SLIM_LIST_MAX][64];

  PetscFunctionBeginUser;
  PetscOptionsBegin(PETSC_COMM_SELF, NULL, "test", NULL);
  switch (kind) {
  case INTS:
    PetscCall(SlimOptionsIntList(PetscOptionsObject, "-t_opt", "h", def, SLIM_LIST_MAX, ivals, &n, NULL));
    for (PetscInt i = 0; i < n; i++) out->push_back((double)ivals[i]);
    break;
  case REALS:
  case REALS_DISTINCT:
    if (kind == REALS) PetscCall(SlimOptionsRealList(PetscOptionsObject, "-t_opt", "h", def, SLIM_LIST_MAX, rvals, &n, NULL));
    else PetscCall(SlimOptionsRealListDistinct(PetscOptionsObject, "-t_opt", "h", def, SLIM_LIST_MAX, rvals, &n, NULL));
    for (PetscInt i = 0; i < n; i++) out->push_back(rvals[i]);
    break;
  case STRINGS:
    PetscCall(SlimOptionsStringList(PetscOptionsObject, "-t_opt", "h", def, SLIM_LIST_MAX, 64, svals, &n, NULL));
    for (PetscInt i = 0; i < n; i++) sout->push_back(svals[i]);
    break;
  case INT:
    PetscCall(SlimOptionsInt("-t_opt", "h", NULL, ival, &ival, NULL));
    out->push_back((double)ival);
    break;
  case REAL:
    PetscCall(SlimOptionsReal("-t_opt", "h", NULL, rval, &rval, NULL));
    out->push_back(rval);
    break;
  case REAL_ARRAY:
    n = 3;
    PetscCall(SlimOptionsRealArray("-t_opt", "h", NULL, rvals, &n, NULL));
    for (PetscInt i = 0; i < n; i++) out->push_back(rvals[i]);
    break;
  }
  PetscOptionsEnd();
  PetscFunctionReturn(0);
}

// The error message of reading -t_opt given as value ("" if it was accepted).
std::string Refusal(Kind kind, const char *value)
{
  Options             o;
  QuietErrors         q;
  std::vector<double> v;
  std::vector<std::string> s;
  o.Set("-t_opt", value);
  PetscErrorCode ierr = Read(kind, "1", &v, &s);
  return ierr ? LastError(ierr) : "";
}

std::vector<double> Values(Kind kind, const char *value)
{
  Options             o;
  std::vector<double> v;
  o.Set("-t_opt", value);
  EXPECT_EQ(0, Read(kind, "1", &v));
  return v;
}
} // namespace

TEST(Options, IntListRangeAndForms)
{
  EXPECT_EQ(Values(INTS, "0, 1e5 ,2147483647,-2147483648"), (std::vector<double>{0, 1e5, 2147483647., -2147483648.}));
  // beyond PetscInt: refused with the value as typed, never wrapped
  for (const char *bad : {"2147483648", "4294967297", "-2147483649", "3e9", "99999999999999999999"}) {
    std::string m = Refusal(INTS, bad);
    EXPECT_NE(m.find("-t_opt"), std::string::npos) << bad << ": " << m;
    EXPECT_NE(m.find(std::string("'") + bad + "'"), std::string::npos) << m;
    EXPECT_NE(m.find("out of range"), std::string::npos) << m;
  }
  for (const char *bad : {"1.5", "abc", "1e-1", "0x10", "inf", "1,2x"}) EXPECT_NE(Refusal(INTS, bad).find("is not an integer"), std::string::npos) << bad;
}

TEST(Options, ListDuplicatesRefused)
{
  std::string m = Refusal(INTS, "0,0");
  EXPECT_EQ(m, "-t_opt: '0' is listed twice");
  EXPECT_EQ(Refusal(INTS, "3,1,1e0"), "-t_opt: '1e0' is listed twice"); // same value, as typed
  EXPECT_EQ(Refusal(STRINGS, "dho,kepler,DHO"), "-t_opt: 'DHO' is listed twice");
  EXPECT_EQ(Refusal(REALS_DISTINCT, "0.1,0.2,1e-1"), "-t_opt: '1e-1' is listed twice");
  // positional real lists (bounds, ranges) may repeat a value
  EXPECT_EQ(Values(REALS, "0,0,1"), (std::vector<double>{0, 0, 1}));
  EXPECT_EQ(Values(REALS_DISTINCT, "0.1,0.05"), (std::vector<double>{0.1, 0.05}));
}

TEST(Options, MissingValueRefused)
{
  for (Kind k : {INTS, REALS, REALS_DISTINCT, STRINGS, INT, REAL, REAL_ARRAY}) EXPECT_EQ(Refusal(k, NULL), "-t_opt: missing value") << k;
  // given, empty items, or absent: the usual outcomes
  EXPECT_NE(Refusal(INTS, "1,,2").find("empty item"), std::string::npos);
  std::vector<double> v;
  EXPECT_EQ(0, Read(INT, "1", &v));
  EXPECT_EQ(v, (std::vector<double>{7})); // absent: the default
}

TEST(Options, SingleIntStrict)
{
  EXPECT_EQ(Values(INT, "-3"), (std::vector<double>{-3}));
  EXPECT_EQ(Values(INT, "2147483647"), (std::vector<double>{2147483647.}));
  std::string m = Refusal(INT, "4294967297"); // PETSc 3.18 alone reads this as 1
  EXPECT_NE(m.find("-t_opt: '4294967297' is out of range"), std::string::npos) << m;
  EXPECT_NE(Refusal(INT, "2147483648").find("out of range"), std::string::npos);
  EXPECT_EQ(Refusal(INT, "1.5"), "-t_opt: '1.5' is not an integer");
  EXPECT_EQ(Values(REAL, "2.5e-3"), (std::vector<double>{2.5e-3}));
  EXPECT_EQ(Values(REAL_ARRAY, "1,2"), (std::vector<double>{1, 2}));
}

TEST(Options, ParseErrorsNameTheOption)
{
  Options     o;
  QuietErrors q;
  char        out[512];
  PetscBool   flg;
  PetscReal   x;
  PetscInt    i;
  PetscBool   b;
  PetscReal   arr[4];
  PetscInt    n = 4;

  o.Set("-t_real", "abc");
  o.Set("-t_unread", "abc"); // same value but never read: not named
  o.Set("-t_int", "1.5");
  o.Set("-t_bool", "maybe");
  o.Set("-t_array", "1,xyz,3");
  // each read fails in PETSc's parser; its message is rewritten to name the option
  auto check = [&](PetscErrorCode ierr, const char *expect) {
    ASSERT_NE(0, ierr) << expect;
    std::string mess = LastError(ierr);
    ASSERT_EQ(0, SlimOptionsExplainError(mess.c_str(), out, sizeof out, &flg));
    EXPECT_TRUE(flg) << mess;
    EXPECT_STREQ(flg ? out : "", expect) << mess;
  };
  check(PetscOptionsGetReal(NULL, NULL, "-t_real", &x, NULL), "-t_real: 'abc' is not a number");
  check(PetscOptionsGetInt(NULL, NULL, "-t_int", &i, NULL), "-t_int: '1.5' is not an integer");
  check(PetscOptionsGetBool(NULL, NULL, "-t_bool", &b, NULL), "-t_bool: 'maybe' is not a truth value (true/false, yes/no, 1/0)");
  check(PetscOptionsGetRealArray(NULL, NULL, "-t_array", arr, &n, NULL), "-t_array: item 'xyz' of '1,xyz,3' is not a number");
  o.Set("-t_neg", "-1.5"); // a value that starts with a dash
  check(PetscOptionsGetInt(NULL, NULL, "-t_neg", &i, NULL), "-t_neg: '-1.5' is not an integer");
  // unknown types: PETSc's message (SNESSetType() here) after the option that holds the value
  char      str[64];
  PetscBool isset;
  o.Set("-t_snes_type", "nosuchsolver");
  ASSERT_EQ(0, PetscOptionsGetString(NULL, NULL, "-t_snes_type", str, sizeof str, &isset));
  ASSERT_EQ(0, SlimOptionsExplainError("Unable to find requested SNES type nosuchsolver", out, sizeof out, &flg));
  EXPECT_TRUE(flg);
  EXPECT_STREQ(flg ? out : "", "-t_snes_type: Unable to find requested SNES type nosuchsolver");
  // other messages are left alone
  ASSERT_EQ(0, SlimOptionsExplainError("-sweep_dt: value 0 is invalid (dt must be > 0)", out, sizeof out, &flg));
  EXPECT_FALSE(flg);
  ASSERT_EQ(0, SlimOptionsExplainError("Input string nosuchvalue has no numeric value", out, sizeof out, &flg));
  EXPECT_FALSE(flg); // no option holds it: PETSc's text stays
}

namespace
{
std::string CheckFiles(std::vector<std::string> args)
{
  std::vector<char *> argv;
  char                msg[1024] = "";
  args.insert(args.begin(), "slimsweep");
  for (auto &a : args) argv.push_back(&a[0]);
  int rc = SlimOptionsCheckFiles((int)argv.size(), argv.data(), msg, sizeof msg);
  EXPECT_EQ(rc != 0, msg[0] != 0);
  return rc ? msg : "";
}
} // namespace

TEST(Options, OptionsFileChecks)
{
  TempDir     d;
  std::string good  = d.Write("good.opts", "# a sweep\n-sweep_r 0,1   # orders\n\n  -sweep_quiet\n-dho_lambda -0.5\n-x -inf\nalias -a -b\n\t-sweep_N 10\r\n");
  std::string inner = d.Write("inner.opts", "-options_file " + good + "\n");
  EXPECT_EQ(CheckFiles({"-sweep_N", "5", "-options_file", good}), "");
  EXPECT_EQ(CheckFiles({"-options_file", inner}), "");
  EXPECT_EQ(CheckFiles({"-sweep_N", "5"}), "");

  std::string missing = d.path + "/nosuch.opts";
  EXPECT_EQ(CheckFiles({"-options_file", missing}), "-options_file: cannot open '" + missing + "': No such file or directory");
  EXPECT_EQ(CheckFiles({"-options_file", d.path}), "-options_file: '" + d.path + "' is a directory");
  EXPECT_EQ(CheckFiles({"-sweep_N", "5", "-options_file"}), "-options_file: missing file name");
  EXPECT_EQ(CheckFiles({"-options_file", "-sweep_N", "5"}), "-options_file: missing file name");

  std::string bin = d.Write("bin.opts", std::string("\x7f" "ELF\x02\x01\x01\0\0\0", 10));
  EXPECT_EQ(CheckFiles({"-options_file", bin}), "-options_file: '" + bin + "' is not an options file (binary data on line 1)");
  struct {
    const char *text, *expect;
  } bad[] = {
    {"-sweep_N 10\nfoo bar\n", "line 2: 'foo' is not an option"},
    {"-sweep_N -sweep_r 1\n", "line 1: two options on one line (-sweep_N -sweep_r)"},
    {"-sweep_N 10 20\n", "line 1: extra item '20' after -sweep_N 10"},
    {"-5 x\n", "line 1: '-5' is not a valid option name"},
    {"alias -a\n", "line 1: an alias line is"},
    {"-options_file\n", "-options_file: missing file name (in '"},
  };
  for (auto &b : bad) {
    std::string f = d.Write("bad.opts", b.text), m = CheckFiles({"-options_file", f});
    EXPECT_NE(m.find(b.expect), std::string::npos) << b.text << " -> " << m;
    EXPECT_NE(m.find(f), std::string::npos) << m; // names the file
  }
  // YAML files (by name or by content) and names PETSc substitutes are left to PETSc
  std::string yaml = d.Write("o.txt", "%YAML 1.2\n---\nsweep_N: 10\n");
  EXPECT_EQ(CheckFiles({"-options_file", yaml}), "");
  EXPECT_EQ(CheckFiles({"-options_file", "${HOSTNAME}.opts"}), "");
  // PETSC_OPTIONS is read by PETSc as well
  setenv("PETSC_OPTIONS", ("-sweep_N 5 -options_file " + missing).c_str(), 1);
  std::string env = CheckFiles({"-sweep_N", "5"});
  unsetenv("PETSC_OPTIONS");
  EXPECT_EQ(env, "-options_file: cannot open '" + missing + "': No such file or directory");
  setenv("PETSC_OPTIONS", "-options_file", 1);
  env = CheckFiles({});
  unsetenv("PETSC_OPTIONS");
  EXPECT_EQ(env, "-options_file: missing file name (in PETSC_OPTIONS)");
  // a missing file named inside another file: named, with where it was named
  std::string outer = d.Write("outer.opts", "-sweep_N 4\n-options_file " + missing + "\n");
  std::string m     = CheckFiles({"-options_file", outer});
  EXPECT_NE(m.find("cannot open '" + missing + "'"), std::string::npos) << m;
}
