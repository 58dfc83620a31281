// Several CPUs: siblings of the lapic device on one bus, each reached at the same xAPIC address.
import { describe, expect, it } from 'vitest';
import { MachineClock, MmioBus } from '@unimachine/core';
import { IoApic, LapicMmioWindow, LocalApic, ProcessorApics, RecordingProcessor } from '../src/index.js';
import { rememberWindow } from '../src/processor-apics.js';

const BASE = 0xfee00000;

function group(n: number) {
  const mmio = new MmioBus();
  const bsp = new LocalApic({ id: 0, clock: new MachineClock('deterministic'), firmwareState: true });
  rememberWindow(bsp, new LapicMmioWindow(mmio, bsp, 'lapic'));
  const apics = new ProcessorApics(bsp, n);
  const cpus = apics.apics.map((a) => (a.processor = new RecordingProcessor()) as RecordingProcessor);
  return { mmio, bsp, apics, cpus };
}

describe('ProcessorApics', () => {
  it('makes APs with IDs 1..n-1 on the BSP bus, not BSP, waiting for a SIPI', () => {
    const { bsp, apics } = group(3);
    expect(apics.apics.map((a) => a.initialId)).toEqual([0, 1, 2]);
    expect(apics.apics.map((a) => a.bsp)).toEqual([true, false, false]);
    expect(apics.apics.map((a) => a.waitingForSipi)).toEqual([false, true, true]);
    expect(bsp.bus.localApics).toEqual(apics.apics);
    expect(apics.apics[1].tscHz).toBe(bsp.tscHz);
  });

  it('the window at 0xfee00000 answers with the selected CPU\'s APIC', () => {
    const { mmio, apics } = group(3);
    for (const i of [2, 0, 1]) {
      apics.select(i);
      expect(mmio.read(BASE + 0x20, 4) >>> 24).toBe(i);
    }
    // A write reaches only the selected APIC (TPR of CPU 1).
    apics.select(1);
    mmio.write(BASE + 0x80, 4, 0x30);
    expect(apics.apics.map((a) => a.tpr)).toEqual([0, 0x30, 0]);
  });

  it('INIT-SIPI from the BSP ICR reaches the APs; a fixed IPI reaches only its target', () => {
    const { mmio, apics, cpus } = group(3);
    apics.select(0);
    mmio.write(BASE + 0x300, 4, 0x000c4500); // INIT to all excluding self
    mmio.write(BASE + 0x300, 4, 0x000c4608); // SIPI vector 8
    mmio.write(BASE + 0x300, 4, 0x000c4608); // the second is ignored: nobody waits any more
    expect(cpus[0].events).toEqual([]);
    for (const c of cpus.slice(1)) expect(c.events).toEqual([{ kind: 'init' }, { kind: 'startup', vector: 8 }]);
    apics.select(2);
    mmio.write(BASE + 0xf0, 4, 0x1ff);
    apics.select(0);
    mmio.write(BASE + 0x310, 4, 2 << 24);
    mmio.write(BASE + 0x300, 4, 0x00004041);
    expect(apics.apics.map((a) => a.irr.has(0x41))).toEqual([false, false, true]);
  });

  it('the I/O APIC delivers to any of them (physical destination 1)', () => {
    const { bsp, apics } = group(2);
    const io = new IoApic(bsp.bus);
    io.mmio.write(0x00, 1, 0x10 + 2 * 5);
    io.mmio.write(0x10, 4, 0x35);
    io.mmio.write(0x00, 1, 0x11 + 2 * 5);
    io.mmio.write(0x10, 4, 1 << 24);
    io.line(5).raise();
    expect(apics.apics.map((a) => a.irr.has(0x35))).toEqual([false, true]);
  });
});
