import { SnapshotError, type GuestMemory, type StateReader } from '@unimachine/core';
import { DescriptorChain } from './chain.js';
import { AVAIL_F_NO_INTERRUPT, DESC_SIZE, DescFlags, MAX_INDIRECT_ENTRIES, MAX_QUEUE_SIZE, USED_ELEM_SIZE } from './constants.js';

/** Where a queue reports what the guest got wrong; the transport counts, traces and escalates. */
export interface QueueEvents {
  /** A chain's descriptors were unusable: the queue returns it with length 0 and goes on. */
  malformedChain(queue: number, head: number, reason: string): void;
  /** The ring itself is unusable (bad index, bad head, bad geometry): the device needs a reset. */
  ringError(queue: number, reason: string): void;
}

/** Bytes of each split-ring part for `size` entries (§2.7), including the event-index words. */
export const ringBytes = (size: number) => ({
  desc: DESC_SIZE * size,
  avail: 6 + 2 * size,
  used: 6 + USED_ELEM_SIZE * size,
});

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** What SplitVirtqueue.snapshot() saves. */
export interface VirtqueueState {
  size: number;
  descAddr: number;
  availAddr: number;
  usedAddr: number;
  ready: boolean;
  broken: boolean;
  eventIdx: boolean;
  indirect: boolean;
  lastAvail: number;
  usedIdx: number;
  signalledUsed: number;
}

/**
 * A split virtqueue (virtio 1.x §2.7, the 0.9.5 vring): the descriptor table, the driver's
 * available ring and the device's used ring in guest RAM. Everything read from the guest is
 * checked before use; what cannot be trusted is reported through QueueEvents, never thrown.
 */
export class SplitVirtqueue {
  /** Entries; the legacy transport fixes it at maxSize, a modern driver may lower it. */
  size: number;
  descAddr = 0;
  availAddr = 0;
  usedAddr = 0;
  /** Armed by enable(); DMA happens only on a ready queue. */
  ready = false;
  /** Set after a ring error: nothing more is read until the device is reset. */
  broken = false;
  /** Negotiated ring features, set by the transport before enable(). */
  eventIdx = false;
  indirect = false;
  private lastAvail = 0;
  private usedIdx = 0;
  private signalledUsed = 0;
  readonly chain: DescriptorChain;

  constructor(
    private readonly memory: GuestMemory,
    readonly index: number,
    readonly maxSize: number,
    private readonly events: QueueEvents,
  ) {
    if (!isPowerOfTwo(maxSize) || maxSize > MAX_QUEUE_SIZE) throw new RangeError(`virtqueue size ${maxSize} must be a power of two up to ${MAX_QUEUE_SIZE}`);
    this.size = maxSize;
    this.chain = new DescriptorChain(memory, maxSize + MAX_INDIRECT_ENTRIES);
  }

  /** Back to the state after device reset: not ready, default size, no addresses. */
  reset(): void {
    this.size = this.maxSize;
    this.descAddr = this.availAddr = this.usedAddr = 0;
    this.ready = this.broken = this.eventIdx = this.indirect = false;
    this.lastAvail = this.usedIdx = this.signalledUsed = 0;
  }

  /** Everything a running queue holds between notifications (the rings themselves are in guest RAM). */
  snapshot(): VirtqueueState {
    return {
      size: this.size, descAddr: this.descAddr, availAddr: this.availAddr, usedAddr: this.usedAddr, ready: this.ready,
      broken: this.broken, eventIdx: this.eventIdx, indirect: this.indirect, lastAvail: this.lastAvail, usedIdx: this.usedIdx,
      signalledUsed: this.signalledUsed,
    };
  }

  /** Read and check a saved queue (geometry within this queue's limits and RAM); apply it with restore(). */
  static readState(r: StateReader, maxSize: number, memory: GuestMemory, owner: string, index: number): VirtqueueState {
    const s: VirtqueueState = {
      size: r.int('size', 1, maxSize), descAddr: r.int('descAddr', 0), availAddr: r.int('availAddr', 0), usedAddr: r.int('usedAddr', 0),
      ready: r.bool('ready'), broken: r.bool('broken'), eventIdx: r.bool('eventIdx'), indirect: r.bool('indirect'),
      lastAvail: r.uint('lastAvail', 16), usedIdx: r.uint('usedIdx', 16), signalledUsed: r.uint('signalledUsed', 16),
    };
    if (s.ready) {
      const bytes = ringBytes(s.size);
      if (!isPowerOfTwo(s.size) || !memory.contains(s.descAddr, bytes.desc) || !memory.contains(s.availAddr, bytes.avail) || !memory.contains(s.usedAddr, bytes.used)) {
        throw new SnapshotError(owner, `queue ${index} is ready with rings outside this machine's RAM or a bad size (${s.size})`);
      }
    }
    return s;
  }

  restore(s: VirtqueueState): void {
    Object.assign(this, s);
  }

  /** Check the programmed geometry and arm the queue. A bad one is a ring error and leaves it off. */
  enable(): boolean {
    const { size } = this;
    const bytes = ringBytes(size);
    let problem: string | undefined;
    if (!isPowerOfTwo(size) || size > this.maxSize) problem = `queue size ${size} is not a power of two up to ${this.maxSize}`;
    else if (!this.memory.contains(this.descAddr, bytes.desc)) problem = `descriptor table 0x${this.descAddr.toString(16)} is outside RAM`;
    else if (!this.memory.contains(this.availAddr, bytes.avail)) problem = `available ring 0x${this.availAddr.toString(16)} is outside RAM`;
    else if (!this.memory.contains(this.usedAddr, bytes.used)) problem = `used ring 0x${this.usedAddr.toString(16)} is outside RAM`;
    if (problem) {
      this.ready = false;
      this.fail(problem);
      return false;
    }
    this.lastAvail = this.usedIdx = this.signalledUsed = 0;
    this.ready = true;
    return true;
  }

