// Builds harness/diffexec.c with the system gcc into a cache folder (keyed by the source's hash, so an
// edit rebuilds) and runs batches of cases through one harness process per batch.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeResults, encodeCase, encodeHeader } from './protocol.js';
import type { CaseResult, TestCase } from './state.js';

export const HARNESS_SOURCE = fileURLToPath(new URL('../../../harness/diffexec.c', import.meta.url));

/** Why the native side cannot run here, or undefined when it can. */
export function nativeUnavailableReason(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `needs Linux on x86-64 (this is ${process.platform}/${process.arch})`;
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'gcc is not installed';
  }
  return undefined;
}

let built: string | undefined;

export function buildHarness(): string {
  if (built) return built;
  const src = readFileSync(HARNESS_SOURCE);
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'unimachine-diffexec');
  const exe = join(dir, `diffexec-${hash}`);
  if (!existsSync(exe)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${exe}.${process.pid}.tmp`;
    execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-o', tmp, HARNESS_SOURCE], { stdio: 'pipe' });
    renameSync(tmp, exe); // atomic: parallel test files never run a half-written binary
  }
  built = exe;
  return exe;
}

/** Run the cases natively; one harness process for the whole batch. */
export function runNative(pristine: Uint8Array, cases: readonly TestCase[]): CaseResult[] {
  const exe = buildHarness();
  const input = Buffer.concat([encodeHeader(pristine), ...cases.map(encodeCase)]);
  const r = spawnSync(exe, [], { input, maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`diffexec exited with ${r.status ?? r.signal}: ${r.stderr.toString()}`);
  return decodeResults(r.stdout, cases.length);
}

let compat32: string | undefined | null = null;

/**
 * Why the host cannot run 32-bit cases (compatibility mode through a 32-bit code segment), or
 * undefined when it can. Some hypervisor kernels fault on the far jump into any 32-bit code segment.
 * Not used by the suite: 32-bit cases run on QEMU (qemu.ts), at CPL 3 in protected mode as the CPU
 * runs them; this probe and diffexec.c's bitness 32 remain for comparing against real hardware on a
 * host that allows compatibility mode.
 */
export function native32UnavailableReason(): string | undefined {
  if (compat32 !== null) return compat32;
  const why = nativeUnavailableReason();
  if (why) return (compat32 = why);
  const state = { gpr: Array.from({ length: 16 }, () => 0n), rflags: 0x202, mxcsr: 0x1f80, xmm: Array.from({ length: 16 }, () => new Uint8Array(16)) };
  const probe: TestCase = { family: 'probe', bitness: 32, mnemonic: 'Inc', code: Uint8Array.of(0x40), state, patches: [], undefinedFlags: 0, undefinedGprs: [] };
  const [r] = runNative(new Uint8Array(0x1_0000), [probe]);
  compat32 = r.outcome === 'completed' && (r.state.gpr[0] & 0xffff_ffffn) === 1n ? undefined
    : `this host kernel cannot run 32-bit user code (the far jump to a 32-bit code segment raised vector ${r.vector}, error code 0x${(r.errorCode ?? 0).toString(16)})`;
  return compat32;
}
