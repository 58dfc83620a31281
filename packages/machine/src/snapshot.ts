import { readFileSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { ClockState, SavedTimer } from '@unimachine/core';
import { MachineConfigError } from './errors.js';

/**
 * A whole machine, frozen: what Machine.snapshot() returns, createMachine(snapshot) and
 * Machine.restore() take, and `unimachine run --snapshot-to/--restore` write and read.
 *
 * RAM: only the 4 KiB pages that are not all zero are kept (most of a unikernel's RAM is never
 * touched), packed into one buffer. A snapshot is immutable: any number of machines restore from
 * the same one and each copies just those pages into its own fresh (zero) RAM, so forking costs
 * a memcpy of the guest's working set, not of its RAM size.
 */
export interface MachineSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  version: typeof SNAPSHOT_VERSION;
  name: string;
  /** How to build the same machine again (createMachine(snapshot)). */
  description: MachineDescription;
  memory: RamImage;
  cpu: unknown;
  clock: ClockState;
  /** Every device by YAML id, in creation order, with its type (checked on restore) and state. */
  devices: { id: string; type: string; state: unknown }[];
  /** Backends by owner device and property; `state` null for a backend outside the machine (socket, tap). */
  backends: { owner: string; property: string; state: unknown }[];
  consoles: ConsoleState[];
  /** A request a device made that the run loop has not acted on yet (exit, reset, stop). */
  request: { kind: string; code?: number; reason?: string } | null;
}

export const SNAPSHOT_FORMAT = 'unimachine-snapshot';
export const SNAPSHOT_VERSION = 1;

/** The machine description a snapshot was taken of: YAML text and everything that modified it. */
export interface MachineDescription {
  yaml: string;
  /** The YAML's file name (for messages) and the folder its relative paths (disk images) resolve from. */
  file: string;
  baseDir: string;
  set: Record<string, unknown>;
  assignments: string[];
  disks: string[];
  nets: string[];
  /** The kernel image itself: a reboot (on-reset: reboot) loads it again, so the file is not needed. */
  kernel: { name: string; bytes: Uint8Array };
  cmdline: string;
}

export interface RamImage {
  size: number;
  pageSize: number;
  /** Page numbers of the non-zero pages, ascending. */
  pages: Uint32Array;
  /** Their bytes, back to back. */
  data: Uint8Array;
}

export interface ConsoleState {
  id: string;
  /** Everything the guest wrote so far (m.console(id).text() continues from it). */
  output: Uint8Array;
  /** Host input queued but not yet delivered to the device. */
  input: Uint8Array;
  /** The next paced input delivery, if one is pending. */
  pacing: SavedTimer | null;
  /** Lines the test kit's waitForLine() has consumed. */
  watchCursor: number;
}

export const RAM_PAGE_SIZE = 4096;

const ZERO_RUN = 16 * RAM_PAGE_SIZE;
const zeros = Buffer.alloc(ZERO_RUN);

/**
 * The non-zero pages of `ram`. memcmp against zeros (Buffer.compare), 64 KiB at a time, then page
 * by page inside a run that differs: a 128 MiB guest scans in a few milliseconds.
 */
export function captureRam(ram: Uint8Array): RamImage {
  const pages = nonZeroPages(ram);
  const data = new Uint8Array(pages.length * RAM_PAGE_SIZE);
  pages.forEach((p, k) => {
    const from = p * RAM_PAGE_SIZE;
    data.set(ram.subarray(from, Math.min(from + RAM_PAGE_SIZE, ram.length)), k * RAM_PAGE_SIZE);
  });
  return { size: ram.length, pageSize: RAM_PAGE_SIZE, pages, data };
}

function nonZeroPages(ram: Uint8Array): Uint32Array {
  const buf = Buffer.from(ram.buffer, ram.byteOffset, ram.length);
  const found: number[] = [];
  for (let run = 0; run < buf.length; run += ZERO_RUN) {
    const runEnd = Math.min(run + ZERO_RUN, buf.length);
    if (buf.compare(zeros, 0, runEnd - run, run, runEnd) === 0) continue;
    for (let at = run; at < runEnd; at += RAM_PAGE_SIZE) {
      const end = Math.min(at + RAM_PAGE_SIZE, runEnd);
      if (buf.compare(zeros, 0, end - at, at, end) !== 0) found.push(at / RAM_PAGE_SIZE);
    }
  }
  return Uint32Array.from(found);
}

/**
 * Put `image` into `ram`. `ramIsZero`: the RAM is fresh (never written), so only the saved pages
 * are copied; otherwise pages absent from the image are cleared where they are not already zero.
 */
