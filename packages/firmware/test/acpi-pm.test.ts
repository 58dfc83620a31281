import { describe, expect, it } from 'vitest';
import { GuestMemory, MachineClock, MmioBus, PortBus, RecordingIrqLine, type DeviceContext, type MachineControl } from '@unimachine/core';
import { AcpiPm, acpiPmPlugin, fwCfgPlugin, FwCfg, Pm1Control, Pm1Status, PM_TIMER_HZ, pmTicksAt } from '../src/index.js';

const PM = 0x600;
const STS = PM;
const EN = PM + 2;
const CNT = PM + 4;
const TMR = PM + 8;

function fakeContext() {
  const exits: number[] = [];
  const machine: MachineControl = { exit: (c) => exits.push(c), reset: () => {}, stop: () => {} };
  const ports = new PortBus();
  const clock = new MachineClock('deterministic');
  const lines = new Map<string, RecordingIrqLine>();
  const ctx = {
    id: 'pm',
    memory: new GuestMemory(64 << 20),
    ports,
    mmio: new MmioBus(),
    clock,
    machine,
    irq(ref: string) {
      if (!lines.has(ref)) lines.set(ref, new RecordingIrqLine());
      return lines.get(ref)!;
    },
  } as unknown as DeviceContext;
  return { ctx, ports, clock, lines, exits };
}

async function pmMachine(props: Record<string, unknown> = { sci: 'pic.9' }) {
  const f = fakeContext();
  const pm = (await acpiPmPlugin.create(f.ctx, props as never)) as AcpiPm;
  return { ...f, pm, sci: f.lines.get('pic.9') };
}

describe('ACPI PM timer', () => {
  it('counts at 3.579545 MHz of virtual time', async () => {
    const { ports, clock } = await pmMachine();
    const t0 = ports.read(TMR, 4);
    clock.advance(1_000_000); // 1 ms
    expect(ports.read(TMR, 4) - t0).toBe(3579);
    clock.advance(999_000_000); // to 1 s
    expect(ports.read(TMR, 4) - t0).toBe(PM_TIMER_HZ);
    expect(pmTicksAt(3_600_000_000_000)).toBe(3600 * PM_TIMER_HZ); // exact after an hour
  });

  it('wraps at 24 bits by default and at 32 bits with timer32', async () => {
    const a = await pmMachine();
    const b = await pmMachine({ timer32: true });
    const ns = 10_000_000_000; // 10 s: 35,795,450 ticks, past 2^24 (16,777,216)
    a.clock.advance(ns);
    b.clock.advance(ns);
    expect(a.ports.read(TMR, 4)).toBe(35_795_450 % 2 ** 24);
    expect(b.ports.read(TMR, 4)).toBe(35_795_450);
    expect(a.ports.read(TMR + 2, 1)).toBe((35_795_450 % 2 ** 24) >>> 16); // byte reads see the same counter
  });

  it('sets TMR_STS when bit 23 toggles, raises the SCI when enabled, and clears on write-1', async () => {
    const { ports, clock, sci } = await pmMachine();
    ports.write(EN, 2, Pm1Status.TMR);
    expect(ports.read(STS, 2) & Pm1Status.TMR).toBe(0);
    expect(clock.nextDeadline()).toBeGreaterThan(2_340_000_000); // 2^23 ticks = 2.3435 s
    clock.advanceTo(clock.nextDeadline());
    clock.runDue();
    expect(ports.read(TMR, 4)).toBe(2 ** 23);
    expect(ports.read(STS, 2) & Pm1Status.TMR).toBe(Pm1Status.TMR);
    expect(sci!.level).toBe(true);
    ports.write(STS, 2, Pm1Status.TMR);
    expect(ports.read(STS, 2) & Pm1Status.TMR).toBe(0);
    expect(sci!.level).toBe(false);
  });

  it('reports a power-button press through PWRBTN_STS and the SCI', async () => {
    const { ports, pm, sci } = await pmMachine();
    pm.pressPowerButton();
    expect(ports.read(STS, 2) & Pm1Status.PWRBTN).toBe(Pm1Status.PWRBTN);
    expect(sci!.level).toBe(false); // not enabled yet
    ports.write(EN, 2, Pm1Status.PWRBTN);
    expect(sci!.level).toBe(true);
    ports.write(STS, 2, Pm1Status.PWRBTN);
    expect(sci!.level).toBe(false);
  });
});

