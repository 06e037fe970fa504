// KilnError: every failure the package reports. `code` is one of 'invalid_argument',
// 'invalid_model', 'unsupported', 'out_of_range', 'io', 'internal'; the message names
// the problem, e.g. "invalid argument: input 'x': expected dtype float32, got int32".
export class KilnError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'KilnError';
    this.code = code;
  }
}

const PREFIX = {
  invalid_argument: 'invalid argument',
  invalid_model: 'invalid model',
  unsupported: 'unsupported',
  out_of_range: 'out of range',
  io: 'i/o error',
  internal: 'internal error',
};

// Builds an error whose message has the same "code: detail" form as the C++ side.
export function kilnError(code, detail, options) {
  return new KilnError(code, `${PREFIX[code] ?? code}: ${detail}`, options);
}

// Unwraps a {ok, ...} result object from the WASM bindings, throwing KilnError on failure.
export function check(result) {
  if (!result.ok) throw new KilnError(result.code, result.message);
  return result;
}
