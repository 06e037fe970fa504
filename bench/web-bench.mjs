// `npm run bench:web`: kiln vs onnxruntime-web in headless Chromium, for the targets
//   - Session.create → first result on a cached model ≤ 0.5× onnxruntime-web's
//   - package + wasm gzipped ≤ 1/5 of onnxruntime-web's
// A benchmark, not a test: it prints a table and asserts nothing about speed. It does fail
// when a runtime errors, when kiln's model did not come from the Cache API, or when the
// two runtimes' outputs disagree (so a broken model cannot produce a fast number).
//
// Per model: the ONNX file is converted to .kiln with the native CLI; one warm-up page
// loads each runtime (filling kiln's Cache API entry and the browser HTTP cache for the
// .onnx, the scripts and the .wasm files), then REPS fresh pages per runtime, alternating
// kiln/ort, each time Session.create(url) → first run; then one page per runtime for the
// warm-run median (1 thread), after which that page times a second create → first result
// (runtime already initialized). Every file is served cacheable (max-age) for both runtimes.
//
// Options (env): KILN_BENCH_REPS (default 7), KILN_BENCH_MODELS (comma-separated keys),
// KILN_CLI, KILN_CHROMIUM.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import { startServer } from '../scripts/serve.mjs';
import { modelPath } from '../scripts/fetch-models.mjs';
import { KILN_CLI, ROOT, requireBuilt } from '../tests/js/helpers.mjs';
import { launchBrowser } from '../tests/browser/helpers.mjs';

const REPS = Number(process.env.KILN_BENCH_REPS ?? 7);
const ORT_DIST = 'node_modules/onnxruntime-web/dist';

const MODELS = [
  { key: 'recognizer', label: 'OCR recognizer', inputs: [{ name: 'x', type: 'float32', dims: [1, 3, 48, 320] }] },
  { key: 'classifier', label: 'OCR classifier', inputs: [{ name: 'x', type: 'float32', dims: [1, 3, 48, 192] }] },
  { key: 'blazeface', label: 'BlazeFace (NHWC)', inputs: [{ name: 'input:0', type: 'float32', dims: [1, 128, 128, 3] }] },
  {
    key: 'silero',
    label: 'Silero VAD op18 ifless',
    inputs: [
      { name: 'input', type: 'float32', dims: [1, 512], lo: -0.5, hi: 0.5 },
      { name: 'state', type: 'float32', dims: [2, 1, 128], value: 0 },
      { name: 'sr', type: 'int64', dims: [], value: 16000 },
    ],
  },
].filter((m) => !process.env.KILN_BENCH_MODELS || process.env.KILN_BENCH_MODELS.split(',').includes(m.key));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;

// Models: <tmp>/<key>.kiln (converted) and <tmp>/<key>.onnx (a link to the cached file).
function prepareModels(dir) {
  requireBuilt();
  for (const m of MODELS) {
    const onnx = modelPath(m.key);
    if (!fs.existsSync(onnx)) throw new Error(`${onnx} missing: run \`npm run fetch-models\``);
    fs.symlinkSync(onnx, path.join(dir, `${m.key}.onnx`));
    execFileSync(KILN_CLI, ['convert', onnx, '-o', path.join(dir, `${m.key}.kiln`)], { stdio: ['ignore', 'pipe', 'pipe'] });
    m.bytes = { onnx: fs.statSync(onnx).size, kiln: fs.statSync(path.join(dir, `${m.key}.kiln`)).size };
  }
}

// One fresh page of the bench, runs one measurement, closes the page.
async function measure(context, baseUrl, runtime, args) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
  try {
    await page.goto(`${baseUrl}/bench/web/index.html`);
    await page.waitForFunction(() => window.bench !== undefined);
    const result = await page.evaluate(([rt, a]) => window.bench[rt](a), [runtime, args]);
    if (errors.length) throw new Error(`${runtime}: ${errors.join('; ')}`);
    return result;
  } finally {
    await page.close();
  }
}

// The outputs of both runtimes must agree (sum of |y| within 1e-3 relative, same dims).
function checkAgreement(label, k, o) {
  const same = JSON.stringify(k.dims) === JSON.stringify(o.dims) &&
    Math.abs(k.abs - o.abs) <= 1e-3 * Math.max(1, Math.abs(o.abs)) &&
    Math.abs(k.sum - o.sum) <= 1e-3 * Math.max(1, o.abs);
  if (!same) throw new Error(`${label}: kiln and onnxruntime-web disagree: kiln ${JSON.stringify(k)} vs ort ${JSON.stringify(o)}`);
}

