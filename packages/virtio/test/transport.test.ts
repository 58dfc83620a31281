import { describe, expect, it } from 'vitest';
import { Cfg, Command } from '@unimachine/pci';
import {
  CommonCfg, DescFlags, DeviceStatus, FeatureSet, Isr, LegacyReg, PciCapType, TransportFeature, VirtioPciTransport,
  type VirtioTransportKind,
} from '../src/index.js';
import { LegacyTestDriver, ModernTestDriver, TestPc, driverFor } from '../src/testing/index.js';
import { EchoModel } from './echo-model.js';

const SLOT = 4;
const RING = (1 << TransportFeature.INDIRECT_DESC) | (1 << TransportFeature.EVENT_IDX);

function setup(kind: VirtioTransportKind = 'transitional', queueSize = 16) {
  const pc = new TestPc();
  const model = new EchoModel(queueSize);
  const t = new VirtioPciTransport({ memory: pc.memory, model, transport: kind, name: 'echo' });
  pc.attach(SLOT, t.pci);
  return { pc, model, t, irq: pc.irqLine(SLOT) };
}

describe('PCI identity', () => {
  it('transitional: 1af4:1001 rev 0, subsystem 1af4:0002, class 0x010000, INTA, I/O BAR0 and 64-bit memory BAR4', () => {
    const { pc } = setup();
    const c = pc.config;
    expect(c.read32(SLOT, 0)).toBe(0x10011af4);
    expect(c.read8(SLOT, Cfg.REVISION)).toBe(0);
    expect(c.read32(SLOT, Cfg.SUBSYSTEM_VENDOR_ID)).toBe(0x00021af4);
    expect(c.read32(SLOT, 0x08) >>> 8).toBe(0x010000);
    expect(c.read8(SLOT, Cfg.INTERRUPT_PIN)).toBe(1);
    expect(c.read32(SLOT, 0x10) & 1).toBe(1);
    expect(c.read32(SLOT, 0x20) & 0xf).toBe(0xc); // 64-bit prefetchable
  });

  it('modern-only: device id 0x1040 + type, revision 1, no I/O BAR', () => {
    const { pc } = setup('modern');
    expect(pc.config.read32(SLOT, 0)).toBe(0x10421af4);
    expect(pc.config.read8(SLOT, Cfg.REVISION)).toBe(1);
    expect(pc.config.read32(SLOT, 0x10)).toBe(0);
  });

  it('the capability list has common, ISR, device and notify structures in BAR 4 with multiplier 4', () => {
    const { pc } = setup();
    const d = new ModernTestDriver(pc, SLOT);
    expect(d.capTypes).toEqual([PciCapType.COMMON, PciCapType.ISR, PciCapType.DEVICE, PciCapType.NOTIFY]);
    expect(d.caps.notifyMultiplier).toBe(4);
    expect(d.caps.isr - d.caps.common).toBe(0x1000);
  });
});

