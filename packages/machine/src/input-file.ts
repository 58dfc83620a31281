import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** A machine description is a page of YAML; anything this large is a wrong path. */
export const MAX_MACHINE_FILE_BYTES = 1024 * 1024;
/** Guest RAM ends below 4 GiB; a unikernel is a few MiB. Larger files are refused before reading. */
export const MAX_KERNEL_BYTES = 1024 * 1024 * 1024;

/** A file refused before reading: `message` says why; `code` is the errno code when the system refused it (ENOENT). */
export class InputFileError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'InputFileError';
  }
}

/**
 * Read a whole input file (machine description, kernel), refusing what is not a regular file
 * (/dev/zero, a FIFO, a directory) or larger than `limit` before reading a byte: a wrong path must
 * give a message, never a hang or an exhausted heap. The file is opened non-blocking, so even
 * opening a FIFO with no writer does not wait.
 */
export function readInputFile(file: string, limit: number): Buffer {
  return withRegularFile(file, limit, (fd, stats) => readFully(fd, stats.size));
}

/** The first `bytes` bytes of an input file (less if it is shorter), with the same refusals. */
export function readInputFileHead(file: string, limit: number, bytes: number): Buffer {
  return withRegularFile(file, limit, (fd, stats) => readFully(fd, Math.min(bytes, stats.size)));
}

function withRegularFile<T>(file: string, limit: number, read: (fd: number, stats: Stats) => T): T {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputFileError(code ?? (e as Error).message, code);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new InputFileError(`not a regular file (${kindOf(stats)})`);
    if (stats.size > limit) throw new InputFileError(`too large (${formatBytes(stats.size)}; the limit is ${formatBytes(limit)})`);
    return read(fd, stats);
  } finally {
    closeSync(fd);
  }
}

/** Read `size` bytes, the size fstat gave: a file growing meanwhile is read only that far. */
function readFully(fd: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  let done = 0;
  while (done < size) {
    const n = readSync(fd, buf, done, size - done, done);
    if (n === 0) break;
    done += n;
  }
  return done === size ? buf : buf.subarray(0, done);
}

function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  return 'not a file';
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}
