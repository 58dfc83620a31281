/** Ethernet header: destination MAC, source MAC, EtherType. */
export const ETH_HEADER_LEN = 14;
export const ETH_DST = 0;
export const ETH_SRC = 6;
export const ETH_TYPE = 12;

/** A MAC address at `at` as one number (48 bits fit exactly in a double). */
export function macKey(frame: Uint8Array, at: number): number {
  return (frame[at] * 0x10000 + frame[at + 1] * 0x100 + frame[at + 2]) * 0x1000000 + frame[at + 3] * 0x10000 + frame[at + 4] * 0x100 + frame[at + 5];
}

/** Bit 0 of the first octet: group address (multicast or broadcast). */
export function isGroupAddress(frame: Uint8Array, at: number): boolean {
  return (frame[at] & 1) !== 0;
}

export function formatMac(frame: Uint8Array, at = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(frame[at + i].toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** "52:54:00:12:34:56" → 6 bytes. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new Error(`not a MAC address: ${text}`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}
