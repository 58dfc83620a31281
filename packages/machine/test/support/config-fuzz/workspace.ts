// The fuzzer's sandbox: a temporary folder holding every file a case may name (kernels good and
// mangled, disk images, special files), so relative paths in cases never leave it.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Rng } from './random.js';

/** The names a case may use: the same for every workspace, so a case can be shown without making one. */
export interface WorkspaceNames {
  /** Kernel file names in the workspace (good, truncated, mangled) and special files. */
  kernels: string[];
  /** Names of files and special files a path option may point at. */
  files: string[];
  /** Absolute paths outside the workspace that cases may read (never write): character devices. */
  devices: string[];
}

const TRUNCATED_64 = [0, 3, 16, 52, 64, 100, 0x200, 0x1000, 0x2000, 30000];
const TRUNCATED_32 = [52, 0x80, 0x1000, 8000];
const MANGLED = 12;
const SPECIALS = ['folder', 'fifo', 'zero', 'null', 'full', 'dangling', 'missing.elf', 'empty.yaml', 'text.txt', 'binary.bin', 'big.yaml', 'huge-string.yaml'];

export function workspaceNames(): WorkspaceNames {
  const kernels = [
    'hello.elf', 'hello32.elf', 'flat.bin',
    ...TRUNCATED_64.map((n) => `trunc64-${n}.elf`), ...TRUNCATED_32.map((n) => `trunc32-${n}.elf`),
    ...Array.from({ length: MANGLED }, (_, i) => `mangled64-${i}.elf`), ...Array.from({ length: MANGLED }, (_, i) => `mangled32-${i}.elf`),
    ...SPECIALS,
  ];
  return { kernels, files: ['disk.img', 'odd.img', 'empty.img', ...SPECIALS, 'hello.elf', 'not-a-plugin.mjs'], devices: ['/dev/null', '/dev/zero', '/dev/full'] };
}

export interface FuzzWorkspace extends WorkspaceNames {
  dir: string;
  dispose(): void;
}

/** ELF header fields worth breaking: e_phoff, e_phentsize, e_phnum, e_shoff, e_entry, e_type, e_machine. */
const ELF64_FIELDS: [offset: number, size: number][] = [[0x20, 8], [0x36, 2], [0x38, 2], [0x28, 8], [0x18, 8], [0x10, 2], [0x12, 2], [0x04, 1], [0x05, 1]];
const ELF32_FIELDS: [offset: number, size: number][] = [[0x1c, 4], [0x2a, 2], [0x2c, 2], [0x20, 4], [0x18, 4], [0x10, 2], [0x12, 2], [0x04, 1]];
const ODD_FIELD_VALUES = [0, 1, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 0x40, 0x1000, 0x100000];

function mangle(elf: Buffer, rng: Rng, is64: boolean): Buffer {
  const out = Buffer.from(elf);
  const fields = is64 ? ELF64_FIELDS : ELF32_FIELDS;
  const edits = rng.between(1, 3);
  for (let i = 0; i < edits; i++) {
    if (rng.chance(0.5)) {
      const [off, size] = rng.pick(fields);
      const v = rng.pick(ODD_FIELD_VALUES);
      for (let b = 0; b < size; b++) out[off + b] = b < 4 ? (v >>> (8 * b)) & 0xff : 0;
    } else {
      // Somewhere in the program headers or the multiboot header (the first 8 KiB).
      const at = rng.int(Math.min(out.length, 8192));
      out[at] ^= 1 << rng.int(8);
    }
  }
  return out;
}

/** A flat multiboot image (a.out kludge) whose code writes 20 to isa-debug-exit: status 41. */
function flatMultiboot(): Buffer {
  const img = Buffer.alloc(0x30);
  const magic = 0x1badb002;
  const flags = 0x00010000;
  img.writeUInt32LE(magic, 0);
  img.writeUInt32LE(flags, 4);
  img.writeUInt32LE(-(magic + flags) >>> 0, 8);
  img.writeUInt32LE(0x100000, 12);
  img.writeUInt32LE(0x100000, 16);
  img.writeUInt32LE(0x100020, 28);
  Buffer.from([0x66, 0xba, 0x01, 0x05, 0x66, 0xb8, 0x14, 0x00, 0x66, 0xef, 0xf4]).copy(img, 0x20);
  return img;
}

/** RAM-backed /dev/shm when there is one: each case writes its machine file, and a disk write costs ms here. */
function fastTempDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/**
 * Make the sandbox. Everything in it is a function of `seed`, so a case reruns against the same
 * files. `hello64` and `hello32` are the guest/build kernels.
 */
export function createWorkspace(seed: number, hello64: string, hello32: string): FuzzWorkspace {
  const dir = mkdtempSync(path.join(fastTempDir(), 'unimachine-config-fuzz-'));
  const rng = new Rng(seed, 0x5eed);
  const elf64 = readFileSync(hello64);
  const elf32 = readFileSync(hello32);
  const write = (name: string, bytes: Buffer | string) => {
    writeFileSync(path.join(dir, name), bytes);
    return name;
  };
  write('hello.elf', elf64);
  write('hello32.elf', elf32);
  write('flat.bin', flatMultiboot());
  for (const len of TRUNCATED_64) write(`trunc64-${len}.elf`, elf64.subarray(0, len));
  for (const len of TRUNCATED_32) write(`trunc32-${len}.elf`, elf32.subarray(0, len));
  for (let i = 0; i < MANGLED; i++) write(`mangled64-${i}.elf`, mangle(elf64, rng, true));
  for (let i = 0; i < MANGLED; i++) write(`mangled32-${i}.elf`, mangle(elf32, rng, false));

  write('disk.img', Buffer.alloc(64 * 1024));
  write('odd.img', Buffer.alloc(1000));
  write('empty.img', Buffer.alloc(0));
  write('empty.yaml', '');
  write('comment.yaml', '# nothing here\n');
  write('text.txt', 'not yaml: [\n');
  write('binary.bin', Buffer.from([0, 1, 2, 0xff, 0xfe, 0]));
  // Just over the 1 MiB limit, and the 50 MB string: both must be refused unread.
  write('big.yaml', `machine: "${'x'.repeat(1024 * 1024)}"\n`);
  write('huge-string.yaml', `machine: "${'y'.repeat(50 * 1024 * 1024)}"\n`);
  write('not-a-plugin.mjs', 'export const nothing = 1;\n');
  write('throwing-plugin.mjs', "throw new Error('plugin exploded at import');\n");
  write('syntax-plugin.mjs', 'export const = ;\n');
  mkdirSync(path.join(dir, 'folder'));
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  for (const [name, target] of [['zero', '/dev/zero'], ['null', '/dev/null'], ['full', '/dev/full'], ['dangling', 'nowhere/at/all']]) {
    symlinkSync(target, path.join(dir, name));
  }
  return { dir, ...workspaceNames(), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
