// LSTM with constant W / R / B (packed once for the GEMM microkernels, ops/lstm.cc)
// against the reference kernel on the same model (KILN_REFERENCE_KERNELS' switch), over
// directions, layouts, sequence lengths, initial states, peepholes, clip, input_forget,
// other activations, omitted bias; and bit-identical results for 1 and 3 threads.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ops/packed_gemm.h"
#include "runtime/session.h"

namespace kiln {
namespace {

Tensor random_tensor(Dims dims, uint32_t seed, float scale = 0.7f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(static_cast<size_t>(num_elements(dims)));
  for (float& x : v) x = u(rng);
  return Tensor::from_f32(v, dims);
}

struct LstmCase {
  const char* name;
  int64_t seq, batch, input, hidden;
  std::string direction = "forward";
  int64_t layout = 0;
  bool bias = true, initial = true, peephole = false;
  std::vector<int32_t> seq_lens;  // empty: none
  std::map<std::string, Attribute> extra;
};

Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}

// One LSTM node: W, R, B, sequence_lens and P are model constants; X, initial_h and
// initial_c are graph inputs. Returns the model and its feeds.
std::pair<Model, TensorMap> lstm_model(const LstmCase& c, uint32_t seed) {
  const int64_t D = c.direction == "bidirectional" ? 2 : 1, H = c.hidden;
  Model m;
  m.opset = 14;
  Node n;
  n.name = "lstm";
  n.op_type = "LSTM";
  Attribute dir;
  dir.kind = Attribute::Kind::kString;
  dir.s = c.direction;
  n.attrs = c.extra;
  n.attrs["hidden_size"] = int_attr(H);
  n.attrs["direction"] = dir;
  n.attrs["layout"] = int_attr(c.layout);
  TensorMap feeds;
  auto add = [&](const std::string& name, const Tensor& t, bool constant) {
    Value v;
    v.name = name;
    v.dtype = t.dtype();
    v.shape = shape_from_dims(t.dims());
    if (constant) v.data = t;
    const int vi = m.add_value(std::move(v));
    if (!constant) {
      m.graph.inputs.push_back(vi);
      feeds[name] = t;
    }
    n.inputs.push_back(vi);
  };
  const Dims x = c.layout == 0 ? Dims{c.seq, c.batch, c.input} : Dims{c.batch, c.seq, c.input};
  const Dims state = c.layout == 0 ? Dims{D, c.batch, H} : Dims{c.batch, D, H};
  add("X", random_tensor(x, seed, 1.5f), false);
  add("W", random_tensor({D, 4 * H, c.input}, seed + 1), true);
  add("R", random_tensor({D, 4 * H, H}, seed + 2), true);
  if (c.bias) add("B", random_tensor({D, 8 * H}, seed + 3), true);
  else n.inputs.push_back(kNoValue);
  if (!c.seq_lens.empty()) {
    Tensor lens = Tensor::make(DType::kI32, {c.batch}).value();
    for (size_t i = 0; i < c.seq_lens.size(); ++i) lens.mutable_data<int32_t>()[i] = c.seq_lens[i];
    add("lens", lens, true);
  }
  else n.inputs.push_back(kNoValue);
  if (c.initial) {
    add("h0", random_tensor(state, seed + 4), false);
    add("c0", random_tensor(state, seed + 5), false);
  } else {
    n.inputs.push_back(kNoValue);
    n.inputs.push_back(kNoValue);
  }
  if (c.peephole) add("P", random_tensor({D, 3 * H}, seed + 6), true);
  while (!n.inputs.empty() && n.inputs.back() == kNoValue) n.inputs.pop_back();
  for (const char* name : {"Y", "Y_h", "Y_c"}) {
    Value v;
    v.name = name;
    const int vi = m.add_value(std::move(v));
    n.outputs.push_back(vi);
    m.graph.outputs.push_back(vi);
  }
  m.graph.nodes.push_back(std::move(n));
  return {std::move(m), std::move(feeds)};
}

TensorMap run_lstm(const Model& m, const TensorMap& feeds, bool reference, size_t threads) {
  set_use_reference_kernels(reference);
  SessionOptions so;
  so.num_threads = threads;
  auto s = Session::create(m, so);
  set_use_reference_kernels(false);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  if (!s.ok()) return {};
  set_use_reference_kernels(reference);
  auto r = (*s)->run(feeds);
  TensorMap again = r.ok() ? (*s)->run(feeds).value() : TensorMap{};  // a second run reuses the op's scratch
  set_use_reference_kernels(false);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  if (!r.ok()) return {};
  for (const auto& [name, t] : *r) {
    const Tensor& u = again.at(name);
    EXPECT_EQ(0, std::memcmp(t.raw(), u.raw(), t.bytes())) << name << ": a second run differs";
  }
  return std::move(r).value();
}

TEST(OpsLstmPacked, MatchesReferenceAndThreadCounts) {
  Attribute clip;
  clip.kind = Attribute::Kind::kFloat;
  clip.f = 0.6f;
  Attribute acts;
  acts.kind = Attribute::Kind::kStrings;
  acts.strings = {"HardSigmoid", "Relu", "Softsign"};
  const LstmCase cases[] = {
      {"silero: one step, batch 1, 128 -> 128", 1, 1, 128, 128},
      {"several steps and batches", 7, 3, 5, 9},
      {"hidden 1, input 1", 4, 2, 1, 1},
      {"hidden 17 (not a tile multiple), reverse", 5, 2, 6, 17, "reverse"},
      {"bidirectional layout 1", 6, 3, 4, 5, "bidirectional", 1},
      {"no bias, no initial states", 3, 2, 4, 6, "forward", 0, false, false},
      {"peepholes and sequence lengths", 6, 3, 4, 5, "bidirectional", 0, true, true, true, {6, 2, 0}},
      {"clip", 5, 2, 3, 4, "forward", 0, true, true, false, {}, {{"clip", clip}}},
      {"input_forget, other activations", 4, 2, 3, 4, "forward", 0, true, true, true, {}, {{"input_forget", int_attr(1)}, {"activations", acts}}},
  };
  uint32_t seed = 100;
  for (const LstmCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto [model, feeds] = lstm_model(c, seed += 10);
    const TensorMap want = run_lstm(model, feeds, true, 1);
    const TensorMap fast1 = run_lstm(model, feeds, false, 1);
    const TensorMap fast3 = run_lstm(model, feeds, false, 3);
    ASSERT_EQ(want.size(), 3u);
    for (const auto& [name, w] : want) {
      SCOPED_TRACE(name);
      const Tensor& f1 = fast1.at(name);
      const Tensor& f3 = fast3.at(name);
      ASSERT_EQ(f1.dims(), w.dims());
      ASSERT_EQ(f3.dims(), w.dims());
      for (int64_t i = 0; i < w.size(); ++i)
        ASSERT_NEAR(f1.data<float>()[i], w.data<float>()[i], 1e-5f * (1.f + std::abs(w.data<float>()[i])))
            << "element " << i;
      EXPECT_EQ(0, std::memcmp(f1.raw(), f3.raw(), f1.bytes())) << "1 and 3 threads differ";
    }
  }
}

}  // namespace
}  // namespace kiln
