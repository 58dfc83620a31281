/**
 * Local APIC register indexes: the xAPIC MMIO offset divided by 16, which is also the x2APIC MSR
 * number minus 0x800 (Intel SDM Vol. 3A, tables 11-1 and 11-6).
 */
export const LapicReg = {
  ID: 0x02,
  VERSION: 0x03,
  TPR: 0x08,
  /** Arbitration priority: xAPIC only. */
  APR: 0x09,
  PPR: 0x0a,
  EOI: 0x0b,
  /** Remote read: xAPIC only, not implemented by modern parts (reads as illegal here, as in QEMU). */
  RRD: 0x0c,
  LDR: 0x0d,
  /** Destination format: xAPIC only. */
  DFR: 0x0e,
  SVR: 0x0f,
  /** In-service register, eight 32-bit words 0x10..0x17. */
  ISR0: 0x10,
  /** Trigger mode register, 0x18..0x1f. */
  TMR0: 0x18,
  /** Interrupt request register, 0x20..0x27. */
  IRR0: 0x20,
  ESR: 0x28,
  ICR_LOW: 0x30,
  /** xAPIC only: in x2APIC mode the ICR is one 64-bit MSR at 0x830. */
  ICR_HIGH: 0x31,
  /** The six LVT entries, in LVT index order (see Lvt). */
  LVT_TIMER: 0x32,
  LVT_THERMAL: 0x33,
  LVT_PERF: 0x34,
  LVT_LINT0: 0x35,
  LVT_LINT1: 0x36,
  LVT_ERROR: 0x37,
  TIMER_INITIAL: 0x38,
  TIMER_CURRENT: 0x39,
  TIMER_DIVIDE: 0x3e,
  /** x2APIC only (MSR 0x83f). */
  SELF_IPI: 0x3f,
} as const;

/** Index into the LVT array; LVT register index = LapicReg.LVT_TIMER + Lvt.x. */
export const Lvt = {
  TIMER: 0,
  THERMAL: 1,
  PERF: 2,
  LINT0: 3,
  LINT1: 4,
  ERROR: 5,
} as const;
export const LVT_COUNT = 6;

/** Version register: version 0x14 (integrated APIC), max LVT entry 5 (six entries), as QEMU reports. */
export const LAPIC_VERSION = 0x14 | ((LVT_COUNT - 1) << 16);

/** LVT and ICR bit fields. */
export const LvtBit = {
  VECTOR: 0xff,
  DELIVERY_MODE_SHIFT: 8,
  DELIVERY_STATUS: 1 << 12,
  /** LINT0/1 input pin polarity: 1 = active low. */
  POLARITY: 1 << 13,
  /** LINT0/1 fixed level-triggered: set while the interrupt is accepted, cleared by its EOI. */
  REMOTE_IRR: 1 << 14,
  LEVEL_TRIGGER: 1 << 15,
  MASKED: 1 << 16,
  TIMER_MODE_SHIFT: 17,
} as const;

/** Bits software may write in each LVT entry (the rest are reserved or read-only). */
export const LVT_WRITABLE: readonly number[] = [
  0x000700ff, // timer: vector, mask, mode (bits 17-18)
  0x000107ff, // thermal: vector, delivery mode, mask
  0x000107ff, // performance counter
  0x0001a7ff, // LINT0: vector, delivery mode, polarity, trigger mode, mask
  0x0001a7ff, // LINT1
  0x000100ff, // error: vector, mask
];

/** LVT timer mode field (bits 17-18). */
export const TimerMode = {
  ONE_SHOT: 0,
  PERIODIC: 1,
  TSC_DEADLINE: 2,
} as const;

/** Delivery modes of LVT entries, the ICR, I/O APIC redirection entries and MSI data. */
export const DeliveryMode = {
  FIXED: 0,
  LOWEST_PRIORITY: 1,
  SMI: 2,
  NMI: 4,
  INIT: 5,
  STARTUP: 6,
  EXTINT: 7,
} as const;

