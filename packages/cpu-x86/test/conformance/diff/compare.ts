// Host result vs interpreter result for one case, with the undefined effects masked.
import { hex } from '../iced.js';
import { GPR_NAMES, onQemu, type Bits, type CaseResult, type TestCase, type WindowRun } from './state.js';

export type Verdict =
  | { kind: 'match' }
  | { kind: 'mismatch'; diffs: string[] }
  | { kind: 'unimplemented'; why: string }
  | { kind: 'host-timeout' };

/** RFLAGS bits both sides can be held to: the six arithmetic flags and DF. */
export const COMPARED_FLAGS = 0xcd5;
/** Vectors that push an error code (#DF, #TS, #NP, #SS, #GP, #PF, #AC). */
const HAS_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17]);

/**
 * 32-bit cases run on QEMU, whose SSE never sets the denormal-operand flag (MXCSR.DE, bit 1): its
 * softfloat reports an input denormal only when it flushes it (DAZ). DE is not compared there (the
 * 64-bit cases compare it against the host CPU).
 */
const QEMU_MXCSR_COMPARED = 0xfffd;

const h64 = (v: bigint | undefined) => (v === undefined ? '-' : '0x' + v.toString(16));

/**
 * #PF error code bits compared for 32-bit cases, which run on QEMU: its TCG does a read-modify-write
 * as a load then a store, so when the load faults the error code says "read" (W=0), where hardware
 * (the host, in the 64-bit cases) reports the write intent (W=1).
 */
const QEMU_PF_ERROR_COMPARED = ~2;

export function outcomeText(r: CaseResult, bits: Bits = 64): string {
  if (r.outcome !== 'exception') return r.outcome + (r.note ? ` (${r.note})` : '');
  let s = `exception ${r.vector}`;
  const err = (r.errorCode ?? 0) & (onQemu(bits) && r.vector === 14 ? QEMU_PF_ERROR_COMPARED : -1);
  if (HAS_ERROR_CODE.has(r.vector!)) s += ` err=0x${(err >>> 0).toString(16)}`;
  if (r.vector === 14) s += ` addr=${h64(r.faultAddress)}`;
  return s;
}

