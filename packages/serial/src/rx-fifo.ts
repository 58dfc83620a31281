import { FIFO_SIZE } from './registers.js';

/** The receiver FIFO: a fixed ring buffer, no allocation per byte. */
export class RxFifo {
  private readonly bytes = new Uint8Array(FIFO_SIZE);
  private head = 0;
  count = 0;

  /** Current capacity: 16 with FIFOs enabled, 1 (the plain RBR of a 16450) without. */
  capacity = 1;

  get full(): boolean {
    return this.count >= this.capacity;
  }

  push(byte: number): boolean {
    if (this.full) return false;
    this.bytes[(this.head + this.count) % FIFO_SIZE] = byte;
    this.count++;
    return true;
  }

  /** The oldest byte; reading an empty FIFO returns the last byte again, as RBR does. */
  pop(): number {
    if (this.count === 0) return this.bytes[(this.head + FIFO_SIZE - 1) % FIFO_SIZE];
    const b = this.bytes[this.head];
    this.head = (this.head + 1) % FIFO_SIZE;
    this.count--;
    return b;
  }

  clear(): void {
    this.count = 0;
  }

  toJSON(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.bytes[(this.head + i) % FIFO_SIZE]);
    return out;
  }

  load(bytes: readonly number[]): void {
    this.head = 0;
    this.count = 0;
    for (const b of bytes.slice(0, FIFO_SIZE)) this.bytes[this.count++] = b & 0xff;
  }
}
