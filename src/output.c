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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outputimpl.h"
















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
  if (mode == SLIM_OUTPUT_ESTIMATE) {
    PetscCall(PetscNew(&o));
    o->file = o->dxpl = -1;
    o->fd             = -1;
    o->estimate       = PETSC_TRUE;
    PetscCallMPI(MPI_Comm_dup(comm, &o->comm));
    PetscCall(PetscStrallocpy(path ? path : "", &o->path));
    PetscCall(PetscStrallocpy(opt, &o->option));
    *out = o;
    PetscFunctionReturn(0);
  }
  /* rank 0 decides, everyone raises the same error: no rank is left waiting in H5Fcreate */
  if (rank == 0) ProbePath(path, mode == SLIM_OUTPUT_CHECK ? SLIM_OUTPUT_RESUME : mode, opt, msg, sizeof(msg));
  PetscCallMPI(MPI_Bcast(msg, sizeof(msg), MPI_CHAR, 0, comm));
  PetscCheck(!msg[0], comm, PETSC_ERR_FILE_OPEN, "%s", msg);

  H5Call(fapl = H5Pcreate(H5P_FILE_ACCESS));
  H5Call(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL));
  H5Call(H5Pset_sieve_buf_size(fapl, 0)); /* no raw-data caching in HDF5 (see top of file) */
  /* default libver bounds on purpose: superblock v0 has no status flags, so a killed writer
   * leaves a file that opens without h5clear */
  if (mode == SLIM_OUTPUT_RESUME || mode == SLIM_OUTPUT_CHECK) H5Quiet(file = H5Fopen(path, mode == SLIM_OUTPUT_CHECK ? H5F_ACC_RDONLY : H5F_ACC_RDWR, fapl));
  else H5Quiet(file = H5Fcreate(path, mode == SLIM_OUTPUT_CREATE ? H5F_ACC_EXCL : H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
  H5Call(H5Pclose(fapl));
  ok = file >= 0;
  PetscCallMPI(MPI_Allreduce(&ok, &allok, 1, MPI_INT, MPI_MIN, comm));
  if (!allok) {
    /* closing is collective, so a handle open on only some ranks cannot be closed safely */
    PetscCheck(ok, comm, PETSC_ERR_FILE_OPEN, "%s: cannot %s '%s' as an HDF5 file through MPI-IO (damaged or truncated?)", opt, mode == SLIM_OUTPUT_CREATE || mode == SLIM_OUTPUT_FORCE ? "create" : "open", path);
    SETERRQ(comm, PETSC_ERR_FILE_OPEN, "%s: cannot %s '%s' as an HDF5 file through MPI-IO on every rank", opt, mode == SLIM_OUTPUT_CREATE || mode == SLIM_OUTPUT_FORCE ? "create" : "open", path);
  }

  PetscCall(PetscNew(&o));
  o->file     = file;
  o->fd       = -1;
  o->readonly = (PetscBool)(mode == SLIM_OUTPUT_CHECK);
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
  herr_t     st = 0;
  char       msg[PETSC_MAX_PATH_LEN + 256] = "";

  PetscFunctionBeginUser;
  if (!out || !*out) PetscFunctionReturn(0);
  o = *out;
  for (PetscInt i = 0; i < o->nd; i++) SlimDsetFree(&o->d[i]);
  PetscCall(PetscFree(o->d));
  PetscCall(PetscFree(o->hash));
  if (!o->estimate) {
    /* everything is released even if closing fails (a full disk): a second Destroy is a no-op */
    if (H5Pclose(o->dxpl) < 0) st = -1;
    if (H5Fclose(o->file) < 0) st = -1; /* collective; flushes */
    if (st < 0) snprintf(msg, sizeof(msg), "%s: closing '%s' failed (its last metadata could not be written)", o->option, o->path);
  }
  if (o->fd >= 0) close(o->fd);
  PetscCall(PetscFree(o->path));
  PetscCall(PetscFree(o->option));
  PetscCallMPI(MPI_Comm_free(&o->comm));
  PetscCall(PetscFree(o));
  *out = NULL;
  PetscCheck(!msg[0], PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "%s", msg);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputFlush(SlimOutput out)
{
  PetscFunctionBeginUser;
  if (out->estimate || out->readonly) PetscFunctionReturn(0);
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

PetscErrorCode SlimOutputGetEstimate(SlimOutput out, PetscInt64 *bytes, PetscInt64 *largest_array)
{
  PetscFunctionBeginUser;
  PetscCheck(out->estimate, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "%s: not opened with SLIM_OUTPUT_ESTIMATE", out->option);
  if (bytes) *bytes = out->est_bytes;
  if (largest_array) *largest_array = out->est_array;
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

  if ((old = SlimDsetLookup(out, e.key))) { /* defined before in this session: compare with that */
    PetscBool same = (PetscBool)(!old->isarray && old->type == e.type && old->rank == e.rank && old->dims[0] == e.dims[0] && old->width == e.width);
    char      have[128], want[128];
    SlimOutputDescribeShape(have, sizeof(have), old->type, old->width, old->rank, old->dims);
    SlimOutputDescribeShape(want, sizeof(want), e.type, e.width, e.rank, e.dims);
    PetscCall(PetscFree(e.key));
    PetscCheck(same, out->comm, PETSC_ERR_ARG_INCOMP, "%s: %s in '%s' is %s but %s was requested", out->option, what, out->path, have, want);
    PetscFunctionReturn(0);
  }
  PetscCall(PetscStrallocpy(tkey, &e.table));
  ierr = SlimDsetOpenOrCreate(out, &e, col->units, col->desc, what, created);
  if (ierr) {
    SlimDsetFree(&e);
    PetscCall(ierr);
  }
  PetscCall(SlimDsetInsert(out, &e));
  PetscFunctionReturn(0);
}

/* Creates group /tkey (with intermediate groups) or checks that it is one. */
static PetscErrorCode DefineGroup(SlimOutput out, const char tkey[], const char desc[], PetscBool *created)
{
  PetscBool exists;

  PetscFunctionBeginUser;
  PetscCall(SlimOutputObjExists(out->file, tkey, &exists));
  *created = (PetscBool)!exists;
  PetscCheck(exists || !out->readonly, out->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: table '%s' is missing from '%s' (a damaged file, or one written by another version)", out->option, tkey, out->path);
  if (!exists) {
    hid_t g, lcpl;
    H5Call(lcpl = H5Pcreate(H5P_LINK_CREATE));
    H5Call(H5Pset_create_intermediate_group(lcpl, 1));
    H5Call(g = H5Gcreate2(out->file, tkey, lcpl, H5P_DEFAULT, H5P_DEFAULT));
    H5Call(H5Pclose(lcpl));
    if (desc) PetscCall(SlimOutputWriteAttrString(g, "description", desc));
    H5Call(H5Gclose(g));
  } else {
    H5O_info_t info;
    H5Call(H5Oget_info_by_name(out->file, tkey, &info, H5P_DEFAULT));
    PetscCheck(info.type == H5O_TYPE_GROUP, out->comm, PETSC_ERR_FILE_UNEXPECTED, "%s: table '%s' in '%s': '/%s' exists but is not a group", out->option, tkey, out->path, tkey);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputDefineTable(SlimOutput out, const char table[], const char desc[], PetscInt nrows, PetscInt ncol, const SlimColumn cols[])
{
  char          *tkey;
  PetscBool      created, dirty = PETSC_FALSE;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscCall(SlimOutputNormalizePath(table, &tkey));
  PetscCheck(tkey[0], out->comm, PETSC_ERR_ARG_WRONG, "%s: empty table name", out->option);
  PetscCheck(nrows >= 0 && ncol >= 0, out->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: table '%s' with %" PetscInt_FMT " rows and %" PetscInt_FMT " columns", out->option, tkey, nrows, ncol);

  if (out->estimate) out->est_bytes += SLIM_OUTPUT_DSET_OVERHEAD;
  else PetscCall(DefineGroup(out, tkey, desc, &dirty));
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



/* With <option>_fsync: push this rank's writes to stable storage (independent fdatasync). */
/* Tests only (not documented for users): SLIM_TEST_FAIL_WRITE=N[:R] makes this process's N-th
 * independent data write fail (only on rank R of the file's communicator if given), as a full
 * disk would, so that the agreement on write failures can be tested where the disk reservation
 * keeps real ones from happening. Read once. */
PetscErrorCode SlimOutputTestFailWrite(SlimOutput out, const char what[])
{
  static long count = 0, fail_at = -1, fail_rank = -1;
  static int  read  = 0;
  int         rank;

  PetscFunctionBeginUser;
  if (!read) {
    const char *v = getenv("SLIM_TEST_FAIL_WRITE");
    read          = 1;
    if (v && sscanf(v, "%ld:%ld", &fail_at, &fail_rank) < 1) fail_at = -1;
  }
  if (fail_at < 0) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Comm_rank(out->comm, &rank));
  if (fail_rank >= 0 && rank != fail_rank) PetscFunctionReturn(0);
  PetscCheck(++count != fail_at, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "%s: writing '%s' to '%s' failed: injected failure of write %ld (SLIM_TEST_FAIL_WRITE)", out->option, what, out->path, fail_at);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputSyncData(SlimOutput out)
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
  PetscCall(SlimOutputFindColumn(out, table, col, &e));
  if (n <= 0 || out->estimate) PetscFunctionReturn(0);
  PetscCall(SlimOutputTestFailWrite(out, e->table));
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
  PetscCall(SlimOutputSyncData(out));
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputReadColumn(SlimOutput out, const char table[], const char col[], void *data)
{
  SlimDset *e;

  PetscFunctionBeginUser;
  PetscCall(SlimOutputFindColumn(out, table, col, &e));
  if (!e->dims[0]) PetscFunctionReturn(0);
  PetscCheck(H5Dread(e->dset, e->mtype, H5S_ALL, H5S_ALL, out->dxpl, data) >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: reading table '%s' column '%s' from '%s' failed", out->option, e->table, e->col, out->path);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputTableExists(SlimOutput out, const char table[], PetscBool *exists)
{
  char *tkey;

  PetscFunctionBeginUser;
  PetscCall(SlimOutputNormalizePath(table, &tkey));
  if (out->estimate) *exists = PETSC_FALSE;
  else PetscCall(SlimOutputObjExists(out->file, tkey, exists));
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
  PetscCall(SlimOutputNormalizePath(path, &e.key));
  PetscCheck(e.key[0], out->comm, PETSC_ERR_ARG_WRONG, "%s: empty array path", out->option);
  PetscCall(PetscSNPrintf(what, sizeof(what), "array '%s'", e.key));
  if ((old = SlimDsetLookup(out, e.key))) {
    PetscBool same = (PetscBool)(old->isarray && old->rank == e.rank);
    char      have[128], want[128];
    for (int i = 0; same && i < e.rank; i++) same = (PetscBool)(old->dims[i] == e.dims[i]);
    SlimOutputDescribeShape(have, sizeof(have), old->type, old->width, old->rank, old->dims);
    SlimOutputDescribeShape(want, sizeof(want), e.type, e.width, e.rank, e.dims);
    PetscCall(PetscFree(e.key));
    PetscCheck(same, out->comm, PETSC_ERR_ARG_INCOMP, "%s: %s in '%s' is %s but %s was requested", out->option, what, out->path, have, want);
  } else {
    PetscBool      created;
    PetscErrorCode ierr = SlimDsetOpenOrCreate(out, &e, units, desc, what, &created);
    if (ierr) {
      SlimDsetFree(&e);
      PetscCall(ierr);
    }
    PetscCall(SlimDsetInsert(out, &e));
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
  PetscCall(SlimOutputFindArray(out, path, &e));
  if (out->estimate) PetscFunctionReturn(0);
  PetscCall(SlimOutputTestFailWrite(out, e->key));
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Output, 0, 0, 0, 0));
  st = H5Dwrite(e->dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, out->dxpl, data);
  PetscCheck(st >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "%s: writing array '%s' to '%s' failed", out->option, e->key, out->path);
  PetscCall(SlimOutputSyncData(out));
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputReadArray(SlimOutput out, const char path[], PetscReal data[])
{
  SlimDset *e;

  PetscFunctionBeginUser;
  PetscCall(SlimOutputFindArray(out, path, &e));
  PetscCheck(H5Dread(e->dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, out->dxpl, data) >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: reading array '%s' from '%s' failed", out->option, e->key, out->path);
  PetscFunctionReturn(0);
}






