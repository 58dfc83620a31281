import { describe, expect, it } from 'vitest';
import { RecordingIrqLine } from '@unimachine/core';
import { Fcr, Ier, Lcr, Lsr, Mcr, Msr, Reg, Uart16550 } from '../src/index.js';

/** A console that records output and lets the test type host input. */
class TestConsole {
  out: number[] = [];
  private receiver?: (byte: number) => void;
  write(byte: number): void {
    this.out.push(byte);
  }
  onInput(receiver: (byte: number) => void): void {
    this.receiver = receiver;
  }
  type(text: string): void {
    for (const ch of Buffer.from(text, 'latin1')) this.receiver!(ch);
  }
  get text(): string {
    return Buffer.from(this.out).toString('latin1');
  }
}

function setup() {
  const irq = new RecordingIrqLine();
  const con = new TestConsole();
  const uart = new Uart16550(irq, con);
  return { irq, con, uart };
}

describe('Uart16550 registers', () => {
  it('power-on state: THR and transmitter empty, no interrupt, FIFOs off', () => {
    const { uart } = setup();
    expect(uart.read(Reg.LSR)).toBe(Lsr.THR_EMPTY | Lsr.TX_EMPTY);
    expect(uart.read(Reg.IIR_FCR)).toBe(0x01);
    expect(uart.read(Reg.IER)).toBe(0);
    expect(uart.read(Reg.MCR)).toBe(0);
  });

  it('divisor latch: DLAB switches offsets 0/1 to DLL/DLM and back', () => {
    const { uart, con } = setup();
    uart.write(Reg.IER, 0x05);
    uart.write(Reg.LCR, Lcr.DLAB | 0x03);
    uart.write(Reg.DATA, 0x01); // DLL
    uart.write(Reg.IER, 0x02); // DLM
    expect(uart.read(Reg.DATA)).toBe(0x01);
    expect(uart.read(Reg.IER)).toBe(0x02);
    expect(uart.baudRate).toBeCloseTo(115200 / 0x201);
    expect(con.out).toEqual([]); // DLL write is not a transmit
    uart.write(Reg.LCR, 0x03);
    expect(uart.read(Reg.LCR)).toBe(0x03);
    expect(uart.read(Reg.IER)).toBe(0x05); // IER kept its value under the latch
    uart.write(Reg.LCR, Lcr.DLAB);
    uart.write(Reg.DATA, 0x01);
    uart.write(Reg.IER, 0x00);
    expect(uart.baudRate).toBe(115200);
  });

  it('scratch register holds any byte; IER keeps only its four bits', () => {
    const { uart } = setup();
    uart.write(Reg.SCR, 0xa5);
    expect(uart.read(Reg.SCR)).toBe(0xa5);
    uart.write(Reg.SCR, 0x5a);
    expect(uart.read(Reg.SCR)).toBe(0x5a);
    uart.write(Reg.IER, 0xff);
    expect(uart.read(Reg.IER)).toBe(0x0f);
    uart.write(Reg.MCR, 0xff);
    expect(uart.read(Reg.MCR)).toBe(0x1f);
  });

  it('transmits to the console at once and receives host input in order', () => {
    const { uart, con } = setup();
    for (const ch of Buffer.from('Hi\n')) uart.write(Reg.DATA, ch);
    expect(con.text).toBe('Hi\n');
    uart.write(Reg.IIR_FCR, Fcr.ENABLE); // room for more than one byte
    con.type('ok');
    expect(uart.read(Reg.LSR) & Lsr.DATA_READY).toBe(Lsr.DATA_READY);
    expect(uart.read(Reg.DATA)).toBe(0x6f);
    expect(uart.read(Reg.LSR) & Lsr.DATA_READY).toBe(Lsr.DATA_READY);
    expect(uart.read(Reg.DATA)).toBe(0x6b);
    expect(uart.read(Reg.LSR) & Lsr.DATA_READY).toBe(0);
  });

  it('loopback: TX goes to RX, not the console; MCR outputs appear as MSR inputs with deltas', () => {
    const { uart, con } = setup();
    expect(uart.read(Reg.MSR) & 0xf0).toBe(Msr.DCD | Msr.DSR | Msr.CTS); // a terminal is attached
    uart.write(Reg.MCR, Mcr.LOOPBACK | Mcr.RTS | Mcr.OUT2); // Linux's 8250 loopback probe
    expect(uart.read(Reg.MSR)).toBe(Msr.CTS | Msr.DCD | Msr.DDSR); // DSR dropped: delta
    expect(uart.read(Reg.MSR)).toBe(Msr.CTS | Msr.DCD); // deltas clear on read
    uart.write(Reg.MCR, Mcr.LOOPBACK | Mcr.DTR | Mcr.OUT1);
    expect(uart.read(Reg.MSR)).toBe(Msr.DSR | Msr.RI | Msr.DCTS | Msr.DDSR | Msr.DDCD);
    uart.write(Reg.MCR, Mcr.LOOPBACK | Mcr.DTR);
    expect(uart.read(Reg.MSR)).toBe(Msr.DSR | Msr.TERI); // RI trailing edge
    uart.write(Reg.MCR, Mcr.LOOPBACK | Mcr.DTR | Mcr.OUT1);
    expect(uart.read(Reg.MSR)).toBe(Msr.DSR | Msr.RI); // RI leading edge is not a delta

    uart.write(Reg.DATA, 0x55);
    con.type('x'); // cut off from the line in loopback: lost
    expect(con.out).toEqual([]);
    expect(uart.read(Reg.LSR)).toBe(Lsr.DATA_READY | Lsr.THR_EMPTY | Lsr.TX_EMPTY);
    expect(uart.read(Reg.DATA)).toBe(0x55);
    expect(uart.read(Reg.LSR) & Lsr.DATA_READY).toBe(0);

    uart.write(Reg.MCR, Mcr.DTR | Mcr.RTS | Mcr.OUT2);
    expect(uart.read(Reg.MSR) & 0xf0).toBe(Msr.DCD | Msr.DSR | Msr.CTS);
    uart.write(Reg.DATA, 0x41);
    expect(con.out).toEqual([0x41]);
  });

  it('without FIFOs the receiver holds one byte; the next one overruns', () => {
    const { uart, con } = setup();
    con.type('ab');
    expect(uart.read(Reg.LSR)).toBe(Lsr.DATA_READY | Lsr.OVERRUN | Lsr.THR_EMPTY | Lsr.TX_EMPTY);
    expect(uart.read(Reg.LSR) & Lsr.OVERRUN).toBe(0); // OE clears when LSR is read
    expect(uart.read(Reg.DATA)).toBe(0x61);
    expect(uart.read(Reg.LSR) & Lsr.DATA_READY).toBe(0);
  });

  it('16-byte RX FIFO: fills, overruns on the 17th byte, keeps the first 16, clears on FCR', () => {
    const { uart, con } = setup();
    uart.write(Reg.IIR_FCR, Fcr.ENABLE);
    expect(uart.read(Reg.IIR_FCR) & 0xc0).toBe(0xc0);
    con.type('ABCDEFGHIJKLMNOPQ');
    const lsr = uart.read(Reg.LSR);
    expect(lsr & (Lsr.DATA_READY | Lsr.OVERRUN)).toBe(Lsr.DATA_READY | Lsr.OVERRUN);
    let got = '';
    while (uart.read(Reg.LSR) & Lsr.DATA_READY) got += String.fromCharCode(uart.read(Reg.DATA));
    expect(got).toBe('ABCDEFGHIJKLMNOP');

    con.type('xyz');
    uart.write(Reg.IIR_FCR, Fcr.ENABLE | Fcr.CLEAR_RX | Fcr.CLEAR_TX);
    expect(uart.read(Reg.LSR) & Lsr.DATA_READY).toBe(0);
    expect(uart.read(Reg.IIR_FCR) & 0xc0).toBe(0xc0); // still enabled: clear bits self-clear

    con.type('q');
    uart.write(Reg.IIR_FCR, 0); // disabling the FIFOs empties them too
    expect(uart.read(Reg.LSR) & Lsr.DATA_READY).toBe(0);
    expect(uart.read(Reg.IIR_FCR)).toBe(0x01);
  });

  it('RX trigger level: character timeout below it, data available at it', () => {
    const { uart, con } = setup();
    uart.write(Reg.IER, Ier.RX_DATA);
    uart.write(Reg.IIR_FCR, Fcr.ENABLE | 0x40); // trigger at 4 bytes
    con.type('abc');
    expect(uart.read(Reg.IIR_FCR)).toBe(0xc0 | 0x0c);
    con.type('d');
    expect(uart.read(Reg.IIR_FCR)).toBe(0xc0 | 0x04);
    uart.write(Reg.IIR_FCR, Fcr.ENABLE | 0xc0); // trigger 14
    con.type('abcd');
    expect(uart.read(Reg.IIR_FCR)).toBe(0xc0 | 0x0c);
  });

  it('reports interrupts in datasheet priority order and clears each at its source', () => {
    const { uart, con } = setup();
    uart.write(Reg.MCR, Mcr.OUT2);
    uart.write(Reg.IER, Ier.RX_DATA | Ier.THR_EMPTY | Ier.LINE_STATUS | Ier.MODEM_STATUS);
    con.type('12'); // second byte overruns the one-byte RBR: line status + data
    uart.write(Reg.MCR, Mcr.OUT2 | Mcr.LOOPBACK); // modem inputs change: MSR deltas
    uart.write(Reg.MCR, Mcr.OUT2);
    expect(uart.read(Reg.IIR_FCR)).toBe(0x06); // receiver line status
    expect(uart.read(Reg.IIR_FCR)).toBe(0x06); // IIR read does not clear it
    uart.read(Reg.LSR);
    expect(uart.read(Reg.IIR_FCR)).toBe(0x04); // received data available
    uart.read(Reg.DATA);
    expect(uart.read(Reg.IIR_FCR)).toBe(0x02); // THRE; this read clears it
    expect(uart.read(Reg.IIR_FCR)).toBe(0x00); // modem status
    uart.read(Reg.MSR);
    expect(uart.read(Reg.IIR_FCR)).toBe(0x01); // none
  });

  it('masked sources are not reported', () => {
    const { uart, con } = setup();
    con.type('z');
    expect(uart.read(Reg.IIR_FCR)).toBe(0x01);
    uart.write(Reg.IER, Ier.RX_DATA);
    expect(uart.read(Reg.IIR_FCR)).toBe(0x04);
  });
});

