/**
 * Which local APICs a message destination selects (SDM 11.6.2). Physical mode compares the
 * APIC ID; logical mode compares the message destination address (MDA) with the logical
 * destination register: flat model (DFR 0xf) any common bit, cluster model (DFR 0x0) the same
 * cluster nibble (0xf: all clusters) and a common member bit. x2APIC logical IDs are fixed:
 * cluster in bits 31-16, one member bit in 15-0.
 */

const DFR_FLAT = 0xf;
const DFR_CLUSTER = 0x0;

/** The x2APIC logical ID of x2APIC ID `id`: cluster id >> 4, member bit id & 15. */
export function x2apicLdrOf(id: number): number {
  return (((id >>> 4) << 16) | (1 << (id & 0xf))) >>> 0;
}

/**
 * An x2APIC-mode receiver. An 8-bit (xAPIC format, `wide` false) physical destination 0xff is
 * a broadcast too: the I/O APIC and xAPIC senders can only say so.
 */
export function matchesX2apic(dest: number, logical: boolean, wide: boolean, id: number): boolean {
  if (dest === 0xffffffff || (!wide && dest === 0xff)) return true;
  if (!logical) return dest === id;
  const ldr = x2apicLdrOf(id);
  const cluster = dest >>> 16;
  return (cluster === 0xffff || cluster === ldr >>> 16) && (dest & ldr & 0xffff) !== 0;
}

/** An xAPIC-mode receiver with 8-bit `id`, LDR (bits 31-24) and DFR (model in bits 31-28). */
export function matchesXapic(dest: number, logical: boolean, wide: boolean, id: number, ldr: number, dfr: number): boolean {
  if (wide && dest === 0xffffffff) return true;
  const mda = dest & 0xff;
  if (!logical) return mda === 0xff || mda === id;
  const logicalId = ldr >>> 24;
  switch (dfr >>> 28) {
    case DFR_FLAT:
      return (mda & logicalId) !== 0;
    case DFR_CLUSTER:
      return (mda >> 4 === 0xf || mda >> 4 === logicalId >> 4) && (mda & logicalId & 0xf) !== 0;
    default:
      return false;
  }
}
