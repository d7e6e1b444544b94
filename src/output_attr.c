/* Attributes of the results file (include/slim/output.h): strings as variable-length UTF-8,
 * numbers as scalars or arrays; set collectively, read independently. */
#include <string.h>
#include "outputimpl.h"

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
PetscErrorCode SlimOutputWriteAttrString(hid_t oid, const char name[], const char value[])
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

/* Opens obj ("" or "/" is the root), with an error naming it if missing. */
static PetscErrorCode OpenObject(SlimOutput out, MPI_Comm comm, const char obj[], hid_t *oid)
{
  char     *key;
  PetscBool exists;

  PetscFunctionBeginUser;
  PetscCall(SlimOutputNormalizePath(obj, &key));
  PetscCall(SlimOutputObjExists(out->file, key, &exists));
  if (!exists) {
    PetscCall(PetscFree(key));
    SETERRQ(comm, PETSC_ERR_ARG_WRONG, "%s: no object '%s' in '%s' to hold an attribute", out->option, obj, out->path);
  }
  H5Call(*oid = H5Oopen(out->file, key[0] ? key : "/", H5P_DEFAULT));
  PetscCall(PetscFree(key));
  PetscFunctionReturn(0);
}

/* Opens obj, writes the attribute (a string when n < 0, else n numbers of ftype), closes obj. */
static PetscErrorCode SetAttr(SlimOutput out, const char obj[], const char name[], hid_t ftype, hid_t mtype, PetscInt n, const void *value)
{
  hid_t          o;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  if (out->estimate || out->readonly) PetscFunctionReturn(0);
  PetscCall(OpenObject(out, out->comm, obj, &o));
  if (n < 0) ierr = SlimOutputWriteAttrString(o, name, (const char *)value);
  else ierr = WriteAttrNumeric(o, name, ftype, mtype, n, value);
  H5Call(H5Oclose(o));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputSetAttrString(SlimOutput out, const char obj[], const char name[], const char value[])
{
  PetscFunctionBeginUser;
  PetscCall(SetAttr(out, obj, name, -1, -1, -1, value));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputSetAttrReal(SlimOutput out, const char obj[], const char name[], PetscInt n, const PetscReal value[])
{
  PetscFunctionBeginUser;
  PetscCheck(n >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "attribute %s: %" PetscInt_FMT " values", name, n);
  PetscCall(SetAttr(out, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, n, value));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOutputSetAttrInt(SlimOutput out, const char obj[], const char name[], PetscInt n, const PetscInt64 value[])
{
  PetscFunctionBeginUser;
  PetscCheck(n >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "attribute %s: %" PetscInt_FMT " values", name, n);
  PetscCall(SetAttr(out, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, n, value));
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
  PetscCall(SlimOutputNormalizePath(obj, &key));
  if (out->estimate) exists = PETSC_FALSE;
  else PetscCall(SlimOutputObjExists(out->file, key, &exists));
  if (exists) H5Call(e = H5Aexists_by_name(out->file, key[0] ? key : "/", name, H5P_DEFAULT));
  PetscCall(PetscFree(key));
  *has = (PetscBool)(e > 0);
  PetscFunctionReturn(0);
}
