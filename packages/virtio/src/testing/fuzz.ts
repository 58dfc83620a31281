import { DescFlags, DeviceStatus, Isr, MAX_INDIRECT_ENTRIES, TransportFeature } from '../constants.js';
import { FeatureSet } from '../features.js';
import type { VirtioPciTransport } from '../pci-transport.js';
import { LegacyTestDriver, ModernTestDriver, type Buf, type DriverQueue, type VirtioTestDriver } from './drivers.js';
import { caseSeed, Rng } from './rng.js';
import { TestPc } from './test-pc.js';

/** A chain as the reference walker (written apart from the device's) sees it. */
export interface RefChain {
  head: number;
  segs: Buf[];
  readable: number;
  writable: number;
}

/** What a device package gives the fuzz engine. */
export interface FuzzDevice {
  transport: VirtioPciTransport;
  /** Device feature bits the driver may ask for (the engine adds ring features at random). */
  features: FeatureSet;
  /** Queues worth fuzzing. */
  queues: number[];
  /** Called after the driver set DRIVER_OK, before chains are made. */
  beginCase(rng: Rng, queue: number): void;
  /** A plausible request's buffers (the engine then mutates some). `alloc` hands out disjoint guest RAM. */
  makeRequest(rng: Rng, queue: number, alloc: (len: number) => number): Buf[];
  /** True when one notify makes the device take every available chain (request queues; not net RX). */
  drains(queue: number): boolean;
  /** Make the device take the `chains` offered on `queue` (notify, or deliver frames). */
  exercise(queue: DriverQueue, chains: number): void;
  /** Check the n-th well-formed chain the device completed on this case; an error text or undefined. */
  check(queue: number, chain: RefChain, usedLen: number, ordinal: number): string | undefined;
  /** After every chain is checked: a final consistency check (e.g. the disk image). */
  endCase?(): string | undefined;
}

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Build the device on the PC (attach it in a slot) and say which slot. */
  build(pc: TestPc): { device: FuzzDevice; slot: number };
  /** Stop after this many failures (default 1). */
  maxFailures?: number;
  /** Start at this case number (reproducing one case: `first: N, cases: N + 1`). */
  first?: number;
}

export interface FuzzFailure {
  seed: number;
  caseIndex: number;
  description: string;
  problem: string;
}

export interface FuzzResult {
  cases: number;
  failures: FuzzFailure[];
  /** What the cases exercised. */
  stats: { wellFormed: number; malformed: number; ringErrors: number; chaos: number; completed: number };
}

// Guest RAM: smaller than the wasm buffer, so the bytes after it are a guard the device must never touch.
const RAM = 0x2f000;
const GUARD = 0x1000;
const RING_AT = 0x10000;
const TABLES_AT = 0x14000;
const DATA_AT = 0x18000;
const DATA_END = RAM - 0x1000;
const GUARD_BYTE = 0xa5;

/**
 * Random split-ring contents against a device: descriptor tables, indexes, lengths, indirect
 * tables, flags and addresses, mostly plausible requests with mutations and sometimes pure chaos.
 * Checks that nothing throws, no write lands outside guest RAM, ring-level nonsense sets
 * DEVICE_NEEDS_RESET, malformed chains come back with length 0, and well-formed ones complete as
 * the device's own check says they must.
 */
export function runVirtqueueFuzz(options: FuzzOptions): FuzzResult {
  const pc = new TestPc({ memorySize: RAM, allocateFrom: DATA_AT });
  const { device, slot } = options.build(pc);
  const guard = Buffer.from(pc.memory.buffer, RAM, GUARD);
  const pristine = Buffer.alloc(GUARD, GUARD_BYTE);
  guard.fill(GUARD_BYTE);
  let badWrite: string | undefined;
  pc.memory.observeWrites((a, n) => {
    if (!(a >= 0 && n >= 0 && a + n <= RAM)) badWrite ??= `markWritten(0x${a.toString(16)}, ${n}) outside RAM`;
  });
  const drivers: VirtioTestDriver[] = [new LegacyTestDriver(pc, slot), new ModernTestDriver(pc, slot)];
  const result: FuzzResult = { cases: 0, failures: [], stats: { wellFormed: 0, malformed: 0, ringErrors: 0, chaos: 0, completed: 0 } };
  const maxFailures = options.maxFailures ?? 1;

  for (let i = options.first ?? 0; i < options.cases && result.failures.length < maxFailures; i++) {
    const rng = new Rng(caseSeed(options.seed, i));
    const c = new FuzzCase(pc, device, rng, drivers, result.stats);
    let problem: string | undefined;
    try {
      problem = c.run();
    } catch (e) {
      problem = `exception escaped: ${(e as Error)?.stack ?? e}`;
    }
    if (!problem && badWrite) problem = badWrite;
    if (!problem && !guard.equals(pristine)) problem = 'a byte past guest RAM changed';
    if (problem) {
      result.failures.push({ seed: options.seed, caseIndex: i, description: c.description, problem });
      badWrite = undefined;
      guard.fill(GUARD_BYTE);
    }
    result.cases++;
  }
  return result;
}