describe('Uart16550 interrupt line', () => {
  it('THRE: raised when ETBEI is enabled with THR empty, cleared by reading IIR, re-raised by a THR write', () => {
    const { uart, irq, con } = setup();
    uart.write(Reg.MCR, Mcr.OUT2);
    expect(irq.level).toBe(false);
    uart.write(Reg.IER, Ier.THR_EMPTY);
    expect(irq.level).toBe(true);
    expect(irq.edges).toBe(1);
    expect(uart.read(Reg.IIR_FCR)).toBe(0x02);
    expect(irq.level).toBe(false);
    expect(uart.read(Reg.IIR_FCR)).toBe(0x01);

    uart.write(Reg.DATA, 0x21); // the byte leaves at once and THR is empty again: a new edge
    expect(con.out).toEqual([0x21]);
    expect(irq.level).toBe(true);
    expect(irq.edges).toBe(2);
    uart.write(Reg.DATA, 0x22); // still pending: the line drops and rises again
    expect(irq.edges).toBe(3);

    uart.write(Reg.IER, 0); // masking drops the line
    expect(irq.level).toBe(false);
    expect(uart.read(Reg.IIR_FCR)).toBe(0x01);
    uart.write(Reg.IER, Ier.THR_EMPTY); // re-enabling while THR is empty raises again
    expect(irq.level).toBe(true);
  });

  it('THRE read-clear only applies when THRE is the reported source', () => {
    const { uart, irq, con } = setup();
    uart.write(Reg.MCR, Mcr.OUT2);
    con.type('a');
    uart.write(Reg.IER, Ier.RX_DATA | Ier.THR_EMPTY);
    expect(uart.read(Reg.IIR_FCR)).toBe(0x04); // data outranks THRE
    uart.read(Reg.DATA);
    expect(uart.read(Reg.IIR_FCR)).toBe(0x02); // THRE survived the earlier IIR read
    expect(irq.level).toBe(false);
  });

  it('OUT2 gates the line to the PIC; IIR still reports the interrupt', () => {
    const { uart, irq, con } = setup();
    uart.write(Reg.IER, Ier.RX_DATA);
    con.type('a');
    expect(irq.level).toBe(false);
    expect(uart.read(Reg.IIR_FCR)).toBe(0x04);
    uart.write(Reg.MCR, Mcr.DTR | Mcr.RTS | Mcr.OUT2);
    expect(irq.level).toBe(true);
    uart.write(Reg.MCR, Mcr.DTR | Mcr.RTS);
    expect(irq.level).toBe(false);
    uart.write(Reg.MCR, Mcr.OUT2 | Mcr.LOOPBACK); // OUT2 forced inactive in loopback
    expect(irq.level).toBe(false);
    uart.write(Reg.MCR, Mcr.OUT2);
    expect(irq.level).toBe(true);
    uart.read(Reg.DATA);
    expect(irq.level).toBe(false);
  });

  it('works with no IRQ line at all (polled UART)', () => {
    const con = new TestConsole();
    const uart = new Uart16550(undefined, con);
    uart.write(Reg.MCR, Mcr.OUT2);
    uart.write(Reg.IER, 0x0f);
    uart.write(Reg.DATA, 0x41);
    expect(con.text).toBe('A');
  });

  it('snapshot/restore round-trips registers and FIFO contents; reset returns to power-on', () => {
    const { uart, con } = setup();
    uart.write(Reg.IIR_FCR, Fcr.ENABLE | 0x80);
    uart.write(Reg.SCR, 0x77);
    uart.write(Reg.MCR, Mcr.OUT2);
    uart.write(Reg.IER, Ier.RX_DATA);
    con.type('abc');
    const state = JSON.parse(JSON.stringify(uart.snapshot()));
    const irq2 = new RecordingIrqLine();
    const copy = new Uart16550(irq2, new TestConsole());
    copy.restore(state);
    expect(irq2.level).toBe(true);
    expect(copy.read(Reg.SCR)).toBe(0x77);
    expect(copy.read(Reg.IIR_FCR)).toBe(0xcc);
    expect([copy.read(Reg.DATA), copy.read(Reg.DATA), copy.read(Reg.DATA)]).toEqual([0x61, 0x62, 0x63]);
    uart.reset();
    expect(uart.read(Reg.IIR_FCR)).toBe(0x01);
    expect(uart.read(Reg.LSR)).toBe(0x60);
  });
});
