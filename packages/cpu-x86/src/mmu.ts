import type { X86Cpu } from './cpu.js';
import { TLB_CODE, TLB_ENTRIES, TLB_INFO, TLB_ITAG, TLB_NO_TAG, TLB_NOT_RAM, TLB_PERM, TLB_PHYS, TLB_TAG } from './jit/state-layout.js';

/** Access kinds (bit flags) passed to translate(). */
export const ACC_WRITE = 1;
export const ACC_USER = 2;
export const ACC_FETCH = 4;

/** TLB permission bits: one bit per (privilege, access kind); write bits only once the page is dirty. */
const P_SR = 1, P_SW = 2, P_UR = 4, P_UW = 8, P_SX = 16, P_UX = 32;
/** need-bit by access kind (index = ACC_* combination). */
export const NEED = new Uint8Array([P_SR, P_SW, P_UR, P_UW, P_SX, P_SX, P_UX, P_UX]);

export const TLB_SIZE = TLB_ENTRIES;
const PHYS_BITS_HI_RESERVED = 0x000fff00; // bits 40..51 (MAXPHYADDR = 40)
const TWO32 = 4294967296;

/** A direct-mapped software TLB keyed by linear page number. */
export class Tlb {
  declare readonly tag: Float64Array;
  declare readonly phys: Float64Array;
  declare readonly perm: Uint8Array;
  /** The integer copy compiled code reads (state-layout.ts TLB_ITAG, TLB_INFO). */
  private declare readonly itag: Int32Array;
  private declare readonly info: Int32Array;
  /**
   * RAM pages that some fill() has entered (never cleared): only their entries can need TLB_CODE
   * changed when a page starts or stops holding code, so other pages skip the scan.
   */
  private declare readonly entered: Uint8Array;
  /**
   * The arrays live in `buffer` at the CPU state block `base` (jit/state-layout.ts), for compiled code.
   * `codePages` (one byte per RAM page, set while it holds decoded code) gives fill() the TLB_CODE bit.
   */
  constructor(buffer: ArrayBuffer, base: number, private readonly ramSize: number, private readonly codePages: Uint8Array) {
    this.entered = new Uint8Array(codePages.length);
    this.tag = new Float64Array(buffer, base + TLB_TAG, TLB_SIZE).fill(NaN);
    this.phys = new Float64Array(buffer, base + TLB_PHYS, TLB_SIZE);
    this.perm = new Uint8Array(buffer, base + TLB_PERM, TLB_SIZE);
    this.itag = new Int32Array(buffer, base + TLB_ITAG, TLB_SIZE).fill(TLB_NO_TAG);
    this.info = new Int32Array(buffer, base + TLB_INFO, TLB_SIZE);
  }

  /** Enter linear page `vpn` → physical page base `phys` with permission bits `perm`. */
  fill(vpn: number, phys: number, perm: number): void {
    const i = vpn & (TLB_SIZE - 1);
    this.tag[i] = vpn;
    this.phys[i] = phys;
    this.perm[i] = perm;
    this.itag[i] = Math.floor(vpn / TLB_SIZE);
    if (phys + 4096 <= this.ramSize) {
      const p = phys / 4096;
      this.entered[p] = 1;
      this.info[i] = phys | perm | (this.codePages[p] !== 0 ? TLB_CODE : 0);
    } else this.info[i] = TLB_NOT_RAM;
  }

  /** RAM page `p` started (`code`) or stopped holding decoded code: set or clear TLB_CODE where it is mapped. */
  codePageChanged(p: number, code: boolean): void {
    if (this.entered[p] === 0) return;
    const info = this.info, base = p * 4096;
    for (let i = 0; i < TLB_SIZE; i++) {
      const w = info[i];
      if (w !== 0 && (w & ~0xfff) === (base | 0) && (w & TLB_NOT_RAM) === 0) info[i] = code ? w | TLB_CODE : w & ~TLB_CODE;
    }
  }

  /** No page holds code any more (the decode cache was cleared). */
  allCodeDropped(): void {
    const info = this.info;
    for (let i = 0; i < TLB_SIZE; i++) info[i] &= ~TLB_CODE;
  }
  /** Called on every flush so cached translations elsewhere (the fetch page) are dropped. */
  onFlush: () => void = () => {};

  flush(): void {
    this.tag.fill(NaN);
    this.itag.fill(TLB_NO_TAG);
    this.info.fill(0);
    this.onFlush();
  }

  flushPage(lin: number): void {
    const vpn = Math.floor(lin / 4096);
    const i = vpn & (TLB_SIZE - 1);
    if (this.tag[i] === vpn) { this.tag[i] = NaN; this.itag[i] = TLB_NO_TAG; this.info[i] = 0; }
    this.onFlush();
  }
}

function rdPhys32(c: X86Cpu, pa: number): number {
  return pa + 4 <= c.ramSize ? c.view.getUint32(pa, true) : 0xffffffff;
}
function wrPhys32(c: X86Cpu, pa: number, v: number): void {
  if (pa + 4 <= c.ramSize) {
    c.view.setUint32(pa, v >>> 0, true);
    c.notePhysWrite(pa);
  }
}

/**
 * Walk the page tables for `lin` (4-level, PAE or 32-bit paging by CR4/EFER), set accessed/dirty bits,
 * fill the TLB and return the physical address, or raise #PF with the architectural error code.
 */
