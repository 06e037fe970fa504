// The web demo (npm run demo:web): pick a model, watch it download (progress through
// download, verification and compilation), type text, see the recognizer read it.
// Uses only the package's public modules, as a plain page would.
import { Session, Tensor } from '../index.js';
import { ctcGreedyDecode, parseKeys, preprocessRecognizer } from '../ocr.js';

const $ = (id) => document.getElementById(id);
const ui = {
  model: $('model'), worker: $('worker'), load: $('load'), clear: $('clear'), progress: $('progress'),
  loadStatus: $('load-status'), backend: $('backend'), text: $('text'), canvas: $('line'),
  result: $('result'), latency: $('latency'),
};

let models = [];
let session = null;
let keys = null;
let pending = null; // the text waiting to be recognized while a run is in flight
let running = false;
const runTimes = [];

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const ms = (t) => `${t.toFixed(1)} ms`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function setState(el, state, text) {
  el.dataset.state = state;
  el.textContent = text;
  el.classList.toggle('error', state === 'error');
}

// Renders `text` black on white into the 48 px high canvas; returns its ImageData.
function renderLine(text) {
  const ctx = ui.canvas.getContext('2d', { willReadFrequently: true });
  const font = '32px "DejaVu Sans", "Liberation Sans", Arial, sans-serif';
  ctx.font = font;
  const width = Math.max(48, Math.ceil(ctx.measureText(text).width) + 16);
  ui.canvas.width = width; // resizing resets the context state
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, 48);
  ctx.font = font;
  ctx.fillStyle = '#000';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, 8, 25);
  return ctx.getImageData(0, 0, width, 48);
}

async function recognize(text) {
  if (!session || !keys) return;
  if (running) {
    pending = text;
    return;
  }
  running = true;
  try {
    const t0 = performance.now();
    const image = renderLine(text);
    const x = preprocessRecognizer(image); // RGBA ImageData -> [1, 3, 48, W] normalized
    const t1 = performance.now();
    const out = await session.run({ [session.inputNames[0]]: new Tensor('float32', x.data, x.dims) });
    const t2 = performance.now();
    const probs = out[session.outputNames[0]];
    const decoded = ctcGreedyDecode(probs.data, probs.dims, keys);
    runTimes.push(t2 - t1);
    if (runTimes.length > 20) runTimes.shift();
    setState(ui.result, 'done', decoded.text || '(nothing)');
    ui.result.title = `confidence ${decoded.score.toFixed(3)}`;
    ui.latency.textContent = `input [${x.dims.join('×')}] · preprocess ${ms(t1 - t0)} · run ${ms(t2 - t1)} ` +
      `(median of last ${runTimes.length}: ${ms(median(runTimes))}) · confidence ${decoded.score.toFixed(3)}`;
  } catch (e) {
    setState(ui.result, 'error', e.message);
  } finally {
    running = false;
  }
  if (pending !== null) {
    const next = pending;
    pending = null;
    recognize(next);
  }
}

async function load() {
  const model = models[Number(ui.model.value)];
  ui.load.disabled = true;
  session?.release();
  session = null;
  setState(ui.result, 'idle', '—');
  ui.progress.value = 0;
  const t0 = performance.now();
  try {
    keys = parseKeys(await (await fetch(model.keys)).text());
    session = await Session.create(model.url, {
      worker: ui.worker.checked,
      onProgress: ({ phase, loaded, total, fromCache }) => {
        ui.progress.value = total ? loaded / total : 0;
        const what = phase === 'download' ? (fromCache ? 'reading from cache' : 'downloading') : phase === 'verify' ? 'verifying SHA-256' : 'compiling';
        setState(ui.loadStatus, 'loading', `${what}: ${mb(loaded)}${total > 1 ? ` of ${mb(total)}` : ''}`);
      },
    });
    const { loadInfo, backendInfo } = session;
    ui.progress.value = 1;
    setState(ui.loadStatus, 'ready',
      `Ready in ${ms(performance.now() - t0)}: ${mb(loadInfo.bytes)} ${loadInfo.fromCache ? 'from the cache (no network)' : 'from the network'}, ` +
      `every weight segment verified.`);
    ui.loadStatus.dataset.source = loadInfo.fromCache ? 'cache' : 'network';
    ui.backend.textContent = `Build: ${backendInfo.build}${backendInfo.worker ? ' in a Web Worker' : ' on the main thread'}, ` +
      `${backendInfo.numThreads} thread${backendInfo.numThreads === 1 ? '' : 's'} — ${backendInfo.reason}. ` +
      `crossOriginIsolated: ${globalThis.crossOriginIsolated === true}.`;
    await recognize(ui.text.value);
  } catch (e) {
    setState(ui.loadStatus, 'error', `Loading failed: ${e.message}`);
  } finally {
    ui.load.disabled = false;
  }
}

async function clearCache() {
  await caches.delete('kiln-models-v1');
  setState(ui.loadStatus, session ? 'ready' : 'idle', 'Cache cleared: the next load downloads again.');
}

async function main() {
  renderLine(ui.text.value);
  models = await (await fetch('/models/index.json')).json();
  models.forEach((m, i) => ui.model.add(new Option(`${m.label} (${mb(m.bytes)})`, String(i))));
  ui.load.addEventListener('click', load);
  ui.clear.addEventListener('click', clearCache);
  ui.text.addEventListener('input', () => {
    renderLine(ui.text.value);
    recognize(ui.text.value);
  });
  if (new URLSearchParams(location.search).get('autoload') !== '0') load();
}

main().catch((e) => setState(ui.loadStatus, 'error', `The demo failed to start: ${e.message}`));
