// Tests of the file-system helpers (src/fsutil.c): SlimReplace keeps the old file until the new
// one is committed and leaves nothing behind when abandoned; same-file and directory checks;
// free space and available memory agree with the system's own numbers; byte formatting.
#include <gtest/gtest.h>
#include <petscsys.h>
#include <slim/fsutil.h>

#include <sys/statvfs.h>

#include <fstream>
#include <string>

#include "testing.h"

using slimtest::Exists;
using slimtest::TempDir;

namespace
{
void Write(const std::string &p, const std::string &text) { std::ofstream(p, std::ios::binary) << text; }

std::string Read(const std::string &p) { return slimtest::ReadFile(p); }

std::string Format(PetscInt64 b)
{
  char buf[64];
  EXPECT_EQ(0, SlimFormatBytes(b, buf, sizeof buf));
  return buf;
}
} // namespace

TEST(FsUtil, ReplaceCommitAndAbort)
{
  TempDir     d;
  std::string path = d.path + "/results.h5";
  Write(path, "old complete file");

  // abandoned (a failed merge or -force run): the old file is untouched, no temporary is left
  SlimReplace r = NULL;
  const char *tmp;
  ASSERT_EQ(0, SlimReplaceCreate(PETSC_COMM_WORLD, path.c_str(), &r));
  ASSERT_EQ(0, SlimReplaceGetTempPath(r, &tmp));
  std::string t = tmp;
  EXPECT_EQ(t, d.path + "/.results.h5.tmp." + std::to_string(getpid())); // same directory
  Write(t, "half-written");
  EXPECT_EQ(Read(path), "old complete file");
  ASSERT_EQ(0, SlimReplaceDestroy(&r));
  EXPECT_FALSE(Exists(t));
  EXPECT_EQ(Read(path), "old complete file");

  // committed: the new content replaces the old one at once, the temporary name is gone
  ASSERT_EQ(0, SlimReplaceCreate(PETSC_COMM_WORLD, path.c_str(), &r));
  ASSERT_EQ(0, SlimReplaceGetTempPath(r, &tmp));
  t = tmp;
  Write(t, "new complete file");
  EXPECT_EQ(Read(path), "old complete file");
  ASSERT_EQ(0, SlimReplaceCommit(r));
  ASSERT_EQ(0, SlimReplaceDestroy(&r));
  EXPECT_EQ(Read(path), "new complete file");
  EXPECT_FALSE(Exists(t));
}

TEST(FsUtil, ReplaceBareNameAndStaleTemporaries)
{
  TempDir     d;
  char        cwd[4096];
  SlimReplace r = NULL;
  const char *tmp;
  PetscInt    n;

  ASSERT_NE(nullptr, getcwd(cwd, sizeof cwd));
  ASSERT_EQ(0, chdir(d.path.c_str()));
  ASSERT_EQ(0, SlimReplaceCreate(PETSC_COMM_WORLD, "x.h5", &r));
  ASSERT_EQ(0, SlimReplaceGetTempPath(r, &tmp));
  EXPECT_EQ(std::string(tmp), ".x.h5.tmp." + std::to_string(getpid()));
  Write(tmp, "new");
  ASSERT_EQ(0, SlimReplaceCommit(r));
  ASSERT_EQ(0, SlimReplaceDestroy(&r));
  EXPECT_EQ(Read("x.h5"), "new");
  ASSERT_EQ(0, chdir(cwd));

  // killed runs' temporaries are removed; other files, even similar names, are not
  for (const char *f : {"/.x.h5.tmp.123", "/.x.h5.tmp.99999", "/.x.h5.tmp.12a", "/.y.h5.tmp.1", "/x.h5.tmp.5"}) Write(d.path + f, "stale");
  ASSERT_EQ(0, SlimReplaceRemoveStale((d.path + "/x.h5").c_str(), &n));
  EXPECT_EQ(2, n);
  EXPECT_FALSE(Exists(d.path + "/.x.h5.tmp.123"));
  EXPECT_TRUE(Exists(d.path + "/.x.h5.tmp.12a"));
  EXPECT_TRUE(Exists(d.path + "/.y.h5.tmp.1"));
  EXPECT_TRUE(Exists(d.path + "/x.h5.tmp.5"));
  EXPECT_TRUE(Exists(d.path + "/x.h5"));
}

