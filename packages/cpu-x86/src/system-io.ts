import type { X86Cpu } from './cpu.js';
import { IOPL } from './flags.js';

/**
 * Permission for IN/OUT/INS/OUTS of `size` bytes at `port`. Allowed in real mode and when CPL <= IOPL;
 * otherwise (and always in virtual-8086 mode) the TSS I/O permission bitmap decides: every bit for
 * port..port+size-1 must be clear, and the bytes holding them must lie within the TSS limit. #GP(0)
 * when not permitted.
 */
export function checkIoPermission(c: X86Cpu, port: number, size: number): void {
  if (!(c.cr0 & 1)) return;
  const vm = (c.fl.bits & 0x20000) !== 0;
  if (!vm && c.cpl <= (c.fl.bits & IOPL) >> 12) return;
  const type = c.trAttr & 0xf;
  if (type !== 0x9 && type !== 0xb) c.fault(13, 0); // a 16-bit TSS has no bitmap
  if (c.trLimit < 0x67) c.fault(13, 0);
  const mapBase = c.sysRd16(c.trBase + 0x66);
  const byte = mapBase + (port >>> 3);
  // Two bytes are read, as on hardware, so an access near the end of the map needs both in the limit.
  if (byte + 1 > c.trLimit) c.fault(13, 0);
  const bits = c.sysRd16(c.trBase + byte);
  const mask = ((1 << size) - 1) << (port & 7);
  if (bits & mask) c.fault(13, 0);
}
