import { describe, expect, it } from 'vitest';
import { MachineClock, MmioBus } from '@unimachine/core';
import { LapicMmioWindow, LocalApic } from '../src/index.js';
import { drain, makeApic, rd, wr } from './support.js';

describe('local APIC registers (xAPIC)', () => {
  it('reads the reset state QEMU shows: ID, version 0x50014, SVR 0xff, LVTs masked, BSP LINT0 ExtINT', () => {
    const { apic } = makeApic({ id: 3, bsp: true, enable: false });
    expect(rd(apic, 0x20)).toBe(0x03000000);
    expect(rd(apic, 0x30)).toBe(0x00050014);
    expect(rd(apic, 0xf0)).toBe(0xff);
    expect(rd(apic, 0xe0)).toBe(0xffffffff);
    expect(rd(apic, 0xd0)).toBe(0);
    expect(rd(apic, 0x320)).toBe(0x10000);
    expect(rd(apic, 0x350)).toBe(0x700);
    expect(rd(apic, 0x360)).toBe(0x10000);
    expect(rd(apic, 0x370)).toBe(0x10000);
    expect(rd(apic, 0x3e0)).toBe(0);
    const [lo, hi] = apic.rdmsr(0x1b)!;
    expect([lo, hi]).toEqual([0xfee00900, 0]);
  });

  it('an AP starts with LINT0 masked and waiting for a SIPI; firmwareState gives SeaBIOS\'s BSP setup', () => {
    const ap = makeApic({ id: 1, enable: false }).apic;
    expect(ap.bsp).toBe(false);
    expect(rd(ap, 0x350)).toBe(0x10000);
    expect(ap.waitingForSipi).toBe(true);
    expect(ap.rdmsr(0x1b)![0]).toBe(0xfee00800);
    const bsp = makeApic({ id: 0, firmwareState: true, enable: false }).apic;
    expect(rd(bsp, 0xf0)).toBe(0x1ff);
    expect(rd(bsp, 0x350)).toBe(0x8700);
    expect(rd(bsp, 0x360)).toBe(0x8400);
  });

  it('keeps writable bits only: ID, LDR, DFR, TPR, SVR, LVT fields; read-only registers ignore writes', () => {
    const { apic } = makeApic();
    wr(apic, 0x20, 0x05ffffff);
    expect(rd(apic, 0x20)).toBe(0x05000000);
    wr(apic, 0xd0, 0xa5123456);
    expect(rd(apic, 0xd0)).toBe(0xa5000000);
    wr(apic, 0xe0, 0x0);
    expect(rd(apic, 0xe0)).toBe(0x0fffffff);
    wr(apic, 0x80, 0x1234);
    expect(rd(apic, 0x80)).toBe(0x34);
    wr(apic, 0xf0, 0xffffffff);
    expect(rd(apic, 0xf0)).toBe(0x3ff);
    wr(apic, 0x30, 0);
    expect(rd(apic, 0x30)).toBe(0x00050014);
    wr(apic, 0x350, 0xffffffff); // LINT0: vector, mode, polarity, trigger, mask; not remote IRR/status
    expect(rd(apic, 0x350)).toBe(0x0001a7ff);
    wr(apic, 0x320, 0xffffffff); // timer: vector, mask, mode
    expect(rd(apic, 0x320)).toBe(0x000700ff);
    wr(apic, 0x370, 0xffffffff);
    expect(rd(apic, 0x370)).toBe(0x000100ff);
    wr(apic, 0x300, 0xffffffff); // delivery status reads 0: the IPI went out at once
    expect(rd(apic, 0x300) & 0x1000).toBe(0);
  });

  it('ESR is write-then-read: errors show after the next ESR write, which also clears them', () => {
    const { apic } = makeApic();
    rd(apic, 0x2f0); // CMCI does not exist with max LVT 5: illegal register
    expect(rd(apic, 0x280)).toBe(0);
    wr(apic, 0x280, 0);
    expect(rd(apic, 0x280)).toBe(0x80);
    wr(apic, 0x280, 0);
    expect(rd(apic, 0x280)).toBe(0);
  });

  it('an error interrupts through the error LVT once per new error bit', () => {
    const { apic } = makeApic();
    wr(apic, 0x370, 0xfe);
    wr(apic, 0x300, 0x4005); // fixed IPI with vector 5: send illegal vector
    expect(apic.irr.has(0xfe)).toBe(true);
    expect(drain(apic)).toEqual([0xfe]);
    wr(apic, 0x300, 0x4005); // same error again before the ESR write: no second interrupt
    expect(apic.pending()).toBe(false);
    wr(apic, 0x280, 0);
    expect(rd(apic, 0x280)).toBe(0x20);
  });

  it('takes interrupts by priority class, nesting only higher classes, EOI retiring the highest ISR bit', () => {
    const { apic } = makeApic();
    apic.accept(0x31, false);
    apic.accept(0x52, false);
    apic.accept(0x45, false);
    expect(rd(apic, 0x200 + 0x10 * (0x52 >> 5))).toBe((1 << (0x52 & 31)) | (1 << (0x45 & 31)));
    expect(apic.acknowledge()).toBe(0x52);
    expect(rd(apic, 0xa0)).toBe(0x50); // PPR follows the in-service class
    expect(apic.pending()).toBe(false); // 0x45 is a lower class than 0x52 in service
    apic.accept(0x61, false);
    expect(apic.acknowledge()).toBe(0x61); // nests
    expect(rd(apic, 0x100 + 0x10 * 3)).toBe(1 << 1);
    wr(apic, 0xb0, 0);
    expect(rd(apic, 0x100 + 0x10 * 3)).toBe(0);
    expect(apic.pending()).toBe(false);
    wr(apic, 0xb0, 0);
    expect(drain(apic)).toEqual([0x45, 0x31]);
    expect(rd(apic, 0xa0)).toBe(0);
  });

  it('the TPR holds back classes at or below it; PPR is TPR when it is higher', () => {
    const { apic } = makeApic();
    wr(apic, 0x80, 0x45);
    apic.accept(0x4f, false);
    expect(apic.pending()).toBe(false);
    expect(rd(apic, 0xa0)).toBe(0x45);
    expect(rd(apic, 0x90)).toBe(0x45); // APR: TPR wins
    apic.accept(0x50, false);
    expect(apic.acknowledge()).toBe(0x50);
    expect(rd(apic, 0xa0)).toBe(0x50);
    apic.cr8 = 0;
    wr(apic, 0xb0, 0);
    expect(drain(apic)).toEqual([0x4f]);
  });

  it('answers the spurious vector when the TPR rises between pending() and the INTA, setting no ISR bit', () => {
    const { apic } = makeApic();
    wr(apic, 0xf0, 0x1ef);
    apic.accept(0x60, false);
    expect(apic.pending()).toBe(true);
    wr(apic, 0x80, 0x70);
    expect(apic.acknowledge()).toBe(0xef);
    expect(apic.isr.highest()).toBe(-1);
    expect(apic.irr.has(0x60)).toBe(true);
    wr(apic, 0x80, 0);
    expect(apic.acknowledge()).toBe(0x60);
  });

  it('a software-disabled APIC holds its IRR, offers nothing, masks every LVT and refuses to unmask them', () => {
    const { apic } = makeApic();
    wr(apic, 0x320, 0x30);
    apic.accept(0x40, false);
    wr(apic, 0xf0, 0xff);
    expect(rd(apic, 0x320)).toBe(0x10030);
    expect(apic.pending()).toBe(false);
    wr(apic, 0x360, 0x400);
    expect(rd(apic, 0x360)).toBe(0x10400);
    wr(apic, 0xf0, 0x1ff);
    expect(apic.acknowledge()).toBe(0x40);
  });

  it('refuses illegal vectors 0..15 with "receive illegal vector"', () => {
    const { apic } = makeApic();
    apic.accept(7, false);
    expect(apic.irr.highest()).toBe(-1);
    wr(apic, 0x280, 0);
    expect(rd(apic, 0x280)).toBe(0x40);
  });

  it('narrow accesses read 0 and are ignored (32-bit registers only, as QEMU)', () => {
    const { apic } = makeApic();
    expect(apic.mmio.read(0x30, 1)).toBe(0);
    apic.mmio.write(0x80, 1, 0x20);
    expect(rd(apic, 0x80)).toBe(0);
  });

  it('LINT1 as NMI reaches the processor on a rising edge; a level fixed LINT re-delivers after EOI while high', () => {
    const { apic, cpu } = makeApic();
    wr(apic, 0x360, 0x400);
    apic.lint(1).pulse();
    expect(cpu.events).toEqual([{ kind: 'nmi' }]);
    wr(apic, 0x350, 0x8000 | 0x66); // LINT0 fixed, level, vector 0x66
    apic.lint(0).raise();
    expect(rd(apic, 0x350) & 0x4000).toBe(0x4000); // remote IRR
    expect(apic.acknowledge()).toBe(0x66);
    expect(apic.tmr.has(0x66)).toBe(true);
    wr(apic, 0xb0, 0);
    expect(apic.irr.has(0x66)).toBe(true); // still asserted: again
    expect(apic.acknowledge()).toBe(0x66);
    apic.lint(0).lower();
    wr(apic, 0xb0, 0);
    expect(rd(apic, 0x350) & 0x4000).toBe(0);
    expect(apic.pending()).toBe(false);
  });

  it('INIT resets everything but the ID and base; the APIC snapshot round-trips', () => {
    const { apic, clock } = makeApic();
    wr(apic, 0x80, 0x20);
    wr(apic, 0x320, 0x20031);
    wr(apic, 0x380, 1000);
    apic.accept(0x90, true);
    const saved = apic.snapshot();
    const other = new LocalApic({ id: 0, clock });
    other.restore(JSON.parse(JSON.stringify(saved)));
    expect(rd(other, 0x80)).toBe(0x20);
    expect(other.tmr.has(0x90)).toBe(true);
    expect(other.acknowledge()).toBe(0x90); // the restored IRR is live
    clock.advance(2 * 10);
    expect(rd(other, 0x390)).toBe(rd(apic, 0x390));
    expect(() => other.restore({ version: 9 })).toThrow(/version/);
    apic.initReset();
    expect(rd(apic, 0x80)).toBe(0);
    expect(rd(apic, 0xf0)).toBe(0xff);
    expect(rd(apic, 0x320)).toBe(0x10000);
    expect(apic.irr.highest()).toBe(-1);
  });
});

