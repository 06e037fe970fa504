// TfIdfVectorizer over integer tokens: counts the n-grams of `pool_int64s` (grouped by
// length through ngram_counts, mapped to output columns by ngram_indexes) in each row,
// with n from min_gram_length to max_gram_length and up to max_skip_count tokens skipped
// between items; unigrams are counted once whatever the skip. mode TF gives counts, IDF
// the weight of every n-gram present, TFIDF count * weight (weights default to 1).
// Input [L] -> [C] or [N, L] -> [N, C], C = max(ngram_indexes) + 1.
#include <algorithm>
#include <map>

#include "ops/elementwise.h"

namespace kiln {
namespace {

enum class Mode { kTf, kIdf, kTfIdf };

class TfIdfOp final : public Op {
 public:
  TfIdfOp(std::string who, std::map<std::vector<int64_t>, int64_t> grams, int64_t columns, int64_t min_n, int64_t max_n,
          int64_t max_skip, Mode mode, std::vector<float> weights)
      : who_(std::move(who)), grams_(std::move(grams)), columns_(columns), min_n_(min_n), max_n_(max_n),
        max_skip_(max_skip), mode_(mode), weights_(std::move(weights)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kI32, DType::kI64}, who_ + ": input"));
    const Dims& x = in[0].dims;
    if (x.size() != 1 && x.size() != 2) return invalid_argument(who_ + ": input must be [L] or [N, L], got " + dims_to_string(x));
    out[0] = {DType::kF32, x.size() == 1 ? Dims{columns_} : Dims{x[0], columns_}, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const Dims& x = in[0].dims();
    const int64_t rows = x.size() == 1 ? 1 : x[0], len = x.back();
    float* y = out[0].mutable_data<float>();
    std::fill(y, y + out[0].size(), 0.0f);
    std::vector<int64_t> gram;
    for (int64_t r = 0; r < rows; ++r) {
      float* row = y + r * columns_;
      int64_t start_n = min_n_;
      for (int64_t dist = 1; dist <= max_skip_ + 1; ++dist) {
        for (int64_t s = 0; s < len; ++s) {
          gram.clear();
          for (int64_t n = 1, t = s; n <= max_n_ && t < len; ++n, t += dist) {
            gram.push_back(in[0].get_i64(r * len + t));
            if (n < start_n) continue;
            auto it = grams_.find(gram);
            if (it != grams_.end()) row[it->second] += 1;
          }
        }
        if (start_n == 1 && ++start_n > max_n_) break;  // unigrams do not depend on the skip
      }
      for (int64_t c = 0; c < columns_; ++c) {
        const float w = weights_.empty() ? 1.0f : weights_[static_cast<size_t>(c)];
        if (mode_ == Mode::kIdf) row[c] = row[c] > 0 ? w : 0;
        else if (mode_ == Mode::kTfIdf) row[c] *= w;
      }
    }
    return Status::Ok();
  }

 private:
  std::string who_;
  std::map<std::vector<int64_t>, int64_t> grams_;  // n-gram -> output column
  int64_t columns_, min_n_, max_n_, max_skip_;
  Mode mode_;
  std::vector<float> weights_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_tf_idf_vectorizer(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  const std::string who = ctx.node.describe();
  KILN_ASSIGN_OR_RETURN(int64_t min_n, ctx.node.attr_int("min_gram_length"));
  KILN_ASSIGN_OR_RETURN(int64_t max_n, ctx.node.attr_int("max_gram_length"));
  KILN_ASSIGN_OR_RETURN(int64_t max_skip, ctx.node.attr_int("max_skip_count"));
  KILN_ASSIGN_OR_RETURN(std::string mode_name, ctx.node.attr_string("mode"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> counts, ctx.node.attr_ints("ngram_counts"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> indexes, ctx.node.attr_ints("ngram_indexes"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> pool, ctx.node.attr_ints("pool_int64s", std::vector<int64_t>{}));
  KILN_ASSIGN_OR_RETURN(std::vector<float> weights, ctx.node.attr_floats("weights", std::vector<float>{}));
  if (ctx.node.has_attr("pool_strings")) return unsupported(who + ": string pools are not supported (no string tensors)");
  Mode mode;
  if (mode_name == "TF") mode = Mode::kTf;
  else if (mode_name == "IDF") mode = Mode::kIdf;
  else if (mode_name == "TFIDF") mode = Mode::kTfIdf;
  else return invalid_model(who + ": mode must be TF, IDF or TFIDF, got '" + mode_name + "'");
  if (min_n < 1 || max_n < min_n || max_skip < 0 || counts.empty() || counts[0] != 0)
    return invalid_model(who + ": bad gram lengths, skip count or ngram_counts");
  std::map<std::vector<int64_t>, int64_t> grams;
  size_t k = 0;  // position in ngram_indexes
  for (size_t g = 0; g < counts.size(); ++g) {
    const int64_t n = static_cast<int64_t>(g) + 1;
    const int64_t begin = counts[g], end = g + 1 < counts.size() ? counts[g + 1] : static_cast<int64_t>(pool.size());
    if (begin > end || end > static_cast<int64_t>(pool.size()) || (end - begin) % n != 0)
      return invalid_model(who + ": ngram_counts do not partition pool_int64s");
    for (int64_t p = begin; p < end; p += n, ++k) {
      if (k >= indexes.size()) return invalid_model(who + ": fewer ngram_indexes than n-grams in the pool");
      grams[std::vector<int64_t>(pool.begin() + p, pool.begin() + p + n)] = indexes[k];
    }
  }
  int64_t columns = 0;
  for (int64_t i : indexes) {
    if (i < 0) return invalid_model(who + ": negative ngram index");
    columns = std::max(columns, i + 1);
  }
  if (!weights.empty() && static_cast<int64_t>(weights.size()) < columns)
    return invalid_model(who + ": weights has fewer entries than output columns");
  return std::unique_ptr<Op>(new TfIdfOp(who, std::move(grams), columns, min_n, max_n, max_skip, mode, std::move(weights)));
}

}  // namespace kiln
