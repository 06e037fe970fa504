// The streaming loader against a misbehaving server, in Chromium: a download cut off
// midway resumes with a Range request, a corrupted weight segment is detected and
// refetched alone, persistent corruption and truncation are reported as such (KilnError
// 'invalid_model') and never cached, and a damaged cached copy is replaced.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { readModelInfo } from '../../web/index.js';
import { launchBrowser, openPage, recognizerKiln, serve } from './helpers.mjs';

let browser, server, bytes, info, page, errors;
// Per query string (?case=...): how to answer full GETs of /models/rec.kiln.
const behaviours = new Map();

function onRequest(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const behave = behaviours.get(url.searchParams.get('case'));
  if (url.pathname !== '/models/rec.kiln' || !behave) return false;
  return behave(req, res) ?? false;
}

before(async () => {
  bytes = fs.readFileSync(recognizerKiln().kiln);
  info = readModelInfo(bytes);
  server = await serve({ onRequest });
  browser = await launchBrowser();
  ({ page, errors } = await openPage(browser.context, server.url, undefined, { ignoreNetworkErrors: true }));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const load = (model, options = {}) =>
  page.evaluate((a) => import('/tests/browser/run-model.js').then((m) => m.recognize(a)), { model, options, keys: null, run: false });
const cached = (model) => page.evaluate((u) => import('/tests/browser/run-model.js').then((m) => m.cached(u)), model);
const requestsFor = (name) => server.requests.filter((r) => r.path === '/models/rec.kiln' && r.search === `?case=${name}`);

// Answers the first full GET (no Range header) with `send`, everything else normally.
function firstFullGet(send) {
  let done = false;
  return (req, res) => {
    if (req.headers.range || done) return false;
    done = true;
    send(req, res);
    return true;
  };
}

test('a download cut off midway resumes with a Range request', async () => {
  const cut = 4_000_000;
  behaviours.set('resume', firstFullGet((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length), ETag: '"v1"', 'Accept-Ranges': 'bytes' });
    res.write(bytes.subarray(0, cut), () => setTimeout(() => res.destroy(), 50));
  }));
  const result = await load('/models/rec.kiln?case=resume');
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  assert.equal(result.loadInfo.bytes, bytes.length);
  const ranges = requestsFor('resume').map((r) => r.range);
  assert.equal(ranges.length, 2);
  assert.equal(ranges[0], null);
  const start = Number(/^bytes=(\d+)-$/.exec(ranges[1])?.[1]);
  assert.ok(start > 0 && start <= cut, `resumed at ${ranges[1]}`);
  assert.equal((await cached('/models/rec.kiln?case=resume')).bytes, bytes.length);
});

test('a corrupted segment is detected and refetched alone', async () => {
  const seg = info.segments[1];
  behaviours.set('flip', firstFullGet((req, res) => {
    const bad = Buffer.from(bytes);
    bad[seg.offset + 1000] ^= 0x40;
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bad.length) });
    res.end(bad);
  }));
  const result = await load('/models/rec.kiln?case=flip');
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  const ranges = requestsFor('flip').map((r) => r.range);
  assert.deepEqual(ranges, [null, `bytes=${seg.offset}-${seg.offset + seg.length - 1}`]);
  const stored = await cached('/models/rec.kiln?case=flip');
  assert.equal(stored.hash, result.loadInfo.contentHash);
  // The cached copy is the good one: a reload from cache verifies.
  const again = await load('/models/rec.kiln?case=flip');
  assert.equal(again.loadInfo.fromCache, true);
});

test('persistent corruption is an invalid_model error and is not cached', async () => {
  const seg = info.segments[2];
  const bad = Buffer.from(bytes);
  bad[seg.offset + seg.length - 1] ^= 0x01;
  fs.writeFileSync(`${recognizerKiln().dir}/bad.kiln`, bad);
  const result = await load('/models/bad.kiln');
  assert.equal(result.error?.name, 'KilnError');
  assert.equal(result.error.code, 'invalid_model');
  assert.match(result.error.message, /weight segment 2 .* does not match its SHA-256 .*also after fetching it again/);
  assert.equal(await cached('/models/bad.kiln'), null);
});

test('a truncated file is an invalid_model error and is not cached', async () => {
  fs.writeFileSync(`${recognizerKiln().dir}/short.kiln`, bytes.subarray(0, bytes.length - 1000));
  const result = await load('/models/short.kiln');
  assert.equal(result.error?.code, 'invalid_model', JSON.stringify(result));
  assert.match(result.error.message, new RegExp(`truncated .* got ${bytes.length - 1000} of ${bytes.length} bytes`));
  assert.equal(await cached('/models/short.kiln'), null);
  // Not a .kiln at all (e.g. an HTML error page served with status 200).
  const html = await load('/tests/browser/blank.html');
  assert.equal(html.error?.code, 'invalid_model');
  assert.match(html.error.message, /not a \.kiln file/);
});

test('a damaged cached copy is replaced from the network', async () => {
  const url = '/models/rec.kiln?case=cache';
  const first = await load(url);
  assert.equal(first.loadInfo.fromCache, false);
  // Overwrite the cached copy with a corrupted one under the same content hash header.
  await page.evaluate(async ({ u, seg }) => {
    const cache = await caches.open('kiln-models-v1');
    const full = new URL(u, location.href).href;
    const hit = await cache.match(full);
    const data = new Uint8Array(await hit.arrayBuffer());
    data[seg] ^= 0xff;
    await cache.put(full, new Response(data, { headers: hit.headers }));
  }, { u: url, seg: info.segments[0].offset + 7 });
  const before = requestsFor('cache').length;
  const second = await load(url);
  assert.equal(second.error, undefined, JSON.stringify(second.error));
  assert.equal(second.loadInfo.fromCache, false, 'the damaged copy was used');
  assert.equal(requestsFor('cache').length, before + 1);
  const third = await load(url);
  assert.equal(third.loadInfo.fromCache, true);
  assert.deepEqual(errors, []);
});

test('an AbortSignal ends a stalled download, on the main thread and in worker mode', async () => {
  behaviours.set('stall', (req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) });
    res.write(bytes.subarray(0, 100_000)); // and nothing more
    return true;
  });
  const names = await page.evaluate(async () => {
    const { Session } = await import('/web/index.js');
    const out = [];
    for (const worker of [false, true]) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      try {
        await Session.create(`/models/rec.kiln?case=stall&worker=${worker}`, { worker, signal: controller.signal, cache: false });
        out.push('loaded');
      } catch (e) {
        out.push(e.name);
      }
    }
    return out;
  });
  assert.deepEqual(names, ['AbortError', 'AbortError']);
});
