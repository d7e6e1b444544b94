/* SlimLock (include/slim/lock.h). */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <slim/agree.h>
#include <slim/lock.h>

/* Open-file-description locks conflict even between two opens in one process and are not
 * dropped when some other descriptor of the file is closed; classic POSIX locks otherwise. */
#if defined(F_OFD_SETLK)
  #define SLIM_SETLK F_OFD_SETLK
#else
  #define SLIM_SETLK F_SETLK
#endif

struct _n_SlimLock {
  MPI_Comm  comm;
  int       fd;   /* rank 0: the locked lock file; -1 elsewhere or unlocked */
  PetscBool held;
  char      path[PETSC_MAX_PATH_LEN + 8];
};

/* "pid 123 on host node07", as written by the holder (empty if it has not written it yet) */
static void Holder(int fd, char buf[], size_t len)
{
  char    raw[256];
  ssize_t n = pread(fd, raw, sizeof(raw) - 1, 0);
  long    pid;
  char    host[200];

  buf[0] = 0;
  if (n <= 0) return;
  raw[n] = 0;
  if (sscanf(raw, "%ld %199s", &pid, host) == 2) snprintf(buf, len, " (pid %ld on host %s)", pid, host);
}

/* Rank 0's part; a refusal or failure is written to msg (empty on success). */
static void Take(SlimLock l, const char path[], const char opt[], char msg[], size_t len)
{
  msg[0] = 0;
  for (int attempt = 0; attempt < 16; attempt++) {
    struct flock fl;
    struct stat  a, b;
    int          fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0) {
      snprintf(msg, len, "%s: cannot create the lock file '%s' of '%s': %s", opt, l->path, path, strerror(errno));
      return;
    }
    memset(&fl, 0, sizeof(fl));
    fl.l_type   = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, SLIM_SETLK, &fl)) {
      int err = errno;
      if (err == EACCES || err == EAGAIN) {
        char who[256];
        Holder(fd, who, sizeof(who));
        snprintf(msg, len, "%s: another run%s is writing '%s' (lock file '%s'); wait for it to end or choose another %s", opt, who, path, l->path, opt);
      } else if (err == ENOLCK || err == ENOSYS || err == EOPNOTSUPP || err == EINVAL) {
        close(fd); /* no locks on this filesystem: go on unlocked */
        (void)unlink(l->path);
        return;
      } else snprintf(msg, len, "%s: cannot lock '%s': %s", opt, l->path, strerror(err));
      close(fd);
      return;
    }
    /* a releasing holder removes the file: what we locked must still be the file at the path */
    if (fstat(fd, &a) || stat(l->path, &b) || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
      close(fd);
      continue;
    }
    {
      char host[128] = "unknown", line[200];
      int  n;
      (void)gethostname(host, sizeof(host) - 1);
      host[sizeof(host) - 1] = 0;
      n                      = snprintf(line, sizeof(line), "%ld %s\n", (long)getpid(), host);
      if (ftruncate(fd, 0) || pwrite(fd, line, (size_t)n, 0) != n) { /* informative only */
      }
    }
    l->fd   = fd;
    l->held = PETSC_TRUE;
    return;
  }
  snprintf(msg, len, "%s: cannot lock '%s': it keeps being replaced", opt, l->path);
}

PetscErrorCode SlimLockAcquire(MPI_Comm comm, const char path[], const char opt[], SlimLock *lock)
{
  SlimLock    l;
  PetscMPIInt rank;
  char           msg[2 * PETSC_MAX_PATH_LEN + 256];
  PetscBool      held;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *lock = NULL;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscNew(&l));
  l->comm = comm;
  l->fd   = -1;
  PetscCall(PetscSNPrintf(l->path, sizeof(l->path), "%s.lock", path));
  msg[0] = 0;
  if (!rank) Take(l, path, opt, msg, sizeof(msg));
  held = l->held;
  PetscCallMPI(MPI_Bcast(&held, 1, MPIU_BOOL, 0, comm));
  ierr = SlimErrorAgreeMessage(comm, PETSC_ERR_FILE_OPEN, msg); /* refused on every rank alike */
  if (ierr) PetscCall(PetscFree(l));
  PetscCall(ierr);
  l->held = held;
  *lock   = l;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimLockRelease(SlimLock *lock)
{
  PetscFunctionBeginUser;
  if (!*lock) PetscFunctionReturn(0);
  if ((*lock)->fd >= 0) {
    /* remove while still locked: whoever opened the old file re-checks and retries */
    (void)unlink((*lock)->path);
    (void)close((*lock)->fd);
  }
  PetscCall(PetscFree(*lock));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimLockHeld(SlimLock lock, PetscBool *held)
{
  PetscFunctionBeginUser;
  *held = lock->held;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimLockGetPath(SlimLock lock, const char **lockpath)
{
  PetscFunctionBeginUser;
  *lockpath = lock->path;
  PetscFunctionReturn(0);
}
