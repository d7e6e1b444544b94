/* SlimErrorAgree (include/slim/agree.h). */
#include <slim/agree.h>

PetscErrorCode SlimErrorAgree(MPI_Comm comm, PetscErrorCode ierr)
{
  PetscMPIInt rank, mine, first;
  int         code = (int)ierr;
  char        msg[1024] = "";

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  mine = ierr ? rank : PETSC_MPI_INT_MAX;
  PetscCallMPI(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm));
  if (first == PETSC_MPI_INT_MAX) PetscFunctionReturn(0);
  if (rank == first) {
    const char *text     = NULL;
    char       *specific = NULL;
    (void)PetscErrorMessage(ierr, &text, &specific);
    (void)PetscStrncpy(msg, specific && specific[0] ? specific : (text ? text : "error"), sizeof(msg));
  }
  PetscCallMPI(MPI_Bcast(msg, sizeof(msg), MPI_CHAR, first, comm));
  PetscCallMPI(MPI_Bcast(&code, 1, MPI_INT, first, comm));
  SETERRQ(PETSC_COMM_SELF, (PetscErrorCode)code, "%s", msg);
}
