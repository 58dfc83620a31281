import type { Clock, CompiledPortIo, Cpu, CpuExit, GuestMemory, InterruptSource, PortBus } from '@unimachine/core';
import { Insn } from './insn.js';
import { decodeInto } from './decoder.js';
import { LazyFlags, IF, TF, RF, AC as FLAG_AC } from './flags.js';
import { ACC_FETCH, ACC_USER, NEED, TLB_SIZE, Tlb, walk } from './mmu.js';
import { HANDLERS } from './dispatch.js';
import { deliverException, deliverNmi, describeVector } from './interrupts.js';
import { dumpRegisters } from './dump.js';
import { DecodeCache } from './decode-cache.js';
import { LAST_CACHED_OFFSET, type Block } from './block.js';
import { incDec32 } from './exec-fast.js';
import { branchTarget } from './operands.js';
import { modelHas1GPages, modelIsa, type CpuModel } from './cpuid.js';
import { rdrandState } from './exec-bmi.js';
import { X87 } from './x87.js';
import { CHK_FETCH, checkFetchEnd, checkFetchStart, fetchPageWithinLimit, refreshSegChecks } from './segment-check.js';
import { DebugState, debugAfter, debugBefore, noteDataAccess, resetDebugRegisters, updateDebugState } from './debug.js';
import { HostDebug } from './host-debug.js';
import type { CpuLocalApic } from './apic-hook.js';
import { initReset, startFromSipi, StartupState } from './startup.js';
import { REGS, SEG_BASE, SEG_CHECKED, STATE_BYTES, XMM, XMM_BYTES } from './jit/state-layout.js';
import { allocateCpuArea } from './jit/cpu-area.js';
import { JitTier, jitFromEnvironment } from './jit/tier.js';

export interface X86CpuOptions {
  memory: GuestMemory;
  ports: PortBus;
  interrupts?: InterruptSource;
  clock?: Clock;
  /** CPUID profile. */
  model?: CpuModel;
  onTripleFault?: 'stop' | 'reset';
  /** TSC frequency in Hz (RDTSC = clock.now() * tscHz / 1e9). */
  tscHz?: number;
  /**
   * The local APIC, when the machine has one: it answers the APIC MSRs and MOV CR8, and CPUID
   * advertises it. Without it the CPU keeps its own IA32_APIC_BASE copy and CR8 (no APIC bit).
   */
  apic?: CpuLocalApic;
  /**
   * SMP: the decode cache of the machine's other CPUs (same model), so a store by any CPU drops what
   * any of them decoded (startup.ts). Default: a cache of this CPU's own.
   */
  decodeCache?: DecodeCache;
  /** Logical processors in this CPU's package, as CPUID reports them (QEMU -smp N: N cores, one socket). Default 1. */
  packageCpus?: number;
  /** An application processor: it starts in wait-for-SIPI (not run until a start-up IPI). Default false. */
  waitForSipi?: boolean;
  /**
   * The WebAssembly tier (jit/tier.ts): compile a block after it ran `threshold` times in the
   * interpreter (0: every block at once), or `false` for the interpreter alone. Default: the
   * UNIMACHINE_JIT environment variable (`off`, or a threshold), else off.
   */
  jit?: false | { threshold: number };
}

/** Thrown (one shared object, never allocated) to unwind an instruction that raised an exception. */
export const FAULT = { fault: true };

const TWO32 = 4294967296;
/** CR0.AM: alignment mask (enables #AC with EFLAGS.AC at CPL3). */
const CR0_AM = 0x40000;

export class X86Cpu implements Cpu {
  declare readonly memory: GuestMemory;
  declare readonly ports: PortBus;
  declare readonly interrupts: InterruptSource | undefined;
  declare readonly apic: CpuLocalApic | undefined;
  declare readonly clock: Clock | undefined;
  declare readonly model: string;
  /** 1 GiB pages are advertised (the `max` model); otherwise PS in a PDPTE is a reserved bit. */
  declare readonly pages1G: boolean;
  declare readonly onTripleFault: 'stop' | 'reset';
  declare readonly tscHz: number;
  declare readonly ramSize: number;
  declare readonly view: DataView;
  declare readonly u8: Uint8Array;

  /**
   * The buffer holding this CPU's state block (registers, segment bases, TLB: jit/state-layout.ts) and
   * the block's offset in it: the machine's WebAssembly.Memory, after guest RAM, so compiled code and
   * the interpreter share one copy.
   */
  declare readonly stateBuffer: ArrayBuffer;
  declare readonly stateBase: number;
  /** General registers as 32-bit halves: r[2n] = low, r[2n+1] = high, n = 0..15. */
  declare readonly r: Int32Array;
  /** XMM0-15, 16 bytes each, plus scratch slots (16: memory source, 17: temporary, 18: saved destination). */
  declare readonly xmmU8: Uint8Array;
  declare readonly xmm16: Uint16Array;
  declare readonly xmm32: Int32Array;
  declare readonly xmmF32: Float32Array;
  declare readonly xmmF64: Float64Array;
  /** x87 control word (masks, precision and rounding control); the rest of the x87 state is in `x87`. */
  fpuCw = 0x37f;
  readonly x87 = new X87();
  /** Debug registers DR0-DR7 (DR4/DR5 unused: they alias DR6/DR7). Breakpoint logic: debug.ts. */
  readonly dr = new Float64Array(8);
  /** DBG_* bits (debug.ts) from DR7: nonzero makes step() run the debug hooks. 0 in the common case. */
  debugMode = 0;
  /** An enabled data breakpoint: every data access takes the checked path (folded into alignCheck). */
  dataWatch = false;
  readonly dbg = new DebugState();
  /** A host debugger's breakpoint is set: runBlock() falls back to step(), which checks each address. */
  hostBreak = false;
  /** A host debugger's watchpoint is set: every data access takes the checked path (folded into alignCheck). */
  hostWatch = false;
  /** Breakpoints, watchpoints and stop reasons of a host debugger (the gdb stub): host-debug.ts. */
  readonly hostDebug = new HostDebug(this);
  /** Scratch for float <-> bits conversions in x87 loads and stores. */
  readonly fpScratch = new DataView(new ArrayBuffer(8));
  rip = 0;
  readonly fl = new LazyFlags();

  // Segment registers (0=ES 1=CS 2=SS 3=DS 4=FS 5=GS): selector and descriptor cache.
  readonly segSel = new Uint16Array(6);
  declare readonly segBase: Float64Array;
  readonly segLimit = new Float64Array(6);
  /** Descriptor attributes: bits 0-7 = access byte (type,S,DPL,P), bits 12-15 = AVL,L,D/B,G. */
  readonly segAttr = new Uint16Array(6);
  /** Per segment: 0 = no limit/type checks needed (flat or 64-bit mode), else CHK_* bits (segment-check.ts). */
  declare readonly segChecked: Uint8Array;

  cr0 = 0x60000010;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  cr8 = 0;
  efer = 0;
  gdtBase = 0;
  gdtLimit = 0xffff;
  idtBase = 0;
  idtLimit = 0xffff;
  ldtSel = 0;
  ldtBase = 0;
  ldtLimit = 0;
  trSel = 0;
  trBase = 0;
  trLimit = 0xffff;
  trAttr = 0x8b;
  mxcsrValue = 0x1f80;
  /** XCR0 (XSETBV/XGETBV, models with XSAVE): x87 always on, SSE optional. */
  xcr0 = 1;
  /** Model-specific registers we keep as plain numbers (lo/hi where 64-bit values matter). */
  kernelGsBase = 0;
  tscAux = 0;
  patLo = 0x00070406;
  patHi = 0x00070406;
  apicBase = 0xfee00900;
  miscEnable = 1;
  star = [0, 0];
  lstar = 0;
  cstar = 0;
  sfmask = 0;
  sysenterCs = 0;
  sysenterEsp = 0;
  sysenterEip = 0;
  tscOffset = 0;
  /** MTRRdefType, fixed and variable MTRRs as lo/hi word pairs (layout in msr.ts). */
  readonly mtrr = new Uint32Array(56);
  /** An NMI is waiting for delivery / NMIs are blocked until the next IRET. */
  nmiPending = false;
  nmiBlocked = false;

