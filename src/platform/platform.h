// The one seam between the native and WebAssembly builds. Everything else in src/ is
// compiled identically for both targets.
#pragma once

namespace kiln {

// "wasm32-simd128" or "native-x86_64" etc.; shown by `kiln inspect`/JS backendInfo.
const char* platform_name();
// Monotonic clock in milliseconds, for latency reports and progress.
double now_ms();

}  // namespace kiln
