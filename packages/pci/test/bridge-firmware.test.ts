import { describe, expect, it } from 'vitest';
import { formatFunctionList, layoutResources, PciBridge, PciDevice } from '../src/index.js';
import { BusConfig, QemuShapedVirtio } from './bridge-helpers.js';
import { machine, RecordingBar } from './helpers.js';

/** What QEMU's `info pci` shows for one function, read the way a guest reads it (0xCF8/0xCFC). */
function infoPci(cfg: BusConfig, bus: number, slot: number, fn = 0) {
  const hex = (n: number) => '0x' + n.toString(16);
  const out: Record<string, unknown> = {};
  if (cfg.read8(bus, slot, 0x3d, fn)) out.irq = cfg.read8(bus, slot, 0x3c, fn);
  const bridge = (cfg.read8(bus, slot, 0x0e, fn) & 0x7f) === 1;
  if (bridge) {
    out.buses = [cfg.read8(bus, slot, 0x19, fn), cfg.read8(bus, slot, 0x1a, fn)];
    out.io = [hex((cfg.read8(bus, slot, 0x1c, fn) & 0xf0) << 8), hex(((cfg.read8(bus, slot, 0x1d, fn) & 0xf0) << 8) | 0xfff)];
    const window = (reg: number) => [hex((cfg.read16(bus, slot, reg, fn) & 0xfff0) * 0x10000), hex((cfg.read16(bus, slot, reg + 2, fn) & 0xfff0) * 0x10000 + 0xfffff)];
    out.mem = window(0x20);
    out.pref = window(0x24);
  }
  for (let i = 0; i < (bridge ? 2 : 6); i++) {
    const v = cfg.read32(bus, slot, 0x10 + 4 * i, fn);
    if (v === 0) continue;
    out[`bar${i}`] = hex(v & 1 ? v & ~3 : (v & ~0xf) >>> 0);
    if ((v & 7) === 4) i++; // upper half of a 64-bit BAR (all of QEMU's are below 4 GiB here)
  }
  return out;
}

