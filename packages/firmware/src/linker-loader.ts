import { readAscii, readU32 } from './bytes.js';

/**
 * QEMU's BIOS linker/loader interface (`etc/table-loader`): 128-byte commands that tell the
 * firmware where to put fw_cfg blobs in guest memory, which fields are pointers to patch with
 * the final addresses, and which checksums to compute afterwards.
 */
export const LOADER_COMMAND_SIZE = 128;
export const LOADER_FILE_NAME_SIZE = 56;

export const LoaderCommandType = { allocate: 1, addPointer: 2, addChecksum: 3 } as const;
export const LoaderZone = { high: 1, fseg: 2 } as const;

export type LoaderCommand =
  | { kind: 'allocate'; file: string; align: number; zone: 'high' | 'fseg' }
  /** Add the address `srcFile` was loaded at to the `size`-byte little-endian value at `offset` in `destFile`. */
  | { kind: 'add-pointer'; destFile: string; srcFile: string; offset: number; size: 1 | 2 | 4 | 8 }
  /** Set the byte at `offset` so that `file[start, start+length)` sums to zero. */
  | { kind: 'add-checksum'; file: string; offset: number; start: number; length: number };

function putName(out: Uint8Array, at: number, name: string): void {
  if (name.length >= LOADER_FILE_NAME_SIZE) throw new Error(`linker/loader file name too long: ${name}`);
  for (let i = 0; i < name.length; i++) out[at + i] = name.charCodeAt(i);
}

function putU32(out: Uint8Array, at: number, v: number): void {
  for (let i = 0; i < 4; i++) out[at + i] = (v >>> (8 * i)) & 0xff;
}

/** The `etc/table-loader` blob: the commands, zero-padded to `padTo` bytes (QEMU pads to 4 KiB). */
export function encodeLoaderCommands(commands: readonly LoaderCommand[], padTo = 4096): Uint8Array {
  const size = Math.max(commands.length * LOADER_COMMAND_SIZE, padTo);
  const out = new Uint8Array(Math.ceil(size / padTo) * padTo);
  commands.forEach((c, i) => {
    const at = i * LOADER_COMMAND_SIZE;
    const body = at + 4;
    switch (c.kind) {
      case 'allocate':
        putU32(out, at, LoaderCommandType.allocate);
        putName(out, body, c.file);
        putU32(out, body + 56, c.align);
        out[body + 60] = LoaderZone[c.zone];
        break;
      case 'add-pointer':
        putU32(out, at, LoaderCommandType.addPointer);
        putName(out, body, c.destFile);
        putName(out, body + 56, c.srcFile);
        putU32(out, body + 112, c.offset);
        out[body + 116] = c.size;
        break;
      case 'add-checksum':
        putU32(out, at, LoaderCommandType.addChecksum);
        putName(out, body, c.file);
        putU32(out, body + 56, c.offset);
        putU32(out, body + 60, c.start);
        putU32(out, body + 64, c.length);
        break;
    }
  });
  return out;
}

const nameAt = (b: Uint8Array, at: number) => readAscii(b, at, LOADER_FILE_NAME_SIZE).replace(/\0.*$/s, '');

/** Parse an `etc/table-loader` blob (stops at the first zero command, as SeaBIOS does). */
export function decodeLoaderCommands(blob: Uint8Array): LoaderCommand[] {
  const out: LoaderCommand[] = [];
  for (let at = 0; at + LOADER_COMMAND_SIZE <= blob.length; at += LOADER_COMMAND_SIZE) {
    const type = readU32(blob, at);
    const body = at + 4;
    if (type === LoaderCommandType.allocate) {
      out.push({ kind: 'allocate', file: nameAt(blob, body), align: readU32(blob, body + 56), zone: blob[body + 60] === LoaderZone.fseg ? 'fseg' : 'high' });
    } else if (type === LoaderCommandType.addPointer) {
      const size = blob[body + 116];
      if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new Error(`linker/loader: bad pointer size ${size}`);
      out.push({ kind: 'add-pointer', destFile: nameAt(blob, body), srcFile: nameAt(blob, body + 56), offset: readU32(blob, body + 112), size });
    } else if (type === LoaderCommandType.addChecksum) {
      out.push({ kind: 'add-checksum', file: nameAt(blob, body), offset: readU32(blob, body + 56), start: readU32(blob, body + 60), length: readU32(blob, body + 64) });
    } else if (type === 0) {
      break;
    } else {
      throw new Error(`linker/loader: unknown command ${type}`);
    }
  }
  return out;
}

/** Where the firmware put a file, and its patched bytes. */
export interface LoadedFile {
  address: number;
  bytes: Uint8Array;
}

/**
 * Run the commands the way SeaBIOS does: allocate (place) each file, patch pointers, compute
 * checksums. Works on copies; the caller writes the results to guest memory.
 */
export function runLoaderCommands(
  commands: readonly LoaderCommand[],
  files: ReadonlyMap<string, Uint8Array>,
  place: (file: string, size: number, align: number, zone: 'high' | 'fseg') => number,
): Map<string, LoadedFile> {
  const loaded = new Map<string, LoadedFile>();
  const get = (name: string): LoadedFile => {
    const f = loaded.get(name);
    if (!f) throw new Error(`linker/loader: ${name} is used before it is allocated`);
    return f;
  };
  for (const c of commands) {
    if (c.kind === 'allocate') {
      const data = files.get(c.file);
      if (!data) throw new Error(`linker/loader: no file ${c.file}`);
      const address = place(c.file, data.length, c.align, c.zone);
      if (address % c.align !== 0) throw new Error(`linker/loader: ${c.file} placed at 0x${address.toString(16)}, not ${c.align}-aligned`);
      loaded.set(c.file, { address, bytes: data.slice() });
    } else if (c.kind === 'add-pointer') {
      const dest = get(c.destFile).bytes;
      const src = get(c.srcFile).address;
      if (c.offset + c.size > dest.length) throw new Error(`linker/loader: pointer at ${c.offset} is outside ${c.destFile}`);
      let value = 0;
      for (let i = c.size - 1; i >= 0; i--) value = value * 256 + dest[c.offset + i];
      value += src;
      for (let i = 0; i < c.size; i++) {
        dest[c.offset + i] = value % 256;
        value = Math.floor(value / 256);
      }
    } else {
      const data = get(c.file).bytes;
      if (c.start + c.length > data.length || c.offset >= data.length) throw new Error(`linker/loader: checksum range is outside ${c.file}`);
      let sum = 0;
      for (let i = c.start; i < c.start + c.length; i++) sum += data[i];
      data[c.offset] = (data[c.offset] - sum) & 0xff;
    }
  }
  return loaded;
}
