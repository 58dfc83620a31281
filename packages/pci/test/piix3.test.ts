import { describe, expect, it } from 'vitest';
import { machine } from './helpers.js';

describe('PIIX3 IDE bus-master registers (no drives)', () => {
  it('keep what the guest writes, with the datasheet masks and write-1-to-clear status bits', () => {
    const { host, ports } = machine();
    const base = host.ide!.barAddress(4)!;
    expect(base).toBe(0xc000);
    ports.write(base, 1, 0xff);
    expect(ports.read(base, 1)).toBe(0x09); // only start and direction exist
    ports.write(base + 2, 1, 0x60);
    expect(ports.read(base + 2, 1)).toBe(0x60); // drive 0/1 DMA capable
    ports.write(base + 2, 1, 0x07); // error/interrupt are write-1-to-clear and active is read-only: none set
    expect(ports.read(base + 2, 1)).toBe(0x00);
    ports.write(base + 4, 4, 0x12345677);
    expect(ports.read(base + 4, 4) >>> 0).toBe(0x12345674); // PRD table address is dword aligned
    ports.write(base + 8 + 4, 4, 0x1000);
    expect(ports.read(base + 12, 4)).toBe(0x1000); // the secondary channel is separate
    host.reset();
    expect(ports.read(base + 4, 4)).toBe(0);
  });
});