export function walk(c: X86Cpu, lin: number, acc: number): number {
  const user = (acc & ACC_USER) !== 0;
  const write = (acc & ACC_WRITE) !== 0;
  const fetch = (acc & ACC_FETCH) !== 0;
  const nxe = (c.efer & 0x800) !== 0;
  let rw = 1, us = 1, nx = 0;
  let leafAddr = 0, leafLo = 0, pageBase = 0, pageOffsetMask = 0xfff;
  const pae = (c.cr4 & 0x20) !== 0;
  const u = lin < 0 ? lin + 2 ** 48 : lin; // 48-bit unsigned view of a canonical address
  if (!pae) {
    // 32-bit paging: 2 levels, 4 MiB pages with CR4.PSE.
    const pdeAddr = (c.cr3 & 0xfffff000) + ((u >>> 22) << 2);
    const pde = rdPhys32(c, pdeAddr);
    if (!(pde & 1)) pageFault(c, lin, 0, write, user, fetch, false);
    rw &= (pde >> 1) & 1; us &= (pde >> 2) & 1;
    if (!(pde & 0x20)) wrPhys32(c, pdeAddr, pde | 0x20);
    if (pde & 0x80 && c.cr4 & 0x10) {
      leafAddr = pdeAddr; leafLo = pde | 0x20;
      pageBase = (pde & 0xffc00000) >>> 0; pageOffsetMask = 0x3fffff;
    } else {
      const pteAddr = (pde & 0xfffff000) + (((u >>> 12) & 0x3ff) << 2);
      const pte = rdPhys32(c, pteAddr);
      if (!(pte & 1)) pageFault(c, lin, 0, write, user, fetch, false);
      rw &= (pte >> 1) & 1; us &= (pte >> 2) & 1;
      leafAddr = pteAddr; leafLo = pte;
      pageBase = (pte & 0xfffff000) >>> 0;
    }
  } else {
    const long = (c.efer & 0x400) !== 0; // LMA
    let table: number;
    let level: number;
    if (long) {
      table = c.cr3 - (c.cr3 % 4096);
      level = 4;
    } else {
      table = (c.cr3 & 0xffffffe0) >>> 0;
      level = 3;
    }
    for (;;) {
      const shift = 12 + 9 * (level - 1);
      let idx: number;
      if (!long && level === 3) idx = (u >>> 30) & 3;
      else idx = Math.floor(u / 2 ** shift) & 511;
      const ea = table + idx * 8;
      const lo = rdPhys32(c, ea);
      const hi = ea + 8 <= c.ramSize ? c.view.getUint32(ea + 4, true) : 0xffffffff;
      if (!(lo & 1)) pageFault(c, lin, 0, write, user, fetch, false);
      let rsvd = (hi & PHYS_BITS_HI_RESERVED) !== 0 || (!nxe && hi >>> 31 !== 0);
      const ps = (lo & 0x80) !== 0;
      if (!long && level === 3) {
        rsvd ||= (lo & 0x1e6) !== 0; // PAE PDPTEs have no RW/US/A/PS bits
      } else {
        if (level === 4 && ps) rsvd = true;
        if (ps && level === 3 && (!c.pages1G || lo & 0x3fffe000)) rsvd = true;
        if (ps && level === 2 && lo & 0x1fe000) rsvd = true;
        rw &= (lo >> 1) & 1; us &= (lo >> 2) & 1;
      }
      if (rsvd) pageFault(c, lin, 1, write, user, fetch, true);
      if (nxe) nx |= hi >>> 31;
      const frame = (hi & 0xff) * TWO32 + ((lo & 0xfffff000) >>> 0);
      if ((ps && level <= 3 && (long || level !== 3)) || level === 1) {
        leafAddr = ea; leafLo = lo;
        if (level === 1) { pageBase = frame; pageOffsetMask = 0xfff; }
        else if (level === 2) { pageBase = frame - (frame % 0x200000); pageOffsetMask = 0x1fffff; }
        else { pageBase = frame - (frame % 0x40000000); pageOffsetMask = 0x3fffffff; }
        break;
      }
      if (!(lo & 0x20) && (long || level !== 3)) wrPhys32(c, ea, lo | 0x20);
      table = frame;
      level--;
    }
  }
  // Permission checks (no SMEP/SMAP: not advertised).
  const wp = (c.cr0 & 0x10000) !== 0;
  if (user && !us) pageFault(c, lin, 1, write, user, fetch, false);
  if (write && !rw && (user || wp)) pageFault(c, lin, 1, write, user, fetch, false);
  if (fetch && nx) pageFault(c, lin, 1, write, user, fetch, false);
  // Accessed and dirty bits on the leaf.
  let newLo = leafLo | 0x20;
  if (write) newLo |= 0x40;
  if (newLo !== leafLo) wrPhys32(c, leafAddr, newLo);
  const dirty = (newLo & 0x40) !== 0;
  const offInPage = (u % (pageOffsetMask + 1)) - (u % 4096);
  const phys4k = pageBase + offInPage;
  // Fill the TLB.
  let perm = P_SR;
  if (dirty && (rw || !wp)) perm |= P_SW;
  if (us) { perm |= P_UR; if (dirty && rw) perm |= P_UW; }
  if (!nx) { perm |= P_SX; if (us) perm |= P_UX; }
  c.tlb.fill(Math.floor(lin / 4096), phys4k, perm);
  return phys4k + (u % 4096);
}

function pageFault(c: X86Cpu, lin: number, p: number, write: boolean, user: boolean, fetch: boolean, rsvd: boolean): never {
  const nxe = (c.efer & 0x800) !== 0;
  const err = p | (write ? 2 : 0) | (user ? 4 : 0) | (rsvd ? 8 : 0) | (fetch && nxe ? 16 : 0);
  c.cr2 = lin;
  return c.fault(14, err);
}
