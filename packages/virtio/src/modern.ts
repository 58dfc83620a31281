import type { AccessSize, StateReader } from '@unimachine/core';
import type { BarHandler } from '@unimachine/pci';
import { CommonCfg, DeviceStatus, ModernLayout, NO_VECTOR } from './constants.js';
import type { VirtioCore } from './core.js';

const TWO_32 = 0x1_0000_0000;

/** Replace the low or high 32 bits of a 64-bit guest address held as a number. */
function setHalf(current: number, high: boolean, value: number): number {
  const lo = current % TWO_32;
  const hi = Math.floor(current / TWO_32);
  return high ? (value >>> 0) * TWO_32 + lo : hi * TWO_32 + (value >>> 0);
}

/**
 * The virtio 1.x structures in one memory BAR (QEMU's layout): common configuration at 0x0000,
 * ISR at 0x1000, device configuration at 0x2000, notifications at 0x3000 (queue N rings at
 * N × 4). Fields answer at their natural width, 64-bit ones also as two dwords.
 */
export class ModernRegisters implements BarHandler {
  private deviceFeatureSelect = 0;
  private driverFeatureSelect = 0;
  private queueSelect = 0;

  constructor(private readonly core: VirtioCore) {
    core.onReset(() => {
      this.deviceFeatureSelect = this.driverFeatureSelect = this.queueSelect = 0;
    });
  }

  snapshot(): { deviceFeatureSelect: number; driverFeatureSelect: number; queueSelect: number } {
    return { deviceFeatureSelect: this.deviceFeatureSelect, driverFeatureSelect: this.driverFeatureSelect, queueSelect: this.queueSelect };
  }

  restoreChecked(r: StateReader): void {
    const d = r.uint('deviceFeatureSelect', 32);
    const dr = r.uint('driverFeatureSelect', 32);
    const q = r.uint('queueSelect', 16);
    this.deviceFeatureSelect = d;
    this.driverFeatureSelect = dr;
    this.queueSelect = q;
  }

  read(offset: number, size: AccessSize): number {
    if (offset < ModernLayout.ISR) return this.readCommon(offset, size);
    if (offset < ModernLayout.DEVICE) return offset === ModernLayout.ISR ? this.core.readIsr() : 0;
    if (offset < ModernLayout.NOTIFY) return this.core.readConfig(offset - ModernLayout.DEVICE, size);
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (offset < ModernLayout.ISR) return this.writeCommon(offset, size, value);
    if (offset < ModernLayout.DEVICE) return; // ISR is read-only
    if (offset < ModernLayout.NOTIFY) return this.core.writeConfig(offset - ModernLayout.DEVICE, size, value);
    const rel = offset - ModernLayout.NOTIFY;
    // The doorbell's address names the queue (queue_notify_off = queue index); the value is the index too.
    if (rel % ModernLayout.NOTIFY_OFF_MULTIPLIER === 0) {
      this.core.iface = 'modern';
      this.core.notify(rel / ModernLayout.NOTIFY_OFF_MULTIPLIER);
    } else this.core.counters.badRegisterAccesses++;
  }

