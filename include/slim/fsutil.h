#pragma once
/* File-system helpers for results files: checks before any work (a path that is a directory, an
 * output that is also an input, free disk space and available memory against an estimate),
 * byte counts for messages, and SlimReplace, which writes a file under a temporary name and
 * renames it over the old one only once it is complete, so that a failed run (-force, a merge)
 * never destroys a finished file. */
#include <petscsys.h>

/* Whether path names a directory (PETSC_FALSE if nothing is there). */
PETSC_EXTERN PetscErrorCode SlimFileIsDirectory(const char path[], PetscBool *isdir);
/* Whether a and b name the same file (same device and inode: hard and symbolic links, "./x"
 * and "x" alike); PETSC_FALSE if either does not exist. */
PETSC_EXTERN PetscErrorCode SlimFileSame(const char a[], const char b[], PetscBool *same);
/* Bytes this user may still write on the filesystem that holds path (its directory if path
 * does not exist yet): statvfs() f_bavail * f_frsize. */
PETSC_EXTERN PetscErrorCode SlimFileFreeSpace(const char path[], PetscInt64 *bytes);
/* Memory this process can still use: MemAvailable of /proc/meminfo (sysconf() elsewhere),
 * capped by the limit of its cgroup v2 and of every parent (a batch job's allocation). */
PETSC_EXTERN PetscErrorCode SlimMemAvailable(PetscInt64 *bytes);
/* A byte count for messages: "512 B", "1.5 KiB", "60.0 GiB". */
PETSC_EXTERN PetscErrorCode SlimFormatBytes(PetscInt64 bytes, char buf[], size_t len);
/* Collective: refuses, on every rank alike and before any work, a run whose estimate does not
 * fit: file_bytes more on the filesystem of path (checked by rank 0), or rank_mem_bytes of peak
 * memory per rank times the ranks sharing a node (checked on every node). The one line gives the
 * estimate against what is free and names opt ("-output") and allow_opt, the option that runs
 * it anyway:
 *   "-output: the results need about 55.9 GiB but 12.3 GiB are free on the filesystem of 'x.h5'
 *    (-sweep_allow_large runs it anyway)" */
PETSC_EXTERN PetscErrorCode SlimCheckResources(MPI_Comm comm, const char path[], const char opt[], PetscInt64 file_bytes, PetscInt64 rank_mem_bytes, const char allow_opt[]);

/* SlimReplace: collective on comm. Create names a temporary file ".<name>.tmp.<pid of rank 0>"
 * in the directory of path (so the final rename stays on one filesystem and is atomic); the
 * caller writes the temporary path (all ranks get the same name), closes it, then Commit
 * flushes it to disk, renames it over path and flushes the directory: path is either the old
 * file or the complete new one, at every instant and after a crash. Destroy without Commit
 * removes the temporary file (a failed merge or -force run leaves no stub). */
typedef struct _n_SlimReplace *SlimReplace;

PETSC_EXTERN PetscErrorCode SlimReplaceCreate(MPI_Comm comm, const char path[], SlimReplace *r);
PETSC_EXTERN PetscErrorCode SlimReplaceGetTempPath(SlimReplace r, const char **tmp);
PETSC_EXTERN PetscErrorCode SlimReplaceCommit(SlimReplace r);
PETSC_EXTERN PetscErrorCode SlimReplaceDestroy(SlimReplace *r);
/* Removes the temporary files of path that killed runs left behind (".<name>.tmp.*"). Only safe
 * with path's SlimLock held, which proves that no live run is writing them. Not collective. */
PETSC_EXTERN PetscErrorCode SlimReplaceRemoveStale(const char path[], PetscInt *nremoved);