describe('firmware behind bridges, checked against QEMU 7.2 + SeaBIOS', () => {
  it('one bridge with two NICs: the layout of `-device pci-bridge,addr=5` and two virtio-net behind it', () => {
    // qemu-system-x86_64 -machine pc,acpi=off -nodefaults -m 128 -device pci-bridge,id=b1,chassis_nr=1,addr=5
    //   -device virtio-net-pci,bus=b1,addr=1,romfile= -device virtio-net-pci,bus=b1,addr=2,romfile=   (info pci)
    const { host, ports } = machine();
    const b1 = new PciBridge({ name: 'b1' });
    host.attach(5, b1);
    b1.attach(1, new QemuShapedVirtio('n1', 'net'));
    b1.attach(2, new QemuShapedVirtio('n2', 'net'));
    const cfg = new BusConfig(ports);
    expect(infoPci(cfg, 0, 1, 1)).toEqual({ bar4: '0xd000' });
    expect(infoPci(cfg, 0, 5)).toEqual({
      irq: 10, buses: [1, 1], io: ['0xc000', '0xcfff'], mem: ['0xfe600000', '0xfe7fffff'], pref: ['0xfea00000', '0xfebfffff'], bar0: '0xfe800000',
    });
    expect(infoPci(cfg, 1, 1)).toEqual({ irq: 10, bar0: '0xc000', bar1: '0xfe600000', bar4: '0xfea00000' });
    expect(infoPci(cfg, 1, 2)).toEqual({ irq: 11, bar0: '0xc020', bar1: '0xfe601000', bar4: '0xfea04000' });
  });

  it('nested and empty bridges: numbering, windows, the I/O move to 0x1000 and IRQs as on QEMU', () => {
    // -device virtio-net-pci,addr=3 -device pci-bridge,id=b1,chassis_nr=1,addr=5 -device pci-bridge,id=b2,chassis_nr=2,addr=6
    // -device pci-bridge,id=b3,chassis_nr=3,bus=b1,addr=7 -device virtio-net-pci,bus=b1,addr=1
    // -device virtio-blk-pci,bus=b1,addr=2 -device virtio-net-pci,bus=b2,addr=1 -device virtio-net-pci,bus=b3,addr=4
    // -device pci-bridge,id=b4,chassis_nr=4,addr=8            (b4 is empty: its SHPC makes SeaBIOS reserve windows)
    const { host, ports } = machine();
    const b1 = new PciBridge({ name: 'b1', chassis: 1 });
    const b2 = new PciBridge({ name: 'b2', chassis: 2 });
    const b3 = new PciBridge({ name: 'b3', chassis: 3 });
    host.attach(3, new QemuShapedVirtio('net0', 'net'));
    host.attach(5, b1);
    host.attach(6, b2);
    b1.attach(7, b3);
    b1.attach(1, new QemuShapedVirtio('net1', 'net'));
    b1.attach(2, new QemuShapedVirtio('blk1', 'blk'));
    b2.attach(1, new QemuShapedVirtio('net2', 'net'));
    b3.attach(4, new QemuShapedVirtio('net3', 'net'));
    host.attach(8, new PciBridge({ name: 'b4', chassis: 4 }));

    const cfg = new BusConfig(ports);
    expect(infoPci(cfg, 0, 1, 1)).toEqual({ bar4: '0x5020' });
    expect(infoPci(cfg, 0, 3)).toEqual({ irq: 11, bar0: '0x5000', bar1: '0xfe000000', bar4: '0xfea00000' });
    expect(infoPci(cfg, 0, 5)).toEqual({
      irq: 10, buses: [1, 2], io: ['0x1000', '0x2fff'], mem: ['0xfd800000', '0xfdbfffff'], pref: ['0xfe200000', '0xfe5fffff'], bar0: '0xfe001000',
    });
    expect(infoPci(cfg, 1, 1)).toEqual({ irq: 10, bar0: '0x2080', bar1: '0xfda00000', bar4: '0xfe400000' });
    expect(infoPci(cfg, 1, 2)).toEqual({ irq: 11, bar0: '0x2000', bar1: '0xfda01000', bar4: '0xfe404000' });
    expect(infoPci(cfg, 1, 7)).toEqual({
      irq: 11, buses: [2, 2], io: ['0x1000', '0x1fff'], mem: ['0xfd800000', '0xfd9fffff'], pref: ['0xfe200000', '0xfe3fffff'], bar0: '0xfda02000',
    });
    expect(infoPci(cfg, 2, 4)).toEqual({ irq: 11, bar0: '0x1000', bar1: '0xfd800000', bar4: '0xfe200000' });
    expect(infoPci(cfg, 0, 6)).toEqual({
      irq: 10, buses: [3, 3], io: ['0x4000', '0x4fff'], mem: ['0xfde00000', '0xfdffffff'], pref: ['0xfe800000', '0xfe9fffff'], bar0: '0xfe002000',
    });
    expect(infoPci(cfg, 3, 1)).toEqual({ irq: 11, bar0: '0x4000', bar1: '0xfde00000', bar4: '0xfe800000' });
    expect(infoPci(cfg, 0, 8)).toEqual({
      irq: 11, buses: [4, 4], io: ['0x3000', '0x3fff'], mem: ['0xfdc00000', '0xfddfffff'], pref: ['0xfe600000', '0xfe7fffff'], bar0: '0xfe003000',
    });
    expect(formatFunctionList(host.listFunctions().slice(3, 5))).toBe(
      '00:03.0 1af4:1000 class 020000 net0\n00:05.0 1b36:0001 class 060400 b1',
    );
    expect(cfg.read8(0, 5, 0x18)).toBe(0); // primary bus numbers
    expect(cfg.read8(1, 7, 0x18)).toBe(1);
    expect(host.listFunctions().map((f) => `${f.bdf} ${f.device.name}`)).toEqual([
      '00:00.0 pci 00:00.0', '00:01.0 pci 00:01.0', '00:01.1 pci 00:01.1', '00:03.0 net0', '00:05.0 b1', '00:06.0 b2', '00:08.0 b4',
      '01:01.0 net1', '01:02.0 blk1', '01:07.0 b3', '02:04.0 net3', '03:01.0 net2',
    ]);
  });

  it('an empty bridge without a hot-plug controller gets closed windows (size 0) that still align its bus', () => {
    const { host, ports } = machine();
    host.attach(5, new PciBridge({ name: 'bare', shpc: false }));
    const cfg = new BusConfig(ports);
    const info = infoPci(cfg, 0, 5) as { io: string[]; mem: string[]; pref: string[] };
    for (const [base, limit] of [info.io, info.mem, info.pref]) expect(Number(base)).toBeGreaterThan(Number(limit));
    expect(cfg.read8(0, 5, 0x3d)).toBe(0); // no SHPC, no interrupt pin
    expect(host.ide!.barAddress(4)).toBe(0xc000); // the empty I/O window takes no space
  });

  it('more I/O than 0x1000-0x9FFF can hold is a build error, as SeaBIOS panics', () => {
    const { host } = machine();
    // Eight bridges with hot-plug reserves: 8 x 4 KiB + the IDE's 16 bytes fit in 0x1000-0x9FFF.
    const bridges = [3, 4, 5, 6, 7, 8, 9, 10].map((slot) => {
      const b = new PciBridge({ name: `b${slot}` });
      host.attach(slot, b);
      return b;
    });
    expect(bridges.map((b) => b.ioWindow().base)).toEqual([0x8000, 0x7000, 0x6000, 0x5000, 0x4000, 0x3000, 0x2000, 0x1000]);
    expect(() => host.attach(12, new PciBridge({ name: 'one too many' }))).toThrow(/I\/O BARs and bridge windows need 0x9010 bytes/);
    // The old layout stays in force and the slot stays free.
    expect(host.functionAt(12)).toBeUndefined();
    expect(host.freeSlot()).toBe(2);
    expect(bridges[7].secondaryBus).toBe(8);
    expect(host.ide!.barAddress(4)).toBe(0x9000);
  });
});

