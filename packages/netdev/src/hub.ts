import { rearmTimer, saveTimer, SnapshotError, StateReader, type Clock, type HostActivity, type NetBackend, type NetReceiver, type SavedTimer, type Timer } from '@unimachine/core';
import { ETH_DST, ETH_HEADER_LEN, ETH_SRC, isGroupAddress, macKey } from './ethernet.js';

/**
 * Virtual wire latency between hub ports. A frame sent at virtual time t is delivered at
 * t + HUB_LATENCY_NS on the receiver's clock (or at once if the receiver is already later).
 * Machines run in lockstep quanta no longer than this therefore exchange frames
 * deterministically: a frame can never arrive in the receiver's past.
 */
export const HUB_LATENCY_NS = 10_000;

/** One frame the hub carried: a private copy, the label of the port it came from, its send time. */
export interface HubFrame {
  readonly frame: Uint8Array;
  readonly from: string;
  /** The sender's clock at send() in ns, or undefined for a sender without a clock. */
  readonly time: number | undefined;
  /** 0, 1, 2, ... in the order the hub saw the frames. */
  readonly seq: number;
}

export interface HubOptions {
  /** How many frames frames() keeps (oldest dropped first); default 10,000. */
  keepFrames?: number;
}

export interface WaitForOptions {
  /** Default 5000 ms. */
  timeoutMs?: number;
  /** Only frames with seq >= since (default 0: frames already seen count too). */
  since?: number;
}

/** The label test code's frames carry (hub.send) and the pseudo-port the hub learns for them. */
export const HOST_PORT_LABEL = 'host';

const DEFAULT_KEEP_FRAMES = 10_000;

const hubs = new Map<string, Hub>();

/** Create hub `name`; throws if one exists (use joinHub to share). */
export function createHub(name: string, opts: HubOptions = {}): Hub {
  if (hubs.has(name)) throw new Error(`hub "${name}" already exists`);
  const hub = new Hub(name, opts);
  hubs.set(name, hub);
  return hub;
}

/** The hub called `name`, created on first use: how machines and test code meet. */
export function joinHub(name: string): Hub {
  return hubs.get(name) ?? createHub(name);
}

export function findHub(name: string): Hub | undefined {
  return hubs.get(name);
}

export function hubNames(): string[] {
  return [...hubs.keys()];
}

interface Waiter {
  predicate: (f: HubFrame) => boolean;
  resolve: (f: HubFrame) => void;
}

/**
 * An in-process Ethernet switch. It learns which port each source MAC lives behind; a frame to a
 * known unicast MAC goes to that port only, anything else (broadcast, multicast, unknown) floods
 * to every other port, and nothing is ever sent back out of the port it came in on.
 */
export class Hub {
  private readonly ports: HubPort[] = [];
  private readonly macTable = new Map<number, HubPort | typeof HOST>();
  private log: HubFrame[] = [];
  private seq = 0;
  private readonly keepFrames: number;
  private readonly waiters = new Set<Waiter>();
  private hostPresent = false;
  private disposed = false;
  /** Deliveries to clockless ports queued while one is running (no re-entrant receive()). */
  private readonly immediate: { port: HubPort; frame: Uint8Array }[] = [];
  private draining = false;
  /** Frames too short to be Ethernet, dropped. */
  runts = 0;

  constructor(
    readonly name: string,
    opts: HubOptions = {},
  ) {
    this.keepFrames = opts.keepFrames ?? DEFAULT_KEEP_FRAMES;
  }

  /**
   * A new port. With a clock, its sends are stamped with clock.now() and frames reach it through
   * clock timers (deterministic); without one, frames are delivered synchronously. `host` is the
   * owning machine's HostActivity: the port holds the machine open while it has peers and wakes it
   * when it schedules a delivery.
   */
  port(label: string, clock?: Clock, host?: HostActivity): HubPort {
    if (this.disposed) throw new Error(`hub "${this.name}" is disposed`);
    const existing = hubs.get(this.name);
    if (existing !== this) {
      if (existing) throw new Error(`hub "${this.name}" was replaced in the registry by another hub of the same name`);
      hubs.set(this.name, this); // re-register after the last port left
    }
    const port = new HubPort(this, label, clock, host);
    this.ports.push(port);
    this.updateHolds();
    return port;
  }

