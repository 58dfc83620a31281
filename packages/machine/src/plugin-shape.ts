import type { BackendPlugin, DevicePlugin } from '@unimachine/core';

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
  return collect(mod, isDevicePlugin, [mod.devicePlugins, mod.default], opts.scanExports);
}

export function isBackendPlugin(x: unknown): x is BackendPlugin {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as Partial<BackendPlugin>;
  return (p.kind === 'block' || p.kind === 'net') && typeof p.type === 'string' && typeof p.create === 'function' && typeof p.schema === 'object';
}

/** The backend plugins a module provides: `export const backendPlugins = [...]` (or any exported backend with scanExports). */
export function backendPluginsInModule(mod: Record<string, unknown>, opts: { scanExports?: boolean } = {}): BackendPlugin[] {
  return collect(mod, isBackendPlugin, [mod.backendPlugins], opts.scanExports);
}

/** Plugins found in `places` (a plugin or a list of them each), then in every export when scanning. */
function collect<T>(mod: Record<string, unknown>, is: (x: unknown) => x is T, places: unknown[], scanExports = false): T[] {
  const found = new Set<T>();
  const take = (v: unknown) => {
    if (Array.isArray(v)) v.filter(is).forEach((p) => found.add(p));
    else if (is(v)) found.add(v);
  };
  places.forEach(take);
  if (scanExports) Object.values(mod).forEach(take);
  return [...found];
}
