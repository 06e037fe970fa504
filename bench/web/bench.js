// The in-page half of `npm run bench:web` (bench/web-bench.mjs drives it). Each function
// loads one runtime, builds the model's inputs before the clock starts, and reports times
// from performance.now(). The runtime's JS module is imported before timing starts in both
// cases, so "create → first result" covers what Session.create / InferenceSession.create
// do (WASM instantiation, model read and compile) plus the first run.

const ORT_DIST = '/node_modules/onnxruntime-web/dist/';

// Deterministic inputs (mulberry32, uniform in [lo, hi)), the same for both runtimes.
function uniform(n, seed, lo, hi) {
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    data[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return data;
}

// inputs: [{ name, type: 'float32' | 'int64', dims, lo?, hi?, value? }] -> [{ name, type, data, dims }].
function makeInputs(inputs) {
  return inputs.map((spec, i) => {
    const n = spec.dims.reduce((a, b) => a * b, 1);
    const data = spec.type === 'int64'
      ? BigInt64Array.from({ length: n }, () => BigInt(spec.value ?? 0))
      : spec.value !== undefined ? new Float32Array(n).fill(spec.value) : uniform(n, i + 1, spec.lo ?? -1, spec.hi ?? 1);
    return { name: spec.name, type: spec.type, data, dims: spec.dims };
  });
}

// A small fingerprint of the first output so the driver can check both runtimes agree.
function fingerprint(data, dims) {
  let sum = 0, abs = 0;
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    sum += v;
    abs += Math.abs(v);
  }
  return { dims: Array.from(dims, Number), length: data.length, sum, abs };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// Times warm runs: `warmup` untimed runs, then runs until `minRuns` are done and
// `budgetMs` has passed (at most `maxRuns`); returns the median and the count.
async function warmRuns(run, { warmup = 3, minRuns = 5, maxRuns = 30, budgetMs = 2500 } = {}) {
  for (let i = 0; i < warmup; i++) await run();
  const times = [];
  const start = performance.now();
  while (times.length < maxRuns && (times.length < minRuns || performance.now() - start < budgetMs)) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return { warmMedianMs: median(times), warmRuns: times.length };
}

async function kilnRuntime() {
  const { Session, Tensor } = await import('/web/index.js');
  return { Session, Tensor };
}

// kiln: Session.create(url) → first result; with `warm`, also the warm-run median.
async function kiln({ url, inputs, warm = null }) {
  const { Session, Tensor } = await kilnRuntime();
  const feeds = Object.fromEntries(makeInputs(inputs).map((x) => [x.name, new Tensor(x.type, x.data, x.dims)]));
  // The 'compile' progress events split create: the first comes once the .wasm is
  // instantiated and the model bytes are read (both at once), the last once the model is
  // copied into WASM memory, parsed and its weights packed.
  const compile = [];
  const onProgress = (e) => e.phase === 'compile' && compile.push(performance.now());
  const t0 = performance.now();
  const session = await Session.create(url, { onProgress });
  const t1 = performance.now();
  const out = await session.run(feeds);
  const t2 = performance.now();
  const y = out[session.outputNames[0]];
  const result = {
    createMs: t1 - t0,
    readyMs: compile[0] - t0,
    loadMs: compile.at(-1) - compile[0],
    firstRunMs: t2 - t1,
    firstResultMs: t2 - t0,
    fromCache: session.loadInfo.fromCache,
    build: session.backendInfo.build,
    threads: session.backendInfo.threads,
    output: fingerprint(y.data, y.dims),
  };
  if (warm) Object.assign(result, await warmRuns(() => session.run(feeds), warm));
  session.release();
  if (warm) {
    // A second create → first result in the same page: the runtime is already initialized.
    const t3 = performance.now();
    const again = await Session.create(url);
    await again.run(feeds);
    result.secondFirstResultMs = performance.now() - t3;
    again.release();
  }
  return result;
}

// onnxruntime-web, plain WASM backend (ort.wasm.min.mjs → ort-wasm-simd-threaded.{mjs,wasm}),
// one thread, no proxy worker: InferenceSession.create(url) → first result.
async function ort({ url, inputs, warm = null }) {
  const ort = await import(ORT_DIST + 'ort.wasm.min.mjs');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = ORT_DIST;
  ort.env.logLevel = 'error'; // its graph-cleanup warnings go to console.error otherwise
  const feeds = Object.fromEntries(makeInputs(inputs).map((x) => [x.name, new ort.Tensor(x.type, x.data, x.dims)]));
  const t0 = performance.now();
  const options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 };
  const session = await ort.InferenceSession.create(url, options);
  const t1 = performance.now();
  const out = await session.run(feeds);
  const t2 = performance.now();
  const y = out[session.outputNames[0]];
  const result = {
    createMs: t1 - t0,
    firstRunMs: t2 - t1,
    firstResultMs: t2 - t0,
    output: fingerprint(y.data, y.dims),
    crossOriginIsolated: self.crossOriginIsolated,
  };
  if (warm) Object.assign(result, await warmRuns(() => session.run(feeds), warm));
  await session.release();
  if (warm) {
    const t3 = performance.now();
    const again = await ort.InferenceSession.create(url, options);
    await again.run(feeds);
    result.secondFirstResultMs = performance.now() - t3;
    await again.release();
  }
  return result;
}

window.bench = { kiln, ort };
document.documentElement.dataset.ready = '1';
