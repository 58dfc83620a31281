import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';

/**
 * The WebAssembly tier's generated region modules, kept in one file beside the CLI's V8 code cache
 * (and named after the same bundle build, so a new code generator never meets old code): a kernel
 * booted again compiles each hot region with `new WebAssembly.Module` alone, without running the
 * code generator (hello: 5 regions, about 10 ms of main-thread CPU). The launcher (fast-start.ts)
 * makes one for a `run` and saves it at exit; createMachine gives it to each CPU's tier. Imports
 * only node:fs: dist/cli.js inlines a copy of it, and the two copies meet through globalThis.
 *
 * File: magic, then entries (u32 key length, key as latin1, u32 module length, module bytes), all
 * little-endian. Anything that does not parse is an empty store; a module that does not compile is
 * generated again by the tier.
 */

const MAGIC = 'UMRC0001';
/** At most this many bytes are kept: the entries this run used first, then older ones in file order. */
export const REGION_STORE_MAX_BYTES = 8 << 20;

const STORE = Symbol.for('unimachine.regionStore');
type WithStore = typeof globalThis & { [STORE]?: RegionFileStore };

/** The store the launcher installed for this process (a `run` of the bundled CLI), if any. */
export function installedRegionStore(): RegionFileStore | undefined {
  return (globalThis as WithStore)[STORE];
}

export function installRegionStore(store: RegionFileStore): void {
  (globalThis as WithStore)[STORE] = store;
}

export class RegionFileStore {
  private entries: Map<string, Uint8Array> | undefined;
  /** Keys this run asked for or added, in order: kept first when the file is full. */
  private readonly used = new Set<string>();
  private added = false;

  constructor(
    readonly file: string,
    private readonly maxBytes = REGION_STORE_MAX_BYTES,
  ) {}

  get(key: string): Uint8Array | undefined {
    const bytes = this.load().get(key);
    if (bytes !== undefined) this.used.add(key);
    return bytes;
  }

  set(key: string, bytes: Uint8Array): void {
    this.load().set(key, bytes);
    this.used.add(key);
    this.added = true;
  }

  /** Write the file if this run added a module (best effort, write-then-rename: two runs may race). */
  save(): void {
    if (!this.added) return;
    const entries = this.load();
    const keys = [...this.used, ...[...entries.keys()].filter((k) => !this.used.has(k))];
    const chunks: Uint8Array[] = [Buffer.from(MAGIC, 'latin1')];
    let size = MAGIC.length;
    for (const key of keys) {
      const bytes = entries.get(key)!;
      const head = Buffer.alloc(4 + key.length + 4);
      if (size + head.length + bytes.length > this.maxBytes) continue;
      head.writeUInt32LE(key.length, 0);
      head.write(key, 4, 'latin1');
      head.writeUInt32LE(bytes.length, 4 + key.length);
      chunks.push(head, bytes);
      size += head.length + bytes.length;
    }
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, Buffer.concat(chunks));
      renameSync(tmp, this.file);
    } catch {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing to clean up
      }
    }
  }

  private load(): Map<string, Uint8Array> {
    return (this.entries ??= readEntries(this.file));
  }
}

function readEntries(file: string): Map<string, Uint8Array> {
  const entries = new Map<string, Uint8Array>();
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return entries;
  }
  if (data.toString('latin1', 0, MAGIC.length) !== MAGIC) return entries;
  let at = MAGIC.length;
  while (at < data.length) {
    const keyLength = at + 4 <= data.length ? data.readUInt32LE(at) : Infinity;
    const bytesAt = at + 4 + keyLength + 4;
    const length = bytesAt <= data.length ? data.readUInt32LE(bytesAt - 4) : Infinity;
    if (bytesAt + length > data.length) return new Map(); // truncated or not ours
    entries.set(data.toString('latin1', at + 4, bytesAt - 4), data.subarray(bytesAt, bytesAt + length));
    at = bytesAt + length;
  }
  return entries;
}
