#pragma once
/* Private to the output layer (src/output*.c), the only code that includes <hdf5.h>: the
 * SlimOutput struct and the HDF5 call helpers. */
#include <slim/output.h>
#include <hdf5.h>

#if !defined(PETSC_USE_REAL_DOUBLE)
  #error "SlimOutput stores PetscReal as double: PETSc must be configured with double precision"
#endif

/* Turns a negative HDF5 return into a PETSc error naming the call. */
#define H5Call(x) \
  do { \
    if ((x) < 0) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 call failed: %s", #x); \
  } while (0)

/* Evaluates x with HDF5's automatic error-stack printing off, for probes and opens whose failure
 * we report ourselves: HDF5's own H5E_BEGIN_TRY/H5E_END_TRY, which restores the previous
 * setting afterwards (printing is never switched off for good). x must not return or jump. */
#define H5Quiet(x) \
  do { \
    H5E_BEGIN_TRY \
    { \
      x; \
    } \
    H5E_END_TRY; \
  } while (0)

/* Bytes a dataset takes beyond its data in the estimate: object header, attributes, links. */
#define SLIM_OUTPUT_DSET_OVERHEAD 1024

/* One open dataset: a table column or a free-standing array. */
typedef struct {
  char       *key;     /* normalised path, e.g. "runs/q" */
  char       *table;   /* table path (columns) or NULL (arrays), for messages */
  const char *col;     /* column name inside key (columns), for messages */
  hid_t       dset;    /* kept open so independent writes never need a collective H5Dopen */
  hid_t       mtype;   /* memory type; owned (closed in Destroy) only for strings */
  SlimColType type;
  PetscInt    width;   /* row width: elements (real/int) or bytes (string) */
  int         rank;    /* dataspace rank */
  hsize_t     dims[3];
  PetscBool   isarray;
  hsize_t     chunk0;  /* > 0: created chunked, chunks of chunk0 rows (src/output_chunked.c) */
} SlimDset;

struct _n_SlimOutput {
  MPI_Comm  comm;
  char     *path, *option;
  hid_t     file, dxpl;
  int       fd; /* POSIX descriptor for fdatasync (<option>_fsync), else -1 */
  SlimDset *d;
  PetscInt  nd, maxd;
  PetscInt *hash; /* open addressing over d[]: index or -1; size nhash (power of 2) */
  PetscInt  nhash;
  PetscBool estimate;                /* SLIM_OUTPUT_ESTIMATE: no file, bytes counted */
  PetscBool readonly;                /* SLIM_OUTPUT_CHECK: nothing is created or written */
  PetscInt64 est_bytes, est_array;  /* estimate: all datasets, largest array */
};

/* Tests only: fails the write of `what` if SLIM_TEST_FAIL_WRITE selects it (src/output.c). */
PETSC_INTERN PetscErrorCode SlimOutputTestFailWrite(SlimOutput out, const char what[]);

/* The table of open datasets (src/output_dset.c). */
PETSC_INTERN SlimDset      *SlimDsetLookup(SlimOutput out, const char key[]);
PETSC_INTERN PetscErrorCode SlimDsetInsert(SlimOutput out, const SlimDset *e);
PETSC_INTERN void           SlimDsetFree(SlimDset *e);
/* Opens the dataset of e->key if it exists (checking it against e's shape), else creates it
 * with early allocation and its fill value (*created set). Collective. */
PETSC_INTERN PetscErrorCode SlimDsetOpenOrCreate(SlimOutput out, SlimDset *e, const char units[], const char desc[], const char what[], PetscBool *created);
/* The open column table/col or array path, or an error naming it. */
PETSC_INTERN PetscErrorCode SlimOutputFindColumn(SlimOutput out, const char table[], const char col[], SlimDset **e);
PETSC_INTERN PetscErrorCode SlimOutputFindArray(SlimOutput out, const char path[], SlimDset **e);
/* p without leading/trailing '/' ("" is the root group), PetscMalloc'ed. */
PETSC_INTERN PetscErrorCode SlimOutputNormalizePath(const char p[], char **key);
PETSC_INTERN PetscErrorCode SlimOutputObjExists(hid_t file, const char key[], PetscBool *exists);
/* "real [10 x 3]", "string(12) [10]": a dataset's type and shape for messages */
PETSC_INTERN void SlimOutputDescribeShape(char buf[], size_t len, SlimColType type, PetscInt width, int rank, const hsize_t dims[]);
/* With <option>_fsync: this rank's writes to stable storage (independent fdatasync). */
PETSC_INTERN PetscErrorCode SlimOutputSyncData(SlimOutput out);
/* (src/output_attr.c) */
PETSC_INTERN PetscErrorCode SlimOutputWriteAttrString(hid_t oid, const char name[], const char value[]);
