/* SlimQueue: MPI-3 atomic counter over a cost-sorted task list (include/slim/queue.h). */
#include <stdlib.h>
#include <slim/queue.h>

/* window slots on rank 0 */
enum { SLOT_NEXT, SLOT_DONE, SLOT_COST, SLOT_STOP, NSLOT };
/* costs are accumulated as integers (atomics on int64 are universally supported) */
#define COST_SCALE 1e6

struct _n_SlimQueue {
  MPI_Comm  comm;
  MPI_Win   win;
  PetscInt64 *base;
  PetscInt  n;
};

PetscErrorCode SlimQueueCreate(MPI_Comm comm, PetscInt n, SlimQueue *qout)
{
  SlimQueue   q;
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&q));
  q->comm = comm;
  q->n    = n;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Win_allocate(rank ? 0 : NSLOT * sizeof(PetscInt64), sizeof(PetscInt64), MPI_INFO_NULL, comm, &q->base, &q->win));
  if (!rank)
    for (int i = 0; i < NSLOT; i++) q->base[i] = 0;
  PetscCallMPI(MPI_Barrier(comm));
  *qout = q;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimQueueDestroy(SlimQueue *q)
{
  PetscFunctionBeginUser;
  if (!*q) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Win_free(&(*q)->win));
  PetscCall(PetscFree(*q));
  PetscFunctionReturn(0);
}

static PetscErrorCode FetchAdd(SlimQueue q, int slot, PetscInt64 add, PetscInt64 *old)
{
  PetscInt64 res;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, q->win));
  PetscCallMPI(MPI_Fetch_and_op(&add, &res, MPI_INT64_T, 0, slot, MPI_SUM, q->win));
  PetscCallMPI(MPI_Win_unlock(0, q->win));
  if (old) *old = res;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimQueueNext(SlimQueue q, PetscInt *pos)
{
  PetscInt64 stop, next;

  PetscFunctionBeginUser;
  PetscCall(FetchAdd(q, SLOT_STOP, 0, &stop));
  *pos = -1;
  if (stop) PetscFunctionReturn(0);
  PetscCall(FetchAdd(q, SLOT_NEXT, 1, &next));
  if (next < q->n) *pos = (PetscInt)next;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimQueueDone(SlimQueue q, PetscReal cost)
{
  PetscFunctionBeginUser;
  PetscCall(FetchAdd(q, SLOT_DONE, 1, NULL));
  PetscCall(FetchAdd(q, SLOT_COST, (PetscInt64)(cost * COST_SCALE), NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimQueueStop(SlimQueue q)
{
  PetscFunctionBeginUser;
  PetscCall(FetchAdd(q, SLOT_STOP, 1, NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimQueueProgress(SlimQueue q, PetscInt *done, PetscReal *cost, PetscBool *stop)
{
  PetscInt64 d, c, s;

  PetscFunctionBeginUser;
  PetscCall(FetchAdd(q, SLOT_DONE, 0, &d));
  PetscCall(FetchAdd(q, SLOT_COST, 0, &c));
  PetscCall(FetchAdd(q, SLOT_STOP, 0, &s));
  if (done) *done = (PetscInt)d;
  if (cost) *cost = c / COST_SCALE;
  if (stop) *stop = s ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

static const PetscReal *sort_cost;
static int CmpCost(const void *a, const void *b)
{
  PetscInt i = *(const PetscInt *)a, j = *(const PetscInt *)b;
  if (sort_cost[i] != sort_cost[j]) return sort_cost[i] > sort_cost[j] ? -1 : 1;
  return (i > j) - (i < j);
}

PetscErrorCode SlimScheduleOrder(PetscInt n, const PetscReal cost[], PetscInt order[])
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < n; i++) order[i] = i;
  sort_cost = cost;
  qsort(order, (size_t)n, sizeof(PetscInt), CmpCost);
  sort_cost = NULL;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimScheduleSimulate(PetscInt n, const PetscInt order[], const PetscReal cost[], PetscInt P, PetscReal *makespan, PetscReal busy[])
{
  PetscReal *freeat;

  PetscFunctionBeginUser;
  PetscCheck(P >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "rank count %" PetscInt_FMT " must be >= 1", P);
  PetscCall(PetscCalloc1(P, &freeat));
  /* a binary heap would be O(n log P); a linear scan is fine for the sizes simulated here */
  for (PetscInt k = 0; k < n; k++) {
    PetscInt best = 0;
    for (PetscInt p = 1; p < P; p++)
      if (freeat[p] < freeat[best]) best = p;
    freeat[best] += cost[order[k]];
  }
  *makespan = 0;
  for (PetscInt p = 0; p < P; p++) *makespan = PetscMax(*makespan, freeat[p]);
  if (busy) PetscCall(PetscArraycpy(busy, freeat, P));
  PetscCall(PetscFree(freeat));
  PetscFunctionReturn(0);
}
