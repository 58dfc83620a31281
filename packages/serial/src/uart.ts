import { StateReader, type Device, type IrqLine } from '@unimachine/core';
import {
  BASE_BAUD, Fcr, FIFO_SIZE, IIR_FIFO_ENABLED, Ier, IirId, Lcr, Lsr, Mcr, Msr, Reg, RX_TRIGGER_LEVELS,
} from './registers.js';
import { RxFifo } from './rx-fifo.js';

/** Where transmitted bytes go and where host input comes from (a core ConsolePort fits). */
export interface SerialConsole {
  write(byte: number): void;
  onInput?(receiver: (byte: number) => void): void;
}

/** Modem inputs seen when not in loopback: a host terminal is attached (carrier, data set ready, clear to send). */
const CONNECTED_MODEM_INPUTS = Msr.DCD | Msr.DSR | Msr.CTS;

export const UART16550_STATE_VERSION = 1;

export interface Uart16550State {
  version: number;
  ier: number;
  lcr: number;
  mcr: number;
  lsr: number;
  msr: number;
  scr: number;
  fcr: number;
  divisor: number;
  thrInterrupt: boolean;
  rx: number[];
}

/**
 * A National Semiconductor 16550A UART, register-exact, with no machine around it:
 * eight registers at offsets 0..7, an optional IRQ line and a console sink.
 *
 * Transmission is instant (no baud-rate delay): a byte written to THR reaches the console at
 * once, so THR and the transmitter are always empty by the time the guest reads LSR.
 */
export class Uart16550 implements Device {
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private lsr = Lsr.THR_EMPTY | Lsr.TX_EMPTY;
  private msr = CONNECTED_MODEM_INPUTS;
  private scr = 0;
  /** FCR is write-only; we keep the enable bit and trigger level. */
  private fcr = 0;
  private divisor = 12;
  /** The THRE interrupt condition, cleared by reading IIR while it is the source or by writing THR. */
  private thrInterrupt = false;
  private readonly rx = new RxFifo();
  private lineLevel = false;

  constructor(
    private readonly irq: IrqLine | undefined,
    private readonly console: SerialConsole,
  ) {
    console.onInput?.((byte) => this.receive(byte));
  }

  /** Baud rate programmed through the divisor latch (0 when the divisor is 0). */
  get baudRate(): number {
    return this.divisor === 0 ? 0 : BASE_BAUD / this.divisor;
  }

  get fifoEnabled(): boolean {
    return (this.fcr & Fcr.ENABLE) !== 0;
  }

  /** Host input: one byte arrives on the serial line. Returns false on overrun (the byte is lost). */
  receive(byte: number): boolean {
    if (this.mcr & Mcr.LOOPBACK) return false; // in loopback the receiver is cut off from the line: the byte is lost
    const ok = this.enqueue(byte);
    this.updateIrq();
    return ok;
  }

  read(offset: number): number {
    const dlab = (this.lcr & Lcr.DLAB) !== 0;
    switch (offset & 7) {
      case Reg.DATA:
        return dlab ? this.divisor & 0xff : this.readRbr();
      case Reg.IER:
        return dlab ? this.divisor >>> 8 : this.ier;
      case Reg.IIR_FCR:
        return this.readIir();
      case Reg.LCR:
        return this.lcr;
      case Reg.MCR:
        return this.mcr;
      case Reg.LSR:
        return this.readLsr();
      case Reg.MSR:
        return this.readMsr();
      default:
        return this.scr;
    }
  }

  write(offset: number, value: number): void {
    value &= 0xff;
    const dlab = (this.lcr & Lcr.DLAB) !== 0;
    switch (offset & 7) {
      case Reg.DATA:
        if (dlab) this.divisor = (this.divisor & 0xff00) | value;
        else this.writeThr(value);
        return;
      case Reg.IER:
        if (dlab) this.divisor = (this.divisor & 0xff) | (value << 8);
        else this.writeIer(value);
        return;
      case Reg.IIR_FCR:
        this.writeFcr(value);
        return;
      case Reg.LCR:
        this.lcr = value;
        return;
      case Reg.MCR:
        this.writeMcr(value);
        return;
      case Reg.LSR:
      case Reg.MSR:
        return; // factory-test writes on the real part; ignored
      default:
        this.scr = value;
    }
  }

