// kiln eval: a compressed model next to its original on real inputs, scored at the task
// level, per output, per layer and by latency (library: src/compress/eval.h).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "commands.h"
#include "compress/calibrate.h"
#include "compress/eval.h"
#include "graph/input_shapes.h"
#include "compress/npy.h"
#include "progress.h"

namespace kiln::cli {
namespace {

namespace fs = std::filesystem;

struct EvalCliOptions {
  std::string original, compressed, data, task = "auto", keys, words = kDefaultWordList, font, write_inputs;
  std::vector<std::string> input_shapes;
  int count = 32, latency_runs = 10, layer_runs = 4, worst_layers = 5;
  uint64_t seed = 1;
  size_t threads = 1;
  bool json = false;
};

// --data DIR: for a one-input model every *.npy file is one input; otherwise every
// subdirectory is one input set holding <input name>.npy per input. Sorted by name.
Result<std::vector<TensorMap>> load_data_dir(const std::string& dir, const std::vector<TensorDesc>& inputs) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return io_error("--data " + dir + " is not a directory");
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(dir, ec)) entries.push_back(e.path());
  if (ec) return io_error("cannot list " + dir + ": " + ec.message());
  std::sort(entries.begin(), entries.end());
  std::vector<TensorMap> sets;
  if (inputs.size() == 1) {
    for (const fs::path& p : entries) {
      if (p.extension() != ".npy") continue;
      KILN_ASSIGN_OR_RETURN(Tensor t, npy::read_file(p.string()));
      sets.push_back(TensorMap{{inputs[0].name, std::move(t)}});
    }
    if (sets.empty()) return invalid_argument("--data " + dir + " holds no .npy file");
    return sets;
  }
  for (const fs::path& sub : entries) {
    if (!fs::is_directory(sub, ec)) continue;
    TensorMap m;
    for (const TensorDesc& d : inputs) {
      const fs::path f = sub / (sanitize_filename(d.name) + ".npy");
      KILN_ASSIGN_OR_RETURN(Tensor t, npy::read_file(f.string()));
      m[d.name] = std::move(t);
    }
    sets.push_back(std::move(m));
  }
  if (sets.empty())
    return invalid_argument("--data " + dir + ": the model has " + std::to_string(inputs.size()) +
                            " inputs, so each input set is a subdirectory with one <input>.npy per input; none found");
  return sets;
}

// --write-inputs DIR: the eval set's inputs as compress/calibrate.h's calibration set
// (calibration_file_name(input, i) per input and sample), into a directory without one.
Status write_inputs(const std::string& dir, const std::vector<TensorMap>& sets) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io_error("--write-inputs: cannot create " + dir + ": " + ec.message());
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string ext = e.path().extension().string();
    if (ext == ".npy" || ext == ".png")
      return invalid_argument("--write-inputs: " + dir + " already holds " + e.path().filename().string() +
                              "; give an empty or new directory so the set is not mixed with another");
  }
  for (size_t i = 0; i < sets.size(); ++i)
    for (const auto& [name, t] : sets[i])
      KILN_RETURN_IF_ERROR(npy::write_file((fs::path(dir) / calibration_file_name(name, int(i))).string(), t));
  return Status::Ok();
}

