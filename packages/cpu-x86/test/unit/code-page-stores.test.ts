import { describe, expect, it } from 'vitest';
import { gpr, run64 } from './helpers.js';

// A store to a page that holds decoded code must drop that code, also when the page's TLB entry was
// filled before the page held code (the entry's "holds code" bit is set when the page becomes code).
// In the cpu-jit project these stores run as compiled code, which checks that bit inline.
describe('stores to pages that hold code', () => {
  it('a page written as data, then run as code, then patched: the patch runs', () => {
    const m = run64(`
  mov rdi, 0x5000
  mov dword [rdi], 0x000001b8   ; B8 01 00 00 00: mov eax, 1
  mov byte [rdi + 4], 0
  mov byte [rdi + 5], 0xc3      ; ret
  call rdi                      ; the page now holds decoded code
  mov ebx, eax
  mov byte [rdi + 1], 2         ; patch the immediate: mov eax, 2
  call rdi
  shl ebx, 4
  or ebx, eax
  hlt
`);
    expect(gpr(m, 3)).toBe(0x12n);
  });

  it('code dropped by a store is decoded again, and a later patch drops it again', () => {
    const m = run64(`
  mov rdi, 0x5000
  mov dword [rdi], 0x000000b8   ; mov eax, 0
  mov word [rdi + 4], 0xc300    ; 00, ret
  xor ebx, ebx
  mov ecx, 5
again:
  call rdi
  shl ebx, 4
  or ebx, eax
  inc byte [rdi + 1]            ; next time: mov eax, previous + 1
  dec ecx
  jnz again
  hlt
`);
    expect(gpr(m, 3)).toBe(0x01234n);
  });
});
