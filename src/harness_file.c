/* The results file's life in a run (include/slim/private/harnessimpl.h): the size and memory
 * estimate before it exists, the lock held for the whole run, the read-only check before a
 * resume writes, creation under a temporary name, and write failures that every rank agrees on.
 *
 * Guarantees (README, "Stopping, crashes and resume"):
 *  - a second run on the same -output is refused while the first holds the lock;
 *  - a new file appears under its name only once all its tables exist (a full disk at creation
 *    leaves nothing); with -force or -sweep_merge the old file is replaced only when the run
 *    ends in order (a failed run leaves it untouched and removes its temporary file);
 *  - a resume checks the file read-only before it writes anything;
 *  - a write failure on any rank (ENOSPC) ends every rank alike, before the next collective
 *    call, with exit status SLIM_EXIT_WRITE; rows written before stay in the file.
 * The merge driver (-sweep_merge) is here too: it writes the parts into the file. */
#define _GNU_SOURCE /* fallocate, FALLOC_FL_KEEP_SIZE */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <slim/private/harnessimpl.h>
#include <slim/agree.h>

/* Below this much free space a failed write is reported as a full disk. */
#define SLIM_DISK_FULL_BYTES (1 << 20)
/* Reserved beyond the estimate: HDF5's own metadata, attributes rewritten at the end of a
 * session; a resume reserves this for its session table and attributes. */
#define SLIM_RESERVE_EXTRA (256 << 10)

/* Rank 0: takes `bytes` of disk blocks for path from offset on, without changing its size
 * (fallocate FALLOC_FL_KEEP_SIZE), so that a disk filled by others while the sweep runs cannot
 * make a write of ours fail (HDF5 does not recover from ENOSPC inside its collective flushes).
 * Filesystems without fallocate are left to the free-space check. */
static void Reserve(SlimHarness h, const char path[], PetscInt64 offset, PetscInt64 bytes, char msg[], size_t len)
{
  int fd, err = 0;

  msg[0] = 0;
  if (bytes <= 0 || (fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666)) < 0) return;
#if defined(FALLOC_FL_KEEP_SIZE)
  if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)bytes)) err = errno;
#endif
  close(fd);
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
    char need[32] = "", have[32] = "?";
    PetscInt64 space = -1;
    (void)SlimFormatBytes(bytes, need, sizeof(need));
    if (!SlimFileFreeSpace(path, &space)) (void)SlimFormatBytes(space, have, sizeof(have));
    snprintf(msg, len, "-output: cannot reserve %s on the filesystem of '%s' (%s free): %s; nothing was computed%s", need, h->output, have, strerror(err), h->resume ? "" : (h->force || h->merge[0]) ? ", the previous file is unchanged" : "");
  }
}

/* The tables of every kind, /orders, /tasks and (unless checking) this session's
 * /sessions/<k>/ranks: the same calls create a file, check a resumed one and size one. */
static PetscErrorCode DefineTables(SlimHarness h, PetscBool session)
{
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < h->nkinds; k++) PetscCall(h->kinds[k]->ops.definetables(h->kinds[k]));
  PetscCall(SlimOrdersDefine(h));
  PetscCall(SlimTasksDefine(h));
  if (session) PetscCall(SlimSessionDefine(h));
  PetscFunctionReturn(0);
}

/* Estimated file size (the definitions in SLIM_OUTPUT_ESTIMATE mode) and peak memory per rank
 * (the most demanding point, the largest array assembled before it is written, per-task
 * bookkeeping); checked against free disk and available memory unless -sweep_allow_large. */
PetscErrorCode SlimHarnessEstimate(SlimHarness h)
{
  PetscInt64 array, point;

  PetscFunctionBeginUser;
  PetscCall(SlimOutputOpen(h->comm, h->output, SLIM_OUTPUT_ESTIMATE, "-output", &h->out));
  PetscCall(DefineTables(h, PETSC_TRUE));
  PetscCall(SlimOutputGetEstimate(h->out, &h->est_bytes, &array));
  PetscCall(SlimOutputDestroy(&h->out));
  PetscCall(SlimSweepEstimateMemory(h->sw, &point));
  h->est_mem = point + array + h->ntask * (PetscInt64)(sizeof(PetscReal) + sizeof(PetscInt) + sizeof(PetscBool));
  if (h->dry_run || h->allow_large) PetscFunctionReturn(0);
  /* a resume adds only this session's table to the file */
  PetscCall(SlimCheckResources(h->comm, h->output, "-output", h->resume ? 0 : h->est_bytes, h->est_mem, "-sweep_allow_large"));
  PetscFunctionReturn(0);
}