TEST(FsUtil, SameFileAndDirectory)
{
  TempDir     d;
  std::string a = d.path + "/a.h5", b = d.path + "/b.h5";
  PetscBool   same, dir;
  Write(a, "a");
  Write(b, "a"); // same content, other file
  ASSERT_EQ(0, symlink(a.c_str(), (d.path + "/link.h5").c_str()));
  ASSERT_EQ(0, link(a.c_str(), (d.path + "/hard.h5").c_str()));
  ASSERT_EQ(0, SlimFileSame(a.c_str(), (d.path + "/./a.h5").c_str(), &same));
  EXPECT_TRUE(same);
  ASSERT_EQ(0, SlimFileSame(a.c_str(), (d.path + "/link.h5").c_str(), &same));
  EXPECT_TRUE(same);
  ASSERT_EQ(0, SlimFileSame(a.c_str(), (d.path + "/hard.h5").c_str(), &same));
  EXPECT_TRUE(same);
  ASSERT_EQ(0, SlimFileSame(a.c_str(), b.c_str(), &same));
  EXPECT_FALSE(same);
  ASSERT_EQ(0, SlimFileSame(a.c_str(), (d.path + "/none.h5").c_str(), &same));
  EXPECT_FALSE(same);

  ASSERT_EQ(0, SlimFileIsDirectory(d.path.c_str(), &dir));
  EXPECT_TRUE(dir);
  ASSERT_EQ(0, SlimFileIsDirectory(a.c_str(), &dir));
  EXPECT_FALSE(dir);
  ASSERT_EQ(0, SlimFileIsDirectory((d.path + "/none").c_str(), &dir));
  EXPECT_FALSE(dir);
}

TEST(FsUtil, FreeSpaceAndMemory)
{
  TempDir        d;
  struct statvfs v;
  PetscInt64     free1, free2, mem;
  ASSERT_EQ(0, statvfs(d.path.c_str(), &v));
  ASSERT_EQ(0, SlimFileFreeSpace(d.path.c_str(), &free1));
  ASSERT_EQ(0, SlimFileFreeSpace((d.path + "/not-yet.h5").c_str(), &free2)); // its directory
  const double expect = (double)v.f_bavail * (double)v.f_frsize;
  EXPECT_NEAR((double)free1, expect, 64e6 + 0.01 * expect); // other engineers write meanwhile
  EXPECT_NEAR((double)free2, (double)free1, 64e6 + 0.01 * expect);
  EXPECT_GT(free1, 0);

  ASSERT_EQ(0, SlimMemAvailable(&mem));
  long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
  EXPECT_GT(mem, 16 << 20); // this test binary runs, so some memory is free
  EXPECT_LE((double)mem, (double)pages * (double)psize);
}

TEST(FsUtil, ResourceEstimateRefusal)
{
  TempDir     d;
  std::string path = d.path + "/big.h5";
  PetscInt64  free_bytes, mem;
  ASSERT_EQ(0, SlimFileFreeSpace(path.c_str(), &free_bytes));
  ASSERT_EQ(0, SlimMemAvailable(&mem));
  // fits: a small file and a little memory
  EXPECT_EQ(0, SlimCheckResources(PETSC_COMM_WORLD, path.c_str(), "-output", 1 << 20, 1 << 20, "-sweep_allow_large"));
  EXPECT_EQ(0, SlimCheckResources(PETSC_COMM_WORLD, path.c_str(), "-output", 0, 0, "-sweep_allow_large"));
  slimtest::QuietErrors q;
  // twice the free disk: refused with the estimate, the free space, the path and the way out
  PetscErrorCode ierr = SlimCheckResources(PETSC_COMM_WORLD, path.c_str(), "-output", 2 * free_bytes + (1LL << 30), 0, "-sweep_allow_large");
  std::string    m    = slimtest::LastError(ierr);
  EXPECT_NE(0, ierr);
  EXPECT_EQ(0u, m.find("-output: the results need about ")) << m;
  EXPECT_NE(m.find("are free on the filesystem of '" + path + "' (-sweep_allow_large runs it anyway)"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos);
  EXPECT_FALSE(Exists(path)); // nothing was created
  // more memory than is available
  ierr = SlimCheckResources(PETSC_COMM_WORLD, path.c_str(), "-sweep_B", 0, 2 * mem + (1LL << 30), "-sweep_allow_large");
  m    = slimtest::LastError(ierr);
  EXPECT_NE(0, ierr);
  EXPECT_EQ(0u, m.find("-sweep_B: the sweep needs about ")) << m;
  EXPECT_NE(m.find("of memory on host "), std::string::npos) << m;
  EXPECT_NE(m.find("are available (-sweep_allow_large runs it anyway)"), std::string::npos) << m;
}

TEST(FsUtil, FormatBytes)
{
  EXPECT_EQ(Format(0), "0 B");
  EXPECT_EQ(Format(1023), "1023 B");
  EXPECT_EQ(Format(1536), "1.5 KiB");
  EXPECT_EQ(Format(60LL << 30), "60.0 GiB");
  EXPECT_EQ(Format(2000000000LL), "1.9 GiB");
  EXPECT_EQ(Format(34LL * 1000 * 1000 * 1000), "31.7 GiB");
  EXPECT_EQ(Format(3LL << 40), "3.0 TiB");
}
