import { describe, expect, it } from 'vitest';
import { BridgeCfg, BridgeControl, bridgeSwizzle, Cfg, Command, PciBridge } from '../src/index.js';
import { BusConfig } from './bridge-helpers.js';
import { machine, TestDevice } from './helpers.js';

/** host; bridge A at 00:05.0 with a NIC at slot 2 and bridge B at slot 7; a disk behind B at slot 4. */
function twoLevels() {
  const m = machine();
  const a = new PciBridge({ name: 'bridgeA' });
  const b = new PciBridge({ name: 'bridgeB' });
  const nic = new TestDevice('nic');
  const disk = new TestDevice('disk');
  m.host.attach(5, a);
  a.attach(2, nic);
  a.attach(7, b);
  b.attach(4, disk);
  return { ...m, a, b, nic, disk, cfg: new BusConfig(m.ports) };
}

describe('PCI-to-PCI bridge config space', () => {
  it("has QEMU's pci-bridge ids, a type-1 header, SHPC and slot-id capabilities", () => {
    const { host, ports } = machine();
    host.attach(5, new PciBridge({ name: 'br', chassis: 7 }));
    const cfg = new BusConfig(ports);
    expect(cfg.read32(0, 5, 0x00)).toBe(0x00011b36);
    expect(cfg.read32(0, 5, 0x08)).toBe(0x06040000); // class 06/04/00, revision 0
    expect(cfg.read8(0, 5, Cfg.HEADER_TYPE)).toBe(0x01);
    expect(cfg.read16(0, 5, Cfg.STATUS) & 0x10).toBe(0x10);
    expect(cfg.read8(0, 5, Cfg.INTERRUPT_PIN)).toBe(1); // the SHPC's INTA
    const caps: number[][] = [];
    for (let at = cfg.read8(0, 5, Cfg.CAPABILITIES); at; at = cfg.read8(0, 5, at + 1)) caps.push([cfg.read8(0, 5, at), at]);
    expect(caps.map(([id]) => id)).toEqual([0x0c, 0x04]);
    const slotId = caps[1][1];
    expect([cfg.read8(0, 5, slotId + 2), cfg.read8(0, 5, slotId + 3)]).toEqual([0x20, 7]); // first in chassis, chassis 7
    // BAR0: the SHPC registers, 256 bytes of 64-bit memory; no BARs 2..5 (those offsets are bus numbers and windows).
    const old = cfg.read32(0, 5, 0x10);
    cfg.write32(0, 5, 0x10, 0xffffffff);
    expect(cfg.read32(0, 5, 0x10)).toBe(0xffffff04);
    cfg.write32(0, 5, 0x10, old);
    const plain = machine();
    plain.host.attach(5, new PciBridge({ shpc: false }));
    const plainCfg = new BusConfig(plain.ports);
    expect(plainCfg.read8(0, 5, Cfg.INTERRUPT_PIN)).toBe(0);
    expect(plainCfg.read32(0, 5, 0x10)).toBe(0);
    expect(plainCfg.read8(0, 5, plainCfg.read8(0, 5, Cfg.CAPABILITIES))).toBe(0x04);
  });

  it('bus numbers, windows and bridge control take what the guest writes, with read-only type bits', () => {
    const { host, ports } = machine();
    host.attach(5, new PciBridge({ shpc: false }));
    const cfg = new BusConfig(ports);
    cfg.write32(0, 5, 0x18, 0x40302010);
    expect(cfg.read32(0, 5, 0x18)).toBe(0x40302010); // primary, secondary, subordinate, secondary latency
    cfg.write16(0, 5, BridgeCfg.IO_BASE, 0xffff);
    expect(cfg.read16(0, 5, BridgeCfg.IO_BASE)).toBe(0xf0f0); // 16-bit decode: low nibbles 0
    cfg.write32(0, 5, BridgeCfg.IO_BASE_UPPER16, 0xffffffff);
    expect(cfg.read32(0, 5, BridgeCfg.IO_BASE_UPPER16)).toBe(0);
    cfg.write32(0, 5, BridgeCfg.MEMORY_BASE, 0xffffffff);
    expect(cfg.read32(0, 5, BridgeCfg.MEMORY_BASE)).toBe(0xfff0fff0);
    cfg.write32(0, 5, BridgeCfg.PREF_MEMORY_BASE, 0);
    expect(cfg.read32(0, 5, BridgeCfg.PREF_MEMORY_BASE)).toBe(0x00010001); // 64-bit prefetchable
    cfg.write32(0, 5, BridgeCfg.PREF_BASE_UPPER32, 0x12345678);
    expect(cfg.read32(0, 5, BridgeCfg.PREF_BASE_UPPER32)).toBe(0x12345678);
    cfg.write16(0, 5, BridgeCfg.BRIDGE_CONTROL, 0xffff);
    expect(cfg.read16(0, 5, BridgeCfg.BRIDGE_CONTROL)).toBe(0x0bff);
    cfg.write16(0, 5, BridgeCfg.BRIDGE_CONTROL, 0);
    expect(cfg.read16(0, 5, BridgeCfg.BRIDGE_CONTROL)).toBe(0);
    expect(cfg.read32(0, 5, BridgeCfg.EXPANSION_ROM)).toBe(0);
  });
});

