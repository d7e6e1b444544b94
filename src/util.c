/* Private helpers shared across libslim (include/slim/private/util.h). */
#include <math.h>
#include <stdlib.h>
#include <slim/private/util.h>

PetscErrorCode SlimCatchHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  SlimCatch *c = (SlimCatch *)ctx;

  (void)comm, (void)line, (void)file;
  if (p == PETSC_ERROR_INITIAL && !c->set) {
    PetscSNPrintf(c->msg, sizeof(c->msg), "%s (in %s)", mess && mess[0] ? mess : "error", fun);
    c->set = 1;
  }
  return n;
}

static int CmpReal(const void *a, const void *b)
{
  const PetscReal x = *(const PetscReal *)a, y = *(const PetscReal *)b;
  return (x > y) - (x < y);
}

void SlimSortReal(PetscInt n, PetscReal x[])
{
  if (n > 1) qsort(x, (size_t)n, sizeof(PetscReal), CmpReal);
}

PetscReal SlimQuantile(PetscInt n, PetscReal x[], PetscReal q)
{
  PetscReal pos;
  PetscInt  i;

  if (n <= 0) return NAN;
  SlimSortReal(n, x);
  pos = q * (n - 1);
  i   = (PetscInt)floor(pos);
  if (i >= n - 1) return x[n - 1];
  return x[i] + (pos - i) * (x[i + 1] - x[i]);
}

/* splitmix64 (Steele, Lea, Flood 2014): its finaliser decorrelates neighbouring inputs */
PetscInt64 SlimSeedDerive(PetscInt64 base, PetscInt index)
{
  unsigned long long z = (unsigned long long)base * 0x9E3779B97F4A7C15ULL + (unsigned long long)index + 1;
  z                    = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z                    = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return (PetscInt64)((z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFFULL);
}
