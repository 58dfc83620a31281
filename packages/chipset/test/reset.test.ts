import { describe, expect, it } from 'vitest';
import { PcReset, pcResetPlugin } from '../src/index.js';
import { FakeMachine, fakeContext } from './fakes.js';

describe('PC reset paths', () => {
  it('0xCF9: Linux writes 0x02 then 0x06; only the write with bit 2 resets', () => {
    const machine = new FakeMachine();
    const dev = new PcReset(machine);
    dev.write(0xcf9, 1, 0x02);
    expect(machine.resets).toEqual([]);
    expect(dev.read(0xcf9, 1)).toBe(0x02);
    dev.write(0xcf9, 1, 0x06);
    expect(machine.resets).toEqual(['0xCF9']);
    expect(dev.read(0xcf9, 1)).toBe(0x02); // RST_CPU does not stick
    dev.write(0xcf9, 1, 0x0e);
    expect(machine.resets.length).toBe(2);
  });

  it('port 0x92: bit 1 is the A20 gate, a rising bit 0 is a fast reset', () => {
    const machine = new FakeMachine();
    const dev = new PcReset(machine);
    expect(dev.read(0x92, 1)).toBe(0x02);
    dev.write(0x92, 1, 0x00);
    expect(dev.a20).toBe(false);
    expect(dev.read(0x92, 1)).toBe(0x00);
    dev.write(0x92, 1, 0x02);
    expect(machine.resets).toEqual([]);
    dev.write(0x92, 1, 0x03);
    expect(machine.resets).toEqual(['port 0x92 fast reset']);
    dev.write(0x92, 1, 0x03); // already set: no new edge
    expect(machine.resets.length).toBe(1);
    dev.reset();
    expect(dev.read(0x92, 1)).toBe(0x02);
  });

  it('8042: waits on an empty input buffer, then 0xFE pulses the reset line', () => {
    const machine = new FakeMachine();
    const dev = new PcReset(machine);
    // The classic loop: while (inb(0x64) & 2); outb(0x64, 0xfe);
    let spins = 0;
    while (dev.read(0x64, 1) & 0x02 && spins < 10) spins++;
    expect(spins).toBe(0);
    dev.write(0x64, 1, 0xfe);
    expect(machine.resets).toEqual(['keyboard controller 0xFE']);
    dev.write(0x64, 1, 0xff); // pulses nothing
    expect(machine.resets.length).toBe(1);
  });

  it('8042: self-test, command byte, output port and A20 through 0xD1', () => {
    const machine = new FakeMachine();
    const dev = new PcReset(machine);
    dev.write(0x64, 1, 0xaa);
    expect(dev.read(0x64, 1) & 0x01).toBe(0x01);
    expect(dev.read(0x60, 1)).toBe(0x55);
    expect(dev.read(0x64, 1) & 0x01).toBe(0);
    dev.write(0x64, 1, 0x60);
    dev.write(0x60, 1, 0x47);
    dev.write(0x64, 1, 0x20);
    expect(dev.read(0x60, 1)).toBe(0x47);
    dev.write(0x64, 1, 0xd1);
    dev.write(0x60, 1, 0xdd); // A20 off, reset line high
    expect(dev.a20).toBe(false);
    expect(dev.read(0x92, 1) & 0x02).toBe(0);
    dev.write(0x64, 1, 0xd0);
    expect(dev.read(0x60, 1)).toBe(0x01);
    dev.write(0x64, 1, 0xd1);
    dev.write(0x60, 1, 0xde); // bit 0 low: reset
    expect(machine.resets).toEqual(['keyboard controller output port']);
  });

  it('the plugin claims 0xCF9, 0x92, 0x60 and 0x64, each optional', async () => {
    const { ctx, machine, ports } = fakeContext();
    await pcResetPlugin.create(ctx, {});
    ports.write(0x64, 1, 0xfe);
    ports.write(0xcf9, 1, 0x06);
    ports.write(0x92, 1, 0x03);
    expect(machine.resets).toEqual(['keyboard controller 0xFE', '0xCF9', 'port 0x92 fast reset']);
    const other = fakeContext();
    await pcResetPlugin.create(other.ctx, { cf9: false, keyboardController: false });
    expect(other.ports.ownerOf(0xcf9)).toBeUndefined();
    expect(other.ports.ownerOf(0x64)).toBeUndefined();
    expect(other.ports.ownerOf(0x92)).toBe('dev');
  });
});
