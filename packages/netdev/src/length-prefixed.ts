/** Frame length prefix on the helper's stdio: 2 bytes, big-endian. */
export const PREFIX_LEN = 2;
export const MAX_PREFIXED_FRAME = 0xffff;

/** Cuts a byte stream of [length:2][frame] records into frames, across chunk boundaries. */
export class LengthPrefixedReader {
  private pending: Buffer | undefined;

  constructor(private readonly onFrame: (frame: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    while (buf.length - at >= PREFIX_LEN) {
      const len = buf.readUInt16BE(at);
      if (buf.length - at < PREFIX_LEN + len) break;
      if (len > 0) this.onFrame(buf.subarray(at + PREFIX_LEN, at + PREFIX_LEN + len));
      at += PREFIX_LEN + len;
    }
    buf = buf.subarray(at);
    this.pending = buf.length ? Buffer.from(buf) : undefined;
  }
}

/** [length:2][frame] as one buffer for a single write. */
export function lengthPrefixed(frame: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(PREFIX_LEN + frame.length);
  out.writeUInt16BE(frame.length, 0);
  out.set(frame, PREFIX_LEN);
  return out;
}