describe('configuration cycles through bridges', () => {
  it('reach the secondary bus as type 0 and deeper buses as type 1, one and two levels down', () => {
    const { cfg, a, b } = twoLevels();
    expect([a.primaryBus, a.secondaryBus, a.subordinateBus]).toEqual([0, 1, 2]);
    expect([b.primaryBus, b.secondaryBus, b.subordinateBus]).toEqual([1, 2, 2]);
    expect(cfg.read32(1, 2, 0)).toBe(0xabcd1234); // nic
    expect(cfg.read32(1, 7, 0)).toBe(0x00011b36); // bridge B
    expect(cfg.read32(2, 4, 0)).toBe(0xabcd1234); // disk, two levels down
    cfg.write8(2, 4, Cfg.LATENCY_TIMER, 0x40); // writes travel the same way
    expect(cfg.read8(2, 4, Cfg.LATENCY_TIMER)).toBe(0x40);
    expect(cfg.read8(1, 2, Cfg.LATENCY_TIMER)).toBe(0);
  });

  it('a bridge plugged in after a scan of the buses behind it makes them answer (and the bus holds it as a bridge)', () => {
    const m = machine();
    const cfg = new BusConfig(m.ports);
    for (let bus = 1; bus < 256; bus++) expect(cfg.read32(bus, 2, 0)).toBe(0xffffffff); // a firmware scan: no bridge yet
    const bridge = new PciBridge({ name: 'late' });
    const nic = new TestDevice('nic');
    bridge.attach(2, nic);
    m.host.attach(6, bridge);
    expect(bridge.secondaryBus).toBe(1);
    expect(cfg.read32(1, 2, 0)).toBe(0xabcd1234);
    expect(m.host.findFunction(1, 2)).toBe(nic);
    expect(cfg.read32(2, 2, 0)).toBe(0xffffffff);
  });

  it('absent buses, slots and functions read all ones; writes to them go nowhere', () => {
    const { cfg } = twoLevels();
    expect(cfg.read32(1, 3, 0)).toBe(0xffffffff);
    expect(cfg.read32(2, 4, 0, 1)).toBe(0xffffffff);
    expect(cfg.read32(3, 0, 0)).toBe(0xffffffff); // beyond every subordinate bus
    expect(cfg.read32(255, 31, 0)).toBe(0xffffffff);
    cfg.write32(3, 4, 0x3c, 0x55);
    expect(cfg.read8(2, 4, 0x3c)).not.toBe(0x55);
  });

  it('follow the bus numbers the guest programs, as a renumbering OS would', () => {
    const { cfg, host, disk } = twoLevels();
    cfg.write8(0, 5, BridgeCfg.SECONDARY_BUS, 0x10);
    cfg.write8(0, 5, BridgeCfg.SUBORDINATE_BUS, 0x20);
    cfg.write8(0x10, 7, BridgeCfg.PRIMARY_BUS, 0x10);
    cfg.write8(0x10, 7, BridgeCfg.SECONDARY_BUS, 0x15);
    cfg.write8(0x10, 7, BridgeCfg.SUBORDINATE_BUS, 0x15);
    expect(cfg.read32(0x15, 4, 0)).toBe(0xabcd1234);
    expect(host.findFunction(0x15, 4)).toBe(disk);
    expect(cfg.read32(2, 4, 0)).toBe(0xffffffff);
    expect(cfg.read32(1, 2, 0)).toBe(0xffffffff);
    // A subordinate number below the bus hides it: the bridge no longer claims the cycle.
    cfg.write8(0, 5, BridgeCfg.SUBORDINATE_BUS, 0x14);
    expect(cfg.read32(0x15, 4, 0)).toBe(0xffffffff);
    expect(host.listFunctions().map((f) => f.bdf)).toEqual(['00:00.0', '00:01.0', '00:01.1', '00:05.0', '10:02.0', '10:07.0']);
  });
});

