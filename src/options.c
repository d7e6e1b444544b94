/* Strict comma-separated list options (see include/slim/options.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <slim/options.h>

/* Splits str at commas into at most max trimmed items; empty items and empty lists are errors. */
static PetscErrorCode Split(const char opt[], const char str[], PetscInt max, char items[][64], PetscInt *n)
{
  const char *p = str;

  PetscFunctionBeginUser;
  *n = 0;
  while (1) {
    const char *e = strchr(p, ',');
    size_t      len = e ? (size_t)(e - p) : strlen(p);
    while (len && (*p == ' ' || *p == '\t')) p++, len--;
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    PetscCheck(len > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: '%s' is not a valid list (empty item)", opt, str);
    PetscCheck(len < 64, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: item '%.*s' is too long", opt, (int)len, p);
    PetscCheck(*n < max, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "%s: more than %" PetscInt_FMT " items in '%s'", opt, max, str);
    memcpy(items[*n], p, len);
    items[*n][len] = 0;
    (*n)++;
    if (!e) break;
    p = e + 1;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode GetList(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, char items[][64], PetscInt *n, PetscBool *set)
{
  char      buf[4096];
  PetscBool flg;

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(buf, def, sizeof(buf)));
  PetscCall(PetscOptionsString(opt, help, NULL, def, buf, sizeof(buf), &flg));
  if (set) *set = flg;
  PetscCall(Split(opt, buf, max, items, n));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOptionsRealList(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, PetscReal vals[], PetscInt *n, PetscBool *set)
{
  char items[SLIM_LIST_MAX][64];

  PetscFunctionBeginUser;
  PetscCall(GetList(PetscOptionsObject, opt, help, def, PetscMin(max, SLIM_LIST_MAX), items, n, set));
  for (PetscInt i = 0; i < *n; i++) {
    char *end;
    errno   = 0;
    vals[i] = strtod(items[i], &end);
    PetscCheck(*end == 0 && errno == 0 && end != items[i], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: item '%s' is not a number", opt, items[i]);
    PetscCheck(isfinite(vals[i]), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: item '%s' is not finite", opt, items[i]);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOptionsIntList(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, PetscInt vals[], PetscInt *n, PetscBool *set)
{
  char items[SLIM_LIST_MAX][64];

  PetscFunctionBeginUser;
  PetscCall(GetList(PetscOptionsObject, opt, help, def, PetscMin(max, SLIM_LIST_MAX), items, n, set));
  for (PetscInt i = 0; i < *n; i++) {
    char  *end;
    double x;
    errno = 0;
    x     = strtod(items[i], &end); /* accepts 1e5 for step counts */
    PetscCheck(*end == 0 && errno == 0 && end != items[i], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: item '%s' is not a number", opt, items[i]);
    PetscCheck(isfinite(x) && x == floor(x) && fabs(x) < 9e15, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: item '%s' is not an integer", opt, items[i]);
    vals[i] = (PetscInt)x;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOptionsStringList(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, size_t len, char vals[][64], PetscInt *n, PetscBool *set)
{
  PetscFunctionBeginUser;
  PetscCheck(len == 64, PETSC_COMM_SELF, PETSC_ERR_SUP, "string list items are 64 characters");
  PetscCall(GetList(PetscOptionsObject, opt, help, def, PetscMin(max, SLIM_LIST_MAX), vals, n, set));
  PetscFunctionReturn(0);
}
