// A small static file server for the browser tests and the web demo: 127.0.0.1 only,
// a random port by default, byte ranges (206, for resumed downloads), optional
// cross-origin isolation headers (COOP/COEP, needed for SharedArrayBuffer / threads),
// extra mounts (e.g. /models/ -> a cache dir) and a request hook for tests that need
// to break things (cut a connection, corrupt a byte).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain; charset=utf-8',
  '.kiln': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
};

// Maps a URL path to a file under root or one of the mounts; null when outside them.
function resolvePath(urlPath, root, mounts) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  for (const [prefix, dir] of Object.entries(mounts)) {
    if (decoded.startsWith(prefix)) return inside(dir, decoded.slice(prefix.length));
  }
  return inside(root, decoded);
}

function inside(dir, rel) {
  const base = path.resolve(dir);
  const full = path.resolve(base, '.' + path.posix.normalize('/' + rel));
  return full === base || full.startsWith(base + path.sep) ? full : null;
}

// Parses "bytes=a-b" / "bytes=a-" / "bytes=-n" against size; null when unsatisfiable.
export function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start, end;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start <= end && start < size ? { start, end } : null;
}

/**
 * Starts the server. Options: root (directory served at /), isolated (send COOP/COEP),
 * mounts ({'/models/': dir}), port (0 = random), onRequest(req, res, file) returning true
 * when it answered the request itself, log (a function given each request line).
 * Resolves to { url, port, requests, close() }; `requests` records {method, path, search, range}.
 */
export async function startServer({ root, isolated = false, mounts = {}, port = 0, onRequest, log } = {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const { pathname: urlPath, search } = new URL(req.url, 'http://127.0.0.1');
    requests.push({ method: req.method, path: urlPath, search, range: req.headers.range ?? null });
    log?.(`${req.method} ${req.url}${req.headers.range ? ` (${req.headers.range})` : ''}`);
    res.setHeader('Cache-Control', 'no-store');
    if (isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    }
    let file = resolvePath(urlPath.endsWith('/') ? urlPath + 'index.html' : urlPath, root, mounts);
    if (onRequest?.(req, res, file)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let stat = null;
    try {
      stat = file ? fs.statSync(file) : null;
      if (stat?.isDirectory()) {
        file = path.join(file, 'index.html');
        stat = fs.statSync(file);
      }
    } catch {
      stat = null;
    }
    if (!stat?.isFile() && urlPath === '/favicon.ico') {
      res.writeHead(204).end(); // browsers ask for it unprompted; no icon is not an error
      return;
    }
    if (!stat?.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${urlPath}\n`);
      return;
    }
    serveFile(req, res, file, stat);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = server.address().port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Sends a file (or the byte range the request asks for) with type, length and ETag. */
export function serveFile(req, res, file, stat = fs.statSync(file)) {
  const size = stat.size;
  const etag = `"${size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  const headers = {
    'Content-Type': MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    ETag: etag,
  };
  let start = 0, end = size - 1, status = 200;
  const ifRange = req.headers['if-range'];
  if (req.headers.range && (!ifRange || ifRange === etag)) {
    const r = parseRange(req.headers.range, size);
    if (!r) {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    ({ start, end } = r);
    status = 206;
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['Content-Length'] = String(end - start + 1);
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  fs.createReadStream(file, { start, end }).pipe(res);
}
