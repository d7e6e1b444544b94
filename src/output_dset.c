/* The output layer's table of open datasets (a hash over their paths) and the opening or
 * creation of one dataset with its checks (include/slim/output.h, src/outputimpl.h). */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "outputimpl.h"

static size_t HashString(const char *s)
{
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return (size_t)h;
}

static PetscErrorCode Rehash(SlimOutput out, PetscInt nhash)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(out->hash));
  PetscCall(PetscMalloc1(nhash, &out->hash));
  for (PetscInt i = 0; i < nhash; i++) out->hash[i] = -1;
  out->nhash = nhash;
  for (PetscInt k = 0; k < out->nd; k++) {
    size_t j = HashString(out->d[k].key) & (size_t)(nhash - 1);
    while (out->hash[j] >= 0) j = (j + 1) & (size_t)(nhash - 1);
    out->hash[j] = k;
  }
  PetscFunctionReturn(0);
}

SlimDset *SlimDsetLookup(SlimOutput out, const char key[])
{
  if (!out->nhash) return NULL;
  for (size_t j = HashString(key) & (size_t)(out->nhash - 1);; j = (j + 1) & (size_t)(out->nhash - 1)) {
    if (out->hash[j] < 0) return NULL;
    if (!strcmp(out->d[out->hash[j]].key, key)) return &out->d[out->hash[j]];
  }
}

/* Appends a copy of *e (taking ownership of its key, table and handles). */
PetscErrorCode SlimDsetInsert(SlimOutput out, const SlimDset *e)
{
  PetscFunctionBeginUser;
  if (out->nd == out->maxd) {
    SlimDset *nd;
    out->maxd = out->maxd ? 2 * out->maxd : 16;
    PetscCall(PetscMalloc1(out->maxd, &nd));
    if (out->nd) PetscCall(PetscArraycpy(nd, out->d, out->nd));
    PetscCall(PetscFree(out->d));
    out->d = nd;
  }
  out->d[out->nd++] = *e;
  if (2 * out->nd > out->nhash) PetscCall(Rehash(out, out->nhash ? 2 * out->nhash : 64));
  else {
    size_t j = HashString(e->key) & (size_t)(out->nhash - 1);
    while (out->hash[j] >= 0) j = (j + 1) & (size_t)(out->nhash - 1);
    out->hash[j] = out->nd - 1;
  }
  PetscFunctionReturn(0);
}

void SlimDsetFree(SlimDset *e)
{
  if (e->dset >= 0) H5Dclose(e->dset);
  if (e->type == SLIM_COL_STRING && e->mtype >= 0) H5Tclose(e->mtype);
  PetscFree(e->key);
  PetscFree(e->table);
}

/* Copies p without leading/trailing '/' ("" is the root group). */
PetscErrorCode SlimOutputNormalizePath(const char p[], char **key)
{
  size_t n;

  PetscFunctionBeginUser;
  PetscCheck(p, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "NULL HDF5 object path");
  while (*p == '/') p++;
  n = strlen(p);
  while (n && p[n - 1] == '/') n--;
  PetscCall(PetscMalloc1(n + 1, key));
  PetscCall(PetscMemcpy(*key, p, n));
  (*key)[n] = 0;
  PetscFunctionReturn(0);
}

/* Whether the object at key exists, walking the path one link at a time because H5Lexists
 * fails (rather than answering false) when an intermediate group is missing. */
PetscErrorCode SlimOutputObjExists(hid_t file, const char key[], PetscBool *exists)
{
  char  *buf;
  size_t n = strlen(key);

  PetscFunctionBeginUser;
  *exists = PETSC_TRUE;
  if (!n) PetscFunctionReturn(0);
  PetscCall(PetscStrallocpy(key, &buf));
  for (size_t i = 0; i <= n && *exists; i++) {
    if (i < n && buf[i] != '/') continue;
    htri_t e;
    buf[i] = 0;
    H5Quiet(e = H5Lexists(file, buf, H5P_DEFAULT));
    if (e > 0) H5Quiet(e = H5Oexists_by_name(file, buf, H5P_DEFAULT)); /* dangling soft link */
    if (e <= 0) *exists = PETSC_FALSE; /* negative: a prefix is not a group */
    buf[i] = '/';
  }
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(0);
}

static const char *TypeName(SlimColType t)
{
  return t == SLIM_COL_REAL ? "real" : t == SLIM_COL_INT ? "int" : "string";
}

