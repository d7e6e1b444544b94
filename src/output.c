/* SlimOutput: one parallel-HDF5 results file (see include/slim/output.h).
 *
 * Durability design. Every dataset is created collectively at its final size with early
 * allocation and contiguous layout, the fill value is written at allocation, and H5Fflush puts
 * all metadata on disk before any result exists. After that, WriteRows/WriteArray only write
 * raw data into already-allocated bytes and never touch metadata, so a file left by writers
 * killed at any moment is complete as far as HDF5 is concerned.
 *
 * For a row to survive SIGKILL of the writer it only has to reach the kernel (the page cache
 * survives the process). The layers that could hold it back in user space:
 *  - HDF5 sieve buffer: used only by drivers with H5FD_FEAT_DATA_SIEVE, which the MPI-IO
 *    driver does not advertise; we still set its size to 0 so that no HDF5 build or version
 *    can cache raw data behind our back.
 *  - HDF5 metadata cache / accumulator: raw-data writes do not go through them.
 *  - MPI-IO: with independent transfer the MPI-IO driver issues one MPI_File_write_at per
 *    contiguous run of bytes (MPI_BYTE, no file view), which both OMPIO (fbtl/posix: pwritev)
 *    and ROMIO (ADIOI_GEN_WriteContig: pwrite) perform synchronously; neither caches
 *    independent writes. Contiguous requests also mean no read-modify-write (data sieving) that
 *    could race with other ranks writing neighbouring rows.
 * Surviving a machine crash additionally needs the data on stable storage. MPI_File_sync and
 * H5Fflush are collective, so an independent writer cannot use them; with the option
 * <option>_fsync (e.g. -output_fsync) every rank keeps a plain POSIX descriptor of the file and
 * calls fdatasync() on it after each independent write (fsync acts on the inode, so it covers
 * the bytes MPI-IO wrote through its own descriptor). Off by default: it costs a disk flush per
 * write and SIGKILL safety does not need it. */
#define _POSIX_C_SOURCE 200809L /* fdatasync, strnlen */
#include <slim/log.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outputimpl.h"

/* ---------------------------------------------------------------- dataset table */

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

static SlimDset *Lookup(SlimOutput out, const char key[])
{
  if (!out->nhash) return NULL;
  for (size_t j = HashString(key) & (size_t)(out->nhash - 1);; j = (j + 1) & (size_t)(out->nhash - 1)) {
    if (out->hash[j] < 0) return NULL;
    if (!strcmp(out->d[out->hash[j]].key, key)) return &out->d[out->hash[j]];
  }
}

/* Appends a copy of *e (taking ownership of its key, table and handles). */
static PetscErrorCode Insert(SlimOutput out, const SlimDset *e)
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

/* ---------------------------------------------------------------- helpers */

/* Copies p without leading/trailing '/' ("" is the root group). */
static PetscErrorCode NormalizePath(const char p[], char **key)
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
static PetscErrorCode ObjExists(hid_t file, const char key[], PetscBool *exists)
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

/* Writes attribute name on object oid, replacing an existing one (collective). */
static PetscErrorCode WriteAttr(hid_t oid, const char name[], hid_t ftype, hid_t mtype, hid_t space, const void *buf)
{
  htri_t e;
  hid_t  a;
  herr_t st;

  PetscFunctionBeginUser;
  H5Call(e = H5Aexists(oid, name));
  if (e) H5Call(H5Adelete(oid, name)); /* type or size may differ: recreate rather than overwrite */
  H5Call(a = H5Acreate2(oid, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT));
  st = H5Awrite(a, mtype, buf);
  H5Call(H5Aclose(a));
  H5Call(st);
  PetscFunctionReturn(0);
}

