// Worker mode ({ worker: true }) beyond a single run, in Chromium: session.stream() with a
// carried recurrent state (Silero VAD) and the OCR pipeline (recognizeText with detector
// and recognizer worker sessions) give exactly the main thread's results.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { kilnModel, launchBrowser, openPage, recognizerKiln, serve } from './helpers.mjs';
import { modelPath } from '../../scripts/fetch-models.mjs';

const EXPECTED_TEXT = 'kiln runs models in the browser';
let browser, server, page, errors;

before(async () => {
  for (const key of ['silero', 'detector']) kilnModel(key);
  server = await serve({ mounts: { '/models/': recognizerKiln().dir, '/keys.txt': modelPath('recognizerKeys') } });
  browser = await launchBrowser();
  ({ page, errors } = await openPage(browser.context, server.url));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const call = (fn, args) => page.evaluate(([f, a]) => import('/tests/browser/worker-page.js').then((m) => m[f](a)), [fn, args]);

test('session.stream() in a worker carries the Silero VAD state exactly as on the main thread', async () => {
  const args = { model: '/models/silero.kiln', steps: 30 };
  const main = await call('vadStream', { ...args, worker: false });
  const inWorker = await call('vadStream', { ...args, worker: true });
  assert.equal(main.worker, false);
  assert.equal(inWorker.worker, true);
  // The signal must move the detector (silence low, speech high) or the comparison is weak.
  assert.ok(Math.min(...main.probs) < 0.1 && Math.max(...main.probs) > 0.9, `probabilities ${main.probs}`);
  // One WASM binary, the same inputs: bit-identical per step.
  assert.deepEqual(inWorker.probs, main.probs);
  assert.deepEqual(inWorker.states, main.states);
  assert.equal(inWorker.afterReset, main.probs[0], 'reset() in a worker stream did not start over');
  assert.notDeepEqual(main.states[0], main.states[1], 'the state must change from step to step');
  const released = await call('streamAfterRelease', { model: '/models/silero.kiln', worker: true });
  assert.equal(released.create?.code, 'invalid_argument', JSON.stringify(released));
  assert.match(released.create.message, /released/);
  assert.equal(released.run?.code, 'invalid_argument', JSON.stringify(released));
  assert.match(released.run.message, /released/);
  assert.deepEqual(errors, []);
});

test('recognizeText with worker sessions reads the two-line image as on the main thread', async () => {
  const args = { detector: '/models/detector.kiln', recognizer: '/models/rec.kiln', keys: '/keys.txt' };
  const main = await call('ocr', { ...args, worker: false });
  const inWorker = await call('ocr', { ...args, worker: true });
  console.log(`recognizeText: main thread ${main.ms.toFixed(0)} ms, workers ${inWorker.ms.toFixed(0)} ms`);
  assert.deepEqual(main.workers, [false, false]);
  assert.deepEqual(inWorker.workers, [true, true]);
  assert.deepEqual(main.lines.map((l) => l.text), [EXPECTED_TEXT, EXPECTED_TEXT]);
  assert.deepEqual(inWorker.lines, main.lines);
  assert.deepEqual(errors, []);
});
