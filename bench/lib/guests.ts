/** The guests the side-by-side bench boots, with what each must print and exit with. */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { exitStatus, loadGuestCases, matchExpected } from '../../guest/test/expected.js';
import { nativeOutput } from './native.js';
import { CPU32_ELF, CPU64_ELF } from './paths.js';

export interface BenchGuest {
  /** Row name in the tables. */
  name: string;
  elf: string;
  /** Kernel arguments (QEMU -append). */
  append: string;
  /** 32 when the kernel's code is 32-bit throughout (v86 can run it). */
  bits: 32 | 64;
  /** Expected process status, QEMU-style ((code << 1) | 1). */
  status: number;
  /** undefined when the console output is the expected one, else what differs. */
  checkOutput(text: string): string | undefined;
}

/** ELF class byte: 1 = ELF32, 2 = ELF64. Our 64-bit guests are ELF64; ELF32 ones are 32-bit code. */
function elfBits(path: string): 32 | 64 {
  const head = readFileSync(path).subarray(0, 5);
  return head[4] === 1 ? 32 : 64;
}

function workloadGuest(name: string, elf: string, rounds: number): BenchGuest {
  const append = `n=${rounds}`;
  const expected = nativeOutput(append);
  return {
    name: `${name} n=${rounds}`,
    elf,
    append,
    bits: elfBits(elf),
    status: exitStatus(0),
    checkOutput: (text) => (text === expected ? undefined : `output differs from the native build (last line ${JSON.stringify(lastLine(text))})`),
  };
}

function lastLine(text: string): string {
  const lines = text.trimEnd().split('\n');
  return lines[lines.length - 1] ?? '';
}

/** The bench workloads, then every case of every guest app (apps/<app>/cases.json). */
export function benchGuests(rounds: number): { guests: BenchGuest[]; missing: string[]; skipped: string[] } {
  const guests = [workloadGuest('bench-cpu32', CPU32_ELF, rounds), workloadGuest('bench-cpu64', CPU64_ELF, rounds)];
  const missing: string[] = [];
  const skipped: string[] = [];
  for (const c of loadGuestCases()) {
    // Apps that need a virtio disk image or a network peer need per-case machine and QEMU
    // arguments (guest/test sets them up); the side-by-side bench does not do that yet.
    const needs = (c as { disk?: unknown; net?: unknown }).disk ? 'a virtio-blk disk' : (c as { net?: unknown }).net ? 'a virtio-net peer' : undefined;
    if (needs) {
      skipped.push(`${c.name} (needs ${needs})`);
      continue;
    }
    if (!existsSync(c.elfPath)) {
      missing.push(basename(c.elfPath));
      continue;
    }
    guests.push({
      name: c.name === c.app ? c.app : `${c.app}:${c.name}`,
      elf: c.elfPath,
      append: c.append,
      bits: elfBits(c.elfPath),
      status: c.status,
      checkOutput: (text) => {
        const m = matchExpected(c.expectedText, text);
        return m.ok ? undefined : `output differs from ${basename(c.expectedPath)}: ${m.diff.split('\n').slice(0, 3).join(' ').replace(/\s+/g, ' ')}`;
      },
    });
  }
  return { guests, missing, skipped };
}