  // Derived mode state.
  private cplValue = 0;
  /** Current privilege level (read-only: changed by far transfers, interrupts, IRET, SYSCALL/SYSRET). */
  get cpl(): number {
    return this.cplValue;
  }
  /** Decode mode: 16, 32 or 64. */
  codeSize = 16;
  /** Stack pointer width in bytes (2, 4, 8). */
  stackSize = 2;
  paging = false;
  /** ACC_USER when CPL=3: ORed into data access kinds. */
  accUser = 0;
  /**
   * CR0.AM set and CPL=3, or a data breakpoint armed: data accesses call checkAlign (EFLAGS.AC is read
   * only on a misaligned access, so POPF/IRET need not recompute this). Usually false in ring 0, so the
   * hot path pays one field test.
   */
  alignCheck = false;

  /** High half of the last 64-bit value returned by a read helper. */
  hi = 0;
  nextRip = 0;
  declare readonly tlb: Tlb;
  declare readonly decodeCache: DecodeCache;
  /** The WebAssembly tier, when on. */
  declare readonly jit: JitTier | undefined;
  /** The code page of the last fetch: linear base, physical base, its decoded-instruction array. */
  private fetchBase = -1; // -1: none (never a page base; a Smi, unlike NaN)
  private fetchPhys = 0;
  private fetchPage: Insn[] = [];
  /** The decoded blocks of the same page, by page offset. */
  private fetchBlocks: (Block | undefined)[] = [];
  private readonly fetchBuf = new Uint8Array(16);
  /** Instructions that cross a page, by linear address, with the physical pages they came from (keepCrossPage). */
  private readonly crossPage = new Map<number, { ins: Insn; p1: number; p2: number }>();
  /**
   * The event word: nonzero when something happened inside an instruction that the boundary checks
   * must see before the next one runs (a stop request, an NMI, an MMIO access that may have raised an
   * interrupt, decoded code or a translation dropped, a mode or CPL change). runBlock() clears it when
   * a block starts and leaves the block after any instruction that set it. (Port I/O instructions
   * always end a block: block.ts.)
   */
  events = 0;

  halted = false;
  /** Interrupts inhibited for one instruction (after STI or MOV SS). */
  shadow = false;
  private stopRequested = false;
  private dead = false;
  deathReason: string | undefined;
  instructionsRetired = 0;
  stopOnException = false;
  lastException: { vector: number; errorCode?: number; address?: bigint } | undefined;
  /** Pending exception being raised. */
  excVec = 0;
  excErr = -1;
  /** The exception came from INT n / INT3 / INTO (return address is after the instruction). */
  excSoft = false;
  /** Address of the INT n instruction being delivered (a fault during its delivery points back at it). */
  softIntRip = 0;

  constructor(opts: X86CpuOptions) {
    this.memory = opts.memory;
    this.ports = opts.ports;
    this.interrupts = opts.interrupts;
    this.apic = opts.apic;
    this.clock = opts.clock;
    this.model = opts.model ?? 'westmere';
    this.pages1G = modelHas1GPages(this.model);
    this.onTripleFault = opts.onTripleFault ?? 'stop';
    this.tscHz = opts.tscHz ?? 2_000_000_000;
    this.ramSize = this.memory.size;
    this.view = this.memory.view;
    this.u8 = this.memory.u8;
    const area = allocateCpuArea(this.memory, opts.decodeCache === undefined);
    this.stateBuffer = area.buffer;
    const base = this.stateBase = area.base;
    const buf = area.buffer;
    this.r = new Int32Array(buf, base + REGS, 32);
    this.xmmU8 = new Uint8Array(buf, base + XMM, XMM_BYTES);
    this.xmm16 = new Uint16Array(buf, base + XMM, XMM_BYTES / 2);
    this.xmm32 = new Int32Array(buf, base + XMM, XMM_BYTES / 4);
    this.xmmF32 = new Float32Array(buf, base + XMM, XMM_BYTES / 4);
    this.xmmF64 = new Float64Array(buf, base + XMM, XMM_BYTES / 8);
    this.segBase = new Float64Array(buf, base + SEG_BASE, 6);
    this.segChecked = new Uint8Array(buf, base + SEG_CHECKED, 6);
    this.decodeCache = opts.decodeCache ?? new DecodeCache(this.ramSize, modelIsa(this.model), area.codePages);
    this.tlb = new Tlb(buf, base, this.ramSize, this.decodeCache.codePages);
    this.decodeCache.onCodePageChange((p, code) => (p < 0 ? this.tlb.allCodeDropped() : this.tlb.codePageChanged(p, code)));
    const jit = opts.jit ?? jitFromEnvironment() ?? false;
    const codePages = this.decodeCache.codePages;
    if (jit !== false && area.wasm && codePages.buffer === this.memory.buffer) {
      const blockAt = (off: number): Block | undefined => this.fetchBlocks[off] ?? this.decodeCache.buildBlock(this.fetchPage, this.fetchBlocks, off, this.codeSize, this.u8, this.fetchPhys);
      this.jit = new JitTier(this, this.memory.wasm, codePages.byteOffset, jit.threshold, blockAt);
    } else this.jit = undefined;
    // Any TLB flush or code-page invalidation drops the cached fetch page.
    this.tlb.onFlush = () => { this.fetchBase = -1; this.events = 1; };
    this.decodeCache.onInvalidate(() => { this.fetchBase = -1; this.events = 1; this.crossPage.clear(); });
    this.startState = new StartupState(opts.packageCpus ?? 1, opts.waitForSipi ?? false);
    this.reset();
  }

  // ------------------------------------------------------------------ lifecycle

  reset(): void {
    this.r.fill(0);
    this.xmmU8.fill(0);
    this.r[4] = 0x000206c2; // EDX = processor signature after reset (family 6, model 0x2c)
    this.fl.set(2);
    this.segSel.fill(0);
    this.segBase.fill(0);
    this.segLimit.fill(0xffff);
    this.segAttr.fill(0x93);
    this.segAttr[1] = 0x9b;
    this.segSel[1] = 0xf000;
    this.segBase[1] = 0xffff0000;
    this.rip = 0xfff0;
    this.cr0 = 0x60000010;
    this.cr2 = this.cr3 = this.cr4 = this.cr8 = 0;
    this.efer = 0;
    this.gdtBase = 0; this.gdtLimit = 0xffff;
    this.idtBase = 0; this.idtLimit = 0xffff;
    this.ldtSel = 0; this.ldtBase = 0; this.ldtLimit = 0xffff;
    this.trSel = 0; this.trBase = 0; this.trLimit = 0xffff; this.trAttr = 0x8b;
    this.mxcsrValue = 0x1f80;
    this.xcr0 = 1;
    this.fpuCw = 0x37f;
    this.x87.reset();
    resetDebugRegisters(this);
    this.kernelGsBase = 0;
    this.tscAux = 0;
    this.mtrr.fill(0);
    this.sysenterCs = this.sysenterEsp = this.sysenterEip = 0;
    this.nmiPending = this.nmiBlocked = false;
    this.halted = false;
    this.shadow = false;
    this.dead = false;
    this.deathReason = undefined;
    this.lastException = undefined;
    this.tlb.flush();
    this.decodeCache.clear();
    this.setCpl(0);
    this.updateMode();
  }

