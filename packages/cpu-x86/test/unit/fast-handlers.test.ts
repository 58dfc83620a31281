// The specialised handlers block.ts picks at decode time (exec-alu-reg32/64.ts, exec-move-reg.ts,
// exec-jcc.ts, exec-fast.ts) must do exactly what the opcode's generic handler does. Each case runs
// one instruction form through both on two CPUs in the same random state (registers, memory, and a
// lazy-flags record left by a random earlier ALU operation) and compares every register, EFLAGS,
// the next RIP, the data memory and any exception raised.
import { describe, expect, it } from 'vitest';
import { GuestMemory, PortBus } from '@unimachine/core';
import { FAULT, X86Cpu } from '../../src/cpu.js';
import { HANDLERS } from '../../src/dispatch.js';
import { handlerFor } from '../../src/block.js';
import { decodeInto } from '../../src/decoder.js';
import { Insn, eaKindOf } from '../../src/insn.js';
import { asm, identityMap, randomValue, rng } from './helpers.js';

const CODE = 0x1000;
const DATA = 0x20000; // base register values point here (16 KiB window compared)
const WINDOW = 0x4000;

function decodeAll(bytes: Uint8Array, mode: 32 | 64): Insn[] {
  const out: Insn[] = [];
  for (let pos = 0; pos < bytes.length;) {
    const ins = new Insn();
    decodeInto(ins, bytes, pos, Math.min(15, bytes.length - pos), mode, 0);
    ins.eaKind = eaKindOf(ins);
    if (ins.len === 0) throw new Error(`undecodable at ${pos}`);
    out.push(ins);
    pos += ins.len;
  }
  return out;
}

function cpuFor(mode: 32 | 64): X86Cpu {
  const memory = new GuestMemory(4 * 1024 * 1024);
  const cpu = new X86Cpu({ memory, ports: new PortBus(), jit: false });
  if (mode === 32) cpu.enterMultiboot(CODE, 0x9000);
  else cpu.enterLongMode({ cr3: identityMap(memory, 0x200000, 1), cpl: 0, rip: BigInt(CODE), rsp: 0x80000n });
  return cpu;
}

/** Run `fn` for instruction `ins` at CODE; the exception vector/error code, or undefined. */
function exec(cpu: X86Cpu, fn: (c: X86Cpu, i: Insn) => void, ins: Insn): string | undefined {
  cpu.rip = CODE;
  cpu.nextRip = CODE + ins.len;
  try {
    fn(cpu, ins);
    return undefined;
  } catch (e) {
    if (e !== FAULT) throw e;
    return `#${cpu.excVec}(${cpu.excErr}) cr2=${cpu.cr2}`;
  }
}

/** Earlier operations whose lazy-flags records the instruction under test may read. */
const PRODUCERS32 = `
  add eax, ebx
  sub eax, ebx
  cmp ecx, edx
  and eax, ebx
  or ecx, edx
  inc ecx
  dec edx
  shl eax, 3
  adc eax, ebx
  sbb ecx, edx
  add al, bl
  sub cx, dx
  cmp al, 0x80
  test eax, eax
  neg ecx
  imul eax, ebx
  stc
  clc
  sahf
`;
const PRODUCERS64 = `${PRODUCERS32}
  add rax, rbx
  sub rcx, rdx
  cmp rax, rbx
  inc rcx
  dec rdx
  neg rax
  and rax, rbx
  imul rax, rbx
`;

