import { Insn, eaKindOf } from './insn.js';
import { decodeInto } from './decoder.js';
import { BLOCK_MAX, Block, LAST_CACHED_OFFSET, fallsThrough, handlerFor, isPlainEnd } from './block.js';
import { setInlineKind } from './exec-inline.js';

/**
 * Decoded instructions cached by physical address. Each RAM page holding cached code has an array
 * indexed by page offset; `codePages` marks those pages. Within a page, `chunks` records which 64-byte
 * chunks hold decoded bytes (two 32-bit masks per page): a CPU store into a marked chunk drops the
 * page's array, a store elsewhere on the page (data sharing a page with code) does not. Writers that
 * bypass the CPU (DMA, loaders) drop whole pages. An entry decoded in another mode is simply re-decoded.
 * The optional extensions decoded (`isa`, from the CPU model) are fixed per cache: a cache belongs to
 * one CPU model (CPUs sharing it must have the same model), so entries cannot leak between models.
 * Each page also has an array of decoded blocks (block.ts) by start offset, dropped with the page.
 */
export class DecodeCache {
  declare readonly codePages: Uint8Array;
  /** Per page: bit k of chunks[2p + (k >> 5)] set when 64-byte chunk k holds decoded instruction bytes. */
  declare readonly chunks: Int32Array;
  private declare pages: (Insn[] | undefined)[];
  private declare blockPages: ((Block | undefined)[] | undefined)[];
  /**
   * Told whenever any page is dropped, so holders of a page array re-fetch it. A list: CPUs of one
   * model may share a cache (SMP), so a store by one drops what another decoded.
   */
  private readonly invalidateListeners: (() => void)[] = [];
  /** Told when RAM page p starts or stops holding code (p = -1: all stopped), for the TLBs' TLB_CODE bits. */
  private readonly codePageListeners: ((p: number, code: boolean) => void)[] = [];
  /** WebAssembly tiers of the CPUs using this cache, numbered for Block.compiled. */
  tiers = 0;

  /** Call `listener` whenever any page is dropped (each CPU using this cache registers one). */
  onInvalidate(listener: () => void): void {
    this.invalidateListeners.push(listener);
  }

  /** Call `listener` when a page starts or stops holding code (each CPU's TLB registers one). */
  onCodePageChange(listener: (p: number, code: boolean) => void): void {
    this.codePageListeners.push(listener);
  }

  private setCodePage(p: number, code: boolean): void {
    if ((this.codePages[p] !== 0) === code) return;
    this.codePages[p] = code ? 1 : 0;
    const ls = this.codePageListeners;
    for (let i = 0; i < ls.length; i++) ls[i](p, code);
  }

  private invalidated(): void {
    const ls = this.invalidateListeners;
    for (let i = 0; i < ls.length; i++) ls[i]();
  }

  /**
   * `codePages` may be given as a view the WebAssembly tier can read (one byte per RAM page, plus one):
   * compiled stores test it inline to take the slow path on pages holding code.
   */
  constructor(ramSize: number, readonly isa = 0, codePages?: Uint8Array) {
    const n = Math.ceil(ramSize / 4096);
    this.codePages = codePages ?? new Uint8Array(n + 1);
    this.chunks = new Int32Array(2 * (n + 1));
    this.pages = new Array(n + 1).fill(undefined);
    this.blockPages = new Array(n + 1).fill(undefined);
  }

  /** The instruction array for the RAM page holding `phys` (created on demand). */
  page(phys: number): Insn[] {
    const p = phys >>> 12;
    let page = this.pages[p];
    if (page === undefined) {
      page = new Array<Insn>(4096);
      this.pages[p] = page;
      this.blockPages[p] = new Array<Block | undefined>(4096);
      this.setCodePage(p, true);
    }
    return page;
  }

  /** The block array of the RAM page holding `phys` (call page() first). */
  blocks(phys: number): (Block | undefined)[] {
    return this.blockPages[phys >>> 12]!;
  }

