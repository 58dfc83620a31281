import { describe, expect, it } from 'vitest';
import { MmioBus, PortBus, RecordingIrqLine } from '@unimachine/core';
import { CapabilityId, Cfg, Command, PciDevice, Status } from '../src/index.js';
import { machine, RecordingBar, TestDevice } from './helpers.js';

describe('BARs', () => {
  it('sizing protocol: all ones reads back the size mask with the type bits; the old value is restored', () => {
    const { host, guest } = machine();
    host.attach(3, new TestDevice());
    expect(guest.sizeBar(3, 0x10) >>> 0).toBe(0xffffffe1); // 32 bytes of I/O
    expect(guest.sizeBar(3, 0x14) >>> 0).toBe(0xfffff000); // 4 KiB, 32-bit, non-prefetchable
    expect(guest.sizeBar(3, 0x18) >>> 0).toBe(0xffffc00c); // 16 KiB, 64-bit, prefetchable
    expect(guest.sizeBar(3, 0x1c) >>> 0).toBe(0xffffffff); // upper half of the 64-bit BAR
    expect(guest.sizeBar(3, 0x20)).toBe(0); // unimplemented BARs are hardwired to zero
    expect(guest.sizeBar(3, 0x24)).toBe(0);
    expect(guest.sizeBar(3, 0x30)).toBe(0); // no expansion ROM
    expect(guest.read32(3, 0, 0x10)).toBe(0xc001);
    expect(guest.read32(3, 0, 0x18)).toBe(0xfebf800c);
  });

  it('sizes a BAR larger than 4 GiB across both halves', () => {
    const d = new PciDevice({ vendorId: 1, deviceId: 2, classCode: 0 });
    d.addMemoryBar(0, 2 ** 33, new RecordingBar(16), { is64: true });
    d.writeConfig(0x10, 4, 0xffffffff);
    d.writeConfig(0x14, 4, 0xffffffff);
    expect(d.readConfig(0x10, 4)).toBe(0x4);
    expect(d.readConfig(0x14, 4)).toBe(0xfffffffe);
  });

  it('rejects bad declarations', () => {
    const d = new PciDevice({ vendorId: 1, deviceId: 2, classCode: 0 });
    expect(() => d.addIoBar(0, 24, new RecordingBar(24))).toThrow(RangeError);
    expect(() => d.addMemoryBar(5, 0x1000, new RecordingBar(16), { is64: true })).toThrow(RangeError);
    d.addMemoryBar(0, 0x1000, new RecordingBar(16), { is64: true });
    expect(() => d.addIoBar(1, 4, new RecordingBar(4))).toThrow(/already declared/);
  });

  it('decodes only while the command register enables the space', () => {
    const { host, guest, ports, mmio } = machine();
    const d = new TestDevice();
    host.attach(3, d);
    d.io.mem[2] = 0x5a;
    d.mmio32.mem[0x10] = 0x77;
    expect(ports.read(0xc002, 1)).toBe(0x5a);
    expect(mmio.read(0xfebff010, 1)).toBe(0x77);

    guest.write16(3, 0, Cfg.COMMAND, 0);
    expect(ports.read(0xc002, 1)).toBe(0xff);
    expect(mmio.isMapped(0xfebff010)).toBe(false);
    expect(d.barAddress(0)).toBeUndefined();

    guest.write16(3, 0, Cfg.COMMAND, Command.IO_SPACE);
    expect(ports.read(0xc002, 1)).toBe(0x5a);
    expect(mmio.isMapped(0xfebff010)).toBe(false);

    guest.write16(3, 0, Cfg.COMMAND, Command.MEMORY_SPACE);
    expect(ports.ownerOf(0xc002)).toBeUndefined();
    expect(mmio.read(0xfebff010, 1)).toBe(0x77);
    expect(mmio.ownerOf(0xfebf8000)).toBe('testdev BAR2');
  });

  it('moving a BAR re-claims the ports and MMIO range; handlers see offsets', () => {
    const { host, guest, ports, mmio } = machine();
    const d = new TestDevice();
    host.attach(3, d);
    guest.write32(3, 0, 0x10, 0xd000);
    expect(guest.read32(3, 0, 0x10)).toBe(0xd001);
    expect(ports.ownerOf(0xc000)).toBeUndefined();
    expect(ports.ownerOf(0xd01f)).toBe('testdev BAR0');
    ports.write(0xd010, 4, 0x11223344);
    expect(d.io.log).toEqual(['w4@16=11223344']);

    guest.write32(3, 0, 0x14, 0xe0000000);
    expect(mmio.isMapped(0xfebfc000)).toBe(false);
    mmio.write(0xe0000ffc, 4, 0xcafe);
    expect(d.mmio32.log).toEqual(['w4@4092=cafe']);

    // 64-bit BAR above 4 GiB: both halves make the address.
    guest.write32(3, 0, 0x18, 0x40000000);
    guest.write32(3, 0, 0x1c, 0x1);
    expect(d.barAddress(2)).toBe(0x1_4000_0000);
    expect(mmio.ownerOf(0x1_4000_3fff)).toBe('testdev BAR2');
    expect(mmio.isMapped(0xfebf8000)).toBe(false);
  });

  it('a BAR moved over another claim stays off the bus instead of failing the guest access', () => {
    const { host, guest, ports } = machine();
    ports.claim({ start: 0x3f8, length: 8 }, { read: () => 0x42, write: () => {} }, 'com1');
    const d = new TestDevice();
    host.attach(3, d);
    expect(() => guest.write32(3, 0, 0x10, 0x3e0)).not.toThrow(); // 0x3e0..0x3ff overlaps COM1
    expect(d.barAddress(0)).toBeUndefined();
    expect(ports.read(0x3f8, 1)).toBe(0x42);
    guest.write32(3, 0, 0x10, 0x1000); // moved somewhere free: decoded again
    expect(d.barAddress(0)).toBe(0x1000);
  });

  it('address 0 means unassigned and is not decoded', () => {
    const { host, guest } = machine();
    const d = new TestDevice();
    host.attach(3, d);
    guest.write32(3, 0, 0x10, 0);
    expect(d.barAddress(0)).toBeUndefined();
  });
});

