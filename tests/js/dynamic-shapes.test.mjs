// Dynamic shapes: one WASM session of the real recognizer (input [1,3,48,width]) is called
// with several widths, back and forth, so plans are built, cached and reused; each call
// must match onnxruntime-node on the same input. Catches a plan or arena from one shape
// leaking into another.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import ort from 'onnxruntime-node';
import { Session, Tensor } from 'kiln';
import { ensureModels } from '../../scripts/fetch-models.mjs';
import { KILN_CLI as CLI } from './helpers.mjs';

test('recognizer at several widths in one session matches onnxruntime-node', async (t) => {
  const models = ensureModels({ quiet: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-dyn-'));
  try {
    const file = path.join(dir, 'rec.kiln');
    execFileSync(CLI, ['convert', models.recognizer, '-o', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const session = await Session.create(fs.readFileSync(file));
    const oracle = await ort.InferenceSession.create(models.recognizer, { intraOpNumThreads: 1, logSeverityLevel: 3 });
    try {
      for (const [i, width] of [96, 200, 96, 144, 200].entries()) {
        const dims = [1, 3, 48, width];
        const data = new Float32Array(3 * 48 * width);
        for (let k = 0; k < data.length; k++) data[k] = Math.sin(k * 0.37 + i) * 0.8;  // differs per call
        const out = Object.values(await session.run({ x: new Tensor('float32', data, dims) }))[0];
        const ref = Object.values(await oracle.run({ x: new ort.Tensor('float32', data, dims) }))[0];
        assert.deepEqual(Array.from(out.dims, Number), Array.from(ref.dims, Number), `width ${width}: dims`);
        let worst = 0;
        for (let k = 0; k < ref.data.length; k++)
          worst = Math.max(worst, Math.abs(out.data[k] - ref.data[k]) / Math.max(1, Math.abs(ref.data[k])));
        assert.ok(worst <= 1e-4, `width ${width} (call ${i + 1}): max rel err ${worst}`);
        t.diagnostic(`width ${width}: [${ref.dims}] max rel err ${worst.toExponential(2)}`);
      }
    } finally {
      session.release();
      await oracle.release?.();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
