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
