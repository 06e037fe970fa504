#!/usr/bin/env bash
# kiln setup: everything `npm start` and `npm test` need on a fresh Debian machine.
# Idempotent and fast when all is in place: installs missing Debian packages,
# runs `npm ci` when node_modules is stale, builds native (build/native) and
# WASM (build/wasm -> web/dist) incrementally, and fetches + verifies the models.
#
#   bash scripts/setup.sh            # all steps
#   KILN_SETUP_JOBS=1 bash scripts/setup.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS="${KILN_SETUP_JOBS:-$(nproc 2>/dev/null || echo 2)}"
say() { echo "kiln setup: $*"; }
# Shows a failed build's compiler errors (or the log's end when none match).
show_errors() { grep -m 40 -E 'error:|Error [0-9]+' "$1" >&2 || tail -n 40 "$1" >&2; }
die() { echo "kiln setup: error: $*" >&2; exit 1; }

# --- 1. Debian packages ------------------------------------------------------
# (chromium runs the browser tests, tests/browser, through playwright-core; kiln eval
# draws its text with libfreetype-dev + fonts-dejavu-core from wamerican's word list.)
PACKAGES=(emscripten binaryen wabt flatbuffers-compiler libflatbuffers-dev
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev libgtest-dev libbenchmark-dev
  libhwy-dev libonnx-dev libprotobuf-dev protobuf-compiler cmake g++
  libcli11-dev nlohmann-json3-dev libpng-dev libonnx-testdata chromium
  libfreetype-dev fonts-dejavu-core wamerican)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
    die "missing Debian packages (${missing[*]}) and not root, and sudo is not available"; fi
  say "installing Debian packages: ${missing[*]} (about a minute)…"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || die "apt-get install failed for: ${missing[*]}"
fi

# --- 2. npm dependencies -----------------------------------------------------
if [[ -f package-lock.json ]]; then
  # npm writes node_modules/.package-lock.json on every install: it is the stamp.
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    say "installing npm dependencies (npm ci)…"
    # (.npmrc skips onnxruntime-node's download of extra binaries from an
    # unreachable host; its CPU binaries ship inside the package.)
    npm ci --no-audit --no-fund || die "npm ci failed"
  fi
elif [[ -f package.json && ! -d node_modules ]]; then
  say "installing npm dependencies (npm install)…"
  npm install --no-audit --no-fund || die "npm install failed"
fi

# --- 2b. TypeScript reader of the .kiln table (flatc + tsc) --------------------
bash scripts/gen-schema-ts.sh || die "generating the TypeScript schema reader failed"

# --- 3. native build (library, CLI, GoogleTest) ------------------------------
mkdir -p build
if [[ ! -f build/native/CMakeCache.txt ]]; then
  say "building native (this takes a few minutes the first time)…"
  cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release >build/native-configure.log 2>&1 || {
    cat build/native-configure.log >&2; die "native configure failed (log: build/native-configure.log)"; }
else
  say "building native (incremental)…"
fi
cmake --build build/native -j "$JOBS" >build/native-build.log 2>&1 || {
  show_errors build/native-build.log; die "native build failed (full log: build/native-build.log)"; }

# --- 4. WASM build -> web/dist -----------------------------------------------
# Emscripten 3.1.6's JS optimizer needs acorn from Debian's node modules; the
# default emulator emcmake passes adds a flag Node 20 rejects.
export NODE_PATH=/usr/share/nodejs
if [[ ! -f build/wasm/CMakeCache.txt ]]; then
  say "building WebAssembly (this takes a few minutes the first time)…"
  emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node >build/wasm-configure.log 2>&1 || {
    cat build/wasm-configure.log >&2; die "wasm configure failed (log: build/wasm-configure.log)"; }
else
  say "building WebAssembly (incremental)…"
fi
cmake --build build/wasm -j "$JOBS" >build/wasm-build.log 2>&1 || {
  show_errors build/wasm-build.log; die "wasm build failed (full log: build/wasm-build.log)"; }
mkdir -p web/dist
# (the build's post-build steps copy these too; this also repairs a web/dist cleaned by hand)
for f in build/wasm/wasm/kiln.js build/wasm/wasm/kiln.wasm build/wasm/wasm/kiln-simd-threads.js \
    build/wasm/wasm/kiln-simd-threads.wasm build/wasm/wasm/kiln-simd-threads.worker.js \
    build/wasm/wasm/kiln-vision.js; do
  [[ -f "$f" ]] || continue
  cmp -s "$f" "web/dist/$(basename "$f")" || cp "$f" web/dist/
done
if [[ -f web/dist/kiln-simd-threads.worker.js ]]; then
  cmp -s web/dist/kiln-simd-threads.worker.js web/dist/kiln-simd-threads.worker.cjs ||
    cp web/dist/kiln-simd-threads.worker.js web/dist/kiln-simd-threads.worker.cjs
fi
[[ -f web/dist/kiln.js && -f web/dist/kiln.wasm ]] || die "the WASM build did not produce web/dist/kiln.js and kiln.wasm"
[[ -f web/dist/kiln-vision.js ]] || die "the WASM build did not produce web/dist/kiln-vision.js (image/OCR helpers)"
[[ -f web/dist/kiln-simd-threads.js && -f web/dist/kiln-simd-threads.wasm ]] ||
  die "the WASM build did not produce web/dist/kiln-simd-threads.js and .wasm (the threaded build)"

# --- 5. real models ----------------------------------------------------------
node scripts/fetch-models.mjs --quiet || die "fetching the models failed"
say "ready (native: build/native, WASM: web/dist, models: .cache/models)"
