/* SlimPoll (include/slim/poll.h). */
#include <signal.h>
#include <time.h>
#include <slim/poll.h>

static SlimPollFn            poll_fn;
static void                 *poll_ctx;
static PetscInt              poll_every = 256, poll_count;
static volatile sig_atomic_t stop_requested;
static PetscBool             stop_check;
static struct timespec       stop_time; /* when the first stop was requested */

PetscErrorCode SlimPollSet(SlimPollFn fn, void *ctx, PetscInt every)
{
  PetscFunctionBeginUser;
  PetscCheck(every >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "poll interval %" PetscInt_FMT " must be >= 1", every);
  poll_fn    = fn;
  poll_ctx   = ctx;
  poll_every = every;
  poll_count = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimPoll(void)
{
  PetscFunctionBeginUser;
  if (stop_check && stop_requested) SETERRQ(PETSC_COMM_SELF, SLIM_ERR_STOPPED, "stopped by signal");
  if (poll_fn && ++poll_count >= poll_every) {
    poll_count = 0;
    PetscCall(poll_fn(poll_ctx));
  }
  PetscFunctionReturn(0);
}

void SlimPollRequestStop(void)
{
  /* clock_gettime is async-signal-safe; the first request's time is the one that counts */
  if (!stop_requested) clock_gettime(CLOCK_MONOTONIC, &stop_time);
  stop_requested = 1;
}

PetscReal SlimPollStopElapsed(void)
{
  struct timespec now;

  if (!stop_requested) return -1;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (PetscReal)(now.tv_sec - stop_time.tv_sec) + 1e-9 * (PetscReal)(now.tv_nsec - stop_time.tv_nsec);
}

PetscBool SlimPollStopRequested(void)
{
  return stop_requested ? PETSC_TRUE : PETSC_FALSE;
}

void SlimPollClearStop(void)
{
  stop_requested = 0;
}

PetscErrorCode SlimPollSetStopCheck(PetscBool check)
{
  PetscFunctionBeginUser;
  stop_check = check;
  PetscFunctionReturn(0);
}