/** The capacity target: a small device with a 128-byte I/O BAR and a 16 KiB 64-bit memory BAR. */
class SmallDisk extends PciDevice {
  readonly io = new RecordingBar(0x80);
  constructor(readonly index: number) {
    super({ vendorId: 0x1af4, deviceId: 0x1001, classCode: 0x010000, interruptPin: 1 }, `disk${index}`);
    this.addIoBar(0, 0x80, this.io);
    this.addMemoryBar(4, 0x4000, new RecordingBar(0x4000), { is64: true, prefetchable: true });
    this.io.mem[0] = index; // what the guest reads back at its I/O BAR
  }
}

function sixtyThreeDisks() {
  const m = machine();
  const b1 = new PciBridge({ name: 'bridge1' }); // shpc: slots 1..31
  const b2 = new PciBridge({ name: 'bridge2', shpc: false }); // slots 0..31
  m.host.attach(5, b1);
  m.host.attach(6, b2);
  const disks: SmallDisk[] = [];
  for (let slot = 1; slot < 32; slot++) b1.attach(slot, (disks[disks.length] = new SmallDisk(disks.length)));
  for (let slot = 0; slot < 32; slot++) b2.attach(slot, (disks[disks.length] = new SmallDisk(disks.length)));
  return { ...m, disks, b1, b2 };
}

