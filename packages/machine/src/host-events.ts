import type { HostActivity, TraceCategory, Tracer } from '@unimachine/core';

/**
 * The machine's HostActivity: how many host sources (sockets, taps, peer machines) can still
 * wake a halted guest, and the wake-up call they make. It exists before the machine (devices
 * are built first); the machine attaches its wake function once it exists.
 */
export class HostEvents implements HostActivity {
  private holds = new Set<string>();
  private seq = 0;
  /** Set by the machine: make a halted run loop look again. */
  onWake: (() => void) | undefined;

  hold(reason: string): { release(): void } {
    const key = `${reason}#${this.seq++}`;
    this.holds.add(key);
    return { release: () => void this.holds.delete(key) };
  }

  wake(): void {
    this.onWake?.();
  }

  /** True while some host source can still wake the guest. */
  get held(): boolean {
    return this.holds.size > 0;
  }

  /** What holds the machine open, for messages. */
  reasons(): string[] {
    return [...this.holds].map((k) => k.slice(0, k.lastIndexOf('#')));
  }
}

export const TRACE_CATEGORIES = ['int', 'io', 'pci', 'virtio', 'net', 'blk'] as const;

/** `--trace virtio,net`: one line per event to `write` (stderr by default), prefixed with the virtual time. */
export function createTracer(categories: readonly string[], write: (line: string) => void, now: () => number): Tracer {
  const enabled = new Set<string>(categories.includes('all') ? TRACE_CATEGORIES : categories);
  return {
    on: (c: TraceCategory) => enabled.has(c),
    log: (c: TraceCategory, line: string) => {
      if (enabled.has(c)) write(`[${(now() / 1e6).toFixed(6)} ms] ${c}: ${line}\n`);
    },
  };
}
