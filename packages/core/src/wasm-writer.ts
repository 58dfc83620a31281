/**
 * A small WebAssembly binary writer: what the CPU's code generator and the devices' port fast paths
 * emit (one imported memory, imported functions, functions with i32/i64/f64 locals, structured
 * control flow). Encodings from the WebAssembly core specification (binary format, §5). It is a
 * subpath export (`@unimachine/core/wasm-writer`) so a device that never generates code never loads it.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export type ValType = typeof I32 | typeof I64 | typeof F64;

/** Opcodes the generator uses. */
export const Op = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d,
  return: 0x0f, call: 0x10, drop: 0x1a, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i64Load: 0x29, f64Load: 0x2b,
  i32Load8U: 0x2d, i32Load16U: 0x2f, i64Load8U: 0x31, i64Load16U: 0x33, i64Load32U: 0x35,
  i64Load8S: 0x30, i64Load16S: 0x32, i64Load32S: 0x34,
  i32Store: 0x36, i64Store: 0x37, f64Store: 0x39, i32Store8: 0x3a, i32Store16: 0x3b,
  i64Store8: 0x3c, i64Store16: 0x3d, i64Store32: 0x3e,
  i32Const: 0x41, i64Const: 0x42,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GtS: 0x4a, i32GtU: 0x4b,
  i32LeS: 0x4c, i32LeU: 0x4d, i32GeS: 0x4e, i32GeU: 0x4f,
  i64Eqz: 0x50, i64Eq: 0x51, i64Ne: 0x52, i64LtS: 0x53, i64LtU: 0x54, i64GtS: 0x55, i64GtU: 0x56,
  i64LeS: 0x57, i64LeU: 0x58, i64GeS: 0x59, i64GeU: 0x5a,
  f64Eq: 0x61, f64Ne: 0x62, f64Lt: 0x63, f64Gt: 0x64, f64Le: 0x65, f64Ge: 0x66,
  i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73, i32Shl: 0x74,
  i32ShrS: 0x75, i32ShrU: 0x76,
  i32Popcnt: 0x69,
  i64Add: 0x7c, i64Sub: 0x7d, i64Mul: 0x7e, i64DivS: 0x7f, i64DivU: 0x80, i64RemS: 0x81, i64RemU: 0x82, i64And: 0x83, i64Or: 0x84, i64Xor: 0x85, i64Shl: 0x86,
  i64ShrS: 0x87, i64ShrU: 0x88,
  f64Floor: 0x9c, f64Add: 0xa0, f64Sub: 0xa1, f64Mul: 0xa2, f64Div: 0xa3, f64Const: 0x44,
  i32WrapI64: 0xa7, i32TruncF64U: 0xab, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad, i64TruncF64S: 0xb0,
  f64ConvertI64S: 0xb9, f64ConvertI32U: 0xb8,
} as const;

/** Block type "no result". */
export const VOID = 0x40;

const F64_SCRATCH = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64_SCRATCH.buffer);

/** Growable byte buffer with LEB128 writers. */
export class Bytes {
  private buf = new Uint8Array(1024);
  length = 0;

  byte(b: number): this {
    if (this.length === this.buf.length) this.reserve(1);
    this.buf[this.length++] = b;
    return this;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
  }

  bytes(bs: ArrayLike<number>): this {
    for (let i = 0; i < bs.length; i++) this.byte(bs[i]);
    return this;
  }

  u32(v: number): this {
    v >>>= 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
    return this;
  }

