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

/* Evaluates x with HDF5's automatic error-stack printing off: for probes and opens whose
 * failure we report ourselves. */
#define H5Quiet(x) \
  do { \
    H5E_auto2_t quiet_func_; \
    void       *quiet_data_; \
    H5Eget_auto2(H5E_DEFAULT, &quiet_func_, &quiet_data_); \
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); \
    x; \
    H5Eset_auto2(H5E_DEFAULT, quiet_func_, quiet_data_); \
  } while (0)

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
};
