// The engines `npm run bench` compares, each behind one interface:
//   open(model) → { info, outputs } (loaded and warmed up), time(runs) → { samples, min } (ms), close().
// kiln-WASM and onnxruntime-web run in worker threads (engine-worker.mjs), kiln-native is
// the CLI (`kiln run --repeat`), onnxruntime-node runs in this thread.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

import { BUILDS } from '../../web/backend.js';
import { decodeNpy, encodeNpy } from '../../tests/js/npy.mjs';
import { KILN_CLI, ROOT } from '../../tests/js/helpers.mjs';

const WORKER = new URL('./engine-worker.mjs', import.meta.url);

/** The threaded kiln WASM build, when the package ships it and its files are in web/dist; else null. */
export function threadedKilnBuild() {
  return BUILDS.find((b) => b.threads && b.shipped && fs.existsSync(path.join(ROOT, 'web/dist', b.wasm))) ?? null;
}

/** Whether `kiln run` takes --threads (a later CLI change); detected from its help text. */
export function cliHasThreads() {
  return /--threads\b/.test(execFileSync(KILN_CLI, ['run', '--help'], { encoding: 'utf8' }));
}

class WorkerEngine {
  constructor(engine, threads, build) {
    Object.assign(this, { engine, threads, build });
  }

  // Resolves with the next message, rejecting on an error message or a dead worker.
  #next() {
    return new Promise((resolve, reject) => {
      const onMessage = (m) => { cleanup(); m.error ? reject(new Error(m.error)) : resolve(m); };
      const onError = (e) => { cleanup(); reject(e); };
      const onExit = (code) => { cleanup(); reject(new Error(`worker exited with code ${code}`)); };
      const cleanup = () => {
        this.worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      };
      this.worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
  }

  async open(model, { kilnFile, feeds, peerFeeds, warmup }) {
    const file = this.engine === 'kiln-wasm' ? kilnFile : model.peerSource;
    const workerData = { engine: this.engine, threads: this.threads, build: this.build, model: file,
                         feeds: this.engine === 'kiln-wasm' ? feeds : peerFeeds, warmup };
    this.worker = new Worker(WORKER, { workerData });
    const { info, outputs } = await this.#next();
    // onnxruntime-web silently falls back to 1 thread where it cannot start its pthreads.
    if (info.threads !== this.threads) throw new Error(`${info.build} runs ${info.threads} thread(s), not ${this.threads}`);
    return { info, outputs };
  }

  async time(runs) {
    this.worker.postMessage({ cmd: 'time', runs });
    const { times } = await this.#next();
    return { samples: times, min: Math.min(...times) };
  }

  async close() {
    if (!this.worker) return;
    try {
      this.worker.postMessage({ cmd: 'close' });
      await this.#next();
    } catch {
      // The worker is gone already; terminating below is all that is left to do.
    }
    await this.worker.terminate();
    this.worker = null;
  }
}

// `kiln run --repeat B+1` per block: the CLI times runs 2..B+1 and prints their median, so
// each block gives one sample (its median) and its fastest run; the per-run times stay inside the CLI.
class NativeEngine {
  constructor(threads, threadsFlag) {
    Object.assign(this, { threads, threadsFlag });
  }