int run_eval(const EvalCliOptions& o) {
  EvalOptions eo;
  auto task = parse_eval_task(o.task);
  if (!task.ok()) return fail(task.status().with_context("--task"));
  eo.task = *task;
  if (o.count < 1 || o.count > 100000) return fail("--count must be in [1, 100000]");
  if (o.latency_runs < 0 || o.latency_runs > 1000) return fail("--latency-runs must be in [0, 1000]");
  if (o.layer_runs < 0 || o.layer_runs > 1000) return fail("--layer-runs must be in [0, 1000]");
  if (o.threads > 64) return fail("--threads must be at most 64 (0 = all cores)");
  eo.data.count = o.count;
  eo.data.seed = o.seed;
  eo.data.words_path = o.words;
  eo.data.font_path = o.font;
  eo.latency_runs = o.latency_runs;
  eo.layer_runs = o.layer_runs;
  eo.num_threads = o.threads;
  for (const std::string& text : o.input_shapes) {
    auto spec = parse_input_shape(text);
    if (!spec.ok()) return fail(spec.status());
    if (!shape_is_fixed(spec->shape)) return fail("--input-shape " + text + ": every dim must be a number here");
    eo.data.input_dims[spec->input] = shape_dims(spec->shape);
  }
  if (!o.keys.empty()) {
    auto keys = load_ctc_keys(o.keys);
    if (!keys.ok()) return fail(keys.status());
    eo.keys = std::move(keys).value();
  }
  if (o.compressed.empty() && o.write_inputs.empty())
    return fail("give the compressed model to compare with (or only --write-inputs DIR to write the inputs)");
  auto a = read_model_file(o.original);
  if (!a.ok()) return fail(a.status());
  if (!o.write_inputs.empty()) {
    auto session = Session::create(*a);
    if (!session.ok()) return fail(session.status().with_context(o.original));
    std::vector<TensorMap> sets;
    if (!o.data.empty()) {
      auto loaded = load_data_dir(o.data, (*session)->inputs());
      if (!loaded.ok()) return fail(loaded.status());
      sets = std::move(loaded).value();
    } else {
      EvalDataOptions d = eo.data;
      d.task = eo.task == EvalTask::kAuto ? detect_eval_task((*session)->inputs(), (*session)->outputs()) : eo.task;
      auto set = make_eval_set((*session)->inputs(), d);
      if (!set.ok()) return fail(set.status().with_context(o.original));
      for (EvalSample& sample : set->samples) sets.push_back(std::move(sample.feeds));
    }
    Status st = write_inputs(o.write_inputs, sets);
    if (!st.ok()) return fail(st);
    std::cerr << "wrote " << sets.size() << " input sets to " << o.write_inputs << "\n";
    if (o.compressed.empty()) return 0;
  }
  auto b = read_model_file(o.compressed);
  if (!b.ok()) return fail(b.status());
  if (!o.data.empty()) {
    auto session = Session::create(*a);
    if (!session.ok()) return fail(session.status().with_context(o.original));
    auto sets = load_data_dir(o.data, (*session)->inputs());
    if (!sets.ok()) return fail(sets.status());
    eo.user_inputs = std::move(sets).value();
  }
  ProgressBar bar;
  eo.progress = [&bar](const std::string& stage, int done, int total) { bar.update(stage, done, total); };
  auto report = evaluate(*a, *b, eo);
  if (!report.ok()) return fail(report.status().with_context(o.original + " vs " + o.compressed));
  if (o.json) {
    nlohmann::json j = eval_report_json(*report, std::max(o.worst_layers, 0));
    j["original"] = o.original;
    j["compressed"] = o.compressed;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << o.original << " vs " << o.compressed << "\n" << eval_report_text(*report, std::max(o.worst_layers, 0));
  }
  return 0;
}

}  // namespace

Command add_eval(CLI::App& root) {
  auto o = std::make_shared<EvalCliOptions>();
  CLI::App* app = root.add_subcommand("eval", "Score a compressed model against its original on real inputs");
  app->add_option("original", o->original, "The original .kiln file")->required();
  app->add_option("compressed", o->compressed,
                  "The compressed .kiln file (same inputs and outputs; optional with --write-inputs)");
  app->add_option("--data", o->data,
                  "Directory of .npy inputs to use instead of rendered ones (one-input model: one file per "
                  "input; else one subdirectory per input set with <input>.npy files)");
  app->add_option("--count", o->count, "Rendered inputs (default 32)");
  app->add_option("--task", o->task, "auto|classifier|recognizer|detector|generic (default auto: from the interface)");
  app->add_option("--keys", o->keys, "Recognizer key file (PaddleOCR: one class a line) for string accuracy");
  app->add_option("--input-shape", o->input_shapes, "Dims of an input, e.g. x=1,3,48,320; repeatable");
  app->add_option("--words", o->words, "Word list the text is drawn from (default /usr/share/dict/words)");
  app->add_option("--font", o->font, "TrueType font (default DejaVu Sans)");
  app->add_option("--seed", o->seed, "Seed of the rendered set (default 1)");
  app->add_option("--latency-runs", o->latency_runs, "Timed runs per model (default 10; 0 skips timing)");
  app->add_option("--layer-runs", o->layer_runs, "Inputs run with intermediates exposed for per-layer SNR (default 4)");
  app->add_option("--worst-layers", o->worst_layers, "Layers listed, worst SNR first (default 5)");
  app->add_option("--threads", o->threads, "Threads per model (default 1; 0 = all cores)");
  app->add_flag("--json", o->json, "Print the report as JSON");
  app->add_option("--write-inputs", o->write_inputs,
                  "Write the inputs (rendered, or --data's) as <input>_<i>.npy files into this new directory: a "
                  "calibration set for kiln compress --int8-static");
  app->footer(
      "Rendered inputs: lines of dictionary words (wamerican) drawn with DejaVu Sans via FreeType;\n"
      "recognizer 48-px lines, classifier lines turned 0/180 degrees, detector pages of lines.\n"
      "Reports task agreement (classifier top-1, recognizer decoded strings and accuracy against\n"
      "the text with --keys, detector box IoU at threshold 0.3), per-output error, the worst\n"
      "layers by SNR, file sizes and the native latency of both (median).");
  return {app, [o] { return run_eval(*o); }};
}

}  // namespace kiln::cli
