/* Strict option parsing (see include/slim/options.h). */
#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <slim/options.h>

PetscErrorCode SlimOptionsRequireValue(PetscOptions options, const char pre[], const char opt[])
{
  const char *value;
  PetscBool   flg;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsFindPair(options, pre, opt, &value, &flg));
  PetscCheck(!flg || value, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "-%s%s: missing value", pre ? pre : "", opt + 1);
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOptionsParseInt(const char opt[], const char str[], PetscBool allow_exp, PetscInt *val)
{
  const char *s = str;
  char       *end;

  PetscFunctionBeginUser;
  if (*s == '+' || *s == '-') s++;
  if (*s && strspn(s, "0123456789") == strlen(s)) {
    long long x;
    errno = 0;
    x     = strtoll(str, &end, 10);
    PetscCheck(errno != ERANGE && x <= PETSC_MAX_INT && x >= PETSC_MIN_INT, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "%s: '%s' is out of range (integers here lie in [%" PetscInt_FMT ", %" PetscInt_FMT "])", opt, str, (PetscInt)PETSC_MIN_INT, (PetscInt)PETSC_MAX_INT);
    *val = (PetscInt)x;
  } else {
    double x;
    /* decimal exponent forms only: strtod() would also take hex, inf and nan */
    PetscCheck(allow_exp && strspn(str, "0123456789+-.eE") == strlen(str), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: '%s' is not an integer", opt, str);
    errno = 0;
    x     = strtod(str, &end); /* 1e5 for step counts */
    PetscCheck(*end == 0 && end != str && errno != ERANGE && isfinite(x), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: '%s' is not an integer", opt, str);
    PetscCheck(x == floor(x), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: '%s' is not an integer", opt, str);
    PetscCheck(x <= (double)PETSC_MAX_INT && x >= (double)PETSC_MIN_INT, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "%s: '%s' is out of range (integers here lie in [%" PetscInt_FMT ", %" PetscInt_FMT "])", opt, str, (PetscInt)PETSC_MIN_INT, (PetscInt)PETSC_MAX_INT);
    *val = (PetscInt)x;
  }
  PetscFunctionReturn(0);
}

/* Splits str at commas into at most max trimmed items; empty items and empty lists are errors. */
static PetscErrorCode Split(const char opt[], const char str[], PetscInt max, char items[][64], PetscInt *n)
{
  const char *p = str;

  PetscFunctionBeginUser;
  *n = 0;
  while (1) {
    const char *e   = strchr(p, ',');
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
  PetscCall(SlimOptionsRequireValue(PetscOptionsObject->options, PetscOptionsObject->prefix, opt));
  PetscCall(PetscStrncpy(buf, def, sizeof(buf)));
  PetscCall(PetscOptionsString(opt, help, NULL, def, buf, sizeof(buf), &flg));
  if (set) *set = flg;
  PetscCall(Split(opt, buf, PetscMin(max, SLIM_LIST_MAX), items, n));
  PetscFunctionReturn(0);
}

/* Items i < j that are the same value: refused, naming the later one as typed. */
static PetscErrorCode CheckDistinct(const char opt[], char items[][64], PetscInt n, PetscBool (*same)(const char *, const char *, PetscInt, PetscInt, const void *), const void *vals)
{
  PetscFunctionBeginUser;
  for (PetscInt j = 1; j < n; j++)
    for (PetscInt i = 0; i < j; i++) PetscCheck(!same(items[i], items[j], i, j, vals), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: '%s' is listed twice", opt, items[j]);
  PetscFunctionReturn(0);
}

static PetscBool SameReal(const char *a, const char *b, PetscInt i, PetscInt j, const void *v)
{
  (void)a, (void)b;
  return (PetscBool)(((const PetscReal *)v)[i] == ((const PetscReal *)v)[j]);
}

static PetscBool SameInt(const char *a, const char *b, PetscInt i, PetscInt j, const void *v)
{
  (void)a, (void)b;
  return (PetscBool)(((const PetscInt *)v)[i] == ((const PetscInt *)v)[j]);
}

static PetscBool SameString(const char *a, const char *b, PetscInt i, PetscInt j, const void *v)
{
  PetscBool eq = PETSC_FALSE;
  (void)i, (void)j, (void)v;
  (void)PetscStrcasecmp(a, b, &eq);
  return eq;
}

static PetscErrorCode RealList(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, PetscBool distinct, PetscReal vals[], PetscInt *n, PetscBool *set)
{
  char items[SLIM_LIST_MAX][64];

  PetscFunctionBeginUser;
  PetscCall(GetList(PetscOptionsObject, opt, help, def, max, items, n, set));
  for (PetscInt i = 0; i < *n; i++) {
    char *end;
    errno   = 0;
    vals[i] = strtod(items[i], &end);
    PetscCheck(*end == 0 && errno == 0 && end != items[i], PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: item '%s' is not a number", opt, items[i]);
    PetscCheck(isfinite(vals[i]), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "%s: item '%s' is not finite", opt, items[i]);
  }
  if (distinct) PetscCall(CheckDistinct(opt, items, *n, SameReal, vals));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOptionsRealList(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, PetscReal vals[], PetscInt *n, PetscBool *set)
{
  PetscFunctionBeginUser;
  PetscCall(RealList(PetscOptionsObject, opt, help, def, max, PETSC_FALSE, vals, n, set));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOptionsRealListDistinct(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, PetscReal vals[], PetscInt *n, PetscBool *set)
{
  PetscFunctionBeginUser;
  PetscCall(RealList(PetscOptionsObject, opt, help, def, max, PETSC_TRUE, vals, n, set));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOptionsIntList(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, PetscInt vals[], PetscInt *n, PetscBool *set)
{
  char items[SLIM_LIST_MAX][64];

  PetscFunctionBeginUser;
  PetscCall(GetList(PetscOptionsObject, opt, help, def, max, items, n, set));
  for (PetscInt i = 0; i < *n; i++) PetscCall(SlimOptionsParseInt(opt, items[i], PETSC_TRUE, &vals[i]));
  PetscCall(CheckDistinct(opt, items, *n, SameInt, vals));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOptionsStringList(PetscOptionItems *PetscOptionsObject, const char opt[], const char help[], const char def[], PetscInt max, size_t len, char vals[][64], PetscInt *n, PetscBool *set)
{
  PetscFunctionBeginUser;
  PetscCheck(len == 64, PETSC_COMM_SELF, PETSC_ERR_SUP, "string list items are 64 characters");
  PetscCall(GetList(PetscOptionsObject, opt, help, def, max, vals, n, set));
  PetscCall(CheckDistinct(opt, vals, *n, SameString, NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOptionsInt_Private(PetscOptionItems *PetscOptionsObject, const char opt[], const char text[], const char man[], PetscInt cur, PetscInt *val, PetscBool *set)
{
  const char *value;
  PetscBool   flg;

  PetscFunctionBeginUser;
  PetscCall(SlimOptionsRequireValue(PetscOptionsObject->options, PetscOptionsObject->prefix, opt));
  PetscCall(PetscOptionsFindPair(PetscOptionsObject->options, PetscOptionsObject->prefix, opt, &value, &flg));
  if (flg) {
    char     name[PETSC_MAX_OPTION_NAME + 2];
    PetscInt x;
    PetscCall(PetscSNPrintf(name, sizeof(name), "-%s%s", PetscOptionsObject->prefix ? PetscOptionsObject->prefix : "", opt + 1));
    PetscCall(SlimOptionsParseInt(name, value, PETSC_FALSE, &x)); /* PETSc would wrap; then PETSc parses the same value */
  }
  PetscCall(PetscOptionsInt_Private(PetscOptionsObject, opt, text, man, cur, val, set, PETSC_MIN_INT, PETSC_MAX_INT));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOptionsReal_Private(PetscOptionItems *PetscOptionsObject, const char opt[], const char text[], const char man[], PetscReal cur, PetscReal *val, PetscBool *set)
{
  PetscFunctionBeginUser;
  PetscCall(SlimOptionsRequireValue(PetscOptionsObject->options, PetscOptionsObject->prefix, opt));
  PetscCall(PetscOptionsReal_Private(PetscOptionsObject, opt, text, man, cur, val, set));
  PetscFunctionReturn(0);
}

PetscErrorCode SlimOptionsRealArray_Private(PetscOptionItems *PetscOptionsObject, const char opt[], const char text[], const char man[], PetscReal val[], PetscInt *n, PetscBool *set)
{
  PetscFunctionBeginUser;
  PetscCall(SlimOptionsRequireValue(PetscOptionsObject->options, PetscOptionsObject->prefix, opt));
  PetscCall(PetscOptionsRealArray_Private(PetscOptionsObject, opt, text, man, val, n, set));
  PetscFunctionReturn(0);
}

/* The messages of PETSc 3.18's parsers (PetscOptionsStringToReal/Int/Bool) and what they mean;
 * for unknown types (SNESSetType, TSSetType, ... from their SetFromOptions) the value is the last
 * word and PETSc's message is kept after the option's name. */
static const struct {
  const char *head, *tail, *meaning;
} ParseErrors[] = {
  {"Input string ",               " has no numeric value",                          "is not a number"                               },
  {"Input string ",               " has no integer value (do not include . in it)", "is not an integer"                             },
  {"Input string ",               " has no integer value",                          "is not an integer"                             },
  {"Unknown logical value: ",     "",                                               "is not a truth value (true/false, yes/no, 1/0)"},
  {"Unable to find requested ",   "",                                               NULL                                            },
  {"Unknown ",                    "",                                               NULL                                            },
};

/* Whether item is one comma-separated item of list (PETSc's array parsers report the item). */
static PetscBool HasItem(const char list[], const char item[])
{
  size_t il = strlen(item);
  for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
    if (!strncmp(p, item, il) && (p[il] == ',' || p[il] == 0)) return PETSC_TRUE;
  return PETSC_FALSE;
}

PetscErrorCode SlimOptionsExplainError(const char mess[], char out[], size_t len, PetscBool *explained)
{
  char       *all = NULL, value[256], names[512] = "", whole[256] = "";
  size_t      ml, hl, tl, vl;
  PetscInt    k, nk = (PetscInt)(sizeof(ParseErrors) / sizeof(ParseErrors[0]));
  PetscToken  tok;
  char       *a, *b;

  PetscFunctionBeginUser;
  *explained = PETSC_FALSE;
  if (!mess) PetscFunctionReturn(0);
  ml = strlen(mess);
  for (k = 0; k < nk; k++) {
    hl = strlen(ParseErrors[k].head), tl = strlen(ParseErrors[k].tail);
    if (ml > hl + tl && !strncmp(mess, ParseErrors[k].head, hl) && !strcmp(mess + ml - tl, ParseErrors[k].tail)) break;
  }
  if (k == nk) PetscFunctionReturn(0);
  if (!ParseErrors[k].meaning) { /* "Unknown TS type: nosuch": the last word */
    const char *w = strrchr(mess, ' ');
    if (!w || strstr(mess, " type") == NULL) PetscFunctionReturn(0);
    hl = (size_t)(w + 1 - mess);
  }
  vl = ml - hl - tl;
  if (!vl || vl >= sizeof(value)) PetscFunctionReturn(0);
  memcpy(value, mess + hl, vl);
  value[vl] = 0;
  /* the options whose value is exactly this string and that have been read: the offender (a
   * string option read with the same value would be named too, which is rare and harmless) */
  PetscCall(PetscOptionsGetAll(NULL, &all));
  PetscCall(PetscTokenCreate(all, ' ', &tok));
  PetscCall(PetscTokenFind(tok, &a));
  while (a) {
    PetscBool bkey = PETSC_FALSE; /* a value may start with '-' (-1.5); a name is a valid key */
    PetscCall(PetscTokenFind(tok, &b));
    if (b) PetscCall(PetscOptionsValidKey(b, &bkey));
    if (a[0] == '-' && b && !bkey && HasItem(b, value)) {
      PetscBool used;
      PetscCall(PetscOptionsUsed(NULL, a + 1, &used)); /* names are stored without the dash */
      if (used && strlen(names) + strlen(a) + 5 < sizeof(names)) {
        if (strcmp(b, value)) PetscCall(PetscStrncpy(whole, b, sizeof(whole)));
        if (names[0]) PetscCall(PetscStrlcat(names, " or ", sizeof(names)));
        PetscCall(PetscStrlcat(names, a, sizeof(names)));
      }
    }
    a = bkey ? b : NULL;
    if (!a && b) PetscCall(PetscTokenFind(tok, &a));
  }
  PetscCall(PetscTokenDestroy(&tok));
  PetscCall(PetscFree(all));
  if (!names[0]) PetscFunctionReturn(0);
  if (!ParseErrors[k].meaning) PetscCall(PetscSNPrintf(out, len, "%s: %s", names, mess));
  else if (whole[0]) PetscCall(PetscSNPrintf(out, len, "%s: item '%s' of '%s' %s", names, value, whole, ParseErrors[k].meaning));
  else PetscCall(PetscSNPrintf(out, len, "%s: '%s' %s", names, value, ParseErrors[k].meaning));
  *explained = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* ---- options files, checked before PetscInitialize() (plain C, no PETSc calls) ---- */

/* PetscOptionsValidKey(): one or two dashes, a letter, and not a number such as -inf */
static int ValidKey(const char *key)
{
  char *ptr;
  if (!key || key[0] != '-') return 0;
  if (key[1] == '-') key++;
  if (!isalpha((unsigned char)key[1])) return 0;
  (void)strtod(key, &ptr);
  if (ptr != key && !(*ptr == '_' || isalnum((unsigned char)*ptr))) return 0;
  return 1;
}

static int EndsWith(const char *s, const char *suffix)
{
  size_t ls = strlen(s), lx = strlen(suffix);
  return ls >= lx && !strcmp(s + ls - lx, suffix);
}

static int CheckFile(const char *file, int depth, char msg[], size_t len);

/* -options_file and its value, from argv or from a line of an options file */
static int CheckFileArg(const char *value, const char *where, int depth, char msg[], size_t len)
{
  if (!value || !value[0] || value[0] == '-') {
    snprintf(msg, len, "-options_file: missing file name%s", where);
    return 1;
  }
  return CheckFile(value, depth + 1, msg, len);
}

static int CheckFile(const char *file, int depth, char msg[], size_t len)
{
  struct stat st;
  FILE       *fd;
  char       *line = NULL;
  size_t      cap  = 0;
  ssize_t     n;
  int         lineno = 0, rc = 0;

  /* PETSc substitutes ${HOSTNAME} and the like in file names: leave those to it */
  if (strstr(file, "${")) return 0;
  if (depth > 16) {
    snprintf(msg, len, "-options_file: '%s': files include each other too deeply", file);
    return 1;
  }
  if (stat(file, &st)) {
    snprintf(msg, len, "-options_file: cannot open '%s': %s", file, strerror(errno));
    return 1;
  }
  if (S_ISDIR(st.st_mode)) {
    snprintf(msg, len, "-options_file: '%s' is a directory", file);
    return 1;
  }
  if (!(fd = fopen(file, "r"))) {
    snprintf(msg, len, "-options_file: cannot open '%s': %s", file, strerror(errno));
    return 1;
  }
  /* PETSc reads YAML files by their name (and then needs its YAML support); not checked here */
  if (EndsWith(file, ".yaml") || EndsWith(file, ".yml") || EndsWith(file, ".json")) {
    fclose(fd);
    return 0;
  }
  while (!rc && (n = getline(&line, &cap, fd)) >= 0) {
    char *tok[4] = {NULL, NULL, NULL, NULL}, *save = NULL, *c;
    int   ntok   = 0;

    lineno++;
    if (lineno == 1 && (!strncmp(line, "%YAML", 5) || !strncmp(line, "---", 3))) break; /* YAML by content */
    for (ssize_t i = 0; i < n; i++)
      if (iscntrl((unsigned char)line[i]) && !isspace((unsigned char)line[i])) rc = 1; /* NUL included */
    if (rc) {
      snprintf(msg, len, "-options_file: '%s' is not an options file (binary data on line %d)", file, lineno);
      break;
    }
    if ((c = strchr(line, '#'))) *c = 0;
    for (char *t = strtok_r(line, " \t\r\n", &save); t && ntok < 4; t = strtok_r(NULL, " \t\r\n", &save)) tok[ntok++] = t;
    if (!ntok) continue;
    if (tok[0][0] == '-') {
      if (!ValidKey(tok[0])) {
        snprintf(msg, len, "-options_file: '%s' line %d: '%.64s' is not a valid option name", file, lineno, tok[0]);
        rc = 1;
      } else if (ntok > 1 && ValidKey(tok[1])) {
        snprintf(msg, len, "-options_file: '%s' line %d: two options on one line (%.64s %.64s)", file, lineno, tok[0], tok[1]);
        rc = 1;
      } else if (ntok > 2) {
        snprintf(msg, len, "-options_file: '%s' line %d: extra item '%.64s' after %.64s %.64s", file, lineno, tok[2], tok[0], tok[1]);
        rc = 1;
      } else if (!strcasecmp(tok[0], "-options_file")) {
        char where[PATH_MAX + 32];
        snprintf(where, sizeof(where), " (in '%s' line %d)", file, lineno);
        rc = CheckFileArg(tok[1], where, depth, msg, len);
      }
    } else if (!strcasecmp(tok[0], "alias")) {
      if (ntok != 3 || !ValidKey(tok[1]) || !ValidKey(tok[2])) {
        snprintf(msg, len, "-options_file: '%s' line %d: an alias line is 'alias -name -othername'", file, lineno);
        rc = 1;
      }
    } else {
      snprintf(msg, len, "-options_file: '%s' line %d: '%.64s' is not an option (lines hold '-option [value]' and # comments)", file, lineno, tok[0]);
      rc = 1;
    }
  }
  free(line);
  fclose(fd);
  return rc;
}

int SlimOptionsCheckFiles(int argc, char **argv, char msg[], size_t len)
{
  const char *env = getenv("PETSC_OPTIONS");

  for (int i = 1; i < argc; i++) {
    if (strcasecmp(argv[i], "-options_file")) continue;
    if (CheckFileArg(i + 1 < argc ? argv[i + 1] : NULL, "", 0, msg, len)) return 1;
    i++;
  }
  /* PETSc reads the environment's options too */
  if (env) {
    char *copy = strdup(env), *save = NULL, *t;
    int   rc   = 0;
    if (!copy) return 0;
    for (t = strtok_r(copy, " \t\n", &save); t && !rc; t = strtok_r(NULL, " \t\n", &save))
      if (!strcasecmp(t, "-options_file")) rc = CheckFileArg(strtok_r(NULL, " \t\n", &save), " (in PETSC_OPTIONS)", 0, msg, len);
    free(copy);
    if (rc) return 1;
  }
  return 0;
}
