/**
 * A small deterministic generator (xorshift32) for randomized tests of devices: the same seed gives
 * the same sequence, so a failing case replays. Returns a function giving integers in [0, n).
 */
export function seededRandom(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}
