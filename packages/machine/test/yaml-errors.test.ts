import { beforeAll, describe, expect, it } from 'vitest';
import { buildKernels, type BuiltKernels } from './support/kernels.js';
import { buildError } from './support/harness.js';
import { testCard, testDevices } from './support/test-devices.js';

// Every kind of bad input gives one message `file:line:col: what is wrong; what would be right`.
let k: BuiltKernels;
beforeAll(() => {
  k = buildKernels();
});

const pic = `devices:\n  pic: { type: test-pic }\n`;
const boot = `boot:\n  kernel: probe32.elf\n`;
const known = 'known types: test-bus, test-card, test-exit, test-pic, test-uart';
const err = (yaml: string, opts = {}) => buildError(yaml, k.dir, opts);

describe('a good description', () => {
  it('builds, with 0x3f8 read as a number and 128MiB as a size', async () => {
    expect(await err(`memory: 128MiB\n` + pic + `  com1: { type: test-uart, port: 0x3f8, irq: pic.4 }\n` + boot)).toBe('ok');
  });
});

describe('YAML errors', () => {
  it('syntax error', async () => {
    expect(await err(`devices:\n  pic:\n    type: test-pic\n   port: 3\n` + boot)).toBe(
      'm.yaml:4:1: YAML syntax error: All mapping items must start at the same column',
    );
  });

  it('unknown device type, with a "did you mean" and the known types', async () => {
    expect(await err(pic + `  com1: { type: test-uartt }\n` + boot)).toBe(
      `m.yaml:3:17: unknown device type "test-uartt"; did you mean "test-uart"? ${known}`,
    );
    expect(await err(pic + `  com1: { type: banana }\n` + boot)).toBe(`m.yaml:3:17: unknown device type "banana"; ${known}`);
  });

  it('missing required property, at the device id', async () => {
    expect(await err(pic + `  bus: { type: test-bus }\n  card:\n    type: test-card\n    bus: bus\n` + boot)).toBe(
      'm.yaml:4:3: device "card" (test-card) is missing required property "slot"; add slot: <slot number 0-31>',
    );
  });

  it('wrong type and out-of-range numbers', async () => {
    expect(await err(pic + `  com1: { type: test-uart, port: "abc" }\n` + boot)).toBe(
      'm.yaml:3:34: devices.com1.port must be an integer, not "abc"; expected an integer (I/O port number, e.g. 0x3f8)',
    );
    expect(await err(pic + `  com1: { type: test-uart, port: 70000 }\n` + boot)).toBe(
      'm.yaml:3:34: devices.com1.port: 70000 is out of range; expected a value between 0 and 65535 (0xffff) (I/O port number, e.g. 0x3f8)',
    );
  });

  it('bad size, at machine level and in a device', async () => {
    expect(await err(`memory: 128 apples\n` + pic + boot)).toBe(
      'm.yaml:1:9: memory: "128 apples" is not a size; write a byte count or a number with a unit, e.g. 64KiB, 128MiB, 1GiB',
    );
    expect(await err(pic + `  bus: { type: test-bus }\n  card: { type: test-card, bus: bus, slot: 1, buffer: 12 apples }\n` + boot)).toBe(
      'm.yaml:4:55: devices.card.buffer: "12 apples" is not a size; write a byte count or a number with a unit, e.g. 64KiB, 128MiB, 1GiB',
    );
    expect(await err(`memory: 1MiB\n` + pic + boot)).toBe('m.yaml:1:9: memory "1MiB" is out of range; give between 2MiB and 4088MiB, e.g. 128MiB');
  });

  it('bad enum value', async () => {
    expect(await err(`clock: fast\n` + pic + boot)).toMatch(/^m\.yaml:1:8: clock: "fast" is not allowed; expected "deterministic" or "realtime" /);
  });

  it('duplicate device id', async () => {
    expect(await err(pic + `  pic: { type: test-pic }\n` + boot)).toBe(
      'm.yaml:3:3: duplicate key "pic"; a key may appear only once in a map (under devices:, give each device its own id)',
    );
  });

  it('unknown properties, with a "did you mean"', async () => {
    expect(await err(pic + `  com1: { type: test-uart, prot: 0x3f8 }\n` + boot)).toBe(
      'm.yaml:3:28: unknown property "prot" in devices.com1; did you mean "port"? known properties: port, irq, console',
    );
    expect(await err(`memroy: 1MiB\n` + pic + boot)).toBe(
      'm.yaml:1:1: unknown property "memroy" in the machine description; did you mean "memory"? known properties: machine, memory, clock, rtc, cpu, cpus, acpi, devices, boot, plugins, on-reset',
    );
  });
});

