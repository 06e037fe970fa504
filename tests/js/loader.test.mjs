// The streaming loader and build selection under Node: Session.create over HTTP from a
// local server (progress, per-segment hashes checked while downloading, Range resume,
// segment refetch, truncation), from a Response, and selectBuild/buildUrls decisions.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { KilnError, Session, Tensor, readModelInfo } from '../../web/index.js';
import { BUILDS, buildUrls, selectBuild } from '../../web/backend.js';
import { fetchModel } from '../../web/fetch-model.js';
import { startServer } from '../../scripts/serve.mjs';
import { convert, maxError, randomFloats, requireBuilt } from './helpers.mjs';
import { modelPath } from '../../scripts/fetch-models.mjs';

let server, bytes, info, file, hook = null;

before(async () => {
  requireBuilt();
  file = convert(modelPath('recognizer'), 'rec-loader');
  bytes = fs.readFileSync(file);
  info = readModelInfo(bytes);
  server = await startServer({
    root: '/nonexistent',
    mounts: { '/m/': file.replace(/\/[^/]*$/, ''), '/wasm/': new URL('../../web/dist/', import.meta.url).pathname },
    onRequest: (req, res) => hook?.(req, res) ?? false,
  });
});

after(() => server?.close());

test('fetchModel streams over HTTP with progress and checks every segment', async () => {
  const events = [];
  const r = await fetchModel(`${server.url}/m/rec-loader.kiln`, { onProgress: (e) => events.push(e) });
  assert.deepEqual(Buffer.from(r.bytes), bytes);
  assert.equal(r.fromCache, false);
  assert.equal(r.info.segments.length, info.segments.length);
  const verify = events.filter((e) => e.phase === 'verify');
  assert.equal(verify.length, info.segments.length);
  assert.equal(verify.at(-1).loaded, info.segments.reduce((n, s) => n + s.length, 0));
  assert.equal(events.filter((e) => e.phase === 'download').at(-1).loaded, bytes.length);
});

test('Session.create from a URL matches Session.create from bytes', async () => {
  const x = new Tensor('float32', randomFloats(3 * 48 * 64, 5), [1, 3, 48, 64]);
  const a = await Session.create(new URL(`${server.url}/m/rec-loader.kiln`));
  const b = await Session.create(bytes);
  assert.equal(a.loadInfo.verifiedWhileLoading, true);
  assert.equal(b.loadInfo.verifiedWhileLoading, false);
  assert.equal(a.backendInfo.build, 'simd-threads');  // Node always allows threads
  const ya = (await a.run({ x }))[a.outputNames[0]];
  const yb = (await b.run({ x }))[b.outputNames[0]];
  assert.ok(maxError(ya.data, yb.data) <= 1);
  a.release();
  b.release();
  // A Response (e.g. from the caller's own fetch) works the same way.
  const c = await Session.create(await fetch(`${server.url}/m/rec-loader.kiln`));
  assert.deepEqual(c.outputs, b.outputs);
  c.release();
});

test('a cut connection resumes with Range; a corrupted segment is refetched', async () => {
  let full = 0;
  hook = (req, res) => {
    if (req.headers.range || full++ > 0) return false;
    res.writeHead(200, { 'Content-Length': String(bytes.length) });
    res.write(bytes.subarray(0, 5_000_000), () => res.destroy());
    return true;
  };
  const seen = server.requests.length;
  const r = await fetchModel(`${server.url}/m/rec-loader.kiln`);
  assert.deepEqual(Buffer.from(r.bytes), bytes);
  assert.match(server.requests.slice(seen).map((q) => q.range ?? '').join(' '), /bytes=\d+-/);

  const seg = info.segments[0];
  full = 0;
  hook = (req, res) => {
    if (req.headers.range || full++ > 0) return false;
    const bad = Buffer.from(bytes);
    bad[seg.offset] ^= 1;
    res.writeHead(200, { 'Content-Length': String(bad.length) });
    res.end(bad);
    return true;
  };
  const r2 = await fetchModel(`${server.url}/m/rec-loader.kiln`);
  assert.deepEqual(Buffer.from(r2.bytes), bytes);
  assert.equal(server.requests.at(-1).range, `bytes=${seg.offset}-${seg.offset + seg.length - 1}`);
  hook = null;
});

test('truncated and corrupted downloads are invalid_model errors', async () => {
  hook = (req, res) => {
    res.writeHead(200, {});
    res.end(req.url.includes('short') ? bytes.subarray(0, 50_000) : Buffer.from(bytes).fill(7, info.segments[1].offset, info.segments[1].offset + 10));
    return true;
  };
  await assert.rejects(fetchModel(`${server.url}/m/short.kiln`), (e) => e instanceof KilnError && e.code === 'invalid_model' && /truncated/.test(e.message));
  await assert.rejects(Session.create(`${server.url}/m/bad.kiln`), (e) => e instanceof KilnError && e.code === 'invalid_model' && /weight segment 1/.test(e.message));
  hook = null;
  await assert.rejects(Session.create(`${server.url}/m/missing.kiln`), (e) => e.code === 'io' && /HTTP 404/.test(e.message));
});

