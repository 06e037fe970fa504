// LSTM / GRU / RNN: relations that must hold whatever the cell math is, checked on random
// weights: layout 1 is layout 0 with transposed inputs and outputs; bidirectional is a
// forward and a reverse layer stacked; a sequence of length L ends where the same
// sequence cut to L steps ends, with zeros after it in Y; reverse equals forward over the
// time-reversed sequence. (Values themselves are checked against ONNX's node tests and
// onnxruntime in tests/js/recurrent.test.mjs.) Plus the attribute and shape errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

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

// Permutes the axes of a float tensor: out axis i is input axis perm[i].
Tensor permute(const Tensor& t, const std::vector<int>& perm) {
  Dims od;
  for (int p : perm) od.push_back(t.dim(p));
  Tensor out = Tensor::make(DType::kF32, od).value();
  const int r = static_cast<int>(perm.size());
  std::vector<int64_t> in_strides(r, 1), idx(r, 0);
  for (int i = r - 2; i >= 0; --i) in_strides[i] = in_strides[i + 1] * t.dim(i + 1);
  for (int64_t o = 0; o < out.size(); ++o) {
    int64_t rem = o, src = 0;
    for (int i = r - 1; i >= 0; --i) {
      src += (rem % od[i]) * in_strides[perm[i]];
      rem /= od[i];
    }
    out.mutable_data<float>()[o] = t.data<float>()[src];
  }
  return out;
}

struct Case {
  std::string type;
  int gates;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.type; }

// Runs one recurrent node; inputs by ONNX position (undefined tensors are omitted).
Result<std::vector<Tensor>> run_node(const Case& op, std::map<std::string, Attribute> attrs, std::vector<Tensor> ins) {
  Model m;
  m.opset = 14;
  Node n;
  n.name = "rec";
  n.op_type = op.type;
  n.attrs = std::move(attrs);
  TensorMap feeds;
  for (size_t i = 0; i < ins.size(); ++i) {
    if (!ins[i].defined()) {
      n.inputs.push_back(kNoValue);
      continue;
    }
    Value v;
    v.name = "in" + std::to_string(i);
    v.dtype = ins[i].dtype();
    v.shape = shape_from_dims(ins[i].dims());
    const int vi = m.add_value(std::move(v));
    m.graph.inputs.push_back(vi);
    n.inputs.push_back(vi);
    feeds["in" + std::to_string(i)] = ins[i];
  }
  const int outs = op.type == "LSTM" ? 3 : 2;
  for (int i = 0; i < outs; ++i) {
    Value v;
    v.name = "out" + std::to_string(i);
    const int vi = m.add_value(std::move(v));
    n.outputs.push_back(vi);
    m.graph.outputs.push_back(vi);
  }
  m.graph.nodes.push_back(std::move(n));
  KILN_ASSIGN_OR_RETURN(auto session, Session::create(std::move(m)));
  KILN_ASSIGN_OR_RETURN(TensorMap r, session->run(feeds));
  std::vector<Tensor> result;
  for (int i = 0; i < outs; ++i) result.push_back(r.at("out" + std::to_string(i)));
  return result;
}

Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}
Attribute string_attr(const std::string& s) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = s;
  return a;
}

void expect_near(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.dims(), want.dims()) << what;
  for (int64_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got.data<float>()[i], want.data<float>()[i], 1e-6f) << what << " element " << i;
}

// Slice [begin, end) of axis `axis` of a float tensor.
Tensor slice_axis(const Tensor& t, int axis, int64_t begin, int64_t end) {
  Dims od = t.dims();
  od[axis] = end - begin;
  Tensor out = Tensor::make(DType::kF32, od).value();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= t.dim(i);
  for (int i = axis + 1; i < t.rank(); ++i) inner *= t.dim(i);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = begin; k < end; ++k)
      for (int64_t j = 0; j < inner; ++j)
        out.mutable_data<float>()[(o * (end - begin) + (k - begin)) * inner + j] =
            t.data<float>()[(o * t.dim(axis) + k) * inner + j];
  return out;
}

