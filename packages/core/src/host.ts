/**
 * The machine's side of host events. A device or backend that can be woken from outside the
 * guest (a socket, a tap, a peer machine) holds the machine open, so a halted guest waits for
 * it rather than being reported as "halted with nothing to wake it"; when something arrives it
 * calls wake() after raising its interrupt.
 */
export interface HostActivity {
  /** Keep the machine waiting for host events while held; release() when the source closes. */
  hold(reason: string): { release(): void };
  /** Something arrived from the host (a frame, a completed I/O): run the guest again now. */
  wake(): void;
}

/** Trace categories, as `--trace int,io,pci,virtio` (QEMU's -d idea). */
export type TraceCategory = 'int' | 'io' | 'pci' | 'virtio' | 'net' | 'blk' | (string & {});

/**
 * One line per event, off by default. Check `on(category)` before formatting a message so a
 * disabled trace costs one property read.
 */
export interface Tracer {
  on(category: TraceCategory): boolean;
  log(category: TraceCategory, line: string): void;
}

/** A tracer that records nothing: for devices built outside a machine (unit tests). */
export const NO_TRACE: Tracer = { on: () => false, log: () => {} };

/** Host activity for devices built outside a machine: nothing to hold, nobody to wake. */
export const NO_HOST: HostActivity = { hold: () => ({ release() {} }), wake() {} };
