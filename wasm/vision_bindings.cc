// Embind bindings of src/vision: the pre/post-processing that web/image.js, web/ocr.js and
// web/ocr-pipeline.js call. Built as its own small module (kiln-vision.js, the .wasm
// embedded and compiled synchronously) so those functions stay synchronous and work before,
// and without, any Session; see wasm/CMakeLists.txt.
//
// JS passes typed arrays and plain option objects whose fields it has already filled in and
// type-checked; each array is copied once into the WASM heap, each result once out into a
// fresh JS typed array. Every call returns {ok: true, ...} or {ok: false, code, message}.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/status.h"
#include "vision/classify.h"
#include "vision/ctc_decode.h"
#include "vision/db_postprocess.h"
#include "vision/image_tensor.h"
#include "vision/ocr_preprocess.h"

using emscripten::typed_memory_view;
using emscripten::val;

namespace kiln::vision {
namespace {

val error_val(const Status& s) {
  val o = val::object();
  o.set("ok", false);
  o.set("code", std::string(s.code() == Code::kInvalidArgument ? "invalid_argument" : "internal"));
  o.set("message", s.to_string());
  return o;
}

val ok_val() {
  val o = val::object();
  o.set("ok", true);
  return o;
}

// A new JS typed array holding a copy of data (never a view: WASM memory may grow).
template <class T>
val copy_out(const char* type, const T* data, size_t n) {
  return val::global(type).new_(typed_memory_view(n, data));
}

val dims_val(const std::vector<int64_t>& dims) {
  val a = val::array();
  for (int64_t d : dims) a.call<void>("push", static_cast<double>(d));
  return a;
}

// A JS number as an integer; NaN, fractions and magnitudes past 2^53 become -1, which every
// size and count check rejects with a message naming the argument.
int64_t int_of(double v) {
  return std::isfinite(v) && v == std::floor(v) && std::fabs(v) <= 9007199254740991.0 ? static_cast<int64_t>(v) : -1;
}

std::vector<int64_t> dims_of(const val& dims) {
  std::vector<int64_t> out;
  for (double d : emscripten::convertJSArrayToNumberVector<double>(dims)) out.push_back(int_of(d));
  return out;
}

struct Pixels {
  std::vector<uint8_t> bytes;
  ImageView view;
};

Pixels pixels(const val& data, double width, double height, double channels) {
  Pixels p;
  p.bytes = emscripten::convertJSArrayToNumberVector<uint8_t>(data);
  p.view = ImageView{p.bytes.data(), p.bytes.size(), int_of(width), int_of(height),
                     int_of(channels)};
  return p;
}

std::array<double, 3> triple(const val& v) {
  std::array<double, 3> out{};
  for (int i = 0; i < 3; ++i) out[i] = v[i].as<double>();
  return out;
}

val ocr_tensor_val(const OcrTensor& t) {
  val o = ok_val();
  o.set("data", copy_out("Float32Array", t.data.data(), t.data.size()));
  o.set("dims", dims_val(t.dims));
  o.set("resizedWidth", static_cast<double>(t.resized_width));
  o.set("scaleX", t.scale_x);
  o.set("scaleY", t.scale_y);
  return o;
}

RecognizerOptions recognizer_options(const val& o) {
  RecognizerOptions r;
  r.height = int_of(o["height"].as<double>());
  r.min_width = int_of(o["minWidth"].as<double>());
  r.max_width = int_of(o["maxWidth"].as<double>());
  r.width_multiple = int_of(o["widthMultiple"].as<double>());
  r.bgr = o["bgr"].as<bool>();
  r.background = o["background"].as<double>();
  return r;
}

// opts: {width, height, nhwc, channels, bgr, uint8, scale, mean[3], std[3]}.
val image_to_tensor_js(val data, double width, double height, double channels, val opts) {
  Pixels p = pixels(data, width, height, channels);
  ImageTensorOptions o;
  o.width = int_of(opts["width"].as<double>());
  o.height = int_of(opts["height"].as<double>());
  o.layout = opts["nhwc"].as<bool>() ? Layout::kNHWC : Layout::kNCHW;
  o.channels = opts["channels"].as<int>();
  o.bgr = opts["bgr"].as<bool>();
  o.uint8 = opts["uint8"].as<bool>();
  o.scale = opts["scale"].as<double>();
  o.mean = triple(opts["mean"]);
  o.std = triple(opts["std"]);
  auto t = image_to_tensor(p.view, o);
  if (!t.ok()) return error_val(t.status());
  val r = ok_val();
  r.set("data", o.uint8 ? copy_out("Uint8Array", t->u8.data(), t->u8.size())
                        : copy_out("Float32Array", t->f32.data(), t->f32.size()));
  r.set("dims", dims_val(t->dims));
  return r;
}

// opts: {limitSideLen, mean[3], std[3], bgr, background}.
val preprocess_detector_js(val data, double width, double height, double channels, val opts) {
  Pixels p = pixels(data, width, height, channels);
  DetectorOptions o;
  o.limit_side_len = int_of(opts["limitSideLen"].as<double>());
  o.mean = triple(opts["mean"]);
  o.std = triple(opts["std"]);
  o.bgr = opts["bgr"].as<bool>();
  o.background = opts["background"].as<double>();
  auto t = preprocess_detector(p.view, o);
  return t.ok() ? ocr_tensor_val(*t) : error_val(t.status());
}

val preprocess_recognizer_js(val data, double width, double height, double channels, val opts) {
  Pixels p = pixels(data, width, height, channels);
  auto t = preprocess_recognizer(p.view, recognizer_options(opts));
  return t.ok() ? ocr_tensor_val(*t) : error_val(t.status());
}

// box: {x, y, width, height}.
val crop_and_resize_js(val data, double width, double height, double channels, val box, val opts) {
  Pixels p = pixels(data, width, height, channels);
  const Box b{box["x"].as<double>(), box["y"].as<double>(), box["width"].as<double>(), box["height"].as<double>()};
  auto t = crop_and_resize(p.view, b, recognizer_options(opts));
  return t.ok() ? ocr_tensor_val(*t) : error_val(t.status());
}

// opts: {threshold, boxThreshold, unclipRatio, minSize, maxCandidates, imageWidth, imageHeight};
// returns boxes packed as a Float64Array of [x, y, width, height, score] per box.
val detect_text_boxes_js(val prob, val dims, val opts) {
  const std::vector<float> map = emscripten::convertJSArrayToNumberVector<float>(prob);
  DbOptions o;
  o.threshold = opts["threshold"].as<double>();
  o.box_threshold = opts["boxThreshold"].as<double>();
  o.unclip_ratio = opts["unclipRatio"].as<double>();
  o.min_size = opts["minSize"].as<double>();
  o.max_candidates = int_of(opts["maxCandidates"].as<double>());
  o.image_width = opts["imageWidth"].as<double>();
  o.image_height = opts["imageHeight"].as<double>();
  auto boxes = detect_text_boxes(map.data(), map.size(), dims_of(dims), o);
  if (!boxes.ok()) return error_val(boxes.status());
  std::vector<double> packed;
  packed.reserve(boxes->size() * 5);
  for (const TextBox& b : *boxes)
    packed.insert(packed.end(), {static_cast<double>(b.x), static_cast<double>(b.y), static_cast<double>(b.width),
                                 static_cast<double>(b.height), b.score});
  val r = ok_val();
  r.set("boxes", copy_out("Float64Array", packed.data(), packed.size()));
  return r;
}

val ctc_greedy_decode_js(val probs, val dims, double num_keys) {
  const std::vector<float> p = emscripten::convertJSArrayToNumberVector<float>(probs);
  auto d = ctc_greedy_decode(p.data(), p.size(), dims_of(dims), static_cast<size_t>(std::max<int64_t>(int_of(num_keys), 0)));
  if (!d.ok()) return error_val(d.status());
  val r = ok_val();
  r.set("indices", copy_out("Int32Array", d->indices.data(), d->indices.size()));
  r.set("charScores", copy_out("Float32Array", d->char_scores.data(), d->char_scores.size()));
  r.set("score", d->score);
  return r;
}

// data: a Float64Array (any numeric input converted by JS, so int and float64 rows are exact).
val softmax_js(val data, double row) {
  const std::vector<double> x = emscripten::convertJSArrayToNumberVector<double>(data);
  std::vector<float> y(x.size());
  Status s = softmax_rows(x.data(), x.size(), static_cast<size_t>(std::max<int64_t>(int_of(row), 0)), y.data());
  if (!s.ok()) return error_val(s);
  val r = ok_val();
  r.set("data", copy_out("Float32Array", y.data(), y.size()));
  return r;
}

val top_k_js(val data, double k) {
  const std::vector<double> x = emscripten::convertJSArrayToNumberVector<double>(data);
  auto top = top_k(x.data(), x.size(), int_of(k));
  if (!top.ok()) return error_val(top.status());
  std::vector<double> index, value;
  for (const TopEntry& e : *top) index.push_back(static_cast<double>(e.index)), value.push_back(e.value);
  val r = ok_val();
  r.set("indices", copy_out("Float64Array", index.data(), index.size()));
  r.set("values", copy_out("Float64Array", value.data(), value.size()));
  return r;
}

}  // namespace
}  // namespace kiln::vision

EMSCRIPTEN_BINDINGS(kiln_vision) {
  emscripten::function("imageToTensor", &kiln::vision::image_to_tensor_js);
  emscripten::function("preprocessDetector", &kiln::vision::preprocess_detector_js);
  emscripten::function("preprocessRecognizer", &kiln::vision::preprocess_recognizer_js);
  emscripten::function("cropAndResize", &kiln::vision::crop_and_resize_js);
  emscripten::function("detectTextBoxes", &kiln::vision::detect_text_boxes_js);
  emscripten::function("ctcGreedyDecode", &kiln::vision::ctc_greedy_decode_js);
  emscripten::function("softmax", &kiln::vision::softmax_js);
  emscripten::function("topK", &kiln::vision::top_k_js);
}
