import { StateReader, type AccessSize, type Device, type InterruptSource, type IrqLine, type MmioHandler } from '@unimachine/core';
import { ApicBus, type BusLocalApic } from './apic-bus.js';
import { LapicTimer, readLapicTimerState } from './lapic-timer.js';
import { NO_PROCESSOR, type ApicMessage, type ApicProcessor } from './message.js';
import {
  ApicBaseBit,
  DEFAULT_LAPIC_BASE,
  DeliveryMode,
  EsrBit,
  IcrBit,
  ICR_LOW_WRITABLE,
  LapicReg,
  Lvt,
  LVT_COUNT,
  LVT_WRITABLE,
  LvtBit,
  Shorthand,
  SVR_WRITABLE,
  SvrBit,
} from './registers.js';
import { VectorSet } from './vector-set.js';
import { matchesX2apic, matchesXapic, x2apicLdrOf } from './destination.js';
import { readLapicRegister, writeLapicRegister } from './lapic-registers.js';
import { handlesApicMsr, readApicMsr, writeApicMsr } from './lapic-msr.js';
import { LintPin, type LocalApicOptions, type LocalApicState } from './lapic-types.js';

const TWO32 = 4294967296;
/** IA32_APIC_BASE bits above 31 that exist: a 40-bit physical address, as cpu-x86 reports. */
const BASE_HIGH_MASK = 0xff;
/** Vectors 0..15 are reserved for exceptions: an APIC never accepts them. */
const FIRST_LEGAL_VECTOR = 16;

/**
 * A local APIC (Intel SDM Vol. 3A ch. 11): xAPIC registers in a 4 KiB MMIO window at
 * IA32_APIC_BASE, x2APIC registers as MSRs, the timer, interrupt acceptance by priority, IPIs.
 * It is its CPU's InterruptSource: pending()/acknowledge() give the CPU the highest-priority
 * deliverable vector, or pass the INTA to the 8259 in virtual-wire mode (LINT0 as ExtINT) and
 * while the APIC is globally disabled (LINT0 is then the plain INTR pin).
 */
export class LocalApic implements Device, InterruptSource, BusLocalApic {
  /** What the machine hands the CPU. */
  readonly interruptSource: InterruptSource = this;
  readonly bus: ApicBus;
  readonly initialId: number;
  readonly bsp: boolean;
  readonly tscHz: number;
  readonly tscDeadlineSupported: boolean;
  readonly x2apicSupported: boolean;
  processor: ApicProcessor;
  /** The 8259 on LINT0, if any. */
  extInt: InterruptSource | undefined;
  readonly timer: LapicTimer;
  /** The xAPIC register window, offsets relative to the base (LapicMmioWindow claims it). */
  readonly mmio: MmioHandler;

  // Register state (read it freely; change it through registers and messages).
  /** xAPIC ID (bits 31-24 of the ID register). */
  id: number;
  tpr = 0;
  svr = 0xff;
  /** xAPIC logical destination register as read (bits 31-24). */
  ldr = 0;
  /** Destination format model (bits 31-28): 0xf flat, 0x0 cluster. */
  dfr = 0xffffffff;
  readonly irr = new VectorSet();
  readonly isr = new VectorSet();
  readonly tmr = new VectorSet();
  /** ESR as the guest reads it: the errors collected up to the last ESR write. */
  esr = 0;
  /** Errors collected since the last ESR write. */
  private esrPending = 0;
  icrLow = 0;
  icrHigh = 0;
  readonly lvt = new Uint32Array(LVT_COUNT);
  /** INIT received; the next start-up IPI starts the processor. */
  waitingForSipi: boolean;

  private baseAddress = DEFAULT_LAPIC_BASE;
  private enabled = true;
  private x2apic = false;
  /** An ExtINT message (I/O APIC pin in ExtINT mode) awaits its INTA. */
  private extIntMessage = false;
  private readonly lintLevel = [false, false];
  private readonly lintPins: [LintPin, LintPin];
  private readonly windowListeners: (() => void)[] = [];
  private readonly tscNow: () => number;
  private readonly firmwareState: boolean;
  private readonly baseOut: [number, number] = [0, 0];
  /** What this APIC was made with, for sibling(). */
  private readonly options: LocalApicOptions;

