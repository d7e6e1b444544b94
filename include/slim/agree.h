#pragma once
/* SlimErrorAgree: makes a local failure collective. Ranks that write independently (results
 * rows) can fail alone -- a full disk (ENOSPC) is seen by the rank whose write hit it -- and a
 * rank that then left with its error while the others entered the next collective call (a
 * flush, a barrier) would leave them waiting forever. Every rank passes its own error code
 * (caught with PetscReturnErrorHandler pushed); if any rank failed, every rank returns the same
 * error, with the code and message of the lowest failing rank, so all leave together before the
 * next collective call:
 *
 *   PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
 *   ierr = WriteMyRows(...);
 *   PetscCall(PetscPopErrorHandler());
 *   PetscCall(SlimErrorAgree(comm, ierr));    (no rank passes this line unless all succeeded)
 */
#include <petscsys.h>

PETSC_EXTERN PetscErrorCode SlimErrorAgree(MPI_Comm comm, PetscErrorCode ierr);
/* The same for a failure described by a message (a check made by some ranks only, such as rank
 * 0's look at the disk): if any rank's msg is not empty, every rank fails with the code and the
 * message of the lowest such rank. */
PETSC_EXTERN PetscErrorCode SlimErrorAgreeMessage(MPI_Comm comm, PetscErrorCode code, const char msg[]);
