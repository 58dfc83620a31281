import { describe, expect, it } from 'vitest';
import { GuestMemory, PortBus } from '@unimachine/core';
import { X86Cpu } from '../../src/index.js';
import { asm } from './helpers.js';

describe('reset and triple-fault policy', () => {
  it("onTripleFault: 'reset' restarts at F000:FFF0 in real mode instead of dying", () => {
    const memory = new GuestMemory(1024 * 1024);
    const cpu = new X86Cpu({ memory, ports: new PortBus(), onTripleFault: 'reset' });
    memory.write(0x1000, asm('ud2', { bits: 32 }));
    cpu.enterMultiboot(0x1000, 0);
    cpu.run(1);
    expect(cpu.deathReason).toBeUndefined();
    expect(cpu.getRip()).toBe(0xfff0n);
    expect(cpu.getSegmentBase('cs')).toBe(0xffff0000n);
    expect(cpu.getCr(0) & 1n).toBe(0n);
  });

  it('runs real-mode code after reset (16-bit decode, segment arithmetic)', () => {
    const memory = new GuestMemory(1024 * 1024);
    const cpu = new X86Cpu({ memory, ports: new PortBus() });
    cpu.reset();
    // Put code at 0x0000:0x7c00 and jump there by setting CS:IP directly.
    memory.write(0x7c00, asm(`
  mov ax, 0x1234
  mov ds, ax
  mov word [0x10], 0xbeef   ; linear 0x12350
  mov bx, [0x10]
  cli
  hlt
`, { bits: 16, org: 0x7c00 }));
    cpu.setRip(0x7c00n);
    cpu.segBase[1] = 0; // CS base 0 (CS:IP = 0000:7C00)
    expect(cpu.run(100)).toBe('dead');
    expect(memory.readU16(0x12350)).toBe(0xbeef);
    expect(cpu.getGpr(3) & 0xffffn).toBe(0xbeefn);
  });
});
