/**
 * The registers gdb sees, in target-description order (so `g`, `p n` and the XML agree), for the two
 * architectures: i386:x86-64 (always 64-bit registers, whatever mode the CPU is in, as QEMU's
 * qemu-system-x86_64 reports them) and i386 (32-bit registers, for 32-bit kernels).
 *
 * Values are little-endian bytes, as gdb expects them from an x86 target.
 */
import type { X86Cpu } from '@unimachine/cpu-x86';

export type GdbArch = 'x86-64' | 'i386';

/** The gdb feature a register belongs to (target.ts writes the XML from these). */
export type Feature = 'core' | 'sse' | 'segments' | 'system';

export interface RegisterDef {
  name: string;
  bits: number;
  /** gdb type name: predefined (int64, code_ptr, i387_ext, ...) or one the feature defines. */
  type: string;
  group?: 'general' | 'float' | 'vector' | 'system';
  feature: Feature;
  read(cpu: X86Cpu, out: DataView, at: number): void;
  write(cpu: X86Cpu, from: DataView, at: number): void;
}

const TWO32 = 4294967296;

function put64(out: DataView, at: number, v: number): void {
  out.setUint32(at, v >>> 0, true);
  out.setUint32(at + 4, Math.floor(v / TWO32) >>> 0, true);
}
/** A 64-bit register value as the CPU keeps addresses: a signed number (exact when canonical). */
function get64(from: DataView, at: number): number {
  return from.getInt32(at + 4, true) * TWO32 + from.getUint32(at, true);
}

/** Register file order of the CPU (r[2n], r[2n+1]): rax rcx rdx rbx rsp rbp rsi rdi r8..r15. */
const GPR64 = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const GPR64_INDEX = [0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15];
const GPR32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
/** gdb's segment order cs ss ds es fs gs, as the CPU's indexes (0=ES 1=CS 2=SS 3=DS 4=FS 5=GS). */
const SEGMENTS: [string, number][] = [['cs', 1], ['ss', 2], ['ds', 3], ['es', 0], ['fs', 4], ['gs', 5]];

function gpr64(name: string, n: number): RegisterDef {
  const type = name === 'rbp' || name === 'rsp' ? 'data_ptr' : 'int64';
  return {
    name, bits: 64, type, feature: 'core',
    read: (c, o, at) => { o.setInt32(at, c.r[2 * n], true); o.setInt32(at + 4, c.r[2 * n + 1], true); },
    write: (c, f, at) => { c.r[2 * n] = f.getInt32(at, true); c.r[2 * n + 1] = f.getInt32(at + 4, true); },
  };
}

function gpr32(name: string, n: number): RegisterDef {
  const type = name === 'ebp' || name === 'esp' ? 'data_ptr' : 'int32';
  return {
    name, bits: 32, type, feature: 'core',
    read: (c, o, at) => o.setInt32(at, c.r[2 * n], true),
    write: (c, f, at) => { c.r[2 * n] = f.getInt32(at, true); },
  };
}

/** A 32-bit register backed by a getter and setter (the common shape below). */
function reg32(name: string, feature: Feature, type: string, get: (c: X86Cpu) => number, set: (c: X86Cpu, v: number) => void, group?: RegisterDef['group']): RegisterDef {
  return {
    name, bits: 32, type, feature, group,
    read: (c, o, at) => o.setUint32(at, get(c) >>> 0, true),
    write: (c, f, at) => set(c, f.getUint32(at, true)),
  };
}

/** A register of `bits` (32 or 64) holding a JS number (addresses and control registers). */
function wide(name: string, bits: 32 | 64, feature: Feature, type: string, get: (c: X86Cpu) => number, set: (c: X86Cpu, v: number) => void): RegisterDef {
  if (bits === 32) return reg32(name, feature, type, get, set);
  return { name, bits: 64, type, feature, read: (c, o, at) => put64(o, at, get(c)), write: (c, f, at) => set(c, get64(f, at)) };
}

function rip(bits: 32 | 64): RegisterDef {
  return wide(bits === 64 ? 'rip' : 'eip', bits, 'core', 'code_ptr', (c) => c.rip, (c, v) => {
    c.rip = c.codeSize === 64 ? v : v >>> 0;
  });
}

