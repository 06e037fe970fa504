#!/usr/bin/env bash
# Re-creates tests/data/textline.png, the text-line image the OCR demo and tests
# read: "kiln runs models in the browser", black DejaVu Sans on white, 520x48,
# rendered by Debian's headless Chromium (apt-get install chromium fonts-dejavu-core).
# The tests pin the decoded pixels' SHA-256, so a re-render that differs must
# update tests/js/models-ocr.test.mjs too.
#
#   bash scripts/make-textline.sh [TEXT] [WIDTH] [OUT.png]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEXT="${1:-kiln runs models in the browser}"
WIDTH="${2:-520}"
OUT="$(realpath -m "${3:-$ROOT/tests/data/textline.png}")"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cat >"$TMP/line.html" <<EOF
<!doctype html><html><head><meta charset="utf-8"><style>
html,body{margin:0;padding:0;background:#fff;}
div{font-family:'DejaVu Sans',sans-serif;font-size:30px;line-height:48px;height:48px;padding:0 8px;
    color:#000;white-space:nowrap;display:inline-block}
</style></head><body><div>${TEXT}</div></body></html>
EOF
chromium --headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$TMP/profile" \
  --window-size="$WIDTH,48" --screenshot="$OUT" "file://$TMP/line.html" >"$TMP/chromium.log" 2>&1 \
  || { cat "$TMP/chromium.log" >&2; exit 1; }
echo "wrote $OUT ($(stat -c %s "$OUT") bytes)"
