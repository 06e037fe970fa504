#include "compress/eval.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "compress/exposed_values.h"
#include "format/model_io.h"
#include "platform/platform.h"
#include "vision/ctc_decode.h"

namespace kiln {

Result<std::vector<std::string>> load_ctc_keys(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return io_error("cannot read the key file " + path);
  const std::string text{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  // PaddleOCR's list, as kiln ocr reads it: blank, the lines, then use_space_char's " ".
  std::vector<std::string> keys = vision::parse_keys(text, /*use_space_char=*/true);
  if (keys.size() < 3) return invalid_argument("the key file " + path + " is empty");
  return keys;
}

namespace {

int64_t argmax(const float* v, int64_t n) { return int64_t(std::max_element(v, v + n) - v); }

// Values computed by the main graph in both models under the same name: the layers whose
// outputs can be compared. Constants (also fp16 weights' Cast outputs, which are weights
// in the original) and the models' inputs and outputs are left out.
std::set<std::string> shared_intermediates(const Model& a, const Model& b) {
  const std::set<std::string> x = computed_float_values(a, false), y = computed_float_values(b, false);
  std::set<std::string> both;
  std::set_intersection(x.begin(), x.end(), y.begin(), y.end(), std::inserter(both, both.end()));
  return both;
}

struct Evaluator {
  const EvalOptions& o;
  EvalReport& rep;
  std::map<std::string, ErrorStats> out_stats;

  void progress(const std::string& stage, int done, int total) {
    if (o.progress) o.progress(stage, done, total);
  }

  Status score_task(const EvalSample& s, const TensorMap& a, const TensorMap& b, const std::string& out_name) {
    const Tensor& x = a.at(out_name);
    const Tensor& y = b.at(out_name);
    const float* px = x.data<float>();
    const float* py = y.data<float>();
    const Dims& d = x.dims();
    switch (rep.task) {
      case EvalTask::kClassifier: {
        if (d.size() != 2 || d[0] != 1 || d[1] < 1)
          return invalid_argument("classifier output '" + out_name + "' is " + dims_to_string(d) + ", expected [1, K]");
        const int64_t ca = argmax(px, d[1]), cb = argmax(py, d[1]);
        rep.top1_agree += ca == cb;
        if (s.label >= 0 && d[1] == 2) {
          ++rep.labelled;
          rep.ref_correct += ca == s.label;
          rep.test_correct += cb == s.label;
        }
        return Status::Ok();
      }
      case EvalTask::kRecognizer: {
        if (d.size() != 3 || d[0] != 1 || d[2] < 2)
          return invalid_argument("recognizer output '" + out_name + "' is " + dims_to_string(d) + ", expected [1, T, C]");
        if (!o.keys.empty() && int64_t(o.keys.size()) != d[2])
          return invalid_argument("the key list has " + std::to_string(o.keys.size()) + " classes (blank and space " +
                                  "included) but the recognizer's output has " + std::to_string(d[2]));
        const size_t n = size_t(d[1] * d[2]);
        KILN_ASSIGN_OR_RETURN(vision::CtcResult ia, vision::ctc_greedy_decode(px, n, {d[1], d[2]}));
        KILN_ASSIGN_OR_RETURN(vision::CtcResult ib, vision::ctc_greedy_decode(py, n, {d[1], d[2]}));
        rep.strings_agree += ia.indices == ib.indices;
        if (o.keys.empty() || s.text.empty()) return Status::Ok();
        KILN_ASSIGN_OR_RETURN(std::string ta, vision::ctc_text(ia, o.keys));
        KILN_ASSIGN_OR_RETURN(std::string tb, vision::ctc_text(ib, o.keys));
        const StringScore sa = score_string(s.text, ta), sb = score_string(s.text, tb);
        ++rep.with_truth;
        rep.ref_exact += sa.exact;
        rep.test_exact += sb.exact;
        rep.ref_char_accuracy += sa.char_accuracy;
        rep.test_char_accuracy += sb.char_accuracy;
        if (rep.examples.size() < 3 || (ta != tb && rep.examples.size() < 6))
          rep.examples.push_back(s.text + " | " + ta + " | " + tb);
        return Status::Ok();
      }
      case EvalTask::kDetector: {
        if (d.size() != 4 || d[0] != 1 || d[1] != 1)
          return invalid_argument("detector output '" + out_name + "' is " + dims_to_string(d) + ", expected [1, 1, H, W]");
        KILN_ASSIGN_OR_RETURN(std::vector<Box> ba, text_boxes(px, d[2], d[3]));
        KILN_ASSIGN_OR_RETURN(std::vector<Box> bb, text_boxes(py, d[2], d[3]));
        auto add = [](BoxMatch& sum, const BoxMatch& m) {
          sum.ref_boxes += m.ref_boxes, sum.test_boxes += m.test_boxes, sum.matched += m.matched, sum.sum_iou += m.sum_iou;
        };
        add(rep.boxes, match_boxes(ba, bb));
        if (!s.lines.empty()) {
          // The rendered lines are in input pixels; the map may be smaller.
          const Tensor& in = s.feeds.begin()->second;
          const float sx = float(d[3]) / float(in.dim(3)), sy = float(d[2]) / float(in.dim(2));
          std::vector<Box> truth;
          for (const Box& t : s.lines) truth.push_back(Box{t.x0 * sx, t.y0 * sy, t.x1 * sx, t.y1 * sy});
          add(rep.ref_vs_truth, match_boxes(truth, ba));
          add(rep.test_vs_truth, match_boxes(truth, bb));
        }
        return Status::Ok();
      }
      default:
        return Status::Ok();
    }
  }

  // Every float output, both models, accumulated per name.
  Status compare_outputs(const std::vector<TensorDesc>& outputs, const TensorMap& a, const TensorMap& b,
                         std::map<std::string, ErrorStats>& stats) {
    for (const TensorDesc& d : outputs) {
      auto ia = a.find(d.name), ib = b.find(d.name);
      if (ia == a.end() || ib == b.end()) return invalid_argument("no output '" + d.name + "' in one of the models");
      const Tensor &x = ia->second, &y = ib->second;
      if (x.dtype() != DType::kF32 || y.dtype() != DType::kF32) continue;
      if (x.dims() != y.dims())
        return invalid_argument("output '" + d.name + "' is " + dims_to_string(x.dims()) + " in the original and " +
                                dims_to_string(y.dims()) + " in the compressed model");
      stats[d.name].add(x.data<float>(), y.data<float>(), x.size());
    }
    return Status::Ok();
  }
};

}  // namespace

Result<EvalReport> evaluate(std::shared_ptr<const std::vector<uint8_t>> ref_bytes,
                            std::shared_ptr<const std::vector<uint8_t>> test_bytes, const EvalOptions& o) {
  if (!ref_bytes || !test_bytes) return invalid_argument("no model bytes given");
  if (o.latency_runs < 0 || o.layer_runs < 0) return invalid_argument("latency_runs and layer_runs must be >= 0");
  EvalReport rep;
  rep.ref_bytes = ref_bytes->size();
  rep.test_bytes = test_bytes->size();
  KILN_ASSIGN_OR_RETURN(Model ref_model, read_model(ref_bytes));
  KILN_ASSIGN_OR_RETURN(Model test_model, read_model(test_bytes));
  SessionOptions so;
  so.num_threads = o.num_threads;
  auto ref = Session::create(ref_model, so);
  if (!ref.ok()) return ref.status().with_context("the original model");
  auto test = Session::create(test_model, so);
  if (!test.ok()) return test.status().with_context("the compressed model");
  Session &a = **ref, &b = **test;
  auto names = [](const std::vector<TensorDesc>& v) {
    std::vector<std::string> n;
    for (const TensorDesc& d : v) n.push_back(d.name);
    return n;
  };
  if (names(a.inputs()) != names(b.inputs()) || names(a.outputs()) != names(b.outputs()))
    return invalid_argument("the two models have different input or output names; eval compares a model with a "
                            "compressed version of itself");

  rep.task = o.task == EvalTask::kAuto ? detect_eval_task(a.inputs(), a.outputs()) : o.task;
  EvalSet set;
  if (!o.user_inputs.empty()) {
    for (const TensorMap& m : o.user_inputs) set.samples.push_back(EvalSample{m, "", -1, {}});
    set.description = std::to_string(o.user_inputs.size()) + " user input sets (no ground truth)";
  } else {
    EvalDataOptions d = o.data;
    d.task = rep.task;
    KILN_ASSIGN_OR_RETURN(set, make_eval_set(a.inputs(), d));
  }
  rep.inputs = set.description;
  rep.samples = int(set.samples.size());

  Evaluator ev{o, rep, {}};
  const std::string first_out = a.outputs().front().name;
  if (rep.task != EvalTask::kGeneric && a.outputs().front().dtype != DType::kF32)
    return invalid_argument(std::string("the ") + eval_task_name(rep.task) + "'s first output '" + first_out +
                            "' is not float32; use --task generic");
  for (size_t i = 0; i < set.samples.size(); ++i) {
    const EvalSample& s = set.samples[i];
    const std::string which = " (input " + std::to_string(i + 1) + ")";
    auto ra = a.run(s.feeds);
    if (!ra.ok()) return ra.status().with_context("the original model" + which);
    auto rb = b.run(s.feeds);
    if (!rb.ok()) return rb.status().with_context("the compressed model" + which);
    KILN_RETURN_IF_ERROR(ev.compare_outputs(a.outputs(), *ra, *rb, ev.out_stats));
    KILN_RETURN_IF_ERROR(ev.score_task(s, *ra, *rb, first_out));
    ev.progress("running both models", int(i) + 1, rep.samples);
  }
  if (rep.with_truth) {
    rep.ref_char_accuracy /= double(rep.with_truth);
    rep.test_char_accuracy /= double(rep.with_truth);
  }
  for (const TensorDesc& d : a.outputs())
    if (auto it = ev.out_stats.find(d.name); it != ev.out_stats.end()) rep.outputs.push_back({d.name, "", it->second});

  // Per-layer SNR: both models again with every shared intermediate exposed as an output.
  rep.layer_samples = std::min(o.layer_runs, rep.samples);
  if (rep.layer_samples > 0) {
    const std::set<std::string> shared = shared_intermediates(a.model(), b.model());
    std::map<std::string, std::string> op_types;
    auto pa = Session::create(expose_values(ref_model, shared, &op_types), so);
    if (!pa.ok()) return pa.status().with_context("the original model with its intermediates exposed");
    auto pb = Session::create(expose_values(test_model, shared), so);
    if (!pb.ok()) return pb.status().with_context("the compressed model with its intermediates exposed");
    std::map<std::string, ErrorStats> layer_stats;
    for (int i = 0; i < rep.layer_samples; ++i) {
      const TensorMap& feeds = set.samples[size_t(i)].feeds;
      KILN_ASSIGN_OR_RETURN(TensorMap xa, (*pa)->run(feeds));
      KILN_ASSIGN_OR_RETURN(TensorMap xb, (*pb)->run(feeds));
      for (const std::string& n : shared) {
        auto ia = xa.find(n), ib = xb.find(n);
        if (ia == xa.end() || ib == xb.end()) continue;
        const Tensor &x = ia->second, &y = ib->second;
        // A layer whose layout differs between the two (a rewritten subgraph) is skipped.
        if (x.dtype() != DType::kF32 || y.dtype() != DType::kF32 || x.dims() != y.dims()) continue;
        layer_stats[n].add(x.data<float>(), y.data<float>(), x.size());
      }
      ev.progress("per-layer SNR", i + 1, rep.layer_samples);
    }
    for (auto& [n, st] : layer_stats) rep.layers.push_back({n, op_types[n], st});
    std::stable_sort(rep.layers.begin(), rep.layers.end(),
                     [](const NamedError& x, const NamedError& y) { return x.stats.snr_db() < y.stats.snr_db(); });
  }

  // Latency (compress/latency.h): interleaved runs on the first input, order swapped each round.
  if (o.latency_runs > 0) {
    KILN_ASSIGN_OR_RETURN(rep.latency, time_sessions(a, b, set.samples.front().feeds, o.latency_runs, [&](int done) {
                            ev.progress("timing", done, o.latency_runs);
                          }));
  }
  return rep;
}

}  // namespace kiln
