#include "compress/eval_data.h"

#include <algorithm>
#include <fstream>
#include <random>

#include "compress/compare.h"
#include "compress/text_render.h"

namespace kiln {

const char* eval_task_name(EvalTask task) {
  switch (task) {
    case EvalTask::kAuto: return "auto";
    case EvalTask::kClassifier: return "classifier";
    case EvalTask::kRecognizer: return "recognizer";
    case EvalTask::kDetector: return "detector";
    case EvalTask::kGeneric: return "generic";
  }
  return "?";
}

Result<EvalTask> parse_eval_task(const std::string& name) {
  for (EvalTask t : {EvalTask::kAuto, EvalTask::kClassifier, EvalTask::kRecognizer, EvalTask::kDetector,
                     EvalTask::kGeneric})
    if (name == eval_task_name(t)) return t;
  return invalid_argument("unknown task '" + name + "' (one of: auto, classifier, recognizer, detector, generic)");
}

EvalTask detect_eval_task(const std::vector<TensorDesc>& inputs, const std::vector<TensorDesc>& outputs) {
  if (inputs.size() != 1 || outputs.empty()) return EvalTask::kGeneric;
  const Shape& in = inputs[0].shape;
  const Shape& out = outputs[0].shape;
  const bool image = inputs[0].dtype == DType::kF32 && in.size() == 4 && in[1].fixed() && in[1].size == 3;
  if (!image || outputs[0].dtype != DType::kF32) return EvalTask::kGeneric;
  if (out.size() == 2) return EvalTask::kClassifier;
  if (out.size() == 3 && out[2].fixed() && out[2].size > 2) return EvalTask::kRecognizer;
  if (out.size() == 4 && out[1].fixed() && out[1].size == 1) return EvalTask::kDetector;
  return EvalTask::kGeneric;
}

Result<std::vector<std::string>> load_word_list(const std::string& path) {
  std::ifstream f(path);
  if (!f) return io_error("cannot read the word list " + path + " (install Debian's wamerican, or pass --words FILE)");
  std::vector<std::string> words;
  std::string line;
  while (std::getline(f, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() < 2 || line.size() > 10) continue;
    if (std::all_of(line.begin(), line.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }))
      words.push_back(line);
  }
  if (words.size() < 100)
    return invalid_argument("the word list " + path + " has only " + std::to_string(words.size()) +
                            " words of 2-10 ASCII letters; at least 100 are needed");
  return words;
}

namespace {

constexpr float kImagenetMean[3] = {0.485f, 0.456f, 0.406f};
constexpr float kImagenetStd[3] = {0.229f, 0.224f, 0.225f};

Result<Dims> resolve_dims(const TensorDesc& d, EvalTask task, const std::map<std::string, Dims>& given) {
  if (auto it = given.find(d.name); it != given.end()) return it->second;
  Dims dims;
  for (const Dim& dim : d.shape) dims.push_back(dim.fixed() ? dim.size : 1);
  if (dims.size() == 4) {
    const int64_t h = task == EvalTask::kDetector ? 320 : 48;
    const int64_t w = task == EvalTask::kRecognizer ? 320 : task == EvalTask::kClassifier ? 192 : 320;
    if (!d.shape[2].fixed()) dims[2] = h;
    if (!d.shape[3].fixed()) dims[3] = w;
  }
  return dims;
}

}  // namespace

std::map<std::string, Dims> task_input_dims(const std::vector<TensorDesc>& inputs,
                                            const std::vector<TensorDesc>& outputs,
                                            const std::map<std::string, Dims>& given) {
  std::map<std::string, Dims> dims = given;
  const EvalTask task = detect_eval_task(inputs, outputs);
  if (task == EvalTask::kGeneric) return dims;
  for (const TensorDesc& d : inputs)
    if (!dims.count(d.name) && d.shape.size() == 4)
      if (auto r = resolve_dims(d, task, given); r.ok()) dims[d.name] = *r;
  return dims;
}

namespace {

// Black ink on white paper -> the model's input: (pixel/255 - mean) / std per channel.
Result<Tensor> to_tensor(const InkImage& img, const Dims& dims, EvalTask task) {
  KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::make(DType::kF32, dims));
  const int64_t channels = dims[1], plane = int64_t(img.width) * img.height;
  float* out = t.mutable_data<float>();
  for (int64_t c = 0; c < channels; ++c) {
    const float mean = task == EvalTask::kDetector ? kImagenetMean[c % 3] : 0.5f;
    const float std = task == EvalTask::kDetector ? kImagenetStd[c % 3] : 0.5f;
    for (int64_t i = 0; i < plane; ++i) out[c * plane + i] = (1.f - img.ink[size_t(i)] / 255.f - mean) / std;
  }
  return t;
}

struct Renderer {
  TextRenderer& font;
  const std::vector<std::string>& words;
  std::mt19937_64& rng;

  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
  const std::string& word() { return words[std::uniform_int_distribution<size_t>(0, words.size() - 1)(rng)]; }

  // Up to `max_words` random words whose line fits in `width` pixels at `px` (at least one;
  // a word too long on its own is replaced by another).
  Result<std::string> line(int max_words, int width, int px) {
    std::string text;
    const int want = uniform(1, max_words);
    for (int tries = 0, n = 0; n < want && tries < 40; ++tries) {
      const std::string candidate = text.empty() ? word() : text + " " + word();
      KILN_ASSIGN_OR_RETURN(TextRenderer::Metrics m, font.measure(candidate, px));
      if (m.width <= width) {
        text = candidate;
        ++n;
      } else if (!text.empty()) {
        break;
      }
    }
    if (text.empty()) return invalid_argument("no word fits in " + std::to_string(width) + " px at " +
                                              std::to_string(px) + " px text; make the input wider");
    return text;
  }
};

