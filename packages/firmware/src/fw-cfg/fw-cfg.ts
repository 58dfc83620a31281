import { StateReader, type AccessSize, type Device, type GuestMemory, type PortHandler } from '@unimachine/core';
import {
  ARCH_LOCAL,
  DMA_ACCESS_SIZE,
  DmaControl,
  E820_ENTRY_SIZE,
  ENTRY_MASK,
  FILE_ENTRY_SIZE,
  FILE_NAME_SIZE,
  FILE_SLOTS,
  FW_CFG_DMA_SIGNATURE,
  FwCfgFeature,
  FwCfgKey,
} from './registers.js';

const STATE_VERSION = 1;

export interface FwCfgOptions {
  /** Offer the DMA interface (FW_CFG_ID bit 1, the address register at 0x514). */
  dma?: boolean;
}

export interface E820Entry {
  base: number;
  length: number;
  type: number;
}

const le = (v: number, n: number): Uint8Array => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = i < 4 ? (v >>> (8 * i)) & 0xff : (Math.floor(v / 0x1_0000_0000) >>> (8 * (i - 4))) & 0xff;
  return out;
};

/** The `etc/e820` file: packed 20-byte entries (address, length, type), little-endian. */
export function encodeE820(entries: readonly E820Entry[]): Uint8Array {
  const out = new Uint8Array(entries.length * E820_ENTRY_SIZE);
  entries.forEach((e, i) => {
    out.set(le(e.base, 8), i * E820_ENTRY_SIZE);
    out.set(le(e.length, 8), i * E820_ENTRY_SIZE + 8);
    out.set(le(e.type, 4), i * E820_ENTRY_SIZE + 16);
  });
  return out;
}

/**
 * QEMU's firmware configuration device: numbered items (blobs) read through a selector and a
 * byte-wide data port, named files in a directory, and a DMA interface that copies items into
 * guest memory. The content is set up by the machine before the guest runs.
 */
export class FwCfg implements Device {
  private readonly items = new Map<number, Uint8Array>();
  private readonly files = new Map<string, Uint8Array>();
  private selected = FwCfgKey.SIGNATURE as number;
  private offset = 0;
  private dmaHigh = 0;
  private readonly dma: boolean;

  constructor(
    private readonly memory: GuestMemory,
    options: FwCfgOptions = {},
  ) {
    this.dma = options.dma ?? true;
    this.setItem(FwCfgKey.SIGNATURE, new TextEncoder().encode('QEMU'));
    this.setItem(FwCfgKey.ID, le(FwCfgFeature.TRADITIONAL | (this.dma ? FwCfgFeature.DMA : 0), 4));
    this.rebuildDirectory();
  }

  get dmaEnabled(): boolean {
    return this.dma;
  }

  /** A numbered item (keys below FILE_FIRST, or arch-local 0x8000+). */
  setItem(key: number, data: Uint8Array): void {
    if ((key & ENTRY_MASK) >= FwCfgKey.FILE_FIRST || key & 0x4000) throw new RangeError(`fw_cfg: key 0x${key.toString(16)} is not a plain item key`);
    this.items.set(key, data);
  }

  setU16(key: number, v: number): void {
    this.setItem(key, le(v, 2));
  }
  setU32(key: number, v: number): void {
    this.setItem(key, le(v, 4));
  }
  setU64(key: number, v: number): void {
    this.setItem(key, le(v, 8));
  }

  /** A named file; keys are given in name order from FILE_FIRST, as QEMU sorts them. */
  addFile(name: string, data: Uint8Array): void {
    if (name.length === 0 || name.length >= FILE_NAME_SIZE) throw new RangeError(`fw_cfg: bad file name ${JSON.stringify(name)}`);
    if (this.files.has(name)) throw new Error(`fw_cfg: file ${name} added twice`);
    if (this.files.size >= FILE_SLOTS) throw new Error(`fw_cfg: more than ${FILE_SLOTS} files`);
    this.files.set(name, data);
    this.rebuildDirectory();
  }

  /** The selector key of a file (what the directory says). */
  fileKey(name: string): number | undefined {
    const i = this.sortedNames().indexOf(name);
    return i < 0 ? undefined : FwCfgKey.FILE_FIRST + i;
  }

  /** Standard items of a PC: RAM size, CPU counts, the IRQ0 override, and `etc/e820`. */
  setMachine(info: { memoryBytes: number; cpus: number; maxCpus?: number; e820?: readonly E820Entry[] }): void {
    this.setItem(FwCfgKey.UUID, new Uint8Array(16));
    this.setU64(FwCfgKey.RAM_SIZE, info.memoryBytes);
    this.setU16(FwCfgKey.NOGRAPHIC, 0);
    this.setU16(FwCfgKey.NB_CPUS, info.cpus);
    this.setU16(FwCfgKey.MAX_CPUS, info.maxCpus ?? info.cpus);
    this.setU16(FwCfgKey.BOOT_MENU, 0);
    this.setU32(FwCfgKey.IRQ0_OVERRIDE, 1);
    this.addFile('etc/e820', encodeE820(info.e820 ?? [{ base: 0, length: info.memoryBytes, type: 1 }]));
  }

  private sortedNames(): string[] {
    return [...this.files.keys()].sort();
  }

