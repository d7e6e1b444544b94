/* File-system helpers (include/slim/fsutil.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <slim/agree.h>
#include <slim/fsutil.h>

PetscErrorCode SlimFileIsDirectory(const char path[], PetscBool *isdir)
{
  struct stat st;

  PetscFunctionBeginUser;
  *isdir = (PetscBool)(!stat(path, &st) && S_ISDIR(st.st_mode));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFileSame(const char a[], const char b[], PetscBool *same)
{
  struct stat sa, sb;

  PetscFunctionBeginUser;
  *same = (PetscBool)(!stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
  PetscFunctionReturn(0);
}

/* dir and base of path ("." for a bare name) */
static PetscErrorCode SplitPath(const char path[], char dir[], size_t dlen, const char **base)
{
  const char *slash = strrchr(path, '/');

  PetscFunctionBeginUser;
  if (!slash) {
    PetscCall(PetscStrncpy(dir, ".", dlen));
    *base = path;
  } else {
    size_t n = (size_t)(slash - path);
    PetscCheck(n + 1 < dlen, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "path '%s' is too long", path);
    if (!n) n = 1; /* "/x": the root */
    memcpy(dir, path, n);
    dir[n] = 0;
    *base  = slash + 1;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFileFreeSpace(const char path[], PetscInt64 *bytes)
{
  struct statvfs vfs;
  char           dir[PETSC_MAX_PATH_LEN];
  const char    *base;

  PetscFunctionBeginUser;
  if (statvfs(path, &vfs)) {
    PetscCall(SplitPath(path, dir, sizeof(dir), &base));
    PetscCheck(!statvfs(dir, &vfs), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot query the free space of '%s': %s", dir, strerror(errno));
  }
  *bytes = (PetscInt64)vfs.f_bavail * (PetscInt64)vfs.f_frsize;
  PetscFunctionReturn(0);
}

/* A number from a one-line file ("max" and unreadable files give -1). */
static PetscInt64 ReadNumber(const char file[])
{
  FILE     *f = fopen(file, "r");
  long long x = -1;
  if (!f) return -1;
  if (fscanf(f, "%lld", &x) != 1) x = -1;
  fclose(f);
  return (PetscInt64)x;
}

PetscErrorCode SlimMemAvailable(PetscInt64 *bytes)
{
  FILE     *f;
  char      line[256], cg[PETSC_MAX_PATH_LEN] = "";
  long long kb = -1;

  PetscFunctionBeginUser;
  *bytes = -1;
  if ((f = fopen("/proc/meminfo", "r"))) {
    while (fgets(line, sizeof(line), f))
      if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) break;
    fclose(f);
  }
  if (kb >= 0) *bytes = (PetscInt64)kb * 1024;
  else {
    long pages = sysconf(_SC_AVPHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psize > 0) *bytes = (PetscInt64)pages * psize;
  }
  /* cgroup v2 ("0::/path" in /proc/self/cgroup): the tightest limit - usage up the tree */
  if ((f = fopen("/proc/self/cgroup", "r"))) {
    while (fgets(line, sizeof(line), f))
      if (!strncmp(line, "0::", 3)) {
        PetscCall(PetscStrncpy(cg, line + 3, sizeof(cg)));
        cg[strcspn(cg, "\n")] = 0;
      }
    fclose(f);
  }
  while (cg[0] == '/') {
    char       file[PETSC_MAX_PATH_LEN + 64];
    PetscInt64 max, cur;
    char      *slash;
    PetscCall(PetscSNPrintf(file, sizeof(file), "/sys/fs/cgroup%s/memory.max", cg));
    max = ReadNumber(file);
    PetscCall(PetscSNPrintf(file, sizeof(file), "/sys/fs/cgroup%s/memory.current", cg));
    cur = ReadNumber(file);
    if (max >= 0 && cur >= 0) {
      PetscInt64 left = max > cur ? max - cur : 0;
      if (*bytes < 0 || left < *bytes) *bytes = left;
    }
    if (!cg[1]) break;
    slash = strrchr(cg, '/');
    if (slash == cg) cg[1] = 0; /* the root itself */
    else *slash = 0;
  }
  PetscCheck(*bytes >= 0, PETSC_COMM_SELF, PETSC_ERR_SYS, "cannot tell the available memory");
  PetscFunctionReturn(0);
}

PetscErrorCode SlimFormatBytes(PetscInt64 bytes, char buf[], size_t len)
{
  const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double      x      = (double)bytes;
  int         u      = 0;

  PetscFunctionBeginUser;
  while ((x >= 1024 || x <= -1024) && u < 6) x /= 1024, u++;
  if (!u) PetscCall(PetscSNPrintf(buf, len, "%" PetscInt64_FMT " B", bytes));
  else PetscCall(PetscSNPrintf(buf, len, "%.1f %s", x, unit[u]));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimCheckResources(MPI_Comm comm, const char path[], const char opt[], PetscInt64 file_bytes, PetscInt64 rank_mem_bytes, const char allow_opt[])
{
  MPI_Comm    node;
  PetscMPIInt rank, nrank, nsize;
  char        msg[PETSC_MAX_PATH_LEN + 512] = "", need[32], have[32];

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  /* a check that cannot be made (no such directory) is skipped: only rank 0 would fail it, and
   * opening the file then names the reason on every rank */
  if (!rank && file_bytes > 0) {
    PetscInt64     free_bytes;
    PetscErrorCode ierr;
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = SlimFileFreeSpace(path, &free_bytes);
    PetscCall(PetscPopErrorHandler());
    if (!ierr && file_bytes > free_bytes) {
      PetscCall(SlimFormatBytes(file_bytes, need, sizeof(need)));
      PetscCall(SlimFormatBytes(free_bytes, have, sizeof(have)));
      PetscCall(PetscSNPrintf(msg, sizeof(msg), "%s: the results need about %s but %s are free on the filesystem of '%s' (%s runs it anyway)", opt, need, have, path, allow_opt));
    }
  }
  /* memory: the ranks of one node share it; each node's first rank checks */
  PetscCallMPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node));
  PetscCallMPI(MPI_Comm_rank(node, &nrank));
  PetscCallMPI(MPI_Comm_size(node, &nsize));
  if (!nrank && !msg[0] && rank_mem_bytes > 0) {
    PetscInt64     avail, total = rank_mem_bytes * nsize;
    PetscErrorCode ierr;
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = SlimMemAvailable(&avail);
    PetscCall(PetscPopErrorHandler());
    if (!ierr && total > avail) {
      char host[64] = "this node", per[32];
      (void)gethostname(host, sizeof(host) - 1);
      host[sizeof(host) - 1] = 0;
      PetscCall(SlimFormatBytes(total, need, sizeof(need)));
      PetscCall(SlimFormatBytes(rank_mem_bytes, per, sizeof(per)));
      PetscCall(SlimFormatBytes(avail, have, sizeof(have)));
      PetscCall(PetscSNPrintf(msg, sizeof(msg), "%s: the sweep needs about %s of memory on host %s (%d rank(s) x %s) but %s are available (%s runs it anyway)", opt, need, host, nsize, per, have, allow_opt));
    }
  }
  PetscCallMPI(MPI_Comm_free(&node));
  PetscCall(SlimErrorAgreeMessage(comm, PETSC_ERR_MEM, msg)); /* the lowest rank that refused tells everybody */
  PetscFunctionReturn(0);
}

struct _n_SlimReplace {
  MPI_Comm  comm;
  PetscBool committed;
  char      path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN + 64], dir[PETSC_MAX_PATH_LEN];
};

