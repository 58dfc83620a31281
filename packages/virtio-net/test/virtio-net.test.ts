import { describe, expect, it } from 'vitest';
import { FeatureSet, Isr, TransportFeature, VirtioPciTransport } from '@unimachine/virtio';
import { driverFor, TestPc } from '@unimachine/virtio/testing';
import { NetConfig, NetFeature, RX_QUEUE, TX_QUEUE, VirtioNet, formatMac, macForId, parseMac } from '../src/index.js';
import { FakeNet } from './fake-backend.js';

const SLOT = 3;

function netMachine(kind: 'legacy' | 'modern', features: number[] = []) {
  const pc = new TestPc();
  const backend = new FakeNet();
  let wakes = 0;
  const net = new VirtioNet(backend, { mac: parseMac('52:54:00:12:34:56')!, host: { hold: () => ({ release() {} }), wake: () => wakes++ } });
  const transport = new VirtioPciTransport({ memory: pc.memory, model: net, name: 'net0' });
  pc.attach(SLOT, transport.pci);
  const driver = driverFor(kind, pc, SLOT);
  const accepted = driver.start(FeatureSet.of(NetFeature.MAC, NetFeature.STATUS, TransportFeature.VERSION_1, ...features));
  const rx = driver.setupQueue(RX_QUEUE);
  const tx = driver.setupQueue(TX_QUEUE);
  return { pc, backend, net, transport, driver, accepted, rx, tx, irq: pc.irqLine(SLOT), wakes: () => wakes };
}

const frame = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);

