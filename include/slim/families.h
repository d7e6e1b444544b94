#pragma once
/* Private to the family code and its tests: the built-in family constructors (one per file in
 * src/families/) and helpers that are not part of the public family.h API. */
#include <slim/family.h>

PETSC_EXTERN PetscErrorCode SlimFamilyCreate_DHO(SlimFamily);
PETSC_EXTERN PetscErrorCode SlimFamilyCreate_Anharmonic(SlimFamily);
PETSC_EXTERN PetscErrorCode SlimFamilyCreate_Kepler(SlimFamily);
PETSC_EXTERN PetscErrorCode SlimFamilyCreate_PR(SlimFamily);
/* Registers the families generated at build time from sweeps/families/ (*.toml; the file is
 * written by tools/slimgen.py registry into the build tree). */
PETSC_EXTERN PetscErrorCode SlimFamilyRegisterGenerated(void);

/* The Poynting-Robertson callbacks, parameters (GM, beta, c, m): Kepler is their beta = 0 case. */
PETSC_EXTERN PetscErrorCode SlimFamilyEval_PR(const PetscReal th[], PetscReal t, const PetscReal q[], const PetscReal v[], SlimEval *e);
PETSC_EXTERN PetscErrorCode SlimFamilyEnergy_PR(const PetscReal th[], PetscReal t, const PetscReal q[], const PetscReal v[], PetscReal *E);

/* SlimFamilySetFromOptions() only registers (and so only lists under -help) the options of the
 * family it is given. To show every family's options under -help, call this once: it creates
 * each registered family, runs SlimFamilySetFromOptions() on it and destroys it again. */
PETSC_EXTERN PetscErrorCode SlimFamilyOptionsHelpAll(void);
