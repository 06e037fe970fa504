// MatMul, Gemm and Conv on the packed paths (constant weights packed at creation, or B
// packed per run; Conv through the channels-last kernels) against the same ops on the
// reference kernels.
#include "graph/kiln_extensions.h"
#include "ops_nn_test_util.h"

namespace kiln::nntest {
namespace {

TEST(OpsPackedGemm, MatMulConstantAndRuntimeB) {
  const std::pair<Dims, Dims> cases[] = {
      {{40, 120}, {120, 360}}, {{1, 40, 120}, {120, 6625}}, {{3, 5}, {5, 17}},  {{7}, {7, 9}},
      {{4, 7}, {7}},           {{2, 3, 4}, {2, 4, 5}},      {{2, 3, 4}, {4, 5}}, {{3, 4}, {2, 4, 5}},
      {{1, 8, 10, 16}, {1, 8, 16, 10}},
  };
  uint32_t seed = 900;
  for (const auto& [ad, bd] : cases)
    for (bool constant : {false, true}) {
      SCOPED_TRACE(dims_to_string(ad) + " x " + dims_to_string(bd) + (constant ? " constant" : ""));
      OpCall call{"MatMul", {}, {random_tensor(ad, seed++), random_tensor(bd, seed++)}};
      call.inputs_constant = constant;
      expect_fast_matches_reference(call);
    }
}

TEST(OpsPackedGemm, GemmTransposesAlphaBetaAndC) {
  const Dims cs[] = {{}, {1}, {17}, {1, 17}, {9, 17}, {9, 1}};
  uint32_t seed = 950;
  for (int trans_b = 0; trans_b < 2; ++trans_b)
    for (const Dims& cd : cs)
      for (bool constant : {false, true}) {
        SCOPED_TRACE("transB=" + std::to_string(trans_b) + " C " + dims_to_string(cd) + (constant ? " constant" : ""));
        const Dims bd = trans_b ? Dims{17, 13} : Dims{13, 17};
        OpCall call{"Gemm",
                    {{"transB", attr_i(trans_b)}, {"alpha", attr_f(0.5f)}, {"beta", attr_f(2.f)}},
                    {random_tensor({9, 13}, seed++), random_tensor(bd, seed++), random_tensor(cd, seed++)}};
        call.inputs_constant = constant;
        expect_fast_matches_reference(call);
      }
  OpCall no_c{"Gemm", {{"transA", attr_i(1)}}, {random_tensor({13, 9}, 1), random_tensor({13, 17}, 2)}};
  no_c.inputs_constant = true;
  expect_fast_matches_reference(no_c);
  OpCall beta0{"Gemm", {{"beta", attr_f(0.f)}}, {random_tensor({9, 13}, 3), random_tensor({13, 17}, 4),
                                                 random_tensor({17}, 5)}};
  beta0.inputs_constant = true;
  expect_fast_matches_reference(beta0);
}

TEST(OpsPackedGemm, PointwiseConvAsGemm) {
  uint32_t seed = 990;
  struct Case {
    Dims x, w;
    bool bias;
    Attrs attrs;
  };
  const Case cases[] = {
      {{1, 5, 3, 7}, {11, 5, 1, 1}, true, {}},
      {{2, 16, 6, 40}, {24, 16, 1, 1}, false, {}},
      {{1, 3, 1, 1}, {1, 3, 1, 1}, true, {}},
      {{2, 8, 20}, {12, 8, 1}, true, {}},                                     // 1-D
      {{1, 4, 6, 6}, {8, 4, 1, 1}, true, {{"strides", attr_ints({2, 2})}}},  // strided: reference path
      {{1, 4, 5, 5}, {6, 2, 1, 1}, true, {{"group", attr_i(2)}}},            // grouped: reference path
      {{1, 4, 5, 5}, {6, 4, 1, 1}, true, {{"pads", attr_ints({1, 1, 1, 1})}}},
      {{1, 4, 5, 5}, {6, 4, 3, 3}, true, {}},
  };
  for (const Case& c : cases)
    for (bool constant : {false, true}) {
      SCOPED_TRACE("x " + dims_to_string(c.x) + " w " + dims_to_string(c.w) + (constant ? " constant" : ""));
      Inputs in = {random_tensor(c.x, seed++), random_tensor(c.w, seed++)};
      if (c.bias) in.push_back(random_tensor({c.w[0]}, seed++));
      OpCall call{"Conv", c.attrs, in};
      call.inputs_constant = constant;
      expect_fast_matches_reference(call);
    }
}

// The NCHW Conv op with constant weights: one op object run on several inputs and shapes
// (the cached indirection buffer and channels-last scratch are rebuilt or reused), with
// each fused activation (Relu / Clip as the kernels' clamp, the rest applied after).
TEST(OpsPackedGemm, NchwConvReusedAcrossRunsAndFusedActivations) {
  struct Case {
    Dims w;
    Attrs attrs;
    std::vector<Dims> xs;  // run in this order on one op
  };
  const Case cases[] = {
      {{8, 4, 3}, {{"pads", attr_ints({1, 1})}}, {{1, 4, 10}, {1, 4, 10}, {2, 4, 23}, {1, 4, 1}}},
      {{16, 1, 64}, {{"strides", attr_ints({32})}}, {{1, 1, 160}, {1, 1, 96}, {3, 1, 160}}},  // STFT-like
      {{6, 3, 3, 3}, {{"pads", attr_ints({1, 0, 1, 2})}, {"strides", attr_ints({2, 1})}}, {{1, 3, 7, 9}, {2, 3, 5, 5}}},
      {{6, 1, 3, 3}, {{"group", attr_i(6)}, {"pads", attr_ints({1, 1, 1, 1})}}, {{1, 6, 6, 5}, {1, 6, 3, 8}}},
      {{5, 3, 1, 1, 1}, {}, {{1, 3, 2, 3, 4}, {2, 3, 1, 1, 5}}},  // 3-D pointwise: a GEMM over the pixels
      {{4, 6, 1}, {}, {{1, 6, 1}, {1, 6, 9}}},                      // one pixel: no transposes
      {{1, 5, 4}, {{"pads", attr_ints({0, 3})}}, {{2, 5, 7}}},        // one output channel
      {{7, 1, 5}, {{"pads", attr_ints({2, 1})}, {"strides", attr_ints({3})}}, {{1, 1, 4}, {1, 1, 19}}},
      {{6, 3, 3}, {{"dilations", attr_ints({2})}, {"pads", attr_ints({2, 2})}}, {{1, 3, 11}}},  // dilated: IGEMM
      {{6, 2, 3}, {{"group", attr_i(3)}, {"pads", attr_ints({1, 1})}}, {{2, 6, 8}}},           // grouped: IGEMM
      {{6, 1, 5}, {{"group", attr_i(6)}, {"pads", attr_ints({2, 2})}}, {{1, 6, 12}}},          // depthwise
  };
  const std::pair<const char*, Attrs> acts[] = {
      {"none", {}},
      {"Relu", {{ext::kActivation, attr_s("Relu")}}},
      {"Clip", {{ext::kActivation, attr_s("Clip")}, {ext::kActivationAlpha, attr_f(-0.2f)},
                {ext::kActivationBeta, attr_f(0.3f)}}},
      {"Sigmoid", {{ext::kActivation, attr_s("Sigmoid")}}},
  };
  uint32_t seed = 1200;
  for (const Case& c : cases)
    for (const auto& [act_name, act] : acts) {
      SCOPED_TRACE("w " + dims_to_string(c.w) + " activation " + act_name);
      Attrs attrs = c.attrs;
      attrs.insert(act.begin(), act.end());
      const Tensor w = random_tensor(c.w, seed++), b = random_tensor({c.w[0]}, seed++);
      // W and B are constants of the model; X is a graph input.
      Model m = make_model(OpCall{"Conv", attrs, {random_tensor(c.xs[0], seed), w, b}});
      m.values[static_cast<size_t>(m.graph.nodes[0].inputs[1])].data = w;
      m.values[static_cast<size_t>(m.graph.nodes[0].inputs[2])].data = b;
      auto fast = create_op(OpContext{m.graph.nodes[0], m, 13});
      ASSERT_TRUE(fast.ok()) << fast.status().to_string();
      for (const Dims& xd : c.xs) {
        SCOPED_TRACE("x " + dims_to_string(xd));
        const Tensor x = random_tensor(xd, seed++);
        OpCall ref_call{"Conv", attrs, {x, w, b}};
        set_use_reference_kernels(true);
        auto ref = run_op(ref_call);
        set_use_reference_kernels(false);
        ASSERT_TRUE(ref.ok()) << ref.status().to_string();
        const Tensor& want = ref.value()[0];
        auto got = Tensor::make(DType::kF32, want.dims());
        ASSERT_TRUE(got.ok());
        std::vector<Tensor> outs = {got.value()};
        const std::vector<Tensor> ins = {x, w, b};
        ASSERT_TRUE((*fast)->run(ins, outs).ok());
        for (int64_t i = 0; i < want.size(); ++i)
          ASSERT_NEAR(outs[0].data<float>()[i], want.data<float>()[i], 1e-4f * (1.f + std::abs(want.data<float>()[i])))
              << "at " << i;
      }
    }
}

}  // namespace
}  // namespace kiln::nntest
