import { StateReader, type AccessSize, type Device, type MachineControl, type PortHandler } from '@unimachine/core';

const KBC_STATUS_OBF = 0x01;
const KBC_STATUS_SYSTEM = 0x04; // set after a successful self-test (POST)
const KBC_STATUS_COMMAND = 0x08; // last write went to 0x64
const KBC_STATUS_UNLOCKED = 0x10;
const KBC_STATUS_AUX_DATA = 0x20; // the byte in the output buffer came from the auxiliary (mouse) side
/** Command byte bits the enable/disable commands change. */
const KBC_CTR_KBD_DISABLED = 0x10;
const KBC_CTR_AUX_DISABLED = 0x20;

export const PC_RESET_STATE_VERSION = 1;

/** What snapshot() saves (JSON: absent bytes are null). */
export interface PcResetState {
  version: number;
  cf9: number;
  fastResetBit: boolean;
  a20: boolean;
  kbcStatusCommand: boolean;
  kbcPending: number | null;
  kbcOutput: number | null;
  kbcLastOutput: number;
  kbcCommandByte: number;
  /** Added later within version 1: absent means false. */
  kbcOutputAux?: boolean;
}

/**
 * The ways a PC guest asks for a reset, in one device:
 * - 0xCF9, the reset control register: a write with bit 2 (RST_CPU) set resets, bits 1 (hard
 *   reset) and 3 (full reset) are kept and read back;
 * - 0x92, System Control Port A: bit 0 rising is a fast reset, bit 1 is the A20 gate;
 * - the 8042 keyboard controller at 0x60/0x64, only as far as resets and A20 go: the pulse
 *   commands 0xF0-0xFE (0xFE pulses the reset line), the output port (0xD0/0xD1), the command
 *   byte, self-test, the interface tests and loopbacks (0xA9, 0xAB, 0xD2, 0xD3) and the port
 *   enable/disable commands, so that a driver probing it (Linux's i8042) gets an answer to every
 *   command instead of spinning on a timeout. No keyboard or mouse is attached and no IRQ is
 *   raised. Its input buffer always reads empty, so polling loops finish.
 * A20 is only recorded: guest memory is never wrapped at 1 MiB.
 */
export class PcReset implements Device, PortHandler {
  private cf9 = 0;
  private fastResetBit = false;
  /** The A20 gate as the guest last set it (0x92 bit 1 or the 8042 output port bit 1). */
  a20 = true;
  private kbcStatusCommand = false;
  private kbcPending: number | undefined;
  private kbcOutput: number | undefined;
  private kbcLastOutput = 0;
  private kbcCommandByte = 0x45;
  /** The output buffer's byte is auxiliary-port data (status bit 5). */
  private kbcOutputAux = false;

  constructor(private readonly machine: MachineControl) {}

  reset(): void {
    this.cf9 = 0;
    this.fastResetBit = false;
    this.a20 = true;
    this.kbcStatusCommand = false;
    this.kbcPending = undefined;
    this.kbcOutput = undefined;
    this.kbcCommandByte = 0x45;
    this.kbcOutputAux = false;
  }

  snapshot(): PcResetState {
    return {
      version: PC_RESET_STATE_VERSION,
      cf9: this.cf9, fastResetBit: this.fastResetBit, a20: this.a20, kbcStatusCommand: this.kbcStatusCommand,
      kbcPending: this.kbcPending ?? null, kbcOutput: this.kbcOutput ?? null, kbcLastOutput: this.kbcLastOutput,
      kbcCommandByte: this.kbcCommandByte, kbcOutputAux: this.kbcOutputAux,
    };
  }

  restore(state: unknown): void {
    const r = StateReader.open('pc-reset', state, PC_RESET_STATE_VERSION);
    const s: PcResetState = {
      version: PC_RESET_STATE_VERSION,
      cf9: r.uint('cf9', 8),
      fastResetBit: r.bool('fastResetBit'),
      a20: r.bool('a20'),
      kbcStatusCommand: r.bool('kbcStatusCommand'),
      kbcPending: r.intOrNull('kbcPending', 0, 0xff),
      kbcOutput: r.intOrNull('kbcOutput', 0, 0xff),
      kbcLastOutput: r.uint('kbcLastOutput', 8),
      kbcCommandByte: r.uint('kbcCommandByte', 8),
      kbcOutputAux: r.has('kbcOutputAux') ? r.bool('kbcOutputAux') : false,
    };
    this.cf9 = s.cf9;
    this.fastResetBit = s.fastResetBit;
    this.a20 = s.a20;
    this.kbcStatusCommand = s.kbcStatusCommand;
    this.kbcPending = s.kbcPending ?? undefined;
    this.kbcOutput = s.kbcOutput ?? undefined;
    this.kbcLastOutput = s.kbcLastOutput;
    this.kbcCommandByte = s.kbcCommandByte;
    this.kbcOutputAux = s.kbcOutputAux ?? false;
  }