/* -sweep_dry_run: the estimates against what this machine has (rank 0). */
PetscErrorCode SlimHarnessPrintEstimate(SlimHarness h)
{
  PetscInt64 disk, mem;
  char       a[32], b[32], c[32], d[32];

  PetscFunctionBeginUser;
  if (h->rank) PetscFunctionReturn(0);
  PetscCall(SlimFileFreeSpace(h->output, &disk));
  PetscCall(SlimMemAvailable(&mem));
  PetscCall(SlimFormatBytes(h->est_bytes, a, sizeof(a)));
  PetscCall(SlimFormatBytes(disk, b, sizeof(b)));
  PetscCall(SlimFormatBytes(h->est_mem, c, sizeof(c)));
  PetscCall(SlimFormatBytes(mem, d, sizeof(d)));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "slimsweep: dry run: the file would take about %s (%s free on the filesystem of '%s'); peak memory about %s per rank (%s available on this node); nothing was computed\n", a, b, h->output, c, d));
  PetscFunctionReturn(0);
}

/* The message of the error just caught (with PetscReturnErrorHandler pushed). */
static void ErrorText(PetscErrorCode ierr, char buf[], size_t len)
{
  const char *text     = NULL;
  char       *specific = NULL;

  (void)PetscErrorMessage(ierr, &text, &specific);
  (void)PetscStrncpy(buf, specific && specific[0] ? specific : (text ? text : "error"), len);
}

/* A failed write of this rank (its independent row writes): the first is kept, not raised, so
 * that this rank does not leave the others waiting in a collective call; the queue is stopped
 * so that every rank ends its task loop after its task in flight. */
PetscErrorCode SlimHarnessKeepWriteFailure(SlimHarness h, PetscErrorCode ierr)
{
  PetscFunctionBeginUser;
  if (!ierr || h->werr) PetscFunctionReturn(0);
  h->werr = ierr;
  ErrorText(ierr, h->werr_msg, sizeof(h->werr_msg));
  if (h->queue) PetscCall(SlimQueueStop(h->queue));
  PetscFunctionReturn(0);
}

/* Collective: if msg is not empty on some rank, every rank fails with code and the lowest such
 * rank's msg. Errors agreed on are again errors that every rank sees alike: the executable then
 * prints one line and ends every rank in order (no MPI_Abort). */
PetscErrorCode SlimHarnessAgree(SlimHarness h, PetscErrorCode code, const char msg[])
{
  int mine = msg && msg[0], any;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, h->comm));
  if (any) SlimHarnessRunning = PETSC_FALSE;
  PetscCall(SlimErrorAgreeMessage(h->comm, code, msg));
  PetscFunctionReturn(0);
}

/* Collective: a caught error of some ranks (0 elsewhere) fails every rank alike. */
PetscErrorCode SlimHarnessAgreeError(SlimHarness h, PetscErrorCode ierr)
{
  char msg[1024] = "";

  PetscFunctionBeginUser;
  if (ierr) ErrorText(ierr, msg, sizeof(msg));
  PetscCall(SlimHarnessAgree(h, ierr, msg));
  PetscFunctionReturn(0);
}

/* Collective: if any rank failed to write, every rank fails with the lowest such rank's message
 * and PETSC_ERR_FILE_WRITE, saying whether the disk is full and what became of the file. */
PetscErrorCode SlimHarnessAgreeWrites(SlimHarness h)
{
  char msg[sizeof(h->werr_msg) + 2 * PETSC_MAX_PATH_LEN + 256] = "";

  PetscFunctionBeginUser;
  if (h->werr) {
    PetscInt64 space = 0;
    (void)SlimFileFreeSpace(h->output, &space);
    PetscCall(PetscSNPrintf(msg, sizeof(msg), "%s%s; %s", h->werr_msg, space < SLIM_DISK_FULL_BYTES ? " (no space left on the filesystem)" : "",
                            !h->repl ? "rows written before are kept: free space and continue with -sweep_resume" : (h->force || h->merge[0]) ? "the previous file is unchanged" : "no file was created"));
  }
  PetscCall(SlimHarnessAgree(h, PETSC_ERR_FILE_WRITE, msg));
  PetscFunctionReturn(0);
}

