// The printed and JSON forms of an EvalReport (compress/eval.h).
#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compress/eval.h"

namespace kiln {
namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

double pct(int64_t part, int64_t whole) { return whole ? 100.0 * double(part) / double(whole) : 0.0; }

std::string snr_text(double snr) {
  return std::isinf(snr) ? (snr > 0 ? std::string("exact") : std::string("-inf dB")) : fmt("%.1f dB", snr);
}

// JSON has no infinity: an exact match is null ("snr_db": null means no error at all).
nlohmann::json snr_json(double snr) { return std::isinf(snr) ? nlohmann::json(nullptr) : nlohmann::json(snr); }

nlohmann::json box_json(const BoxMatch& m) {
  return {{"ref_boxes", m.ref_boxes}, {"test_boxes", m.test_boxes}, {"matched_iou50", m.matched},
          {"matched_pct", pct(m.matched, m.ref_boxes)}, {"mean_iou", m.mean_iou()}};
}

}  // namespace

nlohmann::json eval_report_json(const EvalReport& r, int worst_layers) {
  nlohmann::json j;
  j["task"] = eval_task_name(r.task);
  j["inputs"] = r.inputs;
  j["samples"] = r.samples;
  j["file_bytes"] = {{"original", r.ref_bytes}, {"compressed", r.test_bytes}};
  if (r.task == EvalTask::kClassifier) {
    j["top1_agreement_pct"] = pct(r.top1_agree, r.samples);
    if (r.labelled) {
      j["accuracy_pct"] = {{"original", pct(r.ref_correct, r.labelled)}, {"compressed", pct(r.test_correct, r.labelled)}};
    }
  }
  if (r.task == EvalTask::kRecognizer) {
    j["string_agreement_pct"] = pct(r.strings_agree, r.samples);
    if (r.with_truth) {
      j["exact_line_accuracy_pct"] = {{"original", pct(r.ref_exact, r.with_truth)},
                                      {"compressed", pct(r.test_exact, r.with_truth)}};
      j["char_accuracy_pct"] = {{"original", 100 * r.ref_char_accuracy}, {"compressed", 100 * r.test_char_accuracy}};
      j["examples"] = r.examples;
    }
  }
  if (r.task == EvalTask::kDetector) {
    j["boxes"] = box_json(r.boxes);
    if (r.ref_vs_truth.ref_boxes)
      j["lines_found"] = {{"original", box_json(r.ref_vs_truth)}, {"compressed", box_json(r.test_vs_truth)}};
  }
  for (const NamedError& e : r.outputs)
    j["outputs"].push_back({{"name", e.name}, {"max_abs", e.stats.max_abs}, {"mean_abs", e.stats.mean_abs()},
                            {"snr_db", snr_json(e.stats.snr_db())}});
  j["layers_compared"] = r.layers.size();
  j["layer_samples"] = r.layer_samples;
  for (size_t i = 0; i < r.layers.size() && int(i) < worst_layers; ++i) {
    const NamedError& e = r.layers[i];
    j["worst_layers"].push_back({{"name", e.name}, {"op_type", e.op_type}, {"snr_db", snr_json(e.stats.snr_db())},
                                 {"max_abs", e.stats.max_abs}});
  }
  if (r.latency.runs > 0)
    j["latency_ms"] = {{"original", r.latency.ref_ms}, {"compressed", r.latency.test_ms}, {"runs", r.latency.runs},
                       {"threads", r.latency.threads}, {"clock", r.latency.cpu_time ? "thread_cpu" : "wall"}};
  return j;
}

std::string eval_task_text(const EvalReport& r) {
  std::ostringstream s;
  s << "task: " << eval_task_name(r.task) << "; inputs: " << r.inputs << "\n";
  if (r.task == EvalTask::kClassifier) {
    s << "top-1 agreement: " << fmt("%.1f%%", pct(r.top1_agree, r.samples)) << " (" << r.top1_agree << "/"
      << r.samples << ")\n";
    if (r.labelled)
      s << "accuracy (0/180 degrees): original " << fmt("%.1f%%", pct(r.ref_correct, r.labelled)) << ", compressed "
        << fmt("%.1f%%", pct(r.test_correct, r.labelled)) << "\n";
  }
  if (r.task == EvalTask::kRecognizer) {
    s << "string agreement: " << fmt("%.1f%%", pct(r.strings_agree, r.samples)) << " (" << r.strings_agree << "/"
      << r.samples << " lines decoded the same)\n";
    if (r.with_truth) {
      s << "line accuracy (exact): original " << fmt("%.1f%%", pct(r.ref_exact, r.with_truth)) << ", compressed "
        << fmt("%.1f%%", pct(r.test_exact, r.with_truth)) << "\n";
      s << "character accuracy: original " << fmt("%.2f%%", 100 * r.ref_char_accuracy) << ", compressed "
        << fmt("%.2f%%", 100 * r.test_char_accuracy) << "\n";
      for (const std::string& e : r.examples) s << "  truth | original | compressed: " << e << "\n";
    } else {
      s << "(no --keys: accuracy against the rendered text not computed)\n";
    }
  }
  if (r.task == EvalTask::kDetector) {
    s << "boxes (threshold 0.3): original " << r.boxes.ref_boxes << ", compressed " << r.boxes.test_boxes
      << "; matched at IoU >= 0.5: " << fmt("%.1f%%", pct(r.boxes.matched, r.boxes.ref_boxes)) << ", mean IoU "
      << fmt("%.3f", r.boxes.mean_iou()) << "\n";
    if (r.ref_vs_truth.ref_boxes)
      s << "rendered lines found (IoU >= 0.5): original "
        << fmt("%.1f%%", pct(r.ref_vs_truth.matched, r.ref_vs_truth.ref_boxes)) << ", compressed "
        << fmt("%.1f%%", pct(r.test_vs_truth.matched, r.test_vs_truth.ref_boxes)) << " of " << r.ref_vs_truth.ref_boxes
        << "\n";
  }
  return s.str();
}

std::string eval_report_text(const EvalReport& r, int worst_layers) {
  std::ostringstream s;
  s << eval_task_text(r);
  for (const NamedError& e : r.outputs)
    s << "output '" << e.name << "': max |err| " << fmt("%.3g", e.stats.max_abs) << ", mean |err| "
      << fmt("%.3g", e.stats.mean_abs()) << ", SNR " << snr_text(e.stats.snr_db()) << "\n";
  if (!r.layers.empty()) {
    s << "per-layer SNR (" << r.layers.size() << " layers, " << r.layer_samples << " inputs), worst:";
    for (size_t i = 0; i < r.layers.size() && int(i) < worst_layers; ++i)
      s << (i ? ", " : " ") << r.layers[i].name << " (" << r.layers[i].op_type << ") "
        << snr_text(r.layers[i].stats.snr_db());
    s << "\n";
  }
  s << "size: " << fmt("%.2f MB", double(r.ref_bytes) / 1e6) << " -> " << fmt("%.2f MB", double(r.test_bytes) / 1e6) << " ("
    << fmt("%.2fx smaller", r.test_bytes ? double(r.ref_bytes) / double(r.test_bytes) : 0.0) << ")\n";
  if (r.latency.runs > 0)
    s << "latency (native, " << latency_method(r.latency) << "): " << fmt("%.2f ms", r.latency.ref_ms) << " -> "
      << fmt("%.2f ms", r.latency.test_ms) << "\n";
  return s.str();
}

}  // namespace kiln
