import { describe, expect, it } from 'vitest';
import { MmioBus, PortBus, RecordingIrqLine } from '@unimachine/core';
import { Cfg, Command, PciDevice, PciHost, pirqFor } from '../src/index.js';
import { machine, RecordingBar, TestDevice } from './helpers.js';

describe('configuration mechanism #1', () => {
  it('CONFIG_ADDRESS reads back with reserved bits zero; only dword accesses reach it', () => {
    const { ports, host } = machine();
    ports.write(0xcf8, 4, 0x80000000);
    expect(ports.read(0xcf8, 4) >>> 0).toBe(0x80000000); // Linux's pci_check_type1
    ports.write(0xcf8, 4, 0xffffffff);
    expect(ports.read(0xcf8, 4) >>> 0).toBe(0x80fffffc);
    ports.write(0xcf8, 1, 0x00);
    expect(ports.read(0xcf8, 4) >>> 0).toBe(0x80fffffc);
    expect(ports.ownerOf(0xcf9)).toBeUndefined(); // left for the reset control register
    ports.write(0xcf8, 4, 0x80001808);
    expect(ports.read(0xcf8, 4)).toBe(0x80001808); // unsigned as the bus passes it on
    expect(host.snapshot().address).toBe(0x80001808); // and as a snapshot saves it
    const other = machine();
    other.host.restore(host.snapshot());
    expect(other.ports.read(0xcf8, 4)).toBe(0x80001808);
    expect(ports.ownerOf(0xcfc)).toBe('pci');
    expect(ports.ownerOf(0xcff)).toBe('pci');
  });

  it('empty slots, other buses and a cleared enable bit read all ones', () => {
    const { guest, ports } = machine();
    expect(guest.read32(5, 0, 0)).toBe(0xffffffff);
    expect(guest.read16(31, 0, 0)).toBe(0xffff);
    expect(guest.read8(3, 7, 0x0e)).toBe(0xff);
    expect(guest.read32(0, 0, 0, 1)).toBe(0xffffffff); // bus 1 does not exist
    expect(guest.read32(0, 1, 0)).toBe(0xffffffff); // host bridge has no function 1
    ports.write(0xcf8, 4, 0x00000000); // enable bit clear: 00:00.0 is not selected
    expect(ports.read(0xcfc, 4) >>> 0).toBe(0xffffffff);
    ports.write(0xcfc, 4, 0); // and writes go nowhere
    expect(guest.read32(0, 0, 0)).toBe(0x12378086);
  });

  it('00:00.0 is the i440FX host bridge, 00:01.0 and 00:01.1 the PIIX3 ISA bridge and IDE, as on QEMU', () => {
    const { guest } = machine();
    expect(guest.read32(0, 0, 0x00)).toBe(0x12378086);
    expect(guest.read32(0, 0, 0x08)).toBe(0x06000002); // class 06/00/00, revision 2
    expect(guest.read8(0, 0, 0x0e)).toBe(0x00);
    expect(guest.read32(0, 0, 0x2c)).toBe(0x11001af4);
    expect(guest.read32(1, 0, 0x00)).toBe(0x70008086);
    expect(guest.read32(1, 0, 0x08) >>> 8).toBe(0x060100);
    expect(guest.read8(1, 0, 0x0e)).toBe(0x80);
    expect(guest.read32(1, 0, 0x60)).toBe(0x0b0b0a0a); // PIRQ A..D -> IRQ 10, 10, 11, 11
    expect(guest.read32(1, 1, 0x00)).toBe(0x70108086);
    expect(guest.read32(1, 1, 0x08)).toBe(0x01018000); // IDE, legacy mode with bus mastering
    expect(guest.read8(1, 1, Cfg.INTERRUPT_PIN)).toBe(0);
    expect(guest.read32(1, 1, 0x20)).toBe(0xc001); // bus-master IDE registers
    expect(guest.read32(1, 2, 0x00)).toBe(0xffffffff);
    const bare = machine({ piix3: false });
    expect(bare.guest.read32(1, 0, 0)).toBe(0xffffffff);
    expect(bare.guest.read32(1, 1, 0)).toBe(0xffffffff);
  });

  it('byte and word accesses at any offset inside the dword', () => {
    const { host, guest, ports } = machine();
    host.attach(3, new TestDevice());
    expect(guest.read16(3, 0, 0x00)).toBe(0x1234);
    expect(guest.read16(3, 0, 0x02)).toBe(0xabcd);
    expect(guest.read8(3, 0, 0x01)).toBe(0x12);
    expect(guest.read8(3, 0, 0x03)).toBe(0xab);
    expect(guest.read8(3, 0, 0x0b)).toBe(0x02); // class
    expect(guest.read8(3, 0, 0x08)).toBe(7); // revision
    expect(guest.read8(3, 0, 0x3d)).toBe(1); // INTA
    guest.write8(3, 0, 0x3c, 0x05);
    expect(guest.read32(3, 0, 0x3c)).toBe(0x0105);
    guest.write8(3, 0, 0x0d, 0x40); // latency timer, byte 1 of dword 0x0c
    expect(guest.read32(3, 0, 0x0c)).toBe(0x00004000);
    guest.write16(3, 0, 0x0e, 0xffff); // header type is read-only; byte 0x0f (BIST) unimplemented
    expect(guest.read32(3, 0, 0x0c)).toBe(0x00004000);
    // A word at lane 1 and a dword at lane 3: bytes past the dword are not config data.
    guest.select(0, 3, 0, 0x00);
    expect(ports.read(0xcfd, 2)).toBe(0xcd12);
    expect(ports.read(0xcff, 4) >>> 0).toBe(0xffffffab);
  });

  it('the PIIX slot/pin swizzle and the IRQ numbers SeaBIOS reports on QEMU pc', () => {
    expect([1, 2, 3, 4].map((slot) => pirqFor(slot, 1))).toEqual([0, 1, 2, 3]);
    expect([1, 2, 3, 4].map((pin) => pirqFor(3, pin))).toEqual([2, 3, 0, 1]);
    const { host } = machine();
    // QEMU -machine pc: a NIC in slot 3 and a disk in slot 4 both get IRQ 11.
    expect(host.irqFor(3, 1)).toBe(11);
    expect(host.irqFor(4, 1)).toBe(11);
    expect(host.irqFor(2, 1)).toBe(10);
    expect(host.irqFor(5, 1)).toBe(10);
  });

  it('refuses a taken slot, a slot out of range and double attachment', () => {
    const { host } = machine();
    const d = new TestDevice('nic');
    host.attach(3, d);
    expect(() => host.attach(3, new TestDevice('disk'))).toThrow(/00:03.0 is taken by nic; disk needs another slot/);
    expect(() => host.attach(32, new TestDevice())).toThrow(RangeError);
    expect(() => host.attach(4, d)).toThrow(/already attached/);
    expect(() => host.attach(0, new TestDevice())).toThrow(/taken/);
  });

  it('a second function makes function 0 multi-function', () => {
    const { host, guest } = machine();
    host.attach(6, new TestDevice('f0'));
    expect(guest.read8(6, 0, Cfg.HEADER_TYPE)).toBe(0x00);
    host.attach(6, new TestDevice('f2'), 2);
    expect(guest.read8(6, 0, Cfg.HEADER_TYPE)).toBe(0x80);
    expect(guest.read16(6, 2, 0)).toBe(0x1234);
    expect(guest.read16(6, 1, 0)).toBe(0xffff);
    // PIIX swizzle applies per slot, whatever the function.
    expect(guest.read8(6, 2, Cfg.INTERRUPT_LINE)).toBe(10);
  });
});

