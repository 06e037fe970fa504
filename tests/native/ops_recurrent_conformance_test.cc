// ONNX backend node tests (Debian's libonnx-testdata) for the recurrent ops and Loop:
// each listed test model is imported, run through a Session on every stored data set and
// compared with the stored outputs. Skipped when the test data is not installed.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "import/onnx_import.h"
#include "import/onnx_tensor.h"
#include "runtime/session.h"

namespace kiln {
namespace {

const std::string kNodeTests = "/usr/share/libonnx-testdata/data/node/";

Result<Tensor> read_tensor(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  onnx::TensorProto tp;
  if (!f || !tp.ParseFromIstream(&f)) return io_error("cannot read " + path);
  return tensor_from_onnx(tp, path);
}

bool exists(const std::string& path) { return std::ifstream(path).good(); }

// "" when got matches want (dtype, dims, values within 1e-4 relative).
std::string compare(const Tensor& got, const Tensor& want) {
  if (got.dtype() != want.dtype() || got.dims() != want.dims())
    return std::string("got ") + dtype_name(got.dtype()) + dims_to_string(got.dims()) + ", want " +
           dtype_name(want.dtype()) + dims_to_string(want.dims());
  for (int64_t i = 0; i < want.size(); ++i) {
    const double a = got.get_f64(i), b = want.get_f64(i);
    if (!(std::fabs(a - b) <= 1e-4 + 1e-4 * std::fabs(b)))
      return "element " + std::to_string(i) + ": got " + std::to_string(a) + ", want " + std::to_string(b);
  }
  return "";
}

// Runs every data set of one node test; "" on success.
std::string run_node_test(const std::string& name) {
  const std::string dir = kNodeTests + name + "/";
  auto m = import_onnx(dir + "model.onnx");
  if (!m.ok()) return "import: " + m.status().to_string();
  auto s = Session::create(std::move(m).value());
  if (!s.ok()) return "create: " + s.status().to_string();
  Session& session = *s.value();
  int sets = 0;
  for (int k = 0; exists(dir + "test_data_set_" + std::to_string(k) + "/input_0.pb"); ++k, ++sets) {
    const std::string set = dir + "test_data_set_" + std::to_string(k) + "/";
    TensorMap in;
    for (size_t i = 0; i < session.inputs().size(); ++i) {
      auto t = read_tensor(set + "input_" + std::to_string(i) + ".pb");
      if (!t.ok()) return t.status().to_string();
      in[session.inputs()[i].name] = t.value();
    }
    auto r = session.run(in);
    if (!r.ok()) return "run: " + r.status().to_string();
    for (size_t i = 0; i < session.outputs().size(); ++i) {
      auto want = read_tensor(set + "output_" + std::to_string(i) + ".pb");
      if (!want.ok()) return want.status().to_string();
      const std::string diff = compare(r.value()[session.outputs()[i].name], want.value());
      if (!diff.empty()) return "data set " + std::to_string(k) + " output " + std::to_string(i) + ": " + diff;
    }
  }
  return sets > 0 ? "" : "no data sets";
}

class RecurrentNodeTest : public testing::TestWithParam<const char*> {};

TEST_P(RecurrentNodeTest, MatchesStoredOutputs) {
  if (!exists(kNodeTests + GetParam() + "/model.onnx")) GTEST_SKIP() << "libonnx-testdata is not installed";
  EXPECT_EQ(run_node_test(GetParam()), "");
}

INSTANTIATE_TEST_SUITE_P(
    Onnx, RecurrentNodeTest,
    testing::Values("test_lstm_batchwise", "test_lstm_defaults", "test_lstm_with_initial_bias",
                    "test_lstm_with_peepholes", "test_gru_batchwise", "test_gru_defaults", "test_gru_seq_length",
                    "test_gru_with_initial_bias", "test_rnn_seq_length", "test_simple_rnn_batchwise",
                    "test_simple_rnn_defaults", "test_simple_rnn_with_initial_bias", "test_loop11",
                    "test_range_float_type_positive_delta_expanded", "test_range_int32_type_negative_delta_expanded",
                    "test_if"),
    [](const testing::TestParamInfo<const char*>& info) { return std::string(info.param).substr(5); });

}  // namespace
}  // namespace kiln