class FuzzCase {
  description = '';
  private dataNext = DATA_AT;
  private tableNext = TABLES_AT;
  private readonly memory;

  constructor(
    private readonly pc: TestPc,
    private readonly device: FuzzDevice,
    private readonly rng: Rng,
    private readonly drivers: VirtioTestDriver[],
    private readonly stats: FuzzResult['stats'],
  ) {
    this.memory = pc.memory;
  }

  run(): string | undefined {
    const { rng, device } = this;
    const driver = rng.pick(this.drivers);
    const features = new FeatureSet(device.features.lo, driver.kind === 'modern' ? 1 : 0);
    if (rng.chance(0.6)) features.lo |= 1 << TransportFeature.INDIRECT_DESC;
    if (rng.chance(0.5)) features.lo |= 1 << TransportFeature.EVENT_IDX;
    const accepted = driver.start(features);
    const indirect = accepted.has(TransportFeature.INDIRECT_DESC);
    const eventIdx = accepted.has(TransportFeature.EVENT_IDX);
    const qi = rng.pick(device.queues);
    let size: number | undefined;
    if (driver.kind === 'modern') size = rng.chance(0.03) ? 1 + rng.int(300) : 1 << rng.int(9);
    this.memory.u8.fill(0, RING_AT, DATA_AT);
    const q = driver.setupQueue(qi, size, RING_AT);
    driver.driverOk();
    device.beginCase(rng, qi);
    const chaos = rng.chance(0.15);
    this.description = `${driver.kind} queue ${qi} size ${q.size} indirect=${indirect} eventIdx=${eventIdx} chaos=${chaos}`;
    driver.readIsr();
    if (driver.status & DeviceStatus.DEVICE_NEEDS_RESET) {
      // Only a bad queue size may refuse the queue here.
      if ((q.size & (q.size - 1)) === 0 && q.size <= 256) return 'queue setup failed for a valid size';
      this.stats.ringErrors++;
      return undefined;
    }
    if ((q.size & (q.size - 1)) !== 0) return 'a queue size that is not a power of two was accepted';

    // Chains, never more descriptors than the table holds (so chains cannot share buffers).
    const count = 1 + rng.int(Math.min(q.size, 8));
    const heads: number[] = [];
    let nextDesc = rng.int(q.size);
    let budget = q.size;
    for (let c = 0; c < count; c++) {
      const bufs = chaos ? this.chaosBufs() : device.makeRequest(rng, qi, (len) => this.data(len));
      if (!chaos) this.mutate(bufs);
      if (bufs.length === 0) bufs.push({ addr: this.data(16), len: 16 });
      const useIndirect = rng.chance(indirect ? 0.4 : 0.03);
      const needed = useIndirect ? 1 : bufs.length;
      if (needed > budget) break;
      budget -= needed;
      if (useIndirect) {
        const table = this.table(bufs.length);
        bufs.forEach((b, i) => q.writeDesc(table, i, b.addr, b.len, flags(b, i < bufs.length - 1), i + 1));
        if (rng.chance(0.05)) q.writeDesc(table, rng.int(bufs.length), table, 16, DescFlags.INDIRECT, 0); // nested
        if (rng.chance(0.03)) q.writeDesc(table, bufs.length - 1, bufs[0].addr, bufs[0].len, DescFlags.NEXT, rng.int(bufs.length)); // loop
        const tableLen = rng.chance(0.04) ? rng.int(200) : 16 * bufs.length;
        q.writeDesc(q.desc, nextDesc, table, tableLen, DescFlags.INDIRECT | (rng.chance(0.03) ? DescFlags.NEXT : 0), nextDesc);
        heads.push(nextDesc);
        nextDesc = (nextDesc + 1) % q.size;
      } else {
        const first = nextDesc;
        bufs.forEach((b, i) => {
          const id = (first + i) % q.size;
          let next = (first + i + 1) % q.size;
          if (rng.chance(0.01)) next = rng.chance(0.5) ? first : q.size + rng.int(0x10000 - q.size); // loop, or out of range
          q.writeDesc(q.desc, id, b.addr, b.len, flags(b, i < bufs.length - 1), next);
        });
        heads.push(first);
        nextDesc = (first + bufs.length) % q.size;
      }
    }
    // The avail ring, sometimes with nonsense.
    for (let c = 0; c < heads.length; c++) {
      const head = rng.chance(0.01) ? q.size + rng.int(0x10000 - q.size) : heads[c];
      heads[c] = head;
      q.publish(head);
    }
    // A random avail index may make the device read stale slots (shared buffers): only ring-level checks then.
    let weak = chaos;
    if (rng.chance(0.02)) {
      q.setAvailIdx(rng.int(0x10000));
      weak = true;
    }
    if (eventIdx) q.usedEvent = rng.int(4);
    else q.noInterrupt = rng.chance(0.2);
    const availIdx = this.memory.readU16(q.avail + 2);
    const noInterrupt = this.memory.readU16(q.avail) & 1;
    const usedEvent = this.memory.readU16(q.avail + 4 + 2 * q.size);
    const slots: number[] = [];
    for (let c = 0; c < Math.min(availIdx, q.size); c++) slots.push(this.memory.readU16(q.avail + 4 + 2 * c));
    const refs = slots.map((h) => (h < q.size ? walk(this.memory, q.desc, q.size, h, indirect) : undefined));

    device.exercise(q, heads.length);
    const status = driver.status;
    const isr = driver.readIsr();
    const usedIdx = q.usedIdx;
    if (chaos) {
      this.stats.chaos++;
      return undefined; // anything the device did is fine as long as it stayed inside RAM and threw nothing
    }
    if (device.drains(qi) && availIdx <= q.size) {
      const expected = slots.findIndex((h) => h >= q.size);
      const want = expected >= 0 ? expected : availIdx;
      if (usedIdx !== want) return `device completed ${usedIdx} chains, expected ${want}`;
    }

    // What the ring says must happen.
    const firstBadHead = slots.findIndex((h) => h >= q.size);
    if (availIdx > q.size) {
      this.stats.ringErrors++;
      if (!(status & DeviceStatus.DEVICE_NEEDS_RESET)) return `avail idx ${availIdx} > size ${q.size} without DEVICE_NEEDS_RESET`;
      if (!(isr & Isr.CONFIG)) return 'DEVICE_NEEDS_RESET without a config interrupt';
      if (usedIdx !== 0) return 'chains completed from a ring with a bad avail idx';
      return undefined;
    }
    let ordinal = 0;
    for (let u = 0; u < usedIdx; u++) {
      const e = q.used + 4 + 8 * u;
      const id = this.memory.readU32(e);
      const len = this.memory.readU32(e + 4);
      if (id !== slots[u]) return `used[${u}].id = ${id}, expected head ${slots[u]}`;
      if (firstBadHead >= 0 && u >= firstBadHead) return `completed past the bad head at slot ${firstBadHead}`;
      if (weak) continue;
      const ref = refs[u];
      if (typeof ref === 'string') {
        this.stats.malformed++;
        if (len !== 0) return `malformed chain ${id} (${ref}) completed with length ${len}`;
        continue;
      }
      this.stats.wellFormed++;
      const problem = this.device.check(qi, ref!, len, ordinal++);
      if (problem) return `chain ${id}: ${problem}`;
      this.stats.completed++;
    }
    if (firstBadHead >= 0) {
      if (!(status & DeviceStatus.DEVICE_NEEDS_RESET)) return `head ${slots[firstBadHead]} >= size without DEVICE_NEEDS_RESET`;
      this.stats.ringErrors++;
    } else if (status & DeviceStatus.DEVICE_NEEDS_RESET) return 'DEVICE_NEEDS_RESET on a sane ring';
    const problem = weak ? undefined : this.device.endCase?.();
    if (problem) return problem;
    // Interrupt suppression: same rule the driver relies on.
    if (firstBadHead < 0) {
      const want = usedIdx > 0 && (eventIdx ? ((usedIdx - usedEvent - 1) & 0xffff) < usedIdx : !noInterrupt);
      if (want !== ((isr & Isr.QUEUE) !== 0)) return `queue interrupt ${!want ? 'raised' : 'missing'} (eventIdx=${eventIdx}, used_event=${usedEvent}, used=${usedIdx})`;
    }
    return undefined;
  }

