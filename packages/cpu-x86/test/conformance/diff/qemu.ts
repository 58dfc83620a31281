// The QEMU backend for 32-bit cases: builds the bare-metal runner (harness/diffexec-qemu32.{c,S,ld})
// with the system gcc and ld into a cache folder (keyed by the sources' hash), writes the cases as a
// multiboot module in the native harness's stream format, boots QEMU (TCG, Westmere, as DESIGN.md
// §10) and decodes the compact results the runner writes to an IDE disk image (faster than COM1).
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeCase, encodeHeader } from './protocol.js';
import type { CaseResult, Outcome, TestCase, WindowRun } from './state.js';

const HARNESS_DIR = fileURLToPath(new URL('../../../harness/', import.meta.url));
const SOURCES = ['diffexec-qemu32.c', 'diffexec-qemu32.S', 'diffexec-qemu32.ld'];
export const QEMU = 'qemu-system-x86_64';

/** Why the QEMU backend cannot run here, or undefined when it can. */
export function qemuUnavailableReason(): string | undefined {
  for (const [tool, args] of [[QEMU, ['--version']], ['gcc', ['--version']], ['ld', ['--version']]] as const) {
    try {
      execFileSync(tool, args, { stdio: 'ignore' });
    } catch {
      return `${tool} is not on PATH${tool === QEMU ? ' (apt-get install qemu-system-x86)' : ''}`;
    }
  }
  return undefined;
}

let built: string | undefined;

