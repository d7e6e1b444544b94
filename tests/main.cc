// GoogleTest entry point: PETSc (and MPI) are initialised once for the whole binary.
#include <gtest/gtest.h>
#include <petscsys.h>
#include <slim/family.h>

int main(int argc, char **argv)
{
  ::testing::InitGoogleTest(&argc, argv);
  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SlimFamilyRegisterAll());
  int rc = RUN_ALL_TESTS();
  PetscCall(PetscFinalize());
  return rc;
}