export function compare(c: TestCase, host: CaseResult, guest: CaseResult, pristine: Uint8Array): Verdict {
  if (host.outcome === 'timeout') return { kind: 'host-timeout' };
  if (guest.outcome === 'unimplemented') return { kind: 'unimplemented', why: guest.note ?? 'unimplemented' };
  if (guest.outcome === 'crash') return { kind: 'mismatch', diffs: [`cpu crashed: ${guest.note} (host: ${outcomeText(host)})`] };
  // #UD where the host ran the instruction: the CPU does not implement it yet.
  if (guest.outcome === 'exception' && guest.vector === 6 && !(host.outcome === 'exception' && host.vector === 6)) {
    return { kind: 'unimplemented', why: '#UD' };
  }
  const diffs: string[] = [];
  const hostOut = outcomeText(host, c.bitness), guestOut = outcomeText(guest, c.bitness);
  if (hostOut !== guestOut) diffs.push(`outcome: host ${hostOut}, cpu ${guestOut}`);
  // 32-bit cases: only the low halves are architectural (the host runs them in compatibility mode).
  const mask = c.bitness !== 64 ? 0xffff_ffffn : (1n << 64n) - 1n;
  if ((host.rip & mask) !== (guest.rip & mask)) diffs.push(`rip: host ${h64(host.rip)}, cpu ${h64(guest.rip)}`);
  const completed = host.outcome === 'completed' && guest.outcome === 'completed';
  const skipGprs = completed ? c.undefinedGprs : [];
  for (let i = 0; i < 16; i++) {
    if (skipGprs.includes(i)) continue;
    if ((host.state.gpr[i] & mask) !== (guest.state.gpr[i] & mask)) diffs.push(`${GPR_NAMES[i]}: host ${h64(host.state.gpr[i])}, cpu ${h64(guest.state.gpr[i])}`);
  }
  const flagMask = COMPARED_FLAGS & ~(completed ? c.undefinedFlags : 0);
  if ((host.state.rflags & flagMask) !== (guest.state.rflags & flagMask)) {
    diffs.push(`rflags (mask 0x${flagMask.toString(16)}): host 0x${(host.state.rflags & flagMask).toString(16)}, cpu 0x${(guest.state.rflags & flagMask).toString(16)}`);
  }
  const mxcsrMask = onQemu(c.bitness) ? QEMU_MXCSR_COMPARED : 0xffff;
  if ((host.state.mxcsr & mxcsrMask) !== (guest.state.mxcsr & mxcsrMask)) diffs.push(`mxcsr: host 0x${host.state.mxcsr.toString(16)}, cpu 0x${guest.state.mxcsr.toString(16)}`);
  for (let i = 0; i < 16; i++) {
    if (!sameBytes(host.state.xmm[i], guest.state.xmm[i])) diffs.push(`xmm${i}: host ${hex(host.state.xmm[i])}, cpu ${hex(guest.state.xmm[i])}`);
  }
  if (c.memoryMask ? !sameMaskedWindow(host.window, guest.window, pristine, c.memoryMask) : !sameRuns(host.window, guest.window)) {
    diffs.push(`memory: ${memoryDiffText(host.window, guest.window, pristine, c.memoryMask ?? [])}`);
  }
  return diffs.length ? { kind: 'mismatch', diffs } : { kind: 'match' };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameRuns(a: WindowRun[], b: WindowRun[]): boolean {
  return a.length === b.length && a.every((r, i) => r.offset === b[i].offset && sameBytes(r.bytes, b[i].bytes));
}

type Masks = { offset: number; mask: number }[];

/** Window offsets whose final bytes differ, outside the bits `masks` leaves out, with both values. */
function differingBytes(a: WindowRun[], b: WindowRun[], pristine: Uint8Array, masks: Masks): [number, number, number][] {
  const final = (runs: WindowRun[]) => {
    const m = new Map<number, number>();
    for (const r of runs) r.bytes.forEach((v, i) => m.set(r.offset + i, v));
    return m;
  };
  const fa = final(a), fb = final(b);
  const maskAt = new Map<number, number>();
  for (const m of masks) maskAt.set(m.offset, (maskAt.get(m.offset) ?? 0xff) & m.mask); // several masks on a byte: all apply
  const out: [number, number, number][] = [];
  for (const off of [...new Set([...fa.keys(), ...fb.keys()])].sort((x, y) => x - y)) {
    const m = maskAt.get(off) ?? 0xff;
    const va = fa.get(off) ?? pristine[off], vb = fb.get(off) ?? pristine[off];
    if ((va & m) !== (vb & m)) out.push([off, va, vb]);
  }
  return out;
}

function sameMaskedWindow(a: WindowRun[], b: WindowRun[], pristine: Uint8Array, masks: Masks): boolean {
  return differingBytes(a, b, pristine, masks).length === 0;
}

/** Differing bytes as ranges: "+0xe202: host 41 00, cpu 08 4e" (at most 8 ranges). */
function memoryDiffText(a: WindowRun[], b: WindowRun[], pristine: Uint8Array, masks: Masks): string {
  const d = differingBytes(a, b, pristine, masks);
  const ranges: [number, number[], number[]][] = [];
  for (const [off, va, vb] of d) {
    const last = ranges[ranges.length - 1];
    if (last && last[0] + last[1].length === off) { last[1].push(va); last[2].push(vb); }
    else ranges.push([off, [va], [vb]]);
  }
  const h = (xs: number[]) => hex(Uint8Array.from(xs));
  const text = ranges.slice(0, 8).map(([off, va, vb]) => `+0x${off.toString(16)}: host ${h(va)}, cpu ${h(vb)}`).join('; ');
  return `${d.length} bytes differ: ${text}${ranges.length > 8 ? `; ... (${ranges.length} ranges)` : ''}`;
}