  /** Recompute CPL-independent mode state after CR0/EFER/CS changes. */
  updateMode(): void {
    const pe = (this.cr0 & 1) !== 0;
    const pg = (this.cr0 & 0x80000000) !== 0;
    this.paging = pe && pg;
    const csAttr = this.segAttr[1];
    if (!pe) this.codeSize = 16;
    else if (this.efer & 0x400 && csAttr & 0x2000) this.codeSize = 64;
    else this.codeSize = csAttr & 0x4000 ? 32 : 16;
    if (this.codeSize === 64) this.stackSize = 8;
    else this.stackSize = pe && this.segAttr[2] & 0x4000 ? 4 : 2;
    this.accUser = this.cplValue === 3 ? ACC_USER : 0;
    this.alignCheck = (this.cplValue === 3 && (this.cr0 & CR0_AM) !== 0) || this.dataWatch || this.hostWatch;
    this.fetchBase = -1;
    this.events = 1;
    refreshSegChecks(this);
  }

  setCpl(cpl: number): void {
    this.cplValue = cpl;
    this.accUser = cpl === 3 ? ACC_USER : 0;
    this.alignCheck = (cpl === 3 && (this.cr0 & CR0_AM) !== 0) || this.dataWatch || this.hostWatch;
    this.fetchBase = -1;
    this.events = 1;
  }

  /**
   * #AC(0) for a misaligned user data access of `size` bytes when EFLAGS.AC is set (caller has checked
   * alignCheck). Supervisor-kind accesses (descriptor tables, TSS) are never checked.
   */
  checkAlign(lin: number, size: number, acc: number): void {
    if (this.dataWatch) noteDataAccess(this, lin, size, acc & 1);
    if (this.hostWatch) this.hostDebug.noteAccess(lin, size, acc & 1);
    if (acc & ACC_USER && lin & (size - 1) && this.cr0 & CR0_AM && this.fl.get() & FLAG_AC) this.fault(17, 0);
  }

  /**
   * checkAlign for a whole x87/SSE operand whose alignment unit is not what its rd/wr pieces check: 16
   * for MOVUPS and the other unaligned 16-byte forms, 8 for FBSTP and MASKMOVDQU, 4 for FXSAVE/FXRSTOR
   * (before their 16-byte #GP). Measured on the host: table in test/unit/alignment-check.test.ts.
   * Callers test alignCheck first, as for every access. (With a breakpoint armed the unit is noted as
   * a read too: its bytes are the operand's, which the pieces note again.)
   */
  alignOperand(lin: number, unit: number): void {
    this.checkAlign(lin, unit, this.accUser);
  }

  enterMultiboot(entry: number, infoAddress: number): void {
    this.reset();
    this.cr0 = 0x60000011 & ~0x60000000; // PE (caches enabled)
    this.cr0 |= 0x10;
    this.loadFlatSegments(0x10, 0x18, 0xcf9b, 0xcf93, 0);
    this.r.fill(0);
    this.r[0] = 0x2badb002;
    this.r[6] = infoAddress | 0;
    this.idtLimit = 0; // no IDT until the kernel loads one: any exception ends in a triple fault
    this.gdtLimit = 0;
    this.rip = entry >>> 0;
    this.fl.set(2);
    this.updateMode();
  }

  /** Linux 32-bit boot protocol: the multiboot state, but ESI = boot_params and EAX = EBX = 0. */
  enterLinux32(entry: number, bootParams: number): void {
    this.enterMultiboot(entry, 0);
    this.r.fill(0);
    this.r[12] = bootParams | 0; // ESI
  }

  /** Put the CPU straight into 64-bit mode (test/debug helper, see CPU-API.md). */
  enterLongMode(opts: { cr3: number; cpl: 0 | 3; rip: bigint; rsp: bigint }): void {
    this.reset();
    this.cr0 = 0x80010033;
    this.cr4 = 0x620;
    this.efer = 0xd01;
    this.cr3 = opts.cr3;
    const dpl = opts.cpl << 5;
    this.loadFlatSegments(opts.cpl === 3 ? 0x2b : 0x08, opts.cpl === 3 ? 0x23 : 0, 0xa09b | dpl, 0x0093 | dpl, opts.cpl);
    if (opts.cpl === 0) {
      for (const s of [0, 2, 3, 4, 5]) { this.segSel[s] = 0; this.segAttr[s] = 0; }
    }
    this.setCpl(opts.cpl);
    this.setRip(opts.rip);
    this.setGpr(4, opts.rsp);
    this.fl.set(2);
    this.tlb.flush();
    this.updateMode();
  }

  private loadFlatSegments(cs: number, ds: number, csAttr: number, dsAttr: number, cpl: number): void {
    for (let s = 0; s < 6; s++) {
      this.segSel[s] = ds;
      this.segBase[s] = 0;
      this.segLimit[s] = 0xffffffff;
      this.segAttr[s] = dsAttr;
    }
    this.segSel[1] = cs;
    this.segAttr[1] = csAttr;
    this.setCpl(cpl);
  }

  /** Raise the NMI line (edge): vector 2, delivered at the next boundary, then blocked until IRET. */
  nmi(): void {
    this.nmiPending = true;
    this.events = 1;
  }

  /** INIT / start-up state (startup.ts): wait-for-SIPI, the signals seen, the package size CPUID reports. */
  declare readonly startState: StartupState;
  /** INIT signals received from the APIC. */
  get initSignals(): number {
    return this.startState.initSignals;
  }
  /** The vector of the last start-up IPI that started this CPU, or -1. */
  get lastStartupVector(): number {
    return this.startState.lastStartupVector;
  }
  /** In wait-for-SIPI (an AP after power-on or INIT): the machine does not run it. */
  get waitingForSipi(): boolean {
    return this.startState.waitingForSipi;
  }

  /** ApicProcessor: an INIT arrived: INIT reset (SDM Vol. 3 §9.1), then an AP waits for a SIPI. */
  init(): void {
    initReset(this);
  }

  /** ApicProcessor: a start-up IPI arrived: a waiting CPU starts in real mode at vector << 12. */
  startup(vector: number): void {
    startFromSipi(this, vector);
  }

  requestStop(): void {
    this.stopRequested = true;
    this.events = 1;
  }

  // ------------------------------------------------------------------ run loop

  /** Would the boundary check between blocks take an interrupt or an NMI now? (burst()'s condition.) */
  interruptDeliverable(): boolean {
    if (this.nmiPending && !this.nmiBlocked) return true;
    const src = this.interrupts;
    return src !== undefined && (this.fl.bits & IF) !== 0 && !this.shadow && !this.hostDebug.maskInterrupts && src.pending();
  }

  run(maxInstructions: number): CpuExit {
    if (this.dead) return 'dead';
    let n = 0;
    const src = this.interrupts;
    while (n < maxInstructions) {
      if (this.stopRequested) {
        this.stopRequested = false;
        return 'stopped';
      }
      const inhibit = this.shadow;
      this.shadow = false;
      if (this.nmiPending && !inhibit && !this.nmiBlocked) {
        this.halted = false;
        if (!deliverNmi(this)) return this.dead ? 'dead' : 'stopped';
        continue;
      }
      if (src !== undefined && !inhibit && this.fl.bits & IF && !this.hostDebug.maskInterrupts && src.pending()) {
        this.halted = false;
        const vec = src.acknowledge();
        if (!this.raiseExternal(vec)) return this.dead ? 'dead' : 'stopped';
        continue;
      }
      if (this.halted) return 'halted';
      const start = this.instructionsRetired;
      try {
        this.burst(maxInstructions - n, src, inhibit);
        n += this.instructionsRetired - start;
      } catch (e) {
        if (e !== FAULT) throw e;
        n += this.instructionsRetired - start + 1; // the faulting instruction counts against the budget
        if (!this.handleFault()) return this.dead ? 'dead' : 'stopped';
      }
      if (this.halted && !(this.fl.bits & IF)) {
        this.die('HLT with interrupts disabled');
        return 'dead';
      }
    }
    return 'budget';
  }

