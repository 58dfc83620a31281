import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Reads the output of test/qemu-guest/dump.c (run on QEMU 7.2 `-machine pc`): fw_cfg items,
 * files, DMA behaviour, and the tables SeaBIOS installed in guest memory.
 */
export interface QemuDump {
  text: string;
  keys: Map<number, Uint8Array>;
  files: { select: number; size: number; name: string }[];
  /** `file:NAME` (fw_cfg content, zero-padded to its size) or `mem:SIG` (guest memory). */
  blobs: Map<string, { address: number; bytes: Uint8Array }>;
  dmaTests: Map<string, { control: number; bytes: string }>;
  lines: string[];
}

export const fixturePath = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

export function parseDump(text: string): QemuDump {
  const lines = text.split('\n');
  const dump: QemuDump = { text, keys: new Map(), files: [], blobs: new Map(), dmaTests: new Map(), lines };
  for (let i = 0; i < lines.length; i++) {
    const f = lines[i].split(' ');
    if (f[0] === 'KEY') dump.keys.set(parseInt(f[1], 16), Buffer.from(f[2], 'hex'));
    else if (f[0] === 'FILE') dump.files.push({ select: parseInt(f[1], 16), size: parseInt(f[2], 16), name: f[3] });
    else if (f[0] === 'DMATEST') dump.dmaTests.set(f[1], { control: parseInt(f[2], 16), bytes: f[3] ?? '' });
    else if (f[0] === 'BLOB') {
      const size = parseInt(f[3], 16);
      const shown = parseInt(f[4], 16);
      let hex = '';
      while (hex.length < shown * 2) hex += lines[++i];
      const bytes = new Uint8Array(size);
      bytes.set(Buffer.from(hex, 'hex'));
      dump.blobs.set(f[1], { address: parseInt(f[2], 16), bytes });
    }
  }
  return dump;
}

export function loadDump(cpus: 1 | 2 | 4): QemuDump {
  return parseDump(readFileSync(fixturePath(`qemu-7.2-pc-m256-smp${cpus}.txt`), 'utf8'));
}

export function blob(dump: QemuDump, name: string): Uint8Array {
  const b = dump.blobs.get(name);
  if (!b) throw new Error(`no ${name} in the QEMU dump`);
  return b.bytes;
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
