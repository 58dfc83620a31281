import { describe, expect, it } from 'vitest';
import { GuestMemory, PortBus } from '@unimachine/core';
import { X86Cpu } from '../../src/index.js';
import { asm, identityMap } from './helpers.js';

/**
 * A 1 GiB page: PDPT entry 4 (linear 4 GiB) with PS set, mapping physical 0. SDM Vol. 3A §4.5 (Table
 * 4-16): PS in a PDPTE maps a 1-GByte page only when CPUID.80000001H:EDX.Page1GB[26] = 1; otherwise the
 * bit is reserved and the access raises #PF with RSVD (error code P|RSVD = 9). Westmere has no 1 GiB
 * pages (QEMU 7.2's TCG maps them under -cpu Westmere anyway); the `max` model advertises and maps them.
 */
const PROGRAM = `
  mov eax, 0x80000001
  cpuid
  mov r15, rdx
  mov rax, cr3
  mov rbx, [rax]
  and rbx, ~0xfff
  mov qword [rbx + 4*8], 0x83
  mov rsi, 0x100000000 + 0x3000
  mov rax, [rsi]
  mov dx, 0x501
  out dx, al
  hlt`;

function run(model: 'westmere' | 'max') {
  const memory = new GuestMemory(4 * 1024 * 1024);
  const ports = new PortBus();
  let exitValue = -1;
  ports.claim({ start: 0x501, length: 2 }, { read: () => 0, write: (_p, _s, v) => { exitValue = v; } }, 'exit');
  const cpu = new X86Cpu({ memory, ports, model });
  cpu.stopOnException = true;
  memory.write(0x1000, asm(PROGRAM, { bits: 64, org: 0x1000 }));
  memory.write(0x3000, Uint8Array.of(0x5a));
  cpu.enterLongMode({ cr3: identityMap(memory, 0x200000), cpl: 0, rip: 0x1000n, rsp: 0x80000n });
  cpu.run(1000);
  return { cpu, exitValue };
}

describe('1 GiB pages follow CPUID.80000001H:EDX.Page1GB', () => {
  it('westmere: PS in a PDPTE is reserved: #PF error P|RSVD, CR2 = the address', () => {
    const { cpu, exitValue } = run('westmere');
    expect(cpu.lastException).toEqual({ vector: 14, errorCode: 9, address: 0x100003000n });
    expect(exitValue).toBe(-1);
  });

  it('max: advertises Page1GB and maps the 1 GiB page', () => {
    const { cpu, exitValue } = run('max');
    expect(cpu.lastException).toBeUndefined();
    expect(exitValue).toBe(0x5a);
    expect(cpu.getGpr(15) & (1n << 26n)).not.toBe(0n);
    expect(run('westmere').cpu.getGpr(15) & (1n << 26n)).toBe(0n);
  });
});
