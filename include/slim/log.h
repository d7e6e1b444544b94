#pragma once
/* Logging events and stages of libslim, so -log_view shows where the time goes. */
#include <petsclog.h>

PETSC_EXTERN PetscClassId  SLIM_CLASSID;
PETSC_EXTERN PetscLogEvent SLIM_EVENT_Step, SLIM_EVENT_Residual, SLIM_EVENT_Jacobian, SLIM_EVENT_RK, SLIM_EVENT_Fit, SLIM_EVENT_Output;

/* Registers the class id and events once; safe to call repeatedly. */
PETSC_EXTERN PetscErrorCode SlimLogRegister(void);
/* The stage of that name, registered on first use (PETSc refuses a second registration, and a
 * process may create several harnesses). */
PETSC_EXTERN PetscErrorCode SlimLogStageGet(const char[], PetscLogStage *);
