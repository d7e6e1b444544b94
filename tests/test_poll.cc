// Tests of the stop request of SlimPoll (src/poll.c): with the stop check on, a requested stop
// makes the next poll fail with SLIM_ERR_STOPPED, so a long integration -- the slimplectic
// stepper (both solvers) and the RK baseline, which poll once per step -- is abandoned within a
// step; without the check, or before a stop, polls succeed and call the hook.
#include <gtest/gtest.h>
#include <petscsys.h>
#include <petsctime.h>
#include <slim/poll.h>
#include <slim/rk.h>

#include "testing.h"

#include <signal.h>

using slimtest::QuietErrors;

namespace
{
int calls;

PetscErrorCode Count(void *)
{
  calls++;
  return 0;
}

// A long loop of the kind the integrators run: one poll per step.
PetscErrorCode Integrate(PetscInt nsteps, PetscInt stop_at, PetscInt *done)
{
  PetscFunctionBeginUser;
  for (*done = 0; *done < nsteps; (*done)++) {
    if (*done == stop_at) raise(SIGUSR1);
    PetscCall(SlimPoll());
  }
  PetscFunctionReturn(0);
}

void OnSignal(int) { SlimPollRequestStop(); }

// A hook that delivers the signal, as a scheduler would, once the integration is under way.
PetscErrorCode RaiseOnce(void *)
{
  if (!calls++) raise(SIGUSR1);
  return 0;
}

struct StopCheck {
  struct sigaction old;
  StopCheck()
  {
    struct sigaction sa = {};
    sa.sa_handler       = OnSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &old);
    SlimPollClearStop();
    calls = 0;
    EXPECT_EQ(0, SlimPollSet(RaiseOnce, NULL, 1000));
    EXPECT_EQ(0, SlimPollSetStopCheck(PETSC_TRUE));
  }
  ~StopCheck()
  {
    SlimPollSetStopCheck(PETSC_FALSE);
    SlimPollSet(NULL, NULL, 256);
    SlimPollClearStop();
    sigaction(SIGUSR1, &old, NULL);
  }
};
} // namespace

// 1e9 steps would take hours; the stop ends each integration within the step after the signal.
TEST(Poll, StopEndsLongIntegrations)
{
  const PetscInt N = 1000000000;
  slimtest::Fam  fam("dho");
  for (SlimSolverType type : {SLIM_SOLVER_SNES, SLIM_SOLVER_DENSE}) {
    StopCheck           sc;
    QuietErrors         q;
    slimtest::Stepper   st(fam.f, 1, 1, 0.01, type);
    PetscLogDouble      t0, t1;
    PetscInt            step;
    ASSERT_EQ(0, SlimStepperSetInitialState(st.s, 0, 0.0, fam.f->q0, fam.f->v0));
    PetscTime(&t0);
    EXPECT_EQ(SLIM_ERR_STOPPED, SlimStepperIntegrate(st.s, N));
    PetscTime(&t1);
    ASSERT_EQ(0, SlimStepperGetStepIndex(st.s, &step));
    EXPECT_EQ(1001, step) << SlimSolverTypes[type]; // the signal came in the poll of step 1000
    EXPECT_LT(t1 - t0, 2.0);
  }
  {
    StopCheck      sc;
    QuietErrors    q;
    SlimRK         rk = NULL;
    PetscReal      q1[8], v1[8];
    PetscLogDouble t0, t1;
    ASSERT_EQ(0, SlimRKCreate(fam.f, fam.f->theta, "4", &rk));
    PetscTime(&t0);
    EXPECT_EQ(SLIM_ERR_STOPPED, SlimRKIntegrate(rk, 0.01, N, 0.0, fam.f->q0, fam.f->v0, q1, v1));
    PetscTime(&t1);
    EXPECT_LT(t1 - t0, 2.0);
    EXPECT_EQ(0, SlimRKDestroy(&rk));
  }
}

TEST(Poll, StopUnwindsWithinOneStep)
{
  struct sigaction sa = {}, old;
  PetscInt         done;
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, &old);

  SlimPollClearStop();
  ASSERT_EQ(0, SlimPollSet(Count, NULL, 10));
  calls = 0;
  // stop check off: a stop is recorded but the loop completes (code that cannot be abandoned)
  ASSERT_EQ(0, Integrate(100, 50, &done));
  EXPECT_EQ(100, done);
  EXPECT_TRUE(SlimPollStopRequested());
  EXPECT_EQ(10, calls);
  SlimPollClearStop();
  EXPECT_FALSE(SlimPollStopRequested());

  // stop check on: the step after the signal fails with SLIM_ERR_STOPPED
  ASSERT_EQ(0, SlimPollSetStopCheck(PETSC_TRUE));
  ASSERT_EQ(0, Integrate(1000, 1001, &done)); // no stop: unaffected
  {
    QuietErrors    q;
    PetscErrorCode ierr = Integrate(1000000, 123, &done);
    EXPECT_EQ(SLIM_ERR_STOPPED, ierr);
    EXPECT_EQ(123, done);
  }
  ASSERT_EQ(0, SlimPollSetStopCheck(PETSC_FALSE));
  SlimPollClearStop();
  ASSERT_EQ(0, SlimPollSet(NULL, NULL, 256));
  sigaction(SIGUSR1, &old, NULL);
}
