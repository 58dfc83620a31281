import { describe, expect, it } from 'vitest';
import { PortBus, RecordingIrqLine, type ConsolePort, type DeviceContext } from '@unimachine/core';
import { uart16550Plugin, Uart16550 } from '../src/index.js';

class TestConsole implements ConsolePort {
  out: number[] = [];
  receiver?: (byte: number) => void;
  write(byte: number): void {
    this.out.push(byte);
  }
  onInput(receiver: (byte: number) => void): void {
    this.receiver = receiver;
  }
}

/** Just enough of a machine for the plugin: a real PortBus, named IRQ lines, recorded console specs. */
function fakeContext() {
  const ports = new PortBus();
  const lines = new Map<string, RecordingIrqLine>();
  const consoles: { spec: string; port: TestConsole }[] = [];
  const ctx = {
    id: 'com1',
    ports,
    irq(ref: string) {
      if (!lines.has(ref)) lines.set(ref, new RecordingIrqLine());
      return lines.get(ref)!;
    },
    console(spec: string) {
      const port = new TestConsole();
      consoles.push({ spec, port });
      return port;
    },
  } as unknown as DeviceContext;
  return { ctx, ports, lines, consoles };
}

async function create(props: Record<string, unknown>) {
  const f = fakeContext();
  const dev = await uart16550Plugin.create(f.ctx, props as never);
  return { ...f, dev };
}

/** The init sequence of a typical OS serial driver (OSDev's, Linux early console), port by port. */
function initLikeAGuest(ports: PortBus, base: number): boolean {
  ports.write(base + 1, 1, 0x00); // disable interrupts
  ports.write(base + 3, 1, 0x80); // DLAB on
  ports.write(base + 0, 1, 0x03); // divisor 3 = 38400 baud
  ports.write(base + 1, 1, 0x00);
  ports.write(base + 3, 1, 0x03); // 8 bits, no parity, one stop bit
  ports.write(base + 2, 1, 0xc7); // FIFO on, clear both, 14-byte trigger
  ports.write(base + 4, 1, 0x0b); // DTR, RTS, OUT2
  // Loopback self-test before trusting the port.
  ports.write(base + 4, 1, 0x1e);
  ports.write(base + 0, 1, 0xae);
  if (ports.read(base + 0, 1) !== 0xae) return false;
  ports.write(base + 4, 1, 0x0f);
  return true;
}

function putsPolled(ports: PortBus, base: number, text: string): void {
  for (const ch of Buffer.from(text)) {
    let spins = 0;
    while ((ports.read(base + 5, 1) & 0x20) === 0) if (++spins > 1000) throw new Error('THRE never set');
    ports.write(base, 1, ch);
  }
}

describe('uart-16550 plugin', () => {
  it('declares its YAML properties with defaults and descriptions', () => {
    const props = (uart16550Plugin.schema as any).properties;
    expect(uart16550Plugin.type).toBe('uart-16550');
    expect(props.port.default).toBe(0x3f8);
    expect(props.console.default).toBe('stdio');
    expect(props.irq.description).toMatch(/pic\.4/);
    for (const p of Object.values(props) as any[]) expect(p.description).toBeTruthy();
  });

  it('claims 8 ports at 0x3f8 by default, uses the stdio console and no IRQ unless given', async () => {
    const { ports, dev, consoles, lines } = await create({});
    expect(dev).toBeInstanceOf(Uart16550);
    expect(ports.ownerOf(0x3f8)).toBe('com1');
    expect(ports.ownerOf(0x3ff)).toBe('com1');
    expect(ports.ownerOf(0x3f7)).toBeUndefined();
    expect(ports.ownerOf(0x400)).toBeUndefined();
    expect(consoles.map((c) => c.spec)).toEqual(['stdio']);
    expect(lines.size).toBe(0);
  });

  it('a guest driver initialises it through the port bus and prints by polling LSR.THRE', async () => {
    const { ports, consoles } = await create({ port: 0x2f8, irq: 'pic.3', console: 'file:out.txt' });
    expect(consoles[0].spec).toBe('file:out.txt');
    expect(initLikeAGuest(ports, 0x2f8)).toBe(true);
    expect(ports.read(0x2f8 + 2, 1) & 0xc0).toBe(0xc0); // FIFOs enabled
    expect(ports.read(0x2f8 + 3, 1)).toBe(0x03);
    putsPolled(ports, 0x2f8, 'Hello, world!\n');
    expect(Buffer.from(consoles[0].port.out).toString()).toBe('Hello, world!\n'); // the 0xae stayed in loopback
  });

  it('interrupt-driven receive through the port bus', async () => {
    const { ports, consoles, lines } = await create({ irq: 'pic.4' });
    const base = 0x3f8;
    expect(initLikeAGuest(ports, base)).toBe(true);
    const irq = lines.get('pic.4')!;
    ports.write(base + 1, 1, 0x01); // ERBFI
    expect(irq.level).toBe(false);
    for (const ch of Buffer.from('hello')) consoles[0].port.receiver!(ch);
    expect(irq.level).toBe(true);
    // The ISR: identify, drain while DR, until IIR says nothing is pending.
    let got = '';
    for (let iir = ports.read(base + 2, 1); (iir & 1) === 0; iir = ports.read(base + 2, 1)) {
      expect(iir).toBe(0xcc); // 5 bytes, below the 14-byte trigger: character timeout
      while (ports.read(base + 5, 1) & 0x01) got += String.fromCharCode(ports.read(base, 1));
    }
    expect(got).toBe('hello');
    expect(irq.level).toBe(false);
  });

  it('a word access is two byte cycles on consecutive ports', async () => {
    const { ports } = await create({});
    ports.write(0x3fb, 2, 0x0b83); // LCR=0x83 (DLAB), MCR=0x0b
    expect(ports.read(0x3fb, 1)).toBe(0x83);
    expect(ports.read(0x3fc, 1)).toBe(0x0b);
    ports.write(0x3f8, 2, 0x0201); // DLL=1, DLM=2
    expect(ports.read(0x3f8, 2)).toBe(0x0201);
    expect(ports.read(0x3ff, 2)).toBe(0xff00); // SCR, then a port past the UART
  });
});
