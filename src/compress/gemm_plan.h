// Which MatMul / Gemm nodes a weight-compression pass can rewrite (int8 dynamic, int4 block):
// a constant 2-D float32 B, Gemm without transA, and an optional per-column bias. Shared so
// the passes agree rule for rule.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace kiln {

// What a convertible node multiplies by: B as k x n (maybe transposed), Gemm's alpha, and an
// optional per-column bias (MatMul kiln.bias or Gemm C, times beta).
struct GemmPlan {
  int x = kNoValue, b = kNoValue;
  int64_t k = 0, n = 0;
  bool trans_b = false;
  float alpha = 1.f;
  int bias = kNoValue;
  float beta = 1.f;
  int64_t kh = 0, kw = 0;  // > 0: a kxk convolution (k ordered tap row, tap column, channel)
};

// The per-column values of a float constant of shape [], [1], [N] or [1, N].
std::optional<std::vector<float>> column_values(const Tensor& t, int64_t n);

// Why a MatMul / Gemm cannot be converted (empty: it can, and `p` describes it).
std::string plan_gemm_node(const Model& m, const Node& node, GemmPlan& p);

}  // namespace kiln
