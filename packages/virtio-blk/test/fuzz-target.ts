import { FeatureSet, VirtioPciTransport } from '@unimachine/virtio';
import type { Buf, FuzzDevice, RefChain, Rng, TestPc } from '@unimachine/virtio/testing';
import { chainBytes } from '@unimachine/virtio/testing';
import { BlkRequestType, BlkStatus, VirtioBlk } from '../src/index.js';
import { MemoryDisk } from './memory-backend.js';

const SECTORS = 64;
const SERIAL = 'FUZZ-DISK';

/** virtio-blk under the virtqueue fuzzer: requests with plausible shapes, checked against a shadow disk. */
export function buildBlkFuzzTarget(pc: TestPc): { device: FuzzDevice; slot: number } {
  const disk = new MemoryDisk(SECTORS * 512, false, SERIAL);
  const shadow = new Uint8Array(disk.size);
  const blk = new VirtioBlk(disk);
  const transport = new VirtioPciTransport({ memory: pc.memory, model: blk, name: 'disk0' });
  pc.attach(4, transport.pci);
  const mem = pc.memory;

  const stream = (segs: Buf[], writable: boolean) => chainBytes(mem, segs, writable);

  const device: FuzzDevice = {
    transport,
    features: new FeatureSet(),
    queues: [0],
    drains: () => true,
    beginCase(rng: Rng) {
      if (rng.chance(0.3)) {
        const at = 512 * rng.int(SECTORS);
        rng.fill(disk.data.subarray(at, at + 512));
      }
      shadow.set(disk.data);
    },
    makeRequest(rng, _q, alloc) {
      const type = rng.pick([BlkRequestType.IN, BlkRequestType.IN, BlkRequestType.OUT, BlkRequestType.OUT, BlkRequestType.FLUSH, BlkRequestType.GET_ID, rng.int(20)]);
      const sector = rng.chance(0.9) ? rng.int(SECTORS + 4) : rng.u32() * (rng.chance(0.5) ? 0x10000 : 1);
      const h = alloc(16);
      mem.writeU32(h, type);
      mem.writeU32(h + 4, 0);
      mem.writeU64(h + 8, sector);
      const bufs: Buf[] = rng.chance(0.2) ? [{ addr: h, len: 5 }, { addr: h + 5, len: 11 }] : [{ addr: h, len: 16 }];
      const dataLen = type === BlkRequestType.FLUSH ? 0 : type === BlkRequestType.GET_ID ? 20 : rng.chance(0.9) ? 512 * (1 + rng.int(4)) : rng.int(3000);
      const write = type !== BlkRequestType.OUT;
      let left = dataLen;
      while (left > 0) {
        const n = rng.chance(0.7) ? left : 1 + rng.int(left);
        bufs.push({ addr: alloc(n), len: n, write });
        left -= n;
      }
      bufs.push({ addr: alloc(1), len: 1, write: true });
      return bufs;
    },
    exercise(queue) {
      queue.notify();
    },
    check(_q, chain: RefChain, usedLen) {
      const W = chain.writable;
      if (W === 0) return usedLen === 0 ? undefined : `no status byte, used length ${usedLen}`;
      const out = stream(chain.segs, true);
      const status = out[W - 1];
      const inBytes = stream(chain.segs, false);
      const expect = (st: number, len: number): string | undefined =>
        status !== st ? `status ${status}, expected ${st}` : usedLen !== len ? `used length ${usedLen}, expected ${len}` : undefined;
      if (inBytes.length < 16) return expect(BlkStatus.IOERR, 1);
      const v = new DataView(inBytes.buffer);
      const type = v.getUint32(0, true);
      const offset = (v.getUint32(8, true) + v.getUint32(12, true) * 2 ** 32) * 512;
      const bad = (len: number) => len % 512 !== 0 || offset + len > disk.size;
      switch (type) {
        case BlkRequestType.IN: {
          const len = W - 1;
          if (bad(len)) return expect(BlkStatus.IOERR, 1);
          const e = expect(BlkStatus.OK, W);
          if (e) return e;
          for (let i = 0; i < len; i++) if (out[i] !== shadow[offset + i]) return `read data differs at byte ${i}`;
          return undefined;
        }
        case BlkRequestType.OUT: {
          const len = inBytes.length - 16;
          if (bad(len)) return expect(BlkStatus.IOERR, 1);
          shadow.set(inBytes.subarray(16), offset);
          return expect(BlkStatus.OK, 1);
        }
        case BlkRequestType.FLUSH:
          return expect(BlkStatus.OK, 1);
        case BlkRequestType.GET_ID: {
          const n = Math.min(20, W - 1);
          for (let i = 0; i < n; i++) if (out[i] !== (SERIAL.charCodeAt(i) || 0)) return `GET_ID byte ${i} is ${out[i]}`;
          return expect(BlkStatus.OK, n + 1);
        }
        default:
          return expect(BlkStatus.UNSUPP, 1);
      }
    },
    endCase() {
      if (Buffer.from(disk.data.buffer).equals(Buffer.from(shadow.buffer))) return undefined;
      const i = disk.data.findIndex((b, k) => b !== shadow[k]);
      return `disk byte ${i} differs from what the requests wrote`;
    },
  };
  return { device, slot: 4 };
}
