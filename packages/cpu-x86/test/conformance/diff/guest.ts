// The interpreter side of a differential case: an X86Cpu in 64-bit mode at CPL 3, with 4-level page
// tables that identity-map the data window (user, writable) and the code page (user, read-only) at the
// same linear addresses as the native harness. Everything else is not present.
// 32- and 16-bit cases run in protected mode at CPL 3 with 32-bit paging, in the environment of the QEMU
// runner (harness/diffexec-qemu32.c, see env32.ts): same GDT and selectors, same user mappings.
// A stub run by the CPU itself loads the GDT, TR, CR3/CR4/CR0 and IRETs to CPL 3; the CPU's snapshot
// of that moment is restored before every case.
import { GuestMemory, PortBus } from '@unimachine/core';
import { X86Cpu, type X86CpuLike } from '../cpu-api.js';
import { CODE_BASE, CODE_SIZE, END_MARKER, GUARD_HI, WINDOW_BASE, WINDOW_SIZE } from './layout.js';
import { buildProtectedEnvironment, caseCs, caseEntry, SETUP_ENTRY, SETUP_MAX_STEPS } from './env32.js';
import type { Bits, CaseResult, CpuState, TestCase, WindowRun } from './state.js';

const PML4 = 0x1000;
const PDPT = 0x2000;
const PD = 0x3000;
const PT = 0x4000;
const PT0 = 0x5000; // maps linear page 0 (the TSS)
const TSS_IO_MAP_BASE = 0x66;
const P = 1, RW = 2, US = 4;
/** More than any case can retire (REP counts are small); a case still running after this is stuck. */
const MAX_STEPS = 100_000;
const RFLAGS_FIXED = 0x202;
const CR0_AM = 0x40000n;
/** Case flags the CPU takes: CF PF AF ZF SF DF OF, and AC (the align family; #AC on both sides). */
const RFLAGS_TAKEN = 0x40cd5; // bit 1 always set; IF=1 as in any Linux user process
/** A run() failure whose message says this: the instruction is not there yet (not a defect). */
const UNIMPLEMENTED = /unimplemented|not implemented|unsupported/i;

/** What the runner uses of the CPU beyond cpu-api.ts: the Device snapshot contract and the CPL. */
interface SnapshotCpu {
  snapshot(): unknown;
  restore(s: unknown): void;
  readonly cpl: number;
  readonly segSel?: Uint16Array;
}

export class GuestRunner {
  readonly memory = new GuestMemory(GUARD_HI);
  private cpu: X86CpuLike;
  /** 32-bit cases: the CPU right after the setup stub reached CPL 3 (restored before every case). */
  private userSnapshot: unknown;
  private readonly window: Uint8Array;
  private readonly pristine: Uint8Array;
  private readonly window32: Int32Array;
  private readonly pristine32: Int32Array;

  constructor(pristine: Uint8Array, readonly bits: Bits = 64, readonly model?: string) {
    if (!X86Cpu) throw new Error('X86Cpu is not exported by @unimachine/cpu-x86 yet');
    this.pristine = pristine;
    this.window = this.memory.u8.subarray(WINDOW_BASE, WINDOW_BASE + WINDOW_SIZE);
    this.window.set(pristine);
    this.window32 = new Int32Array(this.memory.buffer, WINDOW_BASE, WINDOW_SIZE / 4);
    this.pristine32 = new Int32Array(pristine.buffer, pristine.byteOffset, WINDOW_SIZE / 4);
    if (bits === 64) this.buildPageTables();
    else buildProtectedEnvironment(this.memory, bits);
    this.cpu = this.newCpu();
  }

  // Long mode is entered once per CPU object (entering it flushes the CPU's caches, which is slow);
  // each case then only loads registers. A CPU that died is replaced.
  private newCpu(): X86CpuLike {
    const cpu = new X86Cpu!({ memory: this.memory, ports: new PortBus(), ...(this.model ? { model: this.model } : {}) });
    cpu.stopOnException = true;
    if (this.bits === 64) {
      cpu.enterLongMode({ cr3: PML4, cpl: 3, rip: BigInt(CODE_BASE), rsp: BigInt(WINDOW_BASE) });
      cpu.setCr(0, cpu.getCr(0) | CR0_AM); // as Linux sets it on the host: EFLAGS.AC enables #AC at CPL 3
      // The `max` model has XSAVE: enable it as Linux does for the host side (CR4.OSXSAVE, XCR0 x87+SSE).
      if (this.model === 'max') { cpu.setCr(4, cpu.getCr(4) | 0x40000n); (cpu as unknown as { xcr0: number }).xcr0 = 3; }
    } else {
      cpu.enterMultiboot(SETUP_ENTRY, 0);
      const c = cpu as unknown as SnapshotCpu;
      const entry = BigInt(caseEntry(this.bits)), cs = caseCs(this.bits);
      for (let i = 0; i < SETUP_MAX_STEPS && !(cpu.getRip() === entry && c.cpl === 3); i++) cpu.run(1);
      if (cpu.lastException || c.cpl !== 3 || c.segSel?.[1] !== cs) {
        throw new Error(`the 32-bit setup stub did not reach CPL 3 (rip 0x${cpu.getRip().toString(16)}, exception ${JSON.stringify(cpu.lastException)})`);
      }
      this.userSnapshot = c.snapshot();
    }
    return cpu;
  }

