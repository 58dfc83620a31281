import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { chipsetPlugins } from '../src/index.js';

const byType = Object.fromEntries(chipsetPlugins.map((p) => [p.type, p]));
const compile = (type: string) => new Ajv({ strict: false, useDefaults: true }).compile(byType[type].schema);

describe('chipset plugin schemas', () => {
  it('provides the four YAML types with defaults filled in as documented', () => {
    expect(Object.keys(byType).sort()).toEqual(['i8254', 'isa-debug-exit', 'mc146818', 'pc-reset']);
    const exit: Record<string, unknown> = {};
    expect(compile('isa-debug-exit')(exit)).toBe(true);
    expect(exit).toEqual({ port: 0x501, iosize: 2 });
    const pit: Record<string, unknown> = {};
    expect(compile('i8254')(pit)).toBe(true);
    expect(pit).toEqual({ irq: 'pic.0' });
    const rtc: Record<string, unknown> = {};
    expect(compile('mc146818')(rtc)).toBe(true);
    expect(rtc).toEqual({ irq: 'pic.8', base: 'utc' });
    const reset: Record<string, unknown> = {};
    expect(compile('pc-reset')(reset)).toBe(true);
    expect(reset).toEqual({ cf9: true, port92: true, keyboardController: true });
  });

  it('rejects malformed properties', () => {
    expect(compile('isa-debug-exit')({ port: 0x10000 })).toBe(false);
    expect(compile('isa-debug-exit')({ iosize: 8 })).toBe(false);
    expect(compile('i8254')({ irq: 'pic' })).toBe(false);
    expect(compile('mc146818')({ base: 'mars' })).toBe(false);
    expect(compile('mc146818')({ base: '2026-13-01' })).toBe(false);
    expect(compile('mc146818')({ epoch: '2026-01-01' })).toBe(false); // folded into base
    expect(compile('mc146818')({ base: '2026-01-01T00:00:00Z' })).toBe(true);
    expect(compile('pc-reset')({ reboot: true })).toBe(false);
  });
});
