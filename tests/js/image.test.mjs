// imageToTensor, softmax and topK (web/image.js) on hand-computed values.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { KilnError, Tensor, imageToTensor, softmax, topK } from '../../web/index.js';

// 2x1 RGBA: a red pixel and a (10, 20, 30) pixel; alpha is ignored.
const rgba = { width: 2, height: 1, data: new Uint8ClampedArray([255, 0, 0, 7, 10, 20, 30, 255]) };

test('imageToTensor: layouts, channel order, normalization', () => {
  const nchw = imageToTensor(rgba);
  assert.deepEqual(nchw.dims, [1, 3, 1, 2]);
  assert.deepEqual(Array.from(nchw.data), [1, 10 / 255, 0, 20 / 255, 0, 30 / 255].map(Math.fround));
  const nhwc = imageToTensor(rgba, { layout: 'NHWC', channelOrder: 'bgr', scale: 1, mean: [1, 2, 3], std: 2 });
  assert.deepEqual(nhwc.dims, [1, 1, 2, 3]);
  assert.deepEqual(Array.from(nhwc.data), [(0 - 1) / 2, (0 - 2) / 2, (255 - 3) / 2, (30 - 1) / 2, (20 - 2) / 2, (10 - 3) / 2]);
  const gray = imageToTensor(rgba, { channels: 1, dtype: 'uint8' });
  assert.equal(gray.type, 'uint8');
  assert.deepEqual(Array.from(gray.data), [85, 20]);
  const fromGray = imageToTensor({ width: 1, height: 1, channels: 1, data: [51] }, { scale: 1 });
  assert.deepEqual(Array.from(fromGray.data), [51, 51, 51]);
});

test('imageToTensor: bilinear resize with centred pixels', () => {
  // 2x1 gray 0 and 100 -> 4x1: centres at -0.25, 0.25, 0.75, 1.25 -> 0, 25, 75, 100.
  const t = imageToTensor({ width: 2, height: 1, channels: 1, data: [0, 100] }, { width: 4, height: 2, channels: 1, scale: 1 });
  assert.deepEqual(t.dims, [1, 1, 2, 4]);
  assert.deepEqual(Array.from(t.data), [0, 25, 75, 100, 0, 25, 75, 100]);
});

test('imageToTensor: bad input is a KilnError', () => {
  for (const [src, opts] of [[{ width: 2, height: 2, data: new Uint8Array(5) }, {}], [rgba, { layout: 'chw' }],
    [rgba, { mean: [1, 2] }], [rgba, { width: 0 }], [42, {}], [rgba, { channels: 2 }]]) {
    assert.throws(() => imageToTensor(src, opts), (e) => e instanceof KilnError && e.code === 'invalid_argument');
  }
});

test('softmax over the last dim and topK', () => {
  const p = softmax(new Tensor('float32', new Float32Array([0, Math.log(3), 1000, 1000]), [2, 2]));
  [0.25, 0.75, 0.5, 0.5].forEach((want, i) => assert.ok(Math.abs(p[i] - want) < 1e-6, `p[${i}] = ${p[i]}`));
  assert.deepEqual(topK([0.1, 0.7, NaN, 0.7, 0.3], 3), [{ index: 1, value: 0.7 }, { index: 3, value: 0.7 }, { index: 4, value: 0.3 }]);
  assert.deepEqual(topK(new Tensor('float32', new Float32Array([2, 9]), [1, 2]), 1, ['cat', 'dog']), [{ index: 1, value: 9, label: 'dog' }]);
  assert.throws(() => topK(new Tensor('float32', new Float32Array(4), [2, 2])), (e) => e.code === 'invalid_argument');
  assert.throws(() => topK([1], 0), (e) => e.code === 'invalid_argument');
});
