import { rearmTimer, saveTimer, StateReader, type AccessSize, type Clock, type Device, type IrqLine, type PortHandler, type Timer } from '@unimachine/core';
import { pmTicksAt, pmTicksToNs } from './pm-timer.js';
import { Pm1Control, Pm1Status, PM1_EN_BITS, PM1_STS_BITS, PmOffset } from './registers.js';

const STATE_VERSION = 1;

export interface AcpiPmOptions {
  /** 32-bit PM timer (FADT TMR_VAL_EXT); otherwise 24-bit, as QEMU's PIIX4. */
  timer32?: boolean;
  /** SLP_TYP value of \_S5 in the DSDT: writing it with SLP_EN powers the machine off. */
  s5SleepType?: number;
  /** SMI command values that switch ACPI mode on and off (FADT ACPI_ENABLE/ACPI_DISABLE). */
  acpiEnable?: number;
  acpiDisable?: number;
}

/** What happens when the guest enters S5. */
export type PowerOff = () => void;

/**
 * The ACPI fixed hardware of a PIIX4-style PM block: PM1 event (status/enable) and control
 * registers, the 3.579545 MHz PM timer (computed from the clock when read, like the PIT), the
 * SCI, a GPE0 block with no event sources, and the APM port that turns ACPI mode on (what
 * SeaBIOS's SMI handler does on QEMU; this machine has no SMM).
 */
export class AcpiPm implements Device {
  private pm1Status = 0;
  private pm1Enable = 0;
  private pm1Control = 0;
  private gpeStatus = 0;
  private gpeEnable = 0;
  private apmStatus = 0;
  /** Timer ticks when TMR_STS was last cleared; the status is set at each MSB toggle after it. */
  private timerStsBase = 0;
  private timer: Timer | undefined;
  private sciLevel = false;
  private readonly msbPeriod: number;
  private readonly mask: number;

  constructor(
    private readonly clock: Clock,
    private readonly sci: IrqLine | undefined,
    private readonly powerOff: PowerOff,
    private readonly options: AcpiPmOptions = {},
  ) {
    this.msbPeriod = options.timer32 ? 2 ** 31 : 2 ** 23;
    this.mask = options.timer32 ? 0xffffffff : 0xffffff;
    this.timerStsBase = this.ticks();
  }

  private ticks(): number {
    return pmTicksAt(this.clock.now());
  }

  /** PM_TMR: the free-running count, 24 or 32 bits. */
  timerValue(): number {
    return (this.ticks() % (this.mask + 1)) >>> 0;
  }

  private timerStatus(): boolean {
    return Math.floor(this.ticks() / this.msbPeriod) > Math.floor(this.timerStsBase / this.msbPeriod);
  }

  /** PM1_STS as the guest reads it. */
  status(): number {
    return (this.pm1Status | (this.timerStatus() ? Pm1Status.TMR : 0)) & PM1_STS_BITS;
  }

  get control(): number {
    return this.pm1Control;
  }

  /** The power button: sets PWRBTN_STS (an SCI if the guest enabled it), as QEMU's system_powerdown. */
  pressPowerButton(): void {
    this.pm1Status |= Pm1Status.PWRBTN;
    this.update();
  }

  private writeStatus(value: number): void {
    if (value & Pm1Status.TMR && this.timerStatus()) this.timerStsBase = this.ticks();
    this.pm1Status &= ~(value & ~Pm1Status.TMR);
    this.update();
  }

  private writeControl(value: number): void {
    this.pm1Control = value & ~Pm1Control.SLP_EN & 0xffff;
    if (value & Pm1Control.SLP_EN) {
      const type = (value & Pm1Control.SLP_TYP_MASK) >> Pm1Control.SLP_TYP_SHIFT;
      // Only soft-off is offered (\_S5); other sleep types do nothing (no S3 resume path).
      if (type === (this.options.s5SleepType ?? 0)) this.powerOff();
    }
  }

  /** Recompute the SCI level and the timer that sets TMR_STS while TMR_EN is on. */
  private update(): void {
    const pending = (this.status() & this.pm1Enable) !== 0 || (this.gpeStatus & this.gpeEnable) !== 0;
    if (pending !== this.sciLevel) {
      this.sciLevel = pending;
      if (pending) this.sci?.raise();
      else this.sci?.lower();
    }
    this.timer?.cancel();
    this.timer = undefined;
    if (this.pm1Enable & Pm1Status.TMR && !this.timerStatus()) {
      const next = (Math.floor(this.timerStsBase / this.msbPeriod) + 1) * this.msbPeriod;
      this.timer = this.clock.schedule(pmTicksToNs(next), () => this.onTimer());
    }
  }

  private onTimer(): void {
    this.timer = undefined;
    this.update();
  }

  // ---- register access ----------------------------------------------------------------------

  /** Read from the PM1/PM_TMR block at `offset` (0..11). */
  readPm(offset: number, size: AccessSize): number {
    if (offset >= PmOffset.PM_TMR) return extract(this.timerValue(), offset - PmOffset.PM_TMR, size);
    const regs = this.status() | (this.pm1Enable << 16);
    if (offset < PmOffset.PM1_CNT) return extract(regs, offset, size);
    return extract(this.pm1Control, offset - PmOffset.PM1_CNT, size);
  }

