import { defineDevice, IrqRef, PortNumber, Type, type AccessSize, type DevicePlugin, type PortHandler } from '@unimachine/core';
import { Uart16550 } from './uart.js';

export const UART_PORT_COUNT = 8;

/**
 * Port-bus adapter: a word or dword access to a UART port is, on the ISA bus, several byte
 * cycles to consecutive ports; bytes past the UART's eighth port read as all ones.
 */
export function uartPortHandler(uart: Uart16550, base: number): PortHandler {
  return {
    read(port: number, size: AccessSize): number {
      let value = 0;
      for (let i = 0; i < size; i++) {
        const offset = port - base + i;
        const byte = offset < UART_PORT_COUNT ? uart.read(offset) : 0xff;
        value |= byte << (8 * i);
      }
      return value >>> 0;
    },
    write(port: number, size: AccessSize, value: number): void {
      for (let i = 0; i < size; i++) {
        const offset = port - base + i;
        if (offset < UART_PORT_COUNT) uart.write(offset, (value >>> (8 * i)) & 0xff);
      }
    },
  };
}

const schema = Type.Object(
  {
    port: Type.Optional({ ...PortNumber('base I/O port; the UART claims 8 ports from here (COM1 0x3f8, COM2 0x2f8)'), default: 0x3f8 }),
    irq: Type.Optional(IrqRef('interrupt line, e.g. pic.4 (COM1) or pic.3 (COM2); omit for a polled-only UART')),
    console: Type.Optional(
      Type.String({
        description: 'where transmitted bytes go and host input comes from: stdio, file:PATH or none',
        default: 'stdio',
      }),
    ),
  },
  { additionalProperties: false },
);

/** YAML `type: uart-16550`. */
export const uart16550Plugin: DevicePlugin = defineDevice({
  type: 'uart-16550',
  description: '16550A UART (serial port) with 16-byte FIFOs',
  schema,
  create(ctx, props) {
    const port = props.port ?? 0x3f8;
    const uart = new Uart16550(props.irq ? ctx.irq(props.irq) : undefined, ctx.console(props.console ?? 'stdio'));
    ctx.ports.claim({ start: port, length: UART_PORT_COUNT }, uartPortHandler(uart, port), ctx.id);
    return uart;
  },
});
