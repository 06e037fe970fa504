#!/usr/bin/env bash
# Generates the TypeScript reader of the .kiln table from src/format/model.fbs with flatc,
# compiled to web/generated/model_generated.{js,d.ts} so the package can read a model's
# metadata without loading WebAssembly. Skips work when the output is newer than the schema.
#
# The FlatBuffers JS runtime (npm `flatbuffers`, ES module build) is copied beside it into
# web/generated/flatbuffers/ and imported by relative path: a bare `'flatbuffers'` import
# would need an import map in a plain page and cannot resolve at all in a module Worker.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
out=web/generated/model_generated.js
runtime=web/generated/flatbuffers
if [[ -f $out && $out -nt src/format/model.fbs && -f $runtime/index.js ]] &&
   grep -q "from './flatbuffers/index.js'" $out; then exit 0; fi
mkdir -p build/ts web/generated
flatc --ts --ts-flat-files -o build/ts src/format/model.fbs
node_modules/.bin/tsc build/ts/model_generated.ts --outDir web/generated --module es2020 --target es2020 \
  --moduleResolution node --declaration --skipLibCheck --types flatbuffers
rm -rf $runtime
cp -r node_modules/flatbuffers/mjs $runtime
cp node_modules/flatbuffers/LICENSE.txt $runtime/
sed -i "s#from 'flatbuffers'#from './flatbuffers/index.js'#" $out web/generated/model_generated.d.ts
grep -q "from './flatbuffers/index.js'" $out || { echo "gen-schema-ts: could not rewrite the flatbuffers import in $out" >&2; exit 1; }
