import { describe, expect, it } from 'vitest';
import { run64, gpr, USER_MODE_IRET, USER_MODE_SETUP, USER_MODE_TABLES } from './helpers.js';

/**
 * INT1 (ICEBP, F1) at CPL 3 with DPL-0 gates for #DB and #GP: the ring-3 code runs `probe`; the #DB
 * handler records r15 = return RIP - probe start and r14 = 1, the #GP handler r11 = error code and r14 = 2.
 * SDM Vol. 3A §6.12 (privileged software exception): the gate's DPL is not checked for INT1, unlike
 * INT n. On this host (Linux, whose #DB gate has DPL 0) a user-mode F1 gives SIGTRAP with trapno 1 and
 * RIP after the F1 byte; the differential `system` family compares the vector and RIP against it.
 */
function program(probe: string): string {
  return `${USER_MODE_SETUP}
  GATE 1, db_handler, 0
  GATE 13, gp_handler, 0
  ${USER_MODE_IRET}
user:
  ${probe}
  nop
db_handler:
  mov r15, [rsp]
  lea rcx, [rel user]
  sub r15, rcx
  mov r13, [rsp+8]                   ; CS of the interrupted code
  mov r14d, 1
  cli
  hlt
gp_handler:
  pop r11
  mov r14d, 2
  cli
  hlt
${USER_MODE_TABLES}
`;
}

describe('INT1 (ICEBP)', () => {
  it('at CPL 3 raises #DB through a DPL-0 gate (no DPL check), as a trap after the F1 byte', () => {
    const m = run64(program('db 0xf1'), { userPages: true });
    expect(gpr(m, 14)).toBe(1n);
    expect(gpr(m, 15)).toBe(1n);
    expect(gpr(m, 13)).toBe(0x23n);
    expect(m.cpu.dr[6]).toBe(0xffff0ff0); // DR6 untouched: no debug condition
  });

  it('INT 1 (CD 01) at CPL 3 through the same gate is #GP(vector*8+2), the software-interrupt rule', () => {
    const m = run64(program('int 1'), { userPages: true });
    expect(gpr(m, 14)).toBe(2n);
    expect(gpr(m, 11)).toBe(BigInt(1 * 8 + 2));
  });
});
