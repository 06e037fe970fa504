// ThreadPool: a small persistent pool for data-parallel loops over tiles.
//
// parallel_for(n, fn) splits [0, n) into one contiguous chunk per thread, chunk i being
// [n*i/T, n*(i+1)/T), and calls fn(begin, end) once per non-empty chunk; the calling
// thread runs chunk 0 and waits for the rest. The split is static and results must not
// depend on it: a kernel gives every tile its own outputs (no reductions across tiles),
// so 1, 2 or 3 threads give bit-identical results. With one thread, fn(0, n) runs inline.
//
// Ops reach the pool of the session running them through the free parallel_for below:
// Session::run installs its pool as this thread's current pool (ThreadPoolScope), so a
// kernel driver parallelizes with one line, `parallel_for(tiles, [&](size_t b, size_t e) {...})`.
// A parallel_for inside a task (nested), from a thread with no current pool, or on a pool
// another thread is using, runs inline: never a deadlock, same results.
//
// Single-threaded WebAssembly (no -pthread) has no threads: every pool has one thread.
#pragma once
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace kiln {

class ThreadPool {
 public:
  // `threads` counts the caller: 1 (or 0) makes no worker threads. num_threads() is lower
  // when the platform cannot start that many (WebAssembly's worker pool is used up).
  explicit ThreadPool(size_t threads);
  ~ThreadPool();  // stops and joins the workers
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t num_threads() const { return threads_; }

  template <class Fn>
  void parallel_for(size_t n, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    run(n, [](void* f, size_t begin, size_t end) { (*static_cast<F*>(f))(begin, end); },
        static_cast<void*>(&fn));
  }

 private:
  using Task = void (*)(void* fn, size_t begin, size_t end);
  void run(size_t n, Task task, void* fn);
  struct Shared;
  size_t threads_ = 1;
  std::unique_ptr<Shared> shared_;
};

// Threads this build can run at once: 1 in WebAssembly without -pthread, otherwise the
// hardware's logical cores (at least 1).
size_t hardware_threads();
// SessionOptions::num_threads == 0: the hardware's threads, at most 4 (beyond that the
// models kiln targets gain little and other work on the machine loses a core).
size_t default_num_threads();

// This thread's current pool (set by ThreadPoolScope), or nullptr.
ThreadPool* current_thread_pool();

// Makes `pool` the current pool of this thread until the scope ends (nullptr: none).
class ThreadPoolScope {
 public:
  explicit ThreadPoolScope(ThreadPool* pool);
  ~ThreadPoolScope();
  ThreadPoolScope(const ThreadPoolScope&) = delete;
  ThreadPoolScope& operator=(const ThreadPoolScope&) = delete;

 private:
  ThreadPool* saved_;
};

// parallel_for on this thread's current pool, or fn(0, n) inline without one.
template <class Fn>
void parallel_for(size_t n, Fn&& fn) {
  if (ThreadPool* pool = current_thread_pool(); pool != nullptr && pool->num_threads() > 1 && n > 1)
    pool->parallel_for(n, std::forward<Fn>(fn));
  else if (n > 0)
    fn(size_t{0}, n);
}

}  // namespace kiln