async function benchModel(context, baseUrl, server, m) {
  const kilnArgs = { url: `/models/${m.key}.kiln`, inputs: m.inputs };
  const ortArgs = { url: `/models/${m.key}.onnx`, inputs: m.inputs };
  // Warm-up: fills the Cache API (kiln) and the HTTP cache (ort, and both runtimes' scripts/.wasm).
  const k0 = await measure(context, baseUrl, 'kiln', kilnArgs);
  const o0 = await measure(context, baseUrl, 'ort', ortArgs);
  checkAgreement(m.label, k0.output, o0.output);
  const before = server.requests.length;
  const kiln = [], ort = [];
  for (let i = 0; i < REPS; i++) {
    // Alternate which runtime goes first so drift in machine load hits both alike.
    const order = i % 2 ? ['ort', 'kiln'] : ['kiln', 'ort'];
    for (const rt of order) {
      const r = await measure(context, baseUrl, rt, rt === 'kiln' ? kilnArgs : ortArgs);
      if (rt === 'kiln' && !r.fromCache) throw new Error(`${m.label}: kiln did not load the model from the Cache API`);
      (rt === 'kiln' ? kiln : ort).push(r);
    }
  }
  // With warm caches the timed pages should fetch nothing but (at most) the bench page itself.
  const network = [...new Set(server.requests.slice(before).map((r) => r.path))].filter((p) => !p.startsWith('/bench/web/'));
  const kw = await measure(context, baseUrl, 'kiln', { ...kilnArgs, warm: {} });
  const ow = await measure(context, baseUrl, 'ort', { ...ortArgs, warm: {} });
  const row = {
    model: m.label,
    kilnFirst: median(kiln.map((r) => r.firstResultMs)),
    ortFirst: median(ort.map((r) => r.firstResultMs)),
    kilnCreate: median(kiln.map((r) => r.createMs)),
    kilnReady: median(kiln.map((r) => r.readyMs)),
    kilnLoad: median(kiln.map((r) => r.loadMs)),
    kilnFirstRun: median(kiln.map((r) => r.firstRunMs)),
    ortFirstRun: median(ort.map((r) => r.firstRunMs)),
    ortCreate: median(ort.map((r) => r.createMs)),
    kilnWarm: kw.warmMedianMs,
    ortWarm: ow.warmMedianMs,
    warmRuns: [kw.warmRuns, ow.warmRuns],
    second: [kw.secondFirstResultMs, ow.secondFirstResultMs],
    network,
    build: k0.build,
    threads: k0.threads,
    bytes: m.bytes,
  };
  console.error(`  ${m.label}: kiln ${kiln.map((r) => ms(r.firstResultMs)).join(' ')} ms | ort ${ort.map((r) => ms(r.firstResultMs)).join(' ')} ms` +
    ` | warm ${ms(row.kilnWarm)} vs ${ms(row.ortWarm)} ms | fetched from the server while timed: ${network.join(', ') || 'nothing'}`);
  return row;
}

// Raw and gzip -9 bytes of a file list.
function sizeOf(files) {
  let raw = 0, gz = 0;
  for (const f of files) {
    const bytes = fs.readFileSync(path.join(ROOT, f));
    raw += bytes.length;
    gz += zlib.gzipSync(bytes, { level: 9 }).length;
  }
  return { files, raw, gz };
}

function packageSizes(ortRequested, kilnRequested) {
  const web = fs.readdirSync(path.join(ROOT, 'web')).filter((f) => f.endsWith('.js')).map((f) => `web/${f}`);
  const generated = [];
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else generated.push(p);
    }
  };
  walk('web/generated');
  const kiln = sizeOf([...web.sort(), ...generated.sort(), 'web/dist/kiln.js', 'web/dist/kiln.wasm']);
  return { kiln, kilnPage: sizeOf(kilnRequested), ort: sizeOf(ortRequested) };
}