  get portCount(): number {
    return this.ports.length;
  }

  get portLabels(): string[] {
    return this.ports.map((p) => p.label);
  }

  /** Inject a frame as if it came from a host port labelled `from` (default "host"). */
  send(frame: Uint8Array, from = HOST_PORT_LABEL): void {
    this.markHostPresent();
    this.forward(HOST, from, Uint8Array.from(frame), undefined);
  }

  /** The frames kept so far (every frame any port or send() put on the hub), oldest first. */
  frames(): readonly HubFrame[] {
    return this.log;
  }

  /** Total frames the hub has carried (frames() may keep fewer). */
  get frameCount(): number {
    return this.seq;
  }

  /** Resolve with the first frame (already seen or still to come) that matches. */
  waitFor(predicate: (f: HubFrame) => boolean, opts: WaitForOptions = {}): Promise<HubFrame> {
    this.markHostPresent();
    const since = opts.since ?? 0;
    const seen = this.log.find((f) => f.seq >= since && predicate(f));
    if (seen) return Promise.resolve(seen);
    const timeoutMs = opts.timeoutMs ?? 5000;
    return new Promise<HubFrame>((resolve, reject) => {
      const waiter: Waiter = {
        predicate: (f) => f.seq >= since && predicate(f),
        resolve: (f) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`hub "${this.name}": no matching frame within ${timeoutMs} ms (${this.seq} frames carried)`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Forget the frames kept so far (seq keeps counting). */
  clearFrames(): void {
    this.log = [];
  }

  /** Close every port and leave the registry. */
  dispose(): void {
    if (this.disposed) return;
    for (const p of [...this.ports]) p.dispose();
    this.disposed = true;
    if (hubs.get(this.name) === this) hubs.delete(this.name);
  }

  /** @internal A port's send(): `frame` is already the hub's private copy. */
  forward(source: HubPort | typeof HOST, label: string, frame: Uint8Array, sentAt: number | undefined): void {
    if (frame.length < ETH_HEADER_LEN) {
      this.runts++;
      return;
    }
    const record: HubFrame = { frame, from: label, time: sentAt, seq: this.seq++ };
    this.log.push(record);
    if (this.log.length > this.keepFrames) this.log.splice(0, this.log.length - this.keepFrames);
    if (!isGroupAddress(frame, ETH_SRC)) this.macTable.set(macKey(frame, ETH_SRC), source);

    const known = isGroupAddress(frame, ETH_DST) ? undefined : this.macTable.get(macKey(frame, ETH_DST));
    if (known === undefined) {
      for (const p of this.ports) if (p !== source) p.deliver(frame, sentAt);
    } else if (known !== source && known !== HOST) {
      known.deliver(frame, sentAt);
    }
    for (const w of [...this.waiters]) if (w.predicate(record)) w.resolve(record);
  }

  /** @internal */
  removePort(port: HubPort): void {
    const i = this.ports.indexOf(port);
    if (i < 0) return;
    this.ports.splice(i, 1);
    for (const [mac, p] of this.macTable) if (p === port) this.macTable.delete(mac);
    this.updateHolds();
    if (this.ports.length === 0 && hubs.get(this.name) === this) hubs.delete(this.name);
  }

  /** @internal Synchronous delivery for clockless ports, one at a time in send order. */
  deliverNow(port: HubPort, frame: Uint8Array): void {
    this.immediate.push({ port, frame });
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.immediate.shift(); next; next = this.immediate.shift()) next.port.receiveNow(next.frame);
    } finally {
      this.draining = false;
    }
  }

  private markHostPresent(): void {
    if (this.hostPresent) return;
    this.hostPresent = true;
    this.updateHolds();
  }

  /** A port holds its machine open while someone else on the hub could send it a frame. */
  private updateHolds(): void {
    for (const p of this.ports) p.setHeld(this.hostPresent || this.ports.length > 1);
  }
}

/** The pseudo-port of frames injected with hub.send(). */
const HOST = Symbol('host port');

/** What HubPort.snapshot() saves: the frames scheduled for delivery to it. */
export interface HubPortState {
  version: number;
  kind: 'hub';
  hub: string;
  inFlight: { at: number; seq: number; frame: Uint8Array }[];
}

/** One port on a Hub: the NetBackend a NIC (or a test) uses. */
export class HubPort implements NetBackend {
  private receiver: NetReceiver | undefined;
  /** Deliveries scheduled on the receiver's clock, with their frames (a snapshot keeps them). */
  private readonly pending = new Map<Timer, Uint8Array>();
  private holdHandle: { release(): void } | undefined;
  private disposed = false;
  /** Frames that arrived before attach() or after dispose(), dropped. */
  dropped = 0;

  /** @internal use hub.port() */
  constructor(
    readonly hub: Hub,
    readonly label: string,
    private readonly clock: Clock | undefined,
    private readonly host: HostActivity | undefined,
  ) {}

  send(frame: Uint8Array): void {
    if (this.disposed) return;
    this.hub.forward(this, this.label, Uint8Array.from(frame), this.clock?.now());
  }

  attach(receiver: NetReceiver): void {
    this.receiver = receiver;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.pending.keys()) t.cancel();
    this.pending.clear();
    this.setHeld(false);
    this.hub.removePort(this);
  }

  /** @internal */
  deliver(frame: Uint8Array, sentAt: number | undefined): void {
    const clock = this.clock;
    if (!clock) {
      this.hub.deliverNow(this, frame);
      return;
    }
    const now = clock.now();
    const at = sentAt === undefined ? now : Math.max(sentAt + HUB_LATENCY_NS, now);
    this.schedule(clock, frame, undefined, at);
    this.host?.wake(); // the run loop must see the new deadline
  }

  private schedule(clock: Clock, frame: Uint8Array, saved: SavedTimer | undefined, at = saved?.at ?? 0): void {
    const fire = () => {
      this.pending.delete(timer);
      this.receiveNow(frame);
    };
    const timer = saved ? rearmTimer(clock, saved, fire)! : clock.schedule(at, fire);
    this.pending.set(timer, frame);
  }

  /**
   * Frames on their way to this port (scheduled on its machine's clock). The hub itself (other
   * ports, its MAC table) is shared with other machines and test code, so it is not saved: a
   * restored machine joins the hub of its name again, as a machine built from the same YAML does.
   */
  snapshot(): HubPortState {
    const inFlight = [...this.pending].map(([t, frame]) => ({ ...saveTimer(t)!, frame: frame.slice() }));
    return { version: 1, kind: 'hub', hub: this.hub.name, inFlight };
  }

  restore(state: unknown): void {
    const owner = `hub port ${this.label}`;
    const r = StateReader.open(owner, state, 1);
    r.str('kind', ['hub']);
    const frames = r.children('inFlight').map((f) => ({ at: f.num('at'), seq: f.int('seq', 0), frame: f.bytes('frame') }));
    if (frames.length && !this.clock) throw new SnapshotError(owner, 'frames in flight need a port with a clock');
    for (const t of this.pending.keys()) t.cancel();
    this.pending.clear();
    for (const f of frames) this.schedule(this.clock!, f.frame.slice(), { at: f.at, seq: f.seq });
  }

  /** @internal */
  receiveNow(frame: Uint8Array): void {
    if (this.disposed || !this.receiver) {
      this.dropped++;
      return;
    }
    this.receiver.receive(frame);
  }

  /** @internal */
  setHeld(held: boolean): void {
    if (held && !this.holdHandle && this.host && !this.disposed) this.holdHandle = this.host.hold(`hub ${this.hub.name}`);
    else if (!held && this.holdHandle) {
      this.holdHandle.release();
      this.holdHandle = undefined;
    }
  }
}
