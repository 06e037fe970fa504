// The kiln CLI end to end: convert -> inspect (text and JSON) -> run (print and .npy
// files), plus the one-line "kiln: error: ..." contract for failures.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "format/model_io.h"
#include "compress/npy.h"
#include "onnx_test_util.h"

#ifndef KILN_CLI_PATH
#error "tests/native/CMakeLists.txt must define KILN_CLI_PATH"
#endif

namespace kiln {
namespace {

using namespace kiln::testing;

struct CliResult {
  int code = -1;
  std::string out, err;
};

std::string quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

CliResult kiln_cli(const std::vector<std::string>& args) {
  std::string out = temp_path("cli_stdout.txt"), err = temp_path("cli_stderr.txt");
  std::string cmd = quote(KILN_CLI_PATH);
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote(out) + " 2>" + quote(err);
  int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1000;
  r.out = read_text(out);
  r.err = read_text(err);
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

// A one-line error: starts with "kiln: error: " and is the only line on stderr.
void expect_error_line(const CliResult& r, const std::string& needle) {
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err.rfind("kiln: error: ", 0), 0u) << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

// y = Relu(x + (c1 + c2)) with x [batch, 3]; c1 + c2 folds at conversion.
std::string write_tiny_onnx(const std::string& leaf) {
  onnx::ModelProto mp = onnx_model(13);
  auto* g = mp.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {"batch", 3});
  add_output(g, "y:0", onnx::TensorProto::FLOAT, {"batch", 3});
  fill_f32(g->add_initializer(), "c1", {3}, {1, -2, 3});
  fill_f32(g->add_initializer(), "c2", {3}, {0.5f, 0.5f, 0.5f});
  add_node(g, "Add", {"c1", "c2"}, {"b"}, "bias");
  add_node(g, "Add", {"x", "b"}, {"s"}, "add");
  add_node(g, "Relu", {"s"}, {"y:0"}, "relu");
  std::string path = temp_path(leaf);
  EXPECT_TRUE(write_bytes(path, serialize(mp)));
  return path;
}

TEST(KilnCli, ConvertInspectRun) {
  std::string onnx_path = write_tiny_onnx("cli_tiny.onnx");
  std::string kiln_path = temp_path("cli_tiny.kiln");
  CliResult r = kiln_cli({"convert", onnx_path, "-o", kiln_path});
  ASSERT_EQ(r.code, 0) << r.err;
  // c1 + c2 folds and the Relu fuses into the Add (kiln.activation).
  EXPECT_NE(r.out.find(kiln_path + ": 1 nodes (3 before optimization), 3 parameters"), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;

  r = kiln_cli({"inspect", "--json", kiln_path});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["format_version"], kFormatVersion);
  EXPECT_EQ(j["producer"], "kiln-test 1.0");
  std::string onnx_bytes = read_text(onnx_path);
  EXPECT_EQ(j["source_sha256"], sha256_hex(reinterpret_cast<const uint8_t*>(onnx_bytes.data()), onnx_bytes.size()));
  EXPECT_EQ(j["opset"], 13);
  ASSERT_EQ(j["inputs"].size(), 1u);
  EXPECT_EQ(j["inputs"][0]["name"], "x");
  EXPECT_EQ(j["inputs"][0]["dtype"], "float32");
  EXPECT_EQ(j["inputs"][0]["shape"], nlohmann::json::parse(R"(["batch", 3])"));
  EXPECT_EQ(j["outputs"][0]["name"], "y:0");
  EXPECT_EQ(j["ops"], nlohmann::json::parse(R"({"Add": 1})"));
  EXPECT_EQ(j["nodes"], 1);
  EXPECT_EQ(j["parameters"], 3);
  EXPECT_EQ(j["bytes_by_dtype"]["float32"], 12);
  EXPECT_GE(j["segments"]["count"].get<int>(), 1);

  r = kiln_cli({"inspect", kiln_path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("format version  1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x  float32 [batch,3]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Add 1"), std::string::npos) << r.out;

  std::string in_path = temp_path("cli_x.npy");
  ASSERT_TRUE(npy::write_file(in_path, Tensor::from_f32({0, 0, 0, -2, 3, -4}, {2, 3})).ok());
  // b = [1.5, -1.5, 3.5]; y = relu(x + b)
  const float want[] = {1.5f, 0, 3.5f, 0, 1.5f, 0};
  r = kiln_cli({"run", kiln_path, "--input", "x=" + in_path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("y:0  float32 [2,3]  [1.5, 0, 3.5, 0, 1.5, 0]"), std::string::npos) << r.out;

  std::string out_dir = temp_path("cli_out");
  r = kiln_cli({"run", kiln_path, "-i", in_path, "--output-dir", out_dir});  // bare path: the only input
  ASSERT_EQ(r.code, 0) << r.err;
  auto y = npy::read_file(out_dir + "/y_0.npy");
  ASSERT_TRUE(y.ok()) << y.status().to_string() << "\n" << r.out;
  EXPECT_EQ(dims_to_string(y->dims()), "[2,3]");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(y->data<float>()[i], want[i]) << i;

  r = kiln_cli({"inspect", "--passes", onnx_path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("fold_constants: 1 rewrite (folded \u00d71); nodes 3 \u2192 2; ops Add -1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fuse_activation: 1 rewrite (Add+Relu \u00d71); nodes 2 \u2192 1; ops Relu -1"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("optimized: 1 nodes"), std::string::npos) << r.out;

  r = kiln_cli({"convert", onnx_path, "-o", kiln_path, "--no-optimize"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(": 3 nodes, 6 parameters"), std::string::npos) << r.out;
  r = kiln_cli({"inspect", "--passes", "--json", kiln_path});  // a .kiln kept as imported
  ASSERT_EQ(r.code, 0) << r.err;
  auto pj = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(pj.is_discarded()) << r.out;
  EXPECT_EQ(pj["nodes_before"], 3);
  EXPECT_EQ(pj["nodes_after"], 1);
  EXPECT_EQ(pj["passes"][0]["pass"], "fold_constants");
  EXPECT_EQ(pj["passes"][0]["rewrites"], 1);
  r = kiln_cli({"run", kiln_path, "--input", "x=" + in_path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("[1.5, 0, 3.5, 0, 1.5, 0]"), std::string::npos) << r.out;

  // Failures: one line, non-zero exit.
  expect_error_line(kiln_cli({"run", kiln_path}), "missing input 'x'");
  expect_error_line(kiln_cli({"run", kiln_path, "--input", "nope=" + in_path}), "no input 'nope'");
  std::string bad_npy = temp_path("cli_bad.npy");
  ASSERT_TRUE(write_bytes(bad_npy, "not numpy"));
  expect_error_line(kiln_cli({"run", kiln_path, "--input", "x=" + bad_npy}), "not a .npy file");
  ASSERT_TRUE(npy::write_file(bad_npy, Tensor::from_f32({1, 2}, {1, 2})).ok());
  expect_error_line(kiln_cli({"run", kiln_path, "--input", "x=" + bad_npy}), "x");
  expect_error_line(kiln_cli({"inspect", onnx_path}), onnx_path);  // not a .kiln file
  expect_error_line(kiln_cli({"run", onnx_path}), onnx_path);

  for (const std::string& p : {onnx_path, kiln_path, in_path, bad_npy, out_dir + "/y_0.npy"}) std::remove(p.c_str());
  std::remove(out_dir.c_str());
}

TEST(KilnCli, PinnedShapesPlansAndRepeat) {
  std::string onnx_path = write_tiny_onnx("cli_pin.onnx");
  std::string kiln_path = temp_path("cli_pin.kiln");
  CliResult r = kiln_cli({"convert", onnx_path, "-o", kiln_path, "--input-shape", "x=4,3"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = kiln_cli({"inspect", kiln_path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("x  float32 [4,3]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("memory plan: arena"), std::string::npos) << r.out;
  expect_error_line(kiln_cli({"convert", onnx_path, "-o", kiln_path, "--input-shape", "x=4,5"}), "fixed at 3");
  expect_error_line(kiln_cli({"convert", onnx_path, "-o", kiln_path, "--input-shape", "y=4"}), "no input 'y'");

  ASSERT_EQ(kiln_cli({"convert", onnx_path, "-o", kiln_path}).code, 0);
  r = kiln_cli({"inspect", kiln_path});
  EXPECT_NE(r.out.find("memory plan: depends on the symbolic input dims"), std::string::npos) << r.out;
  std::string in_path = temp_path("cli_pin_x.npy");
  ASSERT_TRUE(npy::write_file(in_path, Tensor::from_f32({0, 0, 0, -2, 3, -4}, {2, 3})).ok());
  r = kiln_cli({"run", kiln_path, "-i", in_path, "--plan", "--repeat", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("plan for x[2,3]: 1 nodes with shapes known ahead, 0 resolved while running"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("latency over 2 runs after a warm-up: median"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[1.5, 0, 3.5, 0, 1.5, 0]"), std::string::npos) << r.out;
  r = kiln_cli({"run", kiln_path, "-i", in_path, "--repeat", "2", "--threads", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("(2 threads)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[1.5, 0, 3.5, 0, 1.5, 0]"), std::string::npos) << r.out;
  expect_error_line(kiln_cli({"run", kiln_path, "-i", in_path, "--threads", "-1"}), "--threads");
  r = kiln_cli({"run", kiln_path, "-i", in_path, "--repeat", "4", "--profile", "--top", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("profile over 3 runs:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("by op type:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("top 1 nodes:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Add 'add'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[1.5, 0, 3.5, 0, 1.5, 0]"), std::string::npos) << r.out;
  expect_error_line(kiln_cli({"run", kiln_path, "-i", in_path, "--profile", "--top", "0"}), "--top");
  for (const std::string& p : {onnx_path, kiln_path, in_path}) std::remove(p.c_str());
}

TEST(KilnCli, ConvertErrors) {
  expect_error_line(kiln_cli({"convert", "/nonexistent/model.onnx"}), "/nonexistent/model.onnx");
  const std::string dir = KILN_SOURCE_DIR;  // a directory where a file is expected
  expect_error_line(kiln_cli({"convert", dir, "-o", temp_path("cli_dir.kiln")}), "is it a directory");
  expect_error_line(kiln_cli({"inspect", dir}), "not a regular file");
  expect_error_line(kiln_cli({"run", dir}), "not a regular file");
  std::string junk = temp_path("cli_junk.onnx");
  ASSERT_TRUE(write_bytes(junk, std::string("\x08\x07\x12\xff\xff garbage", 14)));
  expect_error_line(kiln_cli({"convert", junk, "-o", temp_path("cli_junk.kiln")}), junk);

  onnx::ModelProto mp = onnx_model();
  auto* g = mp.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {2});
  add_node(g, "KilnNoSuchOp", {"x"}, {"a"}, "weird");
  add_node(g, "Attention", {"a"}, {"y"}, "attn", "com.microsoft");
  add_output(g, "y", onnx::TensorProto::FLOAT, {2});
  ASSERT_TRUE(write_bytes(junk, serialize(mp)));
  CliResult r = kiln_cli({"convert", junk, "-o", temp_path("cli_junk.kiln")});
  expect_error_line(r, "KilnNoSuchOp (first used by node 'weird')");
  EXPECT_NE(r.err.find("com.microsoft.Attention (first used by node 'attn')"), std::string::npos) << r.err;
  std::remove(junk.c_str());
}

TEST(KilnCli, HelpUsageAndOps) {
  CliResult r = kiln_cli({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("convert"), std::string::npos);
  for (const char* cmd : {"convert", "inspect", "run", "ops"}) {
    r = kiln_cli({cmd, "--help"});
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find(std::string("Usage: kiln ") + cmd), std::string::npos) << r.out;
  }
  expect_error_line(kiln_cli({"convert"}), "model is required");
  expect_error_line(kiln_cli({"frobnicate"}), "frobnicate");
  expect_error_line(kiln_cli({"run", "m.kiln", "--bogus"}), "--bogus");
  r = kiln_cli({"ops"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("\nConv\n"), std::string::npos);
  EXPECT_NE(r.out.find("\nIf\n"), std::string::npos);
}

}  // namespace
}  // namespace kiln