  /** Signed LEB128 of a 32-bit value. */
  s32(v: number): this {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { this.byte(b); return this; }
      this.byte(b | 0x80);
    }
  }

  /** Signed LEB128 of the 64-bit value hi:lo (two int32 halves, no BigInt). */
  s64(lo: number, hi: number): this {
    lo >>>= 0; hi |= 0;
    for (;;) {
      const b = lo & 0x7f;
      // Shift the 64-bit pair right by 7, arithmetically.
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi >>= 7;
      const done = (hi === 0 && lo === 0 && (b & 0x40) === 0) || (hi === -1 && lo === 0xffffffff && (b & 0x40) !== 0);
      if (done) { this.byte(b); return this; }
      this.byte(b | 0x80);
    }
  }

  f64(v: number): this {
    F64_SCRATCH[0] = v;
    this.reserve(8);
    this.buf.set(F64_BYTES, this.length);
    this.length += 8;
    return this;
  }

  /** Append `other`'s bytes. */
  append(other: Bytes): this {
    this.reserve(other.length);
    this.buf.set(other.buf.subarray(0, other.length), this.length);
    this.length += other.length;
    return this;
  }

  /** A length-prefixed copy of `other`. */
  sized(other: Bytes): this {
    return this.u32(other.length).append(other);
  }

  name(s: string): this {
    this.u32(s.length);
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
    return this;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export interface FuncType { params: ValType[]; results: ValType[] }
export interface Import { module: string; name: string; type: FuncType }

/** One function body: locals by type, then code. */
export class FunctionBody {
  readonly code = new Bytes();
  private readonly locals: ValType[] = [];
  /** Structured blocks open at this point (block, loop, if): labels are depths (see label/brTo). */
  private open = 0;

  constructor(readonly type: FuncType) {}

  /** A new local of `t`; returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.type.params.length + this.locals.length - 1;
  }

  op(code: number): this { this.code.byte(code); return this; }
  get(l: number): this { this.code.byte(Op.localGet).u32(l); return this; }
  set(l: number): this { this.code.byte(Op.localSet).u32(l); return this; }
  tee(l: number): this { this.code.byte(Op.localTee).u32(l); return this; }
  i32(v: number): this { this.code.byte(Op.i32Const).s32(v); return this; }
  i64(lo: number, hi = lo >> 31): this { this.code.byte(Op.i64Const).s64(lo, hi); return this; }
  f64(v: number): this { this.code.byte(Op.f64Const).f64(v); return this; }
  /** A load or store with its alignment hint and constant offset. */
  mem(code: number, offset: number, align = 0): this { this.code.byte(code).u32(align).u32(offset); return this; }
  call(f: number): this { this.code.byte(Op.call).u32(f); return this; }
  if(): this { this.open++; this.code.byte(Op.if).byte(VOID); return this; }
  block(): this { this.open++; this.code.byte(Op.block).byte(VOID); return this; }
  loop(): this { this.open++; this.code.byte(Op.loop).byte(VOID); return this; }
  br(depth: number): this { this.code.byte(Op.br).u32(depth); return this; }
  brIf(depth: number): this { this.code.byte(Op.brIf).u32(depth); return this; }
  /** The innermost open block, as a label for brTo (valid while that block is open). */
  label(): number { return this.open; }
  /** Branch to `label` (a block: to its end; a loop: to its start). */
  brTo(label: number): this { return this.br(this.open - label); }
  brTable(depths: number[], fallback: number): this {
    this.code.byte(0x0e).u32(depths.length);
    for (const d of depths) this.code.u32(d);
    this.code.u32(fallback);
    return this;
  }
  end(): this { this.open--; this.code.byte(Op.end); return this; }
  drop(): this { this.code.byte(Op.drop); return this; }

  encode(out: Bytes): void {
    const body = new Bytes();
    // Locals as runs of one type.
    const runs: [number, ValType][] = [];
    for (const t of this.locals) {
      if (runs.length && runs[runs.length - 1][1] === t) runs[runs.length - 1][0]++;
      else runs.push([1, t]);
    }
    body.u32(runs.length);
    for (const [n, t] of runs) body.u32(n).byte(t);
    body.append(this.code).byte(Op.end);
    out.sized(body);
  }
}

function typeKey(t: FuncType): string {
  return t.params.join(',') + '>' + t.results.join(',');
}

/**
 * Build a module importing `env.mem` (the machine's memory, `memPages` pages) and `imports`, defining
 * `functions` and exporting them as f0, f1, ...
 */
export function buildModule(memPages: number, imports: Import[], functions: FunctionBody[]): Uint8Array {
  const types: FuncType[] = [];
  const typeIndex = new Map<string, number>();
  const idx = (t: FuncType): number => {
    const k = typeKey(t);
    let i = typeIndex.get(k);
    if (i === undefined) { i = types.length; types.push(t); typeIndex.set(k, i); }
    return i;
  };
  const importTypes = imports.map((im) => idx(im.type));
  const funcTypes = functions.map((f) => idx(f.type));

  const out = new Bytes().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const section = (id: number, body: Bytes): void => { out.byte(id).sized(body); };

  const typeSec = new Bytes().u32(types.length);
  for (const t of types) {
    typeSec.byte(0x60).u32(t.params.length).bytes(t.params).u32(t.results.length).bytes(t.results);
  }
  section(1, typeSec);

  const importSec = new Bytes().u32(imports.length + 1);
  importSec.name('env').name('mem').byte(0x02).byte(0x01).u32(memPages).u32(memPages);
  imports.forEach((im, i) => importSec.name(im.module).name(im.name).byte(0x00).u32(importTypes[i]));
  section(2, importSec);

  const funcSec = new Bytes().u32(functions.length);
  for (const t of funcTypes) funcSec.u32(t);
  section(3, funcSec);

  const exportSec = new Bytes().u32(functions.length);
  functions.forEach((_, i) => exportSec.name(`f${i}`).byte(0x00).u32(imports.length + i));
  section(7, exportSec);

  const codeSec = new Bytes().u32(functions.length);
  for (const f of functions) f.encode(codeSec);
  section(10, codeSec);
  return out.result();
}

/**
 * The part of the WebAssembly JS API these modules are used with. Node has it at run time; neither
 * @types/node 20 nor the ES lib declares Module/Instance, and a global declaration would clash with
 * lib.dom's in consumers that have it, so callers reach it through this type.
 */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * The signature of port accesses in WebAssembly (core PortFastPath, CompiledPortIo): port, size,
 * value written, write ? 1 : 0, and a time (PortFastPath: now in ns; CompiledPortIo: the retired count)
 * -> f64: the value read, or -1.
 */
export const PORT_IO_TYPE: FuncType = { params: [I32, I32, I32, I32, F64], results: [F64] };
/** PORT_IO_TYPE's parameters, as local indices. */
export const PORT_IO_PARAM = { PORT: 0, SIZE: 1, VALUE: 2, WRITE: 3, TIME: 4 } as const;

/**
 * `f` compiled at once (a small module) over `memory`, calling `imports` as functions 0, 1, ...:
 * the exported function, to call or to import into another module.
 */
export function compileFunction(memory: WebAssembly.Memory, f: FunctionBody, imports: { type: FuncType; fn: unknown }[] = []): unknown {
  const bytes = buildModule(memory.buffer.byteLength / 65536, imports.map((im, i) => ({ module: 'x', name: `f${i}`, type: im.type })), [f]);
  const given = { env: { mem: memory }, x: Object.fromEntries(imports.map((im, i) => [`f${i}`, im.fn])) };
  return new Wasm.Instance(new Wasm.Module(bytes), given).exports.f0;
}
