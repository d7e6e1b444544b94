/* A tight hand-written Newton kernel for the slimplectic step of the anharmonic oscillator: the
 * baseline the stepper's dense path is compared against (README, "Stepper speed"). Not part of
 * libslim; it only borrows the GGL nodes, weights and derivative matrix (SlimQuad).
 *
 * Per trajectory and step: initial guess = the previous step's node polynomial extrapolated
 * (degree min(r+1, 3), through equispaced node indices including both ends; the first step
 * q_n + qdot_n tau); then Newton with the residual and the analytic Jacobian computed in one
 * pass over the nodes, a dense LU with partial pivoting, and the test |R|_inf < 1e-13 or
 * |dx|_inf < 1e-15. Everything for dof = 1 with the family inlined.
 *
 *   build/bench/newton_anharmonic -r 2 -B 4096 -dt 0.1 -N 100 -repeats 5
 * runs the kernel, SlimStepper -slim_solver dense (default kernels, and -slim_step_kernel dof)
 * and SlimStepper snes in turns on the same ensemble (the harness's initial states) and prints, per code, ns per trajectory-step of the
 * fastest repeat (wall clock and thread CPU time), the ratio to the kernel, Newton iterations
 * per step (the ensemble's maximum, as the stepper records them) and q_N of trajectory 0. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <petscsys.h>
#include <slim/slim.h>

typedef struct {
  int     n, npred;
  double *w, *D, *WD, *tau, *E;
  int    *ipred;
  double  m, k, al, lam;
} Kernel;

static double Now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* One step of one trajectory: q, pi, v (end-point qdot) and the predictor nodes prev updated. */
static int Step(const Kernel *K, double t, double *q, double *pi, double *v, double *prev, int hasprev, double *X, double *J, double *R, int *piv, double *Q, double *V, double *F, double *P, double *Fq, double *Fv, double *Pq, double *Pv)
{
  const int     n = K->n, bs = n - 1;
  const double *w = K->w, *D = K->D, *WD = K->WD;
  double        pinew = 0;
  int           it;

  (void)t;
  if (hasprev)
    for (int k = 1; k < n; k++) {
      double s = 0;
      for (int j = 0; j < K->npred; j++) s += K->E[(k - 1) * K->npred + j] * prev[j];
      X[k - 1] = s;
    }
  else
    for (int k = 1; k < n; k++) X[k - 1] = *q + *v * K->tau[k];
  Q[0] = *q;
  for (it = 0; it < 50; it++) {
    double rmax = 0, dmax = 0;
    memcpy(Q + 1, X, bs * sizeof(double));
    for (int i = 0; i < n; i++) {
      double s = 0;
      for (int j = 0; j < n; j++) s += D[i * n + j] * Q[j];
      V[i] = s;
    }
    for (int i = 0; i < n; i++) {
      const double x = Q[i], y = V[i];
      F[i]  = -K->k * x - 2 * K->al * x * y * y - K->lam * y;
      P[i]  = (K->m - 2 * K->al * x * x) * y;
      Fq[i] = w[i] * (-K->k - 2 * K->al * y * y);
      Fv[i] = w[i] * (-4 * K->al * x * y - K->lam);
      Pq[i] = -4 * K->al * x * y;
      Pv[i] = w[i] * (K->m - 2 * K->al * x * x);
    }
    for (int k = 0; k < n; k++) {
      double s = w[k] * F[k];
      for (int i = 0; i < n; i++) s += WD[i * n + k] * P[i];
      if (k == 0) s += *pi;
      if (k < n - 1) R[k] = s, rmax = fmax(rmax, fabs(s));
      else pinew = s;
    }
    if (rmax < 1e-13) break;
    /* J_km = w_k Fq_k d_km + w_k Fv_k D_km + w_m D_mk Pq_m + sum_i w_i Pv_i D_ik D_im */
    for (int k = 0; k < bs; k++)
      for (int m = 1; m < n; m++) J[k * bs + m - 1] = Fv[k] * D[k * n + m] + WD[m * n + k] * Pq[m];
    for (int k = 1; k < bs; k++) J[k * bs + k - 1] += Fq[k];
    for (int i = 0; i < n; i++)
      for (int k = 0; k < bs; k++) {
        const double u = Pv[i] * D[i * n + k];
        for (int m = 1; m < n; m++) J[k * bs + m - 1] += u * D[i * n + m];
      }
    /* LU with partial pivoting, then the two triangular solves */
    for (int p = 0; p < bs; p++) {
      int    ip = p;
      double amax = fabs(J[p * bs + p]);
      for (int i = p + 1; i < bs; i++)
        if (fabs(J[i * bs + p]) > amax) amax = fabs(J[i * bs + p]), ip = i;
      if (!(amax > 0)) return -1;
      piv[p] = ip;
      if (ip != p)
        for (int j = 0; j < bs; j++) {
          double tmp = J[p * bs + j];
          J[p * bs + j] = J[ip * bs + j], J[ip * bs + j] = tmp;
        }
      for (int i = p + 1; i < bs; i++) {
        const double l = J[i * bs + p] / J[p * bs + p];
        J[i * bs + p]  = l;
        for (int j = p + 1; j < bs; j++) J[i * bs + j] -= l * J[p * bs + j];
      }
    }
    for (int p = 0; p < bs; p++)
      if (piv[p] != p) {
        double tmp = R[p];
        R[p] = R[piv[p]], R[piv[p]] = tmp;
      }
    for (int p = 0; p < bs; p++)
      for (int i = p + 1; i < bs; i++) R[i] -= J[i * bs + p] * R[p];
    for (int i = bs - 1; i >= 0; i--) {
      double s = R[i];
      for (int j = i + 1; j < bs; j++) s -= J[i * bs + j] * R[j];
      R[i] = s / J[i * bs + i];
    }
    for (int i = 0; i < bs; i++) X[i] -= R[i], dmax = fmax(dmax, fabs(R[i]));
    if (dmax < 1e-15) {
      it++;
      break;
    }
  }
  for (int j = 0; j < K->npred; j++) prev[j] = K->ipred[j] ? X[K->ipred[j] - 1] : *q;
  *q  = X[bs - 1];
  *pi = pinew;
  {
    double s = 0;
    for (int j = 0; j < n; j++) s += D[(n - 1) * n + j] * (j ? X[j - 1] : Q[0]);
    *v = s;
  }
  return it;
}

