// kiln_conformance: runs ONNX's backend node tests (Debian's libonnx-testdata) through
// kiln natively, the way a user's model goes: `kiln convert`'s path (import, shape
// inference, constant folding), serialized to .kiln and loaded back from the bytes, then
// every stored data set is run and compared with ONNX's tolerance
// |got - want| <= 1e-7 + 1e-3 |want| (exact for integers and bools; NaN equals NaN).
//
// Prints one line per test (PASS / FAIL name: why / SKIP name: reason) and the summary
// "conformance native: N passed, N failed, N skipped". Exits non-zero only when a test
// fails that is not in known_failures.txt, or a test crashes or hangs. Each test runs in
// a forked child so one crash cannot hide the others.
//
// --export DIR writes, per test, model.kiln and the data sets as .npy plus manifest.tsv
// for the WASM runner (tests/conformance/run-wasm.mjs).
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "format/model_io.h"
#include "graph/passes/fold_constants.h"
#include "import/onnx_import.h"
#include "import/onnx_tensor.h"
#include "lists.h"
#include "compress/npy.h"
#include "runtime/session.h"

namespace kiln::conformance {
namespace {

struct Options {
  std::string data_dir = "/usr/share/libonnx-testdata/data/node";
  std::string lists_dir = KILN_CONFORMANCE_DIR;
  std::string export_dir;
  std::string filter;
  int timeout_s = 120;
  bool verbose_pass = true;
};

std::vector<std::string> list_dir(const std::string& path, const std::string& prefix) {
  std::vector<std::string> r;
  if (DIR* d = opendir(path.c_str())) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name).rfind(prefix, 0) == 0) r.push_back(e->d_name);
    closedir(d);
  }
  std::sort(r.begin(), r.end());
  return r;
}

bool read_proto(const std::string& path, google::protobuf::Message* m) {
  std::ifstream f(path, std::ios::binary);
  return f && m->ParseFromIstream(&f);
}

// What a test's model uses, for the out-of-scope decision and the plain-tensor count.
struct ModelFacts {
  std::set<std::string> ops, kinds;
  bool plain_tensors = true;  // every graph input and output is a tensor
  std::vector<std::string> inputs, outputs;
};

void collect_ops(const onnx::GraphProto& g, std::set<std::string>& ops) {
  for (const auto& n : g.node()) {
    ops.insert(n.op_type());
    for (const auto& a : n.attribute()) {
      if (a.has_g()) collect_ops(a.g(), ops);
      for (const auto& sg : a.graphs()) collect_ops(sg, ops);
    }
  }
}

void note_type(const onnx::TypeProto& t, ModelFacts& f) {
  if (t.has_tensor_type()) {
    if (t.tensor_type().elem_type() == onnx::TensorProto::STRING) f.kinds.insert("string");
    return;
  }
  f.plain_tensors = false;
  if (t.has_sequence_type()) f.kinds.insert("sequence");
  else if (t.has_optional_type()) f.kinds.insert("optional");
  else if (t.has_map_type()) f.kinds.insert("map");
  else if (t.has_sparse_tensor_type()) f.kinds.insert("sparse");
  else f.kinds.insert("unknown");
}

ModelFacts model_facts(const onnx::ModelProto& m) {
  ModelFacts f;
  collect_ops(m.graph(), f.ops);
  std::set<std::string> inits;
  for (const auto& t : m.graph().initializer()) inits.insert(t.name());
  for (const auto& v : m.graph().input()) {
    note_type(v.type(), f);
    if (!inits.count(v.name())) f.inputs.push_back(v.name());
  }
  for (const auto& v : m.graph().output()) {
    note_type(v.type(), f);
    f.outputs.push_back(v.name());
  }
  return f;
}

bool is_float(DType t) { return t == DType::kF32 || t == DType::kF64 || t == DType::kF16; }

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(7);
  s << v;
  return s.str();
}

// Empty when `got` matches `want` within ONNX's tolerance.
std::string compare(const Tensor& got, const Tensor& want) {
  if (got.dtype() != want.dtype() || got.dims() != want.dims())
    return std::string("got ") + dtype_name(got.dtype()) + dims_to_string(got.dims()) + ", want " +
           dtype_name(want.dtype()) + dims_to_string(want.dims());
  double worst = 0;
  int64_t worst_i = -1, bad = 0;
  for (int64_t i = 0; i < want.size(); ++i) {
    bool ok;
    double err = 0;
    if (is_float(want.dtype())) {
      const double a = got.get_f64(i), b = want.get_f64(i);
      ok = (std::isnan(a) && std::isnan(b)) || a == b;
      if (!ok) {
        err = std::fabs(a - b);
        ok = err <= 1e-7 + 1e-3 * std::fabs(b);
        if (std::isnan(err)) err = INFINITY;
      }
    } else {
      ok = got.get_i64(i) == want.get_i64(i);
      if (!ok) err = std::fabs(static_cast<double>(got.get_i64(i)) - static_cast<double>(want.get_i64(i)));
    }
    if (!ok) {
      ++bad;
      if (worst_i < 0 || err > worst) worst = err, worst_i = i;
    }
  }
  if (bad == 0) return "";
  return std::to_string(bad) + " of " + std::to_string(want.size()) + " elements differ, max err " + fmt(worst) +
         " at index " + std::to_string(worst_i) + " (got " + fmt(got.get_f64(worst_i)) + ", want " +
         fmt(want.get_f64(worst_i)) + ")";
}

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  return f ? Status() : io_error("cannot write " + path);
}

