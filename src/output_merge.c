/* The output layer's serial reads of other HDF5 files (include/slim/output.h): merging the
 * finished rows of part files (-sweep_merge) and reading a measured-data matrix
 * (-fit_obs_file). Plain (sec2) file access by one rank; HDF5's error printing is only muted
 * around the probes whose failure we report ourselves (H5Quiet). */
#include <math.h>
#include <string.h>
#include "outputimpl.h"

typedef struct {
  char   **names;
  PetscInt n, cap;
} NameList;

static herr_t CollectDatasets(hid_t obj, const char *name, const H5O_info_t *info, void *ctx)
{
  NameList *l = (NameList *)ctx;
  (void)obj;
  if (info->type != H5O_TYPE_DATASET) return 0;
  if (l->n == l->cap) {
    char **nn;
    l->cap = l->cap ? 2 * l->cap : 256;
    if (PetscMalloc1(l->cap, &nn)) return -1;
    for (PetscInt i = 0; i < l->n; i++) nn[i] = l->names[i];
    PetscFree(l->names);
    l->names = nn;
  }
  if (PetscStrallocpy(name, &l->names[l->n])) return -1;
  l->n++;
  return 0;
}

/* Reads a whole dataset in its natural memory type (double, int64 or the file's fixed string). */
static PetscErrorCode ReadWhole(hid_t f, const char name[], const char opt[], void **buf, size_t *rowbytes, hsize_t *nrows, H5T_class_t *cls)
{
  hid_t   d, ft, mt, sp;
  hsize_t dims[4] = {1, 1, 1, 1};
  int     rank;
  size_t  row = 1;
  herr_t  st;

  PetscFunctionBeginUser;
  H5Quiet(d = H5Dopen2(f, name, H5P_DEFAULT));
  PetscCheck(d >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: cannot open dataset %s", opt, name);
  ft   = H5Dget_type(d), sp = H5Dget_space(d);
  rank = H5Sget_simple_extent_ndims(sp);
  if (rank >= 0 && rank <= 4) H5Sget_simple_extent_dims(sp, dims, NULL);
  *cls = H5Tget_class(ft);
  mt   = *cls == H5T_FLOAT ? H5Tcopy(H5T_NATIVE_DOUBLE) : *cls == H5T_INTEGER ? H5Tcopy(H5T_NATIVE_INT64) : H5Tcopy(ft);
  for (int i = 1; i < rank; i++) row *= dims[i];
  *rowbytes = row * H5Tget_size(mt);
  *nrows    = rank ? dims[0] : 1;
  *buf      = NULL;
  if (rank >= 0 && rank <= 4) PetscCall(PetscMalloc(*rowbytes * *nrows + 1, buf));
  st = *buf ? H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *buf) : -1;
  H5Tclose(mt), H5Tclose(ft), H5Sclose(sp), H5Dclose(d);
  if (st < 0) PetscCall(PetscFree(*buf));
  PetscCheck(st >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: cannot read dataset %s (rank %d)", opt, name, rank);
  PetscFunctionReturn(0);
}

/* The variable-length string attribute `name` of the root group ("" if absent). */
static PetscErrorCode ReadRootString(hid_t f, const char name[], char buf[], size_t len, PetscBool *found)
{
  hid_t a, t;

  PetscFunctionBeginUser;
  buf[0] = 0;
  H5Quiet(a = H5Aopen(f, name, H5P_DEFAULT));
  *found = (PetscBool)(a >= 0);
  if (a < 0) PetscFunctionReturn(0);
  t = H5Aget_type(a);
  if (H5Tis_variable_str(t) > 0) {
    char *v  = NULL;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(t));
    if (H5Aread(a, mt, &v) >= 0 && v) PetscCall(PetscStrncpy(buf, v, len));
    H5free_memory(v);
    H5Tclose(mt);
  }
  H5Tclose(t);
  H5Aclose(a);
  PetscFunctionReturn(0);
}

/* Copies one dataset of a part: the rows of a table whose status is set (status is written
 * last, so it vouches for the row), or a free array that was written (not all NaN fill). */
