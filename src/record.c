/* SlimRecord: results tables defined by a struct and a column descriptor table
 * (include/slim/private/record.h). */
#include <math.h>
#include <string.h>
#include <slim/private/record.h>

PetscInt SlimRecordColumnWidth(const SlimRecordTable *t, PetscInt c, const PetscInt widths[])
{
  const SlimRecordColumn *col = &t->cols[c];
  PetscInt                w   = col->width > 0 ? col->width : (widths ? widths[-col->width] : 0);

  if (col->need > 0 && !(widths && widths[col->need] > 0)) return 0;
  return PetscMax(w, 1); /* a column that exists is at least one wide */
}

static SlimColType ColType(SlimRecordType t)
{
  switch (t) {
  case SLIM_RECORD_REAL:
  case SLIM_RECORD_REALPTR:
    return SLIM_COL_REAL;
  case SLIM_RECORD_STRING:
  case SLIM_RECORD_STRPTR:
    return SLIM_COL_STRING;
  default:
    return SLIM_COL_INT;
  }
}

PetscErrorCode SlimRecordDefine(SlimOutput out, const char path[], PetscInt nt, const SlimRecordTable *const t[], const PetscInt widths[], PetscInt nrows)
{
  SlimColumn *cols;
  PetscInt    n = 0, ncol = 0;

  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < nt; k++) ncol += t[k]->ncol;
  PetscCall(PetscMalloc1(ncol, &cols));
  for (PetscInt k = 0; k < nt; k++)
    for (PetscInt c = 0; c < t[k]->ncol; c++) {
      const SlimRecordColumn *rc = &t[k]->cols[c];
      PetscInt                w  = SlimRecordColumnWidth(t[k], c, widths);
      if (!w) continue;
      cols[n++] = (SlimColumn){rc->name, ColType(rc->type), w, rc->units, rc->desc};
    }
  PetscCall(SlimOutputDefineTable(out, path, t[0]->desc, nrows, n, cols));
  PetscCall(PetscFree(cols));
  PetscFunctionReturn(0);
}

/* Packs column c of n records into buf (n * w values of the column's stored type). */
static PetscErrorCode Pack(const SlimRecordColumn *rc, PetscInt w, PetscInt n, const char *recs, size_t size, void *buf)
{
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < n; k++) {
    const char *m = recs + k * size + rc->off;
    switch (rc->type) {
    case SLIM_RECORD_REAL:
      PetscCall(PetscArraycpy((PetscReal *)buf + k * w, (const PetscReal *)m, w));
      break;
    case SLIM_RECORD_REALPTR: {
      const PetscReal *p = *(const PetscReal *const *)m;
      for (PetscInt i = 0; i < w; i++) ((PetscReal *)buf)[k * w + i] = p ? p[i] : NAN;
    } break;
    case SLIM_RECORD_INT:
      ((PetscInt64 *)buf)[k] = *(const PetscInt *)m;
      break;
    case SLIM_RECORD_INT64:
      ((PetscInt64 *)buf)[k] = *(const PetscInt64 *)m;
      break;
    case SLIM_RECORD_ENUM:
      ((PetscInt64 *)buf)[k] = *(const int *)m;
      break;
    case SLIM_RECORD_STRING:
    case SLIM_RECORD_STRPTR: {
      const char *s = rc->type == SLIM_RECORD_STRING ? m : *(const char *const *)m;
      char       *o = (char *)buf + k * w;
      PetscCall(PetscMemzero(o, (size_t)w));
      if (s) PetscCall(PetscStrncpy(o, s, (size_t)w));
    } break;
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimRecordWrite(SlimOutput out, const char path[], const SlimRecordTable *t, const PetscInt widths[], PetscInt c0, PetscInt c1, PetscInt n, const PetscInt rows[], const void *recs)
{
  size_t         wmax = 1;
  void          *buf;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  if (c1 < 0) c1 = t->ncol;
  if (n <= 0) PetscFunctionReturn(0);
  for (PetscInt c = c0; c < c1; c++) wmax = PetscMax(wmax, (size_t)SlimRecordColumnWidth(t, c, widths));
  PetscCall(PetscMalloc(n * wmax * sizeof(PetscReal) + 1, &buf)); /* the widest stored element is 8 bytes */
  for (PetscInt c = c0; c < c1 && !ierr; c++) {
    PetscInt w = SlimRecordColumnWidth(t, c, widths);
    if (!w) continue;
    ierr = Pack(&t->cols[c], w, n, (const char *)recs, t->size, buf);
    if (!ierr) ierr = SlimOutputWriteRows(out, path, t->cols[c].name, n, rows, buf);
  }
  PetscCall(PetscFree(buf)); /* also after a failed write: the harness goes on after one */
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

void SlimRecordFill(const SlimRecordTable *t, const PetscInt widths[], void *rec)
{
  for (PetscInt c = 0; c < t->ncol; c++) {
    const SlimRecordColumn *rc = &t->cols[c];
    char                   *m  = (char *)rec + rc->off;
    switch (rc->type) {
    case SLIM_RECORD_REAL:
      for (PetscInt i = 0; i < SlimRecordColumnWidth(t, c, widths); i++) ((PetscReal *)m)[i] = NAN;
      break;
    case SLIM_RECORD_INT:
      *(PetscInt *)m = -1;
      break;
    case SLIM_RECORD_INT64:
      *(PetscInt64 *)m = -1;
      break;
    case SLIM_RECORD_ENUM:
      *(int *)m = -1;
      break;
    case SLIM_RECORD_STRING:
      m[0] = 0;
      break;
    case SLIM_RECORD_STRPTR:
      *(const char **)m = NULL;
      break;
    case SLIM_RECORD_REALPTR:
      *(const PetscReal **)m = NULL;
      break;
    }
  }
}

PetscInt SlimRecordFind(const SlimRecordTable *t, const char name[])
{
  for (PetscInt c = 0; c < t->ncol; c++)
    if (!strcmp(t->cols[c].name, name)) return c;
  return -1;
}