/* String attributes are variable-length UTF-8 strings, which h5py returns as str. */
static PetscErrorCode WriteAttrString(hid_t oid, const char name[], const char value[])
{
  hid_t          t, s;
  PetscErrorCode ierr;
  const char    *v = value ? value : "";

  PetscFunctionBeginUser;
  H5Call(t = H5Tcopy(H5T_C_S1));
  H5Call(H5Tset_size(t, H5T_VARIABLE));
  H5Call(H5Tset_cset(t, H5T_CSET_UTF8));
  H5Call(s = H5Screate(H5S_SCALAR));
  ierr = WriteAttr(oid, name, t, t, s, &v);
  H5Call(H5Sclose(s));
  H5Call(H5Tclose(t));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* Numeric attributes: a scalar for n == 1, else a 1-d array of n. */
static PetscErrorCode WriteAttrNumeric(hid_t oid, const char name[], hid_t ftype, hid_t mtype, PetscInt n, const void *value)
{
  hid_t          s;
  hsize_t        dim = (hsize_t)n;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCheck(n >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Attribute '%s' needs at least one value, got %" PetscInt_FMT, name, n);
  if (n == 1) H5Call(s = H5Screate(H5S_SCALAR));
  else H5Call(s = H5Screate_simple(1, &dim, NULL));
  ierr = WriteAttr(oid, name, ftype, mtype, s, value);
  H5Call(H5Sclose(s));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

static const char *TypeName(SlimColType t)
{
  return t == SLIM_COL_REAL ? "real" : t == SLIM_COL_INT ? "int" : "string";
}

/* "real [10 x 3]", "string(12) [10]" */
static void Describe(char buf[], size_t len, SlimColType type, PetscInt width, int rank, const hsize_t dims[])
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

/* Opens the dataset of e->key if it exists (checking it against e's shape), else creates it
 * with early allocation and its fill value (*created set). On return e->dset and e->mtype are
 * set. `what` names the object in errors, e.g. "table 'runs' column 'q'". Collective. */
static PetscErrorCode OpenOrCreateDataset(SlimOutput out, SlimDset *e, const char units[], const char desc[], const char what[], PetscBool *created)
{
  PetscBool exists;
  hid_t     ftype;

  PetscFunctionBeginUser;
  /* file and memory types */
  if (e->type == SLIM_COL_STRING) {
    H5Call(e->mtype = H5Tcopy(H5T_C_S1));
    H5Call(H5Tset_size(e->mtype, (size_t)e->width));
    H5Call(H5Tset_strpad(e->mtype, H5T_STR_NULLPAD));
    ftype = e->mtype;
  } else if (e->type == SLIM_COL_REAL) {
    e->mtype = H5T_NATIVE_DOUBLE;
    ftype    = H5T_IEEE_F64LE;
  } else {
    e->mtype = H5T_NATIVE_INT64;
    ftype    = H5T_STD_I64LE;
  }

  PetscCall(ObjExists(out->file, e->key, &exists));
  *created = (PetscBool)!exists;
  if (exists) {
    hid_t       s, t;
    int         rank;
    hsize_t     dims[3] = {0, 0, 0};
    H5T_class_t cls;
    size_t      size;
    PetscBool   same;
    char        have[128], want[128];

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
      Describe(have, sizeof(have), htype, (PetscInt)size, rank > 3 ? 3 : rank, dims);
      Describe(want, sizeof(want), e->type, e->width, e->rank, e->dims);
      H5Call(H5Dclose(e->dset));
      e->dset = -1;
      SETERRQ(out->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s in '%s' is %s but %s was requested (the file was written with a different setup)", out->option, what, out->path, have, want);
    }
  } else {
    hid_t     s, dcpl, lcpl;
    double    nan_ = NAN;
    PetscInt64 m1  = -1;
    char     *sfill;

    H5Call(s = H5Screate_simple(e->rank, e->dims, NULL));
    H5Call(dcpl = H5Pcreate(H5P_DATASET_CREATE));
    H5Call(H5Pset_layout(dcpl, H5D_CONTIGUOUS));
    /* space and fill written now, collectively, so later independent writes touch raw data only */
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
    if (units) PetscCall(WriteAttrString(e->dset, "units", units));
    if (desc) PetscCall(WriteAttrString(e->dset, "description", desc));
  }
  PetscFunctionReturn(0);
}

static void FreeEntry(SlimDset *e)
{
  if (e->dset >= 0) H5Dclose(e->dset);
  if (e->type == SLIM_COL_STRING && e->mtype >= 0) H5Tclose(e->mtype);
  PetscFree(e->key);
  PetscFree(e->table);
}

/* Rank 0's verdict on whether `path` can be opened in `mode`, as an error message ("" if fine).
 * Done with POSIX calls before HDF5 so the message can name the reason (errno). */
static void ProbePath(const char path[], SlimOutputMode mode, const char opt[], char msg[], size_t len)
{
  struct stat st;
  int         fd, exists;

  msg[0] = 0;
  if (!path || !path[0]) {
    snprintf(msg, len, "%s: empty file name", opt);
    return;
  }
  exists = !stat(path, &st);
  if (!exists && errno != ENOENT) {
    snprintf(msg, len, "%s: cannot %s '%s': %s", opt, mode == SLIM_OUTPUT_RESUME ? "open" : "create", path, strerror(errno));
    return;
  }
  if (mode == SLIM_OUTPUT_RESUME) {
    if (!exists) snprintf(msg, len, "%s: cannot resume '%s': the file does not exist", opt, path);
    else if (S_ISDIR(st.st_mode)) snprintf(msg, len, "%s: cannot resume '%s': %s", opt, path, strerror(EISDIR));
    else if ((fd = open(path, O_RDWR)) < 0) snprintf(msg, len, "%s: cannot open '%s' for writing: %s", opt, path, strerror(errno));
    else {
      htri_t h5;
      close(fd);
      H5Quiet(h5 = H5Fis_hdf5(path));
      if (h5 <= 0) snprintf(msg, len, "%s: cannot resume '%s': not an HDF5 file", opt, path);
    }
    return;
  }
  if (exists && mode == SLIM_OUTPUT_CREATE) {
    snprintf(msg, len, "%s: file '%s' exists; use -force to replace it or -sweep_resume to continue it", opt, path);
    return;
  }
  if (exists) { /* FORCE: must be able to truncate it */
    if (S_ISDIR(st.st_mode)) snprintf(msg, len, "%s: cannot create '%s': %s", opt, path, strerror(EISDIR));
    else if ((fd = open(path, O_WRONLY)) < 0) snprintf(msg, len, "%s: cannot create '%s': %s", opt, path, strerror(errno));
    else close(fd);
    return;
  }
  /* new file: create and remove a probe in its place to learn whether the directory is writable */
  if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666)) < 0) {
    snprintf(msg, len, "%s: cannot create '%s': %s", opt, path, strerror(errno));
    return;
  }
  close(fd);
  unlink(path);
}

