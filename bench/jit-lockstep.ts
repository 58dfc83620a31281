// Runs a multiboot kernel twice in lockstep, the interpreter alone and with the WebAssembly tier
// compiling every block at once, run(step) at a time, and reports the first divergence of registers,
// flags, rip or retired count (a tool for tier bugs; the tests compare whole runs):
//   node --conditions=source --import tsx bench/jit-lockstep.ts [kernel.elf] [step] [max steps]
import { readFileSync } from 'node:fs';
import { GuestMemory, PortBus } from '@unimachine/core';
import { X86Cpu } from '@unimachine/cpu-x86';
import { loadMultiboot } from '@unimachine/machine';
const elf = process.argv[2] ?? 'bench/build/bench-cpu64.elf';
const step = Number(process.argv[3] ?? 1);
const max = Number(process.argv[4] ?? 5e6);
function make(jit: false | { threshold: number }) {
  const memory = new GuestMemory(128 << 20);
  const ports = new PortBus();
  ports.claim({ start: 0x3f8, length: 8 }, { read: (p) => (p === 0x3fd ? 0x60 : 0), write: () => {} }, 'com1');
  const cpu = new X86Cpu({ memory, ports, jit });
  const l = loadMultiboot(readFileSync(elf), memory, { kernelName: elf, cmdline: 'n=1' });
  cpu.enterMultiboot(l.entry, l.infoAddress);
  return cpu;
}
const a = make(false), b = make({ threshold: 0 });
const hex = (c: X86Cpu) => { const r: string[] = []; for (let i = 0; i < 16; i++) r.push(c.getGpr(i).toString(16)); return r.join(' ') + ` rip=${c.rip.toString(16)} fl=${c.fl.get().toString(16)} n=${c.instructionsRetired}`; };
let prev = '';
for (let i = 0; i < max; i++) {
  const ea = a.run(step), eb = b.run(step);
  const sa = hex(a), sb = hex(b);
  if (sa !== sb || ea !== eb) { console.log('diverged at step', i, ea, eb, '\nprev', prev, '\nint ', sa, '\njit ', sb, b.deathReason?.split('\n')[0] ?? ''); process.exit(1); }
  if (ea === 'dead' || ea === 'stopped') { console.log('both', ea, 'after', a.instructionsRetired); break; }
  prev = sa;
}
console.log('same through', a.instructionsRetired, 'jit stats', JSON.stringify(b.jit?.stats));
