const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

/**
 * Fill the CMOS bytes a PC BIOS leaves for the OS to find the memory size:
 * 0x15/0x16 base memory in KiB (640), 0x17/0x18 and 0x30/0x31 extended memory in KiB above
 * 1 MiB (capped at 0xFFFF), 0x34/0x35 memory above 16 MiB in 64 KiB units (below 4 GiB),
 * 0x5B-0x5D memory above 4 GiB in 64 KiB units; then the 0x10-0x2D checksum at 0x2E/0x2F.
 */
export function fillMemorySize(cmos: Uint8Array, ramBytes: number): void {
  const below4g = Math.min(ramBytes, 4 * GIB);
  const above4g = Math.max(0, ramBytes - 4 * GIB);
  const baseKib = 640;
  const extendedKib = Math.min(0xffff, Math.max(0, Math.floor((below4g - MIB) / KIB)));
  const above16m = Math.min(0xffff, Math.max(0, Math.floor((below4g - 16 * MIB) / (64 * KIB))));
  const above4gUnits = Math.min(0xffffff, Math.floor(above4g / (64 * KIB)));
  put16(cmos, 0x15, baseKib);
  put16(cmos, 0x17, extendedKib);
  put16(cmos, 0x30, extendedKib);
  put16(cmos, 0x34, above16m);
  cmos[0x5b] = above4gUnits & 0xff;
  cmos[0x5c] = (above4gUnits >> 8) & 0xff;
  cmos[0x5d] = (above4gUnits >> 16) & 0xff;
  let sum = 0;
  for (let i = 0x10; i <= 0x2d; i++) sum += cmos[i];
  cmos[0x2e] = (sum >> 8) & 0xff;
  cmos[0x2f] = sum & 0xff;
}

function put16(cmos: Uint8Array, at: number, value: number): void {
  cmos[at] = value & 0xff;
  cmos[at + 1] = (value >> 8) & 0xff;
}
