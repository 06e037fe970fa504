// The threaded WebAssembly build (kiln-simd-threads.*) under Node: picked by default there,
// numThreads / threads options, backendInfo, and outputs bit-identical to the
// single-threaded build for 1, 2 and 3 threads on the real OCR recognizer and detector.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { KilnError, Session, Tensor } from '../../web/index.js';
import { BUILDS, buildUrls, selectBuild } from '../../web/backend.js';
import { autoThreads } from '../../web/loader.js';
import { ROOT, convert, randomFloats, requireBuilt } from './helpers.mjs';
import { modelPath } from '../../scripts/fetch-models.mjs';

let rec, det;

before(() => {
  requireBuilt();
  for (const f of ['kiln-simd-threads.js', 'kiln-simd-threads.wasm', 'kiln-simd-threads.worker.cjs'])
    assert.ok(fs.existsSync(path.join(ROOT, 'web', 'dist', f)), `web/dist/${f} missing: run \`npm run build:wasm\``);
  rec = fs.readFileSync(convert(modelPath('recognizer'), 'rec-threads'));
  det = fs.readFileSync(convert(modelPath('detector'), 'det-threads'));
});

// Output bytes of one run of `bytes` with the given options.
async function runOnce(bytes, options, x) {
  const session = await Session.create(bytes, options);
  try {
    const out = await session.run({ [session.inputNames[0]]: x });
    const y = out[session.outputNames[0]];
    return { info: session.backendInfo, dims: y.dims, bytes: Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength) };
  } finally {
    session.release();
  }
}

async function checkIdentical(bytes, dims, seed) {
  const x = new Tensor('float32', randomFloats(dims.reduce((a, b) => a * b), seed).map((v) => 0.5 + 0.5 * v), dims);
  const single = await runOnce(bytes, { threads: false }, x);
  assert.equal(single.info.build, 'simd');
  assert.equal(single.info.numThreads, 1);
  for (const numThreads of [1, 2, 3]) {
    const r = await runOnce(bytes, { build: 'simd-threads', numThreads }, x);
    assert.equal(r.info.build, 'simd-threads');
    assert.equal(r.info.numThreads, numThreads);
    assert.deepEqual(r.dims, single.dims);
    assert.ok(r.bytes.equals(single.bytes), `${numThreads} threads: outputs differ from the single-threaded build`);
  }
}

test('Node picks the threaded build by default and says why', async () => {
  const session = await Session.create(rec);
  const info = session.backendInfo;
  assert.equal(info.build, 'simd-threads');
  assert.equal(info.threads, true);
  assert.equal(info.numThreads, await autoThreads());
  assert.match(info.reason, /^simd-threads: Node\.js always allows shared memory and threads/);
  assert.match(info.wasmUrl, /kiln-simd-threads\.wasm$/);
  session.release();
});

test('the recognizer is bit-identical with 1, 2 and 3 threads and in the single-threaded build', async () => {
  await checkIdentical(rec, [1, 3, 48, 320], 7);
});

test('the detector is bit-identical with 1, 2 and 3 threads and in the single-threaded build', async () => {
  await checkIdentical(det, [1, 3, 160, 224], 8);
});

test('threads: false and numThreads: 1 load the simd build and say so', async () => {
  const off = await Session.create(rec, { threads: false });
  assert.equal(off.backendInfo.build, 'simd');
  assert.equal(off.backendInfo.threads, false);
  assert.match(off.backendInfo.reason, /not simd-threads: threads are turned off by options\.threads = false/);
  off.release();
  const one = await Session.create(rec, { numThreads: 1 });
  assert.equal(one.backendInfo.build, 'simd');
  assert.match(one.backendInfo.reason, /not simd-threads: options\.numThreads is 1/);
  one.release();
});

test('bad thread options are invalid_argument errors', async () => {
  for (const options of [{ numThreads: -1 }, { numThreads: 2.5 }, { numThreads: 1000 }, { numThreads: '2' }, { threads: 'yes' }])
    await assert.rejects(Session.create(rec, options), (e) => e instanceof KilnError && e.code === 'invalid_argument', JSON.stringify(options));
  assert.throws(() => selectBuild({ build: 'simd-threads', threads: false }, { simd: true, sharedArrayBuffer: true, crossOriginIsolated: true, node: true }),
    (e) => e.code === 'unsupported' && /turned off/.test(e.message));
});

test('selectBuild: threads in an isolated page, simd without isolation, with the reason', () => {
  const page = { simd: true, sharedArrayBuffer: true, crossOriginIsolated: true, node: false };
  const isolated = selectBuild({}, page);
  assert.equal(isolated.build.name, 'simd-threads');
  assert.equal(isolated.reason, 'simd-threads: SharedArrayBuffer and cross-origin isolation are available');
  const plain = selectBuild({}, { ...page, crossOriginIsolated: false, sharedArrayBuffer: false });
  assert.equal(plain.build.name, 'simd');
  assert.match(plain.reason, /^simd: WebAssembly SIMD is available; not simd-threads: the page is not cross-origin isolated/);
  assert.equal(selectBuild({ numThreads: 4 }, page).build.name, 'simd-threads');
  // The pthread worker script sits beside the glue unless mapped on its own.
  const threaded = BUILDS.find((b) => b.name === 'simd-threads');
  assert.match(buildUrls(threaded).worker.href, /\/web\/dist\/kiln-simd-threads\.worker\.js$/);
  assert.equal(buildUrls(threaded, { 'kiln-simd-threads.js': 'https://cdn.example/g.js' }).worker.href, 'https://cdn.example/kiln-simd-threads.worker.js');
  assert.equal(buildUrls(threaded, { 'kiln-simd-threads.worker.js': 'https://cdn.example/w.js' }).worker.href, 'https://cdn.example/w.js');
});