  /** Chains the driver made available that the device has not taken yet (0 when not ready). */
  get pending(): number {
    if (!this.ready || this.broken) return 0;
    return (this.memory.view.getUint16(this.availAddr + 2, true) - this.lastAvail) & 0xffff;
  }

  /**
   * The next well-formed chain, or undefined when the ring is empty (or broken). Malformed
   * chains met on the way are returned to the driver with length 0.
   */
  pop(): DescriptorChain | undefined {
    if (!this.ready || this.broken) return undefined;
    const view = this.memory.view;
    for (;;) {
      const availIdx = view.getUint16(this.availAddr + 2, true);
      const pending = (availIdx - this.lastAvail) & 0xffff;
      if (pending === 0) return undefined;
      if (pending > this.size) {
        this.fail(`available index moved by ${pending} (> queue size ${this.size})`);
        return undefined;
      }
      const head = view.getUint16(this.availAddr + 4 + 2 * (this.lastAvail & (this.size - 1)), true);
      this.lastAvail = (this.lastAvail + 1) & 0xffff;
      if (this.eventIdx) this.publishAvailEvent();
      if (head >= this.size) {
        this.fail(`available ring names descriptor ${head} (queue size ${this.size})`);
        return undefined;
      }
      const problem = this.walk(head);
      if (problem === undefined) return this.chain;
      this.events.malformedChain(this.index, head, problem);
      this.push(head, 0);
    }
  }

  /** Return chain `head` to the driver with `written` bytes written into its writable buffers. */
  push(head: number, written: number): void {
    if (!this.ready || this.broken) return;
    const view = this.memory.view;
    const slot = this.usedAddr + 4 + USED_ELEM_SIZE * (this.usedIdx & (this.size - 1));
    view.setUint32(slot, head, true);
    view.setUint32(slot + 4, written >>> 0, true);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    view.setUint16(this.usedAddr + 2, this.usedIdx, true);
    this.memory.markWritten(slot, USED_ELEM_SIZE);
    this.memory.markWritten(this.usedAddr + 2, 2);
  }

  /** Used entries pushed since the last needsInterrupt(). */
  get hasUnsignalled(): boolean {
    return this.usedIdx !== this.signalledUsed;
  }

  /**
   * Whether the chains pushed since the last call deserve an interrupt: used_event with
   * EVENT_IDX (§2.7.10), otherwise the driver's NO_INTERRUPT flag.
   */
  needsInterrupt(): boolean {
    const old = this.signalledUsed;
    const now = this.usedIdx;
    this.signalledUsed = now;
    if (old === now || !this.ready) return false;
    const view = this.memory.view;
    if (this.eventIdx) {
      const usedEvent = view.getUint16(this.availAddr + 4 + 2 * this.size, true);
      return ((now - usedEvent - 1) & 0xffff) < ((now - old) & 0xffff);
    }
    return (view.getUint16(this.availAddr, true) & AVAIL_F_NO_INTERRUPT) === 0;
  }

  /** With EVENT_IDX the device tells the driver which avail index should notify next. */
  private publishAvailEvent(): void {
    const at = this.usedAddr + 4 + USED_ELEM_SIZE * this.size;
    this.memory.view.setUint16(at, this.lastAvail, true);
    this.memory.markWritten(at, 2);
  }

  private fail(reason: string): void {
    this.broken = true;
    this.events.ringError(this.index, reason);
  }

  /** Follow the chain from `head` into this.chain; returns why it is malformed, or undefined. */
  private walk(head: number): string | undefined {
    const view = this.memory.view;
    const memory = this.memory;
    const chain = this.chain;
    chain.begin(head);
    let table = this.descAddr;
    let tableSize = this.size;
    let i = head;
    let steps = 0;
    let inIndirect = false;
    for (;;) {
      if (steps++ >= tableSize) return inIndirect ? 'indirect chain loops or is longer than its table' : 'chain loops or is longer than the queue';
      const d = table + DESC_SIZE * i;
      const addr = view.getUint32(d + 4, true) * 0x1_0000_0000 + view.getUint32(d, true);
      const len = view.getUint32(d + 8, true);
      const flags = view.getUint16(d + 12, true);
      if (flags & DescFlags.INDIRECT) {
        if (inIndirect) return 'indirect descriptor inside an indirect table';
        if (!this.indirect) return 'indirect descriptor without VIRTIO_F_INDIRECT_DESC';
        if (flags & DescFlags.NEXT) return 'indirect descriptor with NEXT set';
        if (len === 0 || len % DESC_SIZE !== 0 || len / DESC_SIZE > MAX_INDIRECT_ENTRIES) return `indirect table length ${len}`;
        if (!memory.contains(addr, len)) return `indirect table 0x${addr.toString(16)}+${len} outside RAM`;
        table = addr;
        tableSize = len / DESC_SIZE;
        i = 0;
        steps = 0;
        inIndirect = true;
        continue;
      }
      if (!memory.contains(addr, len)) return `buffer 0x${addr.toString(16)}+${len} outside RAM`;
      if (!chain.push(addr, len, (flags & DescFlags.WRITE) !== 0)) return 'device-readable buffer after a device-writable one';
      if (!(flags & DescFlags.NEXT)) return undefined;
      i = view.getUint16(d + 14, true);
      if (i >= tableSize) return `next index ${i} outside the table of ${tableSize}`;
    }
  }
}