describe('bus numbering', () => {
  it("is depth-first in slot order, as SeaBIOS's pci_bios_init_bus does, whatever the attach order", () => {
    const { host } = machine();
    const b3 = new PciBridge({ name: 'b3' });
    const b5 = new PciBridge({ name: 'b5' });
    const b9 = new PciBridge({ name: 'b9' });
    const b3s1 = new PciBridge({ name: 'b3s1' });
    const b3s2 = new PciBridge({ name: 'b3s2' });
    const b3s1s4 = new PciBridge({ name: 'b3s1s4' });
    // Attached out of order, some before their parent is plugged in.
    host.attach(9, b9);
    b3s1.attach(4, b3s1s4);
    b3.attach(2, b3s2);
    host.attach(5, b5);
    b3.attach(1, b3s1);
    host.attach(3, b3);
    const numbers = (b: PciBridge) => [b.primaryBus, b.secondaryBus, b.subordinateBus];
    expect(numbers(b3)).toEqual([0, 1, 4]);
    expect(numbers(b3s1)).toEqual([1, 2, 3]);
    expect(numbers(b3s1s4)).toEqual([2, 3, 3]);
    expect(numbers(b3s2)).toEqual([1, 4, 4]);
    expect(numbers(b5)).toEqual([0, 5, 5]);
    expect(numbers(b9)).toEqual([0, 6, 6]);
    expect(host.listFunctions().filter((f) => f.device instanceof PciBridge).map((f) => `${f.bdf} ${f.device.name}`)).toEqual([
      '00:03.0 b3', '00:05.0 b5', '00:09.0 b9', '01:01.0 b3s1', '01:02.0 b3s2', '02:04.0 b3s1s4',
    ]);
  });
});