/* Calls fn(h, ctx) on every rank with errors caught, then agrees on them: for the collective
 * steps that write (definitions, the end of the session, closing the file). Steps nest: an
 * independent write followed by collective calls inside fn is a step of its own, so that its
 * failure is every rank's error before they are reached. */
PetscErrorCode SlimHarnessWriteStep(SlimHarness h, PetscErrorCode (*fn)(SlimHarness, void *), void *ctx)
{
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = fn(h, ctx);
  PetscCall(PetscPopErrorHandler());
  PetscCall(SlimHarnessKeepWriteFailure(h, ierr));
  PetscCall(SlimHarnessAgreeWrites(h));
  PetscFunctionReturn(0);
}

/* The resumed file, read-only: same sweep, every table and array there with its shape. A
 * damaged or foreign file is refused before anything is written to it. */
static PetscErrorCode CheckResumable(SlimHarness h)
{
  char          *sig;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(SlimOutputOpen(h->comm, h->output, SLIM_OUTPUT_CHECK, "-output", &h->out));
  PetscCall(PetscMalloc1(SLIM_SIGNATURE_MAX, &sig));
  ierr = SlimOutputGetAttrString(h->out, "/", "sweep_signature", sig, SLIM_SIGNATURE_MAX);
  if (!ierr && strcmp(sig, h->sw->signature)) {
    size_t k = 0;
    char   have[64], want[64];
    while (sig[k] && sig[k] == h->sw->signature[k]) k++;
    while (k > 0 && sig[k - 1] != ' ') k--;
    PetscCall(PetscStrncpy(have, sig + k, sizeof(have)));
    PetscCall(PetscStrncpy(want, h->sw->signature + k, sizeof(want)));
    PetscCall(PetscFree(sig));
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "-sweep_resume: the options conflict with '%s': it has \"%s\", these options give \"%s\"", h->output, have, want);
  }
  PetscCall(PetscFree(sig));
  PetscCall(ierr);
  PetscCall(SlimSessionFind(h));
  PetscCall(DefineTables(h, PETSC_FALSE));
  PetscCall(SlimOutputDestroy(&h->out));
  PetscFunctionReturn(0);
}

/* New files: refused if the name is taken (without -force), then written under a temporary
 * name in the same directory. */
static PetscErrorCode StartNew(SlimHarness h, const char **path)
{
  char        msg[PETSC_MAX_PATH_LEN + 128] = "";
  struct stat st;

  PetscFunctionBeginUser;
  if (!h->rank && !h->force && !stat(h->output, &st)) PetscCall(PetscSNPrintf(msg, sizeof(msg), "-output: file '%s' exists; use -force to replace it or -sweep_resume to continue it", h->output));
  PetscCall(SlimErrorAgreeMessage(h->comm, PETSC_ERR_FILE_OPEN, msg));
  PetscCall(SlimReplaceCreate(h->comm, h->output, &h->repl));
  PetscCall(SlimReplaceGetTempPath(h->repl, path));
  PetscFunctionReturn(0);
}

/* Rank 0 alone (independent writes): the definition rows of a new file. */
static PetscErrorCode WriteDefinitions(SlimHarness h, void *ctx)
{
  (void)ctx;
  PetscFunctionBeginUser;
  if (h->resume || h->rank) PetscFunctionReturn(0);
  for (PetscInt k = 0; k < h->nkinds; k++)
    if (h->kinds[k]->ops.writedefinitions) PetscCall(h->kinds[k]->ops.writedefinitions(h->kinds[k]));
  PetscCall(SlimTasksWriteDefinitions(h));
  PetscFunctionReturn(0);
}

/* Everything written before the first task: definitions, provenance, this session's group.
 * Rank 0's independent writes are agreed on before the collective calls that follow. */
static PetscErrorCode Create(SlimHarness h, void *ctx)
{
  (void)ctx;
  PetscFunctionBeginUser;
  if (!h->resume) PetscCall(SlimOutputSetAttrString(h->out, "/", "sweep_signature", h->sw->signature));
  PetscCall(DefineTables(h, PETSC_TRUE));
  PetscCall(SlimHarnessWriteStep(h, WriteDefinitions, NULL));
  PetscCall(SlimSessionBegin(h));
  PetscCall(SlimOutputFlush(h->out));
  PetscFunctionReturn(0);
}

