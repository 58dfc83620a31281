import { describe, expect, it } from 'vitest';
// Interpreter fast paths (decode cache invalidation granularity, register-only ALU paths) must not change behaviour.
import { run32, run64, gpr } from './helpers.js';

// The decode cache drops a page's decoded instructions when a CPU store hits a 64-byte chunk that
// holds decoded bytes; stores to other chunks of the same page (data next to code) keep it.
describe('decode cache invalidation by CPU stores', () => {
  it('a MOV store into an already executed instruction is seen the next time it runs', () => {
    const m = run64(`
  xor ebx, ebx
  mov ecx, 2
again:
patch:
  mov eax, 1                ; B8 01 00 00 00: imm32 patched to 5 after the first pass
  add ebx, eax
  mov byte [patch + 1], 5
  dec ecx
  jnz again
  hlt
`);
    expect(gpr(m, 3)).toBe(6n); // 1 on the first pass, 5 on the second
  });

  it('an 8-byte store that starts in an undecoded chunk and ends in a decoded one invalidates', () => {
    const m = run64(`
  xor ebx, ebx
  mov ecx, 2
again:
  call target
  add ebx, eax
  mov rax, 0x00000009b8909090 ; bytes 90 90 90 B8 09 00 00 00 at target-3: mov eax, 9
  mov [target - 3], rax
  dec ecx
  jnz again
  hlt
  times 70 nop              ; a chunk that is never decoded
  align 64
target:
  mov eax, 7
  ret
`);
    expect(gpr(m, 3)).toBe(16n); // 7 on the first call, 9 on the second
  });

  it('data stores on a code page outside the decoded chunks leave the code running correctly', () => {
    const m = run32(`
  xor ebx, ebx
  mov ecx, 1000
loop:
  mov [data], ecx           ; same page as this loop, another chunk
  add ebx, [data]
  dec ecx
  jnz loop
  mov byte [late + 1], 9    ; then patch code that was not decoded yet
late:
  mov edx, 1
  hlt
  align 256
data: dd 0
`);
    expect(gpr(m, 3)).toBe(500500n);
    expect(gpr(m, 2)).toBe(9n);
  });
});

describe('ALU register fast paths', () => {
  it('ADC/SBB after a 64-bit operation use its 64-bit carry, not the low half', () => {
    const m = run64(`
  mov eax, 0xffffffff
  add rax, 1                ; low half wraps, 64-bit result 0x100000000: CF = 0
  mov ecx, 0
  adc ecx, 0                ; 0
  mov edx, 0
  sub rdx, 1                ; borrow: CF = 1
  mov ebx, 10
  sbb ebx, 0                ; 9
  mov rsi, 0x100000000
  sub rsi, 1                ; low half borrows, 64-bit does not: CF = 0
  mov edi, 5
  adc edi, edi              ; 10
  hlt
`);
    expect(gpr(m, 1)).toBe(0n);
    expect(gpr(m, 3)).toBe(9n);
    expect(gpr(m, 7)).toBe(10n);
  });

  it('32-bit register ops zero the high half; 8/16-bit ops keep it', () => {
    const m = run64(`
  mov rax, -1
  xor eax, 0x0f0f0f0f
  mov rbx, -1
  add bx, 1
  mov rcx, -1
  mov edx, ecx
  mov r8, 0x123456789
  shl r8d, 4
  hlt
`);
    expect(gpr(m, 0)).toBe(0xf0f0f0f0n);
    expect(gpr(m, 3)).toBe(0xffffffffffff0000n);
    expect(gpr(m, 2)).toBe(0xffffffffn);
    expect(gpr(m, 8)).toBe(0x34567890n);
  });
});

describe('condition fast path after CMP', () => {
  const conds: [string, (a: bigint, b: bigint, s: (x: bigint) => bigint) => boolean][] = [
    ['b', (a, b) => a < b], ['ae', (a, b) => a >= b], ['be', (a, b) => a <= b], ['a', (a, b) => a > b],
    ['l', (a, b, s) => s(a) < s(b)], ['ge', (a, b, s) => s(a) >= s(b)], ['le', (a, b, s) => s(a) <= s(b)], ['g', (a, b, s) => s(a) > s(b)],
  ];
  for (const bits of [32, 64] as const) {
    it(`SETcc B/AE/BE/A/L/GE/LE/G after a ${bits}-bit CMP agree with the operand comparison`, () => {
      const values = bits === 32
        ? [0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x12345678n]
        : [0n, 1n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xffffffff00000000n];
      const pairs = values.flatMap((a) => values.map((b) => [a, b] as const));
      const body = pairs.map(([a, b]) => `
  mov rax, 0x${a.toString(16)}
  mov rbx, 0x${b.toString(16)}
  ${bits === 32 ? 'cmp eax, ebx' : 'cmp rax, rbx'}
${conds.map(([cc], k) => `  set${cc} byte [rdi + ${k}]`).join('\n')}
  add rdi, 8`).join('\n');
      const m = run64(`  mov rdi, 0x20000\n${body}\n  hlt\n`);
      const s = (x: bigint) => BigInt.asIntN(bits, x);
      pairs.forEach(([a, b], p) => {
        conds.forEach(([cc, f], k) => {
          expect(m.mem.readU8(0x20000 + 8 * p + k), `${a.toString(16)} ${cc} ${b.toString(16)}`).toBe(f(a, b, s) ? 1 : 0);
        });
      });
    });
  }
});
