// webpack's defaults: no loaders or plugins are needed for kiln (the .wasm file and the
// worker are found through `new URL(..., import.meta.url)`).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export default {
  mode: 'production',
  entry: './src/main.js',
  output: { path: path.join(here, 'dist'), filename: 'main.js' },
  performance: { hints: false },
};