const ALU = ['add', 'or', 'and', 'sub', 'xor', 'cmp'];
const CONDITIONS = ['o', 'no', 'b', 'ae', 'z', 'nz', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

function forms32(): string {
  const l: string[] = [];
  for (const op of ALU) {
    l.push(`${op} ecx, ebx`, `${op} ecx, 0x12345678`, `${op} ecx, -5`, `${op} eax, 0x80000001`, `${op} ecx, [ebx+esi*4+8]`);
  }
  // The other direction of the register forms (03 /r etc.), and CMP with a memory destination.
  for (let k = 0; k < 8; k++) if (k !== 2 && k !== 3) l.push(`db 0x${(8 * k + 3).toString(16)}, 0xcb`);
  l.push('cmp [ebx+8], ecx', 'cmp dword [ebx+8], 0x1234', 'cmp dword [ebx+esi], -3');
  l.push('test ecx, ebx', 'test ecx, 0x80000001', 'test eax, 0x80000001');
  l.push('mov ecx, ebx', 'mov [ebx+8], ecx', 'mov ecx, [ebx+esi*2+3]', 'mov dword [ebx+8], 0x12345678');
  for (const cc of CONDITIONS) l.push(`j${cc} short $+20`, `j${cc} near $+300`);
  for (const sh of ['shl', 'shr', 'sar']) l.push(`${sh} ecx, 5`, `${sh} ecx, 31`, `${sh} ecx, 1`, `${sh} ecx, cl`);
  l.push('db 0xc1, 0xf1, 0x07', 'db 0xc1, 0xe1, 0x00', 'db 0xc1, 0xe9, 0x20', 'db 0xd1, 0xf1'); // SAL /6, counts 0 and 32
  l.push('mov [ebx+8], cl', 'mov [ebx+8], ch', 'mov cl, [ebx+8]', 'mov ch, [ebx+esi]', 'mov byte [ebx+8], 0x5a');
  l.push('movzx ecx, byte [ebx+8]', 'movzx ecx, bl', 'movzx ecx, bh', 'movzx ecx, word [ebx+7]', 'movzx ecx, bx');
  l.push('movsx ecx, byte [ebx+8]', 'movsx ecx, bl', 'movsx ecx, bh', 'movsx ecx, word [ebx+7]', 'movsx ecx, bx');
  l.push('lea ecx, [ebx+esi*4+8]', 'lea ecx, [ebx+0x7fffffff]', 'lea ecx, [esi*8-4]');
  l.push('inc ecx', 'dec ecx', 'inc esp', 'dec edi', 'db 0xff, 0xc1', 'db 0xff, 0xc9');
  l.push('imul ecx, ebx, 1000', 'imul ecx, ebx, -3', 'imul ecx, [ebx+8], 7', 'imul ecx, ebx', 'imul ecx, [ebx+8]');
  l.push('div ebx', 'div dword [ebx+8]', 'idiv ebx', 'idiv dword [ebx+8]', 'div ecx', 'idiv esi');
  l.push('test cl, 0x81', 'test ch, 0x81', 'test byte [ebx+8], 0x81', 'cmp byte [ebx+8], 0x80', 'cmp cl, 5', 'cmp ch, 0xff');
  return l.join('\n');
}

function forms64(): string {
  const l: string[] = [];
  for (const op of ALU) {
    l.push(`${op} rcx, rbx`, `${op} rcx, 0x12345678`, `${op} rcx, -5`, `${op} rax, -0x7fffffff`, `${op} r9, r10`);
    l.push(`${op} ecx, [rbx+rsi*4+8]`, `${op} r9d, [r8+8]`);
  }
  for (let k = 0; k < 8; k++) if (k !== 2 && k !== 3) l.push(`db 0x48, 0x${(8 * k + 3).toString(16)}, 0xcb`);
  l.push('test rcx, rbx', 'test r9, r10', 'cmp [rbx+8], ecx', 'cmp dword [rbx+8], 0x1234', 'cmp ecx, [rel $+0x20000]');
  l.push('mov rcx, rbx', 'mov [rbx+8], rcx', 'mov rcx, [rbx+rsi*2+3]', 'mov qword [rbx+8], -2', 'mov ecx, [fs:rbx+8]');
  for (const cc of CONDITIONS) l.push(`j${cc} short $+20`, `j${cc} near $+300`);
  for (const sh of ['shl', 'shr', 'sar']) l.push(`${sh} ecx, 5`, `${sh} r9d, 1`, `${sh} ecx, cl`);
  l.push('mov [rbx+8], sil', 'mov [rbx+8], ah', 'mov r9b, [rbx+8]', 'mov ah, [rbx+8]', 'mov byte [rbx+rsi+8], 0x5a');
  l.push('movzx ecx, byte [rbx+8]', 'movzx rcx, sil', 'movzx ecx, ah', 'movzx r9d, word [rbx+7]', 'movzx ecx, bx');
  l.push('movsx rcx, byte [rbx+8]', 'movsx rcx, sil', 'movsx ecx, bh', 'movsx rcx, word [rbx+7]', 'movsx ecx, bx');
  l.push('movsxd rcx, ebx', 'movsxd rcx, [rbx+8]', 'movsxd r9, r10d');
  l.push('lea rcx, [rbx+rsi*4+8]', 'lea rcx, [rbx-0x80000000]', 'lea ecx, [rbx+rsi*8]', 'lea ecx, [ebx+esi]', 'lea r9, [r10+r11*2]');
  l.push('inc rcx', 'dec rcx', 'inc ecx', 'dec r9d', 'inc r10');
  l.push('imul ecx, ebx, 1000', 'imul ecx, [rbx+8], 7', 'imul ecx, ebx', 'div ebx', 'idiv dword [rbx+8]', 'idiv ecx');
  l.push('test cl, 0x81', 'test ah, 0x81', 'test sil, 0x81', 'test byte [rbx+8], 0x81', 'cmp byte [rbx+8], 0x80', 'cmp r9b, 5');
  return l.join('\n');
}

const bytesOf = (a: Int32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function randomise(cpus: X86Cpu[], next: () => number, mode: 32 | 64): void {
  const regs = new Int32Array(32);
  for (let n = 0; n < 16; n++) {
    regs[2 * n] = randomValue(next);
    regs[2 * n + 1] = mode === 64 && next() % 2 === 0 ? randomValue(next) : 0;
  }
  // Address registers: RBX/R8/R10 a base inside the data window (sometimes near a page end or, in
  // 64-bit mode, above 4 GiB), RSI/R11 an index, ESP left valid.
  for (const n of mode === 64 ? [3, 8, 10] : [3]) {
    const k = next() % 8;
    regs[2 * n] = DATA + (k === 0 ? 0x0ff9 + (next() % 8) : next() % (WINDOW - 64));
    regs[2 * n + 1] = mode === 64 && k === 1 ? 1 + (next() % 3) : 0;
  }
  for (const n of mode === 64 ? [6, 11] : [6]) { regs[2 * n] = next() % 256; regs[2 * n + 1] = 0; }
  regs[8] = 0x80000; regs[9] = 0;
  const bytes = new Uint8Array(64);
  for (let k = 0; k < bytes.length; k++) bytes[k] = next() & 0xff;
  const at = DATA + (next() % (WINDOW - 64));
  const flags = (next() & 0x8d5) | 2;
  for (const c of cpus) {
    c.r.set(regs);
    c.fl.set(flags);
    c.memory.write(at, bytes);
  }
}

function check(mode: 32 | 64, cases: number, seed: number): void {
  const forms = decodeAll(asm(mode === 32 ? forms32() : forms64(), { bits: mode, org: CODE }), mode);
  const producers = decodeAll(asm(mode === 32 ? PRODUCERS32 : PRODUCERS64, { bits: mode, org: CODE }), mode);
  const generic = cpuFor(mode), special = cpuFor(mode);
  const next = rng(seed);
  let compared = 0;
  for (const ins of forms) {
    const fast = handlerFor(ins);
    // Every form listed here has a specialised handler (else this test would prove nothing about it).
    expect(fast, `op 0x${ins.op.toString(16)} size ${ins.size}`).not.toBe(HANDLERS[ins.op]);
    for (let k = 0; k < cases; k++) {
      randomise([generic, special], next, mode);
      const p = producers[next() % producers.length];
      exec(generic, HANDLERS[p.op], p);
      exec(special, HANDLERS[p.op], p);
      const a = exec(generic, HANDLERS[ins.op], ins);
      const b = exec(special, fast, ins);
      // Compared cheaply first; expect() only names the difference when there is one.
      const same = b === a && special.fl.get() === generic.fl.get() && special.nextRip === generic.nextRip &&
        Buffer.compare(bytesOf(special.r), bytesOf(generic.r)) === 0 && Buffer.compare(special.memory.bytes(DATA, WINDOW + 0x1000), generic.memory.bytes(DATA, WINDOW + 0x1000)) === 0;
      if (!same) {
        const what = `op 0x${ins.op.toString(16)} /${ins.reg & 7} size ${ins.size} mem ${ins.isMem} case ${k}`;
        expect(b, what).toBe(a);
        expect(Array.from(special.r), what).toEqual(Array.from(generic.r));
        expect(special.fl.get(), what).toBe(generic.fl.get());
        expect(special.nextRip, what).toBe(generic.nextRip);
        expect(special.memory.bytes(DATA, WINDOW + 0x1000), what).toEqual(generic.memory.bytes(DATA, WINDOW + 0x1000));
      }
      compared++;
    }
  }
  expect(compared).toBe(forms.length * cases);
}

describe('specialised handlers agree with the generic ones', () => {
  it('32-bit protected mode forms', () => check(32, 300, 0x1234));
  it('64-bit mode forms', () => check(64, 300, 0x5678));
});