  /**
   * Run blocks back to back (the first one unconditionally: run() has checked this boundary) until the
   * budget is spent or something needs the outer loop: a stop request, HLT, an interrupt shadow, an
   * NMI or a deliverable interrupt. These checks run once per block; inside a block nothing they look
   * at can change without setting `events` (block.ts), which ends the block. After an interrupt
   * shadow (`single`) the shadowed instruction runs alone: the boundary after it is checked.
   */
  private burst(budget: number, src: InterruptSource | undefined, single: boolean): void {
    const end = this.instructionsRetired + budget;
    if (single) this.step();
    else this.runBlock(end);
    while (
      this.instructionsRetired < end && !this.stopRequested && !this.halted && !this.shadow && !this.nmiPending &&
      (src === undefined || !(this.fl.bits & IF) || !src.pending())
    ) {
      this.runBlock(end);
    }
  }

  /**
   * Run the decoded block at CS:rip, at most up to `end` retired instructions: one fetch check (code
   * page, translation, CS limit, mode) for the whole block. Falls back to step() for one instruction
   * when debug hooks are armed or the instruction cannot start a cached block.
   */
  private runBlock(end: number): void {
    const mode = this.codeSize;
    const rip = this.rip;
    const lin = this.linearIp(rip);
    const off = lin & 0xfff;
    if (((this.fl.bits & (TF | RF)) | this.debugMode) !== 0 || this.hostBreak || off > LAST_CACHED_OFFSET) { this.step(); return; }
    if (lin - off !== this.fetchBase && !this.enterCodePage(lin)) { this.step(); return; }
    let block = this.fetchBlocks[off];
    if (block === undefined || block.mode !== mode) {
      block = this.decodeCache.buildBlock(this.fetchPage, this.fetchBlocks, off, mode, this.u8, this.fetchPhys);
      if (block === undefined) { this.step(); return; }
    }
    if (wrapsIp(mode, rip, block)) { this.step(); return; }
    let n = end - this.instructionsRetired;
    // A compiled region chains on to further blocks within the budget; 0: interpret this block.
    if (this.tierTakes(block, mode) && this.jit!.run(block, rip, n, off) !== 0) return;
    // Interpret, and go on to the next block of the same page after a plain branch or fall-through:
    // nothing burst()'s checks look at can change there without setting `events`.
    let r = rip;
    let o = off;
    let blockRip = rip;
    // Kept here while blocks chain; written back when the chain ends (and before each handler).
    let retired = this.instructionsRetired;
    const R = this.r, f = this.fl;
    for (;;) {
      if (n > block.count) n = block.count;
      const insns = block.insns;
      const fns = block.fns;
      // Inline ops keep neither RIP nor the retired count up to date: both are written before a handler
      // or a taken branch runs (they may fault, and devices read the count as time) and when the run of
      // this block ends. An instruction's RIP is the page's RIP plus its offset in the page (ins.end).
      const pageRip = r - o;
      const base = retired;
      this.events = 0;
      let k = 0;
      let moved = false;
      run: for (;;) {
        const ins = insns[k];
        // Register forms run inline (exec-inline.ts: the kinds, the handlers each body mirrors). Literal
        // case labels: V8 then dispatches through a jump table (imported constants would be compared
        // one by one), and the bodies are written out here, as calls would cost what they save.
        // Flags-record ops: 1 ADD, 3 SUB, 5 LOGIC (flags.ts LF_*).
        switch (ins.fast) {
          case 0: { // K_CALL
            const next = pageRip + ins.end;
            this.rip = next - ins.len;
            this.nextRip = next;
            this.instructionsRetired = base + k;
            fns[k](this, ins);
            // Leave after a control transfer, or after an event (block.ts).
            if (this.nextRip !== next || this.events !== 0) { r = this.nextRip; moved = r !== next; k++; break run; }
            break;
          }
          case 1: { const d = ins.fd; R[d] = R[ins.fs]; R[d + 1] = 0; break; } // K_MOV32
          case 2: { const d = ins.fd, s = ins.fs; R[d] = R[s]; R[d + 1] = R[s + 1]; break; } // K_MOV64
          // K_ALU32_RR / K_ALU32_RI + op: ADD (0), SUB (5), CMP (7).
          case 10: case 20: {
            const d = ins.fd, a = R[d], b = ins.fast === 10 ? R[ins.fs] : ins.imm, v = (a + b) | 0;
            f.op = 1; f.size = 4; f.a = a; f.b = b; f.cin = 0; f.rh = 0; f.r = v;
            this.hi = 0; R[d] = v; R[d + 1] = 0; break;
          }
          case 15: case 25: case 17: case 27: {
            const kind = ins.fast, d = ins.fd, a = R[d], b = kind === 15 || kind === 17 ? R[ins.fs] : ins.imm, v = (a - b) | 0;
            f.op = 3; f.size = 4; f.a = a; f.b = b; f.cin = 0; f.rh = 0; f.r = v;
            this.hi = 0;
            if (kind < 17 || kind === 25) { R[d] = v; R[d + 1] = 0; }
            break;
          }
          // OR (1), AND (4), XOR (6), TEST (8: no write).
          case 11: case 21: case 14: case 24: case 16: case 26: case 18: case 28: {
            const kind = ins.fast, d = ins.fd, a = R[d], b = kind < 20 ? R[ins.fs] : ins.imm, op = kind % 10;
            const v = op === 1 ? a | b : op === 6 ? a ^ b : a & b;
            f.op = 5; f.size = 4; f.rh = 0; f.r = v;
            this.hi = 0;
            if (op !== 8) { R[d] = v; R[d + 1] = 0; }
            break;
          }
          // K_ALU64_RR / K_ALU64_RI + op (immediates sign-extended).
          case 30: case 40: case 35: case 45: case 37: case 47: {
            const kind = ins.fast, d = ins.fd, rr = kind < 40;
            const a = R[d] >>> 0, ah = R[d + 1] >>> 0;
            const b = (rr ? R[ins.fs] : ins.imm) >>> 0, bh = (rr ? R[ins.fs + 1] : ins.imm >> 31) >>> 0;
            let v: number, vh: number;
            if (kind === 30 || kind === 40) {
              const lo = a + b;
              v = lo >>> 0; vh = (ah + bh + (lo >= TWO32 ? 1 : 0)) >>> 0;
              f.op = 1;
            } else {
              const lo = a - b;
              v = lo >>> 0; vh = (ah - bh - (lo < 0 ? 1 : 0)) >>> 0;
              f.op = 3;
            }
            f.size = 8; f.r = v | 0; f.rh = vh | 0; f.a = a | 0; f.b = b | 0; f.ah = ah | 0; f.bh = bh | 0; f.cin = 0;
            this.hi = vh;
            if (kind !== 37 && kind !== 47) { R[d] = v; R[d + 1] = vh; }
            break;
          }
          case 31: case 41: case 34: case 44: case 36: case 46: case 38: {
            const kind = ins.fast, d = ins.fd, op = kind % 10, rr = kind < 40;
            const b = rr ? R[ins.fs] : ins.imm, bh = rr ? R[ins.fs + 1] : ins.imm >> 31;
            const a = R[d], ah = R[d + 1];
            const v = op === 1 ? a | b : op === 6 ? a ^ b : a & b;
            const vh = op === 1 ? ah | bh : op === 6 ? ah ^ bh : ah & bh;
            f.size = 8; f.r = v; f.rh = vh; f.op = 5;
            this.hi = vh >>> 0;
            if (op !== 8) { R[d] = v; R[d + 1] = vh; }
            break;
          }
          case 50: incDec32(this, ins.fd >> 1, false); break; // K_INC32
          case 51: incDec32(this, ins.fd >> 1, true); break; // K_DEC32
          default: // 60, K_JCC: the condition in fd (LazyFlags.cond compares a CMP/SUB's operands directly)
            if (f.cond(ins.fd)) {
              const next = pageRip + ins.end;
              this.rip = next - ins.len;
              this.nextRip = next;
              this.instructionsRetired = base + k;
              r = branchTarget(this, next + ins.imm, ins.size);
              moved = true; k++; break run; // a side exit
            }
        }
        // Leave at the budget.
        if (++k === n) { r = pageRip + ins.end; break; }
      }
      retired = base + k;
      if (this.events !== 0 || (!moved && k < block.count) || (k === block.count && !block.plainEnd)) break;
      n = end - retired;
      if (n <= 0) break;
      // A loop back to this block's start keeps its fetch checks (anything that could change them, a
      // store into its code included, sets events); another block of the page is checked here.
      if (r !== blockRip) {
        const lin2 = this.linearIp(r);
        const off2 = lin2 & 0xfff;
        if (lin2 - off2 !== this.fetchBase || off2 > LAST_CACHED_OFFSET) break;
        const to = this.fetchBlocks[off2];
        if (to === undefined || to.mode !== mode || wrapsIp(mode, r, to)) break;
        block = to;
        o = off2;
        blockRip = r;
      }
      // A block the WebAssembly tier has compiled or now compiles: runBlock() enters it.
      if (this.tierTakes(block, mode)) break;
    }
    this.rip = r;
    this.instructionsRetired = retired;
  }

