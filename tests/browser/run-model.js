// Runs in the test page (imported by page.evaluate): loads the recognizer with the package
// and reads the shipped text line, returning what the Node side compares.
import { Session, Tensor, KilnError } from '/web/index.js';
import { decodePNG, preprocessRecognizer, parseKeys, ctcGreedyDecode } from '/web/ocr.js';

function base64(view) {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export async function recognize({ model = '/models/rec.kiln', options = {}, keys = '/keys.txt', returnData = true, run = true, transfer = false } = {}) {
  const png = new Uint8Array(await (await fetch('/tests/data/textline.png')).arrayBuffer());
  const x = preprocessRecognizer(await decodePNG(png));
  const events = [];
  let session;
  const t0 = performance.now();
  try {
    session = await Session.create(model, { ...options, onProgress: (e) => events.push({ ...e }) });
  } catch (e) {
    return { error: { name: e.name, code: e instanceof KilnError ? e.code : null, message: e.message }, events };
  }
  const loadMs = performance.now() - t0;
  const common = { backendInfo: session.backendInfo, loadInfo: session.loadInfo, isSession: session instanceof Session, events, loadMs };
  if (!run) {
    session.release();
    return common;
  }
  const t1 = performance.now();
  const out = await session.run({ [session.inputNames[0]]: new Tensor('float32', x.data, x.dims) }, { transfer });
  const runMs = performance.now() - t1;
  const inputBytesAfterRun = x.data.byteLength; // 0 once transferred to a worker
  const y = out[session.outputNames[0]];
  const result = {
    ...common,
    runMs,
    inputBytesAfterRun,
    dims: y.dims,
    data: returnData ? base64(y.data) : null,
  };
  if (keys) result.text = ctcGreedyDecode(y.data, y.dims, parseKeys(await (await fetch(keys)).text())).text;
  session.release();
  return result;
}

// What the Cache API holds for a model URL: null, or its byte length and content hash header.
export async function cached(url, cacheName = 'kiln-models-v1') {
  const cache = await caches.open(cacheName);
  const hit = await cache.match(new URL(url, location.href).href);
  if (!hit) return null;
  return { bytes: (await hit.arrayBuffer()).byteLength, hash: hit.headers.get('x-kiln-content-sha256') };
}
