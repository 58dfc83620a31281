import type { X86Cpu } from '../cpu.js';
import { fallsThrough, isRepString, type Block, type CompiledEntry } from '../block.js';
import { FAULT } from '../cpu.js';
import { IMPORTS, compileRegion, continuesAfter, isLoop, isNearCall, isRelativeBranch, type CompileEnv, type RegionBlock } from './compile.js';
import { Wasm, buildModule } from '@unimachine/core/wasm-writer';
import { FLAGS, RIP_OUT, START_COUNT } from './state-layout.js';
import { regionKey, type RegionCodeStore } from './region-code.js';
import { ioSize } from '../exec-string.js';
import type { CompiledPortIo } from '@unimachine/core';

/** Most blocks and instructions compiled into one region (one function). */
const REGION_MAX_BLOCKS = 128;
const REGION_MAX_INSNS = 512;

/** JitTier.key's bit for flat data segments (bits 0 and 1: paging, ACC_USER). */
const KEY_FLAT = 4;

/** Flags-record slots (state-layout.ts F_*), as indices into int32 views at FLAGS. */
const OP = 0, SIZE = 1, A = 2, B = 3, R = 4, AH = 5, BH = 6, RH = 7, CIN = 8, BITS = 9;

/** Counters a benchmark reports. */
export interface JitStats {
  /** Regions compiled, and the blocks in them. */
  compiled: number;
  blocks: number;
  compileMs: number;
  /** Instructions retired inside compiled blocks (call-outs included). */
  retired: number;
  /** Calls into compiled code from the interpreter's loop. */
  entries: number;
}

/**
 * The WebAssembly tier: compiles blocks the interpreter found hot (block.ts `hits`) into WebAssembly
 * functions (compile.ts) over the CPU's state block and guest RAM in the machine's memory, and runs
 * them. Exact: a compiled block retires the same instructions with the same results as the
 * interpreter, stops at the same budget and after the same events, and faults at the same place.
 */
export class JitTier {
  readonly stats: JitStats = { compiled: 0, blocks: 0, compileMs: 0, retired: 0, entries: 0 };
  private readonly flagsI32: Int32Array;
  private readonly f64: Float64Array;
  private readonly memPages: number;
  /** The linear rip the running region was entered at, and the retired count then, for the call-outs. */
  private rip = 0;
  private startCount = 0;
  /** A call-out faulted: run() re-throws the interpreter's FAULT once out of WebAssembly. */
  private faulted = false;
  /** Generated modules from earlier runs (region-code.ts); the CLI sets it, nothing else needs to. */
  codeStore: RegionCodeStore | undefined = undefined;
  /** The machine's port fast paths (usePortFastPaths), and the ports they serve. */
  private fastIo: CompiledPortIo = () => -1;
  private fastPorts: readonly number[] = [];

  /** This CPU's slot in Block.compiled (CPUs sharing a decode cache share blocks). */
  readonly id: number;

  constructor(
    private readonly cpu: X86Cpu,
    private readonly memory: WebAssembly.Memory,
    private readonly codePages: number,
    readonly threshold: number,
    /** The decoded block at a page offset of the current code page (building it if needed). */
    private readonly blockAt: (pageOffset: number) => Block | undefined,
  ) {
    this.id = cpu.decodeCache.tiers++;
    const buf = cpu.stateBuffer;
    const base = cpu.stateBase;
    this.flagsI32 = new Int32Array(buf, base + FLAGS, 10);
    this.f64 = new Float64Array(buf, base, 1024 / 8);
    this.memPages = buf.byteLength / 65536;
  }

  /** Compile IN/OUT to `ports` with a call to `io` first (regions compiled from now on). */
  usePortFastPaths(io: CompiledPortIo, ports: readonly number[]): void {
    this.fastIo = io;
    this.fastPorts = [...ports].sort((a, b) => a - b);
  }

  /**
   * The environment a compiled block depends on beyond its mode: paging on, CPL 3, and flat data
   * segments (ES, SS, DS with base 0 and nothing to check, and a 32-bit stack, as every 32-bit OS
   * has them).
   */
  key(): number {
    const c = this.cpu;
    const base = c.segBase, checked = c.segChecked;
    const flat = base[0] === 0 && base[2] === 0 && base[3] === 0 && (checked[0] | checked[2] | checked[3]) === 0 &&
      (c.codeSize === 64 || c.stackSize === 4);
    return (c.paging ? 1 : 0) | c.accUser | (flat ? KEY_FLAT : 0);
  }

