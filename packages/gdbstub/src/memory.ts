/**
 * Guest memory as gdb sees it: linear (virtual) addresses translated through the CPU's current page
 * tables without side effects (no accessed/dirty bits, no #PF, no TLB fill), RAM only. An address
 * that is not mapped, or maps outside RAM (MMIO, whose reads may have side effects), is refused:
 * the server answers E14 (EFAULT), as gdbserver does.
 */
import type { GuestMemory } from '@unimachine/core';
import type { X86Cpu } from '@unimachine/cpu-x86';

const TWO32 = 4294967296;
const PAGE = 4096;
const PRESENT = 1;
const LARGE = 0x80;
const CR0_PG = 0x80000000;
const CR4_PSE = 0x10;
const CR4_PAE = 0x20;
const EFER_LMA = 0x400;

/** A 64-bit page-table entry's frame address (bits 12-51), or -1 when the entry is outside RAM. */
function entry(mem: GuestMemory, pa: number): { lo: number; hi: number } | undefined {
  if (pa < 0 || pa + 8 > mem.size) return undefined;
  return { lo: mem.view.getUint32(pa, true), hi: mem.view.getUint32(pa + 4, true) };
}
function frame(e: { lo: number; hi: number }, pageBits: number): number {
  const hi = (e.hi & 0xfffff) * TWO32;
  return hi + ((e.lo >>> pageBits) << pageBits >>> 0);
}
function index(lin: number, shift: number): number {
  return Math.floor(lin / 2 ** shift) & 511;
}

/** Linear to physical for the debugger; -1 when not mapped. */
export function debugTranslate(cpu: X86Cpu, lin: number): number {
  const mem = cpu.memory;
  if (!(cpu.cr0 & 1) || !(cpu.cr0 & CR0_PG)) return cpu.efer & EFER_LMA ? lin : lin >>> 0;
  if (cpu.efer & EFER_LMA) {
    const u = lin < 0 ? lin + 2 ** 48 : lin; // canonical: the low 48 bits select the entries
    let table = frame({ lo: cpu.cr3 >>> 0, hi: Math.floor(cpu.cr3 / TWO32) }, 12);
    for (const shift of [39, 30, 21, 12]) {
      const e = entry(mem, table + index(u, shift) * 8);
      if (!e || !(e.lo & PRESENT)) return -1;
      if (shift === 12 || ((shift === 30 || shift === 21) && e.lo & LARGE)) {
        return frame(e, shift) + (u % 2 ** shift);
      }
      table = frame(e, 12);
    }
    return -1;
  }
  lin >>>= 0;
  if (cpu.cr4 & CR4_PAE) {
    const pdpte = entry(mem, (cpu.cr3 >>> 0) - (cpu.cr3 & 0x1f) + (lin >>> 30) * 8);
    if (!pdpte || !(pdpte.lo & PRESENT)) return -1;
    const pde = entry(mem, frame(pdpte, 12) + ((lin >>> 21) & 511) * 8);
    if (!pde || !(pde.lo & PRESENT)) return -1;
    if (pde.lo & LARGE) return frame(pde, 21) + (lin & 0x1fffff);
    const pte = entry(mem, frame(pde, 12) + ((lin >>> 12) & 511) * 8);
    if (!pte || !(pte.lo & PRESENT)) return -1;
    return frame(pte, 12) + (lin & 0xfff);
  }
  const pdeAt = (cpu.cr3 & 0xfffff000) >>> 0;
  if (pdeAt + 4096 > mem.size) return -1;
  const pde = mem.view.getUint32(pdeAt + (lin >>> 22) * 4, true);
  if (!(pde & PRESENT)) return -1;
  if (pde & LARGE && cpu.cr4 & CR4_PSE) return ((pde & 0xffc00000) >>> 0) + (lin & 0x3fffff);
  const ptAt = (pde & 0xfffff000) >>> 0;
  if (ptAt + 4096 > mem.size) return -1;
  const pte = mem.view.getUint32(ptAt + ((lin >>> 12) & 0x3ff) * 4, true);
  if (!(pte & PRESENT)) return -1;
  return ((pte & 0xfffff000) >>> 0) + (lin & 0xfff);
}

/** Visit [lin, lin+length) page by page as physical RAM ranges; false if any byte is not RAM. */
function eachRange(cpu: X86Cpu, lin: number, length: number, visit: (pa: number, done: number, n: number) => void): boolean {
  const ranges: [number, number, number][] = [];
  for (let done = 0; done < length; ) {
    const at = lin + done;
    const n = Math.min(length - done, PAGE - (((at % PAGE) + PAGE) % PAGE));
    const pa = debugTranslate(cpu, at);
    if (pa < 0 || !cpu.memory.contains(pa, n)) return false;
    ranges.push([pa, done, n]);
    done += n;
  }
  for (const [pa, done, n] of ranges) visit(pa, done, n);
  return true;
}

export function readVirtual(cpu: X86Cpu, lin: number, length: number): Uint8Array | undefined {
  const out = new Uint8Array(length);
  const ok = eachRange(cpu, lin, length, (pa, done, n) => out.set(cpu.memory.u8.subarray(pa, pa + n), done));
  return ok ? out : undefined;
}

/** Write guest memory (all or nothing); decoded code for the range is dropped. */
export function writeVirtual(cpu: X86Cpu, lin: number, data: Uint8Array): boolean {
  return eachRange(cpu, lin, data.length, (pa, done, n) => {
    cpu.memory.write(pa, data.subarray(done, done + n));
    cpu.invalidateDecodedCode(pa, n);
  });
}
