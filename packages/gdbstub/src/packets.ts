/**
 * GDB Remote Serial Protocol framing: `$payload#cc` with a modulo-256 checksum as two hex digits,
 * `+`/`-` acknowledgements (until no-ack mode), a bare 0x03 byte for an interrupt, and the binary
 * escape `}` (0x7d) followed by the byte XOR 0x20 for `#`, `$`, `}` and `*`.
 */

export const INTERRUPT_BYTE = 0x03;
const START = 0x24; // $
const END = 0x23; // #
const ESCAPE = 0x7d; // }
const ACK = 0x2b; // +
const NACK = 0x2d; // -

export type WireEvent =
  | { kind: 'packet'; payload: Buffer }
  | { kind: 'bad-checksum' }
  | { kind: 'ack' }
  | { kind: 'nack' }
  | { kind: 'interrupt' };

export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

/** Frame a payload: `$payload#cc` (the payload already escaped where binary). */
export function frame(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const sum = checksum(body).toString(16).padStart(2, '0');
  return Buffer.concat([Buffer.of(START), body, Buffer.from(`#${sum}`, 'latin1')]);
}

/** Escape binary data for a packet body (qXfer replies). */
export function escapeBinary(data: Uint8Array): Buffer {
  const out: number[] = [];
  for (const b of data) {
    if (b === START || b === END || b === ESCAPE || b === 0x2a) out.push(ESCAPE, b ^ 0x20);
    else out.push(b);
  }
  return Buffer.from(out);
}

/** Undo escapeBinary (X packet data). */
export function unescapeBinary(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    out[n++] = data[i] === ESCAPE && i + 1 < data.length ? data[++i] ^ 0x20 : data[i];
  }
  return out.subarray(0, n);
}

/**
 * Splits the byte stream from gdb into events. Bytes outside a packet other than `+`, `-` and 0x03
 * are ignored, as gdbserver does; a packet is complete two bytes after its `#`.
 */
export class PacketReader {
  private packet: number[] | undefined;
  private trailer = -1; // -1: in the body; 0..2: checksum digits read after '#'
  private sumText = '';

  feed(chunk: Uint8Array, emit: (e: WireEvent) => void): void {
    for (const b of chunk) {
      if (this.packet === undefined) {
        if (b === START) { this.packet = []; this.trailer = -1; }
        else if (b === ACK) emit({ kind: 'ack' });
        else if (b === NACK) emit({ kind: 'nack' });
        else if (b === INTERRUPT_BYTE) emit({ kind: 'interrupt' });
        continue;
      }
      if (this.trailer < 0) {
        if (b === END) { this.trailer = 0; this.sumText = ''; }
        else this.packet.push(b);
        continue;
      }
      this.sumText += String.fromCharCode(b);
      if (++this.trailer < 2) continue;
      const payload = Buffer.from(this.packet);
      this.packet = undefined;
      const given = /^[0-9a-fA-F]{2}$/.test(this.sumText) ? parseInt(this.sumText, 16) : -1;
      emit(given === checksum(payload) ? { kind: 'packet', payload } : { kind: 'bad-checksum' });
    }
  }
}

/** Bytes as lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Hex text as bytes; undefined when it is not an even run of hex digits. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** ASCII text as hex (qThreadExtraInfo, qRcmd output). */
export function textToHex(text: string): string {
  return Buffer.from(text, 'latin1').toString('hex');
}

const TWO32 = 4294967296;

/**
 * A hex address from gdb (up to 16 digits) as a signed JS number, the CPU's form for linear
 * addresses: exact for every canonical 64-bit address (a sign-extended 48-bit value). Undefined for
 * anything else (not hex, longer than 64 bits, or not canonical).
 */
export function parseAddress(text: string): number | undefined {
  if (!/^[0-9a-fA-F]{1,16}$/.test(text)) return undefined;
  const lo = parseInt(text.slice(-8), 16);
  const hi = text.length > 8 ? parseInt(text.slice(0, -8), 16) : 0;
  if (hi <= 0x7fff) return hi * TWO32 + lo;
  if (hi >= 0xffff8000) return (hi | 0) * TWO32 + lo;
  return undefined;
}

/** A hex number that fits a JS integer exactly (lengths, kinds, register numbers). */
export function parseHexNumber(text: string): number | undefined {
  if (!/^[0-9a-fA-F]{1,13}$/.test(text)) return undefined;
  return parseInt(text, 16);
}