std::string json_string_list(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    s += '"';
    for (char c : v[i]) {
      if (c == '"' || c == '\\') s += '\\';
      s += c;
    }
    s += '"';
  }
  return s + "]";
}

struct DataSet {
  std::string name;
  TensorMap feeds;
  std::vector<Tensor> wants;
};

// Reads a test's stored data sets (and exports them as .npy when asked).
Result<std::vector<DataSet>> read_data_sets(const std::string& dir, const std::string& out, const ModelFacts& facts) {
  std::vector<DataSet> sets;
  for (const std::string& set : list_dir(dir, "test_data_set_")) {
    DataSet ds{set, {}, {}};
    if (!out.empty()) mkdir((out + set).c_str(), 0755);
    for (size_t i = 0;; ++i) {
      const std::string path = dir + set + "/input_" + std::to_string(i) + ".pb";
      onnx::TensorProto tp;
      if (access(path.c_str(), F_OK) != 0) break;
      if (!read_proto(path, &tp)) return io_error("cannot parse " + path);
      if (i >= facts.inputs.size()) return invalid_argument(set + " has more inputs than the model");
      KILN_ASSIGN_OR_RETURN(Tensor t, tensor_from_onnx(tp, set + " input " + std::to_string(i)));
      ds.feeds[facts.inputs[i]] = t;
      if (!out.empty()) KILN_RETURN_IF_ERROR(npy::write_file(out + set + "/input_" + std::to_string(i) + ".npy", t));
    }
    for (size_t i = 0; i < facts.outputs.size(); ++i) {
      const std::string path = dir + set + "/output_" + std::to_string(i) + ".pb";
      onnx::TensorProto tp;
      if (!read_proto(path, &tp)) return io_error("cannot parse " + path);
      KILN_ASSIGN_OR_RETURN(Tensor t, tensor_from_onnx(tp, set + " output " + std::to_string(i)));
      ds.wants.push_back(t);
      if (!out.empty()) KILN_RETURN_IF_ERROR(npy::write_file(out + set + "/output_" + std::to_string(i) + ".npy", t));
    }
    sets.push_back(std::move(ds));
  }
  return sets;
}

// Converts and runs one test. Returns "" on success or why it failed. With an export
// directory, writes what the WASM runner needs: the data sets first (so a peer runtime
// can run them even when kiln cannot convert the model), then model.kiln.
std::string run_test(const Options& o, const std::string& name, const ModelFacts& facts) {
  const std::string dir = o.data_dir + "/" + name + "/";
  const std::string out = o.export_dir.empty() ? "" : o.export_dir + "/" + name + "/";
  if (!out.empty()) {
    mkdir(out.c_str(), 0755);
    write_text(out + "names.json", "{\"inputs\": " + json_string_list(facts.inputs) +
                                       ", \"outputs\": " + json_string_list(facts.outputs) + "}\n");
  }
  auto sets = read_data_sets(dir, out, facts);
  if (!sets.ok()) return "test data: " + sets.status().to_string();
  // The `kiln convert` path: import, fold (with shape inference), write, read back.
  auto model = import_onnx(dir + "model.onnx");
  if (!model.ok()) return "import: " + model.status().to_string();
  Status s = fold_constants(*model);
  if (!s.ok()) return "convert: " + s.to_string();
  auto written = write_model(*model);
  if (!written.ok()) return "write: " + written.status().to_string();
  auto bytes = std::make_shared<const std::vector<uint8_t>>(std::move(written).value());
  if (!out.empty())
    if (Status w = write_file_bytes(out + "model.kiln", *bytes); !w.ok()) return w.to_string();
  auto session = Session::create(bytes);
  if (!session.ok()) return "load .kiln: " + session.status().to_string();
  for (const DataSet& ds : *sets) {
    auto r = (*session)->run(ds.feeds);
    if (!r.ok()) return ds.name + " run: " + r.status().to_string();
    for (size_t i = 0; i < ds.wants.size(); ++i) {
      auto it = r->find(facts.outputs[i]);
      if (it == r->end()) return ds.name + " output " + std::to_string(i) + " '" + facts.outputs[i] + "' missing";
      std::string diff = compare(it->second, ds.wants[i]);
      if (!diff.empty()) return ds.name + " output " + std::to_string(i) + " '" + facts.outputs[i] + "': " + diff;
    }
  }
  return "";
}

