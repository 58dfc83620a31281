import { describe, expect, it } from 'vitest';
import { machine } from './helpers.js';
import { buildFlat, haveGcc } from './gcc.js';

function fnv(s: string): number {
  let h = 2166136261;
  for (const ch of s) { h ^= ch.charCodeAt(0); h = Math.imul(h, 16777619) >>> 0; }
  return h >>> 0;
}

describe.skipIf(!haveGcc())('a gcc -m32 -O2 freestanding kernel', () => {
  it('runs to SUCCESS over the UART and exits with outw(0x501, 41)', () => {
    const bin = buildFlat('kernel32.c', ['-m32']);
    const m = machine();
    m.mem.write(0x100000, bin);
    m.cpu.enterMultiboot(0x100000, 0x9000);
    const exit = m.cpu.run(50_000_000);
    expect(m.cpu.deathReason).toBeUndefined();
    expect(exit).toBe('stopped');
    const rot = ((0xdeadbeef >>> 13) | (0xdeadbeef << 19)) >>> 0;
    const mulHi = (123456789n * 987654321n) >> 32n;
    expect(m.serial()).toBe(
      'sorted: -100 -3 0 1 1 3 5 7 8 42 64 99\n' +
      'fib(20)=6765\n' +
      `fnv=0x${fnv('unimachine').toString(16)}\n` +
      'classify=2782\n' +
      `rot=0x${rot.toString(16)}\n` +
      'pt=3006c\n' +
      `mul64hi=${mulHi}\n` +
      'SUCCESS\n',
    );
    expect(m.log.writes.at(-1)).toEqual({ port: 0x501, size: 2, value: 41 });
  });
});