export function applyRam(image: RamImage, ram: Uint8Array, ramIsZero: boolean): void {
  if (!ramIsZero) {
    const current = nonZeroPages(ram);
    let k = 0;
    for (const p of current) {
      while (k < image.pages.length && image.pages[k] < p) k++;
      if (image.pages[k] !== p) ram.fill(0, p * RAM_PAGE_SIZE, Math.min((p + 1) * RAM_PAGE_SIZE, ram.length));
    }
  }
  image.pages.forEach((p, k) => {
    const from = p * RAM_PAGE_SIZE;
    const n = Math.min(RAM_PAGE_SIZE, ram.length - from);
    ram.set(image.data.subarray(k * RAM_PAGE_SIZE, k * RAM_PAGE_SIZE + n), from);
  });
}

/** Check the RAM image's shape against a machine with `ramSize` bytes. */
export function checkRamImage(image: unknown, ramSize: number): RamImage {
  const fail = (what: string): never => {
    throw new MachineConfigError(`snapshot memory: ${what}`);
  };
  const m = image as RamImage;
  if (typeof m !== 'object' || m === null) fail('missing');
  if (m.size !== ramSize) fail(`the snapshot's machine has ${m.size} bytes of RAM, this one ${ramSize}; build it with the same memory size`);
  if (m.pageSize !== RAM_PAGE_SIZE) fail(`page size ${m.pageSize}, expected ${RAM_PAGE_SIZE}`);
  if (!(m.pages instanceof Uint32Array) || !(m.data instanceof Uint8Array)) fail('pages and data must be binary arrays');
  if (m.data.length !== m.pages.length * RAM_PAGE_SIZE) fail(`${m.pages.length} pages need ${m.pages.length * RAM_PAGE_SIZE} bytes of data, found ${m.data.length}`);
  const pageCount = Math.ceil(ramSize / RAM_PAGE_SIZE);
  for (let k = 0; k < m.pages.length; k++) {
    if (m.pages[k] >= pageCount || (k > 0 && m.pages[k] <= m.pages[k - 1])) fail(`page list is not ascending page numbers below ${pageCount}`);
  }
  return m;
}

// ------------------------------------------------------------------ file encoding

/**
 * File layout: "UNIMSNAP", u32 file version, u32 JSON length, u32 blob count, then per blob a
 * u8 kind (1 = Uint8Array, 2 = Uint32Array) and a u32 byte length, the JSON (binary arrays
 * replaced by {"$blob": n}), the blobs, and a CRC-32 of everything before it. Little-endian.
 */
const MAGIC = 'UNIMSNAP';
const FILE_VERSION = 1;
const BLOB_U8 = 1;
const BLOB_U32 = 2;

export function encodeSnapshot(snapshot: MachineSnapshot): Uint8Array {
  const blobs: (Uint8Array | Uint32Array)[] = [];
  // The holder's own value, not `value`: JSON.stringify has already turned a Buffer into { type, data }.
  const json = JSON.stringify(snapshot, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    if (raw instanceof Uint8Array || raw instanceof Uint32Array) {
      const bytes = raw instanceof Uint32Array ? raw : new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
      blobs.push(bytes);
      return { $blob: blobs.length - 1 };
    }
    if (value instanceof Uint8Array || value instanceof Uint32Array) {
      blobs.push(value);
      return { $blob: blobs.length - 1 };
    }
    return value;
  });
  const jsonBytes = Buffer.from(json, 'utf8');
  const headerLength = 8 + 12 + blobs.length * 5;
  const blobBytes = blobs.reduce((n, b) => n + b.byteLength, 0);
  const out = Buffer.alloc(headerLength + jsonBytes.length + blobBytes + 4);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(FILE_VERSION, 8);
  out.writeUInt32LE(jsonBytes.length, 12);
  out.writeUInt32LE(blobs.length, 16);
  let at = 20;
  for (const b of blobs) {
    out.writeUInt8(b instanceof Uint32Array ? BLOB_U32 : BLOB_U8, at);
    out.writeUInt32LE(b.byteLength, at + 1);
    at += 5;
  }
  jsonBytes.copy(out, at);
  at += jsonBytes.length;
  for (const b of blobs) {
    out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), at);
    at += b.byteLength;
  }
  out.writeUInt32LE(crc32(out.subarray(0, at)), at);
  return out;
}

