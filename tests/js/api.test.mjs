// The npm package's API (Session, Tensor, Interpreter, KilnError) against the WASM
// build: small models built here as ONNX, converted by the native `kiln convert`,
// checked against onnxruntime-node on the same ONNX file; every bad input must give
// a KilnError naming the problem and leave the module and the session usable.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import ort from 'onnxruntime-node';
import { Interpreter, KilnError, Session, Tensor } from 'kiln';

import { ROOT, convert, maxError, randomFloats, requireBuilt } from './helpers.mjs';
import { buildOnnx } from './onnx-builder.mjs';
import { loadModule } from '../../web/loader.js';

// z = Relu(x + y), w = x * k: a symbolic batch dim, broadcasting, a weight, two outputs.
const K = new Float32Array([1.5, -2.25, 3.125, 0.5]);
const ADD_RELU = buildOnnx({
  inputs: [
    { name: 'x', type: 'float32', dims: ['batch', 4] },
    { name: 'y', type: 'float32', dims: [4] },
  ],
  outputs: [
    { name: 'z', type: 'float32', dims: ['batch', 4] },
    { name: 'w', type: 'float32', dims: ['batch', 4] },
  ],
  initializers: [{ name: 'k', type: 'float32', dims: [4], data: K }],
  nodes: [
    { op: 'Add', inputs: ['x', 'y'], outputs: ['s'] },
    { op: 'Relu', inputs: ['s'], outputs: ['z'] },
    { op: 'Mul', inputs: ['x', 'k'], outputs: ['w'] },
  ],
});

// int64 and bool outputs: c = a + b, g = a > b.
const INT64 = buildOnnx({
  inputs: [
    { name: 'a', type: 'int64', dims: [3] },
    { name: 'b', type: 'int64', dims: [3] },
  ],
  outputs: [
    { name: 'c', type: 'int64', dims: [3] },
    { name: 'g', type: 'bool', dims: [3] },
  ],
  nodes: [
    { op: 'Add', inputs: ['a', 'b'], outputs: ['c'] },
    { op: 'Greater', inputs: ['a', 'b'], outputs: ['g'] },
  ],
});

let addReluPath;
let addReluBytes;
let int64Path;

before(() => {
  requireBuilt();
  addReluPath = convert(ADD_RELU, 'add_relu');
  addReluBytes = new Uint8Array(fs.readFileSync(addReluPath));
  int64Path = convert(INT64, 'int64');
});

function feeds(batch, seed = 1) {
  return {
    x: new Tensor('float32', randomFloats(batch * 4, seed), [batch, 4]),
    y: new Tensor('float32', randomFloats(4, seed + 100), [4]),
  };
}

async function ortRun(onnx, kilnFeeds) {
  const s = await ort.InferenceSession.create(onnx);
  const f = {};
  for (const [k, t] of Object.entries(kilnFeeds)) f[k] = new ort.Tensor(t.type, t.data, t.dims);
  return s.run(f);
}

// Runs the add/relu model and checks it exactly against onnxruntime-node.
async function assertAddReluWorks(session, batch = 2, seed = 7) {
  const f = feeds(batch, seed);
  const out = await session.run(f);
  const ref = await ortRun(ADD_RELU, f);
  for (const name of ['z', 'w']) {
    assert.equal(out[name].type, 'float32');
    assert.deepEqual(out[name].dims, [batch, 4]);
    assert.ok(out[name].data instanceof Float32Array);
    assert.deepEqual(Array.from(out[name].data), Array.from(ref[name].data), `output ${name}`);
  }
}

// Asserts `promiseOrFn` fails with a KilnError of `code` whose message matches `re`.
async function assertKilnError(promiseOrFn, code, re) {
  let error;
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (e) {
    error = e;
  }
  assert.ok(error, 'expected an error');
  assert.ok(error instanceof KilnError, `expected KilnError, got ${error?.constructor?.name}: ${error?.message}`);
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'KilnError');
  assert.equal(error.code, code, error.message);
  assert.match(error.message, re);
  return error;
}

