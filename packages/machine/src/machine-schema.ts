import { ByteSize, Type, type Static, type TSchema } from '@unimachine/core';
import type { DevicePlugin } from '@unimachine/core';
import { RtcBaseSchema } from '@unimachine/chipset';

/** Runs of a block before the WebAssembly tier compiles it, unless `cpu.jit` or UNIMACHINE_JIT says otherwise. */
export const DEFAULT_JIT_THRESHOLD = 50;
/** The most processors a machine may have (`cpus:`). */
export const MAX_CPUS = 16;

export const DEVICE_ID_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*$';

const DeviceEntry = Type.Object(
  { type: Type.String({ description: 'device type, e.g. uart-16550 (see `unimachine devices`)' }) },
  { additionalProperties: true, description: 'a device: its type plus the properties that type declares' },
);

/** The machine-level keys. Device properties are checked afterwards by each device's own schema. */
export const MachineSchema = Type.Object(
  {
    machine: Type.Optional(Type.String({ description: 'a name for this machine, shown in messages' })),
    memory: Type.Optional(ByteSize('guest RAM: a byte count or a size such as 128MiB (default 128MiB)')),
    clock: Type.Optional(
      Type.Union([Type.Literal('deterministic'), Type.Literal('realtime')], {
        description: 'deterministic: time advances with guest instructions and I/O, idle jumps ahead (default); realtime: host time',
      }),
    ),
    rtc: Type.Optional(
      Type.Object(
        {
          base: Type.Optional(
            RtcBaseSchema(
              "where the real-time clock starts, as QEMU's -rtc base=: utc (default: the host's current UTC time), " +
                'localtime, or a fixed date-time such as 2026-01-01T00:00:00Z for byte-identical runs; ' +
                'applies to every mc146818 device that sets no base of its own',
            ),
          ),
        },
        { additionalProperties: false, description: 'the wall clock the RTC shows (QEMU -rtc)' },
      ),
    ),
    cpu: Type.Optional(
      Type.Object(
        {
          type: Type.Optional(Type.Literal('x86-64', { description: 'processor architecture (only x86-64)' })),
          // The CPUID profiles of @unimachine/cpu-x86 (its CPU_MODELS).
          model: Type.Optional(
            Type.Union([Type.Literal('westmere'), Type.Literal('qemu64'), Type.Literal('max')], {
              description:
                'CPUID profile: westmere (default, as QEMU -cpu Westmere), qemu64 (QEMU\'s default CPU), or max ' +
                '(westmere plus everything the interpreter implements: MOVBE, LZCNT, BMI1, BMI2, RDRAND, RDSEED)',
            }),
          ),
          jit: Type.Optional(
            Type.Union([Type.Literal('off'), Type.Integer({ minimum: 0 })], {
              description:
                'the WebAssembly tier: compile a block of guest code to WebAssembly after it ran this many times in the ' +
                `interpreter (0: at once; default ${DEFAULT_JIT_THRESHOLD}, or the UNIMACHINE_JIT environment variable), or off ` +
                'for the interpreter alone. Either way the machine retires the same instructions and prints the same bytes',
            }),
          ),
        },
        { additionalProperties: false, description: 'the processor' },
      ),
    ),
    cpus: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_CPUS,
        description:
          'number of processors, as QEMU -smp N (one socket of N cores; default 1). CPU 0 boots the kernel; the others ' +
          'wait for INIT and start-up IPIs. Needs a lapic device, which then describes the local APIC of every CPU ' +
          '(APIC IDs 0..N-1, one APIC bus); the MP/ACPI tables and fw-cfg report N',
      }),
    ),
    acpi: Type.Optional(
      Type.Union([Type.Literal('on'), Type.Literal('off')], {
        description:
          "on: install QEMU pc's ACPI tables (RSDP in the BIOS area, RSDT, FADT, MADT, DSDT... in the top 128 KiB of RAM, " +
          'reserved in the e820 map) and offer them through a fw-cfg device; off (default): no ACPI tables, as QEMU -machine acpi=off',
      }),
    ),
    devices: Type.Optional(
      Type.Record(Type.String({ pattern: DEVICE_ID_PATTERN }), DeviceEntry, {
        description: 'the devices, by id; other devices refer to them by id (irq: pic.4, bus: pci)',
        // Without this an id the pattern refuses ("49") is not checked at all, and reaches the builder with no type.
        additionalProperties: false,
      }),
    ),
    boot: Type.Optional(
      Type.Object(
        {
          kernel: Type.Optional(
            Type.String({ description: 'multiboot kernel (ELF32, or ELF64 with the a.out kludge) or Linux bzImage, relative to this file' }),
          ),
          cmdline: Type.Optional(Type.String({ description: 'arguments passed after the kernel path in the multiboot command line, or the Linux command line' })),
          initrd: Type.Optional(Type.String({ description: 'initial RAM disk for a Linux bzImage kernel (as QEMU -initrd), relative to this file' })),
        },
        { additionalProperties: false, description: 'what to boot' },
      ),
    ),
    plugins: Type.Optional(
      Type.Array(Type.String(), { description: 'extra device types: npm package names or paths starting with ./ or ../' }),
    ),
    'on-reset': Type.Optional(
      Type.Union([Type.Literal('stop'), Type.Literal('reboot')], {
        description: 'what a guest-requested reset does: stop (default, exit status 0, like QEMU -no-reboot) or reboot (reload the kernel)',
      }),
    ),
  },
  { additionalProperties: false },
);

export type MachineYaml = Static<typeof MachineSchema>;

/** The device schema a plugin declares, with `type` added, for editors and `unimachine schema`. */
export function deviceSchemaWithType(plugin: DevicePlugin): TSchema {
  const s = plugin.schema as TSchema & { properties?: Record<string, unknown>; required?: string[] };
  const typeProp = { const: plugin.type, description: plugin.description };
  if (s.type === 'object' && s.properties) {
    return {
      ...s,
      properties: { type: typeProp, ...s.properties },
      required: ['type', ...(s.required ?? [])],
      additionalProperties: s.additionalProperties ?? false,
    } as TSchema;
  }
  return { allOf: [{ type: "object", properties: { type: typeProp }, required: ["type"] }, s] } as unknown as TSchema;
}

/**
 * The published JSON Schema of a machine description, every known device type included, so an
 * editor can complete and check YAML (`# yaml-language-server: $schema=machine.schema.json`).
 */
export function publishedMachineSchema(plugins: readonly DevicePlugin[]): Record<string, unknown> {
  const base = JSON.parse(JSON.stringify(MachineSchema)) as Record<string, any>;
  const types = plugins.map((p) => p.type).sort();
  const device = {
    type: 'object',
    description: 'a device: its type plus the properties that type declares',
    properties: { type: { enum: types, description: 'device type (see `unimachine devices`)' } },
    required: ['type'],
    allOf: plugins.map((p) => ({
      if: { properties: { type: { const: p.type } }, required: ['type'] },
      then: JSON.parse(JSON.stringify(deviceSchemaWithType(p))),
    })),
  };
  base.properties.devices = {
    type: 'object',
    description: base.properties.devices.description,
    propertyNames: { pattern: DEVICE_ID_PATTERN },
    additionalProperties: device,
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://unimachine.dev/machine.schema.json',
    title: 'Unimachine machine description',
    ...base,
  };
}
