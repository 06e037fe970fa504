// Runs in the worker-mode test page (imported by page.evaluate): the same work on a
// main-thread Session and on a { worker: true } one, returned for the Node side to compare.
import { Session, Tensor, KilnError } from '/web/index.js';
import { decodePNG, recognizeText } from '/web/ocr.js';
import { speechLikeSignal } from '/tests/js/speech-signal.mjs';

const CHUNK = 512, CONTEXT = 64;

const errorOf = (e) => ({ name: e.name, code: e instanceof KilnError ? e.code : null, message: e.message });

// Silero VAD over the speech-like signal, `steps` chunks of 512 samples (with 64 samples of
// context) through session.stream({ carry: { stateN: 'state' } }), then reset() and the
// first chunk again. Returns per step the probability and the carried state.
export async function vadStream({ model, worker, steps }) {
  const signal = speechLikeSignal();
  const session = await Session.create(model, { worker });
  try {
    const hasSr = session.inputNames.includes('sr');
    const sr = new Tensor('int64', BigInt64Array.of(16000n), []);
    const chunk = (step) => {
      const x = new Float32Array(CONTEXT + CHUNK);
      const at = step * CHUNK;
      if (at >= CONTEXT) x.set(signal.subarray(at - CONTEXT, at), 0);
      x.set(signal.subarray(at, at + CHUNK), CONTEXT);
      return new Tensor('float32', x, [1, x.length]);
    };
    const vad = session.stream({ carry: { stateN: 'state' } });
    const probs = [], states = [];
    for (let step = 0; step < steps; step++) {
      const out = await vad.run({ input: chunk(step), ...(hasSr ? { sr } : {}) });
      probs.push(out.output.data[0]);
      states.push(Array.from(vad.state.state.data));
    }
    vad.reset();
    const again = await vad.run({ input: chunk(0), ...(hasSr ? { sr } : {}) });
    return { probs, states, afterReset: again.output.data[0], worker: session.backendInfo.worker };
  } finally {
    session.release();
  }
}

// A stream on a released session fails like any other use of it.
export async function streamAfterRelease({ model, worker }) {
  const session = await Session.create(model, { worker });
  const vad = session.stream({ carry: { stateN: 'state' } });
  session.release();
  const result = {};
  try {
    session.stream({ carry: { stateN: 'state' } });
  } catch (e) {
    result.create = errorOf(e);
  }
  try {
    await vad.run({ input: new Tensor('float32', new Float32Array(CONTEXT + CHUNK), [1, CONTEXT + CHUNK]) });
  } catch (e) {
    result.run = errorOf(e);
  }
  return result;
}

// The text line twice on a white 700x200 RGBA canvas, read by recognizeText with the
// detector and recognizer sessions (both in workers when `worker`).
export async function ocr({ detector, recognizer, keys, worker }) {
  const line = await decodePNG(new Uint8Array(await (await fetch('/tests/data/textline.png')).arrayBuffer()));
  const W = 700, H = 200;
  const data = new Uint8Array(W * H * 4).fill(255);
  for (const [ox, oy] of [[20, 20], [150, 120]]) {
    for (let y = 0; y < line.height; y++) {
      for (let x = 0; x < line.width; x++) {
        for (let c = 0; c < 3; c++) data[((oy + y) * W + ox + x) * 4 + c] = line.data[(y * line.width + x) * 3 + c];
      }
    }
  }
  const [det, rec] = await Promise.all([Session.create(detector, { worker }), Session.create(recognizer, { worker })]);
  try {
    const keyText = await (await fetch(keys)).text();
    const t0 = performance.now();
    const lines = await recognizeText({ detector: det, recognizer: rec, keys: keyText }, { width: W, height: H, data });
    return { lines, ms: performance.now() - t0, workers: [det.backendInfo.worker, rec.backendInfo.worker] };
  } finally {
    det.release();
    rec.release();
  }
}