describe('Session', () => {
  test('describes inputs and outputs, symbolic dims as strings', async () => {
    const s = await Session.create(addReluPath);
    assert.deepEqual(JSON.parse(JSON.stringify(s.inputs)), [
      { name: 'x', type: 'float32', dims: ['batch', 4] },
      { name: 'y', type: 'float32', dims: [4] },
    ]);
    assert.deepEqual(JSON.parse(JSON.stringify(s.outputs)), [
      { name: 'z', type: 'float32', dims: ['batch', 4] },
      { name: 'w', type: 'float32', dims: ['batch', 4] },
    ]);
    assert.deepEqual(s.inputNames, ['x', 'y']);
    assert.deepEqual(s.outputNames, ['z', 'w']);
    s.release();
  });

  test('matches onnxruntime-node for several batch sizes, repeatedly', async () => {
    const s = await Session.create(addReluPath);
    for (const batch of [1, 2, 5, 1, 64]) await assertAddReluWorks(s, batch, batch);
    s.release();
  });

  test('hand-computed values', async () => {
    const s = await Session.create(addReluPath);
    const out = await s.run({
      x: new Tensor('float32', [1, -2, 3, -4, 5, 6, -7, 8], [2, 4]),
      y: new Tensor('float32', [0.5, 0.5, -10, 1], [4]),
    });
    assert.deepEqual(Array.from(out.z.data), [1.5, 0, 0, 0, 5.5, 6.5, 0, 9]);
    assert.deepEqual(Array.from(out.w.data), [1.5, 4.5, 9.375, -2, 7.5, -13.5, -21.875, 4]);
    // Typed arrays that are views into a larger buffer (byteOffset != 0).
    const big = new Float32Array([99, 99, 1, -2, 3, -4, 5, 6, -7, 8, 99, 0.5, 0.5, -10, 1, 99]);
    const out2 = await s.run({
      x: new Tensor('float32', big.subarray(2, 10), [2, 4]),
      y: new Tensor('float32', big.subarray(11, 15), [4]),
    });
    assert.deepEqual(Array.from(out2.z.data), [1.5, 0, 0, 0, 5.5, 6.5, 0, 9]);
    s.release();
  });

  test('large tensors grow WASM memory (views are re-obtained)', async () => {
    const s = await Session.create(addReluPath);
    await assertAddReluWorks(s, 1 << 20, 5); // 16 MiB per tensor: past the initial 32 MiB heap
    await assertAddReluWorks(s, 3, 6);
    s.release();
  });

  test('outputs are JS-owned copies that later runs do not change', async () => {
    const s = await Session.create(addReluPath);
    const first = await s.run(feeds(2, 1));
    const snapshot = Array.from(first.z.data);
    await s.run(feeds(2, 2));
    assert.deepEqual(Array.from(first.z.data), snapshot);
    assert.ok(first.z.data.buffer.byteLength === first.z.data.byteLength, 'output owns its buffer');
    s.release();
  });

  test('int64 and bool tensors', async () => {
    const s = await Session.create(int64Path);
    const a = new BigInt64Array([1n, -5n, 2n ** 40n]);
    const b = new BigInt64Array([2n, -7n, 3n]);
    const out = await s.run({ a: new Tensor('int64', a, [3]), b: new Tensor('int64', b, [3]) });
    assert.equal(out.c.type, 'int64');
    assert.ok(out.c.data instanceof BigInt64Array);
    assert.deepEqual(Array.from(out.c.data), [3n, -12n, 2n ** 40n + 3n]);
    assert.equal(out.g.type, 'bool');
    assert.ok(out.g.data instanceof Uint8Array);
    assert.deepEqual(Array.from(out.g.data), [0, 1, 1]);
    s.release();
  });

  test('accepts path, file URL, Uint8Array (with offset), ArrayBuffer and onnxruntime tensors', async () => {
    const padded = new Uint8Array(addReluBytes.length + 3);
    padded.set(addReluBytes, 3);
    const sources = [
      addReluPath,
      pathToFileURL(addReluPath),
      pathToFileURL(addReluPath).href,
      addReluBytes,
      padded.subarray(3),
      addReluBytes.slice().buffer,
    ];
    for (const src of sources) {
      const s = await Session.create(src);
      await assertAddReluWorks(s);
      s.release();
    }
    const s = await Session.create(addReluPath);
    const f = feeds(3);
    const viaOrt = await s.run({ x: new ort.Tensor('float32', f.x.data, f.x.dims), y: new ort.Tensor('float32', f.y.data, [4]) });
    assert.deepEqual(Array.from(viaOrt.z.data), Array.from((await s.run(f)).z.data));
    s.release();
  });

  test('model bytes land 16-byte aligned in WASM memory (read_model contract)', async () => {
    const module = await loadModule();
    // Kept alive together so the allocator cannot hand back one lucky block each time.
    const live = [];
    for (let size = 1; size <= 64; ++size) {
      const ws = new module.WasmSession();
      live.push(ws);
      const r = ws.allocModel(size * 3);
      assert.ok(r.ok);
      assert.equal(r.view.length, size * 3);
      assert.equal(r.view.byteOffset % 16, 0, `size ${size * 3}: offset ${r.view.byteOffset}`);
    }
    for (const ws of live) ws.delete();
  });

  test('verifyHashes: false skips the weight check', async () => {
    const bytes = flipInWeights(addReluBytes);
    await assertKilnError(Session.create(bytes), 'invalid_model', /SHA-256|hash/i);
    const s = await Session.create(bytes, { verifyHashes: false });
    const out = await s.run({ x: new Tensor('float32', [1, 1, 1, 1], [1, 4]), y: new Tensor('float32', [0, 0, 0, 0]) });
    assert.notDeepEqual(Array.from(out.w.data), Array.from(K), 'the flipped weight is used');
    s.release();
  });
});