  private readCommon(offset: number, size: number): number {
    const core = this.core;
    const q = core.queues[this.queueSelect];
    switch (offset | (size << 8)) {
      case CommonCfg.DEVICE_FEATURE_SELECT | (4 << 8): return this.deviceFeatureSelect;
      case CommonCfg.DEVICE_FEATURE | (4 << 8): return core.offered.word(this.deviceFeatureSelect);
      case CommonCfg.DRIVER_FEATURE_SELECT | (4 << 8): return this.driverFeatureSelect;
      case CommonCfg.DRIVER_FEATURE | (4 << 8): return core.driverFeatures.word(this.driverFeatureSelect);
      case CommonCfg.CONFIG_MSIX_VECTOR | (2 << 8): return NO_VECTOR;
      case CommonCfg.NUM_QUEUES | (2 << 8): return core.queues.length;
      case CommonCfg.DEVICE_STATUS | (1 << 8): return core.status;
      case CommonCfg.CONFIG_GENERATION | (1 << 8): return core.configGeneration;
      case CommonCfg.QUEUE_SELECT | (2 << 8): return this.queueSelect;
      case CommonCfg.QUEUE_SIZE | (2 << 8): return q ? q.size : 0;
      case CommonCfg.QUEUE_MSIX_VECTOR | (2 << 8): return NO_VECTOR;
      case CommonCfg.QUEUE_ENABLE | (2 << 8): return q?.ready ? 1 : 0;
      case CommonCfg.QUEUE_NOTIFY_OFF | (2 << 8): return q ? this.queueSelect : 0;
      case CommonCfg.QUEUE_DESC | (4 << 8): return q ? q.descAddr % TWO_32 : 0;
      case (CommonCfg.QUEUE_DESC + 4) | (4 << 8): return q ? Math.floor(q.descAddr / TWO_32) : 0;
      case CommonCfg.QUEUE_DRIVER | (4 << 8): return q ? q.availAddr % TWO_32 : 0;
      case (CommonCfg.QUEUE_DRIVER + 4) | (4 << 8): return q ? Math.floor(q.availAddr / TWO_32) : 0;
      case CommonCfg.QUEUE_DEVICE | (4 << 8): return q ? q.usedAddr % TWO_32 : 0;
      case (CommonCfg.QUEUE_DEVICE + 4) | (4 << 8): return q ? Math.floor(q.usedAddr / TWO_32) : 0;
      default:
        core.counters.badRegisterAccesses++;
        return 0;
    }
  }

  private writeCommon(offset: number, size: number, value: number): void {
    const core = this.core;
    const q = core.queues[this.queueSelect];
    // Queue fields are frozen while the queue is enabled (the driver must not change them then).
    const qw = q && !q.ready ? q : undefined;
    switch (offset | (size << 8)) {
      case CommonCfg.DEVICE_FEATURE_SELECT | (4 << 8): this.deviceFeatureSelect = value >>> 0; return;
      case CommonCfg.DRIVER_FEATURE_SELECT | (4 << 8): this.driverFeatureSelect = value >>> 0; return;
      case CommonCfg.DRIVER_FEATURE | (4 << 8): core.writeModernFeatures(this.driverFeatureSelect, value >>> 0); return;
      case CommonCfg.CONFIG_MSIX_VECTOR | (2 << 8): return; // no MSI-X: reads stay NO_VECTOR
      case CommonCfg.QUEUE_MSIX_VECTOR | (2 << 8): return;
      case CommonCfg.DEVICE_STATUS | (1 << 8): core.writeStatus(value, 'modern'); return;
      case CommonCfg.QUEUE_SELECT | (2 << 8): this.queueSelect = value & 0xffff; return;
      case CommonCfg.QUEUE_SIZE | (2 << 8): if (qw) qw.size = value & 0xffff; return;
      case CommonCfg.QUEUE_ENABLE | (2 << 8):
        core.iface = 'modern';
        if (qw && (value & 0xffff) === 1 && !(core.status & DeviceStatus.DEVICE_NEEDS_RESET)) core.enableQueue(this.queueSelect);
        return;
      case CommonCfg.QUEUE_DESC | (4 << 8): if (qw) qw.descAddr = setHalf(qw.descAddr, false, value); return;
      case (CommonCfg.QUEUE_DESC + 4) | (4 << 8): if (qw) qw.descAddr = setHalf(qw.descAddr, true, value); return;
      case CommonCfg.QUEUE_DRIVER | (4 << 8): if (qw) qw.availAddr = setHalf(qw.availAddr, false, value); return;
      case (CommonCfg.QUEUE_DRIVER + 4) | (4 << 8): if (qw) qw.availAddr = setHalf(qw.availAddr, true, value); return;
      case CommonCfg.QUEUE_DEVICE | (4 << 8): if (qw) qw.usedAddr = setHalf(qw.usedAddr, false, value); return;
      case (CommonCfg.QUEUE_DEVICE + 4) | (4 << 8): if (qw) qw.usedAddr = setHalf(qw.usedAddr, true, value); return;
      default:
        core.counters.badRegisterAccesses++;
    }
  }
}