/* ---------------------------------------------------------------- API */

PetscErrorCode SlimOutputOpen(MPI_Comm comm, const char path[], SlimOutputMode mode, const char option[], SlimOutput *out)
{
  SlimOutput  o;
  PetscMPIInt rank;
  char        msg[PETSC_MAX_PATH_LEN + 512], fsyncopt[256];
  const char *opt = option && option[0] ? option : "-output";
  hid_t       fapl, file;
  int         ok, allok;
  PetscBool   dosync = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCheck(out, comm, PETSC_ERR_ARG_NULL, "NULL SlimOutput pointer");
  *out = NULL;
  PetscCall(SlimLogRegister());
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  /* rank 0 decides, everyone raises the same error: no rank is left waiting in H5Fcreate */
  if (rank == 0) ProbePath(path, mode, opt, msg, sizeof(msg));
  PetscCallMPI(MPI_Bcast(msg, sizeof(msg), MPI_CHAR, 0, comm));
  PetscCheck(!msg[0], comm, PETSC_ERR_FILE_OPEN, "%s", msg);

  H5Call(fapl = H5Pcreate(H5P_FILE_ACCESS));
  H5Call(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL));
  H5Call(H5Pset_sieve_buf_size(fapl, 0)); /* no raw-data caching in HDF5 (see top of file) */
  /* default libver bounds on purpose: superblock v0 has no status flags, so a killed writer
   * leaves a file that opens without h5clear */
  if (mode == SLIM_OUTPUT_RESUME) H5Quiet(file = H5Fopen(path, H5F_ACC_RDWR, fapl));
  else H5Quiet(file = H5Fcreate(path, mode == SLIM_OUTPUT_CREATE ? H5F_ACC_EXCL : H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
  H5Call(H5Pclose(fapl));
  ok = file >= 0;
  PetscCallMPI(MPI_Allreduce(&ok, &allok, 1, MPI_INT, MPI_MIN, comm));
  if (!allok) {
    /* closing is collective, so a handle open on only some ranks cannot be closed safely */
    PetscCheck(ok, comm, PETSC_ERR_FILE_OPEN, "%s: cannot %s '%s' as an HDF5 file through MPI-IO", opt, mode == SLIM_OUTPUT_RESUME ? "open" : "create", path);
    SETERRQ(comm, PETSC_ERR_FILE_OPEN, "%s: cannot %s '%s' as an HDF5 file through MPI-IO on every rank", opt, mode == SLIM_OUTPUT_RESUME ? "open" : "create", path);
  }

  PetscCall(PetscNew(&o));
  o->file = file;
  o->fd   = -1;
  PetscCallMPI(MPI_Comm_dup(comm, &o->comm));
  PetscCall(PetscStrallocpy(path, &o->path));
  PetscCall(PetscStrallocpy(opt, &o->option));
  H5Call(o->dxpl = H5Pcreate(H5P_DATASET_XFER));
  H5Call(H5Pset_dxpl_mpio(o->dxpl, H5FD_MPIO_INDEPENDENT));

  PetscCall(PetscSNPrintf(fsyncopt, sizeof(fsyncopt), "%s_fsync", opt[0] == '-' ? opt : "-output"));
  PetscCall(PetscOptionsGetBool(NULL, NULL, fsyncopt, &dosync, NULL));
  if (dosync) {
    o->fd = open(path, O_RDWR);
    PetscCheck(o->fd >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "%s: cannot open '%s' for %s: %s", opt, path, fsyncopt, strerror(errno));
  }
  *out = o;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputDestroy(SlimOutput *out)
{
  SlimOutput o;

  PetscFunctionBeginUser;
  if (!out || !*out) PetscFunctionReturn(0);
  o = *out;
  for (PetscInt i = 0; i < o->nd; i++) FreeEntry(&o->d[i]);
  PetscCall(PetscFree(o->d));
  PetscCall(PetscFree(o->hash));
  H5Call(H5Pclose(o->dxpl));
  H5Call(H5Fclose(o->file)); /* collective; flushes */
  if (o->fd >= 0) close(o->fd);
  PetscCall(PetscFree(o->path));
  PetscCall(PetscFree(o->option));
  PetscCallMPI(MPI_Comm_free(&o->comm));
  PetscCall(PetscFree(o));
  *out = NULL;
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputFlush(SlimOutput out)
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Output, 0, 0, 0, 0));
  H5Call(H5Fflush(out->file, H5F_SCOPE_GLOBAL)); /* metadata + MPI_File_sync */
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputGetPath(SlimOutput out, const char **path)
{
  PetscFunctionBeginUser;
  *path = out->path;
  PetscFunctionReturn(0);
}

/* Opens or creates column c of table tkey (see OpenOrCreateDataset); *created says whether
 * metadata changed. */
static PetscErrorCode DefineColumn(SlimOutput out, const char tkey[], PetscInt nrows, PetscInt c, const SlimColumn *col, PetscBool *created)
{
  SlimDset       e, *old;
  char           what[512];
  size_t         tl = strlen(tkey);
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *created = PETSC_FALSE;
  PetscCheck(col->name && col->name[0] && !strchr(col->name, '/'), out->comm, PETSC_ERR_ARG_WRONG, "%s: table '%s' column %" PetscInt_FMT " has an invalid name", out->option, tkey, c);
  PetscCheck(col->width >= 1, out->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: table '%s' column '%s' has width %" PetscInt_FMT " < 1", out->option, tkey, col->name, col->width);
  PetscCall(PetscSNPrintf(what, sizeof(what), "table '%s' column '%s'", tkey, col->name));
  PetscCall(PetscMemzero(&e, sizeof(e)));
  e.dset    = -1;
  e.mtype   = -1;
  e.type    = col->type;
  e.width   = col->width;
  e.rank    = (e.type != SLIM_COL_STRING && e.width > 1) ? 2 : 1;
  e.dims[0] = (hsize_t)nrows;
  e.dims[1] = (hsize_t)e.width;
  PetscCall(PetscMalloc1(tl + strlen(col->name) + 2, &e.key));
  sprintf(e.key, "%s/%s", tkey, col->name);
  e.col = e.key + tl + 1;

  if ((old = Lookup(out, e.key))) { /* defined before in this session: compare with that */
    PetscBool same = (PetscBool)(!old->isarray && old->type == e.type && old->rank == e.rank && old->dims[0] == e.dims[0] && old->width == e.width);
    char      have[128], want[128];
    Describe(have, sizeof(have), old->type, old->width, old->rank, old->dims);
    Describe(want, sizeof(want), e.type, e.width, e.rank, e.dims);
    PetscCall(PetscFree(e.key));
    PetscCheck(same, out->comm, PETSC_ERR_ARG_INCOMP, "%s: %s in '%s' is %s but %s was requested", out->option, what, out->path, have, want);
    PetscFunctionReturn(0);
  }
  PetscCall(PetscStrallocpy(tkey, &e.table));
  ierr = OpenOrCreateDataset(out, &e, col->units, col->desc, what, created);
  if (ierr) {
    FreeEntry(&e);
    PetscCall(ierr);
  }
  PetscCall(Insert(out, &e));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputDefineTable(SlimOutput out, const char table[], const char desc[], PetscInt nrows, PetscInt ncol, const SlimColumn cols[])
{
  char          *tkey;
  PetscBool      exists, created, dirty = PETSC_FALSE;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscCall(NormalizePath(table, &tkey));
  PetscCheck(tkey[0], out->comm, PETSC_ERR_ARG_WRONG, "%s: empty table name", out->option);
  PetscCheck(nrows >= 0 && ncol >= 0, out->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: table '%s' with %" PetscInt_FMT " rows and %" PetscInt_FMT " columns", out->option, tkey, nrows, ncol);

  PetscCall(ObjExists(out->file, tkey, &exists));
  if (!exists) {
    hid_t g, lcpl;
    H5Call(lcpl = H5Pcreate(H5P_LINK_CREATE));
    H5Call(H5Pset_create_intermediate_group(lcpl, 1));
    H5Call(g = H5Gcreate2(out->file, tkey, lcpl, H5P_DEFAULT, H5P_DEFAULT));
    H5Call(H5Pclose(lcpl));
    if (desc) PetscCall(WriteAttrString(g, "description", desc));
    H5Call(H5Gclose(g));
    dirty = PETSC_TRUE;
  } else {
    H5O_info_t info;
    H5Call(H5Oget_info_by_name(out->file, tkey, &info, H5P_DEFAULT));
    PetscCheck(info.type == H5O_TYPE_GROUP, out->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: table '%s' in '%s': '/%s' exists but is not a group", out->option, tkey, out->path, tkey);
  }
  for (PetscInt c = 0; c < ncol && !ierr; c++) {
    ierr  = DefineColumn(out, tkey, nrows, c, &cols[c], &created);
    dirty = (PetscBool)(dirty || created);
  }
  PetscCall(PetscFree(tkey));
  /* no flush here: each costs an fsync; the caller flushes once after defining everything */
  (void)dirty;
  PetscCall(ierr);
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

/* The open column table/col, or an error naming both. */
static PetscErrorCode FindColumn(SlimOutput out, const char table[], const char col[], SlimDset **e)
{
  char  *tkey, *key;
  size_t tl;

  PetscFunctionBeginUser;
  PetscCall(NormalizePath(table, &tkey));
  tl = strlen(tkey);
  PetscCall(PetscMalloc1(tl + strlen(col) + 2, &key));
  sprintf(key, "%s/%s", tkey, col);
  *e = Lookup(out, key);
  PetscCall(PetscFree(key));
  PetscCall(PetscFree(tkey));
  PetscCheck(*e && !(*e)->isarray, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "%s: table '%s' has no column '%s' in '%s' (define the table first with SlimOutputDefineTable, also when resuming)", out->option, table, col, out->path);
  PetscFunctionReturn(0);
}

static PetscErrorCode FindArray(SlimOutput out, const char path[], SlimDset **e)
{
  char *key;

  PetscFunctionBeginUser;
  PetscCall(NormalizePath(path, &key));
  *e = Lookup(out, key);
  PetscCall(PetscFree(key));
  PetscCheck(*e && (*e)->isarray, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "%s: no array '%s' in '%s' (define it first with SlimOutputDefineArray, also when resuming)", out->option, path, out->path);
  PetscFunctionReturn(0);
}

/* With <option>_fsync: push this rank's writes to stable storage (independent fdatasync). */
static PetscErrorCode SyncData(SlimOutput out)
{
  PetscFunctionBeginUser;
  if (out->fd >= 0) PetscCheck(!fdatasync(out->fd), PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "%s: fdatasync of '%s' failed: %s", out->option, out->path, strerror(errno));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputWriteRows(SlimOutput out, const char table[], const char col[], PetscInt n, const PetscInt rows[], const void *data)
{
  SlimDset   *e;
  hsize_t    *coords, nsel;
  hid_t       fs, ms;
  herr_t      st;
  const void *buf = data;
  char       *sbuf = NULL;
  int         r2;

  PetscFunctionBeginUser;
  PetscCall(FindColumn(out, table, col, &e));
  if (n <= 0) PetscFunctionReturn(0);
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Output, 0, 0, 0, 0));
  for (PetscInt i = 0; i < n; i++) PetscCheck(rows[i] >= 0 && (hsize_t)rows[i] < e->dims[0], PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "%s: row %" PetscInt_FMT " of table '%s' column '%s' out of range [0, %llu)", out->option, rows[i], e->table, e->col, (unsigned long long)e->dims[0]);

  /* point selection in the caller's row order (a hyperslab union would be sorted); a row of a
   * width>1 column is width consecutive points */
  r2   = e->rank == 2;
  nsel = r2 ? (hsize_t)n * e->dims[1] : (hsize_t)n;
  PetscCall(PetscMalloc1(r2 ? 2 * nsel : nsel, &coords));
  if (r2) {
    for (PetscInt i = 0, k = 0; i < n; i++)
      for (hsize_t j = 0; j < e->dims[1]; j++, k++) {
        coords[2 * k]     = (hsize_t)rows[i];
        coords[2 * k + 1] = j;
      }
  } else
    for (PetscInt i = 0; i < n; i++) coords[i] = (hsize_t)rows[i];

  if (e->type == SLIM_COL_STRING) { /* zero everything after the terminator: stored null-padded */
    PetscCall(PetscMalloc1((size_t)n * e->width, &sbuf));
    PetscCall(PetscMemcpy(sbuf, data, (size_t)n * e->width));
    for (PetscInt i = 0; i < n; i++) {
      char *s = sbuf + (size_t)i * e->width;
      size_t l = strnlen(s, (size_t)e->width);
      memset(s + l, 0, (size_t)e->width - l);
    }
    buf = sbuf;
  }

  H5Call(fs = H5Dget_space(e->dset));
  st = H5Sselect_elements(fs, H5S_SELECT_SET, (size_t)nsel, coords);
  if (st >= 0) {
    H5Call(ms = H5Screate_simple(1, &nsel, NULL));
    st = H5Dwrite(e->dset, e->mtype, ms, fs, out->dxpl, buf);
    H5Call(H5Sclose(ms));
  }
  H5Call(H5Sclose(fs));
  PetscCall(PetscFree(coords));
  PetscCall(PetscFree(sbuf));
  PetscCheck(st >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "%s: writing %" PetscInt_FMT " rows of table '%s' column '%s' to '%s' failed", out->option, n, e->table, e->col, out->path);
  PetscCall(SyncData(out));
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputReadColumn(SlimOutput out, const char table[], const char col[], void *data)
{
  SlimDset *e;

  PetscFunctionBeginUser;
  PetscCall(FindColumn(out, table, col, &e));
  if (!e->dims[0]) PetscFunctionReturn(0);
  PetscCheck(H5Dread(e->dset, e->mtype, H5S_ALL, H5S_ALL, out->dxpl, data) >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: reading table '%s' column '%s' from '%s' failed", out->option, e->table, e->col, out->path);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputTableExists(SlimOutput out, const char table[], PetscBool *exists)
{
  char *tkey;

  PetscFunctionBeginUser;
  PetscCall(NormalizePath(table, &tkey));
  PetscCall(ObjExists(out->file, tkey, exists));
  if (*exists && tkey[0]) {
    H5O_info_t info;
    H5Call(H5Oget_info_by_name(out->file, tkey, &info, H5P_DEFAULT));
    *exists = (PetscBool)(info.type == H5O_TYPE_GROUP);
  }
  PetscCall(PetscFree(tkey));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputDefineArray(SlimOutput out, const char path[], PetscInt rank, const PetscInt dims[], const char units[], const char desc[])
{
  SlimDset  e, *old;
  char      what[512];

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscCheck(rank >= 0 && rank <= 3, out->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: array '%s' has rank %" PetscInt_FMT ", must be 0..3", out->option, path, rank);
  PetscCall(PetscMemzero(&e, sizeof(e)));
  e.dset    = -1;
  e.mtype   = -1;
  e.type    = SLIM_COL_REAL;
  e.width   = 1;
  e.rank    = (int)rank;
  e.isarray = PETSC_TRUE;
  for (PetscInt i = 0; i < rank; i++) {
    PetscCheck(dims[i] >= 0, out->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: array '%s' has negative dimension", out->option, path);
    e.dims[i] = (hsize_t)dims[i];
  }
  PetscCall(NormalizePath(path, &e.key));
  PetscCheck(e.key[0], out->comm, PETSC_ERR_ARG_WRONG, "%s: empty array path", out->option);
  PetscCall(PetscSNPrintf(what, sizeof(what), "array '%s'", e.key));
  if ((old = Lookup(out, e.key))) {
    PetscBool same = (PetscBool)(old->isarray && old->rank == e.rank);
    char      have[128], want[128];
    for (int i = 0; same && i < e.rank; i++) same = (PetscBool)(old->dims[i] == e.dims[i]);
    Describe(have, sizeof(have), old->type, old->width, old->rank, old->dims);
    Describe(want, sizeof(want), e.type, e.width, e.rank, e.dims);
    PetscCall(PetscFree(e.key));
    PetscCheck(same, out->comm, PETSC_ERR_ARG_INCOMP, "%s: %s in '%s' is %s but %s was requested", out->option, what, out->path, have, want);
  } else {
    PetscBool      created;
    PetscErrorCode ierr = OpenOrCreateDataset(out, &e, units, desc, what, &created);
    if (ierr) {
      FreeEntry(&e);
      PetscCall(ierr);
    }
    PetscCall(Insert(out, &e));
    (void)created; /* flushed by the caller's SlimOutputFlush() after all definitions */
  }
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputWriteArray(SlimOutput out, const char path[], const PetscReal data[])
{
  SlimDset *e;
  herr_t    st;

  PetscFunctionBeginUser;
  PetscCall(FindArray(out, path, &e));
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Output, 0, 0, 0, 0));
  st = H5Dwrite(e->dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, out->dxpl, data);
  PetscCheck(st >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "%s: writing array '%s' to '%s' failed", out->option, e->key, out->path);
  PetscCall(SyncData(out));
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputReadArray(SlimOutput out, const char path[], PetscReal data[])
{
  SlimDset *e;

  PetscFunctionBeginUser;
  PetscCall(FindArray(out, path, &e));
  PetscCheck(H5Dread(e->dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, out->dxpl, data) >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: reading array '%s' from '%s' failed", out->option, e->key, out->path);
  PetscFunctionReturn(0);
}

/* Opens obj ("" or "/" is the root), with an error naming it if missing. */
static PetscErrorCode OpenObject(SlimOutput out, MPI_Comm comm, const char obj[], hid_t *oid)
{
  char     *key;
  PetscBool exists;

  PetscFunctionBeginUser;
  PetscCall(NormalizePath(obj, &key));
  PetscCall(ObjExists(out->file, key, &exists));
  if (!exists) {
    PetscCall(PetscFree(key));
    SETERRQ(comm, PETSC_ERR_ARG_WRONG, "%s: no object '%s' in '%s' to hold an attribute", out->option, obj, out->path);
  }
  H5Call(*oid = H5Oopen(out->file, key[0] ? key : "/", H5P_DEFAULT));
  PetscCall(PetscFree(key));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputSetAttrString(SlimOutput out, const char obj[], const char name[], const char value[])
{
  hid_t          o;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(OpenObject(out, out->comm, obj, &o));
  ierr = WriteAttrString(o, name, value);
  H5Call(H5Oclose(o));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputSetAttrReal(SlimOutput out, const char obj[], const char name[], PetscInt n, const PetscReal value[])
{
  hid_t          o;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(OpenObject(out, out->comm, obj, &o));
  ierr = WriteAttrNumeric(o, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, n, value);
  H5Call(H5Oclose(o));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputSetAttrInt(SlimOutput out, const char obj[], const char name[], PetscInt n, const PetscInt64 value[])
{
  hid_t          o;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(OpenObject(out, out->comm, obj, &o));
  ierr = WriteAttrNumeric(o, name, H5T_STD_I64LE, H5T_NATIVE_INT64, n, value);
  H5Call(H5Oclose(o));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputGetAttrString(SlimOutput out, const char obj[], const char name[], char buf[], size_t len)
{
  hid_t       o, a, t, mt;
  htri_t      e, vl;
  H5T_class_t cls;
  H5T_cset_t  cset;
  herr_t      st;
  size_t      size;

  PetscFunctionBeginUser;
  PetscCheck(len > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "Zero-length buffer for attribute '%s'", name);
  PetscCall(OpenObject(out, PETSC_COMM_SELF, obj, &o));
  H5Call(e = H5Aexists(o, name));
  if (!e) {
    H5Call(H5Oclose(o));
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: '%s' in '%s' has no attribute '%s'", out->option, obj, out->path, name);
  }
  H5Call(a = H5Aopen(o, name, H5P_DEFAULT));
  H5Call(t = H5Aget_type(a));
  H5Call(cls = H5Tget_class(t));
  H5Call(vl = cls == H5T_STRING ? H5Tis_variable_str(t) : 0);
  size = H5Tget_size(t);
  cset = H5Tget_cset(t);
  H5Call(H5Tclose(t));
  if (cls != H5T_STRING) {
    H5Call(H5Aclose(a));
    H5Call(H5Oclose(o));
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: attribute '%s' of '%s' in '%s' is not a string", out->option, name, obj, out->path);
  }
  /* read as written: variable-length (ours, h5py's str) or fixed-length (h5py's bytes) */
  H5Call(mt = H5Tcopy(H5T_C_S1));
  H5Call(H5Tset_cset(mt, cset)); /* HDF5 does not convert between ASCII and UTF-8 */
  if (vl) {
    char *s = NULL;
    H5Call(H5Tset_size(mt, H5T_VARIABLE));
    st = H5Aread(a, mt, &s);
    if (st >= 0) {
      size = s ? strlen(s) : 0;
      if (size < len) PetscCall(PetscMemcpy(buf, s ? s : "", size + 1));
      H5free_memory(s);
    }
  } else {
    char *s;
    H5Call(H5Tset_size(mt, size + 1)); /* converts to a null-terminated string */
    PetscCall(PetscCalloc1(size + 1, &s));
    st = H5Aread(a, mt, s);
    size = strlen(s);
    if (st >= 0 && size < len) PetscCall(PetscMemcpy(buf, s, size + 1));
    PetscCall(PetscFree(s));
  }
  H5Call(H5Tclose(mt));
  H5Call(H5Aclose(a));
  H5Call(H5Oclose(o));
  H5Call(st);
  PetscCheck(size < len, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "%s: attribute '%s' of '%s' has %zu characters, more than the buffer of %zu holds", out->option, name, obj, size, len);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputHasAttr(SlimOutput out, const char obj[], const char name[], PetscBool *has)
{
  char     *key;
  PetscBool exists;
  htri_t    e = 0;

  PetscFunctionBeginUser;
  PetscCall(NormalizePath(obj, &key));
  PetscCall(ObjExists(out->file, key, &exists));
  if (exists) H5Call(e = H5Aexists_by_name(out->file, key[0] ? key : "/", name, H5P_DEFAULT));
  PetscCall(PetscFree(key));
  *has = (PetscBool)(e > 0);
  PetscFunctionReturn(0);
}