describe('feature negotiation and status', () => {
  it('legacy registers show only the low word (no VERSION_1); modern shows VERSION_1 in word 1', () => {
    const { pc } = setup();
    const legacy = new LegacyTestDriver(pc, SLOT);
    expect(pc.ports.read(legacy.io + LegacyReg.HOST_FEATURES, 4) >>> 0).toBe((RING | (1 << 3)) >>> 0);
    const modern = new ModernTestDriver(pc, SLOT);
    modern.writeCommon(CommonCfg.DEVICE_FEATURE_SELECT, 4, 1);
    expect(modern.readCommon(CommonCfg.DEVICE_FEATURE, 4)).toBe(1);
    modern.writeCommon(CommonCfg.DEVICE_FEATURE_SELECT, 4, 2);
    expect(modern.readCommon(CommonCfg.DEVICE_FEATURE, 4)).toBe(0);
  });

  it('the legacy-only transport never offers VERSION_1', () => {
    const { t } = setup('legacy');
    expect(t.core.offered.hi).toBe(0);
  });

  it('FEATURES_OK is refused without VERSION_1 or with bits never offered, and accepted otherwise', () => {
    const { pc, t } = setup();
    const d = new ModernTestDriver(pc, SLOT);
    d.status = 0;
    d.status = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER;
    d.status = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK;
    expect(d.status & DeviceStatus.FEATURES_OK).toBe(0); // no VERSION_1
    d.writeCommon(CommonCfg.DRIVER_FEATURE_SELECT, 4, 1);
    d.writeCommon(CommonCfg.DRIVER_FEATURE, 4, 1 | 2); // VERSION_1 plus bit 33, not offered
    d.status = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK;
    expect(d.status & DeviceStatus.FEATURES_OK).toBe(0);
    expect(t.counters.featuresRefused).toBe(2);
    const accepted = d.start(FeatureSet.of(3, TransportFeature.VERSION_1, TransportFeature.EVENT_IDX));
    expect(accepted.lo).toBe((1 << 3) | (1 << TransportFeature.EVENT_IDX));
    expect(d.status & DeviceStatus.FEATURES_OK).toBe(DeviceStatus.FEATURES_OK);
    expect(t.core.hasFeature(TransportFeature.VERSION_1)).toBe(true);
  });

  it('legacy GUEST_FEATURES drops bits the device never offered', () => {
    const { pc, t } = setup();
    const d = new LegacyTestDriver(pc, SLOT);
    d.status = DeviceStatus.ACKNOWLEDGE;
    pc.ports.write(d.io + LegacyReg.GUEST_FEATURES, 4, 0xffffffff);
    expect(pc.ports.read(d.io + LegacyReg.GUEST_FEATURES, 4) >>> 0).toBe((RING | (1 << 3)) >>> 0);
    expect(t.core.hasFeature(TransportFeature.VERSION_1)).toBe(false);
  });

  it('status 0 resets the device: queues off, features cleared, ISR cleared, the model told', () => {
    const { pc, model, t, irq } = setup();
    const d = new LegacyTestDriver(pc, SLOT);
    d.start(FeatureSet.of(TransportFeature.EVENT_IDX));
    const q = d.setupQueue(0);
    d.driverOk();
    expect(model.driverOkCalls).toBe(1);
    t.core.configChanged();
    expect(irq.level).toBe(true);
    const resetsBefore = model.resets;
    d.status = 0;
    expect(irq.level).toBe(false);
    expect(d.status).toBe(0);
    expect(pc.ports.read(d.io + LegacyReg.QUEUE_PFN, 4)).toBe(0);
    expect(t.core.queues[0].ready).toBe(false);
    expect(t.core.driverFeatures.lo).toBe(0);
    expect(model.resets).toBe(resetsBefore + 1);
    void q;
  });

  it('device config is readable through both windows', () => {
    const { pc } = setup();
    const l = new LegacyTestDriver(pc, SLOT);
    const m = new ModernTestDriver(pc, SLOT);
    expect(l.config32(0)).toBe(0x44332211);
    expect(m.config32(4)).toBe(0x88776655);
    expect(l.config8(7)).toBe(0x88);
    expect(m.config16(2)).toBe(0x4433);
  });
});