  /**
   * Run `block` at linear `rip` for at most `n` instructions (compiling it first if needed); returns
   * how many retired. 0 (and no fault): the first instruction needs the interpreter (a TLB miss, MMIO,
   * a budget smaller than the block, ...), which must run the block instead.
   */
  run(block: Block, rip: number, n: number, pageOffset: number): number {
    const key = this.key();
    let compiled = block.compiled?.[this.id];
    if (compiled === undefined || compiled.key !== key) compiled = this.compile(block, key, pageOffset);
    rip -= compiled.delta;
    const c = this.cpu;
    this.flagsToMemory();
    this.faulted = false;
    c.events = 0;
    this.rip = rip;
    const start = this.startCount = c.instructionsRetired;
    this.f64[START_COUNT >> 3] = start;
    const retired = compiled.run(n, rip, compiled.index);
    c.instructionsRetired = start + retired;
    this.stats.retired += retired;
    this.stats.entries++;
    c.rip = this.f64[RIP_OUT >> 3];
    this.memoryToFlags();
    if (this.faulted) throw FAULT;
    return retired;
  }

  private compile(entry: Block, key: number, pageOffset: number): CompiledEntry {
    const t0 = performance.now();
    const c = this.cpu;
    const region = this.regionFrom(entry, pageOffset);
    const env: CompileEnv = {
      base: c.stateBase, codePages: this.codePages, ramSize: c.ramSize, paging: (key & 1) !== 0, accUser: key & 2,
      flat: (key & KEY_FLAT) !== 0, fastPorts: this.fastPorts,
    };
    const mod = this.regionModule(region, env);
    const instance = new Wasm.Instance(mod, {
      env: { mem: this.memory },
      x: { co: (i: number, k: number, before: number) => this.callout(region[i], k, before),
        cc: (cc: number) => this.cond(cc),
        io: (i: number, k: number, port: number, value: number, before: number) => this.io(region[i], k, port, value, before),
        fio: this.fastIo },
    });
    const run = instance.exports.f0 as CompiledEntry['run'];
    // Every block of the region not compiled elsewhere for this key starts here from now on.
    region.forEach((r, index) => {
      const known = r.block.compiled?.[this.id];
      if (r.block === entry || known === undefined || known.key !== key) (r.block.compiled ??= [])[this.id] = { run, key, index, delta: r.delta };
    });
    const compiled = entry.compiled![this.id]!;
    this.stats.compiled++;
    this.stats.blocks += region.length;
    this.stats.compileMs += performance.now() - t0;
    return compiled;
  }

  /** The region's compiled module: from the code store when an earlier run generated it, else generated now. */
  private regionModule(region: RegionBlock[], env: CompileEnv): object {
    const store = this.codeStore;
    const key = store === undefined ? '' : regionKey(region, env, this.memPages);
    const known = store?.get(key);
    if (known !== undefined) {
      try {
        return new Wasm.Module(known);
      } catch {
        // A damaged store entry: generate the module again (and replace the entry).
      }
    }
    const bytes = buildModule(this.memPages, IMPORTS, compileRegion(region, env));
    store?.set(key, bytes);
    return new Wasm.Module(bytes);
  }

  /**
   * The blocks reachable from `entry` inside its code page by fall-through and direct branches (Jcc,
   * JMP, CALL), decoding them as needed: compiled together, they run as one loop nest without
   * returning to the interpreter between blocks. A block runs on past its side exits, so a branch
   * target is often inside another block: that one is cut short there and continues in the target's
   * block, so each instruction is compiled once.
   */
  private regionFrom(entry: Block, pageOffset: number): RegionBlock[] {
    const region: RegionBlock[] = [];
    const seen = new Set<number>();
    const queue = [pageOffset];
    while (queue.length > 0 && region.length < REGION_MAX_BLOCKS) {
      const off = queue.shift()!;
      if (seen.has(off)) continue;
      seen.add(off);
      const block = off === pageOffset ? entry : this.blockAt(off);
      if (block === undefined || block.mode !== entry.mode) continue;
      const offsets = offsetsOf(block);
      region.push({ block, offsets, delta: off - pageOffset, count: block.count });
      for (let k = 0; k < block.count; k++) {
        const ins = block.insns[k];
        if (isRelativeBranch(ins) || isLoop(ins) || isNearCall(ins, block.mode)) {
          const to = off + offsets[k + 1] + ins.imm;
          if (to >= 0 && to < 4096) queue.push(to);
        }
      }
      // The block's fall-through, when its last instruction can fall through.
      const next = off + block.bytes;
      const last = block.insns[block.count - 1];
      if (next < 4096 && (fallsThrough(last) || continuesAfter(last) || isNearCall(last, last.mode))) queue.push(next);
    }
    // Cut blocks where others start; drop the blocks found last until the instructions fit.
    for (;;) {
      const starts = new Set(region.map((r) => r.delta));
      let insns = 0;
      for (const r of region) {
        r.count = r.block.count;
        for (let k = 1; k < r.block.count; k++) if (starts.has(r.delta + r.offsets[k])) { r.count = k; break; }
        insns += r.count;
      }
      if (insns <= REGION_MAX_INSNS || region.length === 1) return region;
      region.pop();
    }
  }

