// A tiny ONNX (protobuf) writer for tests: builds small models with exactly the
// inputs, symbolic dims and initializers a test needs, so kiln can be checked
// against onnxruntime-node on the same file. Field numbers are from onnx.proto.

const ELEM = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float64: 11 };

class Writer {
  constructor() {
    this.parts = [];
  }
  varint(v) {
    let x = BigInt.asUintN(64, BigInt(v));
    const out = [];
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x) b |= 0x80;
      out.push(b);
    } while (x);
    this.parts.push(Uint8Array.from(out));
    return this;
  }
  tag(field, wire) {
    return this.varint((field << 3) | wire);
  }
  int(field, v) {
    return this.tag(field, 0).varint(v);
  }
  bytes(field, data) {
    this.tag(field, 2).varint(data.length);
    this.parts.push(data);
    return this;
  }
  string(field, s) {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  message(field, build) {
    const w = new Writer();
    build(w);
    return this.bytes(field, w.finish());
  }
  finish() {
    const n = this.parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

// dims entries: numbers (fixed) or strings (symbolic).
function valueInfo(w, field, { name, type, dims }) {
  w.message(field, (vi) => {
    vi.string(1, name);
    vi.message(2, (tp) =>
      tp.message(1, (tt) => {
        tt.int(1, ELEM[type]);
        tt.message(2, (shape) => {
          for (const d of dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        });
      }),
    );
  });
}

function tensorProto(w, field, { name, type, dims, data }) {
  w.message(field, (t) => {
    for (const d of dims) t.int(1, d);
    t.int(2, ELEM[type]);
    t.string(8, name);
    t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)); // raw_data, little-endian
  });
}

function attribute(w, name, value) {
  w.message(5, (a) => {
    a.string(1, name);
    if (Number.isInteger(value)) a.int(3, value).int(20, 2); // i, type INT
    else if (typeof value === 'number') {
      const f = new Uint8Array(new Float32Array([value]).buffer);
      a.tag(2, 5);
      a.parts.push(f);
      a.int(20, 1); // f, type FLOAT
    } else if (typeof value === 'string') a.string(4, value).int(20, 3); // s, type STRING
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      for (const v of value) a.string(9, v); // strings
      a.int(20, 8);
    } else if (Array.isArray(value)) {
      for (const v of value) a.int(8, v); // ints (unpacked)
      a.int(20, 7);
    } else if (value?.floats) {
      for (const v of value.floats) a.tag(7, 5).parts.push(new Uint8Array(new Float32Array([v]).buffer)); // floats
      a.int(20, 6);
    } else throw new Error(`attribute ${name}: unsupported value`);
  });
}

// model: { opset, domains?, inputs: [valueInfo], outputs: [valueInfo], initializers: [tensor],
//          nodes: [{ op, inputs, outputs, name?, attrs?, domain? }] } -> ONNX bytes
export function buildOnnx(model) {
  const w = new Writer();
  w.int(1, 8); // ir_version
  w.string(2, 'kiln-tests');
  w.message(7, (g) => {
    model.nodes.forEach((n, i) =>
      g.message(1, (nw) => {
        for (const x of n.inputs) nw.string(1, x);
        for (const y of n.outputs) nw.string(2, y);
        nw.string(3, n.name ?? `${n.op.toLowerCase()}_${i}`);
        nw.string(4, n.op);
        if (n.domain) nw.string(7, n.domain); // e.g. 'kiln' for kiln's own ops
        for (const [k, v] of Object.entries(n.attrs ?? {})) attribute(nw, k, v);
      }),
    );
    g.string(2, 'test');
    for (const t of model.initializers ?? []) tensorProto(g, 5, t);
    for (const v of model.inputs) valueInfo(g, 11, v);
    for (const v of model.outputs) valueInfo(g, 12, v);
  });
  w.message(8, (op) => op.string(1, '').int(2, model.opset ?? 13));
  // Other operator sets the nodes use, e.g. { 'com.microsoft': 1 }.
  for (const [domain, version] of Object.entries(model.domains ?? {})) w.message(8, (op) => op.string(1, domain).int(2, version));
  return w.finish();
}