  private buildPageTables(): void {
    const m = this.memory;
    m.writeU64(PML4, PDPT | P | RW | US);
    m.writeU64(PDPT, PD | P | RW | US);
    m.writeU64(PD + 8 * Math.floor(WINDOW_BASE / 0x20_0000), PT | P | RW | US);
    const first = (WINDOW_BASE % 0x20_0000) / 4096;
    for (let i = 0; i < WINDOW_SIZE / 4096; i++) m.writeU64(PT + 8 * (first + i), (WINDOW_BASE + i * 4096) | P | RW | US);
    m.writeU64(PT + 8 * (first + WINDOW_SIZE / 4096), CODE_BASE | P | US); // code: read-only, executable
    // The TSS: enterLongMode leaves TR at base 0, limit 0xFFFF. Map that page for the CPU's implicit
    // (supervisor) accesses and put the I/O map base past the limit: no I/O permission bitmap, so
    // IN/OUT at CPL 3 raise #GP(0), as for a Linux process without ioperm().
    m.writeU64(PT0, P | RW);
    m.writeU64(PD, PT0 | P | RW | US);
    m.writeU16(TSS_IO_MAP_BASE, 0xffff);
  }

  /**
   * The CPU caches decoded code by physical address and only sees guest writes; our host-side write of
   * the code page must drop that cache. The contract has no call for it yet: use the CPU's own
   * write notification (notePhysWrite), or a fresh CPU if that is gone.
   */
  private invalidateCode(): void {
    const c = this.cpu as unknown as { invalidateCode?: (a: number, n: number) => void; notePhysWrite?: (pa: number) => void };
    if (c.invalidateCode) c.invalidateCode(CODE_BASE, CODE_SIZE);
    else if (c.notePhysWrite) c.notePhysWrite(CODE_BASE);
    else this.cpu = this.newCpu();
  }

  run(tc: TestCase): CaseResult {
    const code = this.memory.u8.subarray(CODE_BASE, CODE_BASE + CODE_SIZE);
    code.fill(0);
    code.set(tc.code);
    code.set(END_MARKER, tc.code.length);
    this.invalidateCode();
    for (const p of tc.patches) this.window.set(p.bytes, p.offset);

    const cpu = this.cpu;
    const s = tc.state;
    // Case offsets: linear addresses in 32/64-bit code, offsets in the 16-bit code segment (base CODE_BASE).
    const start = this.bits === 64 ? CODE_BASE : caseEntry(this.bits);
    const end = BigInt(start + tc.code.length);
    try {
      if (this.userSnapshot) (cpu as unknown as SnapshotCpu).restore(this.userSnapshot);
      cpu.lastException = undefined;
      for (let i = 0; i < 16; i++) cpu.setGpr(i, s.gpr[i]);
      cpu.setRflags((s.rflags & RFLAGS_TAKEN) | RFLAGS_FIXED);
      for (let i = 0; i < 16; i++) cpu.setXmm(i, s.xmm[i]);
      cpu.mxcsr = s.mxcsr;
      cpu.setRip(BigInt(start));
    } catch (e) {
      return this.finish('unimplemented', `state setup failed: ${(e as Error).message}`);
    }
    let note: string | undefined;
    let outcome: CaseResult['outcome'] = 'timeout';
    for (let steps = 0; steps < MAX_STEPS; steps++) {
      if (cpu.getRip() === end) { outcome = 'completed'; break; }
      let exit;
      try {
        exit = cpu.run(1);
      } catch (e) {
        // A host exception is a CPU defect, unless the CPU says the instruction is not there yet.
        note = `run() threw: ${(e as Error).message}`;
        outcome = UNIMPLEMENTED.test(note) ? 'unimplemented' : 'crash';
        this.cpu = this.newCpu();
        break;
      }
      if (cpu.lastException) { outcome = 'exception'; break; }
      if (exit === 'dead') {
        note = `dead: ${cpu.deathReason?.split('\n')[0]}`;
        outcome = UNIMPLEMENTED.test(note) ? 'unimplemented' : 'crash';
        this.cpu = this.newCpu();
        break;
      }
      if (exit !== 'budget') { outcome = 'crash'; note = `run() returned ${exit}`; break; }
    }
    return this.finish(outcome, note);
  }

  private finish(outcome: CaseResult['outcome'], note: string | undefined): CaseResult {
    const cpu = this.cpu;
    const state: CpuState = { gpr: [], rflags: 0, mxcsr: 0, xmm: [] };
    let rip = 0n;
    try {
      for (let i = 0; i < 16; i++) state.gpr.push(BigInt.asUintN(64, cpu.getGpr(i)));
      state.rflags = cpu.getRflags();
      state.mxcsr = cpu.mxcsr;
      for (let i = 0; i < 16; i++) state.xmm.push(cpu.getXmm(i));
      rip = BigInt.asUintN(64, cpu.getRip());
    } catch (e) {
      outcome = 'crash';
      note ??= `reading state failed: ${(e as Error).message}`;
    }
    const res: CaseResult = { outcome, rip, state, window: this.takeWindowDiff() };
    if (outcome === 'exception' && cpu.lastException) {
      const x = cpu.lastException;
      res.vector = x.vector;
      res.errorCode = x.errorCode ?? 0;
      if (x.vector === 14) res.faultAddress = x.address !== undefined ? BigInt.asUintN(64, x.address) : undefined;
    }
    if (note) res.note = note;
    return res;
  }

  /** Runs where the window differs from pristine; restores those bytes for the next case. */
  private takeWindowDiff(): WindowRun[] {
    const w = this.window, p = this.pristine, size = w.length;
    const w32 = this.window32, p32 = this.pristine32;
    const runs: WindowRun[] = [];
    let i = 0;
    while (i < size) {
      if ((i & 3) === 0 && w32[i >> 2] === p32[i >> 2]) { i += 4; continue; }
      if (w[i] === p[i]) { i++; continue; }
      let j = i;
      while (j < size && w[j] !== p[j]) j++;
      runs.push({ offset: i, bytes: w.slice(i, j) });
      w.set(p.subarray(i, j), i);
      i = j;
    }
    return runs;
  }
}
