// Binary protocol of harness/diffexec.c (see the comment at the top of that file).
import type { CaseResult, CpuState, Outcome, TestCase, WindowRun } from './state.js';
import { WINDOW_SIZE } from './layout.js';

export const STATE_BYTES = 16 * 8 + 8 + 4 + 16 * 16;

export function encodeHeader(pristine: Uint8Array): Buffer {
  const b = Buffer.alloc(8 + WINDOW_SIZE);
  b.write('DX01', 0, 'latin1');
  b.writeUInt32LE(WINDOW_SIZE, 4);
  b.set(pristine, 8);
  return b;
}

function writeState(b: Buffer, o: number, s: CpuState): number {
  for (let i = 0; i < 16; i++, o += 8) b.writeBigUInt64LE(BigInt.asUintN(64, s.gpr[i]), o);
  b.writeBigUInt64LE(BigInt(s.rflags >>> 0), o); o += 8;
  b.writeUInt32LE(s.mxcsr >>> 0, o); o += 4;
  for (let i = 0; i < 16; i++, o += 16) b.set(s.xmm[i], o);
  return o;
}

function readState(b: Buffer, o: number): [CpuState, number] {
  const gpr: bigint[] = [];
  for (let i = 0; i < 16; i++, o += 8) gpr.push(b.readBigUInt64LE(o));
  const rflags = Number(b.readBigUInt64LE(o)); o += 8;
  const mxcsr = b.readUInt32LE(o); o += 4;
  const xmm: Uint8Array[] = [];
  for (let i = 0; i < 16; i++, o += 16) xmm.push(Uint8Array.from(b.subarray(o, o + 16)));
  return [{ gpr, rflags, mxcsr, xmm }, o];
}

export function encodeCase(c: TestCase): Buffer {
  const size = 8 + c.code.length + STATE_BYTES + c.patches.reduce((n, p) => n + 6 + p.bytes.length, 0);
  const b = Buffer.alloc(size);
  b.writeUInt16LE(c.code.length, 0);
  b.writeUInt16LE(c.patches.length, 2);
  b.writeUInt16LE(c.bitness, 4);
  b.set(c.code, 8);
  let o = writeState(b, 8 + c.code.length, c.state);
  for (const p of c.patches) {
    b.writeUInt32LE(p.offset, o);
    b.writeUInt16LE(p.bytes.length, o + 4);
    b.set(p.bytes, o + 6);
    o += 6 + p.bytes.length;
  }
  return b;
}

const OUTCOMES: Outcome[] = ['completed', 'exception', 'timeout'];

/** Decode `count` results from the harness output. */
export function decodeResults(b: Buffer, count: number): CaseResult[] {
  const out: CaseResult[] = [];
  let o = 0;
  for (let n = 0; n < count; n++) {
    if (o + 24 + STATE_BYTES + 4 > b.length) throw new Error(`diffexec output truncated at result ${n} of ${count}`);
    const outcome = OUTCOMES[b[o]];
    const vector = b[o + 1];
    const errorCode = b.readUInt32LE(o + 4);
    const faultAddress = b.readBigUInt64LE(o + 8);
    const rip = b.readBigUInt64LE(o + 16);
    const [state, o2] = readState(b, o + 24);
    o = o2;
    const runs = b.readUInt32LE(o); o += 4;
    const window: WindowRun[] = [];
    for (let r = 0; r < runs; r++) {
      const offset = b.readUInt32LE(o);
      const len = b.readUInt32LE(o + 4);
      window.push({ offset, bytes: Uint8Array.from(b.subarray(o + 8, o + 8 + len)) });
      o += 8 + len;
    }
    const res: CaseResult = { outcome, rip, state, window };
    if (outcome === 'exception') {
      res.vector = vector;
      res.errorCode = errorCode;
      if (vector === 14) res.faultAddress = faultAddress;
    }
    out.push(res);
  }
  return out;
}
