// Shared test plumbing: find the native `kiln` CLI, convert ONNX bytes to .kiln in a
// temp dir, and compare tensors.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KILN_CLI = process.env.KILN_CLI ?? path.join(ROOT, 'build', 'native', 'tools', 'kiln');
export const WASM_FILE = path.join(ROOT, 'web', 'dist', 'kiln.wasm');

export function requireBuilt() {
  if (!fs.existsSync(KILN_CLI))
    throw new Error(`kiln CLI not found at ${KILN_CLI}: run \`npm run build:native\` or set KILN_CLI`);
  if (!fs.existsSync(WASM_FILE)) throw new Error(`${WASM_FILE} not found: run \`npm run build:wasm\``);
}

let tmp = null;
export function tempDir() {
  if (!tmp) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-js-'));
    process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
  }
  return tmp;
}

// Converts an .onnx file (path) or ONNX bytes with `kiln convert`; returns the .kiln path.
export function convert(onnx, name) {
  const dir = tempDir();
  let src = onnx;
  if (typeof onnx !== 'string') {
    src = path.join(dir, `${name}.onnx`);
    fs.writeFileSync(src, onnx);
  }
  const out = path.join(dir, `${name}.kiln`);
  execFileSync(KILN_CLI, ['convert', src, '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}

// Deterministic pseudo-random floats in [-1, 1).
export function randomFloats(n, seed = 1) {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

// Largest |a-b| / (atol + rtol*|b|); <= 1 means close.
export function maxError(actual, expected, { atol = 1e-5, rtol = 1e-4 } = {}) {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < actual.length; ++i) {
    const a = Number(actual[i]);
    const b = Number(expected[i]);
    const e = Math.abs(a - b) / (atol + rtol * Math.abs(b));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}
