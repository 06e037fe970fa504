#include "ops/recurrent.h"

#include <algorithm>
#include <cctype>

#include "ops/nn_util.h"

namespace kiln {
namespace {

constexpr size_t kX = 0, kW = 1, kR = 2, kB = 3, kSeqLens = 4, kInitialH = 5, kInitialC = 6, kP = 7;

struct ActivationSpec {
  const char* name;
  RecurrentActivationKind kind;
  int params;  // 0: none, 1: alpha, 2: alpha and beta
  float alpha, beta;  // defaults (those of the ONNX operator of the same name)
};
constexpr ActivationSpec kActivations[] = {
    {"relu", RecurrentActivationKind::kRelu, 0, 0.f, 0.f},
    {"tanh", RecurrentActivationKind::kTanh, 0, 0.f, 0.f},
    {"sigmoid", RecurrentActivationKind::kSigmoid, 0, 0.f, 0.f},
    {"affine", RecurrentActivationKind::kAffine, 2, 1.f, 0.f},
    {"leakyrelu", RecurrentActivationKind::kLeakyRelu, 1, 0.01f, 0.f},
    {"thresholdedrelu", RecurrentActivationKind::kThresholdedRelu, 1, 1.f, 0.f},
    {"scaledtanh", RecurrentActivationKind::kScaledTanh, 2, 1.f, 1.f},
    {"hardsigmoid", RecurrentActivationKind::kHardSigmoid, 2, 0.2f, 0.5f},
    {"elu", RecurrentActivationKind::kElu, 1, 1.f, 0.f},
    {"softsign", RecurrentActivationKind::kSoftsign, 0, 0.f, 0.f},
    {"softplus", RecurrentActivationKind::kSoftplus, 0, 0.f, 0.f},
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string input_name(size_t i) {
  static const char* kNames[] = {"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"};
  return i < 8 ? kNames[i] : std::to_string(i);
}

bool present(std::span<const TensorInfo> in, size_t i) { return i < in.size() && in[i].present(); }

Status expect_dims(const RecurrentAttrs& a, std::span<const TensorInfo> in, size_t i, const Dims& want) {
  if (in[i].dims != want)
    return invalid_argument(a.who + "input " + input_name(i) + " has shape " + dims_to_string(in[i].dims) +
                            ", expected " + dims_to_string(want));
  return Status::Ok();
}

}  // namespace

Result<RecurrentAttrs> parse_recurrent_attrs(const OpContext& ctx, size_t gates,
                                             const std::vector<std::string>& default_acts) {
  RecurrentAttrs a;
  a.who = ctx.node.describe() + ": ";
  a.gates = gates;
  a.acts_per_direction = default_acts.size();
  KILN_ASSIGN_OR_RETURN(a.hidden, ctx.node.attr_int("hidden_size", -1));
  if (ctx.node.has_attr("hidden_size") && a.hidden <= 0)
    return invalid_model(a.who + "hidden_size must be positive, got " + std::to_string(a.hidden));
  KILN_ASSIGN_OR_RETURN(std::string direction, ctx.node.attr_string("direction", "forward"));
  if (direction == "bidirectional") a.directions = 2;
  else if (direction == "reverse") a.reverse = true;
  else if (direction != "forward")
    return invalid_model(a.who + "direction must be forward, reverse or bidirectional, got '" + direction + "'");
  KILN_ASSIGN_OR_RETURN(a.layout, ctx.node.attr_int("layout", 0));
  if (a.layout != 0 && a.layout != 1) return invalid_model(a.who + "layout must be 0 or 1, got " + std::to_string(a.layout));
  KILN_ASSIGN_OR_RETURN(a.clip, ctx.node.attr_float("clip", 0.f));
  if (ctx.node.has_attr("clip") && !(a.clip > 0.f))
    return invalid_model(a.who + "clip must be positive, got " + std::to_string(a.clip));

  std::vector<std::string> names;
  if (const Attribute* acts = ctx.node.attr("activations")) {
    if (acts->kind != Attribute::Kind::kStrings)
      return invalid_model(a.who + "attribute activations must be a list of strings");
    names = acts->strings;
  } else {
    for (size_t d = 0; d < a.directions; ++d) names.insert(names.end(), default_acts.begin(), default_acts.end());
  }
  if (names.size() != a.acts_per_direction * a.directions)
    return invalid_model(a.who + "activations lists " + std::to_string(names.size()) + " functions, expected " +
                         std::to_string(a.acts_per_direction * a.directions));
  KILN_ASSIGN_OR_RETURN(std::vector<float> alphas, ctx.node.attr_floats("activation_alpha", std::vector<float>{}));
  KILN_ASSIGN_OR_RETURN(std::vector<float> betas, ctx.node.attr_floats("activation_beta", std::vector<float>{}));
  // alpha / beta values are consumed in order by the functions that take them.
  size_t next_alpha = 0, next_beta = 0;
  for (const std::string& n : names) {
    const ActivationSpec* spec = nullptr;
    for (const ActivationSpec& s : kActivations)
      if (lower(n) == s.name) spec = &s;
    if (!spec) return unsupported(a.who + "activation function '" + n + "' is not supported");
    RecurrentActivation act{spec->kind, spec->alpha, spec->beta};
    if (spec->params >= 1 && next_alpha < alphas.size()) act.alpha = alphas[next_alpha++];
    if (spec->params >= 2 && next_beta < betas.size()) act.beta = betas[next_beta++];
    a.acts.push_back(act);
  }
  return a;
}

Result<RecurrentDims> check_recurrent_inputs(const RecurrentAttrs& a, std::span<const TensorInfo> in) {
  for (size_t i : {kX, kW, kR})
    if (!present(in, i)) return invalid_argument(a.who + "input " + input_name(i) + " is required");
  for (size_t i = 0; i < in.size(); ++i) {
    if (!present(in, i) || i == kSeqLens) continue;
    KILN_RETURN_IF_ERROR(expect_dtype(in[i], {DType::kF32}, a.who + "input " + input_name(i)));
  }
  const Dims& x = in[kX].dims;
  const Dims& w = in[kW].dims;
  const Dims& r = in[kR].dims;
  if (x.size() != 3) return invalid_argument(a.who + "input X must be 3-D, got " + dims_to_string(x));
  if (w.size() != 3) return invalid_argument(a.who + "input W must be 3-D, got " + dims_to_string(w));
  if (r.size() != 3) return invalid_argument(a.who + "input R must be 3-D, got " + dims_to_string(r));
  RecurrentDims d;
  d.seq = a.layout == 0 ? x[0] : x[1];
  d.batch = a.layout == 0 ? x[1] : x[0];
  d.input = x[2];
  d.hidden = a.hidden > 0 ? a.hidden : r[2];
  const int64_t dirs = static_cast<int64_t>(a.directions), g = static_cast<int64_t>(a.gates);
  KILN_RETURN_IF_ERROR(expect_dims(a, in, kW, {dirs, g * d.hidden, d.input}));
  KILN_RETURN_IF_ERROR(expect_dims(a, in, kR, {dirs, g * d.hidden, d.hidden}));
  if (present(in, kB)) KILN_RETURN_IF_ERROR(expect_dims(a, in, kB, {dirs, 2 * g * d.hidden}));
  if (present(in, kSeqLens)) {
    KILN_RETURN_IF_ERROR(expect_dtype(in[kSeqLens], {DType::kI32, DType::kI64}, a.who + "input sequence_lens"));
    KILN_RETURN_IF_ERROR(expect_dims(a, in, kSeqLens, {d.batch}));
  }
  const Dims state = recurrent_state_dims(a, d);
  if (present(in, kInitialH)) KILN_RETURN_IF_ERROR(expect_dims(a, in, kInitialH, state));
  if (present(in, kInitialC)) KILN_RETURN_IF_ERROR(expect_dims(a, in, kInitialC, state));
  if (present(in, kP)) KILN_RETURN_IF_ERROR(expect_dims(a, in, kP, {dirs, 3 * d.hidden}));
  return d;
}

Dims recurrent_y_dims(const RecurrentAttrs& a, const RecurrentDims& d) {
  const int64_t dirs = static_cast<int64_t>(a.directions);
  return a.layout == 0 ? Dims{d.seq, dirs, d.batch, d.hidden} : Dims{d.batch, d.seq, dirs, d.hidden};
}

Dims recurrent_state_dims(const RecurrentAttrs& a, const RecurrentDims& d) {
  const int64_t dirs = static_cast<int64_t>(a.directions);
  return a.layout == 0 ? Dims{dirs, d.batch, d.hidden} : Dims{d.batch, dirs, d.hidden};
}

Status infer_recurrent(const RecurrentAttrs& a, std::span<const TensorInfo> in, std::span<TensorInfo> out) {
  KILN_ASSIGN_OR_RETURN(RecurrentDims d, check_recurrent_inputs(a, in));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].dtype = DType::kF32;
    out[i].dims = i == 0 ? recurrent_y_dims(a, d) : recurrent_state_dims(a, d);
  }
  return Status::Ok();
}