export function buildQemuRunner(): string {
  if (built) return built;
  const hash = createHash('sha256');
  for (const s of SOURCES) hash.update(readFileSync(join(HARNESS_DIR, s)));
  const dir = join(tmpdir(), 'unimachine-diffexec');
  const elf = join(dir, `diffexec-qemu32-${hash.digest('hex').slice(0, 16)}.elf`);
  if (!existsSync(elf)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${elf}.${process.pid}`;
    // The flags of guest/Makefile's 32-bit kernels, minus -march=i386 (the runner uses FXSAVE).
    const cflags = ['-m32', '-march=i686', '-mgeneral-regs-only', '-ffreestanding', '-nostdlib', '-fno-pic', '-no-pie', '-static', '-O2',
      '-fno-stack-protector', '-fno-asynchronous-unwind-tables', '-fno-tree-loop-distribute-patterns', '-Wall', '-Wextra', '-Werror'];
    execFileSync('gcc', [...cflags, '-c', join(HARNESS_DIR, 'diffexec-qemu32.c'), '-o', `${tmp}.c.o`], { stdio: 'pipe' });
    execFileSync('gcc', [...cflags, '-c', join(HARNESS_DIR, 'diffexec-qemu32.S'), '-o', `${tmp}.S.o`], { stdio: 'pipe' });
    execFileSync('ld', ['-m', 'elf_i386', '-nostdlib', '-static', '--build-id=none', '-z', 'noexecstack', '--no-warn-rwx-segments',
      '-T', join(HARNESS_DIR, 'diffexec-qemu32.ld'), '-o', tmp, `${tmp}.S.o`, `${tmp}.c.o`], { stdio: 'pipe' });
    rmSync(`${tmp}.c.o`);
    rmSync(`${tmp}.S.o`);
    renameSync(tmp, elf); // atomic: parallel test files never boot a half-written image
  }
  built = elf;
  return elf;
}

/**
 * Families with 32-bit cases that are not run against QEMU, and why: where QEMU's emulation departs
 * from the SDM in ways a case cannot avoid. (The same instructions are compared against the host CPU
 * in 64-bit code, and x87 arithmetic does not depend on the code size.)
 */
export const QEMU_EXCLUDED_FAMILIES = new Map<string, string>([
  ['x87', "QEMU's x87 detects no stack overflow or underflow (no IE/SF, no indefinite), never sets C1 on rounding up, and loads invalid BCD differently"],
  ['x87-env', "QEMU's x87 status word after FLDENV/FRSTOR and the FNSAVE tag/pointer fields differ from the SDM"],
]);

const OUTCOMES: Outcome[] = ['completed', 'exception', 'timeout'];
const RESULT_HEAD = 4 + 5 * 4 + 8 * 4;

/** Run 32-bit cases in QEMU; one QEMU boot for the whole batch. */
export function runQemu(pristine: Uint8Array, cases: readonly TestCase[]): CaseResult[] {
  const elf = buildQemuRunner();
  const dir = join(tmpdir(), 'unimachine-diffexec');
  const stem = join(dir, `qemu32-${process.pid}-${Date.now()}`);
  const module = `${stem}.cases`, disk = `${stem}.results`;
  writeFileSync(module, Buffer.concat([encodeHeader(pristine), ...cases.map(encodeCase)]));
  writeFileSync(disk, '');
  truncateSync(disk, 120 << 20); // sparse; the runner's buffer ends below 128 MiB
  try {
    const r = spawnSync(QEMU, ['-accel', 'tcg', '-cpu', 'Westmere', '-m', '128', '-nodefaults', '-no-reboot', '-machine', 'acpi=off',
      '-display', 'none', '-serial', 'stdio', '-device', 'isa-debug-exit', '-kernel', elf, '-initrd', module,
      '-drive', `file=${disk},format=raw,if=ide,index=0,cache=unsafe`],
    { maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    if (r.error) throw r.error;
    const console = r.stdout;
    const at = console.indexOf('DXERR');
    if (at >= 0) {
      const n = console.readUInt32LE(at + 5);
      const msg = console.subarray(at + 9, at + 9 + n).toString('latin1');
      throw new Error(`QEMU runner failed: ${msg}: 0x${console.readUInt32LE(at + 9 + n).toString(16)} 0x${console.readUInt32LE(at + 13 + n).toString(16)}`);
    }
    if (r.status !== 1 || console.indexOf('DXEND') < 0) throw new Error(`QEMU exited with ${r.status ?? r.signal}: ${r.stderr.toString()}`);
    return decodeQemuResults(readResults(disk), cases, pristine);
  } finally {
    rmSync(module, { force: true });
    rmSync(disk, { force: true });
  }
}

function readResults(disk: string): Buffer {
  const fd = openSync(disk, 'r');
  try {
    const head = Buffer.alloc(8);
    readSync(fd, head, 0, 8, 0);
    if (head.subarray(0, 4).toString('latin1') !== 'DXRS') throw new Error('QEMU results disk: no DXRS header');
    const body = Buffer.alloc(head.readUInt32LE(4));
    readSync(fd, body, 0, body.length, 8);
    return body;
  } finally {
    closeSync(fd);
  }
}

/** Decode the runner's compact results; what it does not send (R8..R15, unchanged XMM) is the input. */
export function decodeQemuResults(b: Buffer, cases: readonly TestCase[], pristine: Uint8Array): CaseResult[] {
  const window = pristine.slice();
  const out: CaseResult[] = [];
  let o = 0;
  for (const c of cases) {
    if (o + RESULT_HEAD + 4 > b.length) throw new Error(`QEMU output truncated at result ${out.length} of ${cases.length}`);
    const outcome = OUTCOMES[b[o]];
    const vector = b[o + 1];
    const xmmMask = b[o + 2];
    const errorCode = b.readUInt32LE(o + 4);
    const cr2 = b.readUInt32LE(o + 8);
    const rip = BigInt(b.readUInt32LE(o + 12));
    const rflags = b.readUInt32LE(o + 16);
    const mxcsr = b.readUInt32LE(o + 20);
    const gpr = [...c.state.gpr];
    for (let i = 0; i < 8; i++) gpr[i] = BigInt(b.readUInt32LE(o + 24 + 4 * i));
    o += RESULT_HEAD;
    const xmm = c.state.xmm.map((x) => x.slice());
    for (let i = 0; i < 8; i++) {
      if (!(xmmMask & (1 << i))) continue;
      xmm[i] = Uint8Array.from(b.subarray(o, o + 16));
      o += 16;
    }
    // Runs are relative to the window the case started with: rebuild the final window, then diff it
    // against pristine as the native harness reports it.
    const touched: [number, number][] = [];
    for (const p of c.patches) {
      window.set(p.bytes, p.offset);
      touched.push([p.offset, p.offset + p.bytes.length]);
    }
    const runs = b.readUInt32LE(o); o += 4;
    for (let r = 0; r < runs; r++) {
      const offset = b.readUInt32LE(o);
      const len = b.readUInt32LE(o + 4);
      window.set(b.subarray(o + 8, o + 8 + len), offset);
      touched.push([offset, offset + len]);
      o += 8 + len;
    }
    const res: CaseResult = { outcome, rip, state: { gpr, rflags, mxcsr, xmm }, window: diffAndRestore(window, pristine, touched) };
    if (outcome === 'exception') {
      res.vector = vector;
      res.errorCode = errorCode;
      if (vector === 14) res.faultAddress = BigInt(cr2);
    }
    out.push(res);
  }
  if (b.subarray(o, o + 5).toString('latin1') !== 'DXEND') throw new Error('QEMU output: missing end marker after the last result');
  return out;
}

/** Runs where `window` differs from `pristine` inside the touched ranges, which are then restored. */
function diffAndRestore(window: Uint8Array, pristine: Uint8Array, touched: [number, number][]): WindowRun[] {
  touched.sort((x, y) => x[0] - y[0]);
  const out: WindowRun[] = [];
  let i = 0;
  for (const [start, end] of touched) {
    for (i = Math.max(i, start); i < end; i++) {
      if (window[i] === pristine[i]) continue;
      let j = i;
      while (j < window.length && window[j] !== pristine[j]) j++;
      out.push({ offset: i, bytes: window.slice(i, j) });
      i = j;
    }
  }
  for (const [start, end] of touched) window.set(pristine.subarray(start, end), start);
  return out;
}
