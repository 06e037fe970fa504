#!/usr/bin/env node
// `npm run demo:web`: serves the browser demo (web/demo/) on 127.0.0.1 with cross-origin
// isolation headers (COOP/COEP). On first start it converts the shipped PP-OCRv4
// recognizer (ONNX) to .kiln with the native CLI into a cache dir (.cache/kiln), which is
// served at /models/ with a models list /models/index.json and the key file.
//
//   node scripts/demo-web.mjs [--port N] [--cache-dir DIR]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { ensureModels } from './fetch-models.mjs';
import { startServer } from './serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = process.env.KILN_CLI ? path.resolve(process.env.KILN_CLI) : path.join(ROOT, 'build/native/tools/kiln');

const mtime = (f) => fs.statSync(f).mtimeMs;

// Converts onnx -> out unless out is newer than both the model and the CLI.
function convert(onnx, out, log) {
  if (!fs.existsSync(CLI)) throw new Error(`${path.relative(ROOT, CLI)} is missing: run \`bash scripts/setup.sh\` first`);
  if (fs.existsSync(out) && mtime(out) >= Math.max(mtime(onnx), mtime(CLI))) return;
  log(`converting ${path.basename(onnx)} -> ${out}`);
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    execFileSync(CLI, ['convert', onnx, '-o', tmp], { stdio: ['ignore', 'pipe', 'pipe'] });
    fs.renameSync(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`kiln convert failed:\n${e.stderr?.toString() || e.message}`);
  }
}

/**
 * Prepares the models and starts the server. Options: port (0 = random), cacheDir, log.
 * Resolves to the server of scripts/serve.mjs ({ url, requests, close }).
 */
export async function startDemo({ port = 0, cacheDir = path.join(ROOT, '.cache/kiln'), log = () => {} } = {}) {
  const models = ensureModels({ quiet: true });
  fs.mkdirSync(cacheDir, { recursive: true });
  const rec = path.join(cacheDir, 'rec.kiln');
  convert(models.recognizer, rec, log);
  fs.copyFileSync(models.recognizerKeys, path.join(cacheDir, 'ppocr_keys_v1.txt'));
  const list = [{
    id: 'recognizer',
    label: 'PP-OCRv4 text recognizer',
    url: '/models/rec.kiln',
    keys: '/models/ppocr_keys_v1.txt',
    bytes: fs.statSync(rec).size,
  }];
  fs.writeFileSync(path.join(cacheDir, 'index.json'), JSON.stringify(list, null, 2));
  return startServer({ root: ROOT, isolated: true, port, mounts: { '/models/': cacheDir } });
}

function parseArgs(argv) {
  const opts = { port: 8765 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') opts.port = Number(argv[++i]);
    else if (a === '--cache-dir') opts.cacheDir = path.resolve(argv[++i] ?? '');
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/demo-web.mjs [--port N] [--cache-dir DIR]\nServes the kiln browser demo on 127.0.0.1.');
      process.exit(0);
    } else throw new Error(`unknown argument '${a}' (try --help)`);
  }
  if (!(Number.isInteger(opts.port) && opts.port >= 0 && opts.port < 65536)) throw new Error('--port must be 0..65535');
  return opts;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    const server = await startDemo({ ...opts, log: (m) => console.log(`kiln demo: ${m}`) });
    console.log(`kiln demo: open ${server.url}/web/demo/ (cross-origin isolated; Ctrl-C stops)`);
  } catch (e) {
    console.error(`kiln demo: error: ${e.message}`);
    process.exit(1);
  }
}
