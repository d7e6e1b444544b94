#pragma once
/* Private helpers shared by the fit sources (src/fit*.c): the catch helper, quantiles and seed
 * derivation live in include/slim/private/util.h, shared with the harness. */
#include <slim/private/util.h>
#include <petsctao.h>
#include <slim/fit.h>

/* A TAO object for the fits: prefix fit_, type -fit_tao_type, -fit_max_it iterations. */
PETSC_INTERN PetscErrorCode SlimFitTaoCreate(SlimFit fit, Tao *tao);
