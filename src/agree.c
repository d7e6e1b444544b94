/* SlimErrorAgree (include/slim/agree.h). */
#include <slim/agree.h>

PetscErrorCode SlimErrorAgreeMessage(MPI_Comm comm, PetscErrorCode code, const char msg[])
{
  PetscMPIInt rank, mine, first;
  int         c = (int)code;
  char        buf[2048];

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  mine = msg && msg[0] ? rank : PETSC_MPI_INT_MAX;
  PetscCallMPI(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm));
  if (first == PETSC_MPI_INT_MAX) PetscFunctionReturn(0);
  if (rank == first) PetscCall(PetscStrncpy(buf, msg, sizeof(buf)));
  PetscCallMPI(MPI_Bcast(buf, sizeof(buf), MPI_CHAR, first, comm));
  PetscCallMPI(MPI_Bcast(&c, 1, MPI_INT, first, comm));
  SETERRQ(PETSC_COMM_SELF, (PetscErrorCode)c, "%s", buf);
}

PetscErrorCode SlimErrorAgree(MPI_Comm comm, PetscErrorCode ierr)
{
  char msg[2048] = "";

  PetscFunctionBeginUser;
  if (ierr) {
    const char *text     = NULL;
    char       *specific = NULL;
    (void)PetscErrorMessage(ierr, &text, &specific);
    PetscCall(PetscStrncpy(msg, specific && specific[0] ? specific : (text ? text : "error"), sizeof(msg)));
  }
  PetscCall(SlimErrorAgreeMessage(comm, ierr, msg));
  PetscFunctionReturn(0);
}