/* Thread CPU time: what the process actually ran, for a machine shared with other work. */
static double CpuNow(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

typedef struct {
  const char *name;
  double      wall, cpu; /* fastest repeat */
  double      its;       /* Newton iterations per step (ensemble maximum, as the stepper records) */
  double      q0;        /* q_N of trajectory 0 */
} Timing;

static void Record(Timing *T, double w0, double w1, double c0, double c1)
{
  T->wall = fmin(T->wall, w1 - w0);
  T->cpu  = fmin(T->cpu, c1 - c0);
}

int main(int argc, char **argv)
{
  PetscInt         r = 2, B = 4096, N = 100, repeats = 5;
  PetscReal        dt = 0.1;
  PetscBool        lib = PETSC_TRUE;
  PetscReal        check_tol = 0;
  SlimQuad         quad;
  SlimFamily       fam;
  const PetscReal *x;
  Kernel           K = {0};
  /* the library's codes: the dense loop with the default kernel instances, the dense loop with
   * the kernel compiled for the dof only (-slim_step_kernel dof: what r > 4 runs), SNES */
  Timing           T[4] = {{"hand", INFINITY, INFINITY, 0, 0}, {"dense", INFINITY, INFINITY, 0, 0}, {"dense-dofkernel", INFINITY, INFINITY, 0, 0}, {"snes", INFINITY, INFINITY, 0, 0}};
  SlimStepper      st[3] = {NULL, NULL, NULL};
  const int        nlib = 3;

  PetscCall(PetscInitialize(&argc, &argv, NULL, "Hand-written slimplectic Newton kernel (anharmonic oscillator), a benchmark baseline;\nalternates with the library's dense and SNES steppers on the same ensemble\n"));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "newton_anharmonic options", NULL);
  PetscCall(PetscOptionsInt("-r", "interior GGL points", NULL, r, &r, NULL));
  PetscCall(PetscOptionsInt("-B", "trajectories", NULL, B, &B, NULL));
  PetscCall(PetscOptionsInt("-N", "steps", NULL, N, &N, NULL));
  PetscCall(PetscOptionsInt("-repeats", "timed repeats of each (the fastest is reported)", NULL, repeats, &repeats, NULL));
  PetscCall(PetscOptionsReal("-dt", "time step", NULL, dt, &dt, NULL));
  PetscCall(PetscOptionsBool("-lib", "also time SlimStepper (dense and snes; -slim_* options apply), alternating with the kernel", NULL, lib, &lib, NULL));
  PetscCall(PetscOptionsReal("-check_tol", "if > 0: exit with an error unless every code's q_N of trajectory 0 agrees with the kernel's to this tolerance", NULL, check_tol, &check_tol, NULL));
  PetscOptionsEnd();
  PetscCheck(r >= 0 && B >= 1 && N >= 1 && repeats >= 1 && dt > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "need r >= 0, B, N, repeats >= 1, dt > 0");
  PetscCall(SlimFamilyCreate("anharmonic", "-family", &fam));
  K.m = fam->theta[0], K.k = fam->theta[1], K.al = fam->theta[2], K.lam = fam->theta[3]; /* m, k, alpha, lambda */
  K.n = (int)r + 2;
  const int n = K.n, bs = n - 1;
  PetscCall(SlimQuadCreate(r, &quad));
  K.w = malloc(n * sizeof(double)), K.D = malloc(n * n * sizeof(double)), K.WD = malloc(n * n * sizeof(double)), K.tau = malloc(n * sizeof(double));
  PetscCall(SlimQuadGetScaled(quad, dt, K.w, K.D));
  PetscCall(SlimQuadGetReference(quad, &x, NULL, NULL, NULL));
  for (int i = 0; i < n * n; i++) K.WD[i] = K.w[i / n] * K.D[i];
  for (int i = 0; i < n; i++) K.tau[i] = 0.5 * (1 + x[i]) * dt;
  K.npred = (n - 1 < 3 ? n - 1 : 3) + 1;
  K.ipred = malloc(K.npred * sizeof(int)), K.E = malloc((n - 1) * K.npred * sizeof(double));
  for (int j = 0; j < K.npred; j++) K.ipred[j] = (int)floor((double)(j * (n - 1)) / (K.npred - 1) + 0.5);
  for (int k = 1; k < n; k++)
    for (int j = 0; j < K.npred; j++) {
      double l = 1;
      for (int m = 0; m < K.npred; m++)
        if (m != j) l *= (x[k] + 2 - x[K.ipred[m]]) / (x[K.ipred[j]] - x[K.ipred[m]]);
      K.E[(k - 1) * K.npred + j] = l;
    }
  double *q = malloc(B * sizeof(double)), *pi = malloc(B * sizeof(double)), *v = malloc(B * sizeof(double));
  double *prev = malloc(B * K.npred * sizeof(double));
  int    *hasprev = malloc(B * sizeof(int)), *piv = malloc(bs * sizeof(int));
  double *ws = malloc((bs + bs * bs + bs + 9 * n) * sizeof(double));
  double *X = ws, *J = X + bs, *R = J + bs * bs, *Q = R + bs, *V = Q + n, *F = V + n, *P = F + n, *Fq = P + n, *Fv = Fq + n, *Pq = Fv + n, *Pv = Pq + n;
  if (lib)
    for (int k = 0; k < nlib; k++) {
      PetscCall(SlimStepperCreate(fam, r, B, &st[k]));
      if (k == 1) PetscCall(PetscOptionsSetValue(NULL, "-slim_step_kernel", "dof"));
      PetscCall(SlimStepperSetFromOptions(st[k]));
      if (k == 1) PetscCall(PetscOptionsClearValue(NULL, "-slim_step_kernel"));
      PetscCall(SlimStepperSetSolverType(st[k], k == 2 ? SLIM_SOLVER_SNES : SLIM_SOLVER_DENSE));
      PetscCall(SlimStepperSetTimeStep(st[k], dt));
      PetscCall(SlimStepperSetUp(st[k]));
    }
  /* repeat 0 is the warm-up; the three codes take turns so that load from other work hits
   * them alike */
  for (PetscInt rep = 0; rep <= repeats; rep++) {
    for (PetscInt b = 0; b < B; b++) q[b] = fam->q0[0] * (1 + 0.01 * b / B), v[b] = fam->v0[0], pi[b] = 0, hasprev[b] = 0;
    for (PetscInt b = 0; b < B; b++) pi[b] = (K.m - 2 * K.al * q[b] * q[b]) * v[b];
    long   itsmax = 0;
    double w0 = Now(), c0 = CpuNow();
    for (PetscInt s = 0; s < N; s++) {
      int smax = 0;
      for (PetscInt b = 0; b < B; b++) {
        const int it = Step(&K, s * dt, q + b, pi + b, v + b, prev + b * K.npred, hasprev[b], X, J, R, piv, Q, V, F, P, Fq, Fv, Pq, Pv);
        PetscCheck(it >= 0, PETSC_COMM_SELF, PETSC_ERR_MAT_LU_ZRPVT, "singular Jacobian at step %" PetscInt_FMT " of trajectory %" PetscInt_FMT, s, b);
        hasprev[b] = 1;
        smax       = it > smax ? it : smax;
      }
      itsmax += smax;
    }
    double w1 = Now(), c1 = CpuNow();
    if (rep > 0) Record(&T[0], w0, w1, c0, c1);
    T[0].its = (double)itsmax / N;
    T[0].q0  = q[0];
    for (int k = 0; k < nlib && lib; k++) {
      SlimStepStats stats;
      PetscReal     q0, v0 = fam->v0[0];
      for (PetscInt b = 0; b < B; b++) {
        q0 = fam->q0[0] * (1 + 0.01 * b / B);
        PetscCall(SlimStepperSetInitialState(st[k], b, 0, &q0, &v0));
      }
      PetscCall(SlimStepperResetStats(st[k]));
      w0 = Now(), c0 = CpuNow();
      PetscCall(SlimStepperIntegrate(st[k], N));
      w1 = Now(), c1 = CpuNow();
      if (rep > 0) Record(&T[1 + k], w0, w1, c0, c1);
      PetscCall(SlimStepperGetStats(st[k], &stats));
      PetscCheck(stats.nfailed == 0, PETSC_COMM_SELF, PETSC_ERR_CONV_FAILED, "%s: %" PetscInt_FMT " trajectories failed", T[1 + k].name, stats.nfailed);
      T[1 + k].its = (double)stats.newton_total / stats.steps;
      PetscCall(SlimStepperGetState(st[k], 0, NULL, &q0, NULL));
      T[1 + k].q0 = q0;
    }
  }
  for (int k = 0; k < (lib ? 1 + nlib : 1); k++)
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "%-15s r %2" PetscInt_FMT " B %5" PetscInt_FMT " dt %g N %" PetscInt_FMT ": ns/traj-step wall %8.1f cpu %8.1f  (/hand wall %.2f cpu %.2f)  newton/step %.3f  q0_final %.15e\n", T[k].name, r, B, (double)dt, N, 1e9 * T[k].wall / ((double)N * B),
                          1e9 * T[k].cpu / ((double)N * B), T[k].wall / T[0].wall, T[k].cpu / T[0].cpu, T[k].its, T[k].q0));
  for (int k = 1; k < (lib ? 1 + nlib : 1) && check_tol > 0; k++)
    PetscCheck(PetscAbsReal(T[k].q0 - T[0].q0) <= check_tol, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: q_N = %.15e differs from the hand-written kernel's %.15e by more than %g", T[k].name, T[k].q0, T[0].q0, (double)check_tol);
  for (int k = 0; k < nlib; k++) PetscCall(SlimStepperDestroy(&st[k]));
  free(q), free(pi), free(v), free(prev), free(hasprev), free(piv), free(ws);
  free(K.w), free(K.D), free(K.WD), free(K.tau), free(K.ipred), free(K.E);
  PetscCall(SlimQuadDestroy(&quad));
  PetscCall(SlimFamilyDestroy(&fam));
  PetscCall(PetscFinalize());
  return 0;
}
