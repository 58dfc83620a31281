import fs from 'node:fs';
import nodePath from 'node:path';
import { BlockIoError, SnapshotError, StateReader, type BlockBackend } from '@unimachine/core';
import { openImage } from './image.js';
import { checkRange, serialFrom } from './range.js';

/** What a read-only FileBlockBackend saves: the image's identity, checked on restore. */
export interface FileBackendState {
  version: number;
  kind: 'file';
  path: string;
  size: number;
  mtimeMs: number;
}

export interface FileBackendOptions {
  /** Open O_RDONLY; write() throws BlockIoError. */
  readOnly?: boolean;
  /** Default: the file's base name, cut to 20 bytes. */
  serial?: string;
}

/**
 * A raw disk image on the host: every read and write is one positioned pread/pwrite on the
 * descriptor (no copies, no allocation per request), flush() is fsync.
 *
 * An image whose size is not a multiple of 512 shows a capacity rounded up to the next sector,
 * as QEMU 7.2 does for raw images (checked: a 1000-byte file is a 1024-byte disk); the bytes past
 * the end of the file read as zeros, and a write there extends the file.
 */
export class FileBlockBackend implements BlockBackend {
  readonly size: number;
  readonly readOnly: boolean;
  readonly serial: string;
  private fd: number;
  private fileSize: number;

  /** Throws ImageOpenError with a message for the user when the image is unusable. */
  static open(path: string, opts: FileBackendOptions = {}): FileBlockBackend {
    const readOnly = opts.readOnly === true;
    const image = openImage(path, readOnly);
    return new FileBlockBackend(path, image.fd, image.fileSize, image.capacity, readOnly, opts.serial ?? serialFrom(nodePath.basename(path)));
  }

  private constructor(
    readonly path: string,
    fd: number,
    fileSize: number,
    capacity: number,
    readOnly: boolean,
    serial: string,
  ) {
    this.fd = fd;
    this.fileSize = fileSize;
    this.size = capacity;
    this.readOnly = readOnly;
    this.serial = serial;
  }

  read(offset: number, target: Uint8Array): void {
    const length = target.length;
    checkRange(this.size, offset, length, 'read');
    let done = 0;
    try {
      while (done < length) {
        const n = fs.readSync(this.openFd(), target, done, length - done, offset + done);
        if (n === 0) {
          target.fill(0, done); // the sector tail past the end of the file
          break;
        }
        done += n;
      }
    } catch (e) {
      throw this.ioError('read', offset, length, e);
    }
  }

  write(offset: number, data: Uint8Array): void {
    const length = data.length;
    if (this.readOnly) throw new BlockIoError(`write to read-only disk ${this.path}`);
    checkRange(this.size, offset, length, 'write');
    let done = 0;
    try {
      while (done < length) done += fs.writeSync(this.openFd(), data, done, length - done, offset + done);
    } catch (e) {
      throw this.ioError('write', offset, length, e);
    }
    if (offset + length > this.fileSize) this.fileSize = offset + length;
  }

  flush(): void {
    try {
      fs.fsyncSync(this.openFd());
    } catch (e) {
      throw this.ioError('flush', 0, 0, e);
    }
  }

  /**
   * A read-only image is saved by identity (path, size, modification time) and checked on restore.
   * A writable one is refused: its writes go straight to the host file, which a snapshot cannot
   * hold or roll back (QEMU's savevm likewise needs a qcow2 image).
   */
  snapshot(): FileBackendState {
    if (!this.readOnly) {
      throw new SnapshotError(
        `disk ${this.path}`,
        'a writable image file cannot be snapshotted (the guest\'s writes go straight to the file); open it with snapshot: true (copy-on-write) or readonly: true, or use a memory disk',
      );
    }
    return { version: 1, kind: 'file', path: this.path, size: this.size, mtimeMs: this.mtimeMs() };
  }

  restore(state: unknown): void {
    const owner = `disk ${this.path}`;
    const r = StateReader.open(owner, state, 1);
    r.str('kind', ['file']);
    const size = r.int('size', 0);
    const mtimeMs = r.num('mtimeMs');
    const path = r.str('path');
    if (size !== this.size) throw new SnapshotError(owner, `the snapshot was taken with a ${size}-byte image (${path}), this one has ${this.size} bytes`);
    if (mtimeMs !== this.mtimeMs()) throw new SnapshotError(owner, `the image (${path} when saved) was modified after the snapshot was taken; its guest would see other data`);
  }

  private mtimeMs(): number {
    return fs.fstatSync(this.openFd()).mtimeMs;
  }

  dispose(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  private openFd(): number {
    if (this.fd < 0) throw new BlockIoError(`disk ${this.path} is closed`);
    return this.fd;
  }

  private ioError(op: string, offset: number, length: number, e: unknown): BlockIoError {
    if (e instanceof BlockIoError) return e;
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    return new BlockIoError(`${op} of ${length} bytes at offset ${offset} on ${this.path} failed: ${code}`);
  }
}
