import path from 'node:path';
import type { DevicePlugin } from '@unimachine/core';
import { builtinPlugins } from './builtins.js';
import { loadListedPlugins } from './plugins.js';
import { YamlSource } from './yaml-source.js';

/** Built-in device types plus those of the plugins a machine description lists (for `devices` and `schema`). */
export async function knownPlugins(machineFile?: string): Promise<DevicePlugin[]> {
  const plugins = builtinPlugins();
  if (!machineFile) return plugins;
  const source = YamlSource.fromFile(machineFile);
  for (const listed of await loadListedPlugins(source, path.dirname(path.resolve(machineFile)))) plugins.push(...listed.plugins);
  return plugins;
}

/** `unimachine devices`: every device type with its properties, types, defaults and descriptions. */
export function describeDevices(plugins: readonly DevicePlugin[]): string {
  const out: string[] = [];
  for (const p of [...plugins].sort((a, b) => a.type.localeCompare(b.type))) {
    out.push(`${p.type}  ${p.description}`);
    const s = p.schema as { properties?: Record<string, Record<string, any>>; required?: string[] };
    const required = new Set(s.required ?? []);
    for (const [name, prop] of Object.entries(s.properties ?? {})) {
      const bits = [typeName(prop)];
      if (required.has(name)) bits.push('required');
      if (prop.default !== undefined) bits.push(`default ${formatDefault(name, prop.default)}`);
      out.push(`    ${name} (${bits.join(', ')})${prop.description ? `: ${prop.description}` : ''}`);
    }
    if (!s.properties || Object.keys(s.properties).length === 0) out.push('    (no properties)');
    out.push('');
  }
  return out.join('\n');
}

function typeName(s: Record<string, any>): string {
  if (s['x-unimachine-ref'] === 'irq') return 'irq ref';
  if (s['x-unimachine-ref'] === 'device') return 'device ref';
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v: unknown) => JSON.stringify(v)).join(' | ');
  const branches = s.anyOf ?? s.oneOf;
  if (Array.isArray(branches)) return [...new Set(branches.map(typeName))].join(' | ');
  if (s.type === 'object' && s.properties) return `{ ${Object.keys(s.properties).join(', ')} }`;
  return String(s.type ?? 'any');
}

function formatDefault(name: string, v: unknown): string {
  if (typeof v === 'number' && /port|addr|base/i.test(name)) return '0x' + v.toString(16);
  return JSON.stringify(v);
}