Status run_recurrent(const RecurrentAttrs& a, std::span<const Tensor> in, std::span<Tensor> out,
                     const std::function<void(const RecurrentDirection&)>& kernel) {
  std::vector<TensorInfo> info(in.size());
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i].defined()) info[i] = TensorInfo{in[i].dtype(), in[i].dims(), &in[i]};
  KILN_ASSIGN_OR_RETURN(RecurrentDims d, check_recurrent_inputs(a, info));
  for (size_t i = 0; i < out.size(); ++i)
    KILN_RETURN_IF_ERROR(nn::check_output(out[i], i == 0 ? recurrent_y_dims(a, d) : recurrent_state_dims(a, d), a.who));
  std::vector<int64_t> lens;
  if (present(info, kSeqLens)) {
    for (int64_t b = 0; b < d.batch; ++b) {
      const int64_t len = in[kSeqLens].get_i64(b);
      if (len < 0 || len > d.seq)
        return invalid_argument(a.who + "sequence_lens[" + std::to_string(b) + "] = " + std::to_string(len) +
                                " is outside [0, " + std::to_string(d.seq) + "]");
      lens.push_back(len);
    }
  }
  const size_t T = static_cast<size_t>(d.seq), B = static_cast<size_t>(d.batch), I = static_cast<size_t>(d.input),
               H = static_cast<size_t>(d.hidden), D = a.directions, G = a.gates;
  auto data = [&](size_t i) { return present(info, i) ? in[i].data<float>() : nullptr; };
  auto outp = [&](size_t i) { return i < out.size() ? out[i].mutable_data<float>() : nullptr; };
  RecurrentGeometry geo;
  geo.seq = T;
  geo.batch = B;
  geo.input = I;
  geo.hidden = H;
  geo.seq_lens = lens.empty() ? nullptr : lens.data();
  geo.clip = a.clip;
  std::vector<float> workspace(recurrent_workspace_size(geo, G));
  for (size_t dir = 0; dir < D; ++dir) {
    RecurrentDirection rd;
    rd.index = dir;
    RecurrentGeometry& g = rd.geometry;
    g = geo;
    g.reverse = a.reverse || dir == 1;
    // Offsets of this direction in Y and the states, and the strides of both layouts.
    size_t y_off, state_off;
    if (a.layout == 0) {
      g.x_stride_t = static_cast<ptrdiff_t>(B * I);
      g.x_stride_b = static_cast<ptrdiff_t>(I);
      g.y_stride_t = static_cast<ptrdiff_t>(D * B * H);
      g.y_stride_b = static_cast<ptrdiff_t>(H);
      g.state_stride_b = static_cast<ptrdiff_t>(H);
      y_off = state_off = dir * B * H;
    } else {
      g.x_stride_t = static_cast<ptrdiff_t>(I);
      g.x_stride_b = static_cast<ptrdiff_t>(T * I);
      g.y_stride_t = static_cast<ptrdiff_t>(D * H);
      g.y_stride_b = static_cast<ptrdiff_t>(T * D * H);
      g.state_stride_b = static_cast<ptrdiff_t>(D * H);
      y_off = state_off = dir * H;
    }
    rd.acts = &a.acts[dir * a.acts_per_direction];
    rd.x = data(kX);
    rd.w = data(kW) + dir * G * H * I;
    rd.r = data(kR) + dir * G * H * H;
    if (const float* b = data(kB)) rd.bias = b + dir * 2 * G * H;
    if (const float* p = data(kP)) rd.peephole = p + dir * 3 * H;
    if (const float* h0 = data(kInitialH)) rd.h0 = h0 + state_off;
    if (const float* c0 = data(kInitialC)) rd.c0 = c0 + state_off;
    if (float* y = outp(0)) rd.y = y + y_off;
    if (float* h = outp(1)) rd.h_out = h + state_off;
    if (float* c = outp(2)) rd.c_out = c + state_off;
    rd.workspace = workspace.data();
    kernel(rd);
  }
  return Status::Ok();
}

}  // namespace kiln
