#include "platform/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cstdint>

// Single-threaded WebAssembly (no -pthread) cannot start threads: compile them out so
// that build stays as small as before.
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define KILN_HAVE_THREADS 0
#else
#define KILN_HAVE_THREADS 1
#include <pthread.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#endif

#if KILN_HAVE_THREADS && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define KILN_SPIN_PAUSE() _mm_pause()
#else
#define KILN_SPIN_PAUSE() ((void)0)
#endif

namespace kiln {
namespace {

thread_local ThreadPool* t_current_pool = nullptr;

// Chunk i of T over [0, n): contiguous, sizes differ by at most one.
inline size_t chunk_begin(size_t n, size_t i, size_t t) { return n * i / t; }

// Polls before sleeping: ops call parallel_for back to back, and a futex round trip per
// call would cost more than a small GEMM. Short, because the machine may be shared.
constexpr int kSpins = 4000;

}  // namespace

#if KILN_HAVE_THREADS

struct ThreadPool::Shared {
  std::mutex mu;
  std::condition_variable wake, done;
  std::atomic<uint64_t> generation{0};  // bumped (under mu) once per job
  std::atomic<size_t> pending{0};       // workers still running the current job
  std::atomic<bool> busy{false};        // a caller is inside run()
  bool stop = false;                    // guarded by mu
  // The current job; written before generation is bumped, read after it is seen.
  Task task = nullptr;
  void* fn = nullptr;
  size_t n = 0;
  std::vector<pthread_t> workers;
  size_t threads = 1;  // the caller plus the workers that started

  struct Start {
    Shared* shared;
    size_t index;
  };
  static void* worker_main(void* arg) {
    Start* start = static_cast<Start*>(arg);
    Shared* s = start->shared;
    const size_t index = start->index;
    delete start;
    s->worker_loop(index);
    return nullptr;
  }

  void worker_loop(size_t index) {
    uint64_t seen = 0;
    for (;;) {
      uint64_t g = generation.load(std::memory_order_acquire);
      for (int s = 0; s < kSpins && g == seen; ++s) {
        KILN_SPIN_PAUSE();
        g = generation.load(std::memory_order_acquire);
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lock(mu);
        wake.wait(lock, [&] { return stop || generation.load(std::memory_order_acquire) != seen; });
        if (stop) return;
        g = generation.load(std::memory_order_acquire);
      }
      seen = g;
      const size_t begin = chunk_begin(n, index, threads), end = chunk_begin(n, index + 1, threads);
      if (begin < end) task(fn, begin, end);
      if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mu);
        done.notify_one();
      }
    }
  }
};

// Workers are pthreads rather than std::thread so a thread that cannot start is not an
// abort (WebAssembly builds without exceptions): the pool runs with the ones that did. In
// WebAssembly every thread needs a Web Worker from the pool Emscripten preallocates
// (PTHREAD_POOL_SIZE); when none is left pthread_create fails instead of deadlocking.
ThreadPool::ThreadPool(size_t threads) {
  if (threads <= 1) return;
  shared_ = std::make_unique<Shared>();
  // Threads all start before any job: worker i reads `threads` only once the first job's
  // generation bump (under mu, after the last start) has published it.
  std::lock_guard<std::mutex> lock(shared_->mu);
  for (size_t i = 1; i < threads; ++i) {
    auto* start = new Shared::Start{shared_.get(), i};
    pthread_t t;
    if (pthread_create(&t, nullptr, &Shared::worker_main, start) != 0) {
      delete start;
      break;
    }
    shared_->workers.push_back(t);
  }
  threads_ = shared_->threads = 1 + shared_->workers.size();
}

ThreadPool::~ThreadPool() {
  if (!shared_) return;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stop = true;
  }
  shared_->wake.notify_all();
  for (pthread_t t : shared_->workers) pthread_join(t, nullptr);
}

void ThreadPool::run(size_t n, Task task, void* fn) {
  Shared* s = shared_.get();
  // One thread, one item, or the pool already in use (nested call, or a second caller
  // thread): run inline. Same chunks' results either way.
  if (s == nullptr || threads_ == 1 || n <= 1 || s->busy.exchange(true, std::memory_order_acquire)) {
    if (n > 0) task(fn, 0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->task = task;
    s->fn = fn;
    s->n = n;
    s->pending.store(threads_ - 1, std::memory_order_relaxed);
    s->generation.fetch_add(1, std::memory_order_release);
  }
  s->wake.notify_all();
  const size_t end0 = chunk_begin(n, 1, threads_);
  if (end0 > 0) task(fn, 0, end0);
  bool finished = false;
  for (int i = 0; i < kSpins && !finished; ++i) {
    finished = s->pending.load(std::memory_order_acquire) == 0;
    if (!finished) KILN_SPIN_PAUSE();
  }
  if (!finished) {
    std::unique_lock<std::mutex> lock(s->mu);
    s->done.wait(lock, [&] { return s->pending.load(std::memory_order_acquire) == 0; });
  }
  s->busy.store(false, std::memory_order_release);
}

size_t hardware_threads() { return std::max<unsigned>(1, std::thread::hardware_concurrency()); }

#else  // no threads: every pool runs inline

struct ThreadPool::Shared {};

ThreadPool::ThreadPool(size_t) : threads_(1) {}
ThreadPool::~ThreadPool() = default;

void ThreadPool::run(size_t n, Task task, void* fn) {
  if (n > 0) task(fn, 0, n);
}

size_t hardware_threads() { return 1; }

#endif

size_t default_num_threads() { return std::min<size_t>(4, hardware_threads()); }

ThreadPool* current_thread_pool() { return t_current_pool; }

ThreadPoolScope::ThreadPoolScope(ThreadPool* pool) : saved_(t_current_pool) { t_current_pool = pool; }
ThreadPoolScope::~ThreadPoolScope() { t_current_pool = saved_; }

}  // namespace kiln
