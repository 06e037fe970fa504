// The ConvTranspose op on its GEMM + col2im path (constant weights packed at creation,
// run-time weights packed per call)
// against the same op on the reference loop: explicit pads, output_padding, auto_pad,
// output_shape, groups, 1-D, fused activations (Relu in the scatter, HardSigmoid after),
// and a layer the fast path leaves to the reference (3-D).
#include "graph/kiln_extensions.h"
#include "ops_nn_test_util.h"

namespace kiln::nntest {
namespace {

TEST(OpsConvTransposePacked, MatchesReference) {
  struct Case {
    const char* name;
    Dims x, w;
    bool bias;
    Attrs attrs;
  };
  const Case cases[] = {
      {"detector 2x2 s2", {1, 24, 10, 12}, {24, 24, 2, 2}, true, {{"strides", attr_ints({2, 2})}}},
      {"detector 2x2 s2 -> 1", {1, 24, 20, 24}, {24, 1, 2, 2}, false, {{"strides", attr_ints({2, 2})}}},
      {"3x3 s2 pads output_padding",
       {2, 5, 4, 6},
       {5, 3, 3, 3},
       true,
       {{"strides", attr_ints({2, 2})}, {"pads", attr_ints({1, 0, 0, 1})}, {"output_padding", attr_ints({1, 1})}}},
      {"auto_pad SAME_UPPER s3", {1, 3, 4, 5}, {3, 4, 4, 2}, true,
       {{"strides", attr_ints({3, 3})}, {"auto_pad", attr_s("SAME_UPPER")}}},
      {"auto_pad SAME_LOWER s2", {1, 3, 5, 5}, {3, 2, 3, 3}, false,
       {{"strides", attr_ints({2, 2})}, {"auto_pad", attr_s("SAME_LOWER")}}},
      {"output_shape", {1, 2, 3, 3}, {2, 3, 3, 3}, true,
       {{"strides", attr_ints({2, 2})}, {"output_shape", attr_ints({8, 7})}}},
      {"groups dilated", {2, 6, 4, 5}, {6, 2, 2, 3}, true,
       {{"group", attr_i(3)}, {"dilations", attr_ints({2, 1})}, {"pads", attr_ints({0, 1, 1, 0})}}},
      {"1-D", {2, 4, 9}, {4, 3, 4}, true, {{"strides", attr_ints({3})}, {"pads", attr_ints({1, 2})}}},
      {"relu fused", {1, 8, 5, 5}, {8, 6, 2, 2}, true,
       {{"strides", attr_ints({2, 2})}, {ext::kActivation, attr_s("Relu")}}},
      {"hardsigmoid fused", {1, 4, 5, 5}, {4, 3, 3, 3}, true,
       {{"strides", attr_ints({2, 2})},
        {ext::kActivation, attr_s("HardSigmoid")},
        {ext::kActivationAlpha, attr_f(0.2f)},
        {ext::kActivationBeta, attr_f(0.5f)}}},
      {"3-D (reference path)", {1, 2, 3, 2, 3}, {2, 2, 2, 2, 2}, true, {{"strides", attr_ints({2, 1, 2})}}},
  };
  uint32_t seed = 700;
  for (const Case& c : cases)
    for (bool constant : {true, false}) {
      SCOPED_TRACE(std::string(c.name) + (constant ? " constant" : " run-time weights"));
      Inputs in = {random_tensor(c.x, seed++), random_tensor(c.w, seed++)};
      const int64_t group = c.attrs.count("group") ? c.attrs.at("group").i : 1;
      if (c.bias) in.push_back(random_tensor({c.w[1] * group}, seed++));
      OpCall call{"ConvTranspose", c.attrs, in};
      call.inputs_constant = constant;
      expect_fast_matches_reference(call);
    }
}

}  // namespace
}  // namespace kiln::nntest
