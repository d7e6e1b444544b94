#pragma once
/* Strict option parsing, so that every malformed value is one clear error naming the option and
 * the value as typed (PETSc's own parsers do not name the option, wrap integers beyond PetscInt
 * and ignore an option given without its value).
 *
 * Comma-separated lists: call inside a PetscOptionsBegin()/PetscOptionsEnd() block, where the
 * option is registered, so -help lists it with its default. Every list refuses an option given
 * without a value, empty items, more than max items and (integers) values beyond PetscInt.
 * Integer and string lists are sets (sweep axes, names): a value listed twice is refused
 * (strings compared without case). Real lists are positional (bounds, ranges) and may repeat a
 * value; SlimOptionsRealListDistinct() is the set form, for sweep axes. */
#include <petscsys.h>

#define SLIM_LIST_MAX 64

PETSC_EXTERN PetscErrorCode SlimOptionsRealList(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, PetscReal vals[], PetscInt *n, PetscBool *set);
PETSC_EXTERN PetscErrorCode SlimOptionsRealListDistinct(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, PetscReal vals[], PetscInt *n, PetscBool *set);
PETSC_EXTERN PetscErrorCode SlimOptionsIntList(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, PetscInt vals[], PetscInt *n, PetscBool *set);
/* Items are copied into vals[i] (each of length len). */
PETSC_EXTERN PetscErrorCode SlimOptionsStringList(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, size_t len, char vals[][64], PetscInt *n, PetscBool *set);

/* Single values: drop-in replacements of PetscOptionsInt() and PetscOptionsReal() (same
 * arguments, same -help line) that also refuse an option given without its value and, for
 * integers, a value beyond PetscInt ("-sweep_seed: '4294967297' is out of range ..."), which
 * PETSc 3.18 silently wraps. */
#define SlimOptionsInt(opt, text, man, cur, val, set)  SlimOptionsInt_Private(PetscOptionsObject, opt, text, man, cur, val, set)
#define SlimOptionsReal(opt, text, man, cur, val, set) SlimOptionsReal_Private(PetscOptionsObject, opt, text, man, cur, val, set)
/* Drop-in for PetscOptionsRealArray() that refuses the option given without its values. */
#define SlimOptionsRealArray(opt, text, man, val, n, set) SlimOptionsRealArray_Private(PetscOptionsObject, opt, text, man, val, n, set)
PETSC_EXTERN PetscErrorCode SlimOptionsInt_Private(PetscOptionItems *, const char[], const char[], const char[], PetscInt, PetscInt *, PetscBool *);
PETSC_EXTERN PetscErrorCode SlimOptionsReal_Private(PetscOptionItems *, const char[], const char[], const char[], PetscReal, PetscReal *, PetscBool *);
PETSC_EXTERN PetscErrorCode SlimOptionsRealArray_Private(PetscOptionItems *, const char[], const char[], const char[], PetscReal[], PetscInt *, PetscBool *);

/* Refuses -opt (with the prefix pre, may be NULL) given without a value; no error if it is absent. */
PETSC_EXTERN PetscErrorCode SlimOptionsRequireValue(PetscOptions options, const char pre[], const char opt[]);
/* Parses one integer item strictly: decimal digits, or (allow_exp) an exact exponent form such as
 * 1e5; refuses anything else and values beyond PetscInt, naming opt and str. */
PETSC_EXTERN PetscErrorCode SlimOptionsParseInt(const char opt[], const char str[], PetscBool allow_exp, PetscInt *val);

/* Rewrites the message of a PETSc option-parsing error ("Input string abc has no numeric value",
 * raised by PetscOptionsReal/Int/Bool and their Get and Array forms anywhere) as
 * "-dho_lambda: 'abc' is not a number": the option is found in the database as the one, among
 * those already read, whose value is the offending string. explained is PETSC_FALSE (out
 * untouched) for any other message. Used by the executable's one-line error handler. */
PETSC_EXTERN PetscErrorCode SlimOptionsExplainError(const char mess[], char out[], size_t len, PetscBool *explained);

/* Checks every -options_file of argv (and the files these include) the way PETSc will read
 * them, before PetscInitialize(), where PETSc would print a traceback: a missing file name, a
 * file that cannot be opened, a directory, binary data or a line that is not "-option [value]"
 * (or "alias -a -b"). Returns 0, or 1 with a one-line message naming the file in msg.
 * Plain C: usable before PETSc is initialised. */
PETSC_EXTERN int SlimOptionsCheckFiles(int argc, char **argv, char msg[], size_t len);
