// Latency of two models side by side, as `kiln compress` and `kiln eval` report it.
//
// On a loaded machine, wall-clock times of runs made back to back phase-lock with the
// scheduler's time slices: one model of the pair absorbs every preemption (equal models
// measured 321 vs 478 ms). So single-threaded sessions are timed in the calling thread's
// CPU time, the pair's order is swapped every round, and each model's median is reported.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/session.h"

namespace kiln {

struct PairLatency {
  double ref_ms = 0, test_ms = 0;  // medians
  int runs = 0;                    // timed runs per model
  size_t threads = 1;              // the larger of the two sessions' thread counts
  bool cpu_time = false;           // thread CPU time (single-threaded), else wall clock
};

// CPU time consumed by the calling thread, in ms.
double thread_cpu_ms();

// The middle value (the upper one of the two middle values for an even count); 0 if empty.
double median(std::vector<double> v);

// Runs `run_ref` and `run_test` `runs` times each, ref first in even rounds and test first
// in odd ones, reading `clock` (ms) just before and after each call; medians per model.
// `on_round` (optional) is called after each round with the rounds done. The first error
// of a run is returned. Separate from the sessions so the order and median can be tested.
Result<PairLatency> time_pair(int runs, const std::function<Status()>& run_ref,
                              const std::function<Status()>& run_test, const std::function<double()>& clock,
                              const std::function<void(int)>& on_round = {});

// Both sessions on the same feeds: thread CPU time when both run single-threaded, else
// wall clock (worker threads' time is not the caller's).
Result<PairLatency> time_sessions(Session& ref, Session& test, const TensorMap& feeds, int runs,
                                  const std::function<void(int)>& on_round = {});

// "1 thread, CPU time, median of 5" / "2 threads, wall clock, median of 5".
std::string latency_method(const PairLatency& l);

}  // namespace kiln