  constructor(options: LocalApicOptions) {
    this.options = options;
    this.initialId = options.id >>> 0;
    this.id = this.initialId & 0xff;
    this.bsp = options.bsp ?? options.id === 0;
    this.waitingForSipi = !this.bsp;
    this.processor = options.processor ?? NO_PROCESSOR;
    this.extInt = options.extInt;
    this.tscHz = options.tscHz ?? 2_000_000_000;
    this.tscDeadlineSupported = options.tscDeadline ?? true;
    this.x2apicSupported = options.x2apic ?? true;
    this.firmwareState = options.firmwareState ?? false;
    const clock = options.clock;
    this.tscNow = options.tsc ?? (() => Math.floor((clock.now() * this.tscHz) / 1e9));
    this.timer = new LapicTimer(clock, {
      lvtTimer: () => this.lvt[Lvt.TIMER],
      expired: () => this.deliverLocal(Lvt.TIMER),
      tsc: () => this.tscNow(),
      tscHz: this.tscHz,
    });
    this.lintPins = [new LintPin(this, 0), new LintPin(this, 1)];
    this.mmio = {
      read: (offset: number, size: AccessSize) => this.readMmio(offset, size),
      write: (offset: number, size: AccessSize, value: number) => this.writeMmio(offset, size, value),
    };
    this.bus = options.bus ?? new ApicBus();
    this.bus.attach(this);
    this.reset();
  }

  // ------------------------------------------------------------------ reset and modes

  /** Power-on / system reset: IA32_APIC_BASE back to 0xfee00000 | EN (| BSP), xAPIC mode. */
  reset(): void {
    this.baseAddress = DEFAULT_LAPIC_BASE;
    this.enabled = true;
    this.x2apic = false;
    this.id = this.initialId & 0xff;
    this.initReset();
    // QEMU's reset leaves the BSP's LINT0 in ExtINT, so the 8259 reaches the CPU from the start.
    if (this.bsp) this.lvt[Lvt.LINT0] = DeliveryMode.EXTINT << LvtBit.DELIVERY_MODE_SHIFT;
    if (this.bsp && this.firmwareState) {
      // What SeaBIOS's smp_setup leaves: APIC software-enabled, LINT0 ExtINT and LINT1 NMI, both level.
      this.svr |= SvrBit.ENABLE;
      this.lvt[Lvt.LINT0] = 0x8700;
      this.lvt[Lvt.LINT1] = 0x8400;
    }
    this.windowChanged();
  }

  /** INIT reset (an INIT message, or the APIC being globally disabled): all but the ID and base. */
  initReset(): void {
    this.tpr = 0;
    this.svr = 0xff;
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.irr.clear();
    this.isr.clear();
    this.tmr.clear();
    this.esr = 0;
    this.esrPending = 0;
    this.icrLow = 0;
    this.icrHigh = 0;
    this.lvt.fill(LvtBit.MASKED);
    this.timer.reset();
    this.waitingForSipi = !this.bsp;
    this.extIntMessage = false;
  }

  dispose(): void {
    this.timer.reset();
    this.bus.detach(this);
  }

  /**
   * The local APIC of another CPU of the same machine (SMP): the same options (clock, TSC rate,
   * x2APIC and TSC-deadline offers, firmware state, the 8259 on LINT0), on this APIC's bus, with
   * APIC ID `id`; never the BSP, so it starts waiting for a SIPI with every LVT entry masked.
   */
  sibling(id: number): LocalApic {
    return new LocalApic({ ...this.options, id, bsp: false, bus: this.bus, processor: undefined });
  }

  /** IA32_APIC_BASE.EN. */
  get globallyEnabled(): boolean {
    return this.enabled;
  }