/* "real [10 x 3]", "string(12) [10]" */
void SlimOutputDescribeShape(char buf[], size_t len, SlimColType type, PetscInt width, int rank, const hsize_t dims[])
{
  size_t k;
  if (type == SLIM_COL_STRING) snprintf(buf, len, "string(%" PetscInt_FMT ") [", width);
  else snprintf(buf, len, "%s [", TypeName(type));
  for (int i = 0; i < rank; i++) {
    k = strlen(buf);
    snprintf(buf + k, len - k, "%s%llu", i ? " x " : "", (unsigned long long)dims[i]);
  }
  k = strlen(buf);
  snprintf(buf + k, len - k, "%s]", rank ? "" : "scalar");
}

/* File and memory types of e (string: a fixed-length type of e->width bytes, owned by e). */
static PetscErrorCode DsetTypes(SlimDset *e, hid_t *ftype)
{
  PetscFunctionBeginUser;
  if (e->type == SLIM_COL_STRING) {
    H5Call(e->mtype = H5Tcopy(H5T_C_S1));
    H5Call(H5Tset_size(e->mtype, (size_t)e->width));
    H5Call(H5Tset_strpad(e->mtype, H5T_STR_NULLPAD));
    *ftype = e->mtype;
  } else if (e->type == SLIM_COL_REAL) {
    e->mtype = H5T_NATIVE_DOUBLE;
    *ftype   = H5T_IEEE_F64LE;
  } else {
    e->mtype = H5T_NATIVE_INT64;
    *ftype   = H5T_STD_I64LE;
  }
  PetscFunctionReturn(0);
}

/* Opens the existing dataset of e->key; an error naming `what` if its type or shape differ. */
static PetscErrorCode DsetOpenExisting(SlimOutput out, SlimDset *e, hid_t ftype, const char what[])
{
  hid_t       s, t;
  int         rank;
  hsize_t     dims[3] = {0, 0, 0};
  H5T_class_t cls;
  size_t      size;
  PetscBool   same;
  char        have[128], want[128];

  PetscFunctionBeginUser;
  H5Quiet(e->dset = H5Dopen2(out->file, e->key, H5P_DEFAULT));
  PetscCheck(e->dset >= 0, out->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s in '%s': '/%s' exists but is not a dataset", out->option, what, out->path, e->key);
  H5Call(s = H5Dget_space(e->dset));
  H5Call(rank = H5Sget_simple_extent_ndims(s));
  if (rank <= 3) H5Call(H5Sget_simple_extent_dims(s, dims, NULL));
  H5Call(H5Sclose(s));
  H5Call(t = H5Dget_type(e->dset));
  H5Call(cls = H5Tget_class(t));
  size = H5Tget_size(t);
  H5Call(H5Tclose(t));
  same = (PetscBool)(rank == e->rank && size == H5Tget_size(ftype));
  if (e->type == SLIM_COL_STRING) same = (PetscBool)(same && cls == H5T_STRING);
  else same = (PetscBool)(same && cls == (e->type == SLIM_COL_REAL ? H5T_FLOAT : H5T_INTEGER));
  for (int i = 0; same && i < rank; i++) same = (PetscBool)(dims[i] == e->dims[i]);
  if (!same) {
    SlimColType htype = cls == H5T_STRING ? SLIM_COL_STRING : cls == H5T_FLOAT ? SLIM_COL_REAL : SLIM_COL_INT;
    SlimOutputDescribeShape(have, sizeof(have), htype, (PetscInt)size, rank > 3 ? 3 : rank, dims);
    SlimOutputDescribeShape(want, sizeof(want), e->type, e->width, e->rank, e->dims);
    H5Call(H5Dclose(e->dset));
    e->dset = -1;
    SETERRQ(out->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s in '%s' is %s but %s was requested (the file was written with a different setup)", out->option, what, out->path, have, want);
  }
  PetscFunctionReturn(0);
}

/* Creates the dataset with early allocation and its fill value (NaN, -1, ""): space and fill
 * are written now, collectively, so later independent writes touch raw data only. e->chunk0 > 0:
 * chunked layout, chunks of chunk0 rows x the other dimensions (src/output_chunked.c). */
static PetscErrorCode DsetCreate(SlimOutput out, SlimDset *e, hid_t ftype, const char units[], const char desc[])
{
  hid_t      s, dcpl, lcpl;
  hsize_t    chunk[3];
  double     nan_ = NAN;
  PetscInt64 m1   = -1;
  char      *sfill;

  PetscFunctionBeginUser;
  H5Call(s = H5Screate_simple(e->rank, e->dims, NULL));
  H5Call(dcpl = H5Pcreate(H5P_DATASET_CREATE));
  if (e->chunk0) {
    for (int i = 0; i < e->rank; i++) chunk[i] = i ? PetscMax(e->dims[i], 1) : PetscMax(PetscMin(e->chunk0, e->dims[0]), 1);
    H5Call(H5Pset_chunk(dcpl, e->rank, chunk));
  } else H5Call(H5Pset_layout(dcpl, H5D_CONTIGUOUS));
  H5Call(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY));
  H5Call(H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC));
  if (e->type == SLIM_COL_REAL) H5Call(H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &nan_));
  else if (e->type == SLIM_COL_INT) H5Call(H5Pset_fill_value(dcpl, H5T_NATIVE_INT64, &m1));
  else {
    PetscCall(PetscCalloc1(e->width, &sfill));
    H5Call(H5Pset_fill_value(dcpl, e->mtype, sfill));
    PetscCall(PetscFree(sfill));
  }
  H5Call(lcpl = H5Pcreate(H5P_LINK_CREATE));
  H5Call(H5Pset_create_intermediate_group(lcpl, 1));
  H5Call(e->dset = H5Dcreate2(out->file, e->key, ftype, s, lcpl, dcpl, H5P_DEFAULT));
  H5Call(H5Pclose(lcpl));
  H5Call(H5Pclose(dcpl));
  H5Call(H5Sclose(s));
  if (units) PetscCall(SlimOutputWriteAttrString(e->dset, "units", units));
  if (desc) PetscCall(SlimOutputWriteAttrString(e->dset, "description", desc));
  PetscFunctionReturn(0);
}