  /** Run instruction k of a region block in the interpreter: -1 to go on, else the count to return. */
  private callout(r: RegionBlock, k: number, before: number): number {
    const c = this.cpu;
    c.instructionsRetired = this.startCount + before;
    const block = r.block;
    const off = r.offsets;
    const start = this.rip + r.delta;
    const fall = start + off[k + 1];
    c.rip = start + off[k];
    c.nextRip = fall;
    this.memoryToFlags();
    try {
      block.fns[k](c, block.insns[k]);
    } catch (e) {
      if (e !== FAULT) throw e;
      this.flagsToMemory();
      this.faulted = true;
      this.f64[RIP_OUT >> 3] = c.rip;
      return k;
    }
    this.flagsToMemory();
    const ins = block.insns[k];
    // A REP string op that stopped between chunks: -2, the region runs its next chunk (compile.ts).
    if (c.nextRip === c.rip && c.events === 0 && isRepString(ins) && !c.interruptDeliverable()) return -2;
    if (c.nextRip !== fall || c.events !== 0 || (continuesAfter(ins) && c.interruptDeliverable())) {
      this.f64[RIP_OUT >> 3] = c.nextRip;
      return k + 1;
    }
    return -1;
  }

  /**
   * IN/OUT k of a region block, compiled inline (compile.ts portIo): what the interpreter's handler
   * does at CPL 0, where the I/O permission check always passes, without syncing the flags (the
   * access reads none but IF, which compiled code never changes). -1: run by the interpreter
   * (another CPL; debug registers, whose I/O breakpoints it checks). Else the value read (unsigned),
   * plus 2^32 when the region must leave after the instruction, as callout() decides.
   */
  private io(r: RegionBlock, k: number, port: number, value: number, before: number): number {
    const c = this.cpu;
    if (c.cpl !== 0 || c.debugMode !== 0) return -1;
    c.instructionsRetired = this.startCount + before;
    const start = this.rip + r.delta;
    c.rip = start + r.offsets[k];
    c.nextRip = start + r.offsets[k + 1];
    const ins = r.block.insns[k];
    const size = ioSize(ins);
    let read = 0;
    if (ins.op & 2) c.ports.write(port, size, value >>> 0);
    else read = c.ports.read(port, size) >>> 0;
    return c.events !== 0 || c.interruptDeliverable() ? read + 0x1_0000_0000 : read;
  }

  private cond(cc: number): number {
    this.memoryToFlags();
    return this.cpu.fl.cond(cc) ? 1 : 0;
  }

  private flagsToMemory(): void {
    const f = this.cpu.fl, m = this.flagsI32;
    m[OP] = f.op; m[SIZE] = f.size; m[A] = f.a; m[B] = f.b; m[R] = f.r;
    m[AH] = f.ah; m[BH] = f.bh; m[RH] = f.rh; m[CIN] = f.cin; m[BITS] = f.bits;
  }

  private memoryToFlags(): void {
    // As int32 bit patterns, as the interpreter keeps them (flags.ts).
    const f = this.cpu.fl, m = this.flagsI32;
    f.op = m[OP]; f.size = m[SIZE]; f.a = m[A]; f.b = m[B]; f.r = m[R];
    f.ah = m[AH]; f.bh = m[BH]; f.rh = m[RH]; f.cin = m[CIN]; f.bits = m[BITS];
  }
}

/** Byte offset of each instruction from the block start, and the end (count + 1 entries). */
function offsetsOf(block: Block): number[] {
  if (block.offsets === undefined) {
    const o = [0];
    for (const ins of block.insns) o.push(o[o.length - 1] + ins.len);
    block.offsets = o;
  }
  return block.offsets;
}

/**
 * UNIMACHINE_JIT: a compile threshold (0 = at once), or `off` (or anything else) for the interpreter
 * alone; undefined when it is not set, so each caller applies its own default.
 */
export function jitFromEnvironment(): false | { threshold: number } | undefined {
  const v = typeof process === 'undefined' ? undefined : process.env.UNIMACHINE_JIT;
  if (v === undefined || v === '') return undefined;
  const t = Number(v);
  return v !== 'off' && Number.isInteger(t) && t >= 0 ? { threshold: t } : false;
}
