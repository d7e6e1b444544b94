#pragma once
/* SlimRecord: a results table defined once, as a C struct plus a column descriptor table.
 *
 * Each descriptor row names one column, its type, width, unit and description and where the
 * value sits in the struct (offsetof). The same table drives the dataset definitions
 * (SlimRecordDefine) and the row writes (SlimRecordWrite: n records, one SlimOutputWriteRows per
 * column), so a column name appears once in the code. Adding a column is one descriptor row and
 * one struct member.
 *
 * Widths that depend on the sweep (parameters of the widest family, landscape resolution, ...)
 * are "width slots": a descriptor with width SLIM_RECORD_SLOT(k) takes widths[k] at run time, and
 * a column with need = k > 0 is left out of the table when widths[k] is 0 (an optional part). */
#include <slim/output.h>

typedef enum {
  SLIM_RECORD_REAL,    /* PetscReal member (width 1) or PetscReal member[] (width > 1) */
  SLIM_RECORD_INT,     /* PetscInt member, stored as int64 */
  SLIM_RECORD_INT64,   /* PetscInt64 member */
  SLIM_RECORD_ENUM,    /* an enum member (int), stored as int64 */
  SLIM_RECORD_STRING,  /* char member[width] */
  SLIM_RECORD_STRPTR,  /* const char *member, stored as a string of `width` bytes */
  SLIM_RECORD_REALPTR  /* const PetscReal *member pointing at width values */
} SlimRecordType;

#define SLIM_RECORD_MAX_SLOTS 8
#define SLIM_RECORD_SLOT(k)   (-(k)) /* width taken from widths[k] at run time */

typedef struct {
  const char    *name;
  SlimRecordType type;
  PetscInt       width; /* > 0 fixed, or SLIM_RECORD_SLOT(k) */
  const char    *units;
  const char    *desc;
  size_t         off;  /* offsetof(struct, member) */
  PetscInt       need; /* > 0: the column exists only when widths[need] > 0 */
} SlimRecordColumn;

typedef struct {
  const char             *desc; /* the group's "description" attribute */
  PetscInt                ncol;
  const SlimRecordColumn *cols;
  size_t                  size; /* sizeof(struct) */
} SlimRecordTable;

/* Descriptor rows: SLIM_REC(Struct, member, type, width, name, units, description) */
#define SLIM_REC(S, m, t, w, name, u, d)        {name, t, w, u, d, offsetof(S, m), 0}
#define SLIM_REC_OPT(S, m, t, w, k, name, u, d) {name, t, w, u, d, offsetof(S, m), k}
#define SLIM_RECORD_TABLE(desc, cols, S)     {desc, (PetscInt)(sizeof(cols) / sizeof((cols)[0])), cols, sizeof(S)}

/* Width of column c under the run-time widths (NULL: no slots); 0 when it is left out. */
PETSC_EXTERN PetscInt SlimRecordColumnWidth(const SlimRecordTable *t, PetscInt c, const PetscInt widths[]);
/* Defines (or, on resume, checks and opens) the datasets of nt record tables that share one
 * group at `path` (e.g. definitions and results), nrows rows; the description is the first
 * table's. Collective. */
PETSC_EXTERN PetscErrorCode SlimRecordDefine(SlimOutput out, const char path[], PetscInt nt, const SlimRecordTable *const t[], const PetscInt widths[], PetscInt nrows);
/* Writes columns [c0, c1) of n records recs (n * t->size bytes) into rows rows[] of the table:
 * one write per column, in descriptor order, so a table whose last column is its status has
 * complete rows wherever the status is set. c1 = -1: to the last column. Independent. */
PETSC_EXTERN PetscErrorCode SlimRecordWrite(SlimOutput out, const char path[], const SlimRecordTable *t, const PetscInt widths[], PetscInt c0, PetscInt c1, PetscInt n, const PetscInt rows[], const void *recs);
/* Sets every column of one record to the dataset's fill value (NaN, -1, empty string; pointer
 * members to NULL, which writes fill values). */
PETSC_EXTERN void SlimRecordFill(const SlimRecordTable *t, const PetscInt widths[], void *rec);
/* Index of the column named `name`, -1 if none. */
PETSC_EXTERN PetscInt SlimRecordFind(const SlimRecordTable *t, const char name[]);