  private data(len: number): number {
    const at = (this.dataNext + 7) & ~7;
    if (at + len > DATA_END) return RAM + at; // out of room: an address past RAM (the chain is malformed)
    this.dataNext = at + len;
    this.rng.fill(this.memory.u8.subarray(at, at + len));
    return at;
  }

  private table(entries: number): number {
    const at = this.tableNext;
    this.tableNext += Math.max(16 * entries, 16) + 16;
    if (this.tableNext > DATA_AT) this.tableNext = TABLES_AT;
    return at;
  }

  /** Occasional damage to a plausible request. */
  private mutate(bufs: Buf[]): void {
    const rng = this.rng;
    if (bufs.length === 0 || !rng.chance(0.3)) return;
    const b = rng.pick(bufs);
    switch (rng.int(7)) {
      case 0: b.write = !b.write; break;
      case 1: b.addr = RAM - rng.int(64); b.len = 64 + rng.int(64); break; // runs past the end of RAM
      case 2: b.addr = rng.chance(0.5) ? 0x1_0000_0000 * (1 + rng.int(1000)) : 0xffffffff; break;
      case 3: b.len = rng.chance(0.5) ? 0xffffffff : RAM + rng.int(RAM); break;
      case 4: b.len = 0; break;
      case 5: bufs.splice(rng.int(bufs.length), 1); break;
      case 6: {
        const len = 1 + rng.int(64);
        bufs.push({ addr: this.data(len), len, write: rng.chance(0.5) });
        break;
      }
    }
  }

