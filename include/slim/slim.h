#pragma once
/* Umbrella header of libslim. */
#include <slim/quad.h>
#include <slim/family.h>
#include <slim/stepper.h>
