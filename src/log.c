/* Logging events of libslim (see include/slim/log.h). */
#include <slim/log.h>

PetscClassId  SLIM_CLASSID;
PetscLogEvent SLIM_EVENT_Step, SLIM_EVENT_Residual, SLIM_EVENT_Jacobian, SLIM_EVENT_RK, SLIM_EVENT_Fit, SLIM_EVENT_Output;

PetscErrorCode SlimLogRegister(void)
{
  static PetscBool registered = PETSC_FALSE;

  PetscFunctionBeginUser;
  if (registered) PetscFunctionReturn(0);
  registered = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("Slimplectic", &SLIM_CLASSID));
  PetscCall(PetscLogEventRegister("SlimStep", SLIM_CLASSID, &SLIM_EVENT_Step));
  PetscCall(PetscLogEventRegister("SlimResidual", SLIM_CLASSID, &SLIM_EVENT_Residual));
  PetscCall(PetscLogEventRegister("SlimJacobian", SLIM_CLASSID, &SLIM_EVENT_Jacobian));
  PetscCall(PetscLogEventRegister("SlimRK", SLIM_CLASSID, &SLIM_EVENT_RK));
  PetscCall(PetscLogEventRegister("SlimFit", SLIM_CLASSID, &SLIM_EVENT_Fit));
  PetscCall(PetscLogEventRegister("SlimOutput", SLIM_CLASSID, &SLIM_EVENT_Output));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimLogStageGet(const char name[], PetscLogStage *stage)
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogStageGetId(name, stage));
  if (*stage < 0) PetscCall(PetscLogStageRegister(name, stage));
  PetscFunctionReturn(0);
}