describe('windows', () => {
  it('a device behind a bridge answers only inside the I/O window while the bridge has I/O enabled', () => {
    const { cfg, ports, nic } = twoLevels();
    const io = nic.barAddress(0)!;
    expect(io).toBeDefined();
    ports.write(io, 1, 0x11);
    expect(nic.io.log).toEqual(['w1@0=11']);
    const command = cfg.read16(0, 5, Cfg.COMMAND);
    cfg.write16(0, 5, Cfg.COMMAND, command & ~Command.IO_SPACE);
    expect(nic.barAddress(0)).toBeUndefined();
    expect(ports.read(io, 1)).toBe(0xff);
    expect(nic.io.log).toHaveLength(1);
    expect(nic.barAddress(1)).toBeDefined(); // memory still forwarded
    cfg.write16(0, 5, Cfg.COMMAND, command);
    expect(nic.barAddress(0)).toBe(io);
    // Move the window away from the BAR: the bridge stops forwarding it.
    cfg.write8(0, 5, BridgeCfg.IO_BASE, 0x20);
    cfg.write8(0, 5, BridgeCfg.IO_LIMIT, 0x20); // 0x2000-0x2fff
    expect(nic.barAddress(0)).toBeUndefined();
    expect(ports.read(io, 1)).toBe(0xff);
    // The guest moves the BAR into the new window: it decodes there.
    cfg.write32(1, 2, 0x10, 0x2040);
    expect(nic.barAddress(0)).toBe(0x2040);
    ports.read(0x2041, 1);
    expect(nic.io.log.at(-1)).toBe('r1@1');
  });

  it('memory reaches a device inside either memory window, only while memory space is enabled', () => {
    const { cfg, mmio, nic, a } = twoLevels();
    const mem32 = nic.barAddress(1)!; // non-prefetchable BAR in the memory window
    const mem64 = nic.barAddress(2)!; // prefetchable BAR in the prefetchable window
    const m = a.memoryWindow();
    const p = a.prefetchableWindow();
    expect(mem32).toBeGreaterThanOrEqual(m.base);
    expect(mem32 + 0xfff).toBeLessThanOrEqual(m.limit);
    expect(mem64).toBeGreaterThanOrEqual(p.base);
    expect(mem64 + 0x3fff).toBeLessThanOrEqual(p.limit);
    mmio.write(mem32, 4, 0xcafe);
    expect(nic.mmio32.log).toEqual(['w4@0=cafe']);
    // A non-prefetchable BAR moved into the prefetchable window is still forwarded (bridges decode by address).
    cfg.write32(1, 2, 0x14, p.limit - 0xfff);
    expect(nic.barAddress(1)).toBe(p.limit - 0xfff);
    cfg.write16(0, 5, Cfg.COMMAND, cfg.read16(0, 5, Cfg.COMMAND) & ~Command.MEMORY_SPACE);
    expect([nic.barAddress(1), nic.barAddress(2)]).toEqual([undefined, undefined]);
    expect(mmio.read(p.limit - 0xfff, 4)).toBe(0xffffffff);
    expect(a.forwards('memory', mem64, 0x4000)).toBe(false);
  });

  it('two levels: the outer bridge gates everything below the inner one', () => {
    const { cfg, ports, disk, b } = twoLevels();
    const io = disk.barAddress(0)!;
    const inner = b.ioWindow();
    expect(io).toBeGreaterThanOrEqual(inner.base);
    cfg.write16(0, 5, Cfg.COMMAND, 0); // outer bridge off
    expect([disk.barAddress(0), disk.barAddress(1), disk.barAddress(2)]).toEqual([undefined, undefined, undefined]);
    expect(ports.read(io, 2)).toBe(0xffff);
    cfg.write16(0, 5, Cfg.COMMAND, Command.IO_SPACE);
    expect(disk.barAddress(0)).toBe(io);
    expect(disk.barAddress(1)).toBeUndefined();
    // Inner window shrunk to exclude the BAR while the outer one still covers it.
    cfg.write8(1, 7, BridgeCfg.IO_LIMIT, 0);
    cfg.write8(1, 7, BridgeCfg.IO_BASE, 0x10);
    expect(disk.barAddress(0)).toBeUndefined();
  });
});

describe('INTx behind bridges', () => {
  it('the swizzle: pin P of slot S appears as pin ((S + P - 1) mod 4) + 1 on the primary side', () => {
    expect([0, 1, 2, 3, 4].map((slot) => bridgeSwizzle(slot, 1))).toEqual([1, 2, 3, 4, 1]);
    expect([1, 2, 3, 4].map((pin) => bridgeSwizzle(2, pin))).toEqual([3, 4, 1, 2]);
  });

  it('each function behind two levels raises the ISA IRQ its interrupt line names, shared wired-OR', () => {
    const { cfg, nic, disk, pic10, pic11 } = twoLevels();
    // nic: 01:02 INTA -> pin 3 at bridge A (slot 5) -> PIRQ (5 + 3 - 2) & 3 = 2 -> IRQ 11.
    // disk: 02:04 INTA -> pin 1 at B (slot 7) -> pin 4 at A -> PIRQ (5 + 4 - 2) & 3 = 3 -> IRQ 11.
    expect(cfg.read8(1, 2, Cfg.INTERRUPT_LINE)).toBe(11);
    expect(cfg.read8(2, 4, Cfg.INTERRUPT_LINE)).toBe(11);
    expect(cfg.read8(0, 5, Cfg.INTERRUPT_LINE)).toBe(10); // the bridge's own SHPC pin
    nic.setInterrupt(true);
    disk.setInterrupt(true);
    expect([pic10.level, pic11.level]).toEqual([false, true]);
    nic.setInterrupt(false);
    expect(pic11.level).toBe(true);
    disk.setInterrupt(false);
    expect(pic11.level).toBe(false);
    // INTx disable in the device's command register still works behind the bridges.
    disk.setInterrupt(true);
    cfg.write16(2, 4, Cfg.COMMAND, cfg.read16(2, 4, Cfg.COMMAND) | Command.INTX_DISABLE);
    expect(pic11.level).toBe(false);
  });
});

