// kiln run: execute a .kiln model on NumPy .npy inputs.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>

#include "cli_util.h"
#include "commands.h"
#include "format/model_io.h"
#include "compress/npy.h"
#include "platform/platform.h"
#include "runtime/session.h"

namespace kiln::cli {
namespace {

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;  // name=file.npy
  std::string output_dir;
  int64_t show = 8;
  bool plan = false;
  int repeat = 1;
  std::string backend = "kiln";
  int threads = 0;  // 0: automatic (SessionOptions::num_threads)
  bool profile = false;
  int top = 10;  // nodes listed by --profile
};

std::string mib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

// What the run plan for these inputs does: how much is known before running, and the arena.
Status print_plan(Session& s, const TensorMap& feeds) {
  std::vector<Dims> dims;
  std::string shapes;
  for (const TensorDesc& d : s.inputs()) {
    dims.push_back(feeds.at(d.name).dims());
    shapes += (shapes.empty() ? "" : ", ") + d.name + dims_to_string(dims.back());
  }
  KILN_ASSIGN_OR_RETURN(PlanInfo p, s.plan_info(dims));
  std::cout << "plan for " << shapes << ": " << p.planned_nodes << " nodes with shapes known ahead, "
            << p.dynamic_nodes << " resolved while running; arena " << mib(p.arena_bytes) << " holds "
            << p.arena_values << " intermediates (" << mib(p.unshared_bytes) << " without reuse)\n";
  return Status::Ok();
}

// Per-op-type totals and the slowest nodes of the profiled runs, in ms per run.
void print_profile(const RunProfile& p, int top) {
  if (p.runs == 0) return;
  const double runs = static_cast<double>(p.runs);
  double node_ms = 0;
  for (const NodeTiming& n : p.nodes)
    if (!n.control_flow) node_ms += n.total_ms;
  std::printf("profile over %lld run%s: %.4f ms per run, of which %.4f ms inside nodes (the rest: input checks, "
              "plan lookup, control flow)\n",
              static_cast<long long>(p.runs), p.runs == 1 ? "" : "s", p.total_ms / runs, node_ms / runs);
  std::printf("by op type:          nodes     calls/run   ms/run   share\n");
  for (const OpTypeTiming& t : profile_by_op_type(p))
    std::printf("  %-20s %5lld %12.1f %9.4f %6.1f%%\n", t.op_type.c_str(), static_cast<long long>(t.nodes),
                static_cast<double>(t.calls) / runs, t.total_ms / runs, node_ms > 0 ? 100 * t.total_ms / node_ms : 0.0);
  const std::vector<NodeTiming> nodes = profile_top_nodes(p, static_cast<size_t>(top));
  if (nodes.empty()) return;
  std::printf("top %zu nodes:       ms/run   share  node\n", nodes.size());
  for (const NodeTiming& n : nodes)
    std::printf("  %18.4f %6.1f%%  %s '%s'%s\n", n.total_ms / runs, node_ms > 0 ? 100 * n.total_ms / node_ms : 0.0,
                n.op_type.c_str(), n.name.c_str(),
                n.depth > 0 ? (" (in a subgraph, depth " + std::to_string(n.depth) + ")").c_str() : "");
}

int run_model(const RunOptions& o) {
  auto bytes = read_model_file(o.model);
  if (!bytes.ok()) return fail(bytes.status());
  auto backend = parse_backend(o.backend);
  if (!backend.ok()) return fail(backend.status());
  SessionOptions so;
  so.backend = *backend;
  so.num_threads = static_cast<size_t>(o.threads);
  auto session = Session::create(*bytes, so);
  if (!session.ok()) return fail(session.status().with_context(o.model));
  if (*backend == Backend::kKiln)
    std::cout << "backend kiln\n";
  else
    std::cout << "backend " << backend_name(*backend) << ": " << (*session)->delegated_nodes() << " of "
              << count_nodes((*session)->model()) << " nodes delegated, the rest on kiln\n";
  const auto& declared = (*session)->inputs();

  TensorMap feeds;
  for (const std::string& arg : o.inputs) {
    std::string name, path;
    size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      name = arg.substr(0, eq);
      path = arg.substr(eq + 1);
    } else if (declared.size() == 1) {  // a bare file feeds the only input
      name = declared[0].name;
      path = arg;
    } else {
      return fail("--input '" + arg + "' must be name=file.npy (the model has " + std::to_string(declared.size()) +
                  " inputs)");
    }
    bool known = false;
    for (const TensorDesc& d : declared) known = known || d.name == name;
    if (!known) {
      std::string names;
      for (const TensorDesc& d : declared) names += (names.empty() ? "'" : ", '") + d.name + "'";
      return fail("the model has no input '" + name + "' (inputs: " + names + ")");
    }
    if (feeds.count(name)) return fail("input '" + name + "' is given twice");
    auto t = npy::read_file(path);
    if (!t.ok()) return fail(t.status());
    feeds[name] = std::move(t).value();
  }
  for (const TensorDesc& d : declared)
    if (!feeds.count(d.name))
      return fail("missing input '" + d.name + "' (" + dtype_name(d.dtype) + " " + shape_to_string(d.shape) +
                  "); pass --input " + d.name + "=file.npy");

