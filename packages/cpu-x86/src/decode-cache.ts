import { Insn } from './insn.js';
import { decodeInto } from './decoder.js';

/**
 * Decoded instructions cached by physical address. Each RAM page holding cached code has an array
 * indexed by page offset; `codePages` marks those pages so that any write to one drops its array.
 * An entry decoded in another mode (16/32/64) is simply re-decoded.
 */
export class DecodeCache {
  readonly codePages: Uint8Array;
  private pages: (Insn[] | undefined)[];
  /** Called whenever any page is dropped, so holders of a page array re-fetch it. */
  onInvalidate: () => void = () => {};

  constructor(ramSize: number) {
    const n = Math.ceil(ramSize / 4096);
    this.codePages = new Uint8Array(n + 1);
    this.pages = new Array(n + 1).fill(undefined);
  }

  /** The instruction array for the RAM page holding `phys` (created on demand). */
  page(phys: number): Insn[] {
    const p = phys >>> 12;
    let page = this.pages[p];
    if (page === undefined) {
      page = new Array<Insn>(4096);
      this.pages[p] = page;
      this.codePages[p] = 1;
    }
    return page;
  }

  /** Decode at buf[pos] (which must hold `avail` bytes inside one RAM page) into the page array. */
  fill(page: Insn[], off: number, mode: number, buf: Uint8Array, pos: number, avail: number): Insn {
    let ins = page[off];
    if (ins === undefined) {
      ins = new Insn();
      page[off] = ins;
    }
    decodeInto(ins, buf, pos, avail, mode);
    return ins;
  }

  invalidatePage(p: number): void {
    this.pages[p] = undefined;
    this.codePages[p] = 0;
    this.onInvalidate();
  }

  clear(): void {
    this.pages.fill(undefined);
    this.codePages.fill(0);
    this.onInvalidate();
  }
}
