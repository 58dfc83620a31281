import { describe, expect, it } from 'vitest';
import { DeviceStatus, Isr, TransportFeature } from '@unimachine/virtio';
import { BlkConfig, BlkFeature, BlkRequestType, BlkStatus } from '../src/index.js';
import { blkMachine } from './helpers.js';

describe.each(['legacy', 'modern'] as const)('virtio-blk through the %s transport', (kind) => {
  it('config: capacity in 512-byte sectors, blk_size 512, seg_max, size_max; features offered', () => {
    const { driver, transport } = blkMachine(kind, { sectors: 3000 });
    expect(driver.config32(BlkConfig.CAPACITY)).toBe(3000);
    expect(driver.config32(BlkConfig.CAPACITY + 4)).toBe(0);
    expect(driver.config32(BlkConfig.BLK_SIZE)).toBe(512);
    expect(driver.config32(BlkConfig.SEG_MAX)).toBe(254);
    expect(driver.config32(BlkConfig.SIZE_MAX)).toBe(1 << 20);
    const offered = transport.core.offered;
    for (const bit of [BlkFeature.FLUSH, BlkFeature.BLK_SIZE, BlkFeature.SEG_MAX, BlkFeature.SIZE_MAX]) expect(offered.has(bit)).toBe(true);
    expect(offered.has(BlkFeature.RO)).toBe(false);
  });

  it('IN reads sectors into guest RAM, writes status OK, used length = data + status, INTx until ISR read', () => {
    const { io, pc, disk, irq, driver, blk } = blkMachine(kind);
    const r = io.read(10, 4096);
    expect(r.status).toBe(BlkStatus.OK);
    expect(r.used).toEqual({ id: r.head, len: 4097 });
    expect(pc.memory.u8.subarray(r.dataAt, r.dataAt + 4096)).toEqual(disk.data.subarray(10 * 512, 10 * 512 + 4096));
    expect(irq.level).toBe(true);
    expect(driver.readIsr()).toBe(Isr.QUEUE);
    expect(irq.level).toBe(false);
    expect(blk.counters.reads).toBe(1);
    expect(blk.counters.bytesRead).toBe(4096);
  });

  it('OUT writes guest data to the disk; a read returns it', () => {
    const { io, pc, disk } = blkMachine(kind);
    const w = io.write(100, 1024, 0x5a);
    expect(w.status).toBe(BlkStatus.OK);
    expect(w.used?.len).toBe(1);
    expect(disk.data.subarray(100 * 512, 100 * 512 + 1024).every((b) => b === 0x5a)).toBe(true);
    expect(disk.data[100 * 512 - 1]).not.toBe(0x5a);
    const r = io.read(100, 512);
    expect(pc.memory.u8.subarray(r.dataAt, r.dataAt + 512).every((b) => b === 0x5a)).toBe(true);
  });

  it('data split over several descriptors and in an indirect table', () => {
    const { io, pc, disk, queue } = blkMachine(kind, { features: [TransportFeature.INDIRECT_DESC] });
    const r = io.read(3, 1024, { indirect: true });
    expect(r.status).toBe(BlkStatus.OK);
    expect(pc.memory.u8.subarray(r.dataAt, r.dataAt + 1024)).toEqual(disk.data.subarray(1536, 2560));
    // Header split 4+12, data in 3 pieces (100 + 400 + 12 bytes), status alone.
    const h = io.header(BlkRequestType.IN, 7);
    const a = pc.alloc(100), b = pc.alloc(400), c = pc.alloc(12), s = pc.alloc(1);
    const head = queue.post([
      { addr: h, len: 4 }, { addr: h + 4, len: 12 },
      { addr: a, len: 100, write: true }, { addr: b, len: 400, write: true }, { addr: c, len: 12, write: true }, { addr: s, len: 1, write: true },
    ]);
    queue.notify();
    expect(queue.takeUsed()).toEqual({ id: head, len: 513 });
    expect(pc.memory.readU8(s)).toBe(BlkStatus.OK);
    const got = new Uint8Array([...pc.memory.u8.subarray(a, a + 100), ...pc.memory.u8.subarray(b, b + 400), ...pc.memory.u8.subarray(c, c + 12)]);
    expect(got).toEqual(disk.data.subarray(7 * 512, 8 * 512));
  });

  it('FLUSH reaches the backend; GET_ID returns the serial, zero padded to 20 bytes', () => {
    const { io, pc, disk } = blkMachine(kind);
    const f = io.request(BlkRequestType.FLUSH, 0, undefined);
    expect(f.status).toBe(BlkStatus.OK);
    expect(disk.flushes).toBe(1);
    const g = io.request(BlkRequestType.GET_ID, 0, { len: 20, write: true, fill: 0xee });
    expect(g.status).toBe(BlkStatus.OK);
    expect(g.used?.len).toBe(21);
    const id = pc.memory.u8.subarray(g.dataAt, g.dataAt + 20);
    expect(Buffer.from(id.subarray(0, 9)).toString('ascii')).toBe('MEMDISK-1');
    expect(id.subarray(9).every((b) => b === 0)).toBe(true);
  });

  it('requests past the end, odd lengths and backend failures answer IOERR; unknown types UNSUPP', () => {
    const { io, disk, blk } = blkMachine(kind, { sectors: 64 });
    expect(io.read(63, 512).status).toBe(BlkStatus.OK);
    expect(io.read(63, 1024).status).toBe(BlkStatus.IOERR);
    expect(io.read(2 ** 40, 512).status).toBe(BlkStatus.IOERR);
    expect(io.write(64, 512, 1).status).toBe(BlkStatus.IOERR);
    expect(io.read(0, 100).status).toBe(BlkStatus.IOERR);
    disk.failNext = true;
    expect(io.read(0, 512).status).toBe(BlkStatus.IOERR);
    expect(io.request(77, 0, { len: 512, write: true }).status).toBe(BlkStatus.UNSUPP);
    expect(blk.counters.ioErrors).toBe(5);
    expect(blk.counters.unsupported).toBe(1);
    expect(io.read(1, 512).status).toBe(BlkStatus.OK); // the device keeps working
  });

  it('a read-only disk offers VIRTIO_BLK_F_RO, reads fine and answers writes with IOERR', () => {
    const { io, disk, transport, accepted } = blkMachine(kind, { readOnly: true, features: [BlkFeature.RO] });
    expect(transport.core.offered.has(BlkFeature.RO)).toBe(true);
    expect(accepted.has(BlkFeature.RO)).toBe(true);
    const before = disk.data.slice(0, 512);
    expect(io.write(0, 512, 0x11).status).toBe(BlkStatus.IOERR);
    expect(disk.data.subarray(0, 512)).toEqual(before);
    expect(io.read(0, 512).status).toBe(BlkStatus.OK);
  });

  it('wrong-direction buffers: a writable header is malformed; a readable status byte leaves no status to write', () => {
    const { pc, queue, io, transport, blk } = blkMachine(kind);
    const s = pc.alloc(1);
    const h1 = queue.post([{ addr: io.header(0, 0), len: 16, write: true }, { addr: s, len: 1, write: true }]);
    const data = pc.alloc(512);
    const h2 = queue.post([{ addr: io.header(1, 0), len: 16 }, { addr: data, len: 512 }, { addr: s, len: 1 }]);
    queue.notify();
    // h1: all writable, so the readable header is missing: IOERR in the status byte.
    expect(queue.takeUsed()).toEqual({ id: h1, len: 1 });
    expect(queue.takeUsed()).toEqual({ id: h2, len: 0 });
    expect(blk.counters.noStatusByte).toBe(1);
    expect(transport.core.status & DeviceStatus.DEVICE_NEEDS_RESET).toBe(0);
  });

  it('EVENT_IDX: completions before used_event raise no interrupt', () => {
    const { io, queue, driver } = blkMachine(kind, { features: [TransportFeature.EVENT_IDX] });
    queue.usedEvent = 1;
    io.read(0, 512);
    expect(driver.readIsr()).toBe(0);
    io.read(1, 512);
    expect(driver.readIsr()).toBe(Isr.QUEUE);
  });
});

describe('throughput', () => {
  it('sequential 64 KiB reads move at least 100 MB/s', () => {
    const { pc, queue, io } = blkMachine('legacy', { sectors: 32768 });
    const hdr = io.header(BlkRequestType.IN, 0);
    const data = pc.alloc(65536, 4096);
    const status = pc.alloc(1);
    const total = 256 << 20;
    const t0 = performance.now();
    for (let off = 0; off < total; off += 65536) {
      pc.memory.writeU64(hdr + 8, (off % (16 << 20)) / 512);
      queue.post([{ addr: hdr, len: 16 }, { addr: data, len: 65536, write: true }, { addr: status, len: 1, write: true }]);
      queue.notify();
      queue.takeUsed();
    }
    const mbps = total / 1e6 / ((performance.now() - t0) / 1000);
    expect(pc.memory.readU8(status)).toBe(0);
    console.log(`virtio-blk: sequential 64 KiB reads ${mbps.toFixed(0)} MB/s`);
    expect(mbps).toBeGreaterThan(100);
  });
});