describe('63 devices with I/O BARs behind two bridges', () => {
  it('every one is found by a guest scan of buses 0..255, has its own BARs inside its bridge windows, answers and has its IRQ', () => {
    const { ports, disks } = sixtyThreeDisks();
    const cfg = new BusConfig(ports);
    // A Solo5-style scan: every bus, every slot, function 0 (none of these are multi-function).
    const found: { bus: number; slot: number; io: number; mem: number; irq: number }[] = [];
    for (let bus = 0; bus < 256; bus++) {
      for (let slot = 0; slot < 32; slot++) {
        if (cfg.read32(bus, slot, 0x00) !== 0x10011af4) continue;
        const io = cfg.read32(bus, slot, 0x10) & ~3;
        const mem = (cfg.read32(bus, slot, 0x20) & ~0xf) >>> 0;
        found.push({ bus, slot, io, mem, irq: cfg.read8(bus, slot, 0x3c) });
      }
    }
    expect(found).toHaveLength(63);
    expect(new Set(found.map((f) => f.io)).size).toBe(63);
    expect(new Set(found.map((f) => f.mem)).size).toBe(63);

    const window = (bus: number) => {
      const slot = bus === 1 ? 5 : 6;
      return {
        io: [(cfg.read8(0, slot, 0x1c) & 0xf0) << 8, ((cfg.read8(0, slot, 0x1d) & 0xf0) << 8) | 0xfff],
        pref: [(cfg.read16(0, slot, 0x24) & 0xfff0) * 0x10000, (cfg.read16(0, slot, 0x26) & 0xfff0) * 0x10000 + 0xfffff],
      };
    };
    for (const f of found) {
      expect([1, 2]).toContain(f.bus);
      const w = window(f.bus);
      expect(f.io).toBeGreaterThanOrEqual(w.io[0]);
      expect(f.io + 0x7f).toBeLessThanOrEqual(w.io[1]);
      expect(f.mem).toBeGreaterThanOrEqual(w.pref[0]);
      expect(f.mem + 0x3fff).toBeLessThanOrEqual(w.pref[1]);
      // Each one answers at its I/O BAR with its own index.
      const disk = disks[f.bus === 1 ? f.slot - 1 : 31 + f.slot];
      expect(ports.read(f.io, 1)).toBe(disk.index);
      // Slot S behind the bridge in slot B: PIRQ[(S + B - 1) mod 4], IRQ 10, 10, 11, 11 for A..D.
      const bridgeSlot = f.bus === 1 ? 5 : 6;
      expect(f.irq).toBe([10, 10, 11, 11][(f.slot + bridgeSlot - 1) & 3]);
    }
    // QEMU 7.2 + SeaBIOS with 63 virtio-blk this way: bridge 2 (bus 2) gets I/O 0xc000, bridge 1 gets 0xd000.
    expect(window(2).io).toEqual([0xc000, 0xcfff]);
    expect(window(1).io).toEqual([0xd000, 0xdfff]);
    expect(found.find((f) => f.bus === 1 && f.slot === 1)!.io).toBe(0xd000);
    expect(found.find((f) => f.bus === 2 && f.slot === 31)!.io).toBe(0xcf80);
  });

  it('interrupts from disks behind different bridges reach the PIC lines the swizzle predicts, shared wired-OR', () => {
    const { disks, pic10, pic11 } = sixtyThreeDisks();
    // bridge1 (slot 5): slot 1 -> PIRQ (1+5-1)&3 = 1 (B, IRQ 10); slot 2 -> C (IRQ 11).
    // bridge2 (slot 6): slot 0 -> PIRQ 5&3 = 1 (B, IRQ 10); slot 1 -> C (IRQ 11); slot 3 -> A (IRQ 10).
    const onBridge1 = (slot: number) => disks[slot - 1];
    const onBridge2 = (slot: number) => disks[31 + slot];
    onBridge1(2).setInterrupt(true);
    expect([pic10.level, pic11.level]).toEqual([false, true]);
    onBridge2(1).setInterrupt(true); // also IRQ 11, through the other bridge
    onBridge1(2).setInterrupt(false);
    expect(pic11.level).toBe(true); // still held by bridge2's device
    onBridge2(1).setInterrupt(false);
    expect(pic11.level).toBe(false);
    onBridge2(3).setInterrupt(true);
    expect([pic10.level, pic11.level]).toEqual([true, false]);
    onBridge1(1).setInterrupt(true);
    onBridge2(3).setInterrupt(false);
    expect(pic10.level).toBe(true);
    onBridge1(1).setInterrupt(false);
    expect(pic10.level).toBe(false);
  });
});

describe('layoutResources', () => {
  it('a bridge window is aligned to its largest child when that is above the bridge minimum', () => {
    const big = new PciDevice({ vendorId: 1, deviceId: 2, classCode: 0 }, 'big');
    big.addMemoryBar(0, 0x1000000, new RecordingBar(16)); // 16 MiB
    const bridge = new PciBridge({ name: 'b', shpc: false });
    const layout = layoutResources(
      [
        { number: 0, functions: [bridge] },
        { number: 1, functions: [big], bridge: { device: bridge, parent: 0, hotplug: false } },
      ],
      0x80000000,
    );
    const w = layout.windows.get(bridge)!;
    expect(w.mem).toEqual({ base: 0xfd000000, size: 0x1000000 });
    expect(layout.bars.get(big)!.get(0)).toBe(0xfd000000);
    expect(w.io.size).toBe(0);
  });
});