describe('secondary bus reset', () => {
  it('resets every function below to power-on state; the guest must program them again', () => {
    const { cfg, ports, nic, disk, b } = twoLevels();
    const io = nic.barAddress(0)!;
    nic.setInterrupt(true);
    cfg.write16(0, 5, BridgeCfg.BRIDGE_CONTROL, cfg.read16(0, 5, BridgeCfg.BRIDGE_CONTROL) | BridgeControl.SECONDARY_BUS_RESET);
    expect(nic.interruptAsserted).toBe(false);
    expect(cfg.read32(1, 2, 0x10)).toBe(0x00000001); // BAR back to unassigned
    expect(cfg.read16(1, 2, Cfg.COMMAND)).toBe(0);
    expect(nic.barAddress(0)).toBeUndefined();
    expect(ports.read(io, 1)).toBe(0xff);
    // The inner bridge was reset too: its bus numbers are 0, so bus 2 is unreachable.
    expect([b.secondaryBus, b.subordinateBus]).toEqual([0, 0]);
    expect(cfg.read32(2, 4, 0)).toBe(0xffffffff);
    expect(disk.command).toBe(0);
    // Releasing the reset does not bring the setup back (there is no firmware at run time).
    cfg.write16(0, 5, BridgeCfg.BRIDGE_CONTROL, 0);
    expect(nic.barAddress(0)).toBeUndefined();
    // The outer bridge itself kept its own setup.
    expect(cfg.read8(0, 5, BridgeCfg.SECONDARY_BUS)).toBe(1);
    expect(cfg.read32(1, 2, 0)).toBe(0xabcd1234);
    // The guest reprograms the NIC and it decodes again.
    cfg.write32(1, 2, 0x10, io);
    cfg.write16(1, 2, Cfg.COMMAND, Command.IO_SPACE);
    expect(nic.barAddress(0)).toBe(io);
  });

  it('a system reset brings the firmware setup back everywhere', () => {
    const { cfg, host, nic, disk, b } = twoLevels();
    const before = [nic.barAddress(0), disk.barAddress(0), disk.barAddress(2)];
    cfg.write16(0, 5, BridgeCfg.BRIDGE_CONTROL, BridgeControl.SECONDARY_BUS_RESET);
    host.reset();
    expect(cfg.read16(0, 5, BridgeCfg.BRIDGE_CONTROL)).toBe(BridgeControl.SERR);
    expect([b.secondaryBus, b.subordinateBus]).toEqual([2, 2]);
    expect([nic.barAddress(0), disk.barAddress(0), disk.barAddress(2)]).toEqual(before);
    expect(cfg.read8(2, 4, Cfg.INTERRUPT_LINE)).toBe(11);
  });
});

describe('slots on a bridge', () => {
  it('a bridge with a hot-plug controller has slots 1..31, as QEMU; without one slot 0 is usable', () => {
    const shpc = new PciBridge({ name: 'br' });
    expect(shpc.freeSlot()).toBe(1);
    expect(() => shpc.attach(0, new TestDevice())).toThrow(/slot 0 cannot be used here.*shpc: false/);
    const plain = new PciBridge({ shpc: false });
    expect(plain.freeSlot()).toBe(0);
    plain.attach(0, new TestDevice('d0'));
    expect(plain.freeSlot()).toBe(1);
    expect(() => plain.attach(0, new TestDevice('d1'))).toThrow(/br|pci-bridge slot 0.0 .* is taken by d0; d1 needs another slot/);
  });

  it('devices attached before the bridge is plugged in are connected and set up when it is', () => {
    const { host, ports } = machine();
    const bridge = new PciBridge();
    const d = new TestDevice('early');
    bridge.attach(3, d);
    expect(d.barAddress(0)).toBeUndefined();
    host.attach(4, bridge);
    expect(d.barAddress(0)).toBeDefined();
    expect(new BusConfig(ports).read32(1, 3, 0)).toBe(0xabcd1234);
    expect(() => host.attach(6, d)).toThrow(/already attached/);
  });

  it('snapshot and restore of a bridge re-evaluate what is decoded below it', () => {
    const { cfg, a, nic } = twoLevels();
    const saved = a.snapshot();
    cfg.write16(0, 5, Cfg.COMMAND, 0);
    expect(nic.barAddress(0)).toBeUndefined();
    a.restore(saved);
    expect(nic.barAddress(0)).toBeDefined();
  });
});
