import fs from 'node:fs';
import { roundUpToSector } from './range.js';

/** An image that cannot be used as a disk; the message says why and is meant for the user. */
export class ImageOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageOpenError';
  }
}

export interface OpenedImage {
  fd: number;
  /** Bytes actually in the file (or the block device). */
  fileSize: number;
  /** What the guest sees: fileSize rounded up to a whole sector, as QEMU does for raw images. */
  capacity: number;
}

/**
 * Open a raw disk image: a regular file or a host block device. The type is checked with stat
 * before open and again with fstat on the descriptor (no race), and the open is non-blocking, so
 * a FIFO is refused instead of hanging in open() waiting for a writer.
 */
export function openImage(path: string, readOnly: boolean): OpenedImage {
  refuseNonDisk(path, statOrFail(path));
  const flags = (readOnly ? fs.constants.O_RDONLY : fs.constants.O_RDWR) | fs.constants.O_NONBLOCK;
  let fd: number;
  try {
    fd = fs.openSync(path, flags);
  } catch (e) {
    throw new ImageOpenError(openFailure(path, readOnly, e as NodeJS.ErrnoException));
  }
  try {
    const st = fs.fstatSync(fd);
    refuseNonDisk(path, st);
    const fileSize = st.isBlockDevice() ? blockDeviceSize(path, st) : st.size;
    if (fileSize === 0) throw new ImageOpenError(`disk image ${path} is empty (0 bytes); give it a size first, e.g. truncate -s 64M ${path}`);
    return { fd, fileSize, capacity: roundUpToSector(fileSize) };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

function statOrFail(path: string): fs.Stats {
  try {
    return fs.statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ImageOpenError(`disk image not found: ${path}`);
    if (code === 'EACCES') throw new ImageOpenError(`cannot access disk image ${path}: permission denied`);
    throw new ImageOpenError(`cannot access disk image ${path}: ${code ?? (e as Error).message}`);
  }
}

function refuseNonDisk(path: string, st: fs.Stats): void {
  if (st.isFile() || st.isBlockDevice()) return;
  const what = st.isDirectory()
    ? 'a directory'
    : st.isFIFO()
      ? 'a FIFO (named pipe)'
      : st.isCharacterDevice()
        ? 'a character device'
        : st.isSocket()
          ? 'a socket'
          : 'not a regular file';
  throw new ImageOpenError(`${path} is ${what}; a disk image must be a regular file or a block device`);
}

function openFailure(path: string, readOnly: boolean, e: NodeJS.ErrnoException): string {
  const denied = e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS';
  if (denied && !readOnly && readable(path)) {
    const why = e.code === 'EROFS' ? 'read-only file system' : 'permission denied';
    return `cannot open disk image ${path} for writing (${why}); use readonly: true, or snapshot: true to keep writes in memory`;
  }
  if (denied) return `cannot read disk image ${path}: permission denied`;
  return `cannot open disk image ${path}: ${e.code ?? e.message}`;
}

function readable(path: string): boolean {
  try {
    fs.accessSync(path, fs.constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** A block device's fstat size is 0; Linux publishes its size in 512-byte sectors in sysfs. */
function blockDeviceSize(path: string, st: fs.Stats): number {
  const major = Math.floor(st.rdev / 256) & 0xfff;
  const minor = (st.rdev & 0xff) | (Math.floor(st.rdev / 4096) & 0xfff00);
  try {
    return Number(fs.readFileSync(`/sys/dev/block/${major}:${minor}/size`, 'utf8').trim()) * 512;
  } catch {
    throw new ImageOpenError(`cannot find the size of block device ${path} (no /sys/dev/block/${major}:${minor}/size)`);
  }
}