/** Decode a snapshot file's bytes; every problem is a MachineConfigError naming `origin` (the file). */
export function decodeSnapshot(bytes: Uint8Array, origin = 'snapshot'): MachineSnapshot {
  const fail = (problem: string): never => {
    throw new MachineConfigError(problem, undefined, origin);
  };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 24 || buf.toString('latin1', 0, 8) !== MAGIC) fail('not a Unimachine snapshot (no UNIMSNAP header)');
  const version = buf.readUInt32LE(8);
  if (version !== FILE_VERSION) fail(`snapshot file version ${version}; this build reads version ${FILE_VERSION}`);
  const jsonLength = buf.readUInt32LE(12);
  const blobCount = buf.readUInt32LE(16);
  const tableEnd = 20 + blobCount * 5;
  if (tableEnd > buf.length) fail('truncated: the blob table runs past the end of the file');
  const blobs: { kind: number; length: number }[] = [];
  let total = tableEnd + jsonLength;
  for (let i = 0, at = 20; i < blobCount; i++, at += 5) {
    const kind = buf.readUInt8(at);
    const length = buf.readUInt32LE(at + 1);
    if ((kind !== BLOB_U8 && kind !== BLOB_U32) || (kind === BLOB_U32 && length % 4 !== 0)) fail(`blob ${i} has a bad kind or length`);
    blobs.push({ kind, length });
    total += length;
  }
  if (buf.length < total + 4) fail(`truncated: ${buf.length} bytes, the header describes ${total + 4}`);
  if (buf.length > total + 4) fail(`${buf.length - total - 4} unexpected bytes after the end`);
  if (buf.readUInt32LE(total) !== crc32(buf.subarray(0, total))) fail('damaged: the CRC-32 does not match its contents');
  const views: (Uint8Array | Uint32Array)[] = [];
  let at = tableEnd + jsonLength;
  for (const b of blobs) {
    const copy = new Uint8Array(buf.subarray(at, at + b.length)); // aligned, and independent of the file buffer
    views.push(b.kind === BLOB_U32 ? new Uint32Array(copy.buffer, 0, b.length / 4) : copy);
    at += b.length;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8', tableEnd, tableEnd + jsonLength), (_key, value: unknown) => {
      if (typeof value === 'object' && value !== null && typeof (value as { $blob?: unknown }).$blob === 'number') {
        const v = views[(value as { $blob: number }).$blob];
        if (!v) fail(`a reference to blob ${(value as { $blob: number }).$blob}, which does not exist`);
        return v;
      }
      return value;
    });
  } catch (e) {
    if (e instanceof MachineConfigError) throw e;
    fail(`damaged: ${(e as Error).message}`);
  }
  return checkSnapshotHeader(parsed, origin);
}

/** The parts every snapshot has, checked before a machine is built from it. */
export function checkSnapshotHeader(value: unknown, origin = 'snapshot'): MachineSnapshot {
  const fail = (problem: string): never => {
    throw new MachineConfigError(problem, undefined, origin);
  };
  const s = value as MachineSnapshot;
  if (typeof s !== 'object' || s === null || s.format !== SNAPSHOT_FORMAT) fail('not a Unimachine machine snapshot');
  if (s.version !== SNAPSHOT_VERSION) fail(`machine snapshot version ${String(s.version)}; this build restores version ${SNAPSHOT_VERSION}`);
  const d = s.description;
  if (typeof d !== 'object' || d === null || typeof d.yaml !== 'string' || typeof d.file !== 'string' || typeof d.baseDir !== 'string') {
    fail('the machine description (yaml, file, baseDir) is missing or malformed');
  }
  if (!(d.kernel?.bytes instanceof Uint8Array) || typeof d.kernel.name !== 'string' || typeof d.cmdline !== 'string') fail('the kernel image or command line is missing');
  for (const [key, ok] of [['set', typeof d.set === 'object' && d.set !== null && !Array.isArray(d.set)], ['assignments', isStrings(d.assignments)], ['disks', isStrings(d.disks)], ['nets', isStrings(d.nets)]] as const) {
    if (!ok) fail(`description.${key} is malformed`);
  }
  if (!Array.isArray(s.devices) || !s.devices.every((x) => typeof x?.id === 'string' && typeof x.type === 'string')) fail('the device list is malformed');
  if (!Array.isArray(s.backends) || !s.backends.every((x) => typeof x?.owner === 'string' && typeof x.property === 'string')) fail('the backend list is malformed');
  if (!Array.isArray(s.consoles)) fail('the console list is malformed');
  return s;
}

function isStrings(v: unknown): boolean {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

export function writeSnapshotFile(file: string, snapshot: MachineSnapshot): void {
  writeFileSync(file, encodeSnapshot(snapshot));
}

export function readSnapshotFile(file: string): MachineSnapshot {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new MachineConfigError(`cannot read snapshot: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, undefined, file);
  }
  return decodeSnapshot(bytes, file);
}

/**
 * createMachine(snapshot, opts): the recorded description with the caller's options (console
 * mode, trace, plugins, CPU factory) on top; what shapes the machine comes from the snapshot.
 */
export function rebuildOptions<O extends { set?: Record<string, unknown>; assignments?: string[]; disks?: string[]; nets?: string[]; kernel?: string; append?: string }>(
  s: MachineSnapshot,
  opts: O,
): { input: { yaml: string; baseDir: string; file: string }; opts: O } {
  const d = s.description;
  return {
    input: { yaml: d.yaml, baseDir: d.baseDir, file: d.file },
    opts: { ...opts, set: d.set, assignments: d.assignments, disks: d.disks, nets: d.nets, kernel: undefined, append: d.cmdline },
  };
}

export function isMachineSnapshot(x: unknown): x is MachineSnapshot {
  return typeof x === 'object' && x !== null && (x as { format?: unknown }).format === SNAPSHOT_FORMAT;
}