class RecurrentRelations : public testing::TestWithParam<Case> {
 protected:
  static constexpr int64_t T = 5, B = 3, I = 4, H = 3;
  // Inputs X, W, R, B, sequence_lens, initial_h (, initial_c, P) for `dirs` directions.
  std::vector<Tensor> inputs(int64_t dirs, uint32_t seed) const {
    const int64_t g = GetParam().gates;
    std::vector<Tensor> in = {random_tensor({T, B, I}, seed, 1.5f), random_tensor({dirs, g * H, I}, seed + 1),
                              random_tensor({dirs, g * H, H}, seed + 2), random_tensor({dirs, 2 * g * H}, seed + 3),
                              Tensor(), random_tensor({dirs, B, H}, seed + 4)};
    if (GetParam().type == "LSTM") {
      in.push_back(random_tensor({dirs, B, H}, seed + 5));
      in.push_back(random_tensor({dirs, 3 * H}, seed + 6));
    }
    return in;
  }
  std::map<std::string, Attribute> attrs(const std::string& direction, int64_t layout = 0) const {
    return {{"hidden_size", int_attr(H)}, {"direction", string_attr(direction)}, {"layout", int_attr(layout)}};
  }
};

TEST_P(RecurrentRelations, LayoutOneIsTransposedLayoutZero) {
  std::vector<Tensor> in = inputs(2, 11);
  in[4] = Tensor::from_i64({5, 2, 4}, {B});
  auto ref = run_node(GetParam(), attrs("bidirectional"), in);
  ASSERT_TRUE(ref.ok()) << ref.status().to_string();
  std::vector<Tensor> in1 = in;
  in1[0] = permute(in[0], {1, 0, 2});
  for (size_t s : {5u, 6u})
    if (s < in1.size()) in1[s] = permute(in[s], {1, 0, 2});
  auto got = run_node(GetParam(), attrs("bidirectional", 1), in1);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  expect_near((*got)[0], permute((*ref)[0], {2, 0, 1, 3}), "Y");
  for (size_t i = 1; i < ref->size(); ++i) expect_near((*got)[i], permute((*ref)[i], {1, 0, 2}), "final state");
}

TEST_P(RecurrentRelations, BidirectionalIsForwardAndReverseStacked) {
  std::vector<Tensor> in = inputs(2, 21);
  auto both = run_node(GetParam(), attrs("bidirectional"), in);
  ASSERT_TRUE(both.ok()) << both.status().to_string();
  for (int d = 0; d < 2; ++d) {
    std::vector<Tensor> one = in;
    for (size_t i = 1; i < in.size(); ++i)
      if (in[i].defined() && i != 4) one[i] = slice_axis(in[i], 0, d, d + 1);
    auto r = run_node(GetParam(), attrs(d == 0 ? "forward" : "reverse"), one);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    expect_near((*r)[0], slice_axis((*both)[0], 1, d, d + 1), "Y direction " + std::to_string(d));
    for (size_t i = 1; i < r->size(); ++i)
      expect_near((*r)[i], slice_axis((*both)[i], 0, d, d + 1), "state direction " + std::to_string(d));
  }
}

