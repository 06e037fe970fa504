// Browser test plumbing: headless Debian Chromium through playwright-core (no browser
// download), the package served by scripts/serve.mjs on 127.0.0.1, and the real OCR
// recognizer converted to .kiln once per test file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { startServer } from '../../scripts/serve.mjs';
import { modelPath } from '../../scripts/fetch-models.mjs';
import { KILN_CLI, ROOT, requireBuilt, tempDir } from '../js/helpers.mjs';

export { ROOT, tempDir };

export const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/** A fresh Chromium profile (so the Cache API starts empty); close() removes it. */
export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (scripts/setup.sh does)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A page of the served package, with console errors and page errors collected (tests
 * assert there were none). The page is the empty tests/browser/blank.html by default.
 */
export async function openPage(context, baseUrl, file = '/tests/browser/blank.html', { ignoreNetworkErrors = false } = {}) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // Chromium logs each failed request; tests that break requests on purpose ignore those.
    if (m.type() === 'error' && !(ignoreNetworkErrors && m.text().startsWith('Failed to load resource')))
      errors.push(`console: ${m.text()}`);
  });
  await page.goto(baseUrl + file);
  return { page, errors };
}

let models = null;
/** The recognizer as .kiln in a temp dir (converted once) and the key file; {dir, kiln, keys}. */
export function recognizerKiln() {
  if (models) return models;
  requireBuilt();
  const dir = path.join(tempDir(), 'models');
  fs.mkdirSync(dir, { recursive: true });
  const kiln = path.join(dir, 'rec.kiln');
  execFileSync(KILN_CLI, ['convert', modelPath('recognizer'), '-o', kiln], { stdio: ['ignore', 'pipe', 'pipe'] });
  models = { dir, kiln, keys: modelPath('recognizerKeys') };
  return models;
}

/** Model `key` (scripts/models.json) converted to <models dir>/<key>.kiln once; served at /models/<key>.kiln. */
export function kilnModel(key) {
  const { dir } = recognizerKiln();
  const out = path.join(dir, `${key}.kiln`);
  if (!fs.existsSync(out)) execFileSync(KILN_CLI, ['convert', modelPath(key), '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}

/** The package root served at /, the converted models at /models/. */
export async function serve(options = {}) {
  const { dir } = recognizerKiln();
  return startServer({ root: ROOT, mounts: { '/models/': dir }, ...options });
}

export function fromBase64Floats(b64) {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}