  /** The linear address of instruction pointer `rip` (CS's base added outside 64-bit mode). */
  private linearIp(rip: number): number {
    return this.codeSize === 64 ? rip : (this.segBase[1] + rip) >>> 0;
  }

  /**
   * Does the WebAssembly tier run `block` (compiled for this CPU, or run often enough now: each call
   * counts a run)? Not in 16-bit mode or with alignment checks on.
   */
  private tierTakes(block: Block, mode: number): boolean {
    const jit = this.jit;
    if (jit === undefined || mode === 16 || this.alignCheck) return false;
    return block.compiled?.[jit.id] !== undefined || ++block.hits >= jit.threshold;
  }

  /**
   * Make the code page holding `lin` the cached fetch page; false when step() must fetch instead (CS
   * limit checks, code outside RAM). A failed translation raises the fetch #PF, as step() would.
   */
  private enterCodePage(lin: number): boolean {
    if (this.segChecked[1] & CHK_FETCH) return false;
    const off = lin & 0xfff;
    const phys = this.paging ? this.translate(lin, ACC_FETCH | this.accUser) : lin;
    if (phys + 4096 - off > this.ramSize) return false;
    this.fetchPage = this.decodeCache.page(phys);
    this.fetchBlocks = this.decodeCache.blocks(phys);
    this.fetchBase = lin - off;
    this.fetchPhys = phys - off;
    return true;
  }

  /** Execute one instruction (exceptions unwind with FAULT). */
  step(): void {
    const mode = this.codeSize;
    const rip = this.rip;
    // Fast path (inline): same code page as the last fetch, decoded in this mode, nothing rewritten since.
    const lin = this.linearIp(rip);
    // A host debugger's breakpoint here: stop before the instruction (host-debug.ts).
    if (this.hostBreak && this.hostDebug.breakHere(lin)) return;
    // TF or RF set, or a breakpoint armed: the debug hooks run around this instruction (debug.ts).
    const watch = (this.fl.bits & (TF | RF)) | this.debugMode;
    if (watch !== 0) debugBefore(this, lin);
    const off = lin & 0xfff;
    let ins = lin - off === this.fetchBase ? this.fetchPage[off] : undefined;
    if (ins === undefined || ins.mode !== mode || ins.len === 0) ins = this.fetchDecode();
    let next = rip + ins.len;
    if (mode !== 64) next = mode === 32 ? next >>> 0 : next & 0xffff;
    this.nextRip = next;
    if (!ins.valid) this.fault(6);
    HANDLERS[ins.op](this, ins);
    this.rip = this.nextRip;
    this.instructionsRetired++;
    if (this.hostBreak && ins.rep !== 0 && this.rip === rip) this.hostDebug.restarted(lin);
    if (watch !== 0) debugAfter(this, watch, ins.op); // single step, data/I-O breakpoint traps
  }

  private fetchDecode(): Insn {
    if (!(this.segChecked[1] & CHK_FETCH)) return this.fetchDecodeAny();
    // CS limit (SDM Vol. 3A §5.3): only pages wholly inside the limit stay cached for step().
    checkFetchStart(this);
    const ins = this.fetchDecodeAny();
    if (this.fetchBase !== -1 && !fetchPageWithinLimit(this, this.fetchBase)) this.fetchBase = -1;
    checkFetchEnd(this, ins.len);
    return ins;
  }

  private fetchDecodeAny(): Insn {
    const rip = this.rip;
    const lin = this.linearIp(rip);
    const off = lin & 0xfff;
    const base = lin - off;
    // Fast path: same code page as the last fetch, nothing flushed or rewritten since.
    if (base === this.fetchBase) {
      const ins = this.fetchPage[off];
      if (ins !== undefined && ins.mode === this.codeSize && ins.len !== 0) return ins;
      if (off <= 4096 - 15) return this.decodeCache.fill(this.fetchPage, off, this.codeSize, this.u8, this.fetchPhys + off, 15);
    }
    const phys = this.paging ? this.translate(lin, ACC_FETCH | this.accUser) : lin;
    if (phys + 4096 - off <= this.ramSize) {
      this.fetchPage = this.decodeCache.page(phys);
      this.fetchBlocks = this.decodeCache.blocks(phys);
      this.fetchBase = base;
      this.fetchPhys = phys - off;
      const ins = this.fetchPage[off];
      if (ins !== undefined && ins.mode === this.codeSize && ins.len !== 0) return ins;
      if (off <= 4096 - 15) return this.decodeCache.fill(this.fetchPage, off, this.codeSize, this.u8, phys, 15);
    }
    // Slow path: the instruction crosses a page or leaves RAM. Each page is translated once; a fault
    // on the second only matters if the instruction needs its bytes.
    const first = Math.min(15, 4096 - off);
    const p1 = this.paging ? this.translate(lin, ACC_FETCH | this.accUser) : lin;
    let p2 = -1;
    if (first < 15) {
      const l2 = this.codeSize === 64 ? base + 4096 : (base + 4096) >>> 0;
      try {
        p2 = this.paging ? this.translate(l2, ACC_FETCH | this.accUser) : l2;
      } catch (e) {
        if (e !== FAULT) throw e;
      }
    }
    const known = this.crossPage.get(lin);
    if (known !== undefined && known.ins.mode === this.codeSize && known.p1 === p1 && known.p2 === p2) return known.ins;
    const buf = this.fetchBuf;
    let avail = 0;
    for (; avail < first; avail++) buf[avail] = this.physRead(p1 + avail, 1);
    if (p2 >= 0) for (let k = 0; avail < 15; avail++, k++) buf[avail] = this.physRead(p2 + k, 1);
    const faulted = avail < 15 && p2 < 0;
    const ins = new Insn();
    decodeInto(ins, buf, 0, avail, this.codeSize, this.decodeCache.isa);
    if (ins.len !== 0) this.keepCrossPage(lin, ins, p1, first, p2);
    if (ins.len === 0) {
      if (faulted) {
        const l = this.codeSize === 64 ? lin + avail : (lin + avail) >>> 0;
        this.translate(l, ACC_FETCH | this.accUser); // re-raise the fetch fault
      }
      this.fault(13, 0); // longer than 15 bytes
    }
    return ins;
  }

