import type { GuestMemory } from '@unimachine/core';
import { CPU_AREA_BYTES } from './state-layout.js';

/** A CPU's state block, and the code-page bitmap its decode cache marks. */
export interface CpuArea {
  buffer: ArrayBuffer;
  base: number;
  /** One byte per RAM page (plus one); in WebAssembly memory when `wasm` is true. Empty when not asked for. */
  codePages: Uint8Array;
  /** The block lives in the machine's WebAssembly.Memory, so the WebAssembly tier can run. */
  wasm: boolean;
}

/**
 * Place a CPU's state block and code-page bitmap in the host area of guest memory. A memory object
 * without one (a test double) gets plain buffers: the interpreter works the same, the tier stays off.
 */
export function allocateCpuArea(memory: GuestMemory, withCodePages = true): CpuArea {
  // CPUs sharing another CPU's decode cache (SMP) share its bitmap too.
  const pages = withCodePages ? Math.ceil(memory.size / 4096) + 1 : 0;
  if (typeof memory.allocateHostArea !== 'function') {
    return { buffer: new ArrayBuffer(CPU_AREA_BYTES), base: 0, codePages: new Uint8Array(pages), wasm: false };
  }
  const base = memory.allocateHostArea(CPU_AREA_BYTES, 64);
  const codeAt = pages > 0 ? memory.allocateHostArea(pages, 64) : memory.hostAreaStart;
  return { buffer: memory.buffer, base, codePages: new Uint8Array(memory.buffer, codeAt, pages), wasm: true };
}