TEST_P(RecurrentRelations, SequenceLengthsCutEachSequence) {
  const std::vector<int64_t> lens = {2, 5, 0};
  for (const char* direction : {"forward", "reverse"}) {
    std::vector<Tensor> in = inputs(1, 31);
    in[4] = Tensor::from_i64(lens, {B});
    auto all = run_node(GetParam(), attrs(direction), in);
    ASSERT_TRUE(all.ok()) << all.status().to_string();
    for (int64_t b = 0; b < B; ++b) {
      const Tensor y_b = slice_axis((*all)[0], 2, b, b + 1);  // [T, 1, 1, H]
      for (int64_t t = lens[b]; t < T; ++t) {
        const Tensor row = slice_axis(y_b, 0, t, t + 1);
        for (int64_t j = 0; j < H; ++j) EXPECT_EQ(row.data<float>()[j], 0.f) << direction << " b " << b << " t " << t;
      }
      if (lens[b] == 0) {  // no step: the final state is the initial one
        expect_near(slice_axis((*all)[1], 1, b, b + 1), slice_axis(in[5], 1, b, b + 1), "untouched state");
        continue;
      }
      // The same sequence alone, cut to its length, without sequence_lens.
      std::vector<Tensor> cut = in;
      cut[0] = slice_axis(slice_axis(in[0], 1, b, b + 1), 0, 0, lens[b]);
      cut[4] = Tensor();
      for (size_t s : {5u, 6u})
        if (s < cut.size()) cut[s] = slice_axis(in[s], 1, b, b + 1);
      auto alone = run_node(GetParam(), attrs(direction), cut);
      ASSERT_TRUE(alone.ok()) << alone.status().to_string();
      expect_near((*alone)[0], slice_axis(y_b, 0, 0, lens[b]), std::string(direction) + " Y of sequence " + std::to_string(b));
      for (size_t i = 1; i < alone->size(); ++i)
        expect_near((*alone)[i], slice_axis((*all)[i], 1, b, b + 1), std::string(direction) + " state");
    }
  }
}

TEST_P(RecurrentRelations, ReverseIsForwardOverReversedTime) {
  std::vector<Tensor> in = inputs(1, 41);
  auto rev = run_node(GetParam(), attrs("reverse"), in);
  ASSERT_TRUE(rev.ok()) << rev.status().to_string();
  std::vector<Tensor> flipped = in;
  Tensor x = Tensor::make(DType::kF32, in[0].dims()).value();
  const int64_t step = B * I;
  for (int64_t t = 0; t < T; ++t)
    std::copy_n(in[0].data<float>() + (T - 1 - t) * step, step, x.mutable_data<float>() + t * step);
  flipped[0] = x;
  auto fwd = run_node(GetParam(), attrs("forward"), flipped);
  ASSERT_TRUE(fwd.ok()) << fwd.status().to_string();
  for (int64_t t = 0; t < T; ++t)
    expect_near(slice_axis((*rev)[0], 0, t, t + 1), slice_axis((*fwd)[0], 0, T - 1 - t, T - t), "Y step");
  for (size_t i = 1; i < rev->size(); ++i) expect_near((*rev)[i], (*fwd)[i], "final state");
}

TEST_P(RecurrentRelations, BadAttributesAndShapesAreErrors) {
  std::vector<Tensor> in = inputs(1, 51);
  auto with = [&](std::map<std::string, Attribute> a) { return run_node(GetParam(), std::move(a), in); };
  auto a = attrs("sideways");
  auto r = with(a);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("sideways"), std::string::npos) << r.status().to_string();
  a = attrs("forward");
  a["hidden_size"] = int_attr(H + 1);
  r = with(a);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input W"), std::string::npos) << r.status().to_string();
  a = attrs("forward");
  Attribute acts;
  acts.kind = Attribute::Kind::kStrings;
  acts.strings = {"Swish", "Tanh", "Tanh"};
  acts.strings.resize(GetParam().type == "LSTM" ? 3 : GetParam().type == "GRU" ? 2 : 1);
  a["activations"] = acts;
  r = with(a);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Swish"), std::string::npos) << r.status().to_string();
  in[4] = Tensor::from_i64({1, 6, 1}, {B});  // longer than the sequence
  r = with(attrs("forward"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("sequence_lens[1]"), std::string::npos) << r.status().to_string();
}

INSTANTIATE_TEST_SUITE_P(Ops, RecurrentRelations, testing::Values(Case{"LSTM", 4}, Case{"GRU", 3}, Case{"RNN", 1}),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.type; });

}  // namespace
}  // namespace kiln
