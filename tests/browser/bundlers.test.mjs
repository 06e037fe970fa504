// The package through bundlers: the `npm pack` tarball is unpacked into the node_modules of a
// tiny app (tests/browser/bundler-app) that imports 'kiln' and 'kiln/ocr' by name; the app is
// built with Vite and with webpack, using their defaults (the .wasm file and the worker are
// found through `new URL(..., import.meta.url)`), served from the build output alone and run
// in Chromium, on the main thread and in worker mode; the recognizer's outputs must match
// the package run under Node.
// The bundlers are devDependencies; KILN_BUNDLERS_DIR names another directory whose
// node_modules holds vite and/or webpack + webpack-cli (a bundler not found there is skipped;
// e.g. a directory with vite@7 checks Vite 7's Rollup build).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { startServer } from '../../scripts/serve.mjs';
import { Session, Tensor } from '../../web/index.js';
import { decodePNG, preprocessRecognizer } from '../../web/ocr.js';
import { maxError } from '../js/helpers.mjs';
import { ROOT, fromBase64Floats, launchBrowser, openPage, recognizerKiln, tempDir } from './helpers.mjs';

const BUNDLERS_DIR = process.env.KILN_BUNDLERS_DIR ?? ROOT;
const BUNDLERS = {
  vite: { cli: 'vite/bin/vite.js', args: ['build'] },
  webpack: { cli: 'webpack-cli/bin/cli.js', args: ['--config', 'webpack.config.mjs'] },
};
const cliPath = (name) => path.join(BUNDLERS_DIR, 'node_modules', BUNDLERS[name].cli);
// In the project's own node_modules both are devDependencies, so a missing one fails (run
// `npm ci`); only a KILN_BUNDLERS_DIR given on purpose may hold just one of them.
const skipOf = (name) =>
  fs.existsSync(cliPath(name)) || !process.env.KILN_BUNDLERS_DIR ? false : `${name} is not installed in ${BUNDLERS_DIR}/node_modules`;
const skipAll = Object.keys(BUNDLERS).every(skipOf);

let browser, expected, packed;

before(async () => {
  if (skipAll) return;
  const { kiln } = recognizerKiln();
  // What `npm publish` would ship (package.json "files"), not the repository.
  const dir = path.join(tempDir(), 'pack');
  fs.mkdirSync(dir, { recursive: true });
  const { stdout } = await promisify(execFile)('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT });
  await promisify(execFile)('tar', ['-xzf', path.join(dir, stdout.trim().split('\n').at(-1)), '-C', dir]);
  packed = path.join(dir, 'package');
  browser = await launchBrowser();
  const x = preprocessRecognizer(await decodePNG(fs.readFileSync(`${ROOT}/tests/data/textline.png`)));
  const session = await Session.create(fs.readFileSync(kiln));
  expected = (await session.run({ x: new Tensor('float32', x.data, x.dims) }))[session.outputNames[0]];
  session.release();
});

after(async () => {
  await browser?.close();
});

// Copies the app into a temp dir with the packed package as node_modules/kiln, builds it;
// returns the output directory.
async function build(name) {
  const app = path.join(tempDir(), `bundler-${name}`);
  fs.cpSync(path.join(ROOT, 'tests/browser/bundler-app'), app, { recursive: true });
  fs.cpSync(packed, path.join(app, 'node_modules', 'kiln'), { recursive: true });
  if (name === 'webpack') fs.copyFileSync(path.join(app, 'index.html.webpack'), path.join(app, 'dist-index.html'));
  const t0 = Date.now();
  let output;
  try {
    output = await promisify(execFile)(process.execPath, [cliPath(name), ...BUNDLERS[name].args], {
      cwd: app,
      env: { ...process.env, NODE_ENV: 'production' },
      timeout: 120_000,
      maxBuffer: 16 << 20,
    });
  } catch (e) {
    throw new Error(`${name} build failed: ${e.message}\n${e.stdout}\n${e.stderr}`);
  }
  console.log(`${name}: built in ${Date.now() - t0} ms`);
  // Vite logs only warnings here (logLevel 'warn'); webpack prints a summary with any WARNING in it.
  const log = `${output.stdout}\n${output.stderr}`;
  const warned = name === 'vite' ? log.trim() !== '' : /WARNING/.test(log);
  assert.ok(!warned, `${name} warned while building the package:\n${log}`);
  const dist = path.join(app, 'dist');
  if (name === 'webpack') fs.renameSync(path.join(app, 'dist-index.html'), path.join(dist, 'index.html'));
  return dist;
}

// Every file of the build output (relative paths).
function listFiles(dir) {
  return fs.readdirSync(dir, { recursive: true }).filter((f) => fs.statSync(path.join(dir, f)).isFile());
}

function assertMatchesNode(result, what) {
  assert.deepEqual(result.dims, expected.dims, what);
  const err = maxError(fromBase64Floats(result.data), expected.data, { atol: 1e-6, rtol: 1e-5 });
  assert.ok(err <= 1, `${what}: outputs differ from Node's (max scaled error ${err})`);
}

for (const name of Object.keys(BUNDLERS)) {
  test(`a ${name} build of an app importing 'kiln' runs the recognizer, also in worker mode`, { skip: skipOf(name) }, async () => {
    const dist = await build(name);
    const files = listFiles(dist);
    const wasm = files.filter((f) => f.endsWith('.wasm'));
    assert.equal(wasm.length, 1, `${name} emitted ${wasm.length} .wasm files: ${files.join(', ')}`);
    const server = await startServer({
      root: dist,
      mounts: { '/models/': recognizerKiln().dir, '/textline.png': path.join(ROOT, 'tests/data/textline.png') },
    });
    try {
      const { page, errors } = await openPage(browser.context, server.url, '/index.html');
      await page.waitForFunction(() => window.kilnApp !== undefined, null, { timeout: 20_000 });
      const main = await page.evaluate(() => window.kilnApp.recognize());
      assertMatchesNode(main, `${name}, main thread`);
      assert.equal(main.backendInfo.worker, false);
      // The .wasm came from the build output, where the bundler put it.
      assert.equal(new URL(main.backendInfo.wasmUrl).pathname, `/${wasm[0].split(path.sep).join('/')}`);
      const inWorker = await page.evaluate(() => window.kilnApp.recognize({ worker: true }));
      assertMatchesNode(inWorker, `${name}, worker`);
      assert.equal(inWorker.backendInfo.worker, true);
      const notFound = server.requests.filter((r) => !fs.existsSync(path.join(dist, r.path)) &&
        !r.path.startsWith('/models/') && r.path !== '/textline.png' && r.path !== '/favicon.ico');
      assert.deepEqual(notFound, [], 'requests outside the build output');
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await server.close();
    }
  });
}
