import { VirtioPciTransport, type VirtioTransportKind } from '@unimachine/virtio';
import { driverFor, TestPc, type Buf, type DriverQueue, type VirtioTestDriver } from '@unimachine/virtio/testing';
import { FeatureSet, TransportFeature } from '@unimachine/virtio';
import { BlkRequestType, VirtioBlk } from '../src/index.js';
import { MemoryDisk } from './memory-backend.js';

export const SLOT = 4;

/** A disk on a test PC with a driver of `kind` that has set DRIVER_OK. */
export function blkMachine(kind: 'legacy' | 'modern', options: { sectors?: number; readOnly?: boolean; features?: number[]; transport?: VirtioTransportKind } = {}) {
  const pc = new TestPc({ memorySize: 16 << 20 });
  const disk = new MemoryDisk((options.sectors ?? 2048) * 512, options.readOnly ?? false);
  for (let i = 0; i < disk.size; i++) disk.data[i] = (i * 7 + (i >> 9)) & 0xff;
  const blk = new VirtioBlk(disk);
  const transport = new VirtioPciTransport({ memory: pc.memory, model: blk, name: 'disk0', transport: options.transport });
  pc.attach(SLOT, transport.pci);
  const driver: VirtioTestDriver = driverFor(kind, pc, SLOT);
  const accepted = driver.start(FeatureSet.of(TransportFeature.VERSION_1, ...(options.features ?? [])));
  const queue = driver.setupQueue(0);
  driver.driverOk();
  return { pc, disk, blk, transport, driver, queue, accepted, irq: pc.irqLine(SLOT), io: new BlkIo(pc, queue) };
}

/** Builds requests in guest RAM the way a driver does: header, data, status. */
export class BlkIo {
  constructor(private readonly pc: TestPc, readonly queue: DriverQueue) {}

  header(type: number, sector: number): number {
    const h = this.pc.alloc(16);
    this.pc.memory.writeU32(h, type);
    this.pc.memory.writeU64(h + 8, sector);
    return h;
  }

  /** Post and notify one request; returns its status byte, used length, data address. */
  request(type: number, sector: number, data: { len: number; write: boolean; fill?: number } | undefined, options: { indirect?: boolean } = {}) {
    const status = this.pc.alloc(1);
    this.pc.memory.writeU8(status, 0xff);
    const bufs: Buf[] = [{ addr: this.header(type, sector), len: 16 }];
    let dataAt = 0;
    if (data) {
      dataAt = this.pc.alloc(data.len, 512);
      if (data.fill !== undefined) this.pc.memory.u8.fill(data.fill, dataAt, dataAt + data.len);
      bufs.push({ addr: dataAt, len: data.len, write: data.write });
    }
    bufs.push({ addr: status, len: 1, write: true });
    const head = this.queue.post(bufs, options.indirect ? { indirectTable: this.pc.alloc(16 * bufs.length) } : {});
    this.queue.notify();
    const used = this.queue.takeUsed();
    return { head, used, status: this.pc.memory.readU8(status), dataAt };
  }

  read(sector: number, len: number, options?: { indirect?: boolean }) {
    return this.request(BlkRequestType.IN, sector, { len, write: true }, options);
  }
  write(sector: number, len: number, fill: number) {
    return this.request(BlkRequestType.OUT, sector, { len, write: false, fill });
  }
}