  /** IA32_APIC_BASE.EXTD: registers are MSRs and the MMIO window is gone. */
  get x2apicMode(): boolean {
    return this.x2apic;
  }

  /** SVR bit 8. */
  get softwareEnabled(): boolean {
    return (this.svr & SvrBit.ENABLE) !== 0;
  }

  get acceptsMessages(): boolean {
    return this.enabled;
  }

  /** Physical address of the xAPIC window. */
  get base(): number {
    return this.baseAddress;
  }

  /** The xAPIC MMIO window decodes: globally enabled and not in x2APIC mode. */
  get mmioActive(): boolean {
    return this.enabled && !this.x2apic;
  }

  /** Called whenever the window moves, appears or disappears. */
  onWindowChange(listener: () => void): void {
    this.windowListeners.push(listener);
  }

  private windowChanged(): void {
    for (const l of this.windowListeners) l();
  }

  /** The 32-bit x2APIC ID (the initial APIC ID). */
  get x2apicId(): number {
    return this.initialId;
  }

  /** x2APIC logical ID, derived from the x2APIC ID: cluster in bits 31-16, one member bit in 15-0. */
  get x2apicLdr(): number {
    return x2apicLdrOf(this.initialId);
  }

  /** IA32_APIC_BASE as [lo, hi] (the array is reused). */
  readApicBase(): [number, number] {
    const lo =
      (this.baseAddress % TWO32 & 0xfffff000) |
      (this.bsp ? ApicBaseBit.BSP : 0) |
      (this.enabled ? ApicBaseBit.ENABLE : 0) |
      (this.x2apic ? ApicBaseBit.EXTD : 0);
    this.baseOut[0] = lo >>> 0;
    this.baseOut[1] = Math.floor(this.baseAddress / TWO32);
    return this.baseOut;
  }

  /**
   * WRMSR IA32_APIC_BASE. Returns false (#GP) for reserved bits and the invalid mode transitions
   * of SDM 11.12.5: EXTD without EN, x2APIC straight back to xAPIC, disabled straight to x2APIC.
   * The BSP flag is read-only. Clearing EN resets the APIC to its power-up state.
   */
  writeApicBase(lo: number, hi: number): boolean {
    lo >>>= 0;
    hi >>>= 0;
    const reserved = 0x2ff | (this.x2apicSupported ? 0 : ApicBaseBit.EXTD);
    if (lo & reserved || hi & ~BASE_HIGH_MASK) return false;
    const en = (lo & ApicBaseBit.ENABLE) !== 0;
    const extd = (lo & ApicBaseBit.EXTD) !== 0;
    if (extd && !en) return false;
    if (this.x2apic && en && !extd) return false;
    if (!this.enabled && extd) return false;
    this.baseAddress = hi * TWO32 + ((lo & 0xfffff000) >>> 0);
    if (!en) {
      if (this.enabled) this.initReset();
      this.enabled = false;
      this.x2apic = false;
    } else {
      this.enabled = true;
      this.x2apic = extd;
    }
    this.windowChanged();
    this.changed();
    return true;
  }

  // ------------------------------------------------------------------ priorities

  /** Processor priority (SDM 11.8.3.1): the TPR, or the class of the highest in-service vector. */
  ppr(): number {
    const isrv = this.isr.highest();
    const isrClass = isrv < 0 ? 0 : isrv >> 4;
    return this.tpr >> 4 >= isrClass ? this.tpr : isrClass << 4;
  }

  /** Arbitration priority (SDM 11.6.2.4). */
  arbitrationPriority(): number {
    const irrv = Math.max(this.irr.highest(), 0);
    const isrv = Math.max(this.isr.highest(), 0);
    const tprClass = this.tpr >> 4;
    if (tprClass >= irrv >> 4 && tprClass > isrv >> 4) return this.tpr;
    return Math.max(this.tpr & 0xf0, isrv & 0xf0, irrv & 0xf0);
  }