export const IcrBit = {
  DEST_LOGICAL: 1 << 11,
  /** Level: 1 = assert. INIT with level 0 and trigger 1 is the "INIT level de-assert" message. */
  LEVEL_ASSERT: 1 << 14,
  LEVEL_TRIGGER: 1 << 15,
  SHORTHAND_SHIFT: 18,
} as const;

/** Destination shorthand field of the ICR (bits 18-19). */
export const Shorthand = {
  NONE: 0,
  SELF: 1,
  ALL_INCLUDING_SELF: 2,
  ALL_EXCLUDING_SELF: 3,
} as const;

/** ICR low bits that software writes (the delivery status bit 12 is read-only and reads 0: delivery is immediate). */
export const ICR_LOW_WRITABLE = 0x000ccfff;

export const SvrBit = {
  VECTOR: 0xff,
  /** APIC software enable. */
  ENABLE: 1 << 8,
  /** Focus processor checking disabled (lowest-priority arbitration). */
  NO_FOCUS_CHECK: 1 << 9,
} as const;
/** SVR bits software may write: vector, enable, focus check. EOI-broadcast suppression (bit 12) is not offered. */
export const SVR_WRITABLE = 0x3ff;

/** Error status register bits (SDM 11.5.3). */
export const EsrBit = {
  SEND_ILLEGAL_VECTOR: 1 << 5,
  RECEIVE_ILLEGAL_VECTOR: 1 << 6,
  ILLEGAL_REGISTER: 1 << 7,
} as const;

/** IA32_APIC_BASE (MSR 0x1b) bits. */
export const ApicBaseBit = {
  BSP: 1 << 8,
  /** x2APIC mode enable. */
  EXTD: 1 << 10,
  /** APIC global enable. */
  ENABLE: 1 << 11,
} as const;

export const DEFAULT_LAPIC_BASE = 0xfee00000;
export const LAPIC_WINDOW_SIZE = 0x1000;

/** MSR numbers the local APIC answers. */
export const ApicMsr = {
  APIC_BASE: 0x1b,
  TSC_DEADLINE: 0x6e0,
  /** First and last MSR of the x2APIC register range. */
  X2APIC_FIRST: 0x800,
  X2APIC_LAST: 0x8ff,
  X2APIC_ICR: 0x830,
  X2APIC_SELF_IPI: 0x83f,
} as const;

/** I/O APIC: the two directly addressed registers and the version 0x20 EOI register (offsets in its window). */
export const IoApicMmio = {
  IOREGSEL: 0x00,
  IOWIN: 0x10,
  EOI: 0x40,
} as const;

/** I/O APIC registers reached through IOREGSEL/IOWIN. */
export const IoApicReg = {
  ID: 0x00,
  VERSION: 0x01,
  ARBITRATION: 0x02,
  /** Redirection entry n: low dword at 0x10 + 2n, high dword at 0x11 + 2n. */
  REDIRECTION_BASE: 0x10,
} as const;

export const IOAPIC_PINS = 24;
/** Version 0x20 (it has the EOI register), as QEMU 7.2 reports; bits 16-23 = highest entry index. */
export const IOAPIC_VERSION = 0x20 | ((IOAPIC_PINS - 1) << 16);
export const DEFAULT_IOAPIC_BASE = 0xfec00000;
export const IOAPIC_WINDOW_SIZE = 0x1000;

/** Redirection entry bits (low dword; the destination is bits 56-63 of the entry). */
export const RedirBit = {
  VECTOR: 0xff,
  DELIVERY_MODE_SHIFT: 8,
  DEST_LOGICAL: 1 << 11,
  DELIVERY_STATUS: 1 << 12,
  POLARITY_LOW: 1 << 13,
  REMOTE_IRR: 1 << 14,
  LEVEL_TRIGGER: 1 << 15,
  MASKED: 1 << 16,
} as const;
/** Low-dword bits the guest writes; delivery status and remote IRR are read-only. */
export const REDIR_LOW_WRITABLE = 0x0001afff;