  /**
   * Keep an instruction that crosses a page (step() cannot keep it in a page's decoded array) for the
   * next fetch at `lin` with the same translation: a loop whose code straddles a page boundary runs
   * it every time round. Its bytes are marked as code, so a write to them drops it (onInvalidate).
   */
  private keepCrossPage(lin: number, ins: Insn, p1: number, first: number, p2: number): void {
    const inRam = (p: number, n: number): boolean => p >= 0 && p + n <= this.ramSize;
    const second = ins.len - first;
    if (!inRam(p1, Math.min(first, ins.len)) || (second > 0 && !inRam(p2, second))) return;
    this.decodeCache.markCode(p1, Math.min(first, ins.len));
    if (second > 0) this.decodeCache.markCode(p2, second);
    if (this.crossPage.size >= 256) this.crossPage.clear();
    this.crossPage.set(lin, { ins, p1, p2 });
  }

  // ------------------------------------------------------------------ exceptions

  /** Raise exception `vector` (errorCode < 0: none). Never returns. */
  fault(vector: number, errorCode = -1): never {
    this.excVec = vector;
    this.excErr = errorCode;
    this.excSoft = false;
    throw FAULT;
  }

  /** INT n / INT3 / INTO: a trap whose return address is the next instruction. */
  softInterrupt(vector: number): never {
    this.softIntRip = this.rip;
    this.rip = this.nextRip;
    this.excVec = vector;
    this.excErr = -1;
    this.excSoft = true;
    throw FAULT;
  }

  /** A trap-class exception raised by an instruction (INT1): reported after it, as a hardware event. */
  trapException(vector: number): never {
    this.rip = this.nextRip;
    this.excVec = vector;
    this.excErr = -1;
    this.excSoft = false;
    throw FAULT;
  }

  /** Deliver the pending exception; false when run() must return (dead or stopOnException). */
  private handleFault(): boolean {
    if (this.stopOnException) {
      this.lastException = {
        vector: this.excVec,
        errorCode: this.excErr >= 0 ? this.excErr : undefined,
        address: this.excVec === 14 ? BigInt(this.cr2) : undefined,
      };
      return false;
    }
    this.halted = false;
    return deliverException(this, this.excVec, this.excErr, this.excSoft, false);
  }

  private raiseExternal(vector: number): boolean {
    return deliverException(this, vector, -1, false, true);
  }

  die(reason: string): void {
    this.dead = true;
    this.deathReason = `${reason}\n${this.dumpRegisters()}`;
  }

  tripleFault(first: string): boolean {
    if (this.onTripleFault === 'reset') {
      this.reset();
      return true;
    }
    this.die(`triple fault (first exception: ${first})`);
    return false;
  }

  describeFault(vector: number, err: number): string {
    return describeVector(this, vector, err);
  }

  // ------------------------------------------------------------------ memory

  /** Linear to physical; raises #PF. */
  translate(lin: number, acc: number): number {
    if (!this.paging) return lin;
    const vpn = Math.floor(lin / 4096);
    const i = vpn & (TLB_SIZE - 1);
    const tlb = this.tlb;
    if (tlb.tag[i] === vpn && tlb.perm[i] & NEED[acc]) return tlb.phys[i] + (lin & 0xfff);
    return walk(this, lin, acc);
  }

  physRead(pa: number, size: number): number {
    if (pa + size <= this.ramSize) {
      switch (size) {
        case 1: return this.u8[pa];
        case 2: return this.view.getUint16(pa, true);
        default: return this.view.getUint32(pa, true);
      }
    }
    this.events = 1; // a device read may have side effects (an interrupt, a stop request)
    if (pa >= this.ramSize && this.memory.mmio) return this.memory.mmio.read(pa, size as 1 | 2 | 4) >>> 0;
    // Straddles the end of RAM or nothing mapped: byte by byte, all ones outside RAM.
    let v = 0;
    for (let k = 0; k < size; k++) {
      const b = pa + k < this.ramSize ? this.u8[pa + k] : this.memory.mmio ? this.memory.mmio.read(pa + k, 1) & 0xff : 0xff;
      v += b * 2 ** (8 * k);
    }
    return v;
  }

  physWrite(pa: number, size: number, v: number): void {
    if (pa + size <= this.ramSize) {
      switch (size) {
        case 1: this.u8[pa] = v; break;
        case 2: this.view.setUint16(pa, v, true); break;
        default: this.view.setUint32(pa, v, true); break;
      }
      this.notePhysWrite(pa);
      return;
    }
    this.events = 1; // a device write may raise an interrupt or ask the machine to stop
    if (pa >= this.ramSize && this.memory.mmio) {
      this.memory.mmio.write(pa, size as 1 | 2 | 4, v >>> 0);
      return;
    }
    for (let k = 0; k < size; k++) {
      const b = (v >>> (8 * k)) & 0xff;
      if (pa + k < this.ramSize) { this.u8[pa + k] = b; this.notePhysWrite(pa + k); }
      else this.memory.mmio?.write(pa + k, 1, b);
    }
  }

  /**
   * Drop decoded instructions for guest-physical [address, address+length): for writers that bypass the
   * CPU (device DMA through GuestMemory, loaders). CPU stores are tracked automatically.
   */
  invalidateDecodedCode(address: number, length: number): void {
    for (let p = Math.floor(address / 4096); p * 4096 < address + length; p++) {
      if (this.decodeCache.codePages[p]) this.decodeCache.invalidatePage(p);
    }
  }

  /** Compiled code (the WebAssembly tier, when on) makes accesses to `ports` through `io` first. */
  usePortFastPaths(io: CompiledPortIo, ports: readonly number[]): void {
    this.jit?.usePortFastPaths(io, ports);
  }

  /** Invalidate decoded instructions on the page holding `pa`. */
  notePhysWrite(pa: number): void {
    if (this.decodeCache.codePages[pa >>> 12]) this.decodeCache.invalidatePage(pa >>> 12);
  }

  /** Read `size` (1,2,4) bytes at linear `lin` with access kind `acc` (ACC_*). */
  readLin(lin: number, size: number, acc: number): number {
    if (this.alignCheck) this.checkAlign(lin, size, acc);
    if ((lin & 0xfff) + size <= 4096) {
      const pa = this.paging ? this.translate(lin, acc) : lin;
      if (pa + size <= this.ramSize) {
        if (size === 4) return this.view.getUint32(pa, true);
        if (size === 1) return this.u8[pa];
        return this.view.getUint16(pa, true);
      }
      return this.physRead(pa, size);
    }
    let v = 0;
    for (let k = 0; k < size; k++) v += this.readLin(this.wrapLin(lin + k), 1, acc) * 2 ** (8 * k);
    return v;
  }

  writeLin(lin: number, size: number, v: number, acc: number): void {
    acc |= 1;
    if (this.alignCheck) this.checkAlign(lin, size, acc);
    if ((lin & 0xfff) + size <= 4096) {
      const pa = this.paging ? this.translate(lin, acc) : lin;
      if (pa + size <= this.ramSize) {
        if (size === 4) this.view.setUint32(pa, v, true);
        else if (size === 1) this.u8[pa] = v;
        else this.view.setUint16(pa, v, true);
        if (this.decodeCache.codePages[pa >>> 12]) this.decodeCache.noteWrite(pa, size);
        return;
      }
      this.physWrite(pa, size, v);
      return;
    }
    // Crossing a page: check both pages before writing anything.
    if (this.paging) { this.translate(lin, acc); this.translate(this.nextPage(lin), acc); }
    for (let k = 0; k < size; k++) this.writeLin(this.wrapLin(lin + k), 1, (v >>> (8 * k)) & 0xff, acc);
  }

  /** Linear address of the first byte of the page after the one holding `lin` (CR2 for a crossing fault). */
  nextPage(lin: number): number {
    return this.wrapLin(lin - (lin & 0xfff) + 4096);
  }

  private wrapLin(a: number): number {
    return this.codeSize === 64 || this.efer & 0x400 ? a : a >>> 0;
  }

