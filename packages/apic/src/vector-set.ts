/** A 256-bit register (IRR, ISR, TMR): bit n = vector n, in eight 32-bit words as the guest reads them. */
export class VectorSet {
  readonly words = new Uint32Array(8);
  /** How many vectors are set: lets the CPU's per-block pending() check skip an empty IRR cheaply. */
  size = 0;

  has(vector: number): boolean {
    return (this.words[vector >>> 5] & (1 << (vector & 31))) !== 0;
  }

  add(vector: number): void {
    if (this.has(vector)) return;
    this.words[vector >>> 5] |= 1 << (vector & 31);
    this.size++;
  }

  delete(vector: number): void {
    if (!this.has(vector)) return;
    this.words[vector >>> 5] &= ~(1 << (vector & 31));
    this.size--;
  }

  clear(): void {
    this.words.fill(0);
    this.size = 0;
  }

  /** The highest vector in the set, or -1: the highest vector is the highest priority. */
  highest(): number {
    for (let i = 7; i >= 0; i--) {
      const w = this.words[i];
      if (w !== 0) return i * 32 + 31 - Math.clz32(w);
    }
    return -1;
  }

  toArray(): number[] {
    return Array.from(this.words);
  }

  load(words: readonly number[]): void {
    this.size = 0;
    for (let i = 0; i < 8; i++) {
      this.words[i] = words[i] >>> 0;
      for (let w = this.words[i]; w !== 0; w &= w - 1) this.size++;
    }
  }
}