  /**
   * Decode the block starting at page offset `off` (page = the arrays of the page at physical `pageBase`)
   * and record it; undefined when the first instruction cannot start one (invalid, or too close to the
   * page end to be decoded from this page alone).
   */
  buildBlock(page: Insn[], blocks: (Block | undefined)[], off: number, mode: number, ram: Uint8Array, pageBase: number): Block | undefined {
    const block = new Block(mode);
    let o = off;
    while (o <= LAST_CACHED_OFFSET) {
      let ins = page[o];
      if (ins === undefined || ins.mode !== mode || ins.len === 0) ins = this.fill(page, o, mode, ram, pageBase + o, 15);
      if (ins.len === 0 || !ins.valid) break;
      block.insns.push(ins);
      const fn = handlerFor(ins);
      block.fns.push(fn);
      setInlineKind(ins, fn);
      o += ins.len;
      ins.end = o;
      if (!fallsThrough(ins) || block.insns.length === BLOCK_MAX) break;
    }
    if (block.insns.length === 0) return undefined;
    block.count = block.insns.length;
    block.bytes = o - off;
    block.plainEnd = isPlainEnd(block.insns[block.count - 1]);
    blocks[off] = block;
    return block;
  }

  /**
   * Decode at ram[phys] (which must hold `avail` bytes inside one RAM page) into the page array and
   * mark the chunks its bytes occupy.
   */
  fill(page: Insn[], off: number, mode: number, ram: Uint8Array, phys: number, avail: number): Insn {
    let ins = page[off];
    // A decoded entry is replaced, not rewritten: blocks of its old mode may still hold it.
    if (ins === undefined || ins.len !== 0) {
      ins = new Insn();
      page[off] = ins;
    }
    decodeInto(ins, ram, phys, avail, mode, this.isa);
    ins.eaKind = eaKindOf(ins);
    if (ins.len !== 0) {
      const base = 2 * (phys >>> 12);
      const last = (off + ins.len - 1) >> 6; // the bytes stay inside the page (avail is bounded by it)
      for (let k = off >> 6; k <= last; k++) this.chunks[base + (k >> 5)] |= 1 << (k & 31);
    }
    return ins;
  }

  /**
   * Mark `len` bytes at physical `phys` (inside RAM, within one page) as decoded code kept elsewhere
   * (the CPU's cache of instructions that cross a page): a write to them invalidates the page.
   */
  markCode(phys: number, len: number): void {
    const p = phys >>> 12;
    this.setCodePage(p, true);
    const base = 2 * p;
    const off = phys & 0xfff;
    for (let k = off >> 6; k <= (off + len - 1) >> 6; k++) this.chunks[base + (k >> 5)] |= 1 << (k & 31);
  }

  /** A CPU store of `size` bytes at physical `pa` (inside RAM) on a page marked in codePages. */
  noteWrite(pa: number, size: number): void {
    const p = pa >>> 12;
    const base = 2 * p;
    const first = (pa & 0xfff) >> 6;
    const last = ((pa & 0xfff) + size - 1) >> 6;
    if (last > 63) { this.invalidatePage(p); return; } // runs into the next page: be conservative
    if (this.chunks[base + (first >> 5)] & (1 << (first & 31)) || this.chunks[base + (last >> 5)] & (1 << (last & 31))) {
      this.invalidatePage(p);
    }
  }

  invalidatePage(p: number): void {
    this.pages[p] = undefined;
    this.blockPages[p] = undefined;
    this.setCodePage(p, false);
    this.chunks[2 * p] = 0;
    this.chunks[2 * p + 1] = 0;
    this.invalidated();
  }

  clear(): void {
    this.pages.fill(undefined);
    this.blockPages.fill(undefined);
    this.codePages.fill(0);
    for (const l of this.codePageListeners) l(-1, false);
    this.chunks.fill(0);
    this.invalidated();
  }
}
