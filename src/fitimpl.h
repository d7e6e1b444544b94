#pragma once
/* Private helpers shared by the fit sources (src/fit*.c): the catch helper, quantiles and seed
 * derivation live in include/slim/private/util.h, shared with the harness. */
#include <slim/private/util.h>