function segments(): RegisterDef[] {
  // Only the selector is written; the descriptor cache keeps what the guest loaded.
  return SEGMENTS.map(([name, s]) => reg32(name, 'core', 'int32', (c) => c.segSel[s], (c, v) => { c.segSel[s] = v & 0xffff; }));
}

/** ST(i) as gdb's i387_ext: 64-bit significand then 16-bit sign/exponent (10 bytes). */
function st(i: number): RegisterDef {
  const slot = (c: X86Cpu) => ((c.x87.top + i) & 7) * 3;
  return {
    name: `st${i}`, bits: 80, type: 'i387_ext', feature: 'core',
    read: (c, o, at) => {
      const s = c.x87.st, k = slot(c);
      o.setUint32(at, s[k + 2] >>> 0, true);
      o.setUint32(at + 4, s[k + 1] >>> 0, true);
      o.setUint16(at + 8, s[k] & 0xffff, true);
    },
    write: (c, f, at) => {
      const s = c.x87.st, k = slot(c);
      s[k + 2] = f.getUint32(at, true);
      s[k + 1] = f.getUint32(at + 4, true);
      s[k] = f.getUint16(at + 8, true);
    },
  };
}

function x87Control(): RegisterDef[] {
  const f = 'core', g = 'float' as const;
  return [
    reg32('fctrl', f, 'int', (c) => c.fpuCw, (c, v) => { c.fpuCw = v & 0xffff; }, g),
    reg32('fstat', f, 'int', (c) => c.x87.status(), (c, v) => { c.x87.sw = v & 0xc7ff; c.x87.top = (v >>> 11) & 7; }, g),
    reg32('ftag', f, 'int', (c) => c.x87.tagWord(), (c, v) => {
      // The full tag word: 11 is empty; the other tags follow from the contents.
      let empty = 0;
      for (let r = 0; r < 8; r++) if (((v >>> (2 * r)) & 3) === 3) empty |= 1 << r;
      c.x87.empty = empty;
    }, g),
    reg32('fiseg', f, 'int', (c) => c.x87.fcs, (c, v) => { c.x87.fcs = v & 0xffff; }, g),
    reg32('fioff', f, 'int', (c) => c.x87.fip, (c, v) => { c.x87.fip = v; }, g),
    reg32('foseg', f, 'int', (c) => c.x87.fds, (c, v) => { c.x87.fds = v & 0xffff; }, g),
    reg32('fooff', f, 'int', (c) => c.x87.fdp, (c, v) => { c.x87.fdp = v; }, g),
    reg32('fop', f, 'int', (c) => c.x87.fop, (c, v) => { c.x87.fop = v & 0x7ff; }, g),
  ];
}

function xmm(i: number): RegisterDef {
  return {
    name: `xmm${i}`, bits: 128, type: 'vec128', feature: 'sse',
    read: (c, o, at) => { for (let k = 0; k < 16; k++) o.setUint8(at + k, c.xmmU8[i * 16 + k]); },
    write: (c, f, at) => { for (let k = 0; k < 16; k++) c.xmmU8[i * 16 + k] = f.getUint8(at + k); },
  };
}

/** Control registers and EFER: writes go through the CPU's mode update and drop its TLB. */
function system(bits: 32 | 64): RegisterDef[] {
  const changed = (c: X86Cpu) => { c.tlb.flush(); c.updateMode(); };
  const regs = [
    wide('cr0', bits, 'system', 'i386_cr0', (c) => c.cr0 >>> 0, (c, v) => { c.cr0 = v >>> 0; changed(c); }),
    wide('cr2', bits, 'system', 'int', (c) => c.cr2, (c, v) => { c.cr2 = v; }),
    wide('cr3', bits, 'system', 'int', (c) => c.cr3, (c, v) => { c.cr3 = v < 0 ? v + 2 ** 64 : v; changed(c); }),
    wide('cr4', bits, 'system', 'int', (c) => c.cr4 >>> 0, (c, v) => { c.cr4 = v >>> 0; changed(c); }),
  ];
  if (bits === 64) {
    regs.unshift(wide('k_gs_base', 64, 'system', 'int', (c) => c.kernelGsBase, (c, v) => { c.kernelGsBase = v; }));
    regs.push(wide('cr8', 64, 'system', 'int', (c) => c.cr8, (c, v) => { c.cr8 = v & 15; }));
  }
  regs.push(wide('efer', bits, 'system', 'i386_efer', (c) => c.efer, (c, v) => { c.efer = v >>> 0; changed(c); }));
  return regs;
}

