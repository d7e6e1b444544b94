#pragma once
/* SlimLock: an exclusive lock on a results path held for a whole run, so that a second run
 * writing the same file (with or without -force, or a second -sweep_resume) is refused with one
 * line instead of both corrupting it.
 *
 * The lock is an fcntl() record lock (open-file-description lock where the kernel has them) on
 * a lock file "<path>.lock" beside the results file, not on the results file itself: a file
 * written under a temporary name and renamed at the end (SlimReplace, include/slim/fsutil.h)
 * changes inode, which a lock on the file would not follow. The kernel drops the lock when its
 * process ends in any way, SIGKILL included, so a lock file left behind by a killed run blocks
 * nothing; a normal release removes it. The lock file holds the holder's pid and host, which
 * the refusal names. fcntl() locks work across nodes on NFS (lockd/NFSv4) and Lustre/GPFS
 * mounted with locking; on a filesystem without locks the run goes on unlocked
 * (SlimLockHeld() says so) rather than being refused. */
#include <petscsys.h>

typedef struct _n_SlimLock *SlimLock;

/* Collective on comm: rank 0 takes the lock of path, without waiting; if another process holds
 * it every rank fails alike with "<opt>: another run (pid P on host H) is writing 'path' ...". */
PETSC_EXTERN PetscErrorCode SlimLockAcquire(MPI_Comm comm, const char path[], const char opt[], SlimLock *lock);
/* Every rank: rank 0 removes the lock file and releases the lock; NULL is a no-op. */
PETSC_EXTERN PetscErrorCode SlimLockRelease(SlimLock *lock);
/* Whether the lock is really held (PETSC_FALSE on a filesystem without fcntl() locks). */
PETSC_EXTERN PetscErrorCode SlimLockHeld(SlimLock lock, PetscBool *held);
/* The lock file's path ("<path>.lock"). */
PETSC_EXTERN PetscErrorCode SlimLockGetPath(SlimLock lock, const char **lockpath);
