// The shared latency timing of kiln compress / kiln eval (src/compress/latency.h) on a fake
// clock: the order of the pair swaps each round, each run is timed alone, medians drop
// outliers, and a pause that always lands on the second run of a round is shared fairly.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "compress/latency.h"

namespace kiln {
namespace {

// A clock that the fake runs advance: each call costs its model's time, plus `pause` when
// `paused(call index)` says a preemption lands on it.
struct FakeMachine {
  double now = 0;
  int calls = 0;
  std::string order;
  std::function<bool(int)> paused = [](int) { return false; };
  double pause = 1000;

  std::function<Status()> model(char name, double ms) {
    return [this, name, ms] {
      order += name;
      now += ms + (paused(calls) ? pause : 0);
      ++calls;
      return Status();
    };
  }
  std::function<double()> clock() {
    return [this] { return now; };
  }
};

TEST(CompressLatency, OrderSwapsEveryRound) {
  FakeMachine m;
  std::vector<int> rounds;
  auto l = time_pair(5, m.model('R', 10), m.model('T', 20), m.clock(), [&](int done) { rounds.push_back(done); });
  ASSERT_TRUE(l.ok()) << l.status().to_string();
  EXPECT_EQ(m.order, "RTTRRTTRRT");
  EXPECT_EQ(rounds, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(l->runs, 5);
  EXPECT_DOUBLE_EQ(l->ref_ms, 10);
  EXPECT_DOUBLE_EQ(l->test_ms, 20);
}

TEST(CompressLatency, PausePhaseLockedWithThePairIsSharedAlike) {
  // Every second run of a round is preempted (the scheduler's slice lines up with the pair).
  // Back to back without the swap, the test model would absorb every pause (1020 vs 10);
  // swapped, both see it equally often and the difference of the models survives.
  FakeMachine m;
  m.paused = [](int call) { return call % 2 == 1; };
  auto l = time_pair(4, m.model('R', 10), m.model('T', 20), m.clock());
  ASSERT_TRUE(l.ok());
  EXPECT_DOUBLE_EQ(l->test_ms - l->ref_ms, 10);
}

TEST(CompressLatency, MedianDropsOutliers) {
  // Two pauses, both on the original's runs (calls 0 and 3: round 0 first, round 1 second).
  FakeMachine m;
  m.paused = [](int call) { return call == 0 || call == 3; };
  auto l = time_pair(5, m.model('R', 10), m.model('T', 20), m.clock());
  ASSERT_TRUE(l.ok());
  EXPECT_DOUBLE_EQ(l->ref_ms, 10);  // a mean would be 410
  EXPECT_DOUBLE_EQ(l->test_ms, 20);

  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 3);  // the upper middle value
  EXPECT_DOUBLE_EQ(median({}), 0);
}

TEST(CompressLatency, ZeroRunsAndErrors) {
  FakeMachine m;
  auto none = time_pair(0, m.model('R', 10), m.model('T', 20), m.clock());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->runs, 0);
  EXPECT_EQ(m.calls, 0);

  int test_runs = 0;
  auto failing = [&] {
    return ++test_runs == 2 ? invalid_argument("the compressed model broke") : Status();
  };
  auto l = time_pair(5, m.model('R', 10), failing, m.clock());
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().to_string().find("the compressed model broke"), std::string::npos);
  // Round 0: R, T; round 1 starts with T, which fails: the original is not run again.
  EXPECT_EQ(test_runs, 2);
  EXPECT_EQ(m.order, "R");
}

TEST(CompressLatency, MethodText) {
  PairLatency l;
  l.runs = 5;
  l.threads = 1;
  l.cpu_time = true;
  EXPECT_EQ(latency_method(l), "1 thread, CPU time, median of 5");
  l.threads = 2;
  l.cpu_time = false;
  EXPECT_EQ(latency_method(l), "2 threads, wall clock, median of 5");
}

TEST(CompressLatency, ThreadCpuTimeAdvancesWithWork) {
  const double t0 = thread_cpu_ms();
  volatile double x = 0;
  for (int i = 0; i < 2000000; ++i) x = x + 1e-9 * i;
  EXPECT_GT(thread_cpu_ms(), t0);
}

}  // namespace
}  // namespace kiln
