#include "compress/latency.h"

#include <algorithm>
#include <ctime>

#include "platform/platform.h"

namespace kiln {

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Result<PairLatency> time_pair(int runs, const std::function<Status()>& run_ref,
                              const std::function<Status()>& run_test, const std::function<double()>& clock,
                              const std::function<void(int)>& on_round) {
  PairLatency l;
  l.runs = std::max(runs, 0);
  std::vector<double> ta, tb;
  for (int i = 0; i < l.runs; ++i) {
    for (int k = 0; k < 2; ++k) {
      const bool ref_now = (k == 0) == (i % 2 == 0);
      const double t0 = clock();
      KILN_RETURN_IF_ERROR(ref_now ? run_ref() : run_test());
      (ref_now ? ta : tb).push_back(clock() - t0);
    }
    if (on_round) on_round(i + 1);
  }
  l.ref_ms = median(std::move(ta));
  l.test_ms = median(std::move(tb));
  return l;
}

Result<PairLatency> time_sessions(Session& ref, Session& test, const TensorMap& feeds, int runs,
                                  const std::function<void(int)>& on_round) {
  const bool cpu = ref.num_threads() == 1 && test.num_threads() == 1;
  KILN_ASSIGN_OR_RETURN(
      PairLatency l,
      time_pair(
          runs, [&] { return ref.run(feeds).status(); }, [&] { return test.run(feeds).status(); },
          [cpu] { return cpu ? thread_cpu_ms() : now_ms(); }, on_round));
  l.cpu_time = cpu;
  l.threads = std::max(ref.num_threads(), test.num_threads());
  return l;
}

std::string latency_method(const PairLatency& l) {
  return std::to_string(l.threads) + (l.threads == 1 ? " thread, " : " threads, ") +
         (l.cpu_time ? "CPU time" : "wall clock") + ", median of " + std::to_string(l.runs);
}

}  // namespace kiln
