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

  it("8042: answers Linux's i8042 probe (loopbacks, aux test, aux enable/disable) without a timeout", () => {
    const dev = new PcReset(new FakeMachine());
    /** i8042_command: write the command (and parameter bytes), then read `answers` bytes, each after OBF. */
    const command = (cmd: number, params: number[], answers: number): { bytes: number[]; status: number[] } => {
      dev.write(0x64, 1, cmd);
      for (const p of params) dev.write(0x60, 1, p);
      const bytes: number[] = [];
      const status: number[] = [];
      for (let i = 0; i < answers; i++) {
        const st = dev.read(0x64, 1);
        if (!(st & 0x01)) throw new Error(`no byte ${i} after command 0x${cmd.toString(16)}: Linux would spin 500 ms here`);
        status.push(st);
        bytes.push(dev.read(0x60, 1));
      }
      expect(dev.read(0x64, 1) & 0x01).toBe(0); // nothing left over for i8042_flush
      return { bytes, status };
    };
    // Internal loopback: the byte comes back as auxiliary data (status bit 5), as i8042_check_aux checks.
    const loop = command(0xd3, [0x5a], 1);
    expect(loop.bytes).toEqual([0x5a]);
    expect(loop.status[0] & 0x20).toBe(0x20);
    // Keyboard loopback: keyboard data (bit 5 clear).
    const kbdLoop = command(0xd2, [0xa5], 1);
    expect(kbdLoop.bytes).toEqual([0xa5]);
    expect(kbdLoop.status[0] & 0x20).toBe(0);
    expect(command(0xa9, [], 1).bytes).toEqual([0x00]);
    expect(command(0xab, [], 1).bytes).toEqual([0x00]);
    // i8042_toggle_aux: disable, read the command byte until AUXDIS (bit 5) shows, then enable.
    command(0xa7, [], 0);
    expect(command(0x20, [], 1).bytes[0] & 0x20).toBe(0x20);
    command(0xa8, [], 0);
    expect(command(0x20, [], 1).bytes[0] & 0x20).toBe(0);
    // A byte for a mouse that is not there is dropped; nothing answers.
    command(0xd4, [0xff], 0);
    // The aux flag is part of the saved state, and states saved before it existed restore as keyboard data.
    dev.write(0x64, 1, 0xd3);
    dev.write(0x60, 1, 0x77);
    const saved = dev.snapshot();
    expect(saved.kbcOutputAux).toBe(true);
    const copy = new PcReset(new FakeMachine());
    copy.restore(JSON.parse(JSON.stringify(saved)));
    expect(copy.read(0x64, 1) & 0x21).toBe(0x21);
    const { kbcOutputAux: _dropped, ...older } = saved;
    copy.restore(older);
    expect(copy.read(0x64, 1) & 0x21).toBe(0x01);
    expect(copy.read(0x60, 1)).toBe(0x77);
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