test('selectBuild prefers threads only when isolated, and says why not', () => {
  const env = { simd: true, sharedArrayBuffer: true, crossOriginIsolated: false, node: false };
  const plain = selectBuild({}, env);
  assert.equal(plain.build.name, 'simd');
  assert.match(plain.reason, /not simd-threads: the page is not cross-origin isolated/);
  const noSab = selectBuild({}, { ...env, sharedArrayBuffer: false, crossOriginIsolated: true });
  assert.match(noSab.reason, /SharedArrayBuffer is not available/);
  const isolated = selectBuild({}, { ...env, crossOriginIsolated: true });
  const threads = BUILDS.find((b) => b.name === 'simd-threads');
  // Until the threaded build ships, an isolated page still gets simd, with that reason.
  if (!threads.shipped) assert.match(isolated.reason, /does not ship the simd-threads build/);
  else assert.equal(isolated.build.name, 'simd-threads');
  assert.throws(() => selectBuild({}, { ...env, simd: false }), (e) => e.code === 'unsupported' && /SIMD/.test(e.message));
  assert.throws(() => selectBuild({ build: 'simd-threads' }, env), (e) => e.code === 'unsupported');
  assert.throws(() => selectBuild({ build: 'avx' }, env), (e) => e.code === 'invalid_argument');
  assert.equal(selectBuild({ build: 'simd' }, env).reason, 'simd requested by options.build');
});

test('buildUrls: the package default and wasmPaths overrides', async () => {
  const simd = BUILDS.find((b) => b.name === 'simd');
  const own = buildUrls(simd);
  assert.equal(own.js, null);
  assert.ok(own.wasm.href.endsWith('/web/dist/kiln.wasm'));
  assert.equal(buildUrls(simd, 'https://cdn.example/kiln/').wasm.href, 'https://cdn.example/kiln/kiln.wasm');
  assert.equal(buildUrls(simd, 'https://cdn.example/kiln').wasm.href, 'https://cdn.example/kiln/kiln.wasm');
  const obj = buildUrls(simd, { 'kiln.wasm': 'https://cdn.example/x.wasm' });
  assert.equal(obj.wasm.href, 'https://cdn.example/x.wasm');
  assert.throws(() => buildUrls(simd, 42), (e) => e.code === 'invalid_argument');
  // wasmPaths served over HTTP: the .wasm is fetched from there (here, in Node).
  const s = await Session.create(bytes, { wasmPaths: `${server.url}/wasm/`, threads: false });
  assert.equal(s.backendInfo.wasmUrl, `${server.url}/wasm/kiln.wasm`);
  assert.ok(server.requests.some((r) => r.path === '/wasm/kiln.wasm'));
  s.release();
  // The threaded build (Node's default) too.
  const t = await Session.create(bytes, { wasmPaths: `${server.url}/wasm/` });
  assert.equal(t.backendInfo.wasmUrl, `${server.url}/wasm/kiln-simd-threads.wasm`);
  assert.ok(server.requests.some((r) => r.path === '/wasm/kiln-simd-threads.wasm'));
  t.release();
  await assert.rejects(Session.create(bytes, { wasmPaths: `${server.url}/m/`, threads: false }), (e) => e.code === 'io' && /kiln\.wasm/.test(e.message));
});

test('sha256 pins the content hash; signal aborts the download', async () => {
  const url = `${server.url}/m/rec-loader.kiln`;
  const first = await Session.create(url);
  const hash = first.loadInfo.contentHash;
  assert.match(hash, /^[0-9a-f]{64}$/);
  first.release();
  (await Session.create(url, { sha256: hash.toUpperCase() })).release();
  await assert.rejects(Session.create(url, { sha256: '0'.repeat(64) }),
    (e) => e.code === 'invalid_model' && e.message.includes(`content hash ${hash}`));
  // The server stalls after the first bytes; aborting must end the wait.
  hook = (req, res) => {
    res.writeHead(200, { 'Content-Length': String(bytes.length) });
    res.write(bytes.subarray(0, 1000));
    return true;
  };
  const controller = new AbortController();
  const pending = Session.create(url, { signal: controller.signal });
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(pending, (e) => e.name === 'AbortError');
  hook = null;
});

test('worker mode needs Web Workers; the Interpreter has none', async () => {
  await assert.rejects(Session.create(bytes, { worker: true }), (e) => e instanceof KilnError && e.code === 'unsupported' && /Web Workers/.test(e.message));
  const { Interpreter } = await import('../../web/index.js');
  await assert.rejects(Interpreter.create(bytes, { worker: true }), (e) => e.code === 'invalid_argument');
  await assert.rejects(Session.create(bytes, { onProgress: 'yes' }), (e) => e.code === 'invalid_argument');
});

test('a table that describes an impossible layout is invalid_model, not a huge allocation', async () => {
  // Patch the last segment's length (a uint64 in the table) to 2^40.
  const last = info.segments.at(-1);
  const table = bytes.subarray(0, info.tableBytes);
  const needle = Buffer.alloc(8);
  needle.writeBigUInt64LE(BigInt(last.length));
  const at = Buffer.from(table).indexOf(needle);
  assert.ok(at > 0 && Buffer.from(table).indexOf(needle, at + 1) < 0, 'the length field is not unique in the table');
  const bad = Buffer.from(bytes);
  bad.writeBigUInt64LE(2n ** 40n, at);
  assert.equal(readModelInfo(bad).segments.at(-1).length, 2 ** 40);
  hook = (req, res) => {
    res.writeHead(200, {});
    res.end(bad);
    return true;
  };
  await assert.rejects(fetchModel(`${server.url}/m/huge.kiln`), (e) => e instanceof KilnError && e.code === 'invalid_model' && /describes a \d+-byte file/.test(e.message));
  hook = null;
});
