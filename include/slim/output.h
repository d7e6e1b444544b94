#pragma once
/* SlimOutput: one self-describing HDF5 results file written by all ranks through parallel
 * HDF5 (MPI-IO).
 *
 * Crash safety by construction: every dataset is created (collectively) with its final size
 * and early allocation before any result exists, and the caller flushes the metadata once
 * (SlimOutputFlush, collective) before the first independent write; afterwards
 * ranks write rows of finished work independently into already-allocated space, so a process
 * killed at any moment leaves a file whose metadata is complete and whose finished rows are
 * readable. Rows never written hold the dataset's fill value.
 *
 * Collective calls (all ranks of the communicator, same arguments): Create/Open, Destroy,
 * DefineTable, DefineArray, attribute setters, Flush. Independent calls (any rank, any time):
 * WriteRows, WriteArray, ReadColumn, ReadArray. */
#include <petscsys.h>

typedef struct _n_SlimOutput *SlimOutput;

/* CHECK opens an existing file read-only: definitions check that every table and array exists
 * with its shape (never creating one), attribute setters and Flush do nothing; it validates a
 * file before a resume writes to it. ESTIMATE opens no file: definitions only add up the bytes the file would take (see
 * SlimOutputGetEstimate), everything else is a no-op; the same code that defines a file thus
 * sizes it before any file exists. */
typedef enum { SLIM_OUTPUT_CREATE, SLIM_OUTPUT_FORCE, SLIM_OUTPUT_RESUME, SLIM_OUTPUT_CHECK, SLIM_OUTPUT_ESTIMATE } SlimOutputMode;
typedef enum { SLIM_COL_REAL, SLIM_COL_INT, SLIM_COL_STRING } SlimColType;

/* One column of a table: dataset /<table>/<name> of shape [nrows] (width 1) or [nrows, width].
 * SLIM_COL_REAL is double (fill NaN), SLIM_COL_INT is int64 (PetscInt64; fill -1), SLIM_COL_STRING
 * is a fixed-length string of `width` bytes (fill ""). units and desc become the dataset's
 * attributes "units" and "description". */
typedef struct {
  const char *name;
  SlimColType type;
  PetscInt    width;
  const char *units;
  const char *desc;
} SlimColumn;

/* CREATE: the file must not exist (error naming `option` and the path otherwise);
 * FORCE: an existing file is replaced; RESUME: the file must exist and is opened read-write.
 * An unwritable path is an error naming `option` and the path. Rows reach the kernel before
 * WriteRows/WriteArray return (enough to survive SIGKILL); with the option <option>_fsync
 * (e.g. -output_fsync) each independent write is also fdatasync'ed (survives a machine crash). */
PETSC_EXTERN PetscErrorCode SlimOutputOpen(MPI_Comm comm, const char path[], SlimOutputMode mode, const char option[], SlimOutput *out);
/* Flushes and closes (collective). */
PETSC_EXTERN PetscErrorCode SlimOutputDestroy(SlimOutput *out);
PETSC_EXTERN PetscErrorCode SlimOutputFlush(SlimOutput out);
PETSC_EXTERN PetscErrorCode SlimOutputGetPath(SlimOutput out, const char **path);
/* SLIM_OUTPUT_ESTIMATE: bytes of every dataset defined so far (data plus an allowance for its
 * headers) and of the largest free-standing array (arrays are written whole from memory). */
PETSC_EXTERN PetscErrorCode SlimOutputGetEstimate(SlimOutput out, PetscInt64 *bytes, PetscInt64 *largest_array);

/* Creates group /<table> (may be nested, "a/b") and its column datasets of nrows rows; in a
 * resumed file checks that they exist with that shape (error naming table and column otherwise)
 * and opens them. desc goes to the group's "description" attribute. A table must be defined in
 * every session (also when resuming) before its rows are written or read. It does not flush
 * (a flush costs an fsync): call SlimOutputFlush() once after all definitions. */
PETSC_EXTERN PetscErrorCode SlimOutputDefineTable(SlimOutput out, const char table[], const char desc[], PetscInt nrows, PetscInt ncol, const SlimColumn cols[]);
/* Writes column `col` of `n` rows with indices rows[] (any order, need not be contiguous);
 * data holds n*width values of the column's type (double, PetscInt64, or n*width chars; a
 * string is stored up to its first NUL and null-padded). */
