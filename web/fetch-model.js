// Downloads a .kiln over fetch: streams it with progress, checks each weight segment's
// SHA-256 as soon as the segment has arrived (the table, read first, gives every
// segment's byte range and hash), resumes an interrupted download with a Range request,
// refetches a segment that arrives corrupted, and keeps a verified copy in the Cache API
// so a reload costs no network. The cache never holds a copy that failed verification.
import { KilnError, kilnError } from './errors.js';
import { readModelInfo } from './metadata.js';

export const DEFAULT_CACHE_NAME = 'kiln-models-v1';
const HASH_HEADER = 'x-kiln-content-sha256';

const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');

export function hasSubtleCrypto() {
  return typeof globalThis.crypto?.subtle?.digest === 'function';
}

async function sha256(bytes) {
  return hex(await crypto.subtle.digest('SHA-256', bytes));
}

// Reports progress; a throwing callback is the caller's bug, not a load failure.
function reporter(onProgress) {
  if (typeof onProgress !== 'function') return () => {};
  return (event) => {
    try {
      onProgress(Object.freeze(event));
    } catch (e) {
      queueMicrotask(() => {
        throw e;
      });
    }
  };
}

// Collects the file's bytes. Before the table is complete they are kept as chunks; once
// readModelInfo can read it, one buffer of the file's full size takes everything and each
// completed segment's hash is started right away.
class Assembler {
  constructor({ report, fromCache }) {
    this.report = report;
    this.fromCache = fromCache;
    this.reset();
  }

  reset() {
    // Hashes still running from before a restart must not count towards this attempt.
    this.generation = (this.generation ?? 0) + 1;
    this.chunks = [];
    this.received = 0;
    this.info = null;
    this.bytes = null;
    this.checks = []; // per segment: Promise<string> (its hex SHA-256) once started
    this.verified = 0;
  }

  // Content-Length of the full file when the server said it (a cut stream is resumed up to it).
  expected = undefined;

  get total() {
    return this.info ? this.info.fileBytes : this.expected ?? 0;
  }

  push(chunk) {
    if (this.bytes) {
      if (this.received + chunk.length > this.bytes.length)
        throw kilnError('invalid_model', `the download is longer than the ${this.bytes.length} bytes its table describes`);
      this.bytes.set(chunk, this.received);
      this.received += chunk.length;
    } else {
      this.chunks.push(chunk);
      this.received += chunk.length;
      this.tryTable();
    }
    if (this.bytes) this.startChecks();
  }

  tryTable() {
    if (this.received < 12) return;
    const head = concat(this.chunks, this.received);
    this.chunks = [head];
    const tableBytes = 4 + new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true);
    if (head.length < tableBytes) return;
    const info = readModelInfo(head.subarray(0, tableBytes));
    checkLayout(info);
    this.info = info;
    this.bytes = new Uint8Array(info.fileBytes);
    if (head.length > info.fileBytes)
      throw kilnError('invalid_model', `the download is longer than the ${info.fileBytes} bytes its table describes`);
    this.bytes.set(head);
    this.chunks = [];
  }

  startChecks() {
    const { segments } = this.info;
    for (let i = this.checks.length; i < segments.length; ++i) {
      const s = segments[i];
      if (s.offset + s.length > this.received) break;
      this.checks.push(this.check(i));
    }
  }

  // Hashes segment i; resolves to true when it matches the table.
  check(i) {
    const s = this.info.segments[i];
    const generation = this.generation;
    return sha256(this.bytes.subarray(s.offset, s.offset + s.length)).then((got) => {
      const ok = got === s.sha256;
      if (ok && generation === this.generation) {
        this.verified += s.length;
        this.report({ phase: 'verify', loaded: this.verified, total: this.segmentBytes(), fromCache: this.fromCache });
      }
      return ok;
    });
  }

  segmentBytes() {
    return this.info.segments.reduce((n, s) => n + s.length, 0);
  }
}

// Largest model the WASM build accepts (2 GiB, as wasm/bindings.cc).
const MAX_MODEL_BYTES = 2 ** 31;

