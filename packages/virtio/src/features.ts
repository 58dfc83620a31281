/**
 * A 64-bit virtio feature set as two 32-bit words (no BigInt): word 0 holds bits 0..31,
 * word 1 bits 32..63, matching the transport's feature-select registers.
 */
export class FeatureSet {
  constructor(public lo = 0, public hi = 0) {}

  has(bit: number): boolean {
    return bit < 32 ? ((this.lo >>> bit) & 1) === 1 : ((this.hi >>> (bit - 32)) & 1) === 1;
  }

  word(index: number): number {
    return index === 0 ? this.lo : index === 1 ? this.hi : 0;
  }

  setWord(index: number, value: number): void {
    if (index === 0) this.lo = value >>> 0;
    else if (index === 1) this.hi = value >>> 0;
  }

  /** True when every bit here is also in `other`. */
  subsetOf(other: FeatureSet): boolean {
    return (this.lo & ~other.lo) === 0 && (this.hi & ~other.hi) === 0;
  }

  clear(): void {
    this.lo = this.hi = 0;
  }

  static of(...bits: number[]): FeatureSet {
    const f = new FeatureSet();
    for (const b of bits) {
      if (b < 32) f.lo = (f.lo | (1 << b)) >>> 0;
      else f.hi = (f.hi | (1 << (b - 32))) >>> 0;
    }
    return f;
  }

  toString(): string {
    return '0x' + this.hi.toString(16).padStart(8, '0') + this.lo.toString(16).padStart(8, '0');
  }
}
