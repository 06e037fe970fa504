// The eval set of `kiln eval`: real inputs rendered locally and reproducibly for each OCR
// task (lines of dictionary words drawn with DejaVu Sans through FreeType), with their
// ground truth, and the task a model performs guessed from its interface.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compress/eval_metrics.h"
#include "core/status.h"
#include "runtime/session.h"

namespace kiln {

enum class EvalTask { kAuto, kClassifier, kRecognizer, kDetector, kGeneric };
const char* eval_task_name(EvalTask task);
Result<EvalTask> parse_eval_task(const std::string& name);  // auto|classifier|recognizer|detector|generic

// From the interface: one image-like input [N,3,H,W] and an output [N,K] (classifier),
// [N,T,C] (recognizer, CTC scores) or [N,1,H,W] (detector, probability map); else generic.
EvalTask detect_eval_task(const std::vector<TensorDesc>& inputs, const std::vector<TensorDesc>& outputs);

// The dims kiln eval renders at: `given` first, then for an OCR task's image input the
// task's default height / width in place of open dims (recognizer 48x320, classifier 48x192,
// detector 320x320). Inputs of other tasks are left to the caller (not in the result).
std::map<std::string, Dims> task_input_dims(const std::vector<TensorDesc>& inputs,
                                            const std::vector<TensorDesc>& outputs,
                                            const std::map<std::string, Dims>& given);

// Debian's wamerican.
inline constexpr const char* kDefaultWordList = "/usr/share/dict/words";

struct EvalSample {
  TensorMap feeds;
  std::string text;        // recognizer: the rendered line
  int label = -1;          // classifier: 0 upright, 1 turned 180 degrees
  std::vector<Box> lines;  // detector: the ink box of each rendered line, in input pixels
};

struct EvalDataOptions {
  EvalTask task = EvalTask::kGeneric;  // resolved (not kAuto)
  int count = 32;
  uint64_t seed = 1;
  std::string words_path = kDefaultWordList;
  std::string font_path;  // empty: the default DejaVu Sans
  // Dims per input; open dims otherwise default per task (recognizer 1x3x48x320,
  // classifier 1x3x48x192, detector 1x3x320x320, anything else 1).
  std::map<std::string, Dims> input_dims;
};

struct EvalSet {
  std::vector<EvalSample> samples;
  std::string description;  // what the inputs are, for the report
};

// Rendered text for the OCR tasks; for kGeneric the deterministic random inputs of
// compress/compare.h. Errors name the missing font or the input that cannot be made.
Result<EvalSet> make_eval_set(const std::vector<TensorDesc>& inputs, const EvalDataOptions& options);

// Words of only ASCII letters, 2 to 10 long, in file order.
Result<std::vector<std::string>> load_word_list(const std::string& path);

}  // namespace kiln