// Runs run_test in a child process; returns {crashed_or_hung, message}.
std::pair<bool, std::string> run_isolated(const Options& o, const std::string& name, const ModelFacts& facts) {
  int fds[2];
  if (pipe(fds) != 0) return {true, "pipe failed"};
  const pid_t pid = fork();
  if (pid < 0) return {true, "fork failed"};
  if (pid == 0) {
    close(fds[0]);
    const std::string r = run_test(o, name, facts);
    const std::string msg = "done:" + r;
    (void)!write(fds[1], msg.data(), msg.size());
    _exit(0);
  }
  close(fds[1]);
  std::string msg;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
  bool hung = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      hung = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    msg.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (hung) return {true, "timed out after " + std::to_string(o.timeout_s) + " s"};
  if (WIFSIGNALED(status)) return {true, std::string("crashed: ") + strsignal(WTERMSIG(status))};
  if (msg.rfind("done:", 0) != 0) return {true, "child exited without a result"};
  return {false, msg.substr(5)};
}

int usage() {
  std::cerr << "usage: kiln_conformance [--data DIR] [--lists DIR] [--export DIR] [--filter SUBSTRING]\n"
               "                        [--timeout SECONDS] [--quiet]\n"
               "Runs ONNX's backend node tests natively (see tests/conformance/README in the source).\n";
  return 2;
}

int run(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--quiet") o.verbose_pass = false;
    else if ((a == "--data" || a == "--lists" || a == "--export" || a == "--filter" || a == "--timeout") &&
             (v = next())) {
      if (a == "--data") o.data_dir = v;
      else if (a == "--lists") o.lists_dir = v;
      else if (a == "--export") o.export_dir = v;
      else if (a == "--filter") o.filter = v;
      else o.timeout_s = std::max(1, std::atoi(v));
    } else return usage();
  }
  auto scope = read_out_of_scope(o.lists_dir + "/out_of_scope.txt");
  auto known = read_known_failures(o.lists_dir + "/known_failures.txt");
  if (!scope.ok() || !known.ok()) {
    std::cerr << "kiln_conformance: " << (scope.ok() ? known.status() : scope.status()).to_string() << "\n";
    return 2;
  }
  std::vector<std::string> tests = list_dir(o.data_dir, "test_");
  if (tests.empty()) {
    std::cerr << "kiln_conformance: no tests in " << o.data_dir << " (install libonnx-testdata)\n";
    return 2;
  }
  std::ofstream manifest;
  if (!o.export_dir.empty()) {
    mkdir(o.export_dir.c_str(), 0755);
    manifest.open(o.export_dir + "/manifest.tsv", std::ios::trunc);
    if (!manifest) {
      std::cerr << "kiln_conformance: cannot write " << o.export_dir << "/manifest.tsv\n";
      return 2;
    }
  }
  int passed = 0, failed = 0, skipped = 0, plain = 0, total = 0;
  std::vector<std::string> unexpected, now_passing, crashed;
  const auto t0 = std::chrono::steady_clock::now();
  for (const std::string& name : tests) {
    if (!o.filter.empty() && name.find(o.filter) == std::string::npos) continue;
    ++total;
    onnx::ModelProto proto;
    ModelFacts facts;
    std::string category, result;
    bool crash = false;
    if (!read_proto(o.data_dir + "/" + name + "/model.onnx", &proto)) {
      result = "cannot parse model.onnx";
    } else {
      facts = model_facts(proto);
      plain += facts.plain_tensors;
      category = scope->category_for(name, facts.ops, facts.kinds);
      if (category.empty()) std::tie(crash, result) = run_isolated(o, name, facts);
    }
    if (!category.empty()) {
      ++skipped;
      std::cout << "SKIP " << name << ": " << category << " (" << scope->reasons[category] << ")\n";
      if (manifest) manifest << name << "\tskip\t" << category << " (" << scope->reasons[category] << ")\n";
      continue;
    }
    if (manifest) manifest << name << "\t" << (result.empty() ? "ok" : "fail") << "\t" << result << "\n";
    auto k = known->find(name);
    const bool expected = k != known->end() && k->second.native;
    if (result.empty()) {
      ++passed;
      if (o.verbose_pass) std::cout << "PASS " << name << "\n";
      if (expected) now_passing.push_back(name);
      continue;
    }
    ++failed;
    std::cout << "FAIL " << name << ": " << result << (expected ? " [known: " + k->second.reason + "]" : "") << "\n";
    if (crash) crashed.push_back(name);
    else if (!expected) unexpected.push_back(name);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& n : now_passing) std::cout << "NOTE " << n << " now passes: remove it from known_failures.txt\n";
  for (const auto& n : unexpected) std::cout << "UNEXPECTED " << n << "\n";
  for (const auto& n : crashed) std::cout << "CRASH " << n << "\n";
  std::cout << "plain-tensor tests (all graph inputs and outputs are tensors): " << plain << " of " << total << "\n";
  std::cout << "time: " << fmt(secs) << " s\n";
  std::cout << "conformance native: " << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
  return unexpected.empty() && crashed.empty() ? 0 : 1;
}

}  // namespace
}  // namespace kiln::conformance

int main(int argc, char** argv) { return kiln::conformance::run(argc, argv); }
