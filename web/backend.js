// Which WebAssembly build of kiln runs, where its files are, and why it was picked.
//
// Every build needs WebAssembly SIMD128. Builds are listed in preference order; a build
// that needs threads is only picked where SharedArrayBuffer exists and the page is
// cross-origin isolated (COOP same-origin + COEP require-corp), otherwise the next one,
// and the reason is reported in session.backendInfo. A build is only picked when the
// package ships it (`shipped`): the threaded build joins by flipping that flag and
// putting kiln-threads.{js,wasm,worker.js} into web/dist.
import { kilnError } from './errors.js';

export const BUILDS = Object.freeze([
  Object.freeze({ name: 'simd-threads', js: 'kiln-threads.js', wasm: 'kiln-threads.wasm', threads: true, shipped: false }),
  Object.freeze({ name: 'simd', js: 'kiln.js', wasm: 'kiln.wasm', threads: false, shipped: true }),
]);

// (module (func (result v128) (i32x4.splat (i32.const 0)))), from wat2wasm.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0,
  65, 0, 253, 17, 11]);

const isNodeRealm = () =>
  typeof process === 'object' && process !== null && typeof process.versions?.node === 'string' &&
  typeof window === 'undefined' && typeof WorkerGlobalScope === 'undefined';

/** What the current realm offers: {simd, sharedArrayBuffer, crossOriginIsolated, node}. */
export function detectEnvironment() {
  const node = isNodeRealm();
  let simd = false;
  try {
    simd = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    simd = false;
  }
  return {
    simd,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    // Node has no COOP/COEP: shared memory is always allowed there.
    crossOriginIsolated: node || globalThis.crossOriginIsolated === true,
    node,
  };
}

// Why a threaded build cannot run here, or null when it can.
function whyNoThreads(build, env) {
  if (!env.crossOriginIsolated)
    return 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)';
  if (!env.sharedArrayBuffer) return 'SharedArrayBuffer is not available';
  if (!build.shipped) return `this package does not ship the ${build.name} build yet`;
  return null;
}

/**
 * Picks a build. options.build: 'auto' (default) or a build name to insist on.
 * Returns { build, reason } where reason says why it was picked (and why better ones were not).
 */
export function selectBuild(options = {}, env = detectEnvironment()) {
  const requested = options.build ?? 'auto';
  if (!env.simd)
    throw kilnError('unsupported', 'this JavaScript engine lacks WebAssembly SIMD (128-bit), which every kiln build needs');
  if (requested !== 'auto') {
    const build = BUILDS.find((b) => b.name === requested);
    if (!build)
      throw kilnError('invalid_argument', `unknown build '${requested}'; expected 'auto' or one of ${BUILDS.map((b) => b.name).join(', ')}`);
    if (!build.shipped) throw kilnError('unsupported', `this package does not ship the ${build.name} build`);
    const why = build.threads ? whyNoThreads(build, env) : null;
    if (why) throw kilnError('unsupported', `the ${build.name} build cannot run here: ${why}`);
    return { build, reason: `${build.name} requested by options.build` };
  }
  const skipped = [];
  for (const build of BUILDS) {
    const why = build.threads ? whyNoThreads(build, env) : build.shipped ? null : 'not shipped';
    if (!why) {
      const because = build.threads ? 'SharedArrayBuffer and cross-origin isolation are available' : 'WebAssembly SIMD is available';
      return { build, reason: [`${build.name}: ${because}`, ...skipped].join('; ') };
    }
    skipped.push(`not ${build.name}: ${why}`);
  }
  throw kilnError('unsupported', `no kiln build can run here (${skipped.join('; ')})`);
}

// The shipped .wasm as a literal `new URL(..., import.meta.url)`: Vite and webpack see it,
// emit the file and rewrite the URL; other builds' files sit beside it in web/dist.
const shippedWasm = () => new URL('./dist/kiln.wasm', import.meta.url);

function baseHref() {
  return globalThis.location?.href;
}

/**
 * The URLs of a build's files. wasmPaths overrides where they are: a directory URL
 * (string or URL) for the .wasm file, or an object mapping file names ('kiln.wasm',
 * 'kiln.js') to URLs. Default: web/dist/ beside this module.
 * Returns { js: URL | null (null = the package's own glue), wasm: URL }.
 */
export function buildUrls(build, wasmPaths) {
  const own = (file) => (file === 'kiln.wasm' ? shippedWasm() : new URL(file, shippedWasm()));
  if (wasmPaths === undefined || wasmPaths === null) return { js: build.name === 'simd' ? null : own(build.js), wasm: own(build.wasm) };
  if (typeof wasmPaths === 'string' || wasmPaths instanceof URL) {
    let dir = String(wasmPaths instanceof URL ? wasmPaths.href : wasmPaths);
    if (!dir.endsWith('/')) dir += '/';
    let wasm;
    try {
      wasm = new URL(build.wasm, new URL(dir, baseHref()));
    } catch (e) {
      throw kilnError('invalid_argument', `wasmPaths '${dir}' is not a valid URL: ${e.message}`);
    }
    return { js: build.name === 'simd' ? null : own(build.js), wasm };
  }
  if (typeof wasmPaths === 'object') {
    const pick = (file) => {
      const v = wasmPaths[file];
      if (v === undefined) return null;
      try {
        return new URL(v instanceof URL ? v.href : String(v), baseHref());
      } catch (e) {
        throw kilnError('invalid_argument', `wasmPaths['${file}'] is not a valid URL: ${e.message}`);
      }
    };
    return { js: pick(build.js) ?? (build.name === 'simd' ? null : own(build.js)), wasm: pick(build.wasm) ?? own(build.wasm) };
  }
  throw kilnError('invalid_argument', `wasmPaths must be a URL string, a URL or an object, got ${typeof wasmPaths}`);
}