/* Opens the dataset of e->key if it exists (checking it against e's shape), else creates it
 * with early allocation and its fill value (*created set). On return e->dset and e->mtype are
 * set. `what` names the object in errors, e.g. "table 'runs' column 'q'". Collective. */
PetscErrorCode SlimDsetOpenOrCreate(SlimOutput out, SlimDset *e, const char units[], const char desc[], const char what[], PetscBool *created)
{
  PetscBool exists;
  hid_t     ftype;

  PetscFunctionBeginUser;
  if (out->estimate) {
    PetscInt64 n = e->type == SLIM_COL_STRING ? (PetscInt64)e->width : 8;
    for (int i = 0; i < e->rank; i++) n *= (PetscInt64)e->dims[i];
    out->est_bytes += n + SLIM_OUTPUT_DSET_OVERHEAD;
    if (e->isarray) out->est_array = PetscMax(out->est_array, n);
    *created = PETSC_TRUE;
    PetscFunctionReturn(0);
  }
  PetscCall(DsetTypes(e, &ftype));
  PetscCall(SlimOutputObjExists(out->file, e->key, &exists));
  *created = (PetscBool)!exists;
  /* the caller frees e (and its string type) on error */
  PetscCheck(exists || !out->readonly, out->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s is missing from '%s' (a damaged file, or one written by another version)", out->option, what, out->path);
  if (exists) PetscCall(DsetOpenExisting(out, e, ftype, what));
  else PetscCall(DsetCreate(out, e, ftype, units, desc));
  PetscFunctionReturn(0);
}

/* The open column table/col, or an error naming both. */
PetscErrorCode SlimOutputFindColumn(SlimOutput out, const char table[], const char col[], SlimDset **e)
{
  char  *tkey, *key;
  size_t tl;

  PetscFunctionBeginUser;
  PetscCall(SlimOutputNormalizePath(table, &tkey));
  tl = strlen(tkey);
  PetscCall(PetscMalloc1(tl + strlen(col) + 2, &key));
  sprintf(key, "%s/%s", tkey, col);
  *e = SlimDsetLookup(out, key);
  PetscCall(PetscFree(key));
  PetscCall(PetscFree(tkey));
  PetscCheck(*e && !(*e)->isarray, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "%s: table '%s' has no column '%s' in '%s' (define the table first with SlimOutputDefineTable, also when resuming)", out->option, table, col, out->path);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputFindArray(SlimOutput out, const char path[], SlimDset **e)
{
  char *key;

  PetscFunctionBeginUser;
  PetscCall(SlimOutputNormalizePath(path, &key));
  *e = SlimDsetLookup(out, key);
  PetscCall(PetscFree(key));
  PetscCheck(*e && (*e)->isarray, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "%s: no array '%s' in '%s' (define it first with SlimOutputDefineArray, also when resuming)", out->option, path, out->path);
  PetscFunctionReturn(0);
}