describe('references', () => {
  it('to a device that does not exist', async () => {
    expect(await err(pic + `  com1: { type: test-uart, irq: pic9.4 }\n` + boot)).toBe(
      'm.yaml:3:33: "pic9.4" refers to device "pic9", which does not exist; did you mean "pic"? devices: pic, com1',
    );
    expect(await err(pic + `  bus: { type: test-bus }\n  card: { type: test-card, bus: pcix, slot: 2 }\n` + boot)).toBe(
      'm.yaml:4:33: "pcix" refers to device "pcix", which does not exist; did you mean "pic"? devices: pic, bus, card',
    );
  });

  it('from a default value, saying so', async () => {
    const card = `  card: { type: test-card, slot: 1 }\n`;
    const plugins = [{ ...testCard, type: 'defaulted-card', schema: { ...testCard.schema, properties: { ...testCard.schema.properties, bus: { ...testCard.schema.properties.bus, default: 'pci' } } } }];
    expect(await err(pic + card.replace('test-card', 'defaulted-card') + boot, { plugins: [...testDevices, ...plugins] })).toBe(
      'm.yaml:3:9: "pci" (the default bus of defaulted-card) refers to device "pci", which does not exist; did you mean "pic"? devices: pic, card',
    );
  });

  it('to a device that provides no IRQ lines', async () => {
    expect(await err(pic + `  exit: { type: test-exit }\n  com1: { type: test-uart, irq: exit.4 }\n` + boot)).toBe(
      'm.yaml:4:33: "exit.4" refers to device "exit", which provides no IRQ lines; point at an interrupt controller, e.g. pic.4',
    );
  });

  it('in the wrong form', async () => {
    expect(await err(pic + `  com1: { type: test-uart, irq: pic }\n` + boot)).toBe(
      'm.yaml:3:33: devices.com1.irq: "pic" is not an IRQ reference; write <controller-id>.<line>, e.g. pic.4',
    );
  });

  it('are created first whatever the YAML order', async () => {
    // card is listed before its bus and the uart before its pic: both still resolve.
    const yaml = `devices:\n  card: { type: test-card, bus: bus, slot: 1 }\n  com1: { type: test-uart, irq: pic.4 }\n  bus: { type: test-bus }\n  pic: { type: test-pic }\n` + boot;
    expect(await err(yaml)).toBe('ok');
  });
});

describe('ports', () => {
  it('two devices claiming one port: reported at the second, naming both', async () => {
    expect(await err(pic + `  com1: { type: test-uart, port: 0x3f8 }\n  com2: { type: test-uart, port: 0x3fc }\n` + boot)).toBe(
      'm.yaml:4:34: com2 claims I/O ports 0x3fc-0x403, which overlaps 0x3f8-0x3ff already claimed by com1; give "com2" a range no other device uses',
    );
  });
});

describe('kernel', () => {
  it('missing file', async () => {
    expect(await err(pic + `boot:\n  kernel: nothere.elf\n`)).toBe(
      `m.yaml:4:11: cannot read kernel "nothere.elf" (${k.dir}/nothere.elf): ENOENT; build it (make -C guest) or fix the path`,
    );
  });

  it('none given', async () => {
    expect(await err(pic)).toBe('m.yaml:1:1: no kernel to boot; set boot.kernel (a multiboot ELF, relative to this file) or pass --kernel');
  });

  it('not a multiboot kernel', async () => {
    expect(await err(pic + `boot:\n  kernel: probe.c\n`)).toBe(
      'm.yaml:4:11: kernel "probe.c": no multiboot header in the first 8192 bytes; a multiboot 1 kernel carries the magic 0x1badb002, its flags and a checksum making the sum zero, 4-byte aligned',
    );
  });

  it('ELF64 without the a.out kludge', async () => {
    expect(await err(pic + `boot:\n  kernel: probe64-nokludge.elf\n`)).toMatch(
      /^m\.yaml:4:11: kernel "probe64-nokludge\.elf": ELF64 kernel whose multiboot header has no load addresses \(flag bit 16, the a\.out kludge\)/,
    );
  });

  it('--kernel names the argument instead of a YAML position', async () => {
    expect(await err(pic + boot, { kernel: '/nonexistent.elf' })).toBe(
      '--kernel /nonexistent.elf: cannot read kernel "/nonexistent.elf" (/nonexistent.elf): ENOENT; build it (make -C guest) or fix the path',
    );
  });
});

describe('--set overrides', () => {
  it('replace YAML values, read as YAML', async () => {
    expect(await err(pic + `  com1: { type: test-uart }\n  com2: { type: test-uart, port: 0x2f8 }\n` + boot, { assignments: ['devices.com2.port=0x3f8'] })).toBe(
      '--set devices.com2.port=0x3f8: com2 claims I/O ports 0x3f8-0x3ff, which overlaps 0x3f8-0x3ff already claimed by com1; give "com2" a range no other device uses',
    );
  });

  it('a bad value names the --set argument', async () => {
    expect(await err(pic + boot, { assignments: ['memory=12 apples'] })).toBe(
      '--set memory=12 apples: memory: "12 apples" is not a size; write a byte count or a number with a unit, e.g. 64KiB, 128MiB, 1GiB',
    );
  });
});

describe('plugins', () => {
  it('a missing plugin path', async () => {
    expect(await err(`plugins: [./nope]\n` + pic + boot)).toBe(`m.yaml:1:11: plugin "./nope" not found: ${k.dir}/nope does not exist`);
  });
});
