/* Chunked arrays of the output layer (include/slim/output.h): large arrays written in blocks of
 * rows by different ranks, e.g. /training/<family>/q [samples, steps, dof].
 *
 * Same durability design as the contiguous datasets (src/output.c): created collectively at full
 * size, every chunk allocated (early allocation) and filled when the file is defined, so an
 * independent block write touches raw data only and a killed writer leaves complete metadata.
 *
 * No compression, decided by measurement: the Debian HDF5 (1.10.8, parallel) refuses filtered
 * (shuffle + deflate) writes with independent transfer ("independent I/O was requested"; filtered
 * chunks are reallocated on every write, a metadata change that must be collective), and
 * collective writes do not fit a dynamic task queue where ranks finish blocks at different times.
 * On training data shuffle + gzip saves only 10-15 % (docs/training.md), so the arrays are chunked
 * (readers fetch whole chunks) but stored uncompressed. */
#include <string.h>

#include <slim/log.h>

#include "outputimpl.h"

PetscErrorCode SlimOutputDefineBlocks(SlimOutput out, const char path[], SlimColType type, PetscInt rank, const PetscInt dims[], PetscInt chunk0, const char units[], const char desc[])
{
  SlimDset       e;
  PetscBool      created;
  char           what[512];
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCheck(rank >= 1 && rank <= 3, out->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: block array '%s' has rank %" PetscInt_FMT ", must be 1..3", out->option, path, rank);
  PetscCheck(type != SLIM_COL_STRING, out->comm, PETSC_ERR_ARG_WRONG, "%s: block array '%s': real or int only", out->option, path);
  PetscCall(PetscMemzero(&e, sizeof(e)));
  e.dset = e.mtype = -1;
  e.type = type, e.width = 1, e.rank = (int)rank, e.isarray = PETSC_TRUE, e.chunk0 = (hsize_t)PetscMax(chunk0, 1);
  for (PetscInt i = 0; i < rank; i++) {
    PetscCheck(dims[i] >= 0, out->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: block array '%s' has a negative dimension", out->option, path);
    e.dims[i] = (hsize_t)dims[i];
  }
  PetscCall(SlimOutputNormalizePath(path, &e.key));
  PetscCheck(!SlimDsetLookup(out, e.key), out->comm, PETSC_ERR_ARG_WRONGSTATE, "%s: block array '%s' defined twice", out->option, e.key);
  PetscCall(PetscSNPrintf(what, sizeof(what), "array '%s'", e.key));
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Output, 0, 0, 0, 0));
  /* an existing one (resume) is opened and checked like every dataset */
  ierr = SlimDsetOpenOrCreate(out, &e, units, desc, what, &created);
  if (ierr) SlimDsetFree(&e);
  PetscCall(ierr);
  PetscCall(SlimDsetInsert(out, &e));
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputWriteBlock(SlimOutput out, const char path[], PetscInt row0, PetscInt nrows, const void *data)
{
  SlimDset *e;
  hsize_t   off[3] = {0, 0, 0}, cnt[3];
  hid_t     fs, ms;
  herr_t    st;

  PetscFunctionBeginUser;
  PetscCall(SlimOutputFindArray(out, path, &e));
  PetscCheck(e->rank >= 1 && row0 >= 0 && nrows >= 0 && (hsize_t)(row0 + nrows) <= e->dims[0], PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "%s: rows [%" PetscInt_FMT ", %" PetscInt_FMT ") of array '%s' out of range", out->option, row0, row0 + nrows, e->key);
  if (!nrows) PetscFunctionReturn(0);
  PetscCall(SlimOutputTestFailWrite(out, e->key));
  PetscCall(PetscLogEventBegin(SLIM_EVENT_Output, 0, 0, 0, 0));
  for (int i = 0; i < e->rank; i++) cnt[i] = e->dims[i];
  off[0] = (hsize_t)row0, cnt[0] = (hsize_t)nrows;
  H5Call(fs = H5Dget_space(e->dset));
  st = H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
  if (st >= 0) {
    H5Call(ms = H5Screate_simple(e->rank, cnt, NULL));
    st = H5Dwrite(e->dset, e->mtype, ms, fs, out->dxpl, data);
    H5Call(H5Sclose(ms));
  }
  H5Call(H5Sclose(fs));
  PetscCheck(st >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "%s: writing rows [%" PetscInt_FMT ", %" PetscInt_FMT ") of array '%s' to '%s' failed", out->option, row0, row0 + nrows, e->key, out->path);
  PetscCall(SlimOutputSyncData(out));
  PetscCall(PetscLogEventEnd(SLIM_EVENT_Output, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}
