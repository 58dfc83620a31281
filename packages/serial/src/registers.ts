/** Register offsets from the UART's base port (16550A datasheet, table 2). */
export const Reg = {
  /** DLAB=0: receiver buffer (read) / transmitter holding (write). DLAB=1: divisor latch low. */
  DATA: 0,
  /** DLAB=0: interrupt enable. DLAB=1: divisor latch high. */
  IER: 1,
  /** Interrupt identification (read) / FIFO control (write). */
  IIR_FCR: 2,
  LCR: 3,
  MCR: 4,
  LSR: 5,
  MSR: 6,
  SCR: 7,
} as const;

/** Interrupt enable register bits. */
export const Ier = {
  RX_DATA: 0x01, // ERBFI
  THR_EMPTY: 0x02, // ETBEI
  LINE_STATUS: 0x04, // ELSI
  MODEM_STATUS: 0x08, // EDSSI
} as const;

/** Interrupt identification values (bits 3..0), highest priority first. */
export const IirId = {
  LINE_STATUS: 0x06,
  RX_DATA: 0x04,
  CHAR_TIMEOUT: 0x0c,
  THR_EMPTY: 0x02,
  MODEM_STATUS: 0x00,
  NONE: 0x01,
} as const;

/** IIR bits 7..6 read as 11 when the FIFOs are enabled. */
export const IIR_FIFO_ENABLED = 0xc0;

export const Fcr = {
  ENABLE: 0x01,
  CLEAR_RX: 0x02,
  CLEAR_TX: 0x04,
  TRIGGER_MASK: 0xc0,
} as const;

/** RX FIFO trigger levels selected by FCR bits 7..6. */
export const RX_TRIGGER_LEVELS = [1, 4, 8, 14] as const;

export const Lcr = { DLAB: 0x80, BREAK: 0x40 } as const;

export const Mcr = {
  DTR: 0x01,
  RTS: 0x02,
  OUT1: 0x04,
  OUT2: 0x08,
  LOOPBACK: 0x10,
  /** Bits 7..5 do not exist and read as zero. */
  MASK: 0x1f,
} as const;

export const Lsr = {
  DATA_READY: 0x01,
  OVERRUN: 0x02,
  PARITY: 0x04,
  FRAMING: 0x08,
  BREAK: 0x10,
  THR_EMPTY: 0x20,
  TX_EMPTY: 0x40,
  FIFO_ERROR: 0x80,
  /** The bits that raise a receiver line status interrupt and clear when LSR is read. */
  ERRORS: 0x1e,
} as const;

export const Msr = {
  DCTS: 0x01,
  DDSR: 0x02,
  TERI: 0x04,
  DDCD: 0x08,
  CTS: 0x10,
  DSR: 0x20,
  RI: 0x40,
  DCD: 0x80,
  DELTAS: 0x0f,
} as const;

export const FIFO_SIZE = 16;
/** The 1.8432 MHz crystal divided by 16: the baud rate for divisor 1. */
export const BASE_BAUD = 115200;
