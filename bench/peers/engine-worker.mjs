// One in-process engine of `npm run bench`, in its own worker thread: kiln's WASM build
// (web/index.js) or onnxruntime-web's WASM backend. A worker each because onnxruntime-web
// fixes env.wasm.numThreads when its module first initializes, so 1 and 2 threads need
// separate module instances; it also keeps the engines' heaps apart.
//
// workerData: { engine: 'kiln-wasm' | 'ort-web', threads, build?, model, feeds, warmup }.
// Posts { ready, info, outputs } once loaded and warmed up, then answers
// { cmd: 'time', runs } with { times } (ms per run) and { cmd: 'close' } with { closed } after releasing the session.
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { engine, threads, build, model, feeds, warmup } = workerData;

async function openKiln() {
  const { Session, Tensor } = await import('../../web/index.js');
  const options = build ? { build, numThreads: threads } : {};
  const session = await Session.create(fs.readFileSync(model), options);
  const inputs = Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, new Tensor(t.type, t.data, t.dims)]));
  return {
    info: { build: session.backendInfo.build, threads: session.backendInfo.threads ? threads : 1 },
    run: () => session.run(inputs),
    close: () => session.release(),
  };
}

async function openOrtWeb() {
  const ort = (await import('onnxruntime-web')).default;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const inputs = Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, new ort.Tensor(t.type, t.data, t.dims)]));
  return {
    // After initialization numThreads says what really runs (it falls back to 1 without threads).
    info: { build: `onnxruntime-web ${ort.env.versions.web} wasm`, threads: ort.env.wasm.numThreads },
    run: () => session.run(inputs),
    close: () => session.release(),
  };
}

// The float outputs as plain arrays, for the cross-engine agreement check.
function plain(outputs) {
  const out = {};
  for (const [name, t] of Object.entries(outputs))
    if (t.data instanceof Float32Array) out[name] = { dims: Array.from(t.dims, Number), data: Array.from(t.data) };
  return out;
}

try {
  const e = engine === 'kiln-wasm' ? await openKiln() : await openOrtWeb();
  let outputs = null;
  for (let i = 0; i < warmup; i++) outputs = await e.run();
  parentPort.postMessage({ ready: true, info: e.info, outputs: plain(outputs ?? (await e.run())) });
  parentPort.on('message', async (msg) => {
    try {
      if (msg.cmd === 'close') {
        await e.close();
        parentPort.postMessage({ closed: true });  // the parent terminates us (ort-web's pthreads would linger)
        return;
      }
      const times = [];
      for (let i = 0; i < msg.runs; i++) {
        const t0 = performance.now();
        await e.run();
        times.push(performance.now() - t0);
      }
      parentPort.postMessage({ times });
    } catch (err) {
      parentPort.postMessage({ error: err.message });
    }
  });
} catch (err) {
  parentPort.postMessage({ error: err.message });
}
