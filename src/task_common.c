/* What every task kind shares (include/slim/private/harnessimpl.h): its log stage, its data, a
 * caught error turned into a typed failure, a stop that abandons the task, and writes from
 * inside ops.run whose failure is kept for the harness's next agreement. */
#include <stdarg.h>
#include <slim/log.h>
#include <slim/private/harnessimpl.h>

PetscErrorCode SlimTaskKindSetStage(SlimTaskKind k, const char name[])
{
  PetscFunctionBeginUser;
  PetscCall(SlimLogStageGet(name, &k->stage));
  /* touched on every rank so -log_view names it, whoever ran what */
  PetscCall(PetscLogStagePush(k->stage));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}

PetscErrorCode SlimTaskKindDestroyData(SlimTaskKind k)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(k->data));
  PetscFunctionReturn(0);
}

PetscBool SlimTaskAbandoned(SlimTaskFailure *fail)
{
  if (!SlimPollStopRequested()) return PETSC_FALSE;
  SlimTaskFailureSet(fail, SLIM_TASK_ABANDONED, SLIM_ERR_STOPPED, "stopped by signal");
  return PETSC_TRUE;
}

void SlimTaskFailureSet(SlimTaskFailure *f, SlimTaskFailureType type, PetscErrorCode ierr, const char msg[])
{
  f->type = type;
  f->ierr = ierr;
  PetscStrncpy(f->msg, type == SLIM_TASK_PETSC_ERROR ? "a PETSc error: " : "", sizeof(f->msg));
  PetscStrlcat(f->msg, msg, sizeof(f->msg));
}

PetscErrorCode SlimTaskCaught(SlimTaskKind k, PetscErrorCode ierr, const SlimCatch *c, SlimTaskFailure *fail, const char fmt[], ...)
{
  char    what[256];
  va_list ap;

  PetscFunctionBeginUser;
  if (!ierr) PetscFunctionReturn(0);
  if (!SlimPollStopRequested()) { /* a stop abandons the task: not a failure */
    size_t         len;
    PetscErrorCode perr;
    va_start(ap, fmt);
    perr = PetscVSNPrintf(what, sizeof(what), fmt, &len, ap);
    va_end(ap);
    PetscCall(perr);
    PetscCall(PetscFPrintf(PETSC_COMM_SELF, stderr, "slimsweep: [rank %d] %s failed: %s\n", k->h->rank, what, c->msg));
  }
  SlimTaskFailureSet(fail, SLIM_TASK_PETSC_ERROR, ierr, c->msg);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimTaskWrite(SlimTaskKind k, PetscErrorCode (*write)(SlimTaskKind, PetscInt, void *), PetscInt t, void *ctx)
{
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  if (k->h->werr) PetscFunctionReturn(0); /* after a failure nothing more is written */
  PetscCall(PetscLogStagePush(k->h->stage_output));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = k->ops.flush ? 0 : SlimTasksWriteRunning(k->h); /* accounting before the commit */
  if (!ierr) ierr = write(k, t, ctx);
  PetscCall(PetscPopErrorHandler());
  PetscCall(PetscLogStagePop());
  PetscCall(SlimHarnessKeepWriteFailure(k->h, ierr));
  PetscFunctionReturn(0);
}
