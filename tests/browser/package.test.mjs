// The package in headless Chromium: it loads in a plain page, the real recognizer's
// outputs match the same package run under Node, a reload comes from the Cache API with
// the network blocked, and worker mode gives the same outputs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { Session, Tensor, readModelInfo } from '../../web/index.js';
import { decodePNG, preprocessRecognizer } from '../../web/ocr.js';
import { maxError } from '../js/helpers.mjs';
import { ROOT, fromBase64Floats, launchBrowser, openPage, recognizerKiln, serve } from './helpers.mjs';

let browser, server, expected;

before(async () => {
  const { kiln, keys } = recognizerKiln();
  server = await serve({ mounts: { '/models/': recognizerKiln().dir, '/keys.txt': keys } });
  browser = await launchBrowser();
  // Node's answer on the same input, with the same package.
  const x = preprocessRecognizer(await decodePNG(fs.readFileSync(`${ROOT}/tests/data/textline.png`)));
  const session = await Session.create(fs.readFileSync(kiln));
  const out = await session.run({ x: new Tensor('float32', x.data, x.dims) });
  expected = out[session.outputNames[0]];
  session.release();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const run = (page, args) => page.evaluate((a) => import('/tests/browser/run-model.js').then((m) => m.recognize(a)), args);

function assertMatchesNode(result) {
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  assert.deepEqual(result.dims, expected.dims);
  const got = fromBase64Floats(result.data);
  const err = maxError(got, expected.data, { atol: 1e-6, rtol: 1e-5 });
  assert.ok(err <= 1, `browser outputs differ from Node's (max scaled error ${err})`);
}

test('the recognizer in a page matches Node; progress covers download, verify and compile', async () => {
  // (the blocked reload below logs failed requests on purpose)
  const { page, errors } = await openPage(browser.context, server.url, undefined, { ignoreNetworkErrors: true });
  const result = await run(page, {});
  console.log(`browser: load ${result.loadMs.toFixed(0)} ms, run ${result.runMs.toFixed(0)} ms`);
  assertMatchesNode(result);
  assert.ok(result.text.length > 0, 'decoded text is empty');
  assert.equal(result.backendInfo.build, 'simd');
  assert.equal(result.backendInfo.threads, false);
  assert.match(result.backendInfo.reason, /not cross-origin isolated/);
  assert.equal(result.backendInfo.wasmUrl, `${server.url}/web/dist/kiln.wasm`);
  assert.equal(result.loadInfo.fromCache, false);
  assert.equal(result.loadInfo.verifiedWhileLoading, true);
  const size = fs.statSync(recognizerKiln().kiln).size;
  assert.equal(result.loadInfo.bytes, size);
  const phases = [...new Set(result.events.map((e) => e.phase))];
  assert.deepEqual(phases, ['download', 'verify', 'compile']);
  const downloads = result.events.filter((e) => e.phase === 'download');
  assert.deepEqual(downloads.at(-1), { phase: 'download', loaded: size, total: size, fromCache: false });
  for (let i = 1; i < downloads.length; ++i) assert.ok(downloads[i].loaded >= downloads[i - 1].loaded);
  const verifies = result.events.filter((e) => e.phase === 'verify');
  const segments = readModelInfo(fs.readFileSync(recognizerKiln().kiln)).segments.length;
  assert.equal(verifies.length, segments, 'one verify event per weight segment');
  assert.equal(verifies.at(-1).loaded, verifies.at(-1).total);
  assert.deepEqual(result.events.at(-1), { phase: 'compile', loaded: 1, total: 1, fromCache: false });
  // A reload with the network blocked for models comes from the Cache API.
  const modelRequests = () => server.requests.filter((r) => r.path === '/models/rec.kiln').length;
  const before = modelRequests();
  await page.route('**/*.kiln', (route) => route.abort());
  await page.reload();
  const again = await run(page, { run: false });
  assert.equal(again.error, undefined, JSON.stringify(again.error));
  assert.equal(again.loadInfo.fromCache, true);
  assert.equal(again.loadInfo.contentHash, result.loadInfo.contentHash);
  assert.equal(modelRequests(), before, 'the cached reload went to the network');
  assert.ok(again.events.some((e) => e.phase === 'download' && e.fromCache && e.loaded === size));
  // cache: false goes to the (blocked) network and fails as an i/o error.
  const blocked = await run(page, { options: { cache: false }, run: false });
  assert.equal(blocked.error?.code, 'io', JSON.stringify(blocked));
  await page.unroute('**/*.kiln');
  assert.deepEqual(errors, []);
  await page.close();
});

test('worker mode runs the session in a Web Worker with the same outputs', async () => {
  const { page, errors } = await openPage(browser.context, server.url);
  // The main thread keeps ticking while the worker loads and runs the model.
  await page.evaluate(() => {
    window.ticks = 0;
    window.longestGap = 0;
    let last = performance.now();
    window.ticker = setInterval(() => {
      const now = performance.now();
      window.longestGap = Math.max(window.longestGap, now - last);
      last = now;
      window.ticks += 1;
    }, 5);
  });
  const result = await run(page, { options: { worker: true, cache: false }, transfer: true });
  assertMatchesNode(result);
  assert.equal(result.inputBytesAfterRun, 0, 'run(feeds, { transfer: true }) did not transfer the input');
  assert.equal(result.backendInfo.worker, true);
  assert.equal(result.isSession, true);
  assert.ok(result.events.some((e) => e.phase === 'verify'), 'progress events cross from the worker');
  // A Response from the page's own fetch crosses into the worker as a transferred stream.
  const fromResponse = await page.evaluate(async () => {
    const { Session } = await import('/web/index.js');
    const s = await Session.create(await fetch('/models/rec.kiln'), { worker: true });
    const info = { loadInfo: s.loadInfo, worker: s.backendInfo.worker, inputs: s.inputNames };
    s.release();
    return info;
  });
  assert.equal(fromResponse.worker, true);
  assert.equal(fromResponse.loadInfo.bytes, fs.statSync(recognizerKiln().kiln).size);
  assert.equal(fromResponse.loadInfo.verifiedWhileLoading, true);
  assert.deepEqual(fromResponse.inputs, ['x']);
  const { ticks, longestGap } = await page.evaluate(() => ({ ticks: window.ticks, longestGap: window.longestGap }));
  assert.ok(ticks > 0);
  // A run on the main thread takes seconds here; the margin absorbs a loaded machine's timer jitter.
  assert.ok(longestGap < 2500, `the main thread was blocked for ${longestGap} ms`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('imageToTensor reads ImageData, ImageBitmap and canvas alike in a page', async () => {
  const { page, errors } = await openPage(browser.context, server.url);
  const r = await page.evaluate(async () => {
    const { imageToTensor, softmax, topK } = await import('/web/index.js');
    const canvas = document.createElement('canvas');
    canvas.width = 5;
    canvas.height = 3;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, 5, 3);
    ctx.fillStyle = 'rgb(200, 10, 40)';
    ctx.fillRect(1, 1, 3, 1);
    const imageData = ctx.getImageData(0, 0, 5, 3);
    const fromData = imageToTensor(imageData, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    const fromBitmap = imageToTensor(await createImageBitmap(canvas), { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    const fromCanvas = imageToTensor(canvas, { layout: 'nhwc', dtype: 'uint8' });
    const resized = imageToTensor(canvas, { width: 10, height: 6 });
    const best = topK(softmax(new Float32Array([1, 3, 2])), 2);
    return {
      dims: [fromData.dims, fromBitmap.dims, fromCanvas.dims, resized.dims],
      data: Array.from(fromData.data), bitmap: Array.from(fromBitmap.data),
      middle: Array.from(fromCanvas.data.subarray((1 * 5 + 2) * 3, (1 * 5 + 2) * 3 + 3)),
      resizedRange: [Math.min(...resized.data), Math.max(...resized.data)],
      best: best.map((e) => e.index),
    };
  });
  assert.deepEqual(r.dims, [[1, 3, 3, 5], [1, 3, 3, 5], [1, 3, 5, 3], [1, 3, 6, 10]]);
  assert.deepEqual(r.bitmap, r.data);
  assert.deepEqual(r.middle, [200, 10, 40]);
  assert.equal(r.data[0], 1); // white -> (1 - 0.5) / 0.5
  assert.ok(Math.abs(r.data[1 * 5 + 2] - (200 / 255 - 0.5) / 0.5) < 1e-6);
  assert.ok(r.resizedRange[0] >= 0 && r.resizedRange[1] <= 1);
  assert.deepEqual(r.best, [1, 2]);
  assert.deepEqual(errors, []);
  await page.close();
});