function printTable(rows) {
  const head = ['model', 'kiln create→first result', 'ort create→first result', 'ratio', 'kiln warm run', 'ort warm run', 'ratio'];
  const lines = rows.map((r) => [r.model, `${ms(r.kilnFirst)} ms`, `${ms(r.ortFirst)} ms`, `${(r.kilnFirst / r.ortFirst).toFixed(2)}×`,
    `${ms(r.kilnWarm)} ms`, `${ms(r.ortWarm)} ms`, `${(r.kilnWarm / r.ortWarm).toFixed(2)}×`]);
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map((_, i) => (i ? '---:' : '---')).join('|')}|`);
  for (const l of lines) console.log(`| ${l.join(' | ')} |`);
}

async function main() {
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-webbench-'));
  let server, browser;
  try {
    prepareModels(dir);
    server = await startServer({
      root: ROOT,
      mounts: { '/models/': dir },
      // serve.mjs sends no-store; the bench wants warm browser caches for both runtimes.
      onRequest: (req, res) => {
        res.setHeader('Cache-Control', 'public, max-age=3600');
        return false;
      },
    });
    browser = await launchBrowser();
    const version = browser.context.browser()?.version() ?? (await (async () => {
      const p = await browser.context.newPage();
      const ua = await p.evaluate(() => navigator.userAgent);
      await p.close();
      return ua;
    })());
    console.error(`kiln web bench: ${MODELS.length} models, ${REPS} alternating repetitions each; Chromium ${version}; ` +
      `${os.cpus().length}× ${os.cpus()[0]?.model}`);
    const rows = [];
    for (const m of MODELS) rows.push(await benchModel(browser.context, server.url, server, m));
    const requested = (prefix) => [...new Set(server.requests.map((r) => r.path).filter((p) => p.startsWith(prefix)))]
      .map((p) => p.slice(1)).sort();
    const ortRequested = requested(`/${ORT_DIST}/`);
    const kilnRequested = requested('/web/');
    const sizes = packageSizes(ortRequested, kilnRequested);

    console.log(`\nkiln build: ${rows[0]?.build}, ${rows[0]?.threads ? 'threaded' : '1 thread'}; onnxruntime-web: wasm backend, numThreads 1, SIMD; ` +
      `medians of ${REPS} fresh pages (create → first result) and of warm runs after 3 warm-up runs\n`);
    printTable(rows);
    console.log('\nSizes (gzip: node:zlib level 9)');
    const line = (name, s) => `  ${name}: ${kb(s.raw)} raw, ${kb(s.gz)} gzipped, ${s.files.length} files`;
    console.log(`${line('kiln package (web/*.js, web/generated/**, web/dist/kiln.{js,wasm})', sizes.kiln)}`);
    console.log(`${line('kiln files the bench page fetched', sizes.kilnPage)}: ${kilnRequested.join(', ')}`);
    console.log(`${line('onnxruntime-web files the bench page fetched (plain WASM SIMD backend)', sizes.ort)}: ${ortRequested.join(', ')}`);
    console.log(`  ratio kiln package / ort: ${(sizes.kiln.raw / sizes.ort.raw).toFixed(3)} raw, ${(sizes.kiln.gz / sizes.ort.gz).toFixed(3)} gzipped (target ≤ 0.2); ` +
      `fetched / fetched: ${(sizes.kilnPage.raw / sizes.ort.raw).toFixed(3)} raw, ${(sizes.kilnPage.gz / sizes.ort.gz).toFixed(3)} gzipped`);
    for (const r of rows)
      console.log(`  ${r.model}: .onnx ${kb(r.bytes.onnx)}, .kiln ${kb(r.bytes.kiln)}; create alone (median) kiln ${ms(r.kilnCreate)} ms, ort ${ms(r.ortCreate)} ms; ` +
        `second create→first result in an initialized page: kiln ${ms(r.second[0])} ms, ort ${ms(r.second[1])} ms; ` +
        `warm runs timed: kiln ${r.warmRuns[0]}, ort ${r.warmRuns[1]}`);
    console.log('\nWhere kiln\'s create → first result goes (medians): .wasm instantiated and model read from the Cache API ' +
      '(in parallel), then the model copied into WASM memory, parsed and its weights packed, then the first run');
    for (const r of rows)
      console.log(`  ${r.model}: ready ${ms(r.kilnReady)} ms + load ${ms(r.kilnLoad)} ms + first run ${ms(r.kilnFirstRun)} ms ` +
        `(warm run ${ms(r.kilnWarm)} ms); ort: create ${ms(r.ortCreate)} ms + first run ${ms(r.ortFirstRun)} ms (warm ${ms(r.ortWarm)} ms)`);
    console.log(`\n${((Date.now() - started) / 1000).toFixed(0)} s in all; load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  } finally {
    await browser?.close();
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
