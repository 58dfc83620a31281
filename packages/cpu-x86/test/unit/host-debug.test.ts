import { describe, expect, it } from 'vitest';
import { asm, machine, RAX, RCX } from './helpers.js';

/**
 * Host debugger hooks (host-debug.ts): breakpoints stop before the instruction without touching
 * guest memory, resuming from a stop runs the instruction, watchpoints stop after the accessing
 * instruction, and masked interrupts during a single step. 32-bit flat code at 0x1000.
 */
function load(src: string) {
  const m = machine();
  const code = asm(src, { bits: 32, org: 0x1000 });
  m.mem.write(0x1000, code);
  m.cpu.enterMultiboot(0x1000, 0x9000);
  m.cpu.setGpr(4, 0x80000n);
  return m;
}

const LOOP = `
  mov ecx, 0
again:
  inc ecx          ; 0x1005
  mov [0x3000], ecx
  mov eax, [0x3004]
  cmp ecx, 5
  jne again
  mov dx, 0x501
  out dx, ax
  hlt
`;

describe('host debug hooks', () => {
  it('stops before a breakpoint, leaves memory alone, and resumes through it', () => {
    const m = load(LOOP);
    const before = m.mem.bytes(0x1000, 64).slice();
    m.cpu.hostDebug.addBreakpoint(0x1005);
    expect(m.cpu.run(1000)).toBe('stopped');
    expect(m.cpu.rip).toBe(0x1005);
    expect(m.cpu.getGpr(RCX)).toBe(0n);
    expect(m.cpu.hostDebug.takeStop()).toEqual({ kind: 'breakpoint', address: 0x1005, hardware: false });
    expect(m.mem.bytes(0x1000, 64)).toEqual(before);
    // Each resume runs the instruction at the breakpoint and stops there again on the next pass.
    for (let pass = 1; pass <= 4; pass++) {
      m.cpu.hostDebug.resume();
      expect(m.cpu.run(1000)).toBe('stopped');
      expect(m.cpu.rip).toBe(0x1005);
      expect(m.cpu.getGpr(RCX)).toBe(BigInt(pass));
    }
    expect(m.cpu.hostDebug.removeBreakpoint(0x1005)).toBe(true);
    expect(m.cpu.hostDebug.removeBreakpoint(0x1005)).toBe(false);
    m.cpu.hostDebug.resume();
    expect(m.cpu.run(1000)).toBe('stopped'); // the exit port's requestStop
    expect(m.cpu.hostDebug.takeStop()).toBeUndefined();
    expect(m.log.writes.at(-1)?.port).toBe(0x501);
  });

  it('a hardware breakpoint is reported as one', () => {
    const m = load(LOOP);
    m.cpu.hostDebug.addBreakpoint(0x1005, true);
    m.cpu.run(1000);
    expect(m.cpu.hostDebug.takeStop()).toEqual({ kind: 'breakpoint', address: 0x1005, hardware: true });
  });

  it('a write watchpoint stops after the storing instruction; a read watchpoint after the load', () => {
    const m = load(LOOP);
    m.cpu.hostDebug.addWatchpoint({ address: 0x3000, length: 4, type: 'write' });
    expect(m.cpu.run(1000)).toBe('stopped');
    expect(m.cpu.hostDebug.takeStop()).toEqual({ kind: 'watchpoint', address: 0x3000, type: 'write', watch: 0x3000 });
    expect(m.mem.readU32(0x3000)).toBe(1);
    expect(m.cpu.rip).toBe(0x100c); // after mov [0x3000], ecx
    m.cpu.hostDebug.removeWatchpoint({ address: 0x3000, length: 4, type: 'write' });
    m.cpu.hostDebug.addWatchpoint({ address: 0x3006, length: 1, type: 'read' });
    m.cpu.hostDebug.resume();
    expect(m.cpu.run(1000)).toBe('stopped');
    expect(m.cpu.hostDebug.takeStop()).toEqual({ kind: 'watchpoint', address: 0x3006, type: 'read', watch: 0x3006 });
    expect(m.cpu.rip).toBe(0x1011); // after mov eax, [0x3004]
    expect(m.cpu.getGpr(RAX)).toBe(0n);
  });

  it('costs no extra path when disarmed: alignCheck and the block path come back', () => {
    const m = load(LOOP);
    m.cpu.hostDebug.addWatchpoint({ address: 0x3000, length: 4, type: 'access' });
    m.cpu.hostDebug.addBreakpoint(0x2000);
    expect(m.cpu.alignCheck).toBe(true);
    expect(m.cpu.hostBreak).toBe(true);
    m.cpu.hostDebug.clear();
    expect(m.cpu.alignCheck).toBe(false);
    expect(m.cpu.hostBreak).toBe(false);
    expect(m.cpu.run(1000)).toBe('stopped');
    expect(m.cpu.getGpr(RCX)).toBe(5n);
  });

  it('masked interrupts: a single step runs the next instruction, not the handler', () => {
    let pending = true;
    const m = machine({ interrupts: { pending: () => pending, acknowledge: () => { pending = false; return 0x20; } } });
    m.mem.write(0x1000, asm('sti\nnop\nnop\nnop\nhlt', { bits: 32, org: 0x1000 }));
    m.cpu.enterMultiboot(0x1000, 0x9000);
    m.cpu.run(1); // sti
    m.cpu.hostDebug.maskInterrupts = true;
    expect(m.cpu.run(1)).toBe('budget');
    expect(m.cpu.rip).toBe(0x1002);
    expect(pending).toBe(true);
  });
});