PetscErrorCode SlimReplaceCreate(MPI_Comm comm, const char path[], SlimReplace *r)
{
  SlimReplace s;
  const char *base;
  PetscMPIInt rank;
  int         pid = (int)getpid();

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Bcast(&pid, 1, MPI_INT, 0, comm));
  PetscCall(PetscNew(&s));
  s->comm = comm;
  PetscCall(PetscStrncpy(s->path, path, sizeof(s->path)));
  PetscCall(SplitPath(path, s->dir, sizeof(s->dir), &base));
  PetscCheck(base[0], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "'%s' names a directory, not a file", path);
  if (strchr(path, '/')) PetscCall(PetscSNPrintf(s->tmp, sizeof(s->tmp), "%s/.%s.tmp.%d", strcmp(s->dir, "/") ? s->dir : "", base, pid));
  else PetscCall(PetscSNPrintf(s->tmp, sizeof(s->tmp), ".%s.tmp.%d", base, pid));
  if (!rank) (void)unlink(s->tmp); /* a leftover of a killed run with the same pid */
  PetscCallMPI(MPI_Barrier(comm));
  *r = s;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimReplaceGetTempPath(SlimReplace r, const char **tmp)
{
  PetscFunctionBeginUser;
  *tmp = r->tmp;
  PetscFunctionReturn(0);
}

