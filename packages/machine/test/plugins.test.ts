import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pluginsInModule } from '../src/index.js';
import { buildKernels, type BuiltKernels } from './support/kernels.js';
import { buildError } from './support/harness.js';
import { testExit, testPic } from './support/test-devices.js';

describe('plugin module shapes', () => {
  it('accepts devicePlugins, a default list and a default plugin', () => {
    expect(pluginsInModule({ devicePlugins: [testPic, testExit] })).toEqual([testPic, testExit]);
    expect(pluginsInModule({ default: [testPic] })).toEqual([testPic]);
    expect(pluginsInModule({ default: testExit })).toEqual([testExit]);
    expect(pluginsInModule({ somethingElse: testPic })).toEqual([]);
    expect(pluginsInModule({ somethingElse: testPic }, { scanExports: true })).toEqual([testPic]);
  });
});

describe('plugins: in YAML', () => {
  let k: BuiltKernels;
  let dir: string;
  beforeAll(() => {
    k = buildKernels();
    dir = mkdtempSync(path.join(tmpdir(), 'unimachine-plugins-'));
    writeFileSync(path.join(dir, 'empty.mjs'), 'export const nothing = 1;\n');
    writeFileSync(path.join(dir, 'clash.mjs'), "export default { type: 'test-pic', description: 'x', schema: { type: 'object' }, create() { return {}; } };\n");
    writeFileSync(path.join(dir, 'throws.mjs'), "throw new Error('plugin exploded');\n");
  });
  const boot = () => `boot:\n  kernel: ${k.elf32}\n`;

  it('a module exporting no device plugin', async () => {
    expect(await buildError(`plugins: [./empty.mjs]\n` + boot(), dir)).toBe(
      'm.yaml:1:11: plugin "./empty.mjs" exports no device or backend plugins; export const devicePlugins = [defineDevice({ type, description, schema, create })]' +
        ' or backendPlugins = [defineBackend({ kind, type, description, schema, create })]',
    );
  });

  it('a plugin redefining a known type', async () => {
    expect(await buildError(`plugins: [./clash.mjs]\n` + boot(), dir)).toBe(
      'm.yaml:1:11: plugin "./clash.mjs" defines device type "test-pic", which is already defined; rename the type',
    );
  });

  it('a plugin that fails to load', async () => {
    expect(await buildError(`plugins: [./throws.mjs]\n` + boot(), dir)).toBe(
      `m.yaml:1:11: plugin "./throws.mjs" (${dir}/throws.mjs) failed to load: plugin exploded`,
    );
  });

  it('an npm package that is not installed', async () => {
    expect(await buildError(`plugins: [unimachine-plugin-nope]\n` + boot(), dir)).toBe(
      `m.yaml:1:11: plugin "unimachine-plugin-nope" not found from ${dir}; install it (npm install unimachine-plugin-nope) or give a path starting with ./ or ../`,
    );
  });
});