PETSC_EXTERN PetscErrorCode SlimOutputWriteRows(SlimOutput out, const char table[], const char col[], PetscInt n, const PetscInt rows[], const void *data);
/* Reads the whole column into data (nrows*width values), e.g. to find finished rows on resume. */
PETSC_EXTERN PetscErrorCode SlimOutputReadColumn(SlimOutput out, const char table[], const char col[], void *data);
PETSC_EXTERN PetscErrorCode SlimOutputTableExists(SlimOutput out, const char table[], PetscBool *exists);

/* A free-standing real array dataset at `path` (e.g. "trajectories/17/q") of rank <= 3 with
 * dims[] (rank 0: a scalar); created collectively (fill NaN) or, if it exists, opened and
 * checked like DefineTable; written independently whole. */
PETSC_EXTERN PetscErrorCode SlimOutputDefineArray(SlimOutput out, const char path[], PetscInt rank, const PetscInt dims[], const char units[], const char desc[]);
PETSC_EXTERN PetscErrorCode SlimOutputWriteArray(SlimOutput out, const char path[], const PetscReal data[]);
PETSC_EXTERN PetscErrorCode SlimOutputReadArray(SlimOutput out, const char path[], PetscReal data[]);

/* A chunked array at `path` of rank 1..3 (real: fill NaN, int: int64, fill -1) written in blocks
 * of rows (the first dimension) by any rank: chunks of chunk0 rows x the other dimensions, created
 * collectively with every chunk allocated, like DefineArray; uncompressed (src/output_chunked.c
 * says why). WriteBlock writes rows [row0, row0 + nrows) from data (nrows x the other dimensions,
 * double or PetscInt64); independent. */
PETSC_EXTERN PetscErrorCode SlimOutputDefineBlocks(SlimOutput out, const char path[], SlimColType type, PetscInt rank, const PetscInt dims[], PetscInt chunk0, const char units[], const char desc[]);
PETSC_EXTERN PetscErrorCode SlimOutputWriteBlock(SlimOutput out, const char path[], PetscInt row0, PetscInt nrows, const void *data);

/* Attributes on any existing object (group or dataset; "/" is the root). Collective; flushed
 * by the next SlimOutputFlush() or by SlimOutputDestroy(). Setting an attribute that exists replaces it. Strings are stored as
 * variable-length UTF-8 (h5py: str), numbers as a scalar for n == 1, else an array of n. */
PETSC_EXTERN PetscErrorCode SlimOutputSetAttrString(SlimOutput out, const char obj[], const char name[], const char value[]);
PETSC_EXTERN PetscErrorCode SlimOutputSetAttrReal(SlimOutput out, const char obj[], const char name[], PetscInt n, const PetscReal value[]);
PETSC_EXTERN PetscErrorCode SlimOutputSetAttrInt(SlimOutput out, const char obj[], const char name[], PetscInt n, const PetscInt64 value[]);
/* Reads a string attribute (fixed- or variable-length; error if missing or if it does not fit
 * in buf of length len) into buf. Independent. HasAttr answers false also when obj is missing. */
PETSC_EXTERN PetscErrorCode SlimOutputGetAttrString(SlimOutput out, const char obj[], const char name[], char buf[], size_t len);
PETSC_EXTERN PetscErrorCode SlimOutputHasAttr(SlimOutput out, const char obj[], const char name[], PetscBool *has);

/* Copies every finished row of part file `part` (a results file of the same sweep, e.g. from
 * -sweep_slice) into out: table rows whose status is set and free arrays that were written.
 * /orders and /sessions are not copied (recomputed by the caller). Errors name `opt` and the
 * part: not HDF5, not a results file, or a different sweep (signature). Serial (one rank). */
PETSC_EXTERN PetscErrorCode SlimOutputMerge(SlimOutput out, const char part[], const char signature[], const char opt[], PetscInt *copied);
/* Reads a 1-D or 2-D real dataset of an HDF5 file (serial read, any rank) as rows x cols;
 * *vals is PetscMalloc'ed. Errors name `option` and the file or dataset. */
PETSC_EXTERN PetscErrorCode SlimOutputReadMatrix(const char file[], const char dataset[], const char option[], PetscInt *rows, PetscInt *cols, PetscReal **vals);
/* "major.minor.release" of the HDF5 library (provenance). */
PETSC_EXTERN PetscErrorCode SlimOutputGetLibraryVersion(char buf[], size_t len);
