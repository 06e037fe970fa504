// kiln: run .kiln models in Node and browsers (WebAssembly + SIMD128).
//   import { Session, Tensor } from 'kiln';
//   const session = await Session.create('model.kiln');
//   const out = await session.run({ x: new Tensor('float32', data, [1, 3, 48, 320]) });
import { setOwnGlue } from './loader.js';
import { setWorkerSessionLoader } from './session.js';

// Loaded on demand, as literal imports so bundlers emit them (see loader.js, session.js).
setOwnGlue(() => import('./dist/kiln.js'));
setWorkerSessionLoader(() => import('./worker-session.js'));

export { KilnError } from './errors.js';
export { Tensor } from './tensor.js';
export { Session } from './session.js';
export { Interpreter } from './interpreter.js';
export { readModelInfo } from './metadata.js';
export { imageToTensor, softmax, topK } from './image.js';
