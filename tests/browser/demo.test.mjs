// The web demo (npm run demo:web) in Chromium: served cross-origin isolated, it loads the
// recognizer with progress, reads typed text rendered into a canvas, renders a page that
// is not blank, and a reload loads the model from the Cache API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { startDemo } from '../../scripts/demo-web.mjs';
import { decodePNG } from '../../web/ocr.js';
import { launchBrowser, openPage, tempDir } from './helpers.mjs';

let browser, server;

before(async () => {
  server = await startDemo({ cacheDir: path.join(tempDir(), 'demo-cache') });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const READY = '#load-status[data-state="ready"]';

async function resultText(page, previous) {
  await page.waitForFunction((prev) => {
    const el = document.getElementById('result');
    return el.dataset.state === 'done' && el.textContent !== prev;
  }, previous, { timeout: 60_000 });
  return page.textContent('#result');
}

test('the demo loads the model, reads typed text, and reloads from the cache', async () => {
  const { page, errors } = await openPage(browser.context, server.url, '/web/demo/');
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  await page.waitForSelector(READY, { timeout: 60_000 });
  assert.equal(await page.getAttribute('#load-status', 'data-source'), 'network');
  const first = await resultText(page, '—');
  assert.equal(first.replace(/\s+/g, ' ').trim(), 'Hello kiln 2026');
  // Isolated, so the worker runs the threaded build.
  assert.match(await page.textContent('#backend'), /Build: simd-threads in a Web Worker, \d+ threads? — simd-threads: SharedArrayBuffer and cross-origin isolation are available/);
  assert.match(await page.textContent('#latency'), /run \d+\.\d ms/);

  await page.fill('#text', 'OCR 42');
  assert.equal((await resultText(page, first)).trim(), 'OCR 42');

  // Not blank: the screenshot has plenty of dark (text) and coloured pixels.
  const shot = await decodePNG(await page.screenshot({ fullPage: true }));
  let dark = 0, colored = 0;
  for (let i = 0; i < shot.width * shot.height; i++) {
    const [r, g, b] = [shot.data[i * shot.channels], shot.data[i * shot.channels + 1], shot.data[i * shot.channels + 2]];
    if (r + g + b < 200) dark++;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) colored++;
  }
  const total = shot.width * shot.height;
  assert.ok(dark > total * 0.002, `only ${dark} dark pixels of ${total}`);
  assert.ok(colored > total * 0.001, `only ${colored} coloured pixels of ${total}`);

  const requests = server.requests.filter((r) => r.path === '/models/rec.kiln').length;
  await page.reload();
  await page.waitForSelector(READY, { timeout: 60_000 });
  assert.equal(await page.getAttribute('#load-status', 'data-source'), 'cache');
  assert.equal(server.requests.filter((r) => r.path === '/models/rec.kiln').length, requests);
  assert.equal((await resultText(page, '—')).replace(/\s+/g, ' ').trim(), 'Hello kiln 2026');
  assert.deepEqual(errors, []);
});

test('the ten-line page of the README runs a model', async () => {
  const { page, errors } = await openPage(browser.context, server.url, '/web/demo/minimal.html');
  await page.waitForFunction(() => document.body.textContent.includes(':'), null, { timeout: 60_000 });
  assert.equal(await page.textContent('body'), 'simd-threads: [1,40,6625]');  // the demo server is isolated
  assert.deepEqual(errors, []);
});