  reset(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.lsr = Lsr.THR_EMPTY | Lsr.TX_EMPTY;
    this.msr = CONNECTED_MODEM_INPUTS;
    this.scr = 0;
    this.fcr = 0;
    this.divisor = 12;
    this.thrInterrupt = false;
    this.rx.capacity = 1;
    this.rx.clear();
    this.updateIrq();
  }

  snapshot(): Uart16550State {
    const { ier, lcr, mcr, lsr, msr, scr, fcr, divisor, thrInterrupt } = this;
    return { version: UART16550_STATE_VERSION, ier, lcr, mcr, lsr, msr, scr, fcr, divisor, thrInterrupt, rx: this.rx.toJSON() };
  }

  /** Checks every field first; the IRQ line then follows the restored registers. */
  restore(state: unknown): void {
    const r = StateReader.open('uart-16550', state, UART16550_STATE_VERSION);
    const s: Uart16550State = {
      version: UART16550_STATE_VERSION,
      ier: r.uint('ier', 8), lcr: r.uint('lcr', 8), mcr: r.uint('mcr', 8), lsr: r.uint('lsr', 8), msr: r.uint('msr', 8),
      scr: r.uint('scr', 8), fcr: r.uint('fcr', 8), divisor: r.uint('divisor', 16), thrInterrupt: r.bool('thrInterrupt'),
      rx: r.ints('rx', undefined, 0, 0xff),
    };
    if (s.rx.length > FIFO_SIZE) r.fail('rx', `at most ${FIFO_SIZE} bytes (the receive FIFO)`, s.rx);
    this.ier = s.ier & 0x0f;
    this.lcr = s.lcr & 0xff;
    this.mcr = s.mcr & Mcr.MASK;
    this.lsr = s.lsr & 0xff;
    this.msr = s.msr & 0xff;
    this.scr = s.scr & 0xff;
    this.fcr = s.fcr & (Fcr.ENABLE | Fcr.TRIGGER_MASK);
    this.divisor = s.divisor & 0xffff;
    this.thrInterrupt = !!s.thrInterrupt;
    this.rx.capacity = this.fifoEnabled ? FIFO_SIZE : 1;
    this.rx.load(s.rx);
    this.updateIrq();
  }

  // --- registers with side effects ---

  private readRbr(): number {
    const byte = this.rx.pop();
    this.updateIrq();
    return byte;
  }

  private writeThr(byte: number): void {
    // Writing THR clears the THRE interrupt; the byte then leaves at once and THR is empty
    // again, which raises a fresh THRE interrupt: the line drops and rises (an edge) as it
    // does on hardware one character time later.
    this.thrInterrupt = false;
    this.updateIrq();
    if (this.mcr & Mcr.LOOPBACK) this.enqueue(byte);
    else this.console.write(byte);
    this.thrInterrupt = true;
    this.updateIrq();
  }

  private writeIer(value: number): void {
    const enablingThre = (value & Ier.THR_EMPTY) !== 0 && (this.ier & Ier.THR_EMPTY) === 0;
    this.ier = value & 0x0f;
    // Enabling ETBEI while THR is empty raises THRE at once (Linux's and QEMU's expectation).
    if (enablingThre && this.lsr & Lsr.THR_EMPTY) this.thrInterrupt = true;
    this.updateIrq();
  }

  private writeFcr(value: number): void {
    const wasEnabled = this.fifoEnabled;
    const enable = (value & Fcr.ENABLE) !== 0;
    if (enable !== wasEnabled) {
      // Changing the FIFO enable bit empties both FIFOs.
      this.rx.clear();
      this.rx.capacity = enable ? FIFO_SIZE : 1;
    }
    if (!enable) {
      // With FCR0 clear the other bits are not programmed.
      this.fcr = 0;
    } else {
      if (value & Fcr.CLEAR_RX) this.rx.clear();
      // CLEAR_TX: the transmit FIFO is always empty here (instant transmission).
      this.fcr = value & (Fcr.ENABLE | Fcr.TRIGGER_MASK);
    }
    this.updateIrq();
  }