  async open(model, { kilnFile, feeds, dir }) {
    this.args = ['run', kilnFile];
    for (const [name, t] of Object.entries(feeds)) {
      const file = path.join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.npy`);
      fs.writeFileSync(file, encodeNpy(t));
      this.args.push('--input', `${name}=${file}`);
    }
    if (this.threadsFlag) this.args.push('--threads', String(this.threads));
    const outDir = path.join(dir, 'native-out');
    fs.rmSync(outDir, { recursive: true, force: true });
    execFileSync(KILN_CLI, [...this.args, '--output-dir', outDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const outputs = {};
    for (const f of fs.readdirSync(outDir)) {
      const t = decodeNpy(fs.readFileSync(path.join(outDir, f)));
      if (t.type === 'float32') outputs[f.replace(/\.npy$/, '')] = { dims: t.dims, data: Array.from(t.data) };
    }
    return { info: { build: 'kiln CLI (native)', threads: this.threadsFlag ? this.threads : 1 }, outputs };
  }

  time(runs) {
    return new Promise((resolve, reject) => {
      execFile(KILN_CLI, [...this.args, '--show', '0', '--repeat', String(runs + 1)], { timeout: 600e3 }, (err, stdout, stderr) => {
        if (err) return reject(new Error(`kiln run failed: ${stderr || err.message}`));
        const m = /median ([0-9.]+) ms, min ([0-9.]+) ms/.exec(stdout);
        if (!m) return reject(new Error(`kiln run printed no median latency:\n${stdout}`));
        resolve({ samples: [Number(m[1])], min: Number(m[2]) });
      });
    });
  }

  async close() {}
}

class OrtNodeEngine {
  constructor(threads) {
    this.threads = threads;  // null: onnxruntime's default thread pool
  }

  async open(model, { peerFeeds, warmup }) {
    const ort = (await import('onnxruntime-node')).default;
    const options = { logSeverityLevel: 3, graphOptimizationLevel: 'all' };
    if (this.threads) Object.assign(options, { intraOpNumThreads: this.threads, interOpNumThreads: 1 });
    this.session = await ort.InferenceSession.create(model.peerSource, options);
    this.feeds = Object.fromEntries(Object.entries(peerFeeds).map(([n, t]) => [n, new ort.Tensor(t.type, t.data, t.dims)]));
    let out;
    for (let i = 0; i < Math.max(1, warmup); i++) out = await this.session.run(this.feeds);
    const outputs = {};
    for (const [name, t] of Object.entries(out))
      if (t.type === 'float32') outputs[name] = { dims: Array.from(t.dims, Number), data: Array.from(t.data) };
    return { info: { build: 'onnxruntime-node', threads: this.threads ?? 'default' }, outputs };
  }

  async time(runs) {
    const times = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await this.session.run(this.feeds);
      times.push(performance.now() - t0);
    }
    return { samples: times, min: Math.min(...times) };
  }

  async close() {
    await this.session?.release();
    this.session = null;
  }
}

/**
 * The engine slots, in table order. An engine that cannot exist here (no threaded kiln
 * build, no --threads flag) has `missing` (the reason) instead of `make`.
 */
export function engineSlots() {
  const threaded = threadedKilnBuild();
  const flag = cliHasThreads();
  return [
    { id: 'kiln-wasm-1', label: 'kiln-WASM 1t', make: () => new WorkerEngine('kiln-wasm', 1, threaded ? 'simd' : undefined) },
    threaded
      ? { id: 'kiln-wasm-2', label: 'kiln-WASM 2t', make: () => new WorkerEngine('kiln-wasm', 2, threaded.name) }
      : { id: 'kiln-wasm-2', label: 'kiln-WASM 2t', missing: 'n/a (no threaded build)' },
    { id: 'ort-web-1', label: 'ort-web 1t', make: () => new WorkerEngine('ort-web', 1) },
    { id: 'ort-web-2', label: 'ort-web 2t', make: () => new WorkerEngine('ort-web', 2) },
    { id: 'kiln-native-1', label: 'kiln-native 1t', make: () => new NativeEngine(1, flag) },
    flag
      ? { id: 'kiln-native-2', label: 'kiln-native 2t', make: () => new NativeEngine(2, flag) }
      : { id: 'kiln-native-2', label: 'kiln-native 2t', missing: 'n/a (no --threads in kiln run)' },
    { id: 'ort-node-1', label: 'ort-node 1t', make: () => new OrtNodeEngine(1) },
    { id: 'ort-node-default', label: 'ort-node default', make: () => new OrtNodeEngine(null) },
  ];
}
