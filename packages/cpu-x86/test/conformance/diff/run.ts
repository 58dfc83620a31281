// Runs a family's cases on the host and in the interpreter and tallies the verdicts.
import { CODE_BASE } from './layout.js';
import { generateCases, pristineWindow } from './cases.js';
import { compare, outcomeText, type Verdict } from './compare.js';
import type { Family } from './families.js';
import { GuestRunner } from './guest.js';
import { runNative } from './native.js';
import { runQemu } from './qemu.js';
import { GPR_NAMES, type Bits, type CaseResult, type TestCase } from './state.js';
import { hex, IcedDecoder } from '../iced.js';
import { MODEL_DECODER_OPTIONS } from '../scope.js';
import { X86Cpu } from '../cpu-api.js';

export interface FamilyReport {
  family: string;
  cases: number;
  match: number;
  mismatch: number;
  unimplemented: number;
  hostTimeout: number;
  /** Host outcomes, to show the cases exercise faults too. */
  hostExceptions: number;
  mismatchByMnemonic: Map<string, number>;
  unimplementedByMnemonic: Map<string, number>;
  reproducers: string[];
}

let pristine: Uint8Array | undefined;
const guests = new Map<number | string, GuestRunner>();

export function sharedPristine(): Uint8Array {
  return (pristine ??= pristineWindow());
}

function guestRunner(bits: Bits, model?: string): GuestRunner | undefined {
  if (!X86Cpu) return undefined;
  const key = model ? `${bits}/${model}` : bits;
  let g = guests.get(key);
  if (!g) guests.set(key, (g = new GuestRunner(sharedPristine(), bits, model)));
  return g;
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

/** The name a family's figures go under: 'alu' for 64-bit cases, 'alu/32' for 32-bit ones. */
export const familyKey = (fam: Family, bits: Bits) => (bits === 64 ? fam.name : `${fam.name}/${bits}`);

/**
 * Run a family's cases on the reference and in the interpreter. The reference is the host CPU for
 * 64-bit cases and QEMU (diff/qemu.ts) for 32-bit ones: the host this suite grew up on cannot run
 * 32-bit code segments, and QEMU can also run them at CPL 3 with paging, as the CPU does.
 */
export function runFamily(fam: Family, seed: number, count: number, maxReproducers = 5, bits: Bits = 64): FamilyReport {
  const cases = generateCases(fam, seed, count, sharedPristine(), bits);
  const host = bits === 64 ? runNative(sharedPristine(), cases) : runQemu(sharedPristine(), cases);
  const runner = guestRunner(bits, fam.model);
  const rep: FamilyReport = {
    family: familyKey(fam, bits), cases: cases.length, match: 0, mismatch: 0, unimplemented: 0, hostTimeout: 0, hostExceptions: 0,
    mismatchByMnemonic: new Map(), unimplementedByMnemonic: new Map(), reproducers: [],
  };
  cases.forEach((c, i) => {
    if (host[i].outcome === 'exception') rep.hostExceptions++;
    const g: CaseResult = runner ? runner.run(c) : { outcome: 'unimplemented', note: 'X86Cpu not exported', rip: 0n, state: host[i].state, window: [] };
    const v = compare(c, host[i], g, sharedPristine());
    if (v.kind === 'match') rep.match++;
    else if (v.kind === 'host-timeout') rep.hostTimeout++;
    else if (v.kind === 'unimplemented') { rep.unimplemented++; bump(rep.unimplementedByMnemonic, c.mnemonic); }
    else {
      rep.mismatch++;
      bump(rep.mismatchByMnemonic, c.mnemonic);
      if (rep.reproducers.length < maxReproducers) rep.reproducers.push(reproducer(c, host[i], g, v));
    }
  });
  return rep;
}

const ref = new IcedDecoder(MODEL_DECODER_OPTIONS);

/** Everything needed to replay a case by hand. */
export function reproducer(c: TestCase, host: CaseResult, cpu: CaseResult, v: Verdict): string {
  const lines: string[] = [];
  let pos = 0;
  const dis: string[] = [];
  while (pos < c.code.length) {
    const text = ref.format(c.code.subarray(pos), c.bitness, BigInt(CODE_BASE + pos));
    const len = text === '(invalid)' ? c.code.length - pos : ref.decode(c.code.subarray(pos), c.bitness).length || 1;
    dis.push(text);
    pos += len;
  }
  lines.push(`[${c.family}, ${c.bitness}-bit] ${hex(c.code)}    ${dis.join(' ; ')}`);
  lines.push(`  initial: ${c.state.gpr.map((g, i) => `${GPR_NAMES[i]}=0x${g.toString(16)}`).join(' ')}`);
  lines.push(`           rflags=0x${c.state.rflags.toString(16)} mxcsr=0x${c.state.mxcsr.toString(16)} xmm0=${hex(c.state.xmm[0])} xmm1=${hex(c.state.xmm[1])}`);
  const patchText = (b: Uint8Array) => (b.length <= 32 ? hex(b).replace(/ /g, '') : `${hex(b.subarray(0, 32)).replace(/ /g, '')}... (${b.length} bytes)`);
  if (c.patches.length) lines.push(`           memory: ${c.patches.map((p) => `+0x${p.offset.toString(16)}=${patchText(p.bytes)}`).join(' ')}`);
  lines.push(`  host: ${outcomeText(host)}   cpu: ${outcomeText(cpu)}   (undefined flags masked: 0x${c.undefinedFlags.toString(16)})`);
  for (const [side, r] of [['host', host], ['cpu', cpu]] as const) {
    lines.push(`  ${side} final: rip=0x${r.rip.toString(16)} ${r.state.gpr.map((g, i) => `${GPR_NAMES[i]}=0x${g.toString(16)}`).join(' ')}`);
    const xmm = r.state.xmm.flatMap((x, i) => (x.some((b, k) => b !== c.state.xmm[i][k]) ? [`xmm${i}=${hex(x)}`] : []));
    lines.push(`           rflags=0x${r.state.rflags.toString(16)} mxcsr=0x${r.state.mxcsr.toString(16)}${xmm.length ? ` changed: ${xmm.join(' ')}` : ''}`);
  }
  if (v.kind === 'mismatch') for (const d of v.diffs) lines.push(`  diff ${d}`);
  return lines.join('\n');
}

export function topList(m: Map<string, number>, n = 10): string {
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, c]) => `${k} ${c}`).join(', ');
}