static PetscErrorCode MergeDataset(SlimOutput out, hid_t f, const char name[], const char opt[], PetscInt *copied)
{
  const char *slash = strrchr(name, '/');
  char        parent[512] = "", status[600];
  void       *buf;
  size_t      rb;
  hsize_t     nr;
  H5T_class_t cls;
  PetscBool   table;

  PetscFunctionBeginUser;
  if (!slash || !strncmp(name, "sessions/", 9) || !strncmp(name, "orders/", 7)) PetscFunctionReturn(0);
  PetscCall(PetscStrncpy(parent, name, PetscMin(sizeof(parent), (size_t)(slash - name) + 1)));
  PetscCall(PetscSNPrintf(status, sizeof(status), "%s/status", parent));
  table = (PetscBool)(H5Lexists(f, status, H5P_DEFAULT) > 0);
  if (!table && strncmp(name, "trajectories/", 13) && strncmp(name, "baselines/trajectories/", 23) && strncmp(name, "fit_paths/", 10) && strncmp(name, "fit_obs/", 8)) PetscFunctionReturn(0);
  PetscCall(ReadWhole(f, name, opt, &buf, &rb, &nr, &cls));
  if (table) {
    PetscInt64 *st;
    PetscInt   *rows, n = 0;
    char       *sel;
    void       *sbuf;
    size_t      srb;
    hsize_t     snr;
    H5T_class_t scls;
    PetscCall(ReadWhole(f, status, opt, &sbuf, &srb, &snr, &scls));
    st = (PetscInt64 *)sbuf;
    PetscCall(PetscMalloc2(nr, &rows, rb * nr + 1, &sel));
    for (hsize_t i = 0; i < nr && i < snr; i++)
      if (st[i] >= 0) {
        PetscCall(PetscMemcpy(sel + n * rb, (char *)buf + i * rb, rb));
        rows[n++] = (PetscInt)i;
      }
    if (n) PetscCall(SlimOutputWriteRows(out, parent, slash + 1, n, rows, sel));
    *copied += n;
    PetscCall(PetscFree2(rows, sel));
    PetscCall(PetscFree(sbuf));
  } else if (cls == H5T_FLOAT) {
    const double *v   = (const double *)buf;
    PetscBool     any = PETSC_FALSE;
    for (size_t i = 0; i < nr * rb / sizeof(double) && !any; i++) any = (PetscBool)!isnan(v[i]);
    if (any) PetscCall(SlimOutputWriteArray(out, name, v));
  }
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputMerge(SlimOutput out, const char part[], const char signature[], const char opt[], PetscInt *copied)
{
  hid_t          f;
  NameList       l = {NULL, 0, 0};
  char          *sig;
  PetscBool      found;
  PetscErrorCode ierr = 0;
  const size_t   siglen = strlen(signature) + 2; /* one more than a matching signature needs */

  PetscFunctionBeginUser;
  *copied = 0;
  H5Quiet(f = H5Fopen(part, H5F_ACC_RDONLY, H5P_DEFAULT));
  PetscCheck(f >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "%s: cannot open '%s' as an HDF5 file", opt, part);
  PetscCall(PetscMalloc1(siglen, &sig));
  ierr = ReadRootString(f, "sweep_signature", sig, siglen, &found);
  if (!ierr && !found) ierr = PETSC_ERR_FILE_UNEXPECTED;
  if (!ierr && strcmp(sig, signature)) ierr = PETSC_ERR_ARG_INCOMP;
  if (!ierr && H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_NATIVE, CollectDatasets, &l, H5O_INFO_BASIC) < 0) ierr = PETSC_ERR_FILE_READ;
  for (PetscInt k = 0; k < l.n && !ierr; k++) ierr = MergeDataset(out, f, l.names[k], opt, copied);
  for (PetscInt k = 0; k < l.n; k++) PetscCall(PetscFree(l.names[k]));
  PetscCall(PetscFree(l.names));
  PetscCall(PetscFree(sig));
  H5Fclose(f);
  PetscCheck(ierr != PETSC_ERR_FILE_UNEXPECTED, PETSC_COMM_SELF, ierr, "%s: '%s' is not a slimsweep results file", opt, part);
  PetscCheck(ierr != PETSC_ERR_ARG_INCOMP, PETSC_COMM_SELF, ierr, "%s: '%s' is a part of a different sweep than these options define", opt, part);
  PetscCheck(ierr != PETSC_ERR_FILE_READ, PETSC_COMM_SELF, ierr, "%s: cannot list or read '%s'", opt, part);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputReadMatrix(const char file[], const char dataset[], const char option[], PetscInt *rows, PetscInt *cols, PetscReal **vals)
{
  hid_t   f = -1, ds = -1, sp = -1;
  hsize_t dims[2] = {0, 0};
  int     rank    = -1;
  herr_t  st      = -1;

  PetscFunctionBeginUser;
  *vals = NULL;
  /* the default (sec2) driver: a plain serial read by whichever rank needs the data */
  H5Quiet(f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT));
  if (f >= 0) H5Quiet(ds = H5Dopen2(f, dataset, H5P_DEFAULT));
  if (ds >= 0) sp = H5Dget_space(ds);
  if (sp >= 0) rank = H5Sget_simple_extent_ndims(sp);
  if (rank >= 1 && rank <= 2) H5Sget_simple_extent_dims(sp, dims, NULL);
  if (rank == 1) dims[1] = 1;
  if (rank >= 1 && rank <= 2 && dims[0] * dims[1] > 0) {
    PetscCall(PetscMalloc1(dims[0] * dims[1], vals));
    H5Quiet(st = H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *vals));
  }
  if (sp >= 0) H5Sclose(sp);
  if (ds >= 0) H5Dclose(ds);
  if (f >= 0) H5Fclose(f);
  PetscCheck(f >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "%s: cannot open HDF5 file '%s'", option, file);
  PetscCheck(ds >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: file '%s' has no dataset '%s'", option, file, dataset);
  PetscCheck(rank >= 1 && rank <= 2, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: dataset '%s' of '%s' must be 2-D (rows of t, q..., qdot...), it has rank %d", option, dataset, file, rank);
  if (st < 0) PetscCall(PetscFree(*vals));
  PetscCheck(dims[0] * dims[1] > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: dataset '%s' of '%s' is empty", option, dataset, file);
  PetscCheck(st >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: cannot read dataset '%s' of '%s' as real numbers", option, dataset, file);
  *rows = (PetscInt)dims[0];
  *cols = (PetscInt)dims[1];
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputGetLibraryVersion(char buf[], size_t len)
{
  unsigned maj, min, rel;

  PetscFunctionBeginUser;
  H5get_libversion(&maj, &min, &rel);
  PetscCall(PetscSNPrintf(buf, len, "%u.%u.%u", maj, min, rel));
  PetscFunctionReturn(0);
}
