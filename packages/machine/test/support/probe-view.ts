import type { GuestMemory } from '@unimachine/core';

/** What the probe kernel (support/kernels.ts) prints, computed from guest memory in JS. */
export function probeOutput(memory: GuestMemory, magic: number, mbi: number): string {
  const hex = (v: number) => (v >>> 0).toString(16).padStart(8, '0');
  const cstr = (a: number) => {
    let s = '';
    while (memory.readU8(a)) s += String.fromCharCode(memory.readU8(a++));
    return s;
  };
  const w = (i: number) => memory.readU32(mbi + i * 4);
  let out = `magic=${hex(magic)} mbi=${hex(mbi)}\n`;
  for (let i = 0; i < 22; i++) out += hex(w(i)) + (i % 8 === 7 ? '\n' : ' ');
  out += '\n';
  if (w(0) & 4) out += `cmdline=[${cstr(w(4))}]\n`;
  if (w(0) & 0x200) out += `loader=[${cstr(w(16))}]\n`;
  for (let a = w(12), end = a + w(11); a < end; a += memory.readU32(a) + 4) {
    const r = (o: number) => memory.readU32(a + o);
    out += `mmap size=${hex(r(0))} base=${hex(r(8))}${hex(r(4))} len=${hex(r(16))}${hex(r(12))} type=${hex(r(20))}\n`;
  }
  return out;
}