/* fsync of a file or directory by name; errno-style result */
static int SyncPath(const char path[], int flags)
{
  int fd = open(path, flags | O_CLOEXEC), rc;
  if (fd < 0) return errno;
  rc = fsync(fd) ? errno : 0;
  if (rc == EINVAL || rc == EROFS) rc = 0; /* directories on some filesystems cannot be synced */
  close(fd);
  return rc;
}

PetscErrorCode SlimReplaceCommit(SlimReplace r)
{
  PetscMPIInt rank;
  char        msg[2 * PETSC_MAX_PATH_LEN + 128] = "";

  PetscFunctionBeginUser;
  PetscCheck(!r->committed, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "'%s' was already committed", r->path);
  PetscCallMPI(MPI_Comm_rank(r->comm, &rank));
  PetscCallMPI(MPI_Barrier(r->comm)); /* every rank has closed the temporary file */
  if (!rank) {
    int err;
    if ((err = SyncPath(r->tmp, O_RDONLY))) snprintf(msg, sizeof(msg), "cannot write '%s' to disk: %s", r->tmp, strerror(err));
    else if (rename(r->tmp, r->path)) snprintf(msg, sizeof(msg), "cannot rename '%s' to '%s': %s", r->tmp, r->path, strerror(errno));
    else if ((err = SyncPath(r->dir, O_RDONLY | O_DIRECTORY))) snprintf(msg, sizeof(msg), "cannot write the directory '%s' to disk: %s", r->dir, strerror(err));
  }
  PetscCall(SlimErrorAgreeMessage(r->comm, PETSC_ERR_FILE_WRITE, msg));
  r->committed = PETSC_TRUE;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimReplaceDestroy(SlimReplace *r)
{
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  if (!*r) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Comm_rank((*r)->comm, &rank));
  if (!(*r)->committed && !rank) (void)unlink((*r)->tmp);
  PetscCall(PetscFree(*r));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimReplaceRemoveStale(const char path[], PetscInt *nremoved)
{
  char           dir[PETSC_MAX_PATH_LEN], prefix[PETSC_MAX_PATH_LEN + 8], file[2 * PETSC_MAX_PATH_LEN + 8];
  const char    *base;
  DIR           *d;
  struct dirent *e;
  size_t         pl;

  PetscFunctionBeginUser;
  if (nremoved) *nremoved = 0;
  PetscCall(SplitPath(path, dir, sizeof(dir), &base));
  PetscCall(PetscSNPrintf(prefix, sizeof(prefix), ".%s.tmp.", base));
  pl = strlen(prefix);
  if (!(d = opendir(dir))) PetscFunctionReturn(0);
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, prefix, pl) || !e->d_name[pl] || strspn(e->d_name + pl, "0123456789") != strlen(e->d_name + pl)) continue;
    PetscCall(PetscSNPrintf(file, sizeof(file), "%s/%s", dir, e->d_name));
    if (!unlink(file) && nremoved) (*nremoved)++;
  }
  closedir(d);
  PetscFunctionReturn(0);
}
