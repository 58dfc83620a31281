import { FeatureSet, VirtioPciTransport } from '@unimachine/virtio';
import type { Buf, FuzzDevice, RefChain, TestPc } from '@unimachine/virtio/testing';
import { chainBytes } from '@unimachine/virtio/testing';
import { RX_QUEUE, TX_QUEUE, VirtioNet } from '../src/index.js';
import { FakeNet } from './fake-backend.js';

/** virtio-net under the virtqueue fuzzer: TX chains must reach the backend intact, RX frames land in posted buffers. */
export function buildNetFuzzTarget(pc: TestPc): { device: FuzzDevice; slot: number } {
  const backend = new FakeNet();
  const net = new VirtioNet(backend, { mac: Uint8Array.of(0x52, 0x54, 0, 1, 2, 3) });
  const transport = new VirtioPciTransport({ memory: pc.memory, model: net, name: 'net0' });
  pc.attach(3, transport.pci);
  const mem = pc.memory;
  let frames: Uint8Array[] = [];
  let rng: import('@unimachine/virtio/testing').Rng;

  const stream = (segs: Buf[], writable: boolean) => chainBytes(mem, segs, writable);
  const hdr = () => net.headerSize;
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
  const sentBefore = { n: 0 };

  const device: FuzzDevice = {
    transport,
    features: new FeatureSet(),
    queues: [RX_QUEUE, TX_QUEUE],
    drains: (q) => q === TX_QUEUE,
    beginCase(r) {
      rng = r;
      backend.sent = [];
      sentBefore.n = 0;
      frames = [];
    },
    makeRequest(r, q, alloc) {
      if (q === TX_QUEUE) {
        const len = r.chance(0.9) ? 14 + r.int(1500) : r.int(20);
        const total = hdr() + len;
        if (r.chance(0.5)) return [{ addr: alloc(total), len: total }];
        const h = alloc(hdr());
        return [{ addr: h, len: hdr() }, { addr: alloc(len), len }];
      }
      const size = r.chance(0.8) ? 1526 : r.int(200);
      return r.chance(0.7) ? [{ addr: alloc(size), len: size, write: true }] : [{ addr: alloc(hdr()), len: hdr(), write: true }, { addr: alloc(size), len: size, write: true }];
    },
    exercise(queue, chains) {
      if (queue.index === TX_QUEUE) return queue.notify();
      for (let i = 0; i <= chains; i++) {
        const f = new Uint8Array(14 + rng.int(1500));
        rng.fill(f);
        frames.push(f);
        net.receive(f);
      }
    },
    check(q, chain: RefChain, usedLen, ordinal) {
      if (q === TX_QUEUE) {
        if (usedLen !== 0) return `TX used length ${usedLen}`;
        const ok = chain.writable === 0 && !chain.segs.some((s) => s.write) && chain.readable > hdr() && chain.readable - hdr() <= 65535;
        if (!ok) return undefined; // not sent; counted as a TX error
        const frame = backend.sent[sentBefore.n++];
        if (!frame) return 'a well-formed TX chain was not sent';
        return same(frame, stream(chain.segs, false).subarray(hdr())) ? undefined : 'TX frame differs from the chain';
      }
      const frame = frames[ordinal];
      const need = hdr() + frame.length;
      if (chain.segs.some((s) => !s.write) || chain.writable < need) return usedLen === 0 ? undefined : `bad RX buffer got length ${usedLen}`;
      if (usedLen !== need) return `RX used length ${usedLen}, expected ${need}`;
      const got = stream(chain.segs, true);
      const header = got.subarray(0, hdr());
      if (header.some((b, i) => b !== (i === 10 ? 1 : 0))) return `RX header ${Array.from(header)}`;
      return same(got.subarray(hdr(), need), frame) ? undefined : 'RX frame bytes differ';
    },
    endCase() {
      return sentBefore.n === backend.sent.length ? undefined : `${backend.sent.length - sentBefore.n} frames sent from chains not checked`;
    },
  };
  return { device, slot: 3 };
}
