import type { Insn } from './insn.js';
import { sseMnemonic } from './sse-names.js';
import { x87Name } from './x87-names.js';
import { OP_LZCNT, OP_RDRAND, OP_TZCNT, OP_VEX_0F38, OP_VEX_0F3A, OP_XGETBV, OP_XSAVE } from './isa.js';

/** iced-x86 Mnemonic names for decoded instructions (used by decode(); not on the execution path). */
const ALU = ['Add', 'Or', 'Adc', 'Sbb', 'And', 'Sub', 'Xor', 'Cmp'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const SHIFT = ['Rol', 'Ror', 'Rcl', 'Rcr', 'Shl', 'Shr', 'Sal', 'Sar'];
const GRP3 = ['Test', 'Test', 'Not', 'Neg', 'Mul', 'Imul', 'Div', 'Idiv'];
const GRP5 = ['Inc', 'Dec', 'Call', 'Call', 'Jmp', 'Jmp', 'Push', ''];
const GRP6 = ['Sldt', 'Str', 'Lldt', 'Ltr', 'Verr', 'Verw', '', ''];
const GRP7M = ['Sgdt', 'Sidt', 'Lgdt', 'Lidt', 'Smsw', '', 'Lmsw', 'Invlpg'];
const BT = ['', '', '', '', 'Bt', 'Bts', 'Btr', 'Btc'];

function sized(i: Insn, w: string, d: string, q: string): string {
  return i.size === 2 ? w : i.size === 8 ? q : d;
}

const ONE: Record<number, string> = {
  0x27: 'Daa', 0x2f: 'Das', 0x37: 'Aaa', 0x3f: 'Aas', 0x62: 'Bound', 0x68: 'Push', 0x6a: 'Push', 0x69: 'Imul', 0x6b: 'Imul',
  0x6c: 'Insb', 0x6e: 'Outsb', 0x84: 'Test', 0x85: 'Test', 0x86: 'Xchg', 0x87: 'Xchg', 0x88: 'Mov', 0x89: 'Mov', 0x8a: 'Mov',
  0x8b: 'Mov', 0x8c: 'Mov', 0x8d: 'Lea', 0x8e: 'Mov', 0x8f: 'Pop', 0x9a: 'Call', 0x9b: 'Wait', 0x9e: 'Sahf', 0x9f: 'Lahf',
  0xa0: 'Mov', 0xa1: 'Mov', 0xa2: 'Mov', 0xa3: 'Mov', 0xa4: 'Movsb', 0xa6: 'Cmpsb', 0xa8: 'Test', 0xa9: 'Test', 0xaa: 'Stosb',
  0xac: 'Lodsb', 0xae: 'Scasb', 0xc2: 'Ret', 0xc3: 'Ret', 0xc4: 'Les', 0xc5: 'Lds', 0xc6: 'Mov', 0xc7: 'Mov', 0xc8: 'Enter',
  0xc9: 'Leave', 0xca: 'Retf', 0xcb: 'Retf', 0xcc: 'Int3', 0xcd: 'Int', 0xce: 'Into', 0xd4: 'Aam', 0xd5: 'Aad', 0xd6: 'Salc',
  0xd7: 'Xlatb', 0xe0: 'Loopne', 0xe1: 'Loope', 0xe2: 'Loop', 0xe4: 'In', 0xe5: 'In', 0xe6: 'Out', 0xe7: 'Out', 0xe8: 'Call',
  0xe9: 'Jmp', 0xea: 'Jmp', 0xeb: 'Jmp', 0xec: 'In', 0xed: 'In', 0xee: 'Out', 0xef: 'Out', 0xf1: 'Int1', 0xf4: 'Hlt',
  0xf5: 'Cmc', 0xf8: 'Clc', 0xf9: 'Stc', 0xfa: 'Cli', 0xfb: 'Sti', 0xfc: 'Cld', 0xfd: 'Std',
  0x106: 'Clts', 0x108: 'Invd', 0x109: 'Wbinvd', 0x10b: 'Ud2', 0x102: 'Lar', 0x103: 'Lsl', 0x105: 'Syscall',
  0x120: 'Mov', 0x121: 'Mov', 0x122: 'Mov', 0x123: 'Mov', 0x130: 'Wrmsr', 0x131: 'Rdtsc', 0x132: 'Rdmsr',
  0x1a0: 'Push', 0x1a1: 'Pop', 0x1a2: 'Cpuid', 0x1a3: 'Bt', 0x1a4: 'Shld', 0x1a5: 'Shld', 0x1a8: 'Push',
  0x1a9: 'Pop', 0x1ab: 'Bts', 0x1ac: 'Shrd', 0x1ad: 'Shrd', 0x1af: 'Imul', 0x1b0: 'Cmpxchg', 0x1b1: 'Cmpxchg', 0x1b2: 'Lss',
  0x1b3: 'Btr', 0x1b4: 'Lfs', 0x1b5: 'Lgs', 0x1b6: 'Movzx', 0x1b7: 'Movzx', 0x1b8: 'Popcnt', 0x1bb: 'Btc', 0x1be: 'Movsx',
  0x1bf: 'Movsx', 0x1c0: 'Xadd', 0x1c1: 'Xadd', 0x1c3: 'Movnti',
};

export function mnemonicOf(i: Insn): string {
  if (!i.valid) return 'INVALID';
  const op = i.op;
  const r = i.reg & 7;
  if (op < 0x40 && (op & 7) < 6) return ALU[op >> 3];
  if (op >= 0x40 && op <= 0x47) return 'Inc';
  if (op >= 0x48 && op <= 0x4f) return 'Dec';
  if (op >= 0x50 && op <= 0x57) return 'Push';
  if (op >= 0x58 && op <= 0x5f) return 'Pop';
  if (op >= 0x70 && op <= 0x7f) return 'J' + CC[op & 15];
  if (op >= 0x180 && op <= 0x18f) return 'J' + CC[op & 15];
  if (op >= 0x140 && op <= 0x14f) return 'Cmov' + CC[op & 15];
  if (op >= 0x190 && op <= 0x19f) return 'Set' + CC[op & 15];
  if (op >= 0xb0 && op <= 0xbf) return 'Mov';
  if (op >= 0x1c8 && op <= 0x1cf) return 'Bswap';
  if (op >= 0xd8 && op <= 0xdf) return x87Name(op, i.isMem, i.reg, i.rm) ?? 'INVALID';
  if (op >= 0x91 && op <= 0x97) return 'Xchg';
  switch (op) {
    case 0x06: case 0x0e: case 0x16: case 0x1e: return 'Push';
    case 0x07: case 0x17: case 0x1f: return 'Pop';
    case 0x60: return i.size === 2 ? 'Pusha' : 'Pushad';
    case 0x61: return i.size === 2 ? 'Popa' : 'Popad';
    case 0x63: return i.mode === 64 ? 'Movsxd' : 'Arpl';
    case 0x6d: return sized(i, 'Insw', 'Insd', 'Insd');
    case 0x6f: return sized(i, 'Outsw', 'Outsd', 'Outsd');
    case 0x80: case 0x81: case 0x82: case 0x83: return ALU[r];
    case 0x90: return i.rep === 1 ? 'Pause' : (i.rex & 1) !== 0 ? 'Xchg' : 'Nop';
    case 0x98: return sized(i, 'Cbw', 'Cwde', 'Cdqe');
    case 0x99: return sized(i, 'Cwd', 'Cdq', 'Cqo');
    case 0x9c: return sized(i, 'Pushf', 'Pushfd', 'Pushfq');
    case 0x9d: return sized(i, 'Popf', 'Popfd', 'Popfq');
    case 0xa5: return sized(i, 'Movsw', 'Movsd', 'Movsq');
    case 0xa7: return sized(i, 'Cmpsw', 'Cmpsd', 'Cmpsq');
    case 0xab: return sized(i, 'Stosw', 'Stosd', 'Stosq');
    case 0xad: return sized(i, 'Lodsw', 'Lodsd', 'Lodsq');
    case 0xaf: return sized(i, 'Scasw', 'Scasd', 'Scasq');
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: return SHIFT[r];
    case 0xcf: return sized(i, 'Iret', 'Iretd', 'Iretq');
    case 0xe3: return i.asize === 2 ? 'Jcxz' : i.asize === 4 ? 'Jecxz' : 'Jrcxz';
    case 0xf6: case 0xf7: return GRP3[r];
    case 0xfe: return r === 0 ? 'Inc' : 'Dec';
    case 0xff: return GRP5[r] || 'INVALID';
    case 0x100: return GRP6[r] || 'INVALID';
    case 0x101: {
      if (i.isMem) return GRP7M[r] || 'INVALID';
      const rm = i.rm & 7;
      if (r === 7 && rm === 0) return 'Swapgs';
      if (r === 7 && rm === 1) return 'Rdtscp';
      if (r === 4) return 'Smsw';
      if (r === 6) return 'Lmsw';
      return 'INVALID';
    }
    case 0x107: return i.size === 8 ? 'Sysretq' : 'Sysret';
    case 0x134: return 'Sysenter';
    case 0x135: return i.size === 8 ? 'Sysexitq' : 'Sysexit';
    case 0x10d: return i.isMem ? 'INVALID' : 'Reservednop'; // PREFETCHW (memory) is not advertised
    case 0x118: return i.isMem && r < 4 ? ['Prefetchnta', 'Prefetcht0', 'Prefetcht1', 'Prefetcht2'][r] : 'Reservednop';
    case 0x11f: return r === 0 ? 'Nop' : 'Reservednop';
    case 0x1b9: return 'Ud1';
    case 0x1ff: return 'Ud0';
    case 0x119: case 0x11a: case 0x11b: case 0x11c: case 0x11d: case 0x11e: return 'Reservednop';
    case 0x1ba: return BT[r] || 'INVALID';
    // Without BMI1/LZCNT (as on Westmere) F3 0F BC/BD execute as BSF/BSR; with them the decoder
    // gives them their own ids.
    case 0x1bc: return 'Bsf';
    case 0x1bd: return 'Bsr';
    case 0x1c7: return i.size === 8 ? 'Cmpxchg16b' : 'Cmpxchg8b';
    case 0x2f0: case 0x2f1: return 'Movbe';
    case OP_TZCNT: return 'Tzcnt';
    case OP_LZCNT: return 'Lzcnt';
    case OP_RDRAND: return r === 6 ? 'Rdrand' : 'Rdseed';
    case OP_XGETBV: return (i.rm & 7) === 0 ? 'Xgetbv' : 'Xsetbv';
    case OP_XSAVE: return (i.size === 8 ? ['Xsave64', 'Xrstor64', 'Xsaveopt64'] : ['Xsave', 'Xrstor', 'Xsaveopt'])[r - 4];
    case OP_VEX_0F38 | 0xf2: return 'Andn';
    case OP_VEX_0F38 | 0xf3: return ['', 'Blsr', 'Blsmsk', 'Blsi'][r] || 'INVALID';
    case OP_VEX_0F38 | 0xf5: return i.rep === 0 ? 'Bzhi' : i.rep === 1 ? 'Pext' : 'Pdep';
    case OP_VEX_0F38 | 0xf6: return 'Mulx';
    case OP_VEX_0F38 | 0xf7: return i.opsizePrefix ? 'Shlx' : ['Bextr', 'Sarx', 'Shrx'][i.rep];
    case OP_VEX_0F3A | 0xf0: return 'Rorx';
    case 0x1ae: {
      if (i.isMem) return [i.size === 8 ? 'Fxsave64' : 'Fxsave', i.size === 8 ? 'Fxrstor64' : 'Fxrstor', 'Ldmxcsr', 'Stmxcsr', 'Xsave', 'Xrstor', 'Xsaveopt', i.opsizePrefix ? 'Clflushopt' : 'Clflush'][r];
      return r === 5 ? 'Lfence' : r === 6 ? 'Mfence' : r === 7 ? 'Sfence' : 'INVALID';
    }
  }
  const name = ONE[op];
  if (name !== undefined) return name;
  return sseMnemonic(i) ?? 'INVALID';
}
