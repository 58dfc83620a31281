// x87 environment and state images, and #MF: FNSTENV/FLDENV (14- and 28-byte formats), FNSAVE/FRSTOR
// (94 and 108 bytes), and a waiting instruction that meets a pending unmasked exception.
//   FXRSTOR [IN] ; instruction under test ; FXSAVE [OUT]
// Stored images are compared byte for byte except the instruction/operand pointer fields (FIP, FCS,
// FOP, FDP, FDS: what they hold differs between vendors, as for FXSAVE).
import type { Prng } from '../prng.js';
import { WINDOW_BASE } from './layout.js';
import type { Patch } from './state.js';
import { bytesOf } from './values.js';
import { baseState, type Family } from './family.js';
import { ext80, fxImage } from './families-x87.js';

const IN = 0xe000;
const OUT = 0xe200;
const IMAGE = 0xe400; // the env/save image, at a random small offset from here

const absolute = (reg: number, offset: number) => [0x0f, 0xae, (reg << 3) | 4, 0x25, ...bytesOf(BigInt(WINDOW_BASE + offset), 4)];
/** An x87 memory form [disp32] (absolute, as above), with a 66 prefix for the 16-bit image formats. */
const x87Mem = (op: number, digit: number, offset: number, small: boolean) =>
  [...(small ? [0x66] : []), op, (digit << 3) | 4, 0x25, ...bytesOf(BigInt(WINDOW_BASE + offset), 4)];

/** Bytes of the pointer fields in an environment image at `at`: never compared. */
function pointerMask(at: number, small: boolean): { offset: number; mask: number }[] {
  const [from, to] = small ? [6, 14] : [12, 28];
  const out = [];
  for (let i = from; i < to; i++) out.push({ offset: at + i, mask: 0 });
  return out;
}

/** A random environment image: control word (masks mostly set), status word, full tag word. */
function envImage(r: Prng, small: boolean): Uint8Array {
  const img = new Uint8Array(small ? 14 : 28);
  const dv = new DataView(img.buffer);
  const step = small ? 2 : 4;
  let fcw = 0x037f | (r.int(4) << 10);
  if (r.chance(0.3)) fcw = (fcw & ~0x0300) | (r.pick([0, 2, 3]) << 8);
  if (r.chance(0.3)) fcw &= ~r.int(64);
  if (r.chance(0.2)) fcw = r.int(0x10000); // reserved bits too
  dv.setUint16(0, fcw, true);
  dv.setUint16(step, r.int(0x10000), true); // any status word, ES and B included
  let ftw = 0;
  for (let i = 0; i < 8; i++) ftw |= (r.chance(0.4) ? 3 : r.int(4)) << (2 * i);
  dv.setUint16(2 * step, ftw, true);
  for (let i = 3 * step; i < img.length; i++) img[i] = r.int(256); // pointers: loaded, not interpreted
  if (!small && r.chance(0.5)) { dv.setUint16(2, 0, true); dv.setUint16(6, 0, true); dv.setUint16(10, 0, true); }
  return img;
}

/** An FXRSTOR image with exceptions both unmasked and flagged, so the next waiting instruction faults. */
function pendingImage(r: Prng, xmm: Uint8Array[]): Uint8Array {
  const img = fxImage(r, xmm);
  const dv = new DataView(img.buffer);
  const which = 1 << r.int(6);
  dv.setUint16(0, dv.getUint16(0, true) & ~which, true);
  dv.setUint16(2, dv.getUint16(2, true) | which | (r.chance(0.8) ? 0x80 : 0), true);
  return img;
}

export const x87EnvFamily: Family = {
  name: 'x87-env',
  features: new Set(['FPU', 'FPU287', 'FPU387', 'FXSR', 'INTEL8086']),
  modes: [64, 32],
  generate(r, bits) {
    const st = baseState(r);
    const small = r.chance(0.3);
    const at = IMAGE + r.int(64);
    const kind = r.chance(0.12) ? 4 : r.int(4); // #MF cases are a minority: most cases must complete
    const patches: Patch[] = [{ offset: IN, bytes: kind === 4 ? pendingImage(r, st.xmm) : fxImage(r, st.xmm) }];
    const masks = [];
    let test: number[];
    if (kind === 0) { // FNSTENV: stores the environment, then masks all exceptions
      test = x87Mem(0xd9, 6, at, small);
      masks.push(...pointerMask(at, small));
    } else if (kind === 1) { // FNSAVE: environment + the eight registers, then FNINIT
      test = x87Mem(0xdd, 6, at, small);
      masks.push(...pointerMask(at, small));
    } else if (kind === 2) { // FLDENV
      patches.push({ offset: at, bytes: envImage(r, small) });
      test = x87Mem(0xd9, 4, at, small);
    } else if (kind === 3) { // FRSTOR
      const env = envImage(r, small);
      const image = new Uint8Array(env.length + 80);
      image.set(env);
      for (let i = 0; i < 8; i++) image.set(ext80(r), env.length + 10 * i);
      patches.push({ offset: at, bytes: image });
      test = x87Mem(0xdd, 4, at, small);
    } else { // a waiting instruction with an unmasked exception pending: #MF before it executes
      test = r.pick([[0x9b], [0xd9, 0xe8], [0xd8, 0xc1], [0x9b, 0xdf, 0xe0], [0xd9, 0x04, 0x25, ...bytesOf(BigInt(WINDOW_BASE + at), 4)]]);
    }
    const code = Uint8Array.from([...absolute(1, IN), ...test, ...absolute(0, OUT)]);
    return { code, state: st, patches, focus: 1, fxsaveAt: OUT, masks };
  },
};