// The JS FlatBuffers reader has no verifier: check that the segments the table lists lie
// after the table, in order, inside a plausible file, before sizing a buffer from them.
function checkLayout(info) {
  if (!(info.fileBytes <= MAX_MODEL_BYTES))
    throw kilnError('invalid_model', `corrupt .kiln table: it describes a ${info.fileBytes}-byte file (at most ${MAX_MODEL_BYTES})`);
  let end = info.tableBytes;
  info.segments.forEach((s, i) => {
    if (!(Number.isSafeInteger(s.offset) && Number.isSafeInteger(s.length) && s.offset >= end && s.length >= 0))
      throw kilnError('invalid_model', `corrupt .kiln table: weight segment ${i} at bytes ${s.offset}..${s.offset + s.length} overlaps the table or segment ${i - 1}`);
    if (!/^[0-9a-f]{64}$/.test(s.sha256)) throw kilnError('invalid_model', `corrupt .kiln table: weight segment ${i} has no SHA-256`);
    end = s.offset + s.length;
  });
}

function concat(chunks, length) {
  if (chunks.length === 1 && chunks[0].length === length) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function fetchOrThrow(url, init, what) {
  let response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    if (init.signal?.aborted) throw e;
    throw kilnError('io', `cannot fetch ${what} ${url}: ${e.message}`, { cause: e });
  }
  return response;
}

// Reads `response` into asm; on a network error mid-stream, resumes with a Range request
// (If-Range pins the same version) up to `retries` times. A server that ignores the
// range (200) makes the download start over.
async function stream(url, response, asm, { retries, signal }) {
  const etag = response.headers.get('etag');
  const lengthHeader = Number(response.headers.get('content-length'));
  if (lengthHeader > 0 && response.status === 200) asm.expected = lengthHeader;
  let attempts = 0;
  for (;;) {
    let failure = null;
    try {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        asm.push(value);
        asm.report({ phase: 'download', loaded: asm.received, total: asm.total, fromCache: asm.fromCache });
      }
    } catch (e) {
      if (e instanceof KilnError || signal?.aborted) throw e;
      failure = e;
    }
    // A clean end with fewer bytes than Content-Length promised is a cut connection too;
    // without that promise, finish() judges the length against the table.
    const cut = asm.expected !== undefined && asm.received < asm.expected;
    if (!failure && !cut) return;
    // Interrupted (an error, or fewer bytes than Content-Length promised): resume.
    if (asm.fromCache || attempts >= retries)
      throw kilnError('io', `download of ${url} failed after ${asm.received} bytes${attempts ? ` and ${attempts} resumed attempts` : ''}: ${failure?.message ?? 'the connection closed early'}`, { cause: failure ?? undefined });
    attempts += 1;
    const headers = { Range: `bytes=${asm.received}-` };
    if (etag) headers['If-Range'] = etag;
    response = await fetchOrThrow(url, { headers, signal, cache: 'no-store' }, 'the rest of model');
    if (response.status === 200) {
      asm.reset();
      const n = Number(response.headers.get('content-length'));
      if (n > 0) asm.expected = n;
    } else if (response.status === 206) {
      const m = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== asm.received)
        throw kilnError('io', `resuming ${url}: the server sent range '${response.headers.get('content-range')}', expected bytes ${asm.received}-`);
    } else {
      throw kilnError('io', `resuming ${url}: HTTP ${response.status} ${response.statusText}`);
    }
  }
}

// Fetches segment i alone (Range) into asm.bytes and checks it again.
async function refetchSegment(url, asm, i, signal) {
  const s = asm.info.segments[i];
  const response = await fetchOrThrow(url, {
    headers: { Range: `bytes=${s.offset}-${s.offset + s.length - 1}` },
    signal,
    cache: 'no-store',
  }, 'a segment of model');
  if (response.status !== 206) return false;
  const data = new Uint8Array(await response.arrayBuffer());
  if (data.length !== s.length) return false;
  asm.bytes.set(data, s.offset);
  return asm.check(i);
}

