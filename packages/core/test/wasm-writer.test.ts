// The WebAssembly binary writer (code generator, port fast paths): LEB128 encodings checked against the
// values the WebAssembly specification's examples give, and modules it builds validated and run by
// the engine (64-bit constants built from two int32 halves, no BigInt on the writer's side).
import { describe, expect, it } from 'vitest';
import { Bytes, FunctionBody, I32, I64, Op, buildModule } from '../src/wasm-writer.js';

const bytes = (b: Bytes): number[] => Array.from(b.result());
const Wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean; Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => { exports: Record<string, (...a: unknown[]) => unknown> }; Memory: new (d: { initial: number; maximum: number }) => object } }).WebAssembly;

describe('LEB128', () => {
  it('unsigned and signed 32-bit values', () => {
    expect(bytes(new Bytes().u32(0))).toEqual([0]);
    expect(bytes(new Bytes().u32(624485))).toEqual([0xe5, 0x8e, 0x26]);
    expect(bytes(new Bytes().u32(0xffffffff))).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(bytes(new Bytes().s32(-123456))).toEqual([0xc0, 0xbb, 0x78]);
    expect(bytes(new Bytes().s32(63))).toEqual([0x3f]);
    expect(bytes(new Bytes().s32(64))).toEqual([0xc0, 0x00]);
    expect(bytes(new Bytes().s32(-64))).toEqual([0x40]);
    expect(bytes(new Bytes().s32(-65))).toEqual([0xbf, 0x7f]);
  });

  it('signed 64-bit values from int32 halves', () => {
    expect(bytes(new Bytes().s64(0, 0))).toEqual([0]);
    expect(bytes(new Bytes().s64(-1, -1))).toEqual([0x7f]);
    // 2^32: bit 32 set.
    expect(bytes(new Bytes().s64(0, 1))).toEqual([0x80, 0x80, 0x80, 0x80, 0x10]);
    // The most negative value: nine 0x80 bytes then 0x7f.
    expect(bytes(new Bytes().s64(0, 0x80000000 | 0))).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]);
    // 0x7fffffffffffffff
    expect(bytes(new Bytes().s64(-1, 0x7fffffff))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]);
  });
});

describe('modules', () => {
  it('a function with locals, 64-bit arithmetic, memory and control flow validates and computes', () => {
    // f(x: i32) -> i32: t = 0x1_0000_0001 * 3 (i64), store it at [16], loop x times adding 1, return low(t) + count.
    const f = new FunctionBody({ params: [I32], results: [I32] });
    const t = f.local(I64);
    const n = f.local(I32);
    f.i64(1, 1).i64(3).op(Op.i64Mul).set(t);
    f.i32(16).get(t).mem(Op.i64Store, 0, 3);
    f.block();
    const out = f.label();
    f.loop();
    const top = f.label();
    f.get(n).get(0).op(Op.i32GeS).brIf(f.label() - out);
    f.get(n).i32(1).op(Op.i32Add).set(n);
    f.brTo(top);
    f.end();
    f.end();
    f.i32(16).mem(Op.i32Load, 4, 2).get(n).op(Op.i32Add);
    const wasm = buildModule(1, [], [f]);
    expect(Wasm.validate(wasm)).toBe(true);
    const memory = new Wasm.Memory({ initial: 1, maximum: 1 });
    const instance = new Wasm.Instance(new Wasm.Module(wasm), { env: { mem: memory } });
    // High half of 0x3_0000_0003 is 3; plus 5 iterations.
    expect(instance.exports.f0(5)).toBe(8);
  });
});
