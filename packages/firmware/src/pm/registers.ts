/** ACPI fixed-hardware registers of the PIIX4 power-management block (ACPI 4.8.3, PIIX4 datasheet). */
export const PmOffset = {
  PM1_STS: 0x00,
  PM1_EN: 0x02,
  PM1_CNT: 0x04,
  PM_TMR: 0x08,
} as const;

export const Pm1Status = {
  TMR: 1 << 0,
  GBL: 1 << 5,
  PWRBTN: 1 << 8,
  RTC: 1 << 10,
  WAK: 1 << 15,
} as const;

/** Status bits that exist in PM1_STS (the rest read 0). */
export const PM1_STS_BITS = Pm1Status.TMR | Pm1Status.GBL | Pm1Status.PWRBTN | Pm1Status.RTC | Pm1Status.WAK;
/** Enable bits that exist in PM1_EN. */
export const PM1_EN_BITS = Pm1Status.TMR | Pm1Status.GBL | Pm1Status.PWRBTN | Pm1Status.RTC;

export const Pm1Control = {
  SCI_EN: 1 << 0,
  BM_RLD: 1 << 1,
  GBL_RLS: 1 << 2,
  SLP_TYP_SHIFT: 10,
  SLP_TYP_MASK: 7 << 10,
  /** Write-only: start the sleep state in SLP_TYP. */
  SLP_EN: 1 << 13,
} as const;

/** The PM timer's crystal: 14.31818 MHz / 4. */
export const PM_TIMER_HZ = 3_579_545;

/** The PIIX4 APM control (SMI command) and status ports. */
export const APM_CNT_PORT = 0xb2;
export const APM_STS_PORT = 0xb3;
