#include "platform/platform.h"

#include <chrono>

#if defined(__EMSCRIPTEN__)
#include <emscripten.h>
#endif

namespace kiln {

const char* platform_name() {
#if defined(__EMSCRIPTEN__)
#if defined(__wasm_simd128__)
  return "wasm32-simd128";
#else
  return "wasm32";
#endif
#elif defined(__x86_64__)
  return "native-x86_64";
#elif defined(__aarch64__)
  return "native-aarch64";
#else
  return "native";
#endif
}

double now_ms() {
#if defined(__EMSCRIPTEN__)
  return emscripten_get_now();
#else
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
#endif
}

}  // namespace kiln