describe.each(['legacy', 'modern'] as const)('queues through the %s transport', (kind) => {
  function ready(features = FeatureSet.of(TransportFeature.VERSION_1, TransportFeature.INDIRECT_DESC)) {
    const s = setup();
    const d = driverFor(kind, s.pc, SLOT);
    d.start(features);
    const q = d.setupQueue(0);
    d.driverOk();
    return { ...s, d, q };
  }

  it('a chain in, echoed data and length in the used ring, INTx up until ISR is read', () => {
    const { pc, d, q, irq, model } = ready();
    const src = pc.alloc(100);
    const dst = pc.alloc(64);
    const dst2 = pc.alloc(64);
    pc.memory.u8.set(Array.from({ length: 100 }, (_, i) => i), src);
    const head = q.post([{ addr: src, len: 100 }, { addr: dst, len: 64, write: true }, { addr: dst2, len: 64, write: true }]);
    expect(irq.level).toBe(false);
    q.notify();
    expect(model.seen).toEqual([{ queue: 0, head, segments: 3, readable: 100, writable: 128 }]);
    expect(q.takeUsed()).toEqual({ id: head, len: 100 });
    expect(Array.from(pc.memory.u8.subarray(dst2, dst2 + 36))).toEqual(Array.from({ length: 36 }, (_, i) => 64 + i));
    expect(irq.level).toBe(true);
    expect(d.readIsr()).toBe(Isr.QUEUE);
    expect(irq.level).toBe(false);
    expect(d.readIsr()).toBe(0);
  });

  it('indirect descriptors: one ring slot, the table elsewhere', () => {
    const { pc, q, model } = ready();
    const a = pc.alloc(8);
    const b = pc.alloc(8);
    pc.memory.u8.set([1, 2, 3, 4, 5, 6, 7, 8], a);
    const table = pc.alloc(32);
    const head = q.post([{ addr: a, len: 8 }, { addr: b, len: 8, write: true }], { indirectTable: table });
    q.notify();
    expect(model.seen[0]).toMatchObject({ head, segments: 2 });
    expect(q.takeUsed()).toEqual({ id: head, len: 8 });
    expect(Array.from(pc.memory.u8.subarray(b, b + 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('malformed chains come back with length 0 and are counted; the queue keeps working', () => {
    const { pc, q, t, d } = ready(FeatureSet.of(TransportFeature.VERSION_1)); // no INDIRECT_DESC
    const buf = pc.alloc(16);
    const bad: number[] = [];
    bad.push(q.post([{ addr: pc.memory.size - 8, len: 16 }])); // runs past RAM
    bad.push(q.post([{ addr: buf, len: 8, write: true }, { addr: buf, len: 8 }])); // readable after writable
    bad.push(q.post([{ addr: buf, len: 8 }], { indirectTable: pc.alloc(16) })); // indirect not negotiated
    const loop = q.post([{ addr: buf, len: 1 }, { addr: buf, len: 1 }]);
    q.writeDesc(q.desc, loop + 1, buf, 1, DescFlags.NEXT, loop); // loop back to the head
    bad.push(loop);
    const good = q.post([{ addr: buf, len: 4 }, { addr: buf + 8, len: 4, write: true }]);
    q.notify();
    for (const id of bad) expect(q.takeUsed()).toEqual({ id, len: 0 });
    expect(q.takeUsed()).toEqual({ id: good, len: 4 });
    expect(t.counters.malformedChains).toBe(4);
    expect(d.status & DeviceStatus.DEVICE_NEEDS_RESET).toBe(0);
  });

  it('an indirect table inside an indirect table is malformed', () => {
    const { pc, q } = ready();
    const inner = pc.alloc(16);
    const outer = pc.alloc(16);
    q.writeDesc(inner, 0, pc.alloc(8), 8, 0, 0);
    q.writeDesc(outer, 0, inner, 16, DescFlags.INDIRECT, 0);
    q.writeDesc(q.desc, 5, outer, 16, DescFlags.INDIRECT, 0);
    q.publish(5);
    q.notify();
    expect(q.takeUsed()).toEqual({ id: 5, len: 0 });
  });

  it('an avail index that jumps past the queue size sets DEVICE_NEEDS_RESET with a config interrupt', () => {
    const { q, d, t, irq } = ready();
    q.setAvailIdx(q.size + 1);
    q.notify();
    expect(d.status & DeviceStatus.DEVICE_NEEDS_RESET).toBe(DeviceStatus.DEVICE_NEEDS_RESET);
    expect(irq.level).toBe(true);
    expect(d.readIsr()).toBe(Isr.CONFIG);
    expect(q.usedIdx).toBe(0);
    expect(t.counters.ringErrors).toBe(1);
    // Only a reset clears it; the driver can start over.
    d.status = d.status | DeviceStatus.DRIVER_OK;
    expect(d.status & DeviceStatus.DEVICE_NEEDS_RESET).toBe(DeviceStatus.DEVICE_NEEDS_RESET);
    d.status = 0;
    expect(d.status).toBe(0);
  });

  it('a head index past the queue size is a ring error', () => {
    const { q, d } = ready();
    q.publish(q.size + 3);
    q.notify();
    expect(d.status & DeviceStatus.DEVICE_NEEDS_RESET).toBe(DeviceStatus.DEVICE_NEEDS_RESET);
  });

  it('EVENT_IDX: interrupts only when used idx passes used_event; avail_event follows the device', () => {
    const { pc, d, q, t } = ready(FeatureSet.of(TransportFeature.VERSION_1, TransportFeature.EVENT_IDX));
    const buf = pc.alloc(16);
    q.usedEvent = 2; // interrupt me when the third completion is written
    for (let i = 0; i < 2; i++) {
      q.post([{ addr: buf, len: 1 }]);
      q.notify();
      expect(d.readIsr()).toBe(0);
      expect(q.availEvent).toBe(i + 1);
    }
    q.post([{ addr: buf, len: 1 }]);
    q.notify();
    expect(d.readIsr()).toBe(Isr.QUEUE);
    expect(t.counters.suppressedInterrupts).toBe(2);
    // Without EVENT_IDX the NO_INTERRUPT flag is honoured instead.
    d.start(FeatureSet.of(TransportFeature.VERSION_1));
    const q2 = d.setupQueue(1);
    d.driverOk();
    q2.noInterrupt = true;
    q2.post([{ addr: buf, len: 1 }]);
    q2.notify();
    expect(d.readIsr()).toBe(0);
    q2.noInterrupt = false;
    q2.post([{ addr: buf, len: 1 }]);
    q2.notify();
    expect(d.readIsr()).toBe(Isr.QUEUE);
  });

  it('INTx disable in the command register keeps the line low while ISR still reports', () => {
    const { pc, d, q, irq } = ready();
    pc.config.write16(SLOT, Cfg.COMMAND, pc.config.read16(SLOT, Cfg.COMMAND) | Command.INTX_DISABLE);
    q.post([{ addr: pc.alloc(4), len: 4 }]);
    q.notify();
    expect(irq.level).toBe(false);
    expect(d.readIsr()).toBe(Isr.QUEUE);
  });
});

describe('legacy queue layout', () => {
  it('QUEUE_PFN places desc, avail, and the used ring on the next 4 KiB boundary; size is fixed', () => {
    const { pc, t } = setup('transitional', 256);
    const d = new LegacyTestDriver(pc, SLOT);
    d.start(new FeatureSet());
    const q = d.setupQueue(0);
    const vq = t.core.queues[0];
    expect(q.size).toBe(256);
    expect(vq.descAddr).toBe(q.desc);
    expect(vq.availAddr).toBe(q.desc + 4096);
    expect(vq.usedAddr).toBe(q.desc + 8192); // 4096 + 6 + 512 rounds up to 8192
    expect(pc.ports.read(d.io + LegacyReg.QUEUE_PFN, 4)).toBe(q.desc / 4096);
  });

  it('a PFN outside RAM sets DEVICE_NEEDS_RESET; a missing queue reads size 0', () => {
    const { pc, t } = setup();
    const d = new LegacyTestDriver(pc, SLOT);
    d.start(new FeatureSet());
    pc.ports.write(d.io + LegacyReg.QUEUE_SELECT, 2, 0);
    pc.ports.write(d.io + LegacyReg.QUEUE_PFN, 4, pc.memory.size / 4096);
    expect(d.status & DeviceStatus.DEVICE_NEEDS_RESET).toBe(DeviceStatus.DEVICE_NEEDS_RESET);
    expect(t.core.queues[0].ready).toBe(false);
    pc.ports.write(d.io + LegacyReg.QUEUE_SELECT, 2, 7);
    expect(pc.ports.read(d.io + LegacyReg.QUEUE_SIZE, 2)).toBe(0);
  });
});

describe('modern queue setup', () => {
  it('the driver may shrink the queue; a size that is not a power of two is refused with DEVICE_NEEDS_RESET', () => {
    const { pc, t } = setup('transitional', 1024);
    const d = new ModernTestDriver(pc, SLOT);
    d.start(FeatureSet.of(TransportFeature.VERSION_1));
    d.writeCommon(CommonCfg.QUEUE_SELECT, 2, 0);
    expect(d.readCommon(CommonCfg.QUEUE_SIZE, 2)).toBe(1024);
    const q = d.setupQueue(0, 64);
    expect(t.core.queues[0].size).toBe(64);
    expect(d.readCommon(CommonCfg.QUEUE_ENABLE, 2)).toBe(1);
    expect(q.size).toBe(64);
    d.setupQueue(1, 100);
    expect(d.status & DeviceStatus.DEVICE_NEEDS_RESET).toBe(DeviceStatus.DEVICE_NEEDS_RESET);
    expect(t.core.queues[1].ready).toBe(false);
  });

  it('queue addresses are 64-bit; rings beyond RAM are refused', () => {
    const { pc } = setup();
    const d = new ModernTestDriver(pc, SLOT);
    d.start(FeatureSet.of(TransportFeature.VERSION_1));
    d.writeCommon(CommonCfg.QUEUE_SELECT, 2, 0);
    d.writeCommon(CommonCfg.QUEUE_DESC, 4, 0x1000);
    d.writeCommon(CommonCfg.QUEUE_DESC + 4, 4, 1);
    expect(d.readCommon(CommonCfg.QUEUE_DESC + 4, 4)).toBe(1);
    d.writeCommon(CommonCfg.QUEUE_ENABLE, 2, 1);
    expect(d.readCommon(CommonCfg.QUEUE_ENABLE, 2)).toBe(0);
    expect(d.status & DeviceStatus.DEVICE_NEEDS_RESET).toBe(DeviceStatus.DEVICE_NEEDS_RESET);
  });
});

describe('bus mastering', () => {
  it('legacy: writing ACKNOWLEDGE|DRIVER turns bus mastering on, as QEMU does for old drivers', () => {
    const { pc, model } = setup();
    const d = new LegacyTestDriver(pc, SLOT, { busMaster: false });
    expect(pc.config.read16(SLOT, Cfg.COMMAND) & Command.BUS_MASTER).toBe(0);
    d.start(new FeatureSet());
    expect(pc.config.read16(SLOT, Cfg.COMMAND) & Command.BUS_MASTER).toBe(Command.BUS_MASTER);
    const q = d.setupQueue(0);
    d.driverOk();
    q.post([{ addr: pc.alloc(4), len: 4 }]);
    q.notify();
    expect(model.seen).toHaveLength(1);
  });

  it('modern: no DMA until the driver enables bus mastering; the queued chain is served on the next notify', () => {
    const { pc, model, t } = setup();
    const d = new ModernTestDriver(pc, SLOT, { busMaster: false });
    d.start(FeatureSet.of(TransportFeature.VERSION_1));
    const q = d.setupQueue(0);
    d.driverOk();
    q.post([{ addr: pc.alloc(4), len: 4 }]);
    q.notify();
    expect(model.seen).toHaveLength(0);
    expect(t.counters.noBusMaster).toBe(1);
    pc.config.write16(SLOT, Cfg.COMMAND, pc.config.read16(SLOT, Cfg.COMMAND) | Command.BUS_MASTER);
    q.notify();
    expect(model.seen).toHaveLength(1);
  });
});

describe('DMA bookkeeping', () => {
  it('every guest-memory write by the device is reported to the write observers (decoded code drops)', () => {
    const { pc, q } = (() => {
      const s = setup();
      const d = new LegacyTestDriver(s.pc, SLOT);
      d.start(new FeatureSet());
      const q = d.setupQueue(0);
      d.driverOk();
      return { ...s, q };
    })();
    const src = pc.alloc(8);
    const dst = pc.alloc(8);
    const seen: [number, number][] = [];
    pc.memory.observeWrites((a, n) => seen.push([a, n]));
    q.post([{ addr: src, len: 8 }, { addr: dst, len: 8, write: true }]);
    seen.length = 0;
    q.notify();
    expect(seen).toContainEqual([dst, 8]);
    expect(seen.some(([a]) => a >= q.used && a < q.used + 16)).toBe(true);
  });
});
