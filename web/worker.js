// The Web Worker behind Session.create(source, { worker: true }): owns one Session and
// answers the messages of worker-session.js. Outputs go back as transferred buffers.
import createKiln from './dist/kiln.js';
import { KilnError } from './errors.js';
import { setOwnGlue } from './loader.js';
import { Session } from './session.js';
import { Tensor } from './tensor.js';

// A static import: the worker needs the glue at once, and a worker bundle without dynamic
// imports builds in any worker format.
setOwnGlue(async () => ({ default: createKiln }));

let session = null;

function modelSource(source) {
  if (source.kind === 'response') return new Response(source.body, { status: 200, headers: source.headers });
  return source.value;
}

async function handle({ id, type, ...msg }) {
  switch (type) {
    case 'create': {
      const options = { ...msg.options };
      if (msg.progress) options.onProgress = (event) => self.postMessage({ id, type: 'progress', event: { ...event } });
      session = await Session.create(modelSource(msg.source), options);
      return {
        value: {
          inputs: session.inputs,
          outputs: session.outputs,
          backendInfo: session.backendInfo,
          loadInfo: session.loadInfo,
        },
      };
    }
    case 'run': {
      const feeds = {};
      for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new Tensor(t.type, t.data, t.dims);
      const out = await session.run(feeds);
      const value = {}, transfer = [];
      for (const [name, t] of Object.entries(out)) {
        value[name] = { type: t.type, data: t.data, dims: t.dims };
        transfer.push(t.data.buffer);
      }
      return { value, transfer };
    }
    case 'release':
      session?.release();
      session = null;
      return { value: null };
    default:
      throw new Error(`kiln worker: unknown message '${type}'`);
  }
}

self.onmessage = async (e) => {
  const { id } = e.data;
  try {
    const { value, transfer = [] } = await handle(e.data);
    self.postMessage({ id, type: 'result', value }, transfer);
  } catch (err) {
    const error = err instanceof KilnError
      ? { code: err.code, message: err.message }
      : { code: 'internal', message: `internal error: kiln worker: ${err?.message ?? err}` };
    self.postMessage({ id, type: 'error', error });
  }
};
