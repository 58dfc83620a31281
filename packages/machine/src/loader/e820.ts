/** One e820 entry: type 1 is usable RAM, 2 reserved. */
export interface E820Range {
  base: number;
  length: number;
  type: number;
}

export const E820_RAM = 1;
export const E820_RESERVED = 2;

/**
 * The e820 map SeaBIOS reports on QEMU's pc machine with `size` bytes of RAM, with `reserved`
 * ranges (the ACPI tables at the top of RAM) cut out of the usable RAM they cover, as SeaBIOS
 * does when it allocates them. Sorted by address.
 */
export function e820Map(size: number, reserved: readonly E820Range[] = []): E820Range[] {
  let map: E820Range[] = [
    { base: 0, length: 0x9fc00, type: E820_RAM },
    { base: 0x9fc00, length: 0x400, type: E820_RESERVED },
    { base: 0xf0000, length: 0x10000, type: E820_RESERVED },
    { base: 0x100000, length: size - 0x100000, type: E820_RAM },
    { base: 0xfffc0000, length: 0x40000, type: E820_RESERVED },
  ];
  for (const r of reserved) {
    if (r.length <= 0) continue;
    map = map.flatMap((e) => (e.type === E820_RAM ? cutOut(e, r) : [e]));
    map.push({ base: r.base, length: r.length, type: r.type });
  }
  return map.sort((a, b) => a.base - b.base);
}

/** What is left of RAM entry `e` outside `r` (zero, one or two pieces). */
function cutOut(e: E820Range, r: E820Range): E820Range[] {
  const end = e.base + e.length;
  const rEnd = r.base + r.length;
  if (rEnd <= e.base || r.base >= end) return [e];
  const pieces: E820Range[] = [];
  if (r.base > e.base) pieces.push({ base: e.base, length: r.base - e.base, type: e.type });
  if (rEnd < end) pieces.push({ base: rEnd, length: end - rEnd, type: e.type });
  return pieces;
}
