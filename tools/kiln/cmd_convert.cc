// kiln convert: ONNX or TFLite -> .kiln (import, shape inference, graph optimizer, write).
#include <fstream>
#include <iostream>
#include <memory>

#include "cli_util.h"
#include "commands.h"
#include "format/model_io.h"
#include "graph/input_shapes.h"
#include "graph/passes/pipeline.h"
#include "graph/shape_inference.h"
#include "import/onnx_import.h"
#include "import/tflite_import.h"
#include "runtime/session.h"

namespace kiln::cli {
namespace {

struct ConvertOptions {
  std::string input;
  std::string output;
  bool no_optimize = false;
  bool no_check = false;
  double segment_mb = 4;
  std::vector<std::string> input_shapes;  // name=1,3,48,320
};

std::string default_output(const std::string& in) {
  std::string base = in;
  size_t slash = base.find_last_of('/');
  size_t dot = base.find_last_of('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) base.resize(dot);
  return base + ".kiln";
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// TFLite by content (the "TFL3" FlatBuffers identifier at offset 4) or by extension, else ONNX.
Result<Model> import_any(const std::string& path) {
  uint8_t head[8] = {};
  std::ifstream f(path, std::ios::binary);
  const bool got = f && f.read(reinterpret_cast<char*>(head), sizeof head);
  if ((got && is_tflite(head, sizeof head)) || ends_with(path, ".tflite")) return import_tflite(path);
  return import_onnx(path);  // also reports unreadable paths, as before
}

int run_convert(const ConvertOptions& o) {
  if (!(o.segment_mb > 0 && o.segment_mb <= 4096)) return fail("--segment-mb must be in (0, 4096]");
  auto model = import_any(o.input);
  if (!model.ok()) return fail(model.status());
  Model& m = *model;
  std::vector<InputShapeSpec> pins;
  for (const std::string& text : o.input_shapes) {
    auto spec = parse_input_shape(text);
    if (!spec.ok()) return fail(spec.status());
    pins.push_back(std::move(spec).value());
  }
  if (Status pinned = pin_input_shapes(m, pins); !pinned.ok()) return fail(pinned.with_context(o.input));
  const int nodes_before = count_nodes(m);
  std::vector<PassReport> reports;
  Status s = o.no_optimize ? infer_shapes(m) : optimize(m, {}, &reports);
  if (!s.ok()) return fail(s.with_context(o.input));
  WriteOptions wo;
  wo.segment_bytes = static_cast<size_t>(o.segment_mb * (1 << 20));
  auto written = write_model(m, wo);
  if (!written.ok()) return fail(written.status().with_context(o.input));
  auto bytes = std::make_shared<const std::vector<uint8_t>>(std::move(written).value());
  if (!o.no_check) {
    // Load what was written, as a user would: a file that converts but cannot be
    // loaded (bad attributes, writer bug) fails here rather than in the browser.
    auto session = Session::create(bytes);
    if (!session.ok()) return fail(session.status().with_context("the converted model does not load"));
  }
  const std::string out = o.output.empty() ? default_output(o.input) : o.output;
  s = write_file_bytes(out, *bytes);
  if (!s.ok()) return fail(s);
  std::cout << out << ": " << count_nodes(m) << " nodes";
  if (!o.no_optimize) std::cout << " (" << nodes_before << " before optimization)";
  std::cout << ", " << human_count(count_parameters(m)) << " parameters, " << human_bytes(bytes->size()) << "\n";
  int imported = 0;  // weight-only QDQ weights kept as int8 (import_qdq_weights pass)
  for (const PassReport& r : reports)
    if (r.pass == "import_qdq_weights") imported += r.rewrites;
  if (imported > 0) std::cout << imported << " quantized weights imported as kiln int8\n";
  int unfolded = 0, to_float = 0, u8 = 0;  // pre-quantized ONNX ops (unfold_quant_ops pass)
  for (const PassReport& r : reports)
    if (r.pass == "unfold_quant_ops")
      for (const auto& [label, n] : r.patterns) {
        if (label.rfind("uint8 activations", 0) == 0) u8 += n;
        bool op = false;  // the labels start with the ONNX op rewritten
        for (const char* o : {"MatMulInteger", "ConvInteger", "QLinear"})
          op = op || label.rfind(o, 0) == 0;
        if (!op) continue;
        unfolded += n;
        if (label.find("float weights") != std::string::npos) to_float += n;
      }
  if (unfolded > 0) {
    std::cout << unfolded << " quantized ONNX nodes imported (MatMulInteger/ConvInteger/QLinear*)";
    if (to_float > 0) std::cout << ", " << to_float << " with weights dequantized to float (not exact in int8)";
    if (u8 > 0) std::cout << ", " << u8 << " uint8 activations made int8";
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

Command add_convert(CLI::App& root) {
  auto o = std::make_shared<ConvertOptions>();
  CLI::App* app = root.add_subcommand("convert", "Convert an ONNX or TFLite model to a .kiln file");
  app->add_option("model", o->input, "Input .onnx or .tflite file")->required();
  app->add_option("-o,--output", o->output, "Output .kiln file (default: the input name with .kiln)");
  app->add_flag("--no-optimize,--no-fold", o->no_optimize,
                "Keep the graph as imported: no constant folding, fusion or other optimizer pass");
  app->add_flag("--no-check", o->no_check, "Skip loading the converted model to check it");
  app->add_option("--input-shape", o->input_shapes,
                  "Pin an input's shape, e.g. x=1,3,48,320 (repeatable; `?` keeps a dim open)");
  app->add_option("--segment-mb", o->segment_mb, "Target size of weight segments in MiB (default 4)");
  app->footer(
      "Runs shape inference, constant folding and inlining of If nodes whose condition is\n"
      "constant, checks that the result loads, then writes it with the weights in 64-byte\n"
      "aligned, SHA-256 verified segments. Fails listing every unsupported operator. TFLite\n"
      "files (recognized by their \"TFL3\" identifier or the .tflite extension) keep their\n"
      "NHWC inputs/outputs; fp16/int8 weights become float32. ONNX weight-only QDQ weights\n"
      "(int8 DequantizeLinear into MatMul / Gemm / Conv) stay int8 as kiln int8 ops, and so do\n"
      "onnxruntime's pre-quantized ops (DynamicQuantizeLinear + MatMulInteger / ConvInteger,\n"
      "QLinearConv / QLinearMatMul with constant weights), rewritten to that QDQ form.");
  return {app, [o] { return run_convert(*o); }};
}

}  // namespace kiln::cli