// Flips one bit inside the weight k (found by its bytes in the file).
function flipInWeights(bytes) {
  const needle = new Uint8Array(K.buffer);
  const at = Buffer.from(bytes).indexOf(Buffer.from(needle));
  assert.ok(at > 0, 'weight bytes found in the .kiln file');
  const copy = Uint8Array.from(bytes);
  copy[at + 5] ^= 0x40;
  return copy;
}

describe('errors are KilnErrors and the session keeps working', () => {
  let s;
  before(async () => {
    s = await Session.create(addReluPath);
  });

  const good = () => feeds(2);

  test('unknown input name', async () => {
    const e = await assertKilnError(s.run({ ...good(), q: new Tensor('float32', [1]) }), 'invalid_argument', /unknown input 'q'/);
    assert.match(e.message, /'x', 'y'/, 'names the model inputs');
    await assertAddReluWorks(s);
  });

  test('wrong dtype', async () => {
    await assertKilnError(
      s.run({ ...good(), x: new Tensor('int32', new Int32Array(8), [2, 4]) }),
      'invalid_argument',
      /^invalid argument: input 'x': expected dtype float32, got int32$/,
    );
    await assertAddReluWorks(s);
  });

  test('wrong rank', async () => {
    await assertKilnError(s.run({ ...good(), x: new Tensor('float32', new Float32Array(8), [2, 4, 1]) }), 'invalid_argument',
      /input 'x': expected shape \[batch,4\] \(rank 2\), got \[2,4,1\]/);
    await assertAddReluWorks(s);
  });

  test('wrong fixed dimension', async () => {
    await assertKilnError(s.run({ ...good(), y: new Tensor('float32', new Float32Array(5), [5]) }), 'invalid_argument',
      /input 'y': expected shape \[4\], got \[5\]/);
    await assertAddReluWorks(s);
  });

  test('missing input', async () => {
    await assertKilnError(s.run({ x: good().x }), 'invalid_argument', /missing input 'y'/);
    await assertAddReluWorks(s);
  });

  test('data length does not match dims', async () => {
    await assertKilnError(() => new Tensor('float32', new Float32Array(7), [2, 4]), 'invalid_argument', /7 elements but dims \[2,4\] need 8/);
    const t = new Tensor('float32', new Float32Array(8), [2, 4]);
    t.dims = [3, 4]; // changed after construction
    await assertKilnError(s.run({ ...good(), x: t }), 'invalid_argument', /input 'x': .*8 elements but dims \[3,4\] need 12/);
    await assertKilnError(s.run({ ...good(), x: { type: 'float32', data: new Int32Array(8), dims: [2, 4] } }), 'invalid_argument',
      /input 'x': a float32 tensor needs a Float32Array/);
    await assertAddReluWorks(s);
  });

  test('bad feeds and tensors', async () => {
    await assertKilnError(s.run(null), 'invalid_argument', /object mapping input names/);
    await assertKilnError(s.run({ ...good(), x: 3 }), 'invalid_argument', /input 'x': expected a Tensor/);
    await assertKilnError(() => new Tensor('complex64', new Float32Array(2)), 'invalid_argument', /unknown tensor type 'complex64'/);
    await assertKilnError(() => new Tensor('float32', new Float32Array(2), [-1, -2]), 'invalid_argument', /non-negative integers/);
    await assertKilnError(() => new Tensor('float32', new Float32Array(2), [1.5]), 'invalid_argument', /non-negative integers/);
    await assertAddReluWorks(s);
  });

  test('huge dims are refused without allocating', async () => {
    const t = new Tensor('float32', new Float32Array(0), [0, 4]);
    t.dims = [2 ** 40, 4];
    await assertKilnError(s.run({ ...good(), x: t }), 'invalid_argument', /elements but dims/);
    await assertAddReluWorks(s);
  });

  test('released session', async () => {
    const r = await Session.create(addReluPath);
    r.release();
    r.release(); // idempotent
    await assertKilnError(r.run(good()), 'invalid_argument', /released/);
    await assertAddReluWorks(s);
  });

  test('bad sources', async () => {
    await assertKilnError(Session.create(path.join(ROOT, 'no-such-model.kiln')), 'io', /no-such-model\.kiln/);
    await assertKilnError(Session.create(42), 'invalid_argument', /Uint8Array, ArrayBuffer, path or URL, got number/);
    await assertKilnError(Session.create(addReluPath, 'fast'), 'invalid_argument', /options/);
  });

  test('truncated model bytes', async () => {
    const n = addReluBytes.length;
    for (const len of [0, 3, 11, 100, n >> 1, n - 1]) {
      await assertKilnError(Session.create(addReluBytes.subarray(0, len)), 'invalid_model', /truncated/);
    }
    await assertAddReluWorks(s);
  });

  test('bit-flipped weights', async () => {
    await assertKilnError(Session.create(flipInWeights(addReluBytes)), 'invalid_model', /segment 0 is corrupt \(SHA-256 mismatch/);
    await assertAddReluWorks(s);
  });

  test('not a .kiln file at all', async () => {
    await assertKilnError(Session.create(ADD_RELU), 'invalid_model', /./);
    await assertKilnError(Session.create(new Uint8Array(4096).fill(0xff)), 'invalid_model', /./);
    await assertAddReluWorks(s);
  });

  test('every single-bit flip is an error value or a working model, never a trap', async () => {
    let loaded = 0;
    let refused = 0;
    for (let i = 0; i < addReluBytes.length; ++i) {
      for (const bit of [0x01, 0x80]) {
        const bytes = Uint8Array.from(addReluBytes);
        bytes[i] ^= bit;
        let m;
        try {
          m = await Session.create(bytes);
        } catch (e) {
          assert.ok(e instanceof KilnError, `byte ${i}: ${e}`);
          assert.notEqual(e.code, 'internal', `byte ${i} bit ${bit}: ${e.message}`);
          ++refused;
          continue;
        }
        ++loaded;
        try {
          await m.run(good());
        } catch (e) {
          assert.ok(e instanceof KilnError, `byte ${i}: ${e}`);
          assert.notEqual(e.code, 'internal', `byte ${i} bit ${bit} (run): ${e.message}`);
        }
        m.release();
      }
    }
    assert.ok(refused > 0 && loaded + refused === 2 * addReluBytes.length);
    await assertAddReluWorks(s);
  });
});

describe('Interpreter', () => {
  test('details, setTensor, invoke, getTensor', async () => {
    const it = await Interpreter.create(addReluBytes);
    const inputs = it.getInputDetails();
    assert.equal(inputs.length, 2);
    assert.equal(inputs[0].name, 'x');
    assert.equal(inputs[0].index, 0);
    assert.equal(inputs[0].dtype, 'float32');
    assert.ok(inputs[0].shape instanceof Int32Array);
    assert.deepEqual(Array.from(inputs[0].shape), [-1, 4]);
    assert.deepEqual(inputs[0].dims, ['batch', 4]);
    assert.deepEqual(Array.from(inputs[1].shape), [4]);
    assert.deepEqual(it.getOutputDetails().map((d) => [d.name, d.index]), [['z', 0], ['w', 1]]);

    const f = feeds(3, 11);
    it.setTensor(0, f.x.data, [3, 4]); // symbolic: dims required
    it.setTensor(1, f.y.data); // fixed: dims from the model
    it.invoke();
    const ref = await ortRun(ADD_RELU, f);
    const z = it.getTensor(0);
    assert.deepEqual(z.dims, [3, 4]);
    assert.deepEqual(Array.from(z.data), Array.from(ref.z.data));
    assert.deepEqual(Array.from(it.getTensor(1).data), Array.from(ref.w.data));

    // Inputs stay set: change one and invoke again.
    const f2 = feeds(1, 12);
    it.setTensor(0, f2.x);
    it.invoke();
    const ref2 = await ortRun(ADD_RELU, { x: f2.x, y: f.y });
    assert.deepEqual(Array.from(it.getTensor(0).data), Array.from(ref2.z.data));
    it.release();
  });

  test('errors', async () => {
    const it = await Interpreter.create(addReluPath);
    await assertKilnError(() => it.getTensor(0), 'invalid_argument', /invoke\(\) first/);
    await assertKilnError(() => it.setTensor(0, new Float32Array(8)), 'invalid_argument', /input 'x' has shape \[batch,4\] with symbolic dims: pass dims/);
    await assertKilnError(() => it.setTensor(1, new Int32Array(4)), 'invalid_argument', /input 'y': expected dtype float32 \(Float32Array\), got Int32Array/);
    await assertKilnError(() => it.setTensor(2, new Float32Array(4)), 'out_of_range', /input index 2 is out of range; the model has 2 inputs/);
    await assertKilnError(() => it.setTensor(1, new Float32Array(3)), 'invalid_argument', /3 elements but dims \[4\] need 4/);
    it.setTensor(0, new Float32Array(8), [2, 4]);
    await assertKilnError(() => it.invoke(), 'invalid_argument', /missing input 'y'/);
    it.setTensor(1, new Float32Array([1, -1, 2, -2]));
    it.invoke();
    assert.deepEqual(Array.from(it.getTensor(0).data), [1, 0, 2, 0, 1, 0, 2, 0]);
    await assertKilnError(() => it.getTensor(5), 'out_of_range', /output index 5/);
    it.release();
    await assertKilnError(() => it.invoke(), 'invalid_argument', /released/);
  });
});

describe('real model', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'scripts', 'models.json'), 'utf8'));
  const onnxPath = path.join(ROOT, '.cache', 'models', manifest.models.classifier);

  test('text-angle classifier matches onnxruntime-node', { skip: !fs.existsSync(onnxPath) && 'run `node scripts/fetch-models.mjs`' }, async () => {
    const kilnPath = convert(onnxPath, 'classifier');
    const s = await Session.create(kilnPath);
    assert.equal(s.inputs.length, 1);
    const { name } = s.inputs[0];
    const x = new Tensor('float32', randomFloats(3 * 48 * 192, 3), [1, 3, 48, 192]);
    const out = await s.run({ [name]: x });
    const ref = await ortRun(fs.readFileSync(onnxPath), { [name]: x });
    for (const { name: o } of s.outputs) {
      assert.deepEqual(out[o].dims, Array.from(ref[o].dims));
      const err = maxError(out[o].data, ref[o].data, { atol: 1e-4, rtol: 1e-3 });
      assert.ok(err <= 1, `output ${o}: error ${err} (kiln ${out[o].data.slice(0, 4)} vs ort ${ref[o].data.slice(0, 4)})`);
    }
    s.release();
  });
});
