// Tests of SlimLock (src/lock.c): a second holder -- another process, or another open in this
// one -- is refused with a message naming the option, the path and the holder's pid; the lock
// dies with its holder (SIGKILL included) and a lock file left behind blocks nothing.
#include <gtest/gtest.h>
#include <petscsys.h>
#include <slim/lock.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <string>

#include "testing.h"

using slimtest::Exists;
using slimtest::LastError;
using slimtest::QuietErrors;
using slimtest::TempDir;

namespace
{

// A child process that takes the lock of path, reports through a pipe and waits to be killed.
// It makes no MPI calls (SlimLockAcquire on PETSC_COMM_SELF only broadcasts to itself).
pid_t Holder(const std::string &path)
{
  int   fds[2];
  char  ok = 0;
  EXPECT_EQ(0, pipe(fds));
  pid_t pid = fork();
  if (!pid) {
    SlimLock l = NULL;
    char     c = SlimLockAcquire(PETSC_COMM_SELF, path.c_str(), "-output", &l) ? 'n' : 'y';
    if (write(fds[1], &c, 1) != 1) _exit(2);
    while (1) pause();
  }
  close(fds[1]);
  EXPECT_EQ(1, read(fds[0], &ok, 1));
  close(fds[0]);
  EXPECT_EQ('y', ok);
  return pid;
}
} // namespace

TEST(Lock, SecondProcessRefusedUntilHolderDies)
{
  TempDir     d;
  std::string path = d.path + "/results.h5";
  pid_t       pid  = Holder(path);
  {
    QuietErrors    q;
    SlimLock       l    = NULL;
    PetscErrorCode ierr = SlimLockAcquire(PETSC_COMM_SELF, path.c_str(), "-output", &l);
    std::string    m    = LastError(ierr);
    EXPECT_NE(0, ierr);
    EXPECT_EQ(nullptr, l);
    EXPECT_EQ(0u, m.find("-output: another run (pid " + std::to_string(pid) + " on host ")) << m;
    EXPECT_NE(m.find("'" + path + "'"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m; // one line
  }
  // SIGKILL: no cleanup runs, the lock file stays, yet the kernel has dropped the lock
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  EXPECT_TRUE(Exists(path + ".lock"));
  SlimLock  l = NULL;
  PetscBool held;
  ASSERT_EQ(0, SlimLockAcquire(PETSC_COMM_SELF, path.c_str(), "-output", &l));
  ASSERT_EQ(0, SlimLockHeld(l, &held));
  EXPECT_TRUE(held);
  ASSERT_EQ(0, SlimLockRelease(&l));
  EXPECT_EQ(nullptr, l);
  EXPECT_FALSE(Exists(path + ".lock")); // a normal release cleans up
}

TEST(Lock, HolderRefusesOthersAndReleases)
{
  TempDir     d;
  std::string path = d.path + "/r.h5";
  SlimLock    a = NULL, b = NULL;
  const char *lp;
  ASSERT_EQ(0, SlimLockAcquire(PETSC_COMM_SELF, path.c_str(), "-output", &a));
  ASSERT_EQ(0, SlimLockGetPath(a, &lp));
  EXPECT_EQ(std::string(lp), path + ".lock");
  // a child process is refused while we hold it
  pid_t pid = fork();
  if (!pid) {
    PetscPushErrorHandler(PetscReturnErrorHandler, NULL);
    SlimLock c = NULL;
    _exit(SlimLockAcquire(PETSC_COMM_SELF, path.c_str(), "-output", &c) ? 0 : 1);
  }
  int status = -1;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a second process took a held lock";
#if !defined(F_OFD_SETLK)
  #error "F_OFD_SETLK: Linux >= 3.15 and glibc >= 2.20 have open-file-description locks"
#endif
  { // open-file-description locks: a second open in the same process conflicts too
    QuietErrors q;
    EXPECT_NE(0, SlimLockAcquire(PETSC_COMM_SELF, path.c_str(), "-output", &b));
  }
  ASSERT_EQ(0, SlimLockRelease(&a));
  ASSERT_EQ(0, SlimLockAcquire(PETSC_COMM_SELF, path.c_str(), "-output", &b));
  ASSERT_EQ(0, SlimLockRelease(&b));
  ASSERT_EQ(0, SlimLockRelease(&b)); // NULL: no-op
}

TEST(Lock, UncreatableLockFileIsOneLine)
{
  QuietErrors    q;
  SlimLock       l    = NULL;
  PetscErrorCode ierr = SlimLockAcquire(PETSC_COMM_SELF, "/nonexistent-dir/x.h5", "-output", &l);
  std::string    m    = LastError(ierr);
  EXPECT_NE(0, ierr);
  EXPECT_EQ(0u, m.find("-output: cannot create the lock file '/nonexistent-dir/x.h5.lock'")) << m;
}