describe('PM1a control and APM', () => {
  it('enters ACPI mode through the SMI command port, as the FADT says', async () => {
    const { ports } = await pmMachine();
    expect(ports.read(CNT, 2) & Pm1Control.SCI_EN).toBe(0);
    ports.write(0xb2, 1, 0xf1);
    expect(ports.read(CNT, 2) & Pm1Control.SCI_EN).toBe(Pm1Control.SCI_EN);
    ports.write(0xb2, 1, 0xf0);
    expect(ports.read(CNT, 2) & Pm1Control.SCI_EN).toBe(0);
    ports.write(0xb3, 1, 0x5a);
    expect(ports.read(0xb3, 1)).toBe(0x5a);
  });

  it('powers off on SLP_TYP=S5 with SLP_EN (what Linux writes for poweroff) and ignores other sleep types', async () => {
    const { ports, exits } = await pmMachine();
    ports.write(CNT, 2, Pm1Control.SCI_EN | (1 << 10) | Pm1Control.SLP_EN); // S3: not offered
    expect(exits).toEqual([]);
    expect(ports.read(CNT, 2) & Pm1Control.SLP_EN).toBe(0); // write-only
    ports.write(CNT, 2, Pm1Control.SCI_EN | Pm1Control.SLP_EN);
    expect(exits).toEqual([0]);
  });

  it('has a GPE0 block with write-1-to-clear status and read/write enables', async () => {
    const { ports } = await pmMachine();
    ports.write(0xafe2, 2, 0x0f0f);
    expect(ports.read(0xafe0, 4)).toBe(0x0f0f0000);
    ports.write(0xafe0, 2, 0xffff);
    expect(ports.read(0xafe0, 2)).toBe(0);
  });

  it('saves and restores its registers and the pending TMR_STS timer', async () => {
    const a = await pmMachine();
    a.ports.write(EN, 2, Pm1Status.TMR | Pm1Status.PWRBTN);
    a.ports.write(0xb2, 1, 0xf1);
    const state = JSON.parse(JSON.stringify(a.pm.snapshot()));
    const b = await pmMachine();
    b.pm.restore(state);
    expect(b.ports.read(EN, 2)).toBe(Pm1Status.TMR | Pm1Status.PWRBTN);
    expect(b.ports.read(CNT, 2) & Pm1Control.SCI_EN).toBe(1);
    expect(b.clock.nextDeadline()).toBe(a.clock.nextDeadline());
    expect(() => b.pm.restore({ version: 2 })).toThrow(/version/);
  });

  it('claims the PM blocks QEMU uses and nothing when gpe0/apm are off', async () => {
    const { ports } = await pmMachine({ gpe0: 0, apm: false });
    expect(ports.ownerOf(0x600)).toBe('pm');
    expect(ports.ownerOf(0x608)).toBe('pm');
    expect(ports.ownerOf(0xafe0)).toBeUndefined();
    expect(ports.ownerOf(0xb2)).toBeUndefined();
  });
});

describe('fw-cfg plugin', () => {
  it('claims 0x510-0x511 and the DMA register, with the machine RAM size and CPU count', async () => {
    const f = fakeContext();
    const fw = (await fwCfgPlugin.create(f.ctx, { cpus: 2 } as never)) as FwCfg;
    expect(f.ports.ownerOf(0x510)).toBe('pm');
    expect(f.ports.ownerOf(0x51b)).toBe('pm');
    f.ports.write(0x510, 2, 0x03);
    const ram = Array.from({ length: 8 }, () => f.ports.read(0x511, 1));
    expect(ram).toEqual([0, 0, 0, 4, 0, 0, 0, 0]); // 64 MiB, little-endian
    f.ports.write(0x510, 2, 0x05);
    expect(f.ports.read(0x511, 1)).toBe(2);
    expect(fw.fileKey('etc/e820')).toBe(0x20);
    const g = fakeContext();
    await fwCfgPlugin.create(g.ctx, { dma: false } as never);
    expect(g.ports.ownerOf(0x514)).toBeUndefined();
  });
});
