export { Uart16550, UART16550_STATE_VERSION, type SerialConsole, type Uart16550State } from './uart.js';
export { uart16550Plugin, uartPortHandler, UART_PORT_COUNT } from './plugin.js';
export * from './registers.js';