  private chaosBufs(): Buf[] {
    const rng = this.rng;
    const n = rng.int(6);
    const bufs: Buf[] = [];
    for (let i = 0; i < n; i++) {
      bufs.push({ addr: rng.chance(0.9) ? rng.int(RAM) : rng.u32() * 0x10, len: rng.chance(0.9) ? rng.int(2048) : rng.u32(), write: rng.chance(0.5) });
    }
    return bufs;
  }
}

function flags(b: Buf, more: boolean): number {
  return (b.write ? DescFlags.WRITE : 0) | (more ? DescFlags.NEXT : 0);
}

/**
 * The reference reading of a chain (virtio 1.x §2.7.5): written separately from the device's
 * walker, so the two can disagree. Returns the chain or why it is malformed.
 */
export function walk(
  memory: { size: number; readU16(a: number): number; readU32(a: number): number },
  descAddr: number,
  size: number,
  head: number,
  indirectAllowed: boolean,
): RefChain | string {
  const segs: Buf[] = [];
  let readable = 0;
  let writable = 0;
  let sawWritable = false;
  const visit = (table: number, entries: number, start: number, nested: boolean): string | undefined => {
    let i = start;
    for (let steps = 0; ; steps++) {
      if (steps >= entries) return 'loop';
      const d = table + 16 * i;
      const addr = memory.readU32(d) + memory.readU32(d + 4) * 0x1_0000_0000;
      const len = memory.readU32(d + 8);
      const fl = memory.readU16(d + 12);
      const next = memory.readU16(d + 14);
      if (fl & DescFlags.INDIRECT) {
        if (nested || !indirectAllowed || fl & DescFlags.NEXT) return 'bad indirect';
        if (len === 0 || len % 16 || len / 16 > MAX_INDIRECT_ENTRIES || addr + len > memory.size) return 'bad indirect table';
        return visit(addr, len / 16, 0, true);
      }
      if (addr + len > memory.size) return 'outside RAM';
      const w = (fl & DescFlags.WRITE) !== 0;
      if (!w && sawWritable) return 'readable after writable';
      sawWritable ||= w;
      segs.push({ addr, len, write: w });
      if (w) writable += len;
      else readable += len;
      if (!(fl & DescFlags.NEXT)) return undefined;
      if (next >= entries) return 'next out of range';
      i = next;
    }
  };
  const problem = visit(descAddr, size, head, false);
  return problem ?? { head, segs, readable, writable };
}
