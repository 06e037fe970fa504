// Threads in Chromium: served with COOP/COEP (cross-origin isolated) the package picks
// the threaded build, on the page's main thread and in worker mode, and its outputs equal
// the single-threaded build's under Node bit for bit; served without isolation it picks
// the simd build and backendInfo says why.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { Session, Tensor } from '../../web/index.js';
import { decodePNG, preprocessRecognizer } from '../../web/ocr.js';
import { ROOT, launchBrowser, openPage, recognizerKiln, serve } from './helpers.mjs';

let browser, isolated, plain, expected;

before(async () => {
  const { kiln, keys } = recognizerKiln();
  const mounts = { '/models/': recognizerKiln().dir, '/keys.txt': keys };
  isolated = await serve({ mounts, isolated: true });
  plain = await serve({ mounts });
  browser = await launchBrowser();
  const x = preprocessRecognizer(await decodePNG(fs.readFileSync(`${ROOT}/tests/data/textline.png`)));
  const session = await Session.create(fs.readFileSync(kiln), { threads: false });
  const out = await session.run({ x: new Tensor('float32', x.data, x.dims) });
  expected = Buffer.from(out[session.outputNames[0]].data.buffer).toString('base64');
  session.release();
});

after(async () => {
  await browser?.close();
  await isolated?.close();
  await plain?.close();
});

const run = (page, args) => page.evaluate((a) => import('/tests/browser/run-model.js').then((m) => m.recognize(a)), args);

test('isolated page: the threaded build runs on the main thread and in a worker, outputs identical', async () => {
  const { page, errors } = await openPage(browser.context, isolated.url);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  for (const options of [{ cache: false }, { cache: false, numThreads: 3 }, { cache: false, worker: true }]) {
    const result = await run(page, { options });
    assert.equal(result.error, undefined, JSON.stringify(result.error));
    const info = result.backendInfo;
    assert.equal(info.build, 'simd-threads', JSON.stringify(options));
    assert.equal(info.threads, true);
    assert.equal(info.crossOriginIsolated, true);
    assert.equal(info.worker, options.worker === true);
    assert.equal(info.numThreads, options.numThreads ?? Math.min(4, await page.evaluate(() => navigator.hardwareConcurrency)));
    assert.equal(info.reason, 'simd-threads: SharedArrayBuffer and cross-origin isolation are available');
    assert.equal(info.wasmUrl, `${isolated.url}/web/dist/kiln-simd-threads.wasm`);
    assert.equal(result.data, expected, `${JSON.stringify(options)}: outputs differ from the single-threaded build`);
    console.log(`browser threads ${JSON.stringify(options)}: ${info.numThreads} threads, run ${result.runMs.toFixed(0)} ms`);
  }
  // threads: false still gets the simd build there, and says why.
  const off = await run(page, { options: { cache: false, threads: false } });
  assert.equal(off.backendInfo.build, 'simd');
  assert.match(off.backendInfo.reason, /not simd-threads: threads are turned off by options\.threads = false/);
  assert.equal(off.data, expected);
  assert.deepEqual(errors, []);
});

test('page without isolation: the simd build, and backendInfo says why not threads', async () => {
  const { page, errors } = await openPage(browser.context, plain.url);
  assert.equal(await page.evaluate(() => crossOriginIsolated), false);
  for (const options of [{ cache: false, numThreads: 2 }, { cache: false, worker: true }]) {
    const result = await run(page, { options });
    assert.equal(result.error, undefined, JSON.stringify(result.error));
    const info = result.backendInfo;
    assert.equal(info.build, 'simd');
    assert.equal(info.threads, false);
    assert.equal(info.numThreads, 1);
    assert.equal(info.crossOriginIsolated, false);
    assert.match(info.reason, /^simd: WebAssembly SIMD is available; not simd-threads: the page is not cross-origin isolated \(serve it with COOP: same-origin and COEP: require-corp\)$/);
    assert.equal(result.data, expected);
  }
  // Insisting on the threaded build there is an error that names the reason.
  const forced = await run(page, { options: { cache: false, build: 'simd-threads' } });
  assert.equal(forced.error?.code, 'unsupported');
  assert.match(forced.error.message, /simd-threads build cannot run here: the page is not cross-origin isolated/);
  assert.deepEqual(errors, []);
});
