import './wasm-types.js';
import type { MmioBus } from './bus.js';

/** Thrown (or returned) when a device or loader touches guest-physical memory outside RAM. */
export class GuestMemoryFault extends Error {
  constructor(readonly address: number, readonly length: number) {
    super(`guest-physical range 0x${address.toString(16)}+${length} is outside RAM`);
    this.name = 'GuestMemoryFault';
  }
}

const PAGE = 65536;
/**
 * Bytes after guest RAM in the same WebAssembly.Memory for host-side state that generated code must
 * address: each CPU's registers, lazy flags and TLB, and the code-page bitmap (cpu-x86 allocates them
 * with allocateHostArea). The guest never sees it: physical addresses at or above `size` are MMIO.
 */
export const HOST_AREA_BYTES = 4 * 1024 * 1024;
/** The largest RAM, 4088 MiB: a 32-bit WebAssembly memory (4 GiB) less the host area, rounded down to a round MiB figure. */
export const MAX_GUEST_MEMORY = 4088 * 1024 * 1024;

/**
 * Guest RAM: one WebAssembly.Memory allocated at full size and never grown, so the
 * typed-array views below never detach and a later WebAssembly tier can share the bytes.
 * Physical addresses at or above `size` belong to the MMIO bus.
 */
export class GuestMemory {
  readonly size: number;
  readonly wasm: WebAssembly.Memory;
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly view: DataView;
  private readonly writeObservers: ((address: number, length: number) => void)[] = [];
  /** Start of the host area (64 KiB-aligned, after RAM) and the next free byte in it. */
  readonly hostAreaStart: number;
  private hostAreaNext: number;

  constructor(sizeBytes: number, readonly mmio?: MmioBus) {
    if (!Number.isInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes > MAX_GUEST_MEMORY) {
      throw new RangeError(`guest memory size must be between 64 KiB and ${MAX_GUEST_MEMORY} bytes (4 GiB less the host area), got ${sizeBytes}`);
    }
    const ramPages = Math.ceil(sizeBytes / PAGE);
    const pages = ramPages + HOST_AREA_BYTES / PAGE;
    this.wasm = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.hostAreaStart = this.hostAreaNext = ramPages * PAGE;
    this.buffer = this.wasm.buffer;
    this.size = sizeBytes;
    this.u8 = new Uint8Array(this.buffer, 0, sizeBytes);
    this.view = new DataView(this.buffer, 0, sizeBytes);
  }

  /**
   * Reserve `bytes` of the host area (aligned to `align`), zeroed; returns the byte offset into
   * `buffer`. Throws when the area is used up (more CPUs than it was sized for).
   */
  allocateHostArea(bytes: number, align = 8): number {
    const at = Math.ceil(this.hostAreaNext / align) * align;
    if (at + bytes > this.hostAreaStart + HOST_AREA_BYTES) {
      throw new RangeError(`host area exhausted: ${bytes} more bytes needed, ${HOST_AREA_BYTES} in all`);
    }
    this.hostAreaNext = at + bytes;
    return at;
  }

  /** True when [address, address+length) lies wholly inside RAM. */
  contains(address: number, length: number): boolean {
    return Number.isInteger(address) && address >= 0 && length >= 0 && address + length <= this.size;
  }

  /** A live view of guest RAM, or undefined if any byte is outside RAM. */
  tryBytes(address: number, length: number): Uint8Array | undefined {
    return this.contains(address, length) ? this.u8.subarray(address, address + length) : undefined;
  }

  /** A live view of guest RAM; throws GuestMemoryFault if any byte is outside RAM. */
  bytes(address: number, length: number): Uint8Array {
    const v = this.tryBytes(address, length);
    if (!v) throw new GuestMemoryFault(address, length);
    return v;
  }

  read(address: number, target: Uint8Array): void {
    target.set(this.bytes(address, target.length));
  }

  /** Copy `data` into RAM (device DMA, loaders); decoded code for the range is dropped. */
  write(address: number, data: Uint8Array): void {
    this.bytes(address, data.length).set(data);
    this.markWritten(address, data.length);
  }

  /**
   * Called for every write that bypasses the CPU: the CPU registers here to drop decoded (and
   * compiled) code for the range, exactly as for its own stores.
   */
  observeWrites(observer: (address: number, length: number) => void): void {
    this.writeObservers.push(observer);
  }

  /** A device wrote RAM through a view from bytes()/tryBytes(): tell the observers. write()/writeU*() do it themselves. */
  markWritten(address: number, length: number): void {
    for (const o of this.writeObservers) o(address, length);
  }

  readU8(a: number): number { this.check(a, 1); return this.u8[a]; }
  readU16(a: number): number { this.check(a, 2); return this.view.getUint16(a, true); }
  readU32(a: number): number { this.check(a, 4); return this.view.getUint32(a, true); }
  /** 64-bit little-endian read as a JS number; exact up to 2^53 (all guest-physical addresses). */
  readU64(a: number): number { this.check(a, 8); return this.view.getUint32(a, true) + this.view.getUint32(a + 4, true) * 0x1_0000_0000; }
  writeU8(a: number, v: number): void { this.check(a, 1); this.u8[a] = v; this.markWritten(a, 1); }
  writeU16(a: number, v: number): void { this.check(a, 2); this.view.setUint16(a, v, true); this.markWritten(a, 2); }
  writeU32(a: number, v: number): void { this.check(a, 4); this.view.setUint32(a, v >>> 0, true); this.markWritten(a, 4); }
  writeU64(a: number, v: number): void {
    this.check(a, 8);
    this.view.setUint32(a, v >>> 0, true);
    this.view.setUint32(a + 4, Math.floor(v / 0x1_0000_0000) >>> 0, true);
    this.markWritten(a, 8);
  }

  private check(a: number, n: number): void {
    if (!(a >= 0 && a + n <= this.size)) throw new GuestMemoryFault(a, n);
  }
}