  if (o.plan) {
    Status s = print_plan(**session, feeds);
    if (!s.ok()) return fail(s);
  }
  // With --repeat the first run (plan building, cold caches) is left out of the profile.
  if (o.profile && o.repeat == 1) (*session)->set_profiling(true);
  auto outputs = (*session)->run(feeds);
  if (!outputs.ok()) return fail(outputs.status());
  if (o.profile && o.repeat > 1) (*session)->set_profiling(true);
  if (o.repeat > 1) {
    // The first run above built the plan and warmed caches; time the rest.
    std::vector<double> ms;
    for (int i = 1; i < o.repeat; ++i) {
      const double t0 = now_ms();
      auto again = (*session)->run(feeds);
      if (!again.ok()) return fail(again.status());
      ms.push_back(now_ms() - t0);
    }
    std::sort(ms.begin(), ms.end());
    std::printf("latency over %zu runs after a warm-up: median %.3f ms, min %.3f ms (%zu thread%s)\n", ms.size(),
                ms[ms.size() / 2], ms.front(), (*session)->num_threads(), (*session)->num_threads() == 1 ? "" : "s");
  }
  if (o.profile) print_profile((*session)->profile(), o.top);

  if (!o.output_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.output_dir, ec);
    if (ec) return fail("cannot create directory '" + o.output_dir + "': " + ec.message());
  }
  std::set<std::string> used_files;
  for (const TensorDesc& d : (*session)->outputs()) {
    auto it = outputs->find(d.name);
    if (it == outputs->end()) return fail("internal error: the session returned no output '" + d.name + "'");
    const Tensor& t = it->second;
    if (o.output_dir.empty()) {
      std::cout << d.name << "  " << dtype_name(t.dtype()) << " " << dims_to_string(t.dims()) << "  "
                << preview_values(t, o.show) << "\n";
      continue;
    }
    std::string file = sanitize_filename(d.name);
    for (int k = 2; used_files.count(file); ++k) file = sanitize_filename(d.name) + "_" + std::to_string(k);
    used_files.insert(file);
    std::string path = (std::filesystem::path(o.output_dir) / (file + ".npy")).string();
    Status s = npy::write_file(path, t);
    if (!s.ok()) return fail(s);
    std::cout << d.name << " -> " << path << "  " << dtype_name(t.dtype()) << " " << dims_to_string(t.dims()) << "\n";
  }
  return 0;
}

}  // namespace

Command add_run(CLI::App& root) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* app = root.add_subcommand("run", "Run a .kiln model on .npy inputs");
  app->add_option("model", o->model, "The .kiln file")->required();
  app->add_option("-i,--input", o->inputs, "An input as name=file.npy (repeat for each input)");
  app->add_option("-d,--output-dir", o->output_dir, "Write each output to <dir>/<output name>.npy");
  app->add_option("--show", o->show, "How many values of each output to print (default 8)");
  app->add_flag("--plan", o->plan, "Print the run plan for these input shapes (shapes known ahead, arena size)");
  app->add_option("--backend", o->backend,
                  "Who runs the ops: kiln (default) or xnnpack (the nodes XNNPACK covers; native builds with XNNPACK)");
  app->add_option("--repeat", o->repeat, "Run N times and print the median latency of runs 2..N")
      ->check(CLI::Range(1, 1000000));
  app->add_option("--threads", o->threads,
                  "Threads per run, the calling one included (default 0: the machine's cores, at most 4; "
                  "results are identical for every count)")
      ->check(CLI::Range(0, 256));
  app->add_flag("--profile", o->profile,
                "Time every node (subgraphs included) and print the time per op type and the slowest nodes, "
                "in ms per run (with --repeat, over runs 2..N; the timing itself adds a little per node)");
  app->add_option("--top", o->top, "How many nodes --profile lists (default 10)")->check(CLI::Range(1, 1000000));
  app->footer(
      ".npy files: little-endian, C order; float32/float64/float16, int64/int32/int8, uint8, bool.\n"
      "Without --output-dir, prints each output's name, dtype, shape and first values.");
  return {app, [o] { return run_model(*o); }};
}

}  // namespace kiln::cli
