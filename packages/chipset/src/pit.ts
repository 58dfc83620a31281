import { rearmTimer, saveTimer, StateReader, type AccessSize, type Clock, type Device, type GuestMemory, type IrqLine, type PortFastPath, type PortHandler, type SavedTimer, type Timer } from '@unimachine/core';
import { CELL, ownCells, PitChannel, restorePitChannel, type PitChannelState } from './pit-channel.js';
import { buildPitFastPath } from './pit-fast-path.js';
import { nsToTicks, ticksToNs } from './pit-time.js';
import { isaByteHandler, type BytePorts } from './isa-bytes.js';

export const I8254_STATE_VERSION = 1;

/** What snapshot() saves: the three counters, port 0x61, and the pending IRQ 0 edge. */
export interface I8254State {
  version: number;
  channels: PitChannelState[];
  port61: number;
  refreshToggle: boolean;
  edge: SavedTimer | null;
}

/**
 * The 8254 programmable interval timer at 0x40-0x43, plus the PC's port 0x61 (channel 2 gate,
 * speaker enable, channel 2 output, refresh toggle).
 *
 * Time comes from the machine clock: counts are computed from clock.now(), and the only timer
 * scheduled is the next IRQ 0 edge of channel 0. The IRQ wire carries edges, not OUT itself:
 * periodic modes pulse it once per period (OUT's rising edge) and mode 0 raises it at terminal
 * count until the channel is reprogrammed, so programming a channel never fires a stray edge.
 */
export class I8254 implements Device, PortHandler, BytePorts {
  readonly channels: readonly [PitChannel, PitChannel, PitChannel];
  private timer: Timer | undefined;
  /** Port 0x61 bits 0-3 as last written (gate 2, speaker data, parity/IOCHK disables). */
  private port61 = 0;
  private refreshToggle = false;
  private readonly bytes = isaByteHandler(this, (p) => (p >= 0x40 && p <= 0x43) || p === 0x61);
  /** Counter reads in WebAssembly (pit-fast-path.ts), when the PIT lives in a machine's memory. */
  readonly fastPath?: PortFastPath;

  /**
   * @param memory the machine's memory: the counters keep their cells in its host area, where
   *   compiled guest code reads them through `fastPath` (without it, the PIT runs in JS alone)
   */
  constructor(
    private readonly clock: Clock,
    private readonly irq?: IrqLine,
    memory?: GuestMemory,
  ) {
    const now = () => nsToTicks(this.clock.now());
    const at = memory?.allocateHostArea(3 * CELL.BYTES, 8) ?? 0;
    const buffer = memory?.buffer ?? ownCells(3);
    const cells = (i: number) => ({ buffer, offset: at + i * CELL.BYTES });
    this.channels = [
      new PitChannel(now, true, () => this.channel0Changed(), cells(0)),
      new PitChannel(now, true, undefined, cells(1)),
      new PitChannel(now, false, undefined, cells(2)),
    ];
    if (memory) this.fastPath = buildPitFastPath(memory.wasm, at);
  }

  reset(): void {
    this.port61 = 0;
    this.refreshToggle = false;
    for (const c of this.channels) c.reset();
  }

  snapshot(): I8254State {
    return {
      version: I8254_STATE_VERSION,
      channels: this.channels.map((c) => c.snapshot()),
      port61: this.port61,
      refreshToggle: this.refreshToggle,
      edge: saveTimer(this.timer),
    };
  }

  /** Checks the whole state before changing anything; the pending IRQ 0 edge is re-armed as it was. */
  restore(state: unknown): void {
    const r = StateReader.open('i8254', state, I8254_STATE_VERSION);
    const channels = r.children('channels', 3).map((c) => restorePitChannel(c));
    const port61 = r.uint('port61', 4);
    const refreshToggle = r.bool('refreshToggle');
    const edge = r.timer('edge');
    this.channels.forEach((c, i) => c.restore(channels[i]));
    this.port61 = port61;
    this.refreshToggle = refreshToggle;
    this.timer?.cancel();
    this.timer = this.irq ? rearmTimer(this.clock, edge, () => this.edge()) : undefined;
  }

  dispose(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Port access; wider accesses are split into byte cycles. */
  read(port: number, size: AccessSize): number {
    return size === 1 ? this.readByte(port) : this.bytes.read(port, size);
  }

  write(port: number, size: AccessSize, value: number): void {
    if (size === 1) this.writeByte(port, value);
    else this.bytes.write(port, size, value);
  }

  readByte(port: number): number {
    switch (port) {
      case 0x40:
      case 0x41:
      case 0x42:
        return this.channels[port - 0x40].readData();
      case 0x61:
        return this.readPort61();
      default:
        return 0; // the control register is write-only
    }
  }

  writeByte(port: number, value: number): void {
    value &= 0xff;
    switch (port) {
      case 0x40:
      case 0x41:
      case 0x42:
        this.channels[port - 0x40].writeData(value);
        break;
      case 0x43:
        this.writeControl(value);
        break;
      case 0x61:
        this.port61 = value & 0x0f;
        this.channels[2].setGate((value & 1) !== 0);
        break;
    }
  }

  /** Port 0x61 read: bit 4 toggles on every read, which firmware delay loops count on. */
  private readPort61(): number {
    this.refreshToggle = !this.refreshToggle;
    return this.port61 | (this.refreshToggle ? 0x10 : 0) | (this.channels[2].out() ? 0x20 : 0);
  }

  private writeControl(value: number): void {
    const select = value >> 6;
    if (select !== 3) {
      this.channels[select].writeControl(value);
      return;
    }
    // Read-back: bit 5 low latches counts, bit 4 low latches status, bits 1-3 pick channels.
    for (let i = 0; i < 3; i++) {
      if (!(value & (2 << i))) continue;
      const channel = this.channels[i];
      if (!(value & 0x10)) channel.latchStatus();
      if (!(value & 0x20)) channel.latchCount();
    }
  }

  /** Channel 0 was reprogrammed or its gate moved: drop the line if needed and plan the next edge. */
  private channel0Changed(): void {
    // The line is only left high by mode 0 after terminal count; anything else starts low,
    // so the next edge is seen.
    const c = this.channels[0];
    if (c.mode !== 0 || !c.out()) this.irq?.lower();
    this.scheduleNextEdge();
  }

  private scheduleNextEdge(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (!this.irq) return;
    const edge = this.channels[0].nextRisingEdge(nsToTicks(this.clock.now()));
    if (edge < 0) return;
    this.timer = this.clock.schedule(ticksToNs(edge), () => this.edge());
  }

  private edge(): void {
    this.timer = undefined;
    if (this.channels[0].mode === 0) this.irq?.raise();
    else this.irq?.pulse();
    // Missed periods (a late slice) coalesce into one edge, as on a busy real PIC.
    this.scheduleNextEdge();
  }
}
