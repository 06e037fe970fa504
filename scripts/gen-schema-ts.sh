#!/usr/bin/env bash
# Generates the TypeScript reader of the .kiln table from src/format/model.fbs with flatc,
# compiled to web/generated/model_generated.{js,d.ts} so the package can read a model's
# metadata without loading WebAssembly. Skips work when the output is newer than the schema.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
out=web/generated/model_generated.js
if [[ -f $out && $out -nt src/format/model.fbs ]]; then exit 0; fi
mkdir -p build/ts web/generated
flatc --ts --ts-flat-files -o build/ts src/format/model.fbs
node_modules/.bin/tsc build/ts/model_generated.ts --outDir web/generated --module es2020 --target es2020 \
  --moduleResolution node --declaration --skipLibCheck --types flatbuffers