Status check_image_dims(const TensorDesc& d, const Dims& dims, EvalTask task) {
  if (d.dtype != DType::kF32 || dims.size() != 4 || dims[0] != 1 || dims[1] < 1 || dims[2] < 16 || dims[3] < 16 ||
      dims[2] > 4096 || dims[3] > 4096)
    return invalid_argument(std::string("the ") + eval_task_name(task) + " input '" + d.name +
                            "' must be float32 [1, C, H, W] with 16 <= H, W <= 4096; got " + dims_to_string(dims) +
                            " (set it with --input-shape, or use --task generic)");
  return Status::Ok();
}

}  // namespace

Result<EvalSet> make_eval_set(const std::vector<TensorDesc>& inputs, const EvalDataOptions& o) {
  if (o.count < 1) return invalid_argument("the eval set needs at least one input (count " + std::to_string(o.count) + ")");
  EvalSet set;
  if (o.task == EvalTask::kGeneric || o.task == EvalTask::kAuto) {
    for (int i = 0; i < o.count; ++i) {
      EvalSample s;
      KILN_ASSIGN_OR_RETURN(s.feeds, make_inputs(inputs, o.input_dims, o.seed + uint64_t(i)));
      set.samples.push_back(std::move(s));
    }
    set.description = std::to_string(o.count) + " random input sets (floats uniform in [0, 1), integers in [0, 8), seed " +
                      std::to_string(o.seed) + ")";
    return set;
  }
  if (inputs.size() != 1) return invalid_argument(std::string("a ") + eval_task_name(o.task) + " has one input");
  const TensorDesc& in = inputs[0];
  KILN_ASSIGN_OR_RETURN(Dims dims, resolve_dims(in, o.task, o.input_dims));
  KILN_RETURN_IF_ERROR(check_image_dims(in, dims, o.task));
  const int H = int(dims[2]), W = int(dims[3]);
  KILN_ASSIGN_OR_RETURN(std::vector<std::string> words, load_word_list(o.words_path));
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<TextRenderer> font,
                        TextRenderer::open(o.font_path.empty() ? kDefaultFontPath : o.font_path));
  std::mt19937_64 rng(o.seed);
  Renderer r{*font, words, rng};
  const int margin = std::max(2, H / 12);

  for (int i = 0; i < o.count; ++i) {
    EvalSample s;
    InkImage page(W, H);
    if (o.task == EvalTask::kRecognizer || o.task == EvalTask::kClassifier) {
      const int px = r.uniform(H * 55 / 100, H * 68 / 100);
      KILN_ASSIGN_OR_RETURN(s.text, r.line(o.task == EvalTask::kRecognizer ? 4 : 2, W - 2 * margin, px));
      KILN_ASSIGN_OR_RETURN(TextRenderer::Metrics m, font->measure(s.text, px));
      // The line is drawn on its own strip, turned if it is a rotated classifier sample, and
      // placed at the left: a turned crop is resized and padded on the right like any other.
      InkImage strip(std::min(W, m.width + 2 * margin), H);
      const int baseline = (H - m.ascender - m.descender) / 2 + m.ascender;
      KILN_RETURN_IF_ERROR(font->draw(strip, s.text, px, margin, baseline).status());
      if (o.task == EvalTask::kClassifier) {
        s.label = i % 2;
        if (s.label == 1) strip.rotate_180();
      }
      for (int y = 0; y < H; ++y)
        std::copy_n(strip.ink.begin() + ptrdiff_t(y) * strip.width, strip.width,
                    page.ink.begin() + ptrdiff_t(y) * W);
    } else {  // detector: a page of lines at random sizes and indents
      const int scale = std::max(1, std::min(H, W) / 320);
      int y = margin + r.uniform(0, 12 * scale);
      for (int lines = 0; lines < 8; ++lines) {
        const int px = r.uniform(14, 28) * scale;
        const int x = margin + r.uniform(0, W / 4);
        if (W - x - margin < px * 4) break;
        KILN_ASSIGN_OR_RETURN(std::string text, r.line(4, W - x - margin, px));
        KILN_ASSIGN_OR_RETURN(TextRenderer::Metrics m, font->measure(text, px));
        if (y + m.ascender + m.descender > H - margin) break;
        KILN_ASSIGN_OR_RETURN(std::vector<int> b, font->draw(page, text, px, x, y + m.ascender));
        if (b[2] > b[0]) s.lines.push_back(Box{float(b[0]), float(b[1]), float(b[2]), float(b[3])});
        s.text += (s.text.empty() ? "" : "\n") + text;
        y += m.ascender + m.descender + r.uniform(4, 24) * scale;
      }
    }
    KILN_ASSIGN_OR_RETURN(Tensor t, to_tensor(page, dims, o.task));
    s.feeds[in.name] = std::move(t);
    set.samples.push_back(std::move(s));
  }
  const std::string what = o.task == EvalTask::kRecognizer   ? "text lines of 1-4 words"
                           : o.task == EvalTask::kClassifier ? "text lines of 1-2 words, every other one turned 180 degrees"
                                                             : "pages of 1-8 lines";
  set.description = std::to_string(o.count) + " " + what + " (" + dims_to_string(dims) + ", words from " +
                    o.words_path + ", " + (o.font_path.empty() ? kDefaultFontPath : o.font_path) +
                    " via FreeType, seed " + std::to_string(o.seed) + ")";
  return set;
}

}  // namespace kiln