  read(port: number, _size: AccessSize): number {
    switch (port) {
      case 0xcf9:
        return this.cf9;
      case 0x92:
        return (this.a20 ? 0x02 : 0) | (this.fastResetBit ? 0x01 : 0);
      case 0x64:
        return (
          (this.kbcOutput !== undefined ? KBC_STATUS_OBF | (this.kbcOutputAux ? KBC_STATUS_AUX_DATA : 0) : 0) |
          KBC_STATUS_SYSTEM |
          (this.kbcStatusCommand ? KBC_STATUS_COMMAND : 0) |
          KBC_STATUS_UNLOCKED
        );
      case 0x60:
        if (this.kbcOutput !== undefined) {
          this.kbcLastOutput = this.kbcOutput;
          this.kbcOutput = undefined;
        }
        return this.kbcLastOutput;
      default:
        return 0xff;
    }
  }

  write(port: number, _size: AccessSize, value: number): void {
    value &= 0xff;
    switch (port) {
      case 0xcf9:
        this.cf9 = value & 0x0a;
        if (value & 0x04) this.machine.reset('0xCF9');
        return;
      case 0x92: {
        this.a20 = (value & 0x02) !== 0;
        const rising = (value & 0x01) !== 0 && !this.fastResetBit;
        this.fastResetBit = (value & 0x01) !== 0;
        if (rising) this.machine.reset('port 0x92 fast reset');
        return;
      }
      case 0x64:
        this.kbcStatusCommand = true;
        this.kbcCommand(value);
        return;
      case 0x60:
        this.kbcStatusCommand = false;
        this.kbcData(value);
        return;
    }
  }

  /** A byte for the guest to read at 0x60, from the keyboard side or the auxiliary side. */
  private kbcAnswer(value: number, aux = false): void {
    this.kbcOutput = value;
    this.kbcOutputAux = aux;
  }

  private kbcCommand(cmd: number): void {
    this.kbcPending = undefined;
    if (cmd >= 0xf0) {
      // Pulse the output port bits that are 0 in the low nibble; bit 0 is the CPU reset line.
      if (!(cmd & 0x01)) this.machine.reset(`keyboard controller 0x${cmd.toString(16).toUpperCase()}`);
      return;
    }
    switch (cmd) {
      case 0x20: // read command byte
        this.kbcAnswer(this.kbcCommandByte);
        break;
      case 0x60: // write command byte (next data byte)
      case 0xd1: // write output port (next data byte)
      case 0xd2: // keyboard loopback: the next data byte comes back as keyboard data
      case 0xd3: // auxiliary loopback: the next data byte comes back as auxiliary data
      case 0xd4: // the next data byte goes to the auxiliary device (none attached: dropped)
        this.kbcPending = cmd;
        break;
      case 0xa7: // disable the auxiliary port
        this.kbcCommandByte |= KBC_CTR_AUX_DISABLED;
        break;
      case 0xa8: // enable the auxiliary port
        this.kbcCommandByte &= ~KBC_CTR_AUX_DISABLED;
        break;
      case 0xa9: // auxiliary interface test: no error (the clock and data lines are fine, nothing is plugged in)
      case 0xab: // keyboard interface test: no error
        this.kbcAnswer(0x00);
        break;
      case 0xaa: // self-test: passed
        this.kbcAnswer(0x55);
        break;
      case 0xad:
        this.kbcCommandByte |= KBC_CTR_KBD_DISABLED;
        break;
      case 0xae:
        this.kbcCommandByte &= ~KBC_CTR_KBD_DISABLED;
        break;
      case 0xd0: // read output port: reset line inactive (bit 0 high), A20 in bit 1
        this.kbcAnswer(0x01 | (this.a20 ? 0x02 : 0));
        break;
      case 0xdd:
        this.a20 = false;
        break;
      case 0xdf:
        this.a20 = true;
        break;
      default:
        break; // not modelled: ignored, as a controller with nothing attached would
    }
  }

  private kbcData(value: number): void {
    const pending = this.kbcPending;
    this.kbcPending = undefined;
    if (pending === 0x60) {
      this.kbcCommandByte = value;
    } else if (pending === 0xd1) {
      this.a20 = (value & 0x02) !== 0;
      if (!(value & 0x01)) this.machine.reset('keyboard controller output port');
    } else if (pending === 0xd2 || pending === 0xd3) {
      this.kbcAnswer(value, pending === 0xd3);
    }
    // Otherwise a byte for a keyboard that is not there: dropped.
  }
}
