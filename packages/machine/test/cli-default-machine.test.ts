// The built-in machine (`unimachine run --kernel app.virtio` with no YAML) is
// machines/solo5-virtio.yaml embedded as text: the two must describe the same PC.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createMachine } from '../src/create.js';
import { DEFAULT_MACHINE_YAML, defaultMachine } from '../src/default-machine.js';
import { ensureGuests, guestBuild, machines } from './support/paths.js';

describe('the built-in default machine', () => {
  it('is machines/solo5-virtio.yaml without its kernel (update src/default-machine.ts with that file)', () => {
    const file = parse(readFileSync(path.join(machines, 'solo5-virtio.yaml'), 'utf8')) as { boot?: { kernel?: string } };
    delete file.boot?.kernel;
    expect(parse(DEFAULT_MACHINE_YAML)).toEqual(file);
  });

  it('builds from any directory, with no kernel of its own, and boots the one it is given', async () => {
    ensureGuests('hello.elf');
    const bootLine = DEFAULT_MACHINE_YAML.split('\n').indexOf('boot:') + 1;
    await expect(createMachine(defaultMachine('/'), { validateOnly: true })).rejects.toThrow(
      `(built-in solo5-virtio machine):${bootLine + 1}:3: no kernel to boot; set boot.kernel (a multiboot ELF, relative to this file) or pass --kernel`,
    );
    const m = await createMachine(defaultMachine('/'), { kernel: path.join(guestBuild, 'hello.elf'), append: 'x' });
    try {
      expect(await m.run({ timeoutMs: 30_000 })).toEqual({ end: 'exit', exitCode: 1 });
      expect(m.console('com1').text()).toBe('Hello from Unimachine!\ncmdline: x\n');
      expect(m.memory.size).toBe(128 * 1024 * 1024);
    } finally {
      await m.dispose();
    }
  });
});
