import { describe, expect, it } from 'vitest';
import { run64, gpr } from './helpers.js';

/** Ring 3 cannot reach the exit port, so a user snippet ends with UD2: #UD means it ran to the end. */
const REACHED_END = { vector: 6, errorCode: undefined, address: undefined };

/**
 * 64-bit kernel that loads a TSS whose I/O bitmap (at TSS+0x68) allows ports 0x80 and 0x3f8-0x3ff only,
 * then drops to CPL 3 with the given IOPL and runs `user`. The TSS limit ends the bitmap after the
 * byte for ports 0x3f8-0x3ff, plus the 0xff terminator byte, unless `limit` says otherwise.
 */
function withBitmap(user: string, opts: { iopl?: number; limit?: number } = {}) {
  const limit = opts.limit ?? 0x68 + 0x400 / 8; // bitmap covers ports 0..0x3ff, then one 0xff byte
  return run64(`
  lgdt [gdtr]
  lea rax, [rel tss]
  mov [gdt+0x28+2], ax
  shr rax, 16
  mov [gdt+0x28+4], al
  mov [gdt+0x28+7], ah
  mov word [gdt+0x28], ${limit}
  mov word [tss+0x66], 0x68           ; I/O map base
  lea rdi, [rel tss+0x68]
  mov al, 0xff
  mov ecx, 0x400/8 + 1
  rep stosb
  and byte [tss+0x68 + 0x80/8], ~1    ; port 0x80
  mov byte [tss+0x68 + 0x3f8/8], 0    ; ports 0x3f8-0x3ff
  mov ax, 0x28
  ltr ax
  push 0x1b
  push 0x70000
  push 0x2 | (${opts.iopl ?? 0} << 12)
  push 0x23
  lea rax, [rel user]
  push rax
  iretq
user:
  mov r15, 1
  ${user}
  mov r15, 2
  ud2
align 16
gdt:
  dq 0
  dq 0x00af9a000000ffff   ; 0x08 kernel code
  dq 0x00cf92000000ffff   ; 0x10 kernel data
  dq 0x00cff2000000ffff   ; 0x18 user data
  dq 0x00affa000000ffff   ; 0x20 user code
  dq 0x0000890000000000, 0 ; 0x28 TSS
gdtr: dw 55
  dq gdt
align 16
tss: times 0x68 + 0x400/8 + 16 db 0
`, { userPages: true, setup: (m) => { m.cpu.stopOnException = true; } });
}

describe('I/O permission bitmap at CPL > IOPL', () => {
  it('allows IN/OUT on ports whose bits are clear', () => {
    const m = withBitmap(`
  in al, 0x80
  mov r8d, eax
  mov dx, 0x3f8
  mov al, 'k'
  out dx, al
  mov dx, 0x3fc
  in ax, dx                 ; 0x3fc-0x3fd: both bits clear
  mov esi, data
  mov dx, 0x3f8
  outsb
data:`);
    expect(m.cpu.lastException).toEqual(REACHED_END);
    expect(gpr(m, 15)).toBe(2n);
    expect(gpr(m, 8) & 0xffn).toBe(0x5an);
    expect(m.serial().startsWith('k')).toBe(true);
    expect(m.cpu.cpl).toBe(3);
  });

  const denied: [string, string][] = [
    ['IN from a port whose bit is set', 'in al, 0x81'],
    ['OUT to a port whose bit is set', 'mov dx, 0x3f0\n  out dx, al'],
    ['a word access whose second port is denied', 'in ax, 0x80'],
    ['a dword access straddling into a denied byte', 'mov dx, 0x3fe\n  in eax, dx'],
    ['INSB from a denied port', 'mov dx, 0x60\n  mov edi, 0x6000\n  insb'],
    ['OUTSW to a denied port', 'mov dx, 0x70\n  mov esi, 0x6000\n  outsw'],
  ];
  it.each(denied)('#GP(0) for %s', (_name, code) => {
    const m = withBitmap(code);
    expect(gpr(m, 15)).toBe(1n);
    expect(m.cpu.lastException).toEqual({ vector: 13, errorCode: 0, address: undefined });
  });

  it('#GP(0) when the bitmap bytes for the port lie beyond the TSS limit', () => {
    // Limit ends right after the byte for ports 0x3f8-0x3ff: the second byte read for 0x3f8 is outside.
    const m = withBitmap('mov dx, 0x3f8\n  out dx, al', { limit: 0x68 + 0x3f8 / 8 });
    expect(m.cpu.lastException).toEqual({ vector: 13, errorCode: 0, address: undefined });
    const ok = withBitmap('mov dx, 0x3f8\n  out dx, al', { limit: 0x68 + 0x3f8 / 8 + 1 });
    expect(ok.cpu.lastException).toEqual(REACHED_END);
  });

  it('IOPL 3 bypasses the bitmap', () => {
    const m = withBitmap('in al, 0x81\n  mov dx, 0x3f0\n  out dx, al', { iopl: 3 });
    expect(m.cpu.lastException).toEqual(REACHED_END);
    expect(gpr(m, 15)).toBe(2n);
  });
});
