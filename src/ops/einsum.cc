// Einsum: Einstein summation over an equation such as "bij,bjk->bik" or "...ii->...i"
// (spaces ignored; "..." stands for the broadcast leading dims; without "->" the output is
// the letters used exactly once, in alphabetical order, after the ellipsis dims). Every
// output element sums the product of the inputs over the letters not in the output. This is
// the plain reference loop over all letters (no contraction planning), fine for the small
// einsums models use for attention or bilinear forms.
#include <algorithm>
#include <map>

#include "ops/elementwise.h"

namespace kiln {
namespace {

class EinsumOp final : public Op {
 public:
  EinsumOp(std::string who, std::string equation) : who_(std::move(who)), equation_(std::move(equation)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    Plan p;
    KILN_RETURN_IF_ERROR(plan(in, p));
    out[0] = {in[0].dtype, p.out_dims, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    std::vector<TensorInfo> info = infos_of(in);
    Plan p;
    KILN_RETURN_IF_ERROR(plan(info, p));
    TensorInfo expect{in[0].dtype(), p.out_dims, nullptr};
    KILN_RETURN_IF_ERROR(check_outputs(out, std::span<const TensorInfo>(&expect, 1), who_));
    const size_t L = p.sizes.size();
    // Element strides of each input per letter (summed over repeats, for diagonals).
    std::vector<std::vector<int64_t>> strides(in.size(), std::vector<int64_t>(L, 0));
    for (size_t t = 0; t < in.size(); ++t) {
      int64_t s = 1;
      for (size_t k = p.labels[t].size(); k-- > 0;) {
        strides[t][static_cast<size_t>(p.labels[t][k])] += s;
        s *= in[t].dims()[k];
      }
    }
    // Letters ordered: output letters first (row-major), then summed ones.
    std::vector<int> order = p.out_labels;
    for (int l = 0; l < static_cast<int>(L); ++l)
      if (std::find(order.begin(), order.end(), l) == order.end()) order.push_back(l);
    int64_t out_count = 1, sum_count = 1;
    for (size_t i = 0; i < order.size(); ++i)
      (i < p.out_labels.size() ? out_count : sum_count) *= p.sizes[static_cast<size_t>(order[i])];
    Status s;
    visit_dtype(in[0].dtype(), ArithTypes{}, [&](auto tag) {
      using T = decltype(tag);
      T* y = out[0].mutable_data<T>();
      std::vector<int64_t> idx(L, 0);
      for (int64_t o = 0; o < out_count; ++o) {
        int64_t rem = o;
        for (size_t i = p.out_labels.size(); i-- > 0;) {
          const size_t l = static_cast<size_t>(order[i]);
          idx[l] = rem % p.sizes[l];
          rem /= p.sizes[l];
        }
        double acc = 0;
        for (int64_t q = 0; q < sum_count; ++q) {
          rem = q;
          for (size_t i = order.size(); i-- > p.out_labels.size();) {
            const size_t l = static_cast<size_t>(order[i]);
            idx[l] = rem % p.sizes[l];
            rem /= p.sizes[l];
          }
          double prod = 1;
          for (size_t t = 0; t < in.size(); ++t) {
            int64_t off = 0;
            for (size_t l = 0; l < L; ++l) off += strides[t][l] * idx[l];
            prod *= static_cast<double>(in[t].data<T>()[off]);
          }
          acc += prod;
        }
        y[o] = static_cast<T>(acc);
      }
    });
    if (!visit_dtype(in[0].dtype(), ArithTypes{}, [](auto) {}))
      return invalid_argument(who_ + ": unsupported dtype " + dtype_name(in[0].dtype()));
    return s;
  }

 private:
  struct Plan {
    std::vector<std::vector<int>> labels;  // per input, per dim: letter id
    std::vector<int> out_labels;
    std::vector<int64_t> sizes;            // per letter id
    Dims out_dims;
  };

  Status plan(std::span<const TensorInfo> in, Plan& p) const {
    std::string eq;
    for (char c : equation_)
      if (c != ' ') eq += c;
    const size_t arrow = eq.find("->");
    const std::string lhs = eq.substr(0, arrow);
    std::vector<std::string> terms;
    for (size_t b = 0;;) {
      const size_t comma = lhs.find(',', b);
      terms.push_back(lhs.substr(b, comma == std::string::npos ? std::string::npos : comma - b));
      if (comma == std::string::npos) break;
      b = comma + 1;
    }
    if (terms.size() != in.size())
      return invalid_model(who_ + ": equation '" + equation_ + "' has " + std::to_string(terms.size()) +
                           " operands, the node has " + std::to_string(in.size()) + " inputs");
    if (in.empty() || !visit_dtype(in[0].dtype, ArithTypes{}, [](auto) {}))
      return invalid_argument(who_ + ": inputs must be " + dtype_list_names(ArithTypes{}));
    std::map<char, int> ids;
    std::map<char, int> uses;
    int64_t ellipsis_rank = 0;
    for (size_t t = 0; t < terms.size(); ++t) {
      if (in[t].dtype != in[0].dtype) return invalid_argument(who_ + ": inputs must share one dtype");
      const size_t e = terms[t].find("...");
      const int64_t letters = static_cast<int64_t>(terms[t].size()) - (e == std::string::npos ? 0 : 3);
      if (e != std::string::npos) ellipsis_rank = std::max(ellipsis_rank, static_cast<int64_t>(in[t].dims.size()) - letters);
    }
    // Ellipsis dims get ids 0..ellipsis_rank-1 (right-aligned, broadcast), letters after.
    p.sizes.assign(static_cast<size_t>(ellipsis_rank), 1);
    auto letter_id = [&](char c) {
      auto [it, fresh] = ids.emplace(c, static_cast<int>(p.sizes.size()));
      if (fresh) p.sizes.push_back(-1);
      return it->second;
    };
    for (size_t t = 0; t < terms.size(); ++t) {
      const Dims& d = in[t].dims;
      std::vector<int> lab;
      const std::string& term = terms[t];
      const size_t e = term.find("...");
      const int64_t letters = static_cast<int64_t>(term.size()) - (e == std::string::npos ? 0 : 3);
      const int64_t er = static_cast<int64_t>(d.size()) - letters;
      if (er < 0 || (e == std::string::npos && er != 0))
        return invalid_argument(who_ + ": operand " + std::to_string(t) + " '" + term + "' does not match shape " +
                                dims_to_string(d));
      for (size_t i = 0; i < term.size(); ++i) {
        if (i == e) {
          for (int64_t k = 0; k < er; ++k) lab.push_back(static_cast<int>(ellipsis_rank - er + k));
          i += 2;
          continue;
        }
        const char c = term[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
          return invalid_model(who_ + ": bad character '" + std::string(1, c) + "' in equation '" + equation_ + "'");
        lab.push_back(letter_id(c));
        ++uses[c];
      }
      for (size_t k = 0; k < lab.size(); ++k) {
        int64_t& s = p.sizes[static_cast<size_t>(lab[k])];
        const int64_t dk = d[k];
        if (lab[k] < ellipsis_rank) {
          if (s != 1 && dk != 1 && s != dk)
            return invalid_argument(who_ + ": ellipsis dims do not broadcast in '" + equation_ + "'");
          s = std::max(s, dk);
        } else if (s == -1) {
          s = dk;
        } else if (s != dk) {
          return invalid_argument(who_ + ": letter sizes disagree (" + std::to_string(s) + " vs " + std::to_string(dk) +
                                  ") in '" + equation_ + "' for shape " + dims_to_string(d));
        }
      }
      p.labels.push_back(std::move(lab));
    }
    // Broadcast ellipsis dims of size 1 read index 0: give them stride 0 by relabelling.
    for (size_t t = 0; t < terms.size(); ++t)
      for (size_t k = 0; k < p.labels[t].size(); ++k)
        if (p.labels[t][k] < ellipsis_rank && in[t].dims[k] == 1 && p.sizes[static_cast<size_t>(p.labels[t][k])] != 1) {
          p.labels[t][k] = static_cast<int>(p.sizes.size());
          p.sizes.push_back(1);
        }
    if (arrow == std::string::npos) {
      for (int k = 0; k < ellipsis_rank; ++k) p.out_labels.push_back(k);
      for (const auto& [c, n] : uses)  // std::map: alphabetical (uppercase first, as ASCII)
        if (n == 1) p.out_labels.push_back(ids[c]);
    } else {
      const std::string rhs = eq.substr(arrow + 2);
      for (size_t i = 0; i < rhs.size(); ++i) {
        if (rhs.compare(i, 3, "...") == 0) {
          for (int k = 0; k < ellipsis_rank; ++k) p.out_labels.push_back(k);
          i += 2;
          continue;
        }
        auto it = ids.find(rhs[i]);
        if (it == ids.end())
          return invalid_model(who_ + ": output letter '" + std::string(1, rhs[i]) + "' is not in any operand");
        p.out_labels.push_back(it->second);
      }
    }
    for (int l : p.out_labels) p.out_dims.push_back(p.sizes[static_cast<size_t>(l)]);
    return Status::Ok();
  }

  std::string who_;
  std::string equation_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_einsum(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 16));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(std::string eq, ctx.node.attr_string("equation"));
  return std::unique_ptr<Op>(new EinsumOp(ctx.node.describe(), std::move(eq)));
}

}  // namespace kiln