  writePm(offset: number, size: AccessSize, value: number): void {
    if (offset < PmOffset.PM1_EN) {
      this.writeStatus(place(value, offset, size) & 0xffff);
      const rest = overflow(value, offset, size, 2);
      if (rest.size) this.writePm(PmOffset.PM1_EN, rest.size, rest.value);
    } else if (offset < PmOffset.PM1_CNT) {
      this.pm1Enable = merge(this.pm1Enable, value, offset - PmOffset.PM1_EN, size) & PM1_EN_BITS;
      this.update();
    } else if (offset < PmOffset.PM_TMR) {
      this.writeControl(merge(this.pm1Control, value, offset - PmOffset.PM1_CNT, size));
    }
    // PM_TMR is read-only.
  }

  readGpe(offset: number, size: AccessSize): number {
    return extract(this.gpeStatus | (this.gpeEnable << 16), offset, size);
  }

  writeGpe(offset: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      const byte = (value >>> (8 * i)) & 0xff;
      if (at < 2) this.gpeStatus &= ~(byte << (8 * at));
      else if (at < 4) this.gpeEnable = (this.gpeEnable & ~(0xff << (8 * (at - 2)))) | (byte << (8 * (at - 2)));
    }
    this.update();
  }

  /** APM control port (SMI command): the FADT's ACPI enable/disable values flip SCI_EN. */
  writeApm(port: 0 | 1, value: number): void {
    if (port === 1) {
      this.apmStatus = value & 0xff;
      return;
    }
    if (value === (this.options.acpiEnable ?? 0xf1)) this.pm1Control |= Pm1Control.SCI_EN;
    else if (value === (this.options.acpiDisable ?? 0xf0)) this.pm1Control &= ~Pm1Control.SCI_EN;
  }

  readApm(port: 0 | 1): number {
    return port === 1 ? this.apmStatus : 0;
  }

  pmPorts(base: number): PortHandler {
    return { read: (p, s) => this.readPm(p - base, s), write: (p, s, v) => this.writePm(p - base, s, v) };
  }

  gpePorts(base: number): PortHandler {
    return { read: (p, s) => this.readGpe(p - base, s), write: (p, s, v) => this.writeGpe(p - base, s, v) };
  }

  apmPorts(base: number): PortHandler {
    return {
      read: (p, s) => {
        let v = 0;
        for (let i = 0; i < s; i++) v |= (p - base + i < 2 ? this.readApm((p - base + i) as 0 | 1) : 0xff) << (8 * i);
        return v >>> 0;
      },
      write: (p, s, v) => {
        for (let i = 0; i < s; i++) if (p - base + i < 2) this.writeApm((p - base + i) as 0 | 1, (v >>> (8 * i)) & 0xff);
      },
    };
  }

  reset(): void {
    this.pm1Status = 0;
    this.pm1Enable = 0;
    this.pm1Control = 0;
    this.gpeStatus = 0;
    this.gpeEnable = 0;
    this.apmStatus = 0;
    this.timerStsBase = this.ticks();
    this.update();
  }

  snapshot() {
    return {
      version: STATE_VERSION,
      pm1Status: this.pm1Status,
      pm1Enable: this.pm1Enable,
      pm1Control: this.pm1Control,
      gpeStatus: this.gpeStatus,
      gpeEnable: this.gpeEnable,
      apmStatus: this.apmStatus,
      timerStsBase: this.timerStsBase,
      sciLevel: this.sciLevel,
      timer: saveTimer(this.timer),
    };
  }

  restore(state: unknown): void {
    const r = StateReader.open('acpi-pm', state, STATE_VERSION);
    this.pm1Status = r.int('pm1Status', 0, 0xffff);
    this.pm1Enable = r.int('pm1Enable', 0, 0xffff);
    this.pm1Control = r.int('pm1Control', 0, 0xffff);
    this.gpeStatus = r.int('gpeStatus', 0, 0xffff);
    this.gpeEnable = r.int('gpeEnable', 0, 0xffff);
    this.apmStatus = r.int('apmStatus', 0, 0xff);
    this.timerStsBase = r.int('timerStsBase', 0);
    this.sciLevel = r.bool('sciLevel');
    this.timer?.cancel();
    this.timer = rearmTimer(this.clock, r.timer('timer'), () => this.onTimer());
  }
}

/** `size` bytes of a little-endian register file value starting at byte `offset`. */
function extract(value: number, offset: number, size: number): number {
  return Math.floor(value / 2 ** (8 * offset)) % 2 ** (8 * size);
}

/** The part of a write that falls in a `width`-byte register starting at byte `offset`. */
function place(value: number, offset: number, size: number, width = 2): number {
  let out = 0;
  for (let i = 0; i < size && offset + i < width; i++) out |= ((value >>> (8 * i)) & 0xff) << (8 * (offset + i));
  return out;
}

/** Bytes of a write that run past a `width`-byte register, for the next register. */
function overflow(value: number, offset: number, size: number, width: number): { size: AccessSize | 0; value: number } {
  const inside = Math.max(0, width - offset);
  const rest = size - inside;
  return { size: rest > 0 ? (rest as AccessSize) : 0, value: rest > 0 ? value >>> (8 * inside) : 0 };
}

/** A read-modify-write of the bytes a write covers in a 16-bit register. */
function merge(current: number, value: number, offset: number, size: number): number {
  let out = current;
  for (let i = 0; i < size && offset + i < 2; i++) {
    const shift = 8 * (offset + i);
    out = (out & ~(0xff << shift)) | (((value >>> (8 * i)) & 0xff) << shift);
  }
  return out & 0xffff;
}