/**
 * fs_base and gs_base. gdb knows them from org.gnu.gdb.i386.segments on x86-64; gdb 13 asserts on
 * that feature in a bare-metal i386 description (its register numbers lie past i386's), so there
 * they sit in our own feature, where gdb shows them just the same.
 */
function segmentBases(bits: 32 | 64): RegisterDef[] {
  const feature = bits === 64 ? 'segments' : 'system';
  return [['fs_base', 4], ['gs_base', 5]].map(([name, s]) =>
    wide(name as string, bits, feature, 'int', (c) => c.segBase[s as number], (c, v) => { c.segBase[s as number] = v; }),
  );
}

function build(arch: GdbArch): RegisterDef[] {
  const bits = arch === 'x86-64' ? 64 : 32;
  const gprs = bits === 64 ? GPR64.map((name, k) => gpr64(name, GPR64_INDEX[k])) : GPR32.map((name, k) => gpr32(name, k));
  const flags = reg32('eflags', 'core', 'i386_eflags', (c) => c.fl.get(), (c, v) => c.fl.set(v));
  const sts = Array.from({ length: 8 }, (_, i) => st(i));
  const xmms = Array.from({ length: bits === 64 ? 16 : 8 }, (_, i) => xmm(i));
  const mxcsr = reg32('mxcsr', 'sse', 'i386_mxcsr', (c) => c.mxcsr, (c, v) => { c.mxcsr = v; }, 'vector');
  return [...gprs, rip(bits), flags, ...segments(), ...sts, ...x87Control(), ...xmms, mxcsr, ...segmentBases(bits), ...system(bits)];
}

export interface RegisterLayout {
  readonly arch: GdbArch;
  readonly registers: readonly RegisterDef[];
  /** Byte offset of each register in the `g` packet. */
  readonly offsets: readonly number[];
  /** Size of the `g` packet in bytes. */
  readonly size: number;
}

function layout(arch: GdbArch): RegisterLayout {
  const registers = build(arch);
  const offsets: number[] = [];
  let size = 0;
  for (const r of registers) {
    offsets.push(size);
    size += r.bits / 8;
  }
  return { arch, registers, offsets, size };
}

export const LAYOUTS: Record<GdbArch, RegisterLayout> = { 'x86-64': layout('x86-64'), i386: layout('i386') };

/** All registers as the `g` packet carries them. */
export function readAll(l: RegisterLayout, cpu: X86Cpu): Uint8Array {
  const out = new Uint8Array(l.size);
  const view = new DataView(out.buffer);
  cpu.fl.materialize();
  l.registers.forEach((r, k) => r.read(cpu, view, l.offsets[k]));
  return out;
}

/** Write registers from a `G` packet (a shorter packet writes the leading registers it covers). */
export function writeAll(l: RegisterLayout, cpu: X86Cpu, data: Uint8Array): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  l.registers.forEach((r, k) => {
    if (l.offsets[k] + r.bits / 8 <= data.length) r.write(cpu, view, l.offsets[k]);
  });
}

export function readOne(l: RegisterLayout, cpu: X86Cpu, n: number): Uint8Array | undefined {
  const r = l.registers[n];
  if (!r) return undefined;
  const out = new Uint8Array(r.bits / 8);
  cpu.fl.materialize();
  r.read(cpu, new DataView(out.buffer), 0);
  return out;
}

/** False when there is no register n or the value has the wrong size. */
export function writeOne(l: RegisterLayout, cpu: X86Cpu, n: number, data: Uint8Array): boolean {
  const r = l.registers[n];
  if (!r || data.length !== r.bits / 8) return false;
  r.write(cpu, new DataView(data.buffer, data.byteOffset, data.byteLength), 0);
  return true;
}
