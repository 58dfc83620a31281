import { StateReader, type AccessSize, type Device, type InterruptSource, type IrqLine, type IrqProvider, type PortHandler } from '@unimachine/core';
import { I8259, readI8259State, type I8259State } from './i8259.js';

export const I8259_PAIR_STATE_VERSION = 1;

/** ELCR bits that exist: IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge-triggered. */
const MASTER_ELCR_WRITABLE = 0xf8;
const SLAVE_ELCR_WRITABLE = 0xde;
/** The master input the slave's INT pin is wired to on a PC. */
const CASCADE_LINE = 2;

/** An input wire of the pair, handed out as `pic.<n>`. */
class PicInput implements IrqLine {
  constructor(private readonly pair: I8259Pair, private readonly n: number) {}
  raise(): void {
    this.pair.setIrq(this.n, true);
  }
  lower(): void {
    this.pair.setIrq(this.n, false);
  }
  pulse(): void {
    this.pair.setIrq(this.n, true);
    this.pair.setIrq(this.n, false);
  }
}

/**
 * The PC/AT interrupt controllers: a master 8259A at 0x20/0x21, a slave at 0xA0/0xA1 whose INT
 * output drives the master's IR2, and the edge/level control registers (ELCR) at 0x4D0/0x4D1.
 * IRQ n (0..15) is master input n for n < 8 and slave input n-8 otherwise; IRQ 2 is the
 * cascade, so `line(2)` is wired to IRQ 9 as on the AT's ISA bus.
 */
export class I8259Pair implements Device, IrqProvider, InterruptSource {
  readonly master = new I8259(MASTER_ELCR_WRITABLE, true);
  readonly slave = new I8259(SLAVE_ELCR_WRITABLE, false);
  /** What the machine looks for to find the CPU's interrupt source. */
  readonly interruptSource: InterruptSource = this;
  private readonly inputs: PicInput[] = [];
  /** Cached master INT pin: pending() runs at every instruction boundary. */
  private intPending = false;

  constructor(initialElcr = 0) {
    for (let n = 0; n < 16; n++) this.inputs.push(new PicInput(this, n === CASCADE_LINE ? 9 : n));
    this.master.reset();
    this.slave.reset();
    this.master.setElcr(initialElcr & 0xff);
    this.slave.setElcr(initialElcr >> 8);
    this.update();
  }

  /**
   * System reset. The ELCR keeps its value: on a PC it returns to 0 and the firmware writes the
   * same bits back (PCI interrupts level-triggered), and our firmware stand-ins run only once,
   * in whatever order the devices reset.
   */
  reset(): void {
    const elcr = this.elcr;
    this.master.reset();
    this.slave.reset();
    this.master.setElcr(elcr & 0xff);
    this.slave.setElcr(elcr >> 8);
    this.update();
  }

  snapshot(): { version: number; master: I8259State; slave: I8259State } {
    return { version: I8259_PAIR_STATE_VERSION, master: this.master.snapshot(), slave: this.slave.snapshot() };
  }

  /**
   * Both chips are checked before either changes. The saved wire levels are the PIC's own record
   * of its inputs: the machine restores interrupt controllers after the devices driving them.
   */
  restore(state: unknown): void {
    const r = StateReader.open('i8259', state, I8259_PAIR_STATE_VERSION);
    const master = readI8259State(r.child('master'));
    const slave = readI8259State(r.child('slave'));
    this.master.restore(master);
    this.slave.restore(slave);
    this.update();
  }

  line(n: number): IrqLine {
    if (!Number.isInteger(n) || n < 0 || n > 15) throw new RangeError(`i8259 has IRQ lines 0..15, not ${n}`);
    return this.inputs[n];
  }

  setIrq(n: number, high: boolean): void {
    if (n < 8) this.master.setInput(n, high);
    else this.slave.setInput(n - 8, high);
    this.update();
  }

  pending(): boolean {
    return this.intPending;
  }

  /** The INTA cycle: the master answers, or hands the vector over to the slave on its cascade line. */
  acknowledge(): number {
    const irq = this.master.acknowledge();
    let vector: number;
    if (irq < 0) {
      vector = this.master.vectorBase + 7; // spurious IRQ 7: no ISR bit set
    } else if (irq === CASCADE_LINE && this.isCascaded()) {
      // The master's ISR bit 2 is set even when the slave's request vanished (spurious IRQ 15).
      const slaveIrq = this.slave.acknowledge();
      vector = this.slave.vectorBase + (slaveIrq < 0 ? 7 : slaveIrq);
    } else {
      vector = this.master.vectorBase + irq;
    }
    this.update();
    return vector;
  }

  /** 16-bit view of the ELCR pair (bit n = IRQ n level-triggered). */
  get elcr(): number {
    return this.master.elcr | (this.slave.elcr << 8);
  }

  /** Port access by byte; the plugin splits word accesses. */
  readByte(port: number): number {
    let value: number;
    switch (port) {
      case 0x20: value = this.master.readCommand(); break;
      case 0x21: value = this.master.readData(); break;
      case 0xa0: value = this.slave.readCommand(); break;
      case 0xa1: value = this.slave.readData(); break;
      case 0x4d0: return this.master.elcr;
      case 0x4d1: return this.slave.elcr;
      default: return 0xff;
    }
    this.update(); // a poll read acknowledges
    return value;
  }

  writeByte(port: number, value: number): void {
    switch (port) {
      case 0x20: this.master.writeCommand(value); break;
      case 0x21: this.master.writeData(value); break;
      case 0xa0: this.slave.writeCommand(value); break;
      case 0xa1: this.slave.writeData(value); break;
      case 0x4d0: this.master.setElcr(value); break;
      case 0x4d1: this.slave.setElcr(value); break;
      default: return;
    }
    this.update();
  }

  /** A PortHandler for the claimed ranges: word and dword accesses are consecutive byte cycles. */
  readonly ports: PortHandler = {
    read: (port: number, size: AccessSize): number => {
      let value = 0;
      for (let i = 0; i < size; i++) value |= this.readByte(port + i) << (8 * i);
      return value >>> 0;
    },
    write: (port: number, size: AccessSize, value: number): void => {
      for (let i = 0; i < size; i++) this.writeByte(port + i, (value >>> (8 * i)) & 0xff);
    },
  };

  private isCascaded(): boolean {
    return !this.master.single && (this.master.icw3 & (1 << CASCADE_LINE)) !== 0;
  }

  /** Propagate the slave's INT pin to the master's IR2, then cache the master's INT pin. */
  private update(): void {
    this.master.setInput(CASCADE_LINE, this.slave.requested() >= 0);
    this.intPending = this.master.requested() >= 0;
  }
}
