import type { X86Cpu } from './cpu.js';

const NAMES = ['RAX', 'RCX', 'RDX', 'RBX', 'RSP', 'RBP', 'RSI', 'RDI', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15'];
const SEGS = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'];

function hex(v: number, w: number): string {
  if (v < 0) v += 2 ** 64;
  return v.toString(16).padStart(w, '0');
}
function h64(c: X86Cpu, n: number): string {
  return (c.r[2 * n + 1] >>> 0).toString(16).padStart(8, '0') + (c.r[2 * n] >>> 0).toString(16).padStart(8, '0');
}

/** A register dump in the style of QEMU's `info registers`. */
export function dumpRegisters(c: X86Cpu): string {
  const lines: string[] = [];
  const long = c.codeSize === 64 || (c.efer & 0x400) !== 0;
  if (long) {
    for (let n = 0; n < 16; n += 4) {
      lines.push([0, 1, 2, 3].map((k) => `${NAMES[n + k].padEnd(3)}=${h64(c, n + k)}`).join(' '));
    }
    lines.push(`RIP=${hex(c.rip, 16)} RFL=${hex(c.fl.get(), 8)} CPL=${c.cpl} mode=${c.codeSize}-bit`);
  } else {
    const e = (n: number) => `E${NAMES[n].slice(1)}=${(c.r[2 * n] >>> 0).toString(16).padStart(8, '0')}`;
    lines.push([0, 3, 1, 2].map(e).join(' '));
    lines.push([6, 7, 5, 4].map(e).join(' '));
    lines.push(`EIP=${hex(c.rip, 8)} EFL=${hex(c.fl.get(), 8)} CPL=${c.cpl} mode=${c.cr0 & 1 ? 'protected' : 'real'} ${c.codeSize}-bit`);
  }
  for (let s = 0; s < 6; s++) {
    lines.push(`${SEGS[s]} =${hex(c.segSel[s], 4)} base=${hex(c.segBase[s], 16)} limit=${hex(c.segLimit[s], 8)} attr=${hex(c.segAttr[s], 4)}`);
  }
  lines.push(`GDT=${hex(c.gdtBase, 16)}/${hex(c.gdtLimit, 4)} IDT=${hex(c.idtBase, 16)}/${hex(c.idtLimit, 4)} TR=${hex(c.trSel, 4)} base=${hex(c.trBase, 16)}`);
  lines.push(`CR0=${hex(c.cr0, 8)} CR2=${hex(c.cr2, 16)} CR3=${hex(c.cr3, 16)} CR4=${hex(c.cr4, 8)} EFER=${hex(c.efer, 8)}`);
  lines.push(`CR8=${hex(c.cr8, 1)} DR6=${hex(c.dr[6] | 0xffff0ff0, 8)} DR7=${hex(c.dr[7] | 0x400, 8)} LDT=${hex(c.ldtSel, 4)}` +
    `${c.nmiBlocked ? ' NMI-blocked' : ''}${c.nmiPending ? ' NMI-pending' : ''}${c.shadow ? ' shadow' : ''}`);
  return lines.join('\n');
}
