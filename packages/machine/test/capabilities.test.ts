// The builder's typed references and backends: a reference names the capability it needs, a
// backend property names a backend plugin of its kind, and both are checked at validation with
// file:line:col; host sources hold a halted machine open and wake it.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BackendSpec, Capability, CapabilityRef, defineBackend, defineDevice, Type,
  type BlockBackend, type DevicePlugin, type HostActivity,
} from '@unimachine/core';
import { createMachine, TOKENS } from '../src/index.js';
import { buildError } from './support/harness.js';
import { buildKernels, type BuiltKernels } from './support/kernels.js';
import { testDevices } from './support/test-devices.js';
import { ScriptedCpu } from './support/fake-cpu.js';

/** A bus that says it is a PCI bus, and a card that needs one plus a block backend. */
const fakePciBus = defineDevice({
  type: 'fake-pci',
  description: 'provides pci-bus',
  schema: Type.Object({}),
  provides: [Capability.pciBus],
  create: () => ({ cards: [] as string[], reset() {} }),
});

const fakeDisk = defineDevice({
  type: 'fake-disk',
  description: 'needs a pci-bus and a block backend',
  schema: Type.Object({
    bus: Type.Optional({ ...CapabilityRef(Capability.pciBus), default: 'pci' }),
    backend: BackendSpec('block'),
  }),
  async create(ctx, props) {
    ctx.capability<{ cards: string[] }>(Capability.pciBus, props.bus!).cards.push(ctx.id);
    const backend = await ctx.backend<BlockBackend>('backend');
    return { backend, reset() {} };
  },
});

const disposed: string[] = [];
const ramBackend = defineBackend({
  kind: 'block',
  type: 'ram',
  description: 'a RAM disk',
  schema: Type.Object({ sectors: Type.Integer({ minimum: 1, description: 'size in 512-byte sectors' }), label: Type.Optional(Type.String()) }),
  create(ctx, props) {
    if (props.label === 'refuse') ctx.fail('label "refuse" is refused; pick another label', 'label');
    const bytes = new Uint8Array(props.sectors * 512);
    return {
      size: bytes.length, readOnly: false, serial: ctx.owner,
      read: (o: number, t: Uint8Array) => t.set(bytes.subarray(o, o + t.length)),
      write: (o: number, d: Uint8Array) => bytes.set(d, o),
      flush: () => {},
      dispose: () => void disposed.push(ctx.owner),
    };
  },
});

const plugins = [...testDevices, fakePciBus, fakeDisk] as DevicePlugin[];
let k: BuiltKernels;
beforeAll(() => {
  k = buildKernels();
});
const boot = () => `boot:\n  kernel: ${k.elf32}\n`;
const check = (yaml: string) => buildError(yaml + boot(), k.dir, { plugins, backends: [ramBackend] });

describe('capability references', () => {
  it('resolves a reference to a device that provides the capability through the container', async () => {
    const m = await createMachine(
      { yaml: `devices:\n  pci: { type: fake-pci }\n  d0: { type: fake-disk, backend: { type: ram, sectors: 8 } }\n` + boot(), baseDir: k.dir, file: 'm.yaml' },
      { builtins: false, plugins, backends: [ramBackend], validateOnly: true },
    );
    expect(m.device<{ cards: string[] }>('pci').cards).toEqual(['d0']);
    expect(m.container.resolve('capability:pci-bus:pci')).toBe(m.device('pci'));
    expect(m.device<{ backend: BlockBackend }>('d0').backend.size).toBe(4096);
    expect(m.container.resolve<BlockBackend>('backend:d0.backend')).toBe(m.device<{ backend: BlockBackend }>('d0').backend);
    // The test API reads the disk through the backend, as the guest left it.
    m.device<{ backend: BlockBackend }>('d0').backend.write(512, new TextEncoder().encode('sector one'));
    expect(new TextDecoder().decode(m.disk('d0').read(512, 10))).toBe('sector one');
    expect(m.disk('d0').bytes().length).toBe(4096);
    expect(() => m.disk('pci')).toThrow(/has no block backend/);
    await m.dispose();
    expect(disposed).toContain('d0');
  });

  it('bus: com1 is a file:line:col error naming what is needed and who offers it', async () => {
    expect(await check(`devices:\n  pci: { type: fake-pci }\n  com1: { type: test-uart }\n  d0: { type: fake-disk, bus: com1, backend: { type: ram, sectors: 8 } }\n`)).toBe(
      'm.yaml:4:31: "com1" is a test-uart, which is not a pci-bus; bus of fake-disk needs a device that provides pci-bus (here: pci)',
    );
  });

  it('a default reference with no such device names the default', async () => {
    expect(await check(`devices:\n  d0: { type: fake-disk, backend: { type: ram, sectors: 8 } }\n`)).toMatch(
      /^m\.yaml:2:7: "pci" \(the default bus of fake-disk\) refers to device "pci", which does not exist/,
    );
  });
});

describe('backends', () => {
  const disk = (backend: string) => `devices:\n  pci: { type: fake-pci }\n  d0: { type: fake-disk, backend: ${backend} }\n`;

  it('an unknown backend type suggests the closest known one', async () => {
    expect(await check(disk('{ type: rma, sectors: 8 }'))).toBe('m.yaml:3:43: unknown block backend type "rma"; did you mean "ram"? known block backends: ram');
  });

  it("checks the backend's own schema at the property's position", async () => {
    expect(await check(disk('{ type: ram, sectors: 0 }'))).toMatch(/^m\.yaml:3:57: devices\.d0\.backend\.sectors: 0 is out of range/);
    expect(await check(disk('{ type: ram, sectors: 8, sectorz: 8 }'))).toMatch(/^m\.yaml:3:60: unknown property "sectorz"/);
  });

  it('ctx.fail() reports at the named property of the backend', async () => {
    expect(await check(disk('{ type: ram, sectors: 8, label: refuse }'))).toBe('m.yaml:3:67: label "refuse" is refused; pick another label');
  });
});

describe('host activity', () => {
  const yaml = `devices:\n  pic: { type: test-pic }\n` + `boot:\n  kernel: probe32.elf\n`;

  it('a held machine waits while halted and runs again when a host source wakes it', async () => {
    let halts = 0;
    const m = await createMachine({ yaml, baseDir: k.dir, file: 'm.yaml' }, {
      builtins: false,
      plugins,
      cpu: (s) => new ScriptedCpu(s, () => (++halts === 3 ? 'dead' : { retired: 10, exit: 'halted' })),
    });
    const host = m.container.resolve<HostActivity>(TOKENS.host);
    const hold = host.hold('test socket');
    const waking = setInterval(() => host.wake(), 5);
    const result = await m.run({ timeoutMs: 5000 });
    clearInterval(waking);
    hold.release();
    expect(halts).toBe(3);
    expect(result.end).toBe('dead');
    await m.dispose();
  });

  it('with nothing held, a halted machine with no timer is idle at once', async () => {
    const m = await createMachine({ yaml, baseDir: k.dir, file: 'm.yaml' }, {
      builtins: false, plugins, cpu: (s) => new ScriptedCpu(s, () => ({ retired: 10, exit: 'halted' })),
    });
    expect((await m.run({ timeoutMs: 5000 })).end).toBe('idle');
    await m.dispose();
  });
});
