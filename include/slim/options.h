#pragma once
/* Comma-separated list options, parsed strictly so that a malformed list is one clear error
 * naming the option and the offending item (PETSc's own array parsers do not name the option).
 * Call inside a PetscOptionsBegin()/PetscOptionsEnd() block: the option is registered there,
 * so -help lists it with its default. */
#include <petscsys.h>

#define SLIM_LIST_MAX 64

PETSC_EXTERN PetscErrorCode SlimOptionsRealList(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, PetscReal vals[], PetscInt *n, PetscBool *set);
PETSC_EXTERN PetscErrorCode SlimOptionsIntList(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, PetscInt vals[], PetscInt *n, PetscBool *set);
/* Items are copied into vals[i] (each of length len). */
PETSC_EXTERN PetscErrorCode SlimOptionsStringList(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, size_t len, char vals[][64], PetscInt *n, PetscBool *set);