/* Locks -output, checks a resumed file, opens or creates the file and defines every table. A
 * plain new file takes its name at once (so that a kill leaves a resumable file); with -force
 * or -sweep_merge the old file is replaced by SlimHarnessCloseFile(). */
PetscErrorCode SlimHarnessOpenFile(SlimHarness h)
{
  const char *path = h->output;
  PetscBool   held;
  PetscInt64  offset  = 0;
  PetscInt64  reserve = (h->resume ? 0 : h->est_bytes + h->est_bytes / 16) + SLIM_RESERVE_EXTRA;
  char        msg[2 * PETSC_MAX_PATH_LEN + 256] = "";

  PetscFunctionBeginUser;
  PetscCall(SlimLockAcquire(h->comm, h->output, "-output", &h->lock));
  PetscCall(SlimLockHeld(h->lock, &held));
  if (held && !h->rank) PetscCall(SlimReplaceRemoveStale(h->output, NULL)); /* of killed runs */
  if (h->resume) PetscCall(CheckResumable(h));
  else PetscCall(StartNew(h, &path));
  /* the whole file's space before HDF5 writes a byte (a refusal here leaves nothing behind), and
   * again once HDF5 has created (truncated) it */
  if (!h->rank) {
    struct stat st;
    offset = h->resume && !stat(path, &st) ? (PetscInt64)st.st_size : 0;
    Reserve(h, path, offset, reserve, msg, sizeof(msg));
  }
  PetscCall(SlimHarnessAgree(h, PETSC_ERR_FILE_WRITE, msg));
  PetscCall(SlimOutputOpen(h->comm, path, h->resume ? SLIM_OUTPUT_RESUME : SLIM_OUTPUT_FORCE, "-output", &h->out));
  if (!h->rank) Reserve(h, path, offset, reserve, msg, sizeof(msg));
  PetscCall(SlimHarnessAgree(h, PETSC_ERR_FILE_WRITE, msg));
  PetscCall(SlimHarnessWriteStep(h, Create, NULL));
  if (h->repl && !h->force && !h->merge[0]) {
    PetscCall(SlimReplaceCommit(h->repl));
    PetscCall(SlimReplaceDestroy(&h->repl));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode Close(SlimHarness h, void *ctx)
{
  (void)ctx;
  PetscFunctionBeginUser;
  PetscCall(SlimOutputDestroy(&h->out));
  PetscFunctionReturn(0);
}

/* Closes the file; a file written under a temporary name replaces -output now. */
PetscErrorCode SlimHarnessCloseFile(SlimHarness h)
{
  PetscFunctionBeginUser;
  PetscCall(SlimHarnessWriteStep(h, Close, NULL));
  if (h->repl) {
    PetscCall(SlimReplaceCommit(h->repl));
    PetscCall(SlimReplaceDestroy(&h->repl));
  }
  PetscFunctionReturn(0);
}

/* Copies every finished row of every part into the output (rank 0). */
static PetscErrorCode MergeParts(SlimHarness h)
{
  char          *list, *tok, *save;
  PetscInt       nparts = 0, copied;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscStrallocpy(h->merge, &list));
  for (tok = strtok_r(list, ",", &save); tok && !ierr; tok = strtok_r(NULL, ",", &save), nparts++) {
    ierr = SlimOutputMerge(h->out, tok, h->sw->signature, "-sweep_merge", &copied);
    if (!ierr && !h->quiet) ierr = PetscPrintf(PETSC_COMM_SELF, "slimsweep: merged %s (%" PetscInt_FMT " table cells copied)\n", tok, copied);
  }
  PetscCall(PetscFree(list));
  PetscCall(ierr);
  PetscCheck(nparts > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-sweep_merge: no part files given");
  PetscFunctionReturn(0);
}

/* Collective: rank 0 copies the parts (-sweep_merge) into the file; a failure fails every rank
 * alike (the temporary file is removed, -output is untouched). */
PetscErrorCode SlimHarnessMergeParts(SlimHarness h)
{
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  if (!h->rank) {
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = MergeParts(h);
    PetscCall(PetscPopErrorHandler());
  }
  PetscCall(SlimHarnessAgreeError(h, ierr));
  PetscFunctionReturn(0);
}