  // Data accesses at the current privilege.
  rd8(lin: number): number { return this.readLin(lin, 1, this.accUser); }
  rd16(lin: number): number { return this.readLin(lin, 2, this.accUser); }
  rd32(lin: number): number { return this.readLin(lin, 4, this.accUser); }
  /** Returns the low half; the high half is left in this.hi. */
  rd64(lin: number): number {
    if (this.alignCheck) this.checkAlign(lin, 8, this.accUser);
    if ((lin & 0xfff) <= 4088) {
      // One translation for both halves when the quadword sits in one page.
      const pa = this.paging ? this.translate(lin, this.accUser) : lin;
      if (pa + 8 <= this.ramSize) {
        this.hi = this.view.getUint32(pa + 4, true);
        return this.view.getUint32(pa, true);
      }
    }
    const lo = this.readLin(lin, 4, this.accUser);
    this.hi = this.readLin(this.wrapLin(lin + 4), 4, this.accUser);
    return lo;
  }
  /**
   * Data reads returning the (low) 32 bits as an int32 bit pattern: a Smi, so the value crosses a call
   * boundary without a heap-number allocation. For handlers that store straight into the register file.
   */
  rdI32(lin: number): number {
    if (this.alignCheck) this.checkAlign(lin, 4, this.accUser);
    if ((lin & 0xfff) <= 4092) {
      const pa = this.paging ? this.translate(lin, this.accUser) : lin;
      if (pa + 4 <= this.ramSize) return this.view.getInt32(pa, true);
      return this.physRead(pa, 4) | 0;
    }
    return this.readLin(lin, 4, this.accUser) | 0;
  }
  /** 64-bit read: low half as an int32 bit pattern, high half in this.hi. */
  rdI64(lin: number): number {
    if (this.alignCheck) this.checkAlign(lin, 8, this.accUser);
    if ((lin & 0xfff) <= 4088) {
      const pa = this.paging ? this.translate(lin, this.accUser) : lin;
      if (pa + 8 <= this.ramSize) {
        this.hi = this.view.getUint32(pa + 4, true);
        return this.view.getInt32(pa, true);
      }
    }
    return this.rd64(lin) | 0;
  }
  /** Read for a read-modify-write instruction: page faults report a write access, as on hardware. */
  rdRmw(lin: number, size: number): number {
    const acc = this.accUser | 1;
    if (size === 8) {
      if (this.alignCheck) this.checkAlign(lin, 8, acc);
      const lo = this.readLin(lin, 4, acc);
      this.hi = this.readLin(this.wrapLin(lin + 4), 4, acc);
      return lo;
    }
    return this.readLin(lin, size, acc);
  }
  wr8(lin: number, v: number): void { this.writeLin(lin, 1, v & 0xff, this.accUser); }
  wr16(lin: number, v: number): void { this.writeLin(lin, 2, v & 0xffff, this.accUser); }
  wr32(lin: number, v: number): void { this.writeLin(lin, 4, v >>> 0, this.accUser); }
  wr64(lin: number, lo: number, hi: number): void {
    if (this.alignCheck) this.checkAlign(lin, 8, 1 | this.accUser);
    if ((lin & 0xfff) <= 4088) {
      const pa = this.paging ? this.translate(lin, 1 | this.accUser) : lin;
      if (pa + 8 <= this.ramSize) {
        this.view.setUint32(pa, lo >>> 0, true);
        this.view.setUint32(pa + 4, hi >>> 0, true);
        if (this.decodeCache.codePages[pa >>> 12]) this.decodeCache.noteWrite(pa, 8);
        return;
      }
    }
    if (this.paging && (lin & 0xfff) > 4088) {
      this.translate(lin, 1 | this.accUser);
      this.translate(this.nextPage(lin), 1 | this.accUser);
    }
    this.writeLin(lin, 4, lo >>> 0, this.accUser);
    this.writeLin(this.wrapLin(lin + 4), 4, hi >>> 0, this.accUser);
  }

  /** Read an operand of `size` bytes (64-bit: low half returned, high half in this.hi). */
  rdSize(lin: number, size: number): number {
    if (size === 8) return this.rd64(lin);
    return this.readLin(lin, size, this.accUser);
  }
  wrSize(lin: number, size: number, lo: number, hi: number): void {
    if (size === 8) this.wr64(lin, lo, hi);
    else this.writeLin(lin, size, size === 4 ? lo >>> 0 : lo & (size === 1 ? 0xff : 0xffff), this.accUser);
  }

  // System-structure accesses (GDT/IDT/TSS): always supervisor.
  sysRd32(lin: number): number { return this.readLin(lin, 4, 0); }
  sysRd16(lin: number): number { return this.readLin(lin, 2, 0); }
  sysWr32(lin: number, v: number): void { this.writeLin(lin, 4, v >>> 0, 0); }

  // ------------------------------------------------------------------ registers

  /** Register n as a number, for addresses (64-bit: hi*2^32+lo, signed, exact for canonical values). */
  regNum(n: number): number {
    return this.r[2 * n + 1] * TWO32 + (this.r[2 * n] >>> 0);
  }
  setRegNum(n: number, v: number): void {
    this.r[2 * n] = v >>> 0;
    this.r[2 * n + 1] = Math.floor(v / TWO32) | 0;
  }

  getReg(n: number, size: number, rex: number): number {
    const r = this.r;
    switch (size) {
      case 1:
        if (rex === 0 && n >= 4 && n < 8) return (r[2 * (n - 4)] >> 8) & 0xff;
        return r[2 * n] & 0xff;
      case 2: return r[2 * n] & 0xffff;
      case 4: return r[2 * n] >>> 0;
      default:
        this.hi = r[2 * n + 1] >>> 0;
        return r[2 * n] >>> 0;
    }
  }

  setReg(n: number, size: number, lo: number, hi: number, rex: number): void {
    const r = this.r;
    switch (size) {
      case 1:
        if (rex === 0 && n >= 4 && n < 8) {
          const k = 2 * (n - 4);
          r[k] = (r[k] & ~0xff00) | ((lo & 0xff) << 8);
        } else r[2 * n] = (r[2 * n] & ~0xff) | (lo & 0xff);
        return;
      case 2:
        r[2 * n] = (r[2 * n] & ~0xffff) | (lo & 0xffff);
        return;
      case 4:
        r[2 * n] = lo;
        r[2 * n + 1] = 0;
        return;
      default:
        r[2 * n] = lo;
        r[2 * n + 1] = hi;
    }
  }

  // ------------------------------------------------------------------ public debug/test API

  getGpr(i: number): bigint {
    return (BigInt(this.r[2 * i + 1] >>> 0) << 32n) | BigInt(this.r[2 * i] >>> 0);
  }
  setGpr(i: number, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.r[2 * i] = Number(u & 0xffffffffn);
    this.r[2 * i + 1] = Number(u >> 32n);
  }
  getRip(): bigint {
    return BigInt.asUintN(64, BigInt(this.rip));
  }
  setRip(v: bigint): void {
    this.rip = this.codeSize === 64 || this.efer & 0x400 ? Number(BigInt.asIntN(64, v)) : Number(BigInt.asUintN(32, v));
  }
  getRflags(): number {
    return this.fl.get();
  }
  setRflags(v: number): void {
    this.fl.set(v);
  }
  getXmm(i: number): Uint8Array {
    return this.xmmU8.slice(i * 16, i * 16 + 16);
  }
  setXmm(i: number, bytes: Uint8Array): void {
    this.xmmU8.set(bytes.subarray(0, 16), i * 16);
  }
  get mxcsr(): number {
    return this.mxcsrValue;
  }
  set mxcsr(v: number) {
    this.mxcsrValue = v & 0xffff;
  }
  getCr(n: 0 | 2 | 3 | 4 | 8): bigint {
    switch (n) {
      case 0: return BigInt(this.cr0 >>> 0);
      case 2: return BigInt.asUintN(64, BigInt(this.cr2));
      case 3: return BigInt(this.cr3);
      case 4: return BigInt(this.cr4 >>> 0);
      default: return BigInt(this.apic ? this.apic.cr8 : this.cr8);
    }
  }
  setCr(n: 0 | 2 | 3 | 4 | 8, v: bigint): void {
    const num = Number(BigInt.asUintN(64, v));
    switch (n) {
      case 0: this.cr0 = num >>> 0; break;
      case 2: this.cr2 = Number(BigInt.asIntN(64, v)); break;
      case 3: this.cr3 = num; break;
      case 4: this.cr4 = num >>> 0; break;
      default:
        if (this.apic) this.apic.cr8 = num & 15;
        else this.cr8 = num & 15;
        break;
    }
    this.tlb.flush();
    this.updateMode();
  }
  getMsr(index: number): bigint {
    const v = readMsrValue(this, index);
    if (v === undefined) throw new RangeError(`unknown MSR 0x${index.toString(16)}`);
    return (BigInt(v[1] >>> 0) << 32n) | BigInt(v[0] >>> 0);
  }
  setMsr(index: number, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    if (!writeMsrValue(this, index, Number(u & 0xffffffffn), Number(u >> 32n))) {
      throw new RangeError(`unknown or invalid MSR write 0x${index.toString(16)}`);
    }
  }
  getSegmentBase(seg: 'es' | 'cs' | 'ss' | 'ds' | 'fs' | 'gs'): bigint {
    const i = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'].indexOf(seg);
    return BigInt.asUintN(64, BigInt(this.segBase[i]));
  }

