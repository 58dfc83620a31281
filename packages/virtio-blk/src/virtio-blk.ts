import { BlockIoError, type BlockBackend } from '@unimachine/core';
import { VirtioDeviceType, type DescriptorChain, type VirtioDeviceHost, type VirtioDeviceModel } from '@unimachine/virtio';
import {
  ADVERTISED_SIZE_MAX, BlkConfig, BlkFeature, BlkRequestType, BlkStatus, DEFAULT_QUEUE_SIZE, ID_BYTES,
  REQUEST_HEADER_SIZE, SECTOR_SIZE,
} from './constants.js';

export interface BlkCounters {
  reads: number;
  writes: number;
  flushes: number;
  getIds: number;
  bytesRead: number;
  bytesWritten: number;
  /** Requests answered with IOERR (past the end, read-only disk, odd length, backend error). */
  ioErrors: number;
  /** Unknown request types (UNSUPP). */
  unsupported: number;
  /** Chains with no writable status byte: returned with length 0, no status possible. */
  noStatusByte: number;
}

export interface VirtioBlkOptions {
  /** Overrides backend.serial for GET_ID (at most 20 bytes). */
  serial?: string;
  /** Queue entries (power of two up to 1024); default 256. */
  queueSize?: number;
}

/**
 * The virtio-blk device: one request queue; each chain is a 16-byte header (readable), data,
 * and a status byte (the last writable byte). Data moves straight between the backend and guest
 * RAM (no staging copy). The backend is any BlockBackend: the device never knows its kind.
 */
export class VirtioBlk implements VirtioDeviceModel {
  readonly deviceType = VirtioDeviceType.BLOCK;
  readonly queueCount = 1;
  readonly maxQueueSize: number;
  readonly deviceFeatures: number;
  readonly config = new Uint8Array(BlkConfig.SIZE);
  readonly counters: BlkCounters = {
    reads: 0, writes: 0, flushes: 0, getIds: 0, bytesRead: 0, bytesWritten: 0, ioErrors: 0, unsupported: 0, noStatusByte: 0,
  };
  private host!: VirtioDeviceHost;
  private readonly id = new Uint8Array(ID_BYTES);
  private readonly header = new Uint8Array(REQUEST_HEADER_SIZE);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly handle = (chain: DescriptorChain) => this.request(chain);

  constructor(readonly backend: BlockBackend, options: VirtioBlkOptions = {}) {
    this.maxQueueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
    this.deviceFeatures =
      (1 << BlkFeature.SIZE_MAX) | (1 << BlkFeature.SEG_MAX) | (1 << BlkFeature.BLK_SIZE) | (1 << BlkFeature.FLUSH) |
      (backend.readOnly ? 1 << BlkFeature.RO : 0);
    const serial = options.serial ?? backend.serial ?? '';
    for (let i = 0; i < Math.min(serial.length, ID_BYTES); i++) this.id[i] = serial.charCodeAt(i) & 0x7f;
    const c = new DataView(this.config.buffer);
    const sectors = Math.floor(backend.size / SECTOR_SIZE);
    c.setUint32(BlkConfig.CAPACITY, sectors >>> 0, true);
    c.setUint32(BlkConfig.CAPACITY + 4, Math.floor(sectors / 0x1_0000_0000), true);
    c.setUint32(BlkConfig.SIZE_MAX, ADVERTISED_SIZE_MAX, true);
    c.setUint32(BlkConfig.SEG_MAX, this.maxQueueSize - 2, true); // room for header and status, as QEMU does
    c.setUint32(BlkConfig.BLK_SIZE, SECTOR_SIZE, true);
    c.setUint16(BlkConfig.MIN_IO_SIZE, 1, true);
    c.setUint16(BlkConfig.NUM_QUEUES, 1, true);
  }

  attach(host: VirtioDeviceHost): void {
    this.host = host;
  }

  onNotify(index: number): void {
    if (index === 0) this.host.drain(0, this.handle);
  }

  reset(): void {}

