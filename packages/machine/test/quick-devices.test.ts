// --disk and --net: virtio devices added in command-line order in the next free PCI slots,
// behind bridges once bus 0 is full; bad flags name the flag.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PciHost } from '@unimachine/pci';
import { createMachine } from '../src/index.js';
import { root as ROOT } from './support/paths.js';

const MACHINE = path.join(ROOT, 'machines/solo5-virtio.yaml');
const KERNEL = path.join(ROOT, 'guest/build/hello.elf');
let dir: string;
let img: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'unimachine-quick-'));
  img = path.join(dir, 'disk.img');
  writeFileSync(img, Buffer.alloc(64 * 1024));
});

const build = (disks: string[], nets: string[] = []) => createMachine(MACHINE, { kernel: KERNEL, disks, nets, validateOnly: true });
const error = async (disks: string[], nets: string[] = []) => {
  try {
    await (await build(disks, nets)).dispose();
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
};

describe('--disk and --net', () => {
  it('adds virtio devices from slot 2 in command-line order, disks first', async () => {
    const m = await build([img, `${img},snapshot`], ['hub:quick-test-lan']);
    const pci = m.device<PciHost>('pci');
    const ids = [2, 3, 4].map((slot) => pci.functionAt(slot)?.config.get16(2));
    expect(ids).toEqual([0x1001, 0x1001, 0x1000]);
    expect(m.disk('disk0').size).toBe(64 * 1024);
    await m.dispose();
  });

  it('puts devices behind a bridge once bus 0 is full, and every one is found', async () => {
    const m = await build(Array.from({ length: 40 }, () => `${img},readonly`));
    const pci = m.device<PciHost>('pci');
    const disks = pci.listFunctions().filter((f) => f.device.config.get16(2) === 0x1001);
    expect(disks.length).toBe(40);
    expect(new Set(disks.map((f) => f.bus))).toEqual(new Set([0, 1]));
    await m.dispose();
  });

  it('names the flag when it is wrong', async () => {
    expect(await error([`${img},fast`])).toBe(`--disk ${img},fast: unknown disk option "fast"; expected readonly or snapshot`);
    expect(await error([], ['carrier-pigeon:1'])).toBe('--net carrier-pigeon:1: unknown network "carrier-pigeon"; expected tap:IFNAME, hub:NAME or udp:LOCAL:REMOTE');
    expect(await error([], ['udp:5000'])).toMatch(/^--net udp:5000: expected udp:LOCALPORT:REMOTEPORT/);
    expect(await error([path.join(dir, 'missing.img')])).toMatch(/^--disk .*missing\.img: .*missing\.img/);
  });
});
