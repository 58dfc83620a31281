import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { Clock } from './clock.js';
import type { HostActivity, Tracer } from './host.js';

/**
 * Backends are what a device's data goes to on the host: a disk image, a socket, an in-process
 * switch. They live apart from the devices (Firecracker's split): a virtio-blk device sees a
 * BlockBackend and never a file, so adding a backend touches no device code.
 */
export type BackendKind = 'block' | 'net';

/** A block backend cannot do what was asked (host I/O error, write to a read-only disk). */
export class BlockIoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlockIoError';
  }
}

/**
 * A disk as a flat array of bytes. Synchronous on purpose: a request completes inside the
 * guest's notify, so a deterministic run stays deterministic, and positioned reads and writes
 * of a few KiB are fast enough that a thread pool would cost more than it saves.
 */
export interface BlockBackend {
  /** Capacity in bytes (a multiple of 512). */
  readonly size: number;
  readonly readOnly: boolean;
  /** A short identifier (at most 20 bytes of ASCII) for virtio-blk GET_ID and diagnostics. */
  readonly serial: string;
  /** Fill `target` from byte `offset`. Throws BlockIoError (the device reports IOERR). */
  read(offset: number, target: Uint8Array): void;
  /** Write `data` at byte `offset`. Throws BlockIoError when read-only or on a host error. */
  write(offset: number, data: Uint8Array): void;
  /** Returns once every completed write is on stable storage (fsync for files). */
  flush(): void;
  dispose?(): void | Promise<void>;
  /**
   * The disk's contents as a machine snapshot keeps them (an overlay, a RAM disk, or the identity
   * of an image nobody writes). Throws SnapshotError when the contents cannot be captured (a
   * writable image file); a backend without snapshot() makes its machine refuse to snapshot.
   */
  snapshot?(): unknown;
  /** Take a snapshot()'s state; throws SnapshotError for a foreign or mismatched one. */
  restore?(state: unknown): void;
}

/** Where a network backend delivers frames from the network: the NIC. */
export interface NetReceiver {
  /** One Ethernet frame (no FCS). The NIC copies it; the array may be reused afterwards. */
  receive(frame: Uint8Array): void;
}

/**
 * One port on a network. The NIC sends the guest's frames with send(); frames from the network
 * arrive at the receiver given to attach(), from a clock timer (in-process hub: at a virtual
 * time) or from Node's event loop (sockets, tap). The NIC wakes its machine after a delivery.
 */
export interface NetBackend {
  /** One Ethernet frame from the guest (no FCS). Never blocks; may drop when the host is busy. */
  send(frame: Uint8Array): void;
  attach(receiver: NetReceiver): void;
  dispose?(): void | Promise<void>;
  /**
   * Frames in flight inside the machine's time (an in-process hub's scheduled deliveries). A backend
   * without snapshot() is outside the machine (sockets, taps): a snapshot keeps nothing of it.
   */
  snapshot?(): unknown;
  restore?(state: unknown): void;
}

/** What a backend plugin's create() receives. */
export interface BackendContext {
  /** The YAML id of the device the backend belongs to (e.g. `disk0`). */
  readonly owner: string;
  readonly clock: Clock;
  readonly host: HostActivity;
  readonly trace: Tracer;
  /** Resolve a path from the YAML relative to the YAML file's folder. */
  resolvePath(path: string): string;
  /**
   * Refuse the configuration: the builder reports `message` at the YAML position of `property`
   * (a key of the backend's own object, e.g. `path`), or of the backend object itself.
   */
  fail(message: string, property?: string): never;
}

/** What a backend package exports for the builder: YAML `backend: { type: file, path: disk.img }`. */
export interface BackendPlugin<S extends TSchema = TSchema> {
  readonly kind: BackendKind;
  /** The YAML `type:` inside `backend:`, e.g. `file`, `hub`. */
  readonly type: string;
  readonly description: string;
  readonly schema: S;
  create(ctx: BackendContext, props: Static<S>): BlockBackend | NetBackend | Promise<BlockBackend | NetBackend>;
}

export function defineBackend<S extends TSchema>(plugin: BackendPlugin<S>): BackendPlugin<S> {
  return plugin;
}

/** Schema keyword marking a device property as a backend of a kind. */
export const BACKEND_KEYWORD = 'x-unimachine-backend';

/**
 * A device property holding a backend: an object with a `type` naming a backend plugin of
 * `kind` plus that plugin's properties. The builder validates it against the plugin's schema
 * and creates it when the device asks with `ctx.backend(property)`.
 */
export const BackendSpec = (kind: BackendKind, description = `${kind} backend: { type: ..., ... }`) =>
  Type.Object({ type: Type.String({ description: `${kind} backend type` }) }, { additionalProperties: true, description, [BACKEND_KEYWORD]: kind });

export type BackendSpecValue = { type: string; [key: string]: unknown };