  /** One request; returns the bytes written into the chain's writable buffers. */
  private request(chain: DescriptorChain): number {
    const writable = chain.writableBytes;
    if (writable < 1) {
      this.counters.noStatusByte++;
      this.trace(`chain ${chain.head} has no writable status byte`);
      return 0;
    }
    const statusAt = writable - 1;
    if (chain.read(0, this.header) < REQUEST_HEADER_SIZE) return this.fail(chain, statusAt, 'header shorter than 16 readable bytes');
    const h = this.headerView;
    const type = h.getUint32(0, true);
    const sector = h.getUint32(8, true) + h.getUint32(12, true) * 0x1_0000_0000;
    switch (type) {
      case BlkRequestType.IN:
        return this.read(chain, sector, statusAt);
      case BlkRequestType.OUT:
        return this.write(chain, sector, statusAt);
      case BlkRequestType.FLUSH:
        try {
          this.backend.flush();
        } catch (e) {
          return this.fail(chain, statusAt, `flush failed: ${message(e)}`);
        }
        this.counters.flushes++;
        return this.finish(chain, statusAt, BlkStatus.OK, 1);
      case BlkRequestType.GET_ID: {
        const n = Math.min(ID_BYTES, statusAt);
        chain.write(0, this.id.subarray(0, n));
        this.counters.getIds++;
        return this.finish(chain, statusAt, BlkStatus.OK, n + 1);
      }
      default:
        this.counters.unsupported++;
        this.trace(`request type ${type} unsupported`);
        return this.finish(chain, statusAt, BlkStatus.UNSUPP, 1);
    }
  }

  private read(chain: DescriptorChain, sector: number, statusAt: number): number {
    const length = statusAt;
    const offset = sector * SECTOR_SIZE;
    const problem = this.rangeProblem(offset, length);
    if (problem) return this.fail(chain, statusAt, `read: ${problem}`);
    try {
      for (let done = 0; done < length; ) {
        const span = chain.writableSpan(done, length - done);
        this.backend.read(offset + done, span);
        chain.wrote(span);
        done += span.length;
      }
    } catch (e) {
      this.fail(chain, statusAt, `read failed: ${message(e)}`);
      return statusAt + 1; // some data may already be in guest RAM
    }
    this.counters.reads++;
    this.counters.bytesRead += length;
    return this.finish(chain, statusAt, BlkStatus.OK, statusAt + 1);
  }

  private write(chain: DescriptorChain, sector: number, statusAt: number): number {
    const length = chain.readableBytes - REQUEST_HEADER_SIZE;
    const offset = sector * SECTOR_SIZE;
    if (this.backend.readOnly) return this.fail(chain, statusAt, 'write to a read-only disk');
    const problem = this.rangeProblem(offset, length);
    if (problem) return this.fail(chain, statusAt, `write: ${problem}`);
    try {
      for (let done = 0; done < length; ) {
        const span = chain.readableSpan(REQUEST_HEADER_SIZE + done, length - done);
        this.backend.write(offset + done, span);
        done += span.length;
      }
    } catch (e) {
      return this.fail(chain, statusAt, `write failed: ${message(e)}`);
    }
    this.counters.writes++;
    this.counters.bytesWritten += length;
    return this.finish(chain, statusAt, BlkStatus.OK, 1);
  }

  private rangeProblem(offset: number, length: number): string | undefined {
    if (length % SECTOR_SIZE !== 0) return `length ${length} is not a multiple of ${SECTOR_SIZE}`;
    if (offset + length > this.backend.size) return `sectors ${offset / SECTOR_SIZE}+${length / SECTOR_SIZE} past the end (${this.backend.size / SECTOR_SIZE})`;
    return undefined;
  }

  private fail(chain: DescriptorChain, statusAt: number, why: string): number {
    this.counters.ioErrors++;
    this.trace(`chain ${chain.head}: IOERR: ${why}`);
    return this.finish(chain, statusAt, BlkStatus.IOERR, 1);
  }

  private finish(chain: DescriptorChain, statusAt: number, status: number, written: number): number {
    chain.writeByte(statusAt, status);
    return written;
  }

  private trace(line: string): void {
    const t = this.host.trace;
    if (t.on('virtio')) t.log('virtio', `${this.host.name}: blk ${line}`);
  }
}

function message(e: unknown): string {
  return e instanceof BlockIoError || e instanceof Error ? e.message : String(e);
}