  private writeMcr(value: number): void {
    this.mcr = value & Mcr.MASK;
    this.setModemInputs(this.modemInputs());
    this.updateIrq();
  }

  private readIir(): number {
    const id = this.interruptId();
    // Reading IIR acknowledges a THRE interrupt, but only when THRE is the one reported.
    if (id === IirId.THR_EMPTY) {
      this.thrInterrupt = false;
      this.updateIrq();
    }
    return id | (this.fifoEnabled ? IIR_FIFO_ENABLED : 0);
  }

  private readLsr(): number {
    const value = this.currentLsr();
    this.lsr &= ~(Lsr.ERRORS | Lsr.FIFO_ERROR); // error bits clear on read
    this.updateIrq();
    return value;
  }

  private readMsr(): number {
    const value = this.msr;
    this.msr &= ~Msr.DELTAS;
    this.updateIrq();
    return value;
  }

  // --- internal state ---

  private currentLsr(): number {
    return this.rx.count > 0 ? this.lsr | Lsr.DATA_READY : this.lsr & ~Lsr.DATA_READY;
  }

  private enqueue(byte: number): boolean {
    if (this.rx.push(byte & 0xff)) return true;
    this.lsr |= Lsr.OVERRUN;
    return false;
  }

  /** Modem status inputs: the MCR outputs looped back, or a connected host terminal. */
  private modemInputs(): number {
    if (!(this.mcr & Mcr.LOOPBACK)) return CONNECTED_MODEM_INPUTS;
    let v = 0;
    if (this.mcr & Mcr.RTS) v |= Msr.CTS;
    if (this.mcr & Mcr.DTR) v |= Msr.DSR;
    if (this.mcr & Mcr.OUT1) v |= Msr.RI;
    if (this.mcr & Mcr.OUT2) v |= Msr.DCD;
    return v;
  }

  private setModemInputs(next: number): void {
    const prev = this.msr & 0xf0;
    const changed = prev ^ next;
    let deltas = this.msr & Msr.DELTAS;
    if (changed & Msr.CTS) deltas |= Msr.DCTS;
    if (changed & Msr.DSR) deltas |= Msr.DDSR;
    if (changed & Msr.DCD) deltas |= Msr.DDCD;
    if (prev & Msr.RI && !(next & Msr.RI)) deltas |= Msr.TERI; // trailing edge only
    this.msr = next | deltas;
  }

  /** The highest-priority pending, enabled interrupt (16550A datasheet, table 4). */
  private interruptId(): number {
    if (this.ier & Ier.LINE_STATUS && this.lsr & Lsr.ERRORS) return IirId.LINE_STATUS;
    if (this.ier & Ier.RX_DATA && this.rx.count > 0) {
      if (!this.fifoEnabled) return IirId.RX_DATA;
      // Below the trigger level the real part reports a character timeout after four
      // character times of silence; with no line timing we report it at once.
      return this.rx.count >= this.rxTrigger() ? IirId.RX_DATA : IirId.CHAR_TIMEOUT;
    }
    if (this.ier & Ier.THR_EMPTY && this.thrInterrupt) return IirId.THR_EMPTY;
    if (this.ier & Ier.MODEM_STATUS && this.msr & Msr.DELTAS) return IirId.MODEM_STATUS;
    return IirId.NONE;
  }

  private rxTrigger(): number {
    return RX_TRIGGER_LEVELS[(this.fcr & Fcr.TRIGGER_MASK) >>> 6];
  }

  /**
   * On a PC the UART's INTR pin reaches the PIC through a buffer enabled by OUT2; in loopback
   * the OUT2 pin is forced inactive, so no interrupt leaves the card.
   */
  private updateIrq(): void {
    const gate = (this.mcr & (Mcr.OUT2 | Mcr.LOOPBACK)) === Mcr.OUT2;
    const level = gate && this.interruptId() !== IirId.NONE;
    if (level === this.lineLevel) return;
    this.lineLevel = level;
    if (level) this.irq?.raise();
    else this.irq?.lower();
  }
}
