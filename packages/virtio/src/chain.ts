import type { GuestMemory } from '@unimachine/core';

const EMPTY = new Uint8Array(0);

/**
 * One descriptor chain as the device sees it: device-readable segments first, then
 * device-writable ones (the queue rejects any other order), every segment already checked to
 * lie inside guest RAM. The readable segments form one byte stream and the writable segments
 * another; devices address both by stream offset and never see descriptors.
 *
 * A queue reuses one chain object: it is valid until the next pop() on the same queue.
 */
export class DescriptorChain {
  /** Head descriptor index: what goes back in the used ring. */
  head = 0;
  /** Number of segments. */
  count = 0;
  /** Index of the first writable segment (== count when there is none). */
  firstWritable = 0;
  readableBytes = 0;
  writableBytes = 0;
  /** Guest-physical address and length of each segment. */
  readonly addr: Float64Array;
  readonly len: Uint32Array;

  constructor(private readonly memory: GuestMemory, readonly capacity: number) {
    this.addr = new Float64Array(capacity);
    this.len = new Uint32Array(capacity);
  }

  /** Used by the queue while walking descriptors. */
  begin(head: number): void {
    this.head = head;
    this.count = this.firstWritable = this.readableBytes = this.writableBytes = 0;
  }

  /** Append a segment; returns false if it would put a readable segment after a writable one or overflow. */
  push(address: number, length: number, writable: boolean): boolean {
    if (this.count >= this.capacity) return false;
    if (!writable && this.count !== this.firstWritable) return false;
    const i = this.count++;
    this.addr[i] = address;
    this.len[i] = length;
    if (writable) this.writableBytes += length;
    else {
      this.readableBytes += length;
      this.firstWritable = this.count;
    }
    return true;
  }

  /** The longest run of readable bytes at stream `offset` inside one segment, at most `max` bytes (empty past the end). */
  readableSpan(offset: number, max: number): Uint8Array {
    return this.span(0, this.firstWritable, offset, max);
  }

  /**
   * The longest run of writable bytes at stream `offset` inside one segment. The device writes
   * straight into guest RAM through it and then calls wrote(view).
   */
  writableSpan(offset: number, max: number): Uint8Array {
    return this.span(this.firstWritable, this.count, offset, max);
  }

  /** Tell guest memory a span from writableSpan() was written (drops decoded code there). */
  wrote(view: Uint8Array, length = view.length): void {
    if (length > 0) this.memory.markWritten(view.byteOffset - this.memory.u8.byteOffset, length);
  }

  /** Copy readable stream bytes from `offset` into `target`; returns the number copied. */
  read(offset: number, target: Uint8Array): number {
    let done = 0;
    while (done < target.length) {
      const span = this.readableSpan(offset + done, target.length - done);
      if (span.length === 0) break;
      target.set(span, done);
      done += span.length;
    }
    return done;
  }

  /** Copy `data` into the writable stream at `offset`; returns the number written. */
  write(offset: number, data: Uint8Array): number {
    let done = 0;
    while (done < data.length) {
      const span = this.writableSpan(offset + done, data.length - done);
      if (span.length === 0) break;
      span.set(data.subarray(done, done + span.length));
      this.wrote(span);
      done += span.length;
    }
    return done;
  }

  /** Write one byte at writable stream `offset`; false when past the end. */
  writeByte(offset: number, value: number): boolean {
    const span = this.writableSpan(offset, 1);
    if (span.length === 0) return false;
    span[0] = value;
    this.wrote(span);
    return true;
  }

  private span(from: number, to: number, offset: number, max: number): Uint8Array {
    if (max <= 0 || offset < 0) return EMPTY;
    let start = 0;
    for (let i = from; i < to; i++) {
      const len = this.len[i];
      if (offset < start + len) {
        const within = offset - start;
        const n = Math.min(len - within, max);
        const a = this.addr[i] + within;
        return this.memory.u8.subarray(a, a + n);
      }
      start += len;
    }
    return EMPTY;
  }
}