describe('IA32_APIC_BASE and the MMIO window', () => {
  it('relocates the window, drops it when globally disabled, and rejects reserved bits', () => {
    const clock = new MachineClock('deterministic');
    const mmio = new MmioBus();
    const apic = new LocalApic({ id: 0, clock });
    const window = new LapicMmioWindow(mmio, apic, 'lapic');
    expect(mmio.read(0xfee00030, 4)).toBe(0x50014);
    expect(apic.wrmsr(0x1b, 0xfed00900, 0)).toBe(true);
    expect(window.address).toBe(0xfed00000);
    expect(mmio.isMapped(0xfee00030)).toBe(false);
    expect(mmio.read(0xfed00030, 4)).toBe(0x50014);
    expect(apic.rdmsr(0x1b)![0]).toBe(0xfed00900); // BSP stays
    expect(apic.wrmsr(0x1b, 0xfee00801, 0)).toBe(false); // reserved bit 0
    expect(apic.wrmsr(0x1b, 0xfee00800, 0x100)).toBe(false); // beyond 40 physical bits
    // Globally disabled: no window, registers back to power-up state.
    mmio.write(0xfed00080, 4, 0x30);
    expect(apic.wrmsr(0x1b, 0xfee00000, 0)).toBe(true);
    expect(mmio.isMapped(0xfee00000)).toBe(false);
    expect(mmio.isMapped(0xfed00000)).toBe(false);
    expect(apic.acceptsMessages).toBe(false);
    expect(apic.wrmsr(0x1b, 0xfee00800, 0)).toBe(true); // FSB-era APICs can be re-enabled
    expect(mmio.read(0xfee00080, 4)).toBe(0);
    window.release();
    expect(mmio.isMapped(0xfee00000)).toBe(false);
  });

  it('a window moved onto another device is not decoded, and no host exception escapes', () => {
    const mmio = new MmioBus();
    mmio.claim({ start: 0xfec00000, length: 0x1000 }, { read: () => 0x1234, write: () => {} }, 'ioapic');
    const apic = new LocalApic({ id: 0, clock: new MachineClock() });
    const window = new LapicMmioWindow(mmio, apic, 'lapic');
    expect(apic.wrmsr(0x1b, 0xfec00800, 0)).toBe(true);
    expect(window.address).toBe(-1);
    expect(window.conflict?.message).toMatch(/ioapic/);
    expect(mmio.read(0xfec00000, 4)).toBe(0x1234);
    expect(apic.wrmsr(0x1b, 0xfee00800, 0)).toBe(true);
    expect(window.address).toBe(0xfee00000);
  });
});