describe('config space bits', () => {
  it('ids, class, header type, BAR type bits and interrupt pin are read-only', () => {
    const { host, guest } = machine();
    host.attach(3, new TestDevice());
    for (const reg of [0x00, 0x08, 0x2c, 0x34]) {
      const before = guest.read32(3, 0, reg);
      guest.write32(3, 0, reg, 0);
      guest.write32(3, 0, reg, 0xffffffff);
      expect(guest.read32(3, 0, reg)).toBe(before);
    }
    guest.write8(3, 0, Cfg.INTERRUPT_PIN, 4);
    expect(guest.read8(3, 0, Cfg.INTERRUPT_PIN)).toBe(1);
    guest.write32(3, 0, 0x10, 0xd000 | 0x2); // type bits cannot be changed
    expect(guest.read32(3, 0, 0x10)).toBe(0xd001);
  });

  it('command keeps only implemented bits; status error bits are write-1-to-clear', () => {
    const { host, guest } = machine();
    const d = new TestDevice();
    host.attach(3, d);
    guest.write16(3, 0, Cfg.COMMAND, 0xffff);
    expect(guest.read16(3, 0, Cfg.COMMAND)).toBe(0x0547);
    d.config.set16(Cfg.STATUS, d.config.get16(Cfg.STATUS) | Status.RECEIVED_MASTER_ABORT | Status.DETECTED_PARITY_ERROR);
    guest.write16(3, 0, Cfg.STATUS, 0); // writing 0 changes nothing
    expect(guest.read16(3, 0, Cfg.STATUS) & 0xa000).toBe(0xa000);
    guest.write16(3, 0, Cfg.STATUS, Status.RECEIVED_MASTER_ABORT);
    expect(guest.read16(3, 0, Cfg.STATUS) & 0xa000).toBe(Status.DETECTED_PARITY_ERROR);
    // A dword write to command also hits status: the same 1 bits clear it, command updates.
    guest.write32(3, 0, Cfg.COMMAND, (0xffff << 16) | Command.IO_SPACE);
    expect(guest.read16(3, 0, Cfg.STATUS) & 0xf900).toBe(0);
    expect(guest.read16(3, 0, Cfg.COMMAND)).toBe(Command.IO_SPACE);
  });
});