  isFocusFor(vector: number): boolean {
    if (this.svr & SvrBit.NO_FOCUS_CHECK || !this.softwareEnabled) return false;
    return this.irr.has(vector) || this.isr.has(vector);
  }

  /** CR8: the TPR's priority class (MOV to/from CR8 in 64-bit mode). */
  get cr8(): number {
    return this.tpr >> 4;
  }

  set cr8(value: number) {
    this.setTpr((value & 0xf) << 4);
  }

  /** The vector the CPU would take now through the APIC (not the 8259), or -1. */
  deliverableVector(): number {
    if (this.irr.size === 0 || !this.enabled || !this.softwareEnabled) return -1;
    const v = this.irr.highest();
    if (v < 0 || (v & 0xf0) <= (this.ppr() & 0xf0)) return -1;
    return v;
  }

  // ------------------------------------------------------------------ the CPU's interrupt source

  /** LINT0 carries the 8259's INTR to the CPU: APIC globally disabled, or LINT0 unmasked ExtINT. */
  private picRoutedThrough(): boolean {
    if (!this.enabled) return true;
    const lint0 = this.lvt[Lvt.LINT0];
    return (lint0 & LvtBit.MASKED) === 0 && ((lint0 >>> LvtBit.DELIVERY_MODE_SHIFT) & 7) === DeliveryMode.EXTINT;
  }

  pending(): boolean {
    if (this.extIntMessage) return true;
    if (this.extInt !== undefined && this.picRoutedThrough() && this.extInt.pending()) return true;
    return this.deliverableVector() >= 0;
  }

  /**
   * The INTA cycle. ExtINT (the 8259) goes first, as it ignores APIC priorities. Otherwise the
   * highest IRR vector moves to the ISR; if the TPR rose since pending() said yes, the answer is
   * the spurious vector and no ISR bit is set (SDM 11.9).
   */
  acknowledge(): number {
    if (this.extIntMessage) {
      this.extIntMessage = false;
      return this.extInt ? this.extInt.acknowledge() : this.svr & SvrBit.VECTOR;
    }
    if (this.extInt !== undefined && this.picRoutedThrough() && this.extInt.pending()) return this.extInt.acknowledge();
    const v = this.deliverableVector();
    if (v < 0) return this.svr & SvrBit.VECTOR;
    this.irr.delete(v);
    this.isr.add(v);
    return v;
  }

  // ------------------------------------------------------------------ accepting interrupts