/** BAR shapes of QEMU 7.2's transitional virtio-net-pci and virtio-blk-pci (from `info pci`). */
class QemuShapedVirtio extends PciDevice {
  readonly legacy: RecordingBar;
  constructor(name: string, deviceId: number, ioSize: number) {
    super({ vendorId: 0x1af4, deviceId, classCode: 0x020000, interruptPin: 1 }, name);
    this.legacy = new RecordingBar(ioSize);
    this.addIoBar(0, ioSize, this.legacy);
    this.addMemoryBar(1, 0x1000, new RecordingBar(0x1000)); // MSI-X table
    this.addMemoryBar(4, 0x4000, new RecordingBar(0x4000), { is64: true, prefetchable: true }); // modern virtio
  }
}

describe('firmware-like setup', () => {
  it('assigns BARs as SeaBIOS does, the interrupt line, and enables decoding', () => {
    const { host, guest, ports, mmio } = machine();
    const nic = new TestDevice('nic');
    host.attach(3, nic);
    expect(guest.read32(3, 0, 0x10)).toBe(0xc001);
    // Non-prefetchable (align 4 KiB) on top below 0xFEC00000, prefetchable (align 16 KiB) under it.
    expect(guest.read32(3, 0, 0x14)).toBe(0xfebff000);
    expect(guest.read32(3, 0, 0x18)).toBe(0xfebf800c);
    expect(guest.read32(3, 0, 0x1c)).toBe(0);
    expect(guest.read8(3, 0, Cfg.INTERRUPT_LINE)).toBe(11);
    expect(guest.read16(3, 0, Cfg.COMMAND)).toBe(Command.IO_SPACE | Command.MEMORY_SPACE | Command.SERR);
    expect(ports.ownerOf(0xc000)).toBe('nic BAR0');
    expect(ports.ownerOf(0xc01f)).toBe('nic BAR0');
    expect(mmio.ownerOf(0xfebff000)).toBe('nic BAR1');
    expect(mmio.ownerOf(0xfebf8000)).toBe('nic BAR2');
  });

  it('gives the addresses QEMU 7.2 -machine pc + SeaBIOS gives virtio-net at slot 3 and virtio-blk at slot 4', () => {
    // Reference, `info pci` on qemu-system-x86_64 -machine pc,acpi=off -nodefaults with
    // virtio-net-pci,addr=3,romfile= and virtio-blk-pci,addr=4:
    //   03.0 IRQ 11 BAR0 I/O 0xc080 BAR1 0xfebfe000 BAR4 0xfebf4000
    //   04.0 IRQ 11 BAR0 I/O 0xc000 BAR1 0xfebff000 BAR4 0xfebf8000
    //   01.1 BAR4 I/O 0xc0a0 (PIIX3 IDE bus-master registers)
    const { host, guest, ports } = machine();
    const net = new QemuShapedVirtio('net0', 0x1000, 0x20);
    const blk = new QemuShapedVirtio('disk0', 0x1001, 0x80);
    host.attach(3, net);
    host.attach(4, blk);
    expect([0, 1, 4].map((i) => net.barAddress(i))).toEqual([0xc080, 0xfebfe000, 0xfebf4000]);
    expect([0, 1, 4].map((i) => blk.barAddress(i))).toEqual([0xc000, 0xfebff000, 0xfebf8000]);
    expect(host.ide!.barAddress(4)).toBe(0xc0a0);
    expect(guest.read8(3, 0, Cfg.INTERRUPT_LINE)).toBe(11);
    expect(guest.read8(4, 0, Cfg.INTERRUPT_LINE)).toBe(11);
    // Re-layout on the second attach moved net0's I/O BAR; the old claim went with it.
    ports.write(0xc090, 1, 0x5a);
    expect(net.legacy.log).toEqual(['w1@16=5a']);
    expect(blk.legacy.log).toEqual([]);
  });
});

describe('ELCR', () => {
  it('marks the PIRQ IRQs level-triggered at build and after reset, keeping other level bits', () => {
    const ports = new PortBus();
    const elcr = [0x00, 0x20]; // IRQ 13 level already, set by someone else
    ports.claim({ start: 0x4d0, length: 2 }, { read: (p) => elcr[p - 0x4d0], write: (p, _s, v) => (elcr[p - 0x4d0] = v) }, 'pic');
    const line = new RecordingIrqLine();
    const host = new PciHost({
      ports,
      mmio: new MmioBus(),
      pirqs: [5, 10, 11, 11].map((irq) => ({ line, irq })),
    });
    expect(elcr).toEqual([0x20, 0x2c]); // IRQ 5; IRQ 10, 11 (+13)
    elcr[0] = elcr[1] = 0; // a PIC reset clears them
    host.reset();
    expect(elcr).toEqual([0x20, 0x0c]);
  });
});
