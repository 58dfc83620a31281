// iced-x86 (CommonJS + wasm) loaded with createRequire, plus the few helpers this suite needs.
import { createRequire } from 'node:module';
import type * as Iced from 'iced-x86';

export const iced = createRequire(import.meta.url)('iced-x86') as typeof Iced;
export type IcedInstruction = Iced.Instruction;

export const codeName = (code: number): string => iced.Code[code];
export const mnemonicName = (m: number): string => iced.Mnemonic[m];
export const featureName = (f: number): string => iced.CpuidFeature[f];

/** One decoded instruction, as plain data (the wasm object is freed). */
export interface IcedDecoded {
  valid: boolean;
  length: number;
  code: number;
  mnemonic: string;
  features: readonly string[];
  /** Opcode is 0F 18..0F 1F: the hint/reserved-NOP space, a NOP on CPUs without the feature. */
  reservedNopSpace: boolean;
}

function usesMmxRegister(i: Iced.Instruction): boolean {
  for (let k = 0; k < i.opCount; k++) {
    if (i.opKind(k) !== iced.OpKind.Register) continue;
    const reg = i.opRegister(k);
    if (reg >= iced.Register.MM0 && reg <= iced.Register.MM7) return true;
  }
  return false;
}

const featureCache = new Map<number, { features: readonly string[]; reservedNopSpace: boolean }>();

/** Reuses one Instruction object; decoders are cheap enough to make per call. */
export class IcedDecoder {
  private readonly instr = new iced.Instruction();

  constructor(private readonly options = 0) {}

  decode(bytes: Uint8Array, bitness: 16 | 32 | 64, options = this.options): IcedDecoded {
    const dec = new iced.Decoder(bitness, bytes, options);
    try {
      dec.decodeOut(this.instr);
      const i = this.instr;
      const valid = !i.isInvalid;
      // One Code can cover an MMX-register form and a memory form (CVTPI2PS mm/m64): the features
      // differ, so the cache key says which one this is.
      const mmx = usesMmxRegister(i);
      const key = i.code * 2 + (mmx ? 1 : 0);
      let meta = featureCache.get(key);
      if (!meta) {
        const op = i.opCode;
        // ENDBR32/64 report their ModRM in the opcode (0x1EFB/0x1EFA): they still live in 0F 1E.
        const opByte = op.opCode > 0xff ? op.opCode >> 8 : op.opCode;
        const reservedNopSpace = op.encoding === iced.EncodingKind.Legacy && op.table === iced.OpCodeTableKind.T0F && opByte >= 0x18 && opByte <= 0x1f;
        op.free();
        const features = [...i.cpuidFeatures()].map(featureName);
        // iced lists SSE-era MMX-register forms (PMOVMSKB mm, PSHUFW, ...) as SSE only; they need MMX too.
        if (mmx && !features.includes('MMX')) features.push('MMX');
        meta = { features, reservedNopSpace };
        featureCache.set(key, meta);
      }
      return { valid, length: valid ? i.length : 0, code: i.code, mnemonic: mnemonicName(i.mnemonic), ...meta };
    } finally {
      dec.free();
    }
  }

  /** Intel-syntax text of the first instruction in `bytes`. */
  format(bytes: Uint8Array, bitness: 16 | 32 | 64 = 64, ip = 0n): string {
    const dec = new iced.Decoder(bitness, bytes, this.options);
    dec.ip = ip;
    const instr = dec.decode();
    const f = new iced.Formatter(iced.FormatterSyntax.Intel);
    try {
      return instr.isInvalid ? '(invalid)' : f.format(instr);
    } finally {
      f.free();
      instr.free();
      dec.free();
    }
  }
}

export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
