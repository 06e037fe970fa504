// Embind bindings: the WASM face of kiln::Session, driven by web/index.js.
//
// Data crosses the boundary once each way: JS copies model bytes and input data
// straight into buffers this file allocates in the WASM heap (handed out as
// Uint8Array views), and copies each output once out of a view into a JS-owned
// typed array. No C++ exception or abort reaches JS: every fallible call returns a
// plain object, {ok: true, ...} or {ok: false, code, message}, and JS throws KilnError.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "runtime/session.h"

using emscripten::typed_memory_view;
using emscripten::val;

// Emscripten's malloc aligns to 8 bytes only, but read_model wants the model bytes
// (a std::vector<uint8_t>) 16-byte aligned so constant tensors can be zero-copy views,
// and SIMD kernels like aligned data. Replacing the global allocation functions is
// the one portable way to align a std::vector's storage; free() releases either kind.
void* operator new(size_t n) {
  void* p = std::aligned_alloc(16, (n + 15) / 16 * 16 + (n == 0 ? 16 : 0));
  if (!p) std::abort();  // what the stock operator new does without exceptions
  return p;
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  return std::aligned_alloc(16, (n + 15) / 16 * 16 + (n == 0 ? 16 : 0));
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace kiln {
namespace {

// The JS KilnError.code strings.
const char* js_code(Code c) {
  switch (c) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid_argument";
    case Code::kInvalidModel: return "invalid_model";
    case Code::kUnsupported: return "unsupported";
    case Code::kOutOfRange: return "out_of_range";
    case Code::kIO: return "io";
    case Code::kInternal: return "internal";
  }
  return "internal";
}

val error_val(const Status& s) {
  val o = val::object();
  o.set("ok", false);
  o.set("code", std::string(js_code(s.code())));
  o.set("message", s.to_string());
  return o;
}

val ok_val() {
  val o = val::object();
  o.set("ok", true);
  return o;
}

val bytes_view(const void* data, size_t n) {
  return val(typed_memory_view(n, static_cast<const uint8_t*>(data)));
}

// {name, type, dims}: fixed dims are numbers, symbolic ones their name ('?' if unnamed).
val desc_val(const TensorDesc& d) {
  val o = val::object();
  o.set("name", d.name);
  o.set("type", std::string(dtype_name(d.dtype)));
  val dims = val::array();
  for (const Dim& dim : d.shape) {
    if (dim.fixed())
      dims.call<void>("push", static_cast<double>(dim.size));
    else
      dims.call<void>("push", dim.param.empty() ? std::string("?") : dim.param);
  }
  o.set("dims", dims);
  return o;
}

// Largest model accepted; WASM32 memory tops out at 4 GiB (2 GiB by default).
constexpr double kMaxModelBytes = 2147483648.0;

// Largest exact integer a JS number holds.
constexpr double kMaxSafeInt = 9007199254740991.0;

}  // namespace

// One loaded model. JS makes it with `new Module.WasmSession()`, fills the model
// buffer, calls load(), then stages inputs / runs / reads outputs; `.delete()` frees it.
class WasmSession {
 public:
  // Allocates the buffer the model bytes are copied into; returns {ok, view}.
  val allocModel(double size) {
    if (!(size >= 0) || size > kMaxModelBytes || size != std::floor(size))
      return error_val(out_of_range("model of " + std::to_string(size) + " bytes is too large for WASM memory"));
    size_t n = static_cast<size_t>(size);
    // Without exceptions a failed vector allocation aborts: probe with malloc first.
    void* probe = std::malloc(n + 64);
    if (!probe) return error_val(out_of_range("out of memory allocating " + std::to_string(n) + " bytes for the model"));
    std::free(probe);
    auto bytes = std::make_shared<std::vector<uint8_t>>(n);
    model_bytes_ = bytes;
    val o = ok_val();
    o.set("view", bytes_view(bytes->data(), n));
    return o;
  }

  // Parses, verifies and plans the model copied into the buffer from allocModel().
  val load(bool verify_hashes) { return load_threads(verify_hashes, 1); }

  // load() with SessionOptions::num_threads (the threaded build's loader passes it; the
  // single-threaded build runs 1 thread whatever is asked).
  val load_threads(bool verify_hashes, double num_threads) {
    if (!model_bytes_) return error_val(internal_error("load() called before allocModel()"));
    if (session_) return error_val(internal_error("session already loaded"));
    if (!(num_threads >= 0) || num_threads > 256 || num_threads != std::floor(num_threads))
      return error_val(invalid_argument("numThreads must be an integer from 0 (automatic) to 256, got " +
                                        std::to_string(num_threads)));
    SessionOptions options;
    options.verify_hashes = verify_hashes;
    options.num_threads = static_cast<size_t>(num_threads);
    // The session keeps the bytes alive: constants are views into them.
    auto r = Session::create(std::move(model_bytes_), options);
    model_bytes_.reset();
    if (!r.ok()) return error_val(r.status());
    session_ = std::move(r).value();
    return ok_val();
  }

  // Threads a run uses (the calling one included); 0 before load().
  double numThreads() const { return session_ ? static_cast<double>(session_->num_threads()) : 0; }

  val inputs() const { return descs(session_ ? &session_->inputs() : nullptr); }
  val outputs() const { return descs(session_ ? &session_->outputs() : nullptr); }

  // Allocates input `name` with the given dtype/dims in the WASM heap and returns
  // {ok, view} for JS to copy the data into. Replaces an earlier input of that name.
  val setInput(const std::string& name, const std::string& type, val dims_js) {
    if (!session_) return error_val(internal_error("session is not loaded"));
    const TensorDesc* desc = nullptr;
    for (const TensorDesc& d : session_->inputs())
      if (d.name == name) desc = &d;
    if (!desc) return error_val(invalid_argument("unknown input '" + name + "'; the model's inputs are " + input_names()));
    DType dtype;
    if (!dtype_from_name(type, &dtype))
      return error_val(invalid_argument("input '" + name + "': unknown dtype '" + type + "'"));
    auto dims = to_dims(dims_js);
    if (!dims.ok()) return error_val(dims.status().with_context("input '" + name + "'"));
    auto t = Tensor::make(dtype, std::move(dims).value());
    if (!t.ok()) return error_val(t.status().with_context("input '" + name + "'"));
    Tensor& tensor = staged_[name] = std::move(t).value();
    val o = ok_val();
    o.set("view", bytes_view(tensor.raw(), tensor.bytes()));
    return o;
  }

  void clearInputs() { staged_.clear(); }

  // Runs on the staged inputs; outputs are kept until clearOutputs() / the next run.
  val run() {
    if (!session_) return error_val(internal_error("session is not loaded"));
    results_.clear();
    auto r = session_->run(staged_);
    if (!r.ok()) return error_val(r.status());
    results_ = std::move(r).value();
    return ok_val();
  }

  // {ok, name, type, dims, view} for output `name` of the last run. The view is only
  // valid until the next WASM allocation (memory growth detaches it): copy it at once.
  val getOutput(const std::string& name) const {
    auto it = results_.find(name);
    if (it == results_.end())
      return error_val(invalid_argument("no output '" + name + "' from the last run"));
    const Tensor& t = it->second;
    if (!dtype_is_valid_storage(t.dtype()))
      return error_val(unsupported("output '" + name + "' has dtype " + dtype_name(t.dtype()) +
                                   ", which JS tensors cannot hold"));
    val o = ok_val();
    o.set("name", name);
    o.set("type", std::string(dtype_name(t.dtype())));
    val dims = val::array();
    for (int64_t d : t.dims()) dims.call<void>("push", static_cast<double>(d));
    o.set("dims", dims);
    o.set("view", bytes_view(t.raw(), t.bytes()));
    return o;
  }

  void clearOutputs() { results_.clear(); }

 private:
  static val descs(const std::vector<TensorDesc>* list) {
    val a = val::array();
    if (list)
      for (const TensorDesc& d : *list) a.call<void>("push", desc_val(d));
    return a;
  }

  std::string input_names() const {
    std::string s;
    for (const TensorDesc& d : session_->inputs()) s += (s.empty() ? "'" : ", '") + d.name + "'";
    return s.empty() ? "(none)" : s;
  }

  static Result<Dims> to_dims(const val& js) {
    if (!js.isArray()) return invalid_argument("dims must be an array of integers");
    size_t n = js["length"].as<size_t>();
    Dims dims;
    for (size_t i = 0; i < n; ++i) {
      val v = js[i];
      bool is_number = v.typeOf().as<std::string>() == "number";
      double d = is_number ? v.as<double>() : -1;
      if (!is_number || !(d >= 0) || d > kMaxSafeInt || d != std::floor(d))
        return invalid_argument("dims must be non-negative integers, got dim " + std::to_string(i) + " = " +
                                (is_number ? std::to_string(d) : v.typeOf().as<std::string>()));
      dims.push_back(static_cast<int64_t>(d));
    }
    return dims;
  }

  std::shared_ptr<std::vector<uint8_t>> model_bytes_;
  std::unique_ptr<Session> session_;
  TensorMap staged_;
  TensorMap results_;
};

}  // namespace kiln

EMSCRIPTEN_BINDINGS(kiln) {
  emscripten::class_<kiln::WasmSession>("WasmSession")
      .constructor<>()
      .function("allocModel", &kiln::WasmSession::allocModel)
      .function("load", &kiln::WasmSession::load)  // overloaded by argument count
      .function("load", &kiln::WasmSession::load_threads)
      .function("numThreads", &kiln::WasmSession::numThreads)
      .function("inputs", &kiln::WasmSession::inputs)
      .function("outputs", &kiln::WasmSession::outputs)
      .function("setInput", &kiln::WasmSession::setInput)
      .function("clearInputs", &kiln::WasmSession::clearInputs)
      .function("run", &kiln::WasmSession::run)
      .function("getOutput", &kiln::WasmSession::getOutput)
      .function("clearOutputs", &kiln::WasmSession::clearOutputs);
}