// Finishes a fully received file: the table must be there, the length right and every
// segment's hash must match (one refetch per bad segment when `url` allows it).
async function finish(asm, { url, signal, where }) {
  if (!asm.info) {
    if (asm.received >= 12) asm.tryTable();
    if (!asm.info) {
      // readModelInfo names what is wrong (foreign bytes, or a table cut short).
      readModelInfo(concat(asm.chunks, asm.received));
      throw kilnError('invalid_model', `truncated .kiln from ${where}: ${asm.received} bytes`);
    }
  }
  if (asm.received < asm.info.fileBytes)
    throw kilnError('invalid_model', `truncated .kiln from ${where}: got ${asm.received} of ${asm.info.fileBytes} bytes`);
  asm.startChecks();
  const results = await Promise.all(asm.checks);
  for (let i = 0; i < results.length; ++i) {
    if (results[i]) continue;
    const s = asm.info.segments[i];
    if (url && (await refetchSegment(url, asm, i, signal))) continue;
    throw kilnError('invalid_model', `weight segment ${i} (bytes ${s.offset}..${s.offset + s.length}) from ${where} does not match its SHA-256 ${s.sha256}${url ? ', also after fetching it again' : ''}`);
  }
}

async function openCache(name) {
  if (typeof caches === 'undefined') return null;
  try {
    return await caches.open(name);
  } catch {
    return null; // e.g. an opaque origin or storage disabled: load without the cache
  }
}

// The content hash that versions a cached copy: the SHA-256 of the table, which pins every
// segment's hash and so the whole file.
async function contentHash(asm) {
  return sha256(asm.bytes.subarray(0, asm.info.tableBytes));
}

/**
 * Loads a .kiln from a URL or a Response. Options: onProgress({phase, loaded, total,
 * fromCache}), cache (true | false | cache name; default true where the Cache API exists),
 * sha256 (expected content hash: a cached copy with another one is replaced), retries
 * (resume attempts, default 3), signal (AbortSignal).
 * Resolves to { bytes, info, contentHash, fromCache } with every segment verified.
 */
export async function fetchModel(source, options = {}) {
  const report = reporter(options.onProgress);
  const signal = options.signal;
  const retries = options.retries ?? 3;
  if (source instanceof Response) {
    if (!source.ok) throw kilnError('io', `the model response has HTTP status ${source.status}`);
    if (!source.body) throw kilnError('io', 'the model response has no body (already read?)');
    const asm = new Assembler({ report, fromCache: false });
    const url = /^https?:/.test(source.url) ? source.url : null;
    await stream(url ?? 'the given Response', source, asm, { retries: url ? retries : 0, signal });
    await finish(asm, { url, signal, where: url ?? 'the given Response' });
    return { bytes: asm.bytes, info: asm.info, contentHash: await contentHash(asm), fromCache: false };
  }
  const url = source instanceof URL ? source.href : String(source);
  const useCache = options.cache !== false && /^https?:/i.test(url);
  const cacheName = typeof options.cache === 'string' ? options.cache : DEFAULT_CACHE_NAME;
  const cache = useCache ? await openCache(cacheName) : null;

  if (cache) {
    const hit = await cache.match(url).catch(() => undefined);
    const wanted = options.sha256?.toLowerCase();
    if (hit && (!wanted || hit.headers.get(HASH_HEADER) === wanted)) {
      const asm = new Assembler({ report, fromCache: true });
      try {
        await stream(url, hit, asm, { retries: 0, signal });
        await finish(asm, { url: null, signal, where: 'the cache' });
        const hash = await contentHash(asm);
        if (hash === hit.headers.get(HASH_HEADER)) return { bytes: asm.bytes, info: asm.info, contentHash: hash, fromCache: true };
      } catch (e) {
        if (signal?.aborted) throw e;
        // A damaged cached copy: drop it and download a fresh one below.
      }
      await cache.delete(url).catch(() => false);
    } else if (hit) {
      await cache.delete(url).catch(() => false);
    }
  }

  const response = await fetchOrThrow(url, { signal }, 'model');
  if (!response.ok) throw kilnError('io', `cannot fetch model ${url}: HTTP ${response.status} ${response.statusText}`);
  const asm = new Assembler({ report, fromCache: false });
  await stream(url, response, asm, { retries, signal });
  await finish(asm, { url, signal, where: url });
  const hash = await contentHash(asm);
  if (options.sha256 && options.sha256.toLowerCase() !== hash)
    throw kilnError('invalid_model', `model ${url} has content hash ${hash}, expected ${options.sha256}`);
  if (cache) {
    const stored = new Response(asm.bytes, {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(asm.bytes.length), [HASH_HEADER]: hash },
    });
    // Out of quota or storage disabled: the model still loads, just not cached.
    await cache.put(url, stored).catch(() => undefined);
  }
  return { bytes: asm.bytes, info: asm.info, contentHash: hash, fromCache: false };
}
