import { Type, type TSchema } from '@sinclair/typebox';

/**
 * Schema building blocks shared by device plugins. A reference property carries
 * `x-unimachine-ref`, so the builder can check it points at a real device and report the
 * YAML position when it does not.
 */
export const REF_KEYWORD = 'x-unimachine-ref';

/** `pic.4`: an IRQ line number on a device that provides IRQ lines. */
export const IrqRef = (description = 'interrupt line, as <controller-id>.<line>, e.g. pic.4') =>
  Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_-]*\\.[0-9]+$', description, [REF_KEYWORD]: 'irq' });

/** The id of another device in the same machine, e.g. `pci`. */
export const DeviceRef = (description = 'id of another device in this machine') =>
  Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_-]*$', description, [REF_KEYWORD]: 'device' });

/** An I/O port number (YAML accepts 0x3f8). */
export const PortNumber = (description = 'I/O port number, e.g. 0x3f8') =>
  Type.Integer({ minimum: 0, maximum: 0xffff, description });

/** A size: a byte count or a string such as "128MiB", "64K", "1G". */
export const ByteSize = (description = 'size in bytes, or with a unit: 64KiB, 128MiB, 1GiB') =>
  Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: SIZE_PATTERN })], { description });

export const SIZE_PATTERN = '^\\s*[0-9]+(\\.[0-9]+)?\\s*([KMGTkmgt]i?[Bb]?|[Bb])?\\s*$';

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Parse "128MiB" / "64K" / 4096 into bytes; undefined if malformed. Binary units (K = KiB). */
export function parseByteSize(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(?:([KMGT])i?B?|(B))?\s*$/i.exec(value);
  if (!m) return undefined;
  const unit = (m[2] ?? m[3] ?? '').toUpperCase();
  const bytes = Number(m[1]) * UNITS[unit];
  return Number.isInteger(bytes) ? bytes : undefined;
}

export type { TSchema };