  dumpRegisters(): string {
    return dumpRegisters(this);
  }

  // ------------------------------------------------------------------ snapshot (Device contract)

  /** Architectural state as plain JSON plus typed arrays (guest memory is not included). */
  snapshot(): CpuSnapshot {
    this.fl.materialize();
    return {
      version: CPU_SNAPSHOT_VERSION,
      state: new Uint8Array(this.stateBuffer.slice(this.stateBase, this.stateBase + STATE_BYTES)),
      rip: this.rip,
      rflags: this.fl.bits,
      seg: { sel: Array.from(this.segSel), base: Array.from(this.segBase), limit: Array.from(this.segLimit), attr: Array.from(this.segAttr) },
      cr: [this.cr0, this.cr2, this.cr3, this.cr4, this.cr8],
      efer: this.efer,
      tables: [this.gdtBase, this.gdtLimit, this.idtBase, this.idtLimit, this.ldtSel, this.ldtBase, this.ldtLimit, this.trSel, this.trBase, this.trLimit, this.trAttr],
      msr: [this.kernelGsBase, this.tscAux, this.patLo, this.patHi, this.apicBase, this.miscEnable, this.star[0], this.star[1], this.lstar, this.cstar, this.sfmask, this.tscOffset],
      mxcsr: this.mxcsrValue,
      xcr0: this.xcr0,
      rng: Array.from(rdrandState(this)),
      x87: {
        cw: this.fpuCw, sw: this.x87.sw, top: this.x87.top, empty: this.x87.empty, st: Array.from(this.x87.st),
        ptr: [this.x87.fop, this.x87.fip, this.x87.fcs, this.x87.fdp, this.x87.fds],
      },
      dr: Array.from(this.dr),
      debug: [this.dbg.hit, this.dbg.trigger, this.dbg.deferred, this.dbg.carried, this.dbg.taskTrap],
      sys: { mtrr: Array.from(this.mtrr), sysenter: [this.sysenterCs, this.sysenterEsp, this.sysenterEip], nmi: [this.nmiPending, this.nmiBlocked] },
      cpl: this.cpl,
      halted: this.halted,
      shadow: this.shadow,
      instructionsRetired: this.instructionsRetired,
    };
  }

  /** Checks the whole state (readCpuSnapshot: SnapshotError naming the field) before changing anything. */
  restore(state: unknown): void {
    const s = readCpuSnapshot(state, STATE_BYTES);
    new Uint8Array(this.stateBuffer, this.stateBase, STATE_BYTES).set(s.state);
    this.rip = s.rip;
    this.fl.set(s.rflags);
    this.segSel.set(s.seg.sel); this.segBase.set(s.seg.base); this.segLimit.set(s.seg.limit); this.segAttr.set(s.seg.attr);
    [this.cr0, this.cr2, this.cr3, this.cr4, this.cr8] = s.cr;
    this.efer = s.efer;
    [this.gdtBase, this.gdtLimit, this.idtBase, this.idtLimit, this.ldtSel, this.ldtBase, this.ldtLimit, this.trSel, this.trBase, this.trLimit, this.trAttr] = s.tables;
    const m = s.msr;
    [this.kernelGsBase, this.tscAux, this.patLo, this.patHi, this.apicBase, this.miscEnable] = m;
    this.star = [m[6], m[7]];
    [this.lstar, this.cstar, this.sfmask, this.tscOffset] = m.slice(8);
    this.mxcsrValue = s.mxcsr;
    this.xcr0 = s.xcr0 ?? 1;
    if (s.rng) rdrandState(this).set(s.rng);
    this.fpuCw = s.x87.cw; this.x87.sw = s.x87.sw; this.x87.top = s.x87.top; this.x87.empty = s.x87.empty; this.x87.st.set(s.x87.st);
    [this.x87.fop, this.x87.fip, this.x87.fcs, this.x87.fdp, this.x87.fds] = s.x87.ptr ?? [0, 0, 0, 0, 0];
    this.dr.set(s.dr);
    const d = s.debug ?? [0, 0, 0, 0, 0];
    [this.dbg.hit, this.dbg.trigger, this.dbg.deferred, this.dbg.carried, this.dbg.taskTrap] = d;
    updateDebugState(this);
    if (s.sys) {
      this.mtrr.set(s.sys.mtrr);
      [this.sysenterCs, this.sysenterEsp, this.sysenterEip] = s.sys.sysenter;
      [this.nmiPending, this.nmiBlocked] = s.sys.nmi;
    }
    this.halted = s.halted;
    this.shadow = s.shadow;
    this.instructionsRetired = s.instructionsRetired;
    this.stopRequested = false;
    this.dead = false;
    this.deathReason = undefined;
    this.tlb.flush();
    this.decodeCache.clear();
    this.setCpl(s.cpl);
    this.updateMode();
  }
}

export interface CpuSnapshot {
  version: 1 | 2;
  state: Uint8Array;
  rip: number;
  rflags: number;
  seg: { sel: number[]; base: number[]; limit: number[]; attr: number[] };
  cr: number[];
  efer: number;
  tables: number[];
  msr: number[];
  mxcsr: number;
  /** Absent in snapshots taken before XSAVE support: 1 (reset value). */
  xcr0?: number;
  /** RDRAND/RDSEED generator state (absent in older snapshots: the generator continues). */
  rng?: number[];
  /** ptr: FOP, FIP, FCS, FDP, FDS (absent in version 1). */
  x87: { cw: number; sw: number; top: number; empty: number; st: number[]; ptr?: number[] };
  dr: number[];
  /** Debug-exception latches (DebugState: hit, trigger, deferred, carried, taskTrap); absent in version 1. */
  debug?: number[];
  /** Optional for snapshots taken before these fields existed. */
  sys?: { mtrr: number[]; sysenter: number[]; nmi: boolean[] };
  cpl: number;
  halted: boolean;
  shadow: boolean;
  instructionsRetired: number;
}

// Late imports to avoid cycles at module-evaluation time.
import { readMsrValue, writeMsrValue } from './msr.js';
import { CPU_SNAPSHOT_VERSION, readCpuSnapshot } from './cpu-snapshot.js';

/** 16/32-bit IP wraps at 64 KiB / 4 GiB: a block that would wrap runs one instruction at a time. */
function wrapsIp(mode: number, rip: number, block: Block): boolean {
  return mode !== 64 && rip + block.bytes >= (mode === 32 ? TWO32 : 0x10000);
}