describe('capabilities', () => {
  it('builds a walkable list with the status bit; bodies may have writable bytes', () => {
    const d = new PciDevice({ vendorId: 0x1af4, deviceId: 0x1000, classCode: 0x020000 }, 'cap');
    expect(d.readConfig(Cfg.STATUS, 2) & Status.CAPABILITIES_LIST).toBe(0);
    const a = d.addCapability(CapabilityId.VENDOR_SPECIFIC, [16, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const b = d.addCapability(CapabilityId.POWER_MANAGEMENT, [0x03, 0x00, 0x00, 0x00], [0, 0, 0x03, 0]);
    const c = d.addCapability(CapabilityId.VENDOR_SPECIFIC, [5, 2, 9]);
    const { host, guest } = machine();
    host.attach(3, d);

    expect(guest.read16(3, 0, Cfg.STATUS) & Status.CAPABILITIES_LIST).toBe(Status.CAPABILITIES_LIST);
    // Walk like a guest: the pointer at 0x34, then each capability's next byte, dword aligned.
    const found: [number, number][] = [];
    for (let p = guest.read8(3, 0, 0x34) & 0xfc; p; p = guest.read8(3, 0, p + 1) & 0xfc) {
      found.push([p, guest.read8(3, 0, p)]);
      expect(found.length).toBeLessThan(48);
    }
    expect(found).toEqual([
      [a, 0x09],
      [b, 0x01],
      [c, 0x09],
    ]);
    expect(a).toBe(0x40);
    expect(b).toBe(0x50); // 0x40 + 2 + 14 = 0x50
    expect(c).toBe(0x58);
    expect(guest.read32(3, 0, a) >>> 16).toBe(0x0110); // cap_len 16, type 1
    guest.write8(3, 0, b + 4, 0xff); // PMCSR power state: only bits 1..0 writable
    expect(guest.read8(3, 0, b + 4)).toBe(0x03);
    guest.write8(3, 0, c + 2, 0xff); // read-only body
    expect(guest.read8(3, 0, c + 2)).toBe(5);
  });

  it('fails loudly when config space is full', () => {
    const d = new PciDevice({ vendorId: 1, deviceId: 2, classCode: 0 });
    expect(() => d.addCapability(9, new Array(200).fill(0))).toThrow(/no room/);
  });
});

describe('INTx', () => {
  it('raises the routed line with status bit 3; INTx disable masks the pin but not the status', () => {
    const { host, guest, pic10, pic11 } = machine();
    const d = new TestDevice();
    host.attach(3, d); // slot 3 INTA -> PIRQC -> IRQ 11
    d.setInterrupt(true);
    expect(pic11.level).toBe(true);
    expect(pic10.level).toBe(false);
    expect(guest.read16(3, 0, Cfg.STATUS) & Status.INTERRUPT).toBe(Status.INTERRUPT);

    const cmd = guest.read16(3, 0, Cfg.COMMAND);
    guest.write16(3, 0, Cfg.COMMAND, cmd | Command.INTX_DISABLE);
    expect(pic11.level).toBe(false);
    expect(guest.read16(3, 0, Cfg.STATUS) & Status.INTERRUPT).toBe(Status.INTERRUPT);
    guest.write16(3, 0, Cfg.COMMAND, cmd);
    expect(pic11.level).toBe(true);

    d.setInterrupt(false);
    expect(pic11.level).toBe(false);
    expect(guest.read16(3, 0, Cfg.STATUS) & Status.INTERRUPT).toBe(0);
    guest.write16(3, 0, Cfg.STATUS, 0xffff); // the interrupt status bit is read-only
    d.setInterrupt(true);
    guest.write16(3, 0, Cfg.STATUS, 0xffff);
    expect(guest.read16(3, 0, Cfg.STATUS) & Status.INTERRUPT).toBe(Status.INTERRUPT);
  });

  it('devices sharing an IRQ are wired-OR: the line stays up until the last one lowers', () => {
    const { host, pic11 } = machine();
    const nic = new TestDevice('nic');
    const disk = new TestDevice('disk');
    host.attach(3, nic); // PIRQC -> 11
    host.attach(4, disk); // PIRQD -> 11
    nic.setInterrupt(true);
    disk.setInterrupt(true);
    expect(pic11.edges).toBe(1);
    nic.setInterrupt(false);
    expect(pic11.level).toBe(true);
    disk.setInterrupt(false);
    expect(pic11.level).toBe(false);
  });

  it('a device without an interrupt pin gets no line', () => {
    const { host, guest } = machine();
    const d = new PciDevice({ vendorId: 1, deviceId: 2, classCode: 0xff0000 }, 'quiet');
    host.attach(5, d);
    expect(guest.read8(5, 0, Cfg.INTERRUPT_LINE)).toBe(0);
    expect(() => d.setInterrupt(true)).not.toThrow();
  });
});

describe('reset and snapshots', () => {
  it('reset brings back power-on config plus the firmware setup', () => {
    const { host, guest, ports } = machine();
    const d = new TestDevice();
    host.attach(3, d);
    guest.write32(3, 0, 0x10, 0xd000);
    guest.write16(3, 0, Cfg.COMMAND, Command.IO_SPACE | Command.BUS_MASTER);
    guest.write8(3, 0, Cfg.INTERRUPT_LINE, 3);
    d.setInterrupt(true);
    host.reset();
    expect(guest.read32(3, 0, 0x10)).toBe(0xc001);
    expect(ports.ownerOf(0xc000)).toBe('testdev BAR0');
    expect(ports.ownerOf(0xd000)).toBeUndefined();
    expect(guest.read16(3, 0, Cfg.COMMAND)).toBe(0x0103);
    expect(guest.read8(3, 0, Cfg.INTERRUPT_LINE)).toBe(11);
    expect(d.interruptAsserted).toBe(false);
  });

  it('snapshot/restore re-creates the decoding', () => {
    const a = machine();
    const d = new TestDevice();
    a.host.attach(3, d);
    a.guest.write32(3, 0, 0x10, 0xd000);
    const state = d.snapshot();

    const b = machine();
    const d2 = new TestDevice();
    b.host.attach(3, d2);
    d2.restore(state);
    expect(d2.barAddress(0)).toBe(0xd000);
    expect(b.ports.ownerOf(0xc000)).toBeUndefined();
  });

  it('a device can be driven standalone, with buses of its own', () => {
    const ports = new PortBus();
    const irq = new RecordingIrqLine();
    const d = new TestDevice();
    d.connect({ ports, mmio: new MmioBus(), irq });
    d.writeConfig(0x10, 4, 0x2000);
    expect(d.barAddress(0)).toBeUndefined(); // I/O decoding is still off
    d.writeConfig(Cfg.COMMAND, 2, Command.IO_SPACE);
    expect(ports.ownerOf(0x2000)).toBe('testdev BAR0');
    d.setInterrupt(true);
    expect(irq.level).toBe(true);
  });
});
