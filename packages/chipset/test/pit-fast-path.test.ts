// The 8254's WebAssembly fast path (pit-fast-path.ts) against the PIT in JS alone: two PITs on one
// clock get the same long random programming sequences (control words in every mode and access
// mode, BCD, count writes mid-period, latches, read-backs, gate changes, time passing). One PIT
// takes every access in JS; the other offers each access to its fast path first and falls back to
// JS when the fast path declines, as compiled guest code does. Every byte read must be the same.
import { describe, expect, it } from 'vitest';
import { seededRandom, GuestMemory, MachineClock } from '@unimachine/core';
import { I8254 } from '../src/index.js';

/** A small deterministic PRNG (xorshift32), so a failure replays. */
function pair() {
  let instructions = 0;
  const clock = new MachineClock('deterministic');
  clock.countInstructions(() => instructions, 1);
  const memory = new GuestMemory(1 << 20);
  const js = new I8254(clock);
  const fast = new I8254(clock, undefined, memory);
  const taken = { fast: 0, js: 0 };
  const access = (port: number, write: boolean, value = 0): [number, number] => {
    const offered = fast.fastPath!(port, 1, value, write ? 1 : 0, clock.now());
    let viaFast = offered;
    if (offered < 0) {
      taken.js++;
      viaFast = write ? (fast.write(port, 1, value), 0) : fast.read(port, 1);
    } else taken.fast++;
    const viaJs = write ? (js.write(port, 1, value), 0) : js.read(port, 1);
    return [viaFast, viaJs];
  };
  return { clock, advance: (ns: number) => (instructions += ns), access, taken, js, fast };
}

describe('8254 fast path', () => {
  it('reads what the JS PIT reads through random programming sequences', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = seededRandom(seed * 7919);
      const { advance, access, taken } = pair();
      for (let step = 0; step < 3000; step++) {
        const ch = r(3);
        const what = r(100);
        let read: [number, number] | undefined;
        if (what < 8) {
          // A control word: mode 0-7, access 1-3, BCD now and then.
          const word = (ch << 6) | ((1 + r(3)) << 4) | (r(8) << 1) | (r(10) === 0 ? 1 : 0);
          access(0x43, true, word);
        } else if (what < 20) access(0x40 + ch, true, r(8) === 0 ? 0 : r(256));
        else if (what < 40) access(0x43, true, ch << 6); // counter latch
        else if (what < 43) access(0x43, true, 0xc0 | (r(4) << 4) | (r(8) << 1)); // read-back
        else if (what < 46) access(0x61, true, r(4)); // channel 2 gate
        else if (what < 85) read = access(0x40 + ch, false);
        else advance(r(10) === 0 ? r(100_000_000) : r(40_000));
        if (read) expect(read[0], `seed ${seed}, step ${step}, channel ${ch}`).toBe(read[1]);
      }
      // The fast path must have done its share, or this test proves nothing about it.
      expect(taken.fast).toBeGreaterThan(taken.js / 4);
    }
  });

  it('answers a Solo5-style calibration loop alone once the counter runs', () => {
    const { advance, access, taken } = pair();
    access(0x43, true, 0x34); // channel 0, lobyte/hibyte, mode 2
    access(0x40, true, 0);
    access(0x40, true, 0);
    const js = taken.js;
    for (let i = 0; i < 1000; i++) {
      access(0x43, true, 0x00);
      const lo = access(0x40, false);
      const hi = access(0x40, false);
      expect(lo[0] | (hi[0] << 8)).toBe(lo[1] | (hi[1] << 8));
      advance(3000);
    }
    expect(taken.js).toBe(js);
  });

  it('declines what it does not model: control words, count writes, BCD counters, port 0x61, wide accesses', () => {
    const { clock, fast } = pair();
    const offer = (port: number, write: boolean, value = 0, size = 1) => fast.fastPath!(port, size, value, write ? 1 : 0, clock.now());
    expect(offer(0x43, true, 0x34)).toBe(-1);
    fast.write(0x43, 1, 0x34);
    expect(offer(0x40, true, 0)).toBe(-1);
    fast.write(0x40, 1, 0);
    fast.write(0x40, 1, 0);
    expect(offer(0x43, true, 0x00)).toBe(0); // the latch
    expect(offer(0x40, false, 0, 2)).toBe(-1);
    expect(offer(0x61, false)).toBe(-1);
    expect(offer(0x43, true, 0xc2)).toBe(-1);
    fast.write(0x43, 1, 0x35); // BCD
    fast.write(0x40, 1, 0x99);
    fast.write(0x40, 1, 0x99);
    expect(offer(0x43, true, 0x00)).toBe(-1);
  });
});
