// The app the bundler test builds with Vite and with webpack: it imports the package by
// name (resolved through package.json "exports"), so nothing here points into web/.
import { Session, Tensor } from 'kiln';
import { decodePNG, preprocessRecognizer } from 'kiln/ocr';

function base64(view) {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

// Reads /textline.png with the recognizer at /models/rec.kiln; options go to Session.create.
async function recognize(options = {}) {
  const png = new Uint8Array(await (await fetch('/textline.png')).arrayBuffer());
  const x = preprocessRecognizer(await decodePNG(png));
  const session = await Session.create('/models/rec.kiln', options);
  try {
    const out = await session.run({ [session.inputNames[0]]: new Tensor('float32', x.data, x.dims) });
    const y = out[session.outputNames[0]];
    return { dims: y.dims, data: base64(y.data), backendInfo: session.backendInfo };
  } finally {
    session.release();
  }
}

window.kilnApp = { recognize };
