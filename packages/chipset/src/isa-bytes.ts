import type { AccessSize, PortHandler } from '@unimachine/core';

/** A device that only knows byte-wide registers. */
export interface BytePorts {
  readByte(port: number): number;
  writeByte(port: number, value: number): void;
}

/**
 * ISA devices have 8-bit registers: a word or dword access is consecutive byte cycles
 * (`outw(0x70, reg | value << 8)` sets the RTC index and writes the data port). Bytes that fall
 * on ports the device does not own read as all ones and are dropped on write.
 */
export function isaByteHandler(device: BytePorts, owns: (port: number) => boolean): PortHandler {
  return {
    read(port: number, size: AccessSize): number {
      let value = 0;
      for (let i = 0; i < size; i++) value |= (owns(port + i) ? device.readByte(port + i) & 0xff : 0xff) << (8 * i);
      return value >>> 0;
    },
    write(port: number, size: AccessSize, value: number): void {
      for (let i = 0; i < size; i++) if (owns(port + i)) device.writeByte(port + i, (value >>> (8 * i)) & 0xff);
    },
  };
}
