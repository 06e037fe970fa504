// kiln ocr: read all text in an image with a PP-OCR detector and recognizer, natively, with
// the same src/vision pre/post-processing that the npm package runs in WebAssembly.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "commands.h"
#include "compress/png_image.h"
#include "runtime/session.h"
#include "vision/ctc_decode.h"
#include "vision/db_postprocess.h"
#include "vision/ocr_preprocess.h"

namespace kiln::cli {
namespace {

struct OcrOptions {
  std::string detector, recognizer, keys, image;
  double threshold = 0.3, box_threshold = 0.6, unclip_ratio = 1.6, min_size = 3, min_confidence = 0.5;
  int64_t limit_side_len = 960;
  std::string channel_order = "bgr";
  bool json = false;
  int threads = 0;
};

struct Model {
  std::unique_ptr<Session> session;
  std::string input, output;
};

Result<Model> load(const std::string& path, int threads) {
  KILN_ASSIGN_OR_RETURN(auto bytes, read_model_file(path));
  SessionOptions so;
  so.num_threads = static_cast<size_t>(threads);
  auto s = Session::create(bytes, so);
  if (!s.ok()) return s.status().with_context(path);
  Model m{std::move(s).value(), "", ""};
  if (m.session->inputs().empty() || m.session->outputs().empty())
    return invalid_argument(path + ": an OCR model needs an input and an output");
  m.input = m.session->inputs()[0].name;
  m.output = m.session->outputs()[0].name;
  return m;
}

// Runs the model's first input -> first output on an NCHW float tensor.
Result<Tensor> run(Model& m, const vision::OcrTensor& x, const std::string& what) {
  TensorMap feeds;
  feeds[m.input] = Tensor::from_f32(x.data, Dims(x.dims.begin(), x.dims.end()));
  auto out = m.session->run(feeds);
  if (!out.ok()) return out.status().with_context(what);
  auto it = out->find(m.output);
  if (it == out->end()) return internal_error(what + " returned no output '" + m.output + "'");
  if (it->second.dtype() != DType::kF32) return invalid_argument(what + " output '" + m.output + "' is not float32");
  return it->second;
}

int run_ocr(const OcrOptions& o) {
  if (o.channel_order != "bgr" && o.channel_order != "rgb")
    return fail("--channel-order must be bgr or rgb, got '" + o.channel_order + "'");
  std::ifstream kf(o.keys, std::ios::binary);
  if (!kf) return fail("cannot read the key file '" + o.keys + "'");
  std::stringstream ks;
  ks << kf.rdbuf();
  const std::vector<std::string> keys = vision::parse_keys(ks.str());
  auto image = read_png(o.image);
  if (!image.ok()) return fail(image.status());
  auto det = load(o.detector, o.threads);
  if (!det.ok()) return fail(det.status());
  auto rec = load(o.recognizer, o.threads);
  if (!rec.ok()) return fail(rec.status());

  const vision::ImageView view{image->pixels.data(), image->pixels.size(), image->width, image->height,
                               image->channels};
  const bool bgr = o.channel_order == "bgr";
  vision::DetectorOptions dopt;
  dopt.limit_side_len = o.limit_side_len, dopt.bgr = bgr;
  auto det_in = vision::preprocess_detector(view, dopt);
  if (!det_in.ok()) return fail(det_in.status());
  auto prob = run(*det, *det_in, "detector " + o.detector);
  if (!prob.ok()) return fail(prob.status());
  vision::DbOptions bopt;
  bopt.threshold = o.threshold, bopt.box_threshold = o.box_threshold, bopt.unclip_ratio = o.unclip_ratio;
  bopt.min_size = o.min_size;
  bopt.image_width = static_cast<double>(image->width), bopt.image_height = static_cast<double>(image->height);
  const std::vector<int64_t> map_dims(prob->dims().begin(), prob->dims().end());
  auto boxes = vision::detect_text_boxes(prob->data<float>(), static_cast<size_t>(prob->size()), map_dims, bopt);
  if (!boxes.ok()) return fail(boxes.status());

  vision::RecognizerOptions ropt;
  ropt.bgr = bgr;
  auto lines = nlohmann::ordered_json::array();
  for (const vision::TextBox& b : *boxes) {
    const vision::Box box{static_cast<double>(b.x), static_cast<double>(b.y), static_cast<double>(b.width),
                          static_cast<double>(b.height)};
    auto rec_in = vision::crop_and_resize(view, box, ropt);
    if (!rec_in.ok()) return fail(rec_in.status());
    auto probs = run(*rec, *rec_in, "recognizer " + o.recognizer);
    if (!probs.ok()) return fail(probs.status());
    const std::vector<int64_t> pd(probs->dims().begin(), probs->dims().end());
    auto d = vision::ctc_greedy_decode(probs->data<float>(), static_cast<size_t>(probs->size()), pd, keys.size());
    if (!d.ok()) return fail(d.status().with_context("recognizer output (is --keys the model's key file?)"));
    if (d->score < o.min_confidence) continue;
    auto text = vision::ctc_text(*d, keys);
    if (!text.ok()) return fail(text.status());
    if (o.json) {
      lines.push_back({{"box", {{"x", b.x}, {"y", b.y}, {"width", b.width}, {"height", b.height}}},
                       {"score", b.score},
                       {"text", *text},
                       {"confidence", d->score}});
    } else {
      std::printf("[%lld, %lld, %lld, %lld]  box %.3f  confidence %.3f  %s\n", static_cast<long long>(b.x),
                  static_cast<long long>(b.y), static_cast<long long>(b.width), static_cast<long long>(b.height),
                  b.score, d->score, text->c_str());
    }
  }
  if (o.json) std::cout << lines.dump(2) << "\n";
  return 0;
}

}  // namespace

Command add_ocr(CLI::App& root) {
  auto o = std::make_shared<OcrOptions>();
  CLI::App* app = root.add_subcommand("ocr", "Read the text in an image with a PP-OCR detector and recognizer");
  app->add_option("detector", o->detector, "The text detector .kiln (DBNet, e.g. PP-OCRv4 det)")->required();
  app->add_option("recognizer", o->recognizer, "The text recognizer .kiln (CTC, e.g. PP-OCRv4 rec)")->required();
  app->add_option("image", o->image, "The image: a PNG file (any PNG kind; alpha over white)")->required();
  app->add_option("--keys", o->keys, "The recognizer's key file (one character a line, PaddleOCR format)")
      ->required();
  app->add_option("--threshold", o->threshold, "Detector pixel threshold (default 0.3)");
  app->add_option("--box-threshold", o->box_threshold, "Minimum mean box probability (default 0.6)");
  app->add_option("--unclip-ratio", o->unclip_ratio, "Box growth (default 1.6, as recognizeText in JS)");
  app->add_option("--min-size", o->min_size, "Minimum box side in map pixels (default 3)");
  app->add_option("--min-confidence", o->min_confidence, "Lines read with less are left out (default 0.5)");
  app->add_option("--limit-side-len", o->limit_side_len, "Longest detector input side (default 960)");
  app->add_option("--channel-order", o->channel_order, "bgr (default, as PaddleOCR's models) or rgb");
  app->add_option("--threads", o->threads, "Threads per model run (default 0: automatic)")->check(CLI::Range(0, 256));
  app->add_flag("--json", o->json, "Print the lines as JSON ([{box, score, text, confidence}])");
  app->footer(
      "Prints one line per text line, top to bottom: [x, y, width, height] in image pixels, the detector's\n"
      "box score, the recognizer's mean confidence and the text. The pre/post-processing is src/vision,\n"
      "the same C++ that recognizeText in the npm package ('kiln/ocr') runs as WebAssembly.");
  return {app, [o] { return run_ocr(*o); }};
}

}  // namespace kiln::cli