  private rebuildDirectory(): void {
    const names = this.sortedNames();
    const dir = new Uint8Array(4 + names.length * FILE_ENTRY_SIZE);
    const v = new DataView(dir.buffer);
    v.setUint32(0, names.length); // big-endian, like every directory field
    names.forEach((name, i) => {
      const at = 4 + i * FILE_ENTRY_SIZE;
      v.setUint32(at, this.files.get(name)!.length);
      v.setUint16(at + 4, FwCfgKey.FILE_FIRST + i);
      for (let c = 0; c < name.length; c++) dir[at + 8 + c] = name.charCodeAt(c);
    });
    this.items.set(FwCfgKey.FILE_DIR, dir);
  }

  /** The blob behind a selector key, or undefined when the key selects nothing. */
  private entry(key: number): Uint8Array | undefined {
    const index = key & ENTRY_MASK;
    if (index >= FwCfgKey.FILE_FIRST) {
      if (key & ARCH_LOCAL) return undefined;
      const name = this.sortedNames()[index - FwCfgKey.FILE_FIRST];
      return name === undefined ? undefined : this.files.get(name);
    }
    return this.items.get(key & (ARCH_LOCAL | ENTRY_MASK));
  }

  // ---- the guest's view -------------------------------------------------------------------

  /** Selector write: choose an item, offset back to 0. The write-channel bit (14) is ignored. */
  select(key: number): void {
    this.selected = key & 0xffff;
    this.offset = 0;
  }

  /** One byte from the data port: the next byte of the item, 0 past its end or for no item. */
  readData(): number {
    const data = this.entry(this.selected);
    if (!data || this.offset >= data.length) return 0;
    return data[this.offset++];
  }

  /** The DMA address register reads as its signature, byte by byte from offset 0. */
  readDmaRegister(offset: number, size: number): number {
    if (!this.dma) return 0xffffffff;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (FW_CFG_DMA_SIGNATURE.charCodeAt(offset + i) || 0);
    return v >>> 0;
  }

  /** A 32-bit write to the DMA address register, as the guest wrote it (big-endian). The low half starts the transfer. */
  writeDmaRegister(offset: number, value: number): void {
    if (!this.dma) return;
    const swapped = byteSwap32(value);
    if (offset === 0) this.dmaHigh = swapped;
    else if (offset === 4) {
      const address = this.dmaHigh * 0x1_0000_0000 + swapped;
      this.dmaHigh = 0;
      this.transfer(address);
    }
  }

  /**
   * Run the FWCfgDmaAccess at `address`: optional select, then read (into guest memory), skip,
   * or write (refused: no item is writable). The control word is set to 0 on success or to the
   * error bit. A structure outside RAM is dropped, as QEMU cannot report on it either.
   */
  transfer(address: number): void {
    const m = this.memory;
    if (!m.contains(address, DMA_ACCESS_SIZE)) return;
    const d = m.bytes(address, DMA_ACCESS_SIZE);
    const v = new DataView(d.buffer, d.byteOffset, DMA_ACCESS_SIZE);
    const control = v.getUint32(0);
    let length = v.getUint32(4);
    let target = v.getUint32(8) * 0x1_0000_0000 + v.getUint32(12);
    if (control & DmaControl.SELECT) this.select(control >>> 16);
    const read = (control & DmaControl.READ) !== 0;
    const write = !read && (control & DmaControl.WRITE) !== 0;
    if (!read && !write && !(control & DmaControl.SKIP)) length = 0;

    let error = false;
    const data = this.entry(this.selected);
    while (length > 0 && !error) {
      const available = data ? Math.max(0, data.length - this.offset) : 0;
      const chunk = available > 0 ? Math.min(length, available) : length;
      if (read) {
        if (!m.contains(target, chunk)) error = true;
        else if (available > 0) m.write(target, data!.subarray(this.offset, this.offset + chunk));
        else {
          m.bytes(target, chunk).fill(0);
          m.markWritten(target, chunk);
        }
      } else if (write) {
        error = true; // no item accepts writes
      }
      if (available > 0) this.offset += chunk;
      target += chunk;
      length -= chunk;
    }
    v.setUint32(0, error ? DmaControl.ERROR : 0);
    m.markWritten(address, 4);
  }

  reset(): void {
    this.select(FwCfgKey.SIGNATURE);
    this.dmaHigh = 0;
  }

  snapshot(): { version: number; selected: number; offset: number; dmaHigh: number } {
    return { version: STATE_VERSION, selected: this.selected, offset: this.offset, dmaHigh: this.dmaHigh };
  }

  restore(state: unknown): void {
    const r = StateReader.open('fw-cfg', state, STATE_VERSION);
    this.selected = r.int('selected', 0, 0xffff);
    this.offset = r.int('offset', 0, 0xffffffff);
    this.dmaHigh = r.int('dmaHigh', 0, 0xffffffff);
  }

  /** Port-bus adapter for the selector/data pair (0x510/0x511). */
  get ports(): PortHandler {
    return {
      // Only byte reads are valid (either port returns data); wider reads return 0, as on QEMU.
      read: (_port: number, size: AccessSize) => (size === 1 ? this.readData() : 0),
      write: (_port: number, size: AccessSize, value: number) => {
        // A 16-bit write selects; byte writes to the data port are ignored since QEMU 2.4.
        if (size === 2) this.select(value);
      },
    };
  }

  /** Port-bus adapter for the DMA address register (0x514-0x51b). */
  dmaPorts(base: number): PortHandler {
    return {
      read: (port: number, size: AccessSize) => this.readDmaRegister(port - base, size),
      write: (port: number, size: AccessSize, value: number) => {
        if (size === 4) this.writeDmaRegister(port - base, value);
      },
    };
  }
}

function byteSwap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}
