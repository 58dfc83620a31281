/** What the transport saw a guest do wrong (or right), for tests and `--trace virtio` diagnostics. */
export interface VirtioCounters {
  /** Queue notifications (doorbell writes) that reached a live queue. */
  notifications: number;
  /** Chains handed to the device model. */
  chains: number;
  /** Chains returned with length 0 because their descriptors were malformed. */
  malformedChains: number;
  /** Ring-level errors (bad avail idx or head, rings outside RAM, bad queue size): they set DEVICE_NEEDS_RESET. */
  ringErrors: number;
  /** Times the device entered DEVICE_NEEDS_RESET. */
  needsReset: number;
  /** Used-buffer interrupts raised / suppressed by EVENT_IDX or NO_INTERRUPT. */
  interrupts: number;
  suppressedInterrupts: number;
  /** Register accesses of a size or offset the transport does not decode. */
  badRegisterAccesses: number;
  /** Notifications ignored because the modern driver had not enabled PCI bus mastering. */
  noBusMaster: number;
  /** FEATURES_OK refused (features not offered, or a modern driver without VERSION_1). */
  featuresRefused: number;
  /** Device resets (status 0). */
  resets: number;
}

export function newVirtioCounters(): VirtioCounters {
  return {
    notifications: 0, chains: 0, malformedChains: 0, ringErrors: 0, needsReset: 0, interrupts: 0,
    suppressedInterrupts: 0, badRegisterAccesses: 0, noBusMaster: 0, featuresRefused: 0, resets: 0,
  };
}