describe.each([
  ['legacy', 10],
  ['modern', 12],
] as const)('virtio-net through the %s transport (%i-byte header)', (kind, hdr) => {
  it('PCI 1af4:1000 class 0x020000 subsystem 1; config MAC and LINK_UP; MAC and STATUS offered', () => {
    const { pc, driver, accepted } = netMachine(kind);
    expect(pc.config.read32(SLOT, 0)).toBe(0x10001af4);
    expect(pc.config.read32(SLOT, 0x08) >>> 8).toBe(0x020000);
    expect(pc.config.read16(SLOT, 0x2e)).toBe(1);
    expect(Array.from({ length: 6 }, (_, i) => driver.config8(NetConfig.MAC + i))).toEqual([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
    expect(driver.config16(NetConfig.STATUS)).toBe(1);
    expect(accepted.has(NetFeature.MAC) && accepted.has(NetFeature.STATUS)).toBe(true);
  });

  it(`TX: the ${hdr}-byte header is stripped, the frame reaches the backend, the chain comes back`, () => {
    const { pc, backend, driver, tx, net } = netMachine(kind);
    driver.driverOk();
    const f = frame(60);
    const h = pc.alloc(hdr);
    const d = pc.alloc(60);
    pc.memory.write(d, f);
    const head = tx.post([{ addr: h, len: hdr }, { addr: d, len: 60 }]);
    // A second frame with header and data in one buffer.
    const one = pc.alloc(hdr + 100);
    pc.memory.write(one + hdr, frame(100, 9));
    const head2 = tx.post([{ addr: one, len: hdr + 100 }]);
    tx.notify();
    expect(backend.sent).toEqual([f, frame(100, 9)]);
    expect(tx.takeUsed()).toEqual({ id: head, len: 0 });
    expect(tx.takeUsed()).toEqual({ id: head2, len: 0 });
    expect(net.counters.txFrames).toBe(2);
    expect(driver.readIsr()).toBe(Isr.QUEUE);
  });

  it('TX chains with a device-writable buffer or no frame after the header are not sent', () => {
    const { pc, backend, driver, tx, net } = netMachine(kind);
    driver.driverOk();
    tx.post([{ addr: pc.alloc(hdr), len: hdr }, { addr: pc.alloc(60), len: 60, write: true }]);
    tx.post([{ addr: pc.alloc(hdr), len: hdr }]);
    tx.notify();
    expect(backend.sent).toEqual([]);
    expect(net.counters.txErrors).toBe(2);
    expect(tx.takeUsed()?.len).toBe(0);
  });

  it('RX: a frame lands after a zero header (num_buffers 1 with 12 bytes), INTx raised, the machine woken', () => {
    const { pc, backend, driver, rx, irq, net, wakes } = netMachine(kind);
    const buf = pc.alloc(1526);
    pc.memory.u8.fill(0xee, buf, buf + 1526);
    const head = rx.post([{ addr: buf, len: 1526, write: true }]);
    rx.notify();
    driver.driverOk();
    const f = frame(98);
    backend.inject(f);
    expect(rx.takeUsed()).toEqual({ id: head, len: hdr + 98 });
    const header = Array.from(pc.memory.u8.subarray(buf, buf + hdr));
    expect(header).toEqual(hdr === 12 ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0] : new Array(10).fill(0));
    expect(pc.memory.u8.subarray(buf + hdr, buf + hdr + 98)).toEqual(f);
    expect(pc.memory.u8[buf + hdr + 98]).toBe(0xee);
    expect(irq.level).toBe(true);
    expect(driver.readIsr()).toBe(Isr.QUEUE);
    expect(irq.level).toBe(false);
    expect(wakes()).toBe(1);
    expect(net.counters.rxFrames).toBe(1);
  });

  it('RX: header and frame split over buffers and through an indirect table', () => {
    const { pc, backend, driver, rx } = netMachine(kind, [TransportFeature.INDIRECT_DESC]);
    driver.driverOk();
    const h = pc.alloc(hdr), a = pc.alloc(20), b = pc.alloc(1500);
    const head = rx.post([{ addr: h, len: hdr, write: true }, { addr: a, len: 20, write: true }, { addr: b, len: 1500, write: true }], { indirectTable: pc.alloc(48) });
    backend.inject(frame(64));
    expect(rx.takeUsed()).toEqual({ id: head, len: hdr + 64 });
    expect(new Uint8Array([...pc.memory.u8.subarray(a, a + 20), ...pc.memory.u8.subarray(b, b + 44)])).toEqual(frame(64));
  });

  it('RX drops: no buffer posted, before DRIVER_OK, a buffer too small or device-readable', () => {
    const { pc, backend, driver, rx, net } = netMachine(kind);
    backend.inject(frame(60)); // before DRIVER_OK
    expect(net.counters.rxDropsNotReady).toBe(1);
    driver.driverOk();
    backend.inject(frame(60)); // nothing posted
    expect(net.counters.rxDropsNoBuffer).toBe(1);
    const small = rx.post([{ addr: pc.alloc(40), len: 40, write: true }]);
    const readable = rx.post([{ addr: pc.alloc(1600), len: 1600 }]);
    backend.inject(frame(60));
    backend.inject(frame(60));
    expect(rx.takeUsed()).toEqual({ id: small, len: 0 });
    expect(rx.takeUsed()).toEqual({ id: readable, len: 0 });
    expect(net.counters.rxDropsBadBuffer).toBe(2);
    expect(net.counters.rxFrames).toBe(0);
    const good = rx.post([{ addr: pc.alloc(1600), len: 1600, write: true }]);
    backend.inject(frame(60));
    expect(rx.takeUsed()).toEqual({ id: good, len: hdr + 60 });
  });

  it('EVENT_IDX on RX: the interrupt comes when used_event is passed', () => {
    const { pc, backend, driver, rx } = netMachine(kind, [TransportFeature.EVENT_IDX]);
    driver.driverOk();
    for (let i = 0; i < 3; i++) rx.post([{ addr: pc.alloc(1600), len: 1600, write: true }]);
    rx.usedEvent = 1;
    backend.inject(frame(60));
    expect(driver.readIsr()).toBe(0);
    backend.inject(frame(60));
    expect(driver.readIsr()).toBe(Isr.QUEUE);
    backend.inject(frame(60));
    expect(driver.readIsr()).toBe(0);
  });
});

describe('MAC addresses', () => {
  it('parse, format, and a stable locally administered default from the device id', () => {
    expect(formatMac(parseMac('52-54-00-AB-cd-01')!)).toBe('52:54:00:ab:cd:01');
    expect(parseMac('52:54:00:ab:cd')).toBeUndefined();
    const a = macForId('net0');
    expect(formatMac(a).startsWith('52:54:00:')).toBe(true);
    expect(macForId('net0')).toEqual(a);
    expect(macForId('net1')).not.toEqual(a);
  });
});