  /** A fixed interrupt arrives (IPI, I/O APIC, LVT): into the IRR, its trigger mode into the TMR. */
  accept(vector: number, level: boolean): void {
    if (vector < FIRST_LEGAL_VECTOR) {
      this.logError(EsrBit.RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    this.irr.add(vector);
    if (level) this.tmr.add(vector);
    else this.tmr.delete(vector);
    this.changed();
  }

  /** A message from the bus addressed to this APIC. */
  receive(message: ApicMessage): void {
    switch (message.deliveryMode) {
      case DeliveryMode.FIXED:
      case DeliveryMode.LOWEST_PRIORITY:
        this.accept(message.vector, message.level);
        return;
      case DeliveryMode.SMI:
      case DeliveryMode.NMI:
      case DeliveryMode.EXTINT:
        this.signal(message.deliveryMode);
        return;
      case DeliveryMode.INIT:
        // INIT level de-assert only resynchronises arbitration IDs.
        if (message.level && !message.assert) return;
        this.initReset();
        this.processor.init();
        this.changed();
        return;
      case DeliveryMode.STARTUP:
        if (!this.waitingForSipi) return;
        this.waitingForSipi = false;
        this.processor.startup(message.vector);
        this.changed();
        return;
    }
  }

  /** SMI, NMI and ExtINT, whether they come from the bus or a local vector table entry. */
  private signal(mode: number): void {
    if (mode === DeliveryMode.SMI) return void this.processor.smi?.();
    if (mode === DeliveryMode.NMI) this.processor.nmi();
    else this.extIntMessage = true; // ExtINT: the next acknowledge asks the 8259 for its vector
    this.changed();
  }

  matchesDestination(dest: number, logical: boolean, wide: boolean): boolean {
    if (this.x2apic) return matchesX2apic(dest, logical, wide, this.initialId);
    return matchesXapic(dest, logical, wide, this.id, this.ldr, this.dfr);
  }

  /** Deliver through LVT entry `index` (timer expiry, error, a LINT pin edge). Masked entries deliver nothing. */
  deliverLocal(index: number): void {
    const entry = this.lvt[index];
    if (entry & LvtBit.MASKED) return;
    const mode = index === Lvt.TIMER || index === Lvt.ERROR ? DeliveryMode.FIXED : (entry >>> LvtBit.DELIVERY_MODE_SHIFT) & 7;
    switch (mode) {
      case DeliveryMode.FIXED: {
        const isLint = index === Lvt.LINT0 || index === Lvt.LINT1;
        const level = isLint && (entry & LvtBit.LEVEL_TRIGGER) !== 0;
        const vector = entry & LvtBit.VECTOR;
        if (level) {
          // One level interrupt at a time: the next waits for the EOI that clears remote IRR.
          if (entry & LvtBit.REMOTE_IRR) return;
          if (vector < FIRST_LEGAL_VECTOR) return this.logError(EsrBit.RECEIVE_ILLEGAL_VECTOR);
          this.lvt[index] |= LvtBit.REMOTE_IRR;
        }
        this.accept(vector, level);
        return;
      }
      case DeliveryMode.SMI:
      case DeliveryMode.NMI:
      case DeliveryMode.EXTINT:
        this.signal(mode);
        return;
      case DeliveryMode.INIT:
        this.initReset();
        this.processor.init();
        return;
    }
  }

  /** LINT0/LINT1 pin level. Level-triggered fixed entries re-deliver after EOI while the pin stays high. */
  lint(n: 0 | 1): IrqLine {
    return this.lintPins[n];
  }

  setLint(n: 0 | 1, high: boolean): void {
    const wasHigh = this.lintLevel[n];
    this.lintLevel[n] = high;
    if (high && !wasHigh) this.deliverLocal(Lvt.LINT0 + n);
    else if (high) this.sampleLevelLint(n);
  }

  /** A level-triggered fixed LINT entry with the pin high and no interrupt outstanding delivers again. */
  private sampleLevelLint(n: 0 | 1): void {
    const entry = this.lvt[Lvt.LINT0 + n];
    const fixedLevel = ((entry >>> LvtBit.DELIVERY_MODE_SHIFT) & 7) === DeliveryMode.FIXED && entry & LvtBit.LEVEL_TRIGGER;
    if (this.lintLevel[n] && fixedLevel && !(entry & LvtBit.REMOTE_IRR)) this.deliverLocal(Lvt.LINT0 + n);
  }

  /** EOI: retire the highest in-service vector; a level-triggered one is broadcast to the I/O APICs. */
  eoi(): void {
    const v = this.isr.highest();
    if (v < 0) return;
    this.isr.delete(v);
    if (this.tmr.has(v)) {
      for (const n of [0, 1] as const) {
        const i = Lvt.LINT0 + n;
        if (this.lvt[i] & LvtBit.REMOTE_IRR && (this.lvt[i] & LvtBit.VECTOR) === v) {
          this.lvt[i] &= ~LvtBit.REMOTE_IRR;
          this.sampleLevelLint(n);
        }
      }
      this.bus.broadcastEoi(v);
    }
    this.changed();
  }

  /** Record an error for the ESR; a new error interrupts through the error LVT. */
  logError(bit: number): void {
    if (this.esrPending & bit) return;
    this.esrPending |= bit;
    this.deliverLocal(Lvt.ERROR);
  }

  private changed(): void {
    this.processor.kick?.();
  }

  // ------------------------------------------------------------------ registers

  /** Read register `index` (MMIO offset / 16). Unknown registers read 0 and set ESR bit 7. */
  readRegister(index: number): number {
    return readLapicRegister(this, index);
  }

  /** Write register `index` with xAPIC semantics (the x2APIC MSR layer checks its own rules first). */
  writeRegister(index: number, value: number): void {
    writeLapicRegister(this, index, value);
  }

  /** TPR write (the register, or CR8 through the cr8 setter). */
  setTpr(value: number): void {
    this.tpr = value & 0xff;
    this.changed();
  }

  /** ESR write-then-read: the write publishes the errors collected so far and starts afresh. */
  latchErrors(): void {
    this.esr = this.esrPending;
    this.esrPending = 0;
  }

  writeSvr(value: number): void {
    this.svr = value & SVR_WRITABLE;
    // Software-disabled: every LVT entry is masked (SDM 11.4.7.2).
    if (!this.softwareEnabled) {
      for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] |= LvtBit.MASKED;
      this.timer.reschedule();
    }
    this.changed();
  }

  /** Write LVT entry `i` (Lvt.*): reserved and read-only bits kept, masked while software-disabled. */
  writeLvt(i: number, value: number): void {
    let writable = LVT_WRITABLE[i];
    if (i === Lvt.TIMER && !this.tscDeadlineSupported) writable &= ~(2 << LvtBit.TIMER_MODE_SHIFT);
    const old = this.lvt[i];
    let entry = (value & writable) | (old & LvtBit.REMOTE_IRR);
    if (!this.softwareEnabled) entry |= LvtBit.MASKED;
    this.lvt[i] = entry >>> 0;
    if (i === Lvt.TIMER) this.timer.lvtChanged(old);
    else if (i === Lvt.LINT0 || i === Lvt.LINT1) this.sampleLevelLint((i - Lvt.LINT0) as 0 | 1);
    this.changed();
  }

  /** The ICR low half was written: send the IPI it describes. */
  sendIpi(): void {
    const lo = this.icrLow;
    const mode = (lo >>> 8) & 7;
    const vector = lo & 0xff;
    if (mode === 3 || mode === DeliveryMode.EXTINT) return; // reserved in the ICR
    if ((mode === DeliveryMode.FIXED || mode === DeliveryMode.LOWEST_PRIORITY) && vector < FIRST_LEGAL_VECTOR) {
      this.logError(EsrBit.SEND_ILLEGAL_VECTOR);
      return;
    }
    const shorthand = (lo >>> IcrBit.SHORTHAND_SHIFT) & 3;
    // Only fixed interrupts may be sent to self.
    if (shorthand === Shorthand.SELF && mode !== DeliveryMode.FIXED) return;
    const message: ApicMessage = {
      vector,
      deliveryMode: mode,
      logical: (lo & IcrBit.DEST_LOGICAL) !== 0,
      dest: this.x2apic ? this.icrHigh >>> 0 : this.icrHigh >>> 24,
      wide: this.x2apic,
      // IPIs are edge-triggered; the trigger bit only distinguishes INIT level de-assert.
      level: mode === DeliveryMode.INIT && (lo & IcrBit.LEVEL_TRIGGER) !== 0,
      assert: (lo & IcrBit.LEVEL_ASSERT) !== 0,
      shorthand,
    };
    this.bus.send(message, this);
  }

  /** SELF IPI register (x2APIC): a fixed edge interrupt to this APIC. */
  selfIpi(vector: number): void {
    if (vector < FIRST_LEGAL_VECTOR) return this.logError(EsrBit.SEND_ILLEGAL_VECTOR);
    this.accept(vector, false);
  }

  /** x2APIC ICR write: one 64-bit value, destination in the high half. */
  writeIcr64(lo: number, hi: number): void {
    this.icrHigh = hi >>> 0;
    this.icrLow = lo & ICR_LOW_WRITABLE;
    this.sendIpi();
  }

  private readMmio(offset: number, size: AccessSize): number {
    // Registers are 32 bits wide on 16-byte boundaries; narrower accesses read 0 (as QEMU).
    if (size !== 4 || !this.mmioActive) return 0;
    return this.readRegister((offset >>> 4) & 0xff);
  }

  private writeMmio(offset: number, size: AccessSize, value: number): void {
    if (size !== 4 || !this.mmioActive) return;
    const index = (offset >>> 4) & 0xff;
    // SELF IPI exists in x2APIC mode only.
    if (index === LapicReg.SELF_IPI) return this.logError(EsrBit.ILLEGAL_REGISTER);
    this.writeRegister(index, value);
  }

  // ------------------------------------------------------------------ MSRs

  /** Does RDMSR/WRMSR `index` belong to the local APIC (IA32_APIC_BASE, TSC deadline, x2APIC range)? */
  handlesMsr(index: number): boolean {
    return handlesApicMsr(this, index);
  }

  /** RDMSR: [lo, hi] (a reused array), or undefined for #GP. */
  rdmsr(index: number): [number, number] | undefined {
    return readApicMsr(this, index);
  }

  /** WRMSR: false for #GP. */
  wrmsr(index: number, lo: number, hi: number): boolean {
    return writeApicMsr(this, index, lo, hi);
  }

  // ------------------------------------------------------------------ snapshot

  snapshot(): LocalApicState {
    return {
      version: 2,
      id: this.id,
      base: this.baseAddress,
      enabled: this.enabled,
      x2apic: this.x2apic,
      tpr: this.tpr,
      svr: this.svr,
      ldr: this.ldr,
      dfr: this.dfr,
      irr: this.irr.toArray(),
      isr: this.isr.toArray(),
      tmr: this.tmr.toArray(),
      esr: this.esr,
      esrPending: this.esrPending,
      icrLow: this.icrLow,
      icrHigh: this.icrHigh,
      lvt: Array.from(this.lvt),
      timer: this.timer.snapshot(),
      waitingForSipi: this.waitingForSipi,
      extIntMessage: this.extIntMessage,
      lint: [...this.lintLevel],
    };
  }

  restore(state: unknown): void {
    const r = StateReader.open('local APIC', state, 2);
    const s: LocalApicState = {
      version: 2, id: r.uint('id', 32), base: r.int('base', 0), enabled: r.bool('enabled'), x2apic: r.bool('x2apic'),
      tpr: r.uint('tpr', 8), svr: r.uint('svr', 32), ldr: r.uint('ldr', 32), dfr: r.uint('dfr', 32),
      irr: r.ints('irr', 8, 0, 0xffffffff), isr: r.ints('isr', 8, 0, 0xffffffff), tmr: r.ints('tmr', 8, 0, 0xffffffff),
      esr: r.uint('esr', 32), esrPending: r.uint('esrPending', 32), icrLow: r.uint('icrLow', 32), icrHigh: r.uint('icrHigh', 32),
      lvt: r.ints('lvt', this.lvt.length, 0, 0xffffffff), timer: readLapicTimerState(r.child('timer')),
      waitingForSipi: r.bool('waitingForSipi'), extIntMessage: r.bool('extIntMessage'), lint: r.bools('lint', 2),
    };
    this.id = s.id;
    this.baseAddress = s.base;
    this.enabled = s.enabled;
    this.x2apic = s.x2apic;
    this.tpr = s.tpr;
    this.svr = s.svr;
    this.ldr = s.ldr;
    this.dfr = s.dfr;
    this.irr.load(s.irr);
    this.isr.load(s.isr);
    this.tmr.load(s.tmr);
    this.esr = s.esr;
    this.esrPending = s.esrPending;
    this.icrLow = s.icrLow;
    this.icrHigh = s.icrHigh;
    this.lvt.set(s.lvt);
    this.waitingForSipi = s.waitingForSipi;
    this.extIntMessage = s.extIntMessage;
    this.lintLevel[0] = s.lint[0];
    this.lintLevel[1] = s.lint[1];
    this.timer.restore(s.timer);
    this.windowChanged();
  }
}
