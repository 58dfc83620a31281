import type { DevicePlugin } from '@unimachine/core';

export function isDevicePlugin(x: unknown): x is DevicePlugin {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as Partial<DevicePlugin>;
  return typeof p.type === 'string' && typeof p.create === 'function' && typeof p.schema === 'object' && p.schema !== null;
}

/**
 * The device plugins a module provides. Accepted shapes, preferred first:
 * `export const devicePlugins = [...]`, `export default [...]`, `export default plugin`.
 * `scanExports` also takes every exported value shaped like a plugin (used for built-in packages).
 */
export function pluginsInModule(mod: Record<string, unknown>, opts: { scanExports?: boolean } = {}): DevicePlugin[] {
  const found = new Set<DevicePlugin>();
  const take = (v: unknown) => {
    if (Array.isArray(v)) v.filter(isDevicePlugin).forEach((p) => found.add(p));
    else if (isDevicePlugin(v)) found.add(v);
  };
  take(mod.devicePlugins);
  take(mod.default);
  if (opts.scanExports) Object.values(mod).forEach(take);
  return [...found];
}
