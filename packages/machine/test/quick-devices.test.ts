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
    const m = await build([img, `${img},snapshot`], ['hub:quick-test-lan,mac=02:00:00:00:00:07']);
    const pci = m.device<PciHost>('pci');
    const ids = [2, 3, 4].map((slot) => pci.functionAt(slot)?.config.get16(2));
    expect(ids).toEqual([0x1001, 0x1001, 0x1000]);
    expect(m.disk('disk0').size).toBe(64 * 1024);
    // The MAC in the net device's legacy config space (I/O BAR 0 + 0x14), as the guest reads it.
    const io = pci.functionAt(4)!.barAddress(0)!;
    expect([0, 1, 2, 3, 4, 5].map((i) => m.ports.read(io + 0x14 + i, 1))).toEqual([2, 0, 0, 0, 0, 7]);
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
    expect(await error([], ['hub:x,colour=red'])).toBe('--net hub:x,colour=red: unknown network option "colour=red"; expected pcap=FILE or mac=52:54:00:12:34:56');
    expect(await error([], ['hub:x,mac=nonsense'])).toMatch(/^--net hub:x,mac=nonsense: .*mac/);
    expect(await error([], ['udp:5000'])).toMatch(/^--net udp:5000: expected udp:LOCALPORT:REMOTEPORT/);
    expect(await error([path.join(dir, 'missing.img')])).toMatch(/^--disk .*missing\.img: .*missing\.img/);
  });
});
