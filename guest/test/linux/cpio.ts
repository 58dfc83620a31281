/**
 * The "newc" cpio format (magic 070701) the kernel unpacks an initramfs from: per entry a
 * 110-byte ASCII header of thirteen 8-digit hex fields, the name with its NUL, padding to 4,
 * the data, padding to 4; the archive ends with an entry named TRAILER!!!.
 */

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

export interface CpioEntry {
  name: string;
  /** File type and permission bits (S_IFREG | 0o755). */
  mode: number;
  data?: Uint8Array;
  /** Device numbers of a character or block device node. */
  rdevMajor?: number;
  rdevMinor?: number;
}

const MAGIC = '070701';
const TRAILER = 'TRAILER!!!';

export function newcArchive(entries: readonly CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    size += b.length;
  };
  const pad = () => {
    if (size % 4) push(new Uint8Array(4 - (size % 4)));
  };
  let inode = 1;
  for (const e of [...entries, { name: TRAILER, mode: 0 }]) {
    const name = new TextEncoder().encode(e.name + '\0');
    const data = e.data ?? new Uint8Array(0);
    const isTrailer = e.name === TRAILER;
    const fields = [
      isTrailer ? 0 : inode++, // ino
      e.mode,
      0, // uid
      0, // gid
      (e.mode & 0o170000) === S_IFDIR ? 2 : 1, // nlink
      0, // mtime: fixed, so the archive is the same bytes every time
      data.length,
      0, // devmajor
      0, // devminor
      e.rdevMajor ?? 0,
      e.rdevMinor ?? 0,
      name.length,
      0, // check
    ];
    push(new TextEncoder().encode(MAGIC + fields.map((f) => (f >>> 0).toString(16).padStart(8, '0')).join('')));
    push(name);
    pad();
    push(data);
    pad();
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
