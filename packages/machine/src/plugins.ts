import { createRequire } from 'node:module';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import type { BackendPlugin, DevicePlugin } from '@unimachine/core';
import { backendPluginsInModule, pluginsInModule } from './plugin-shape.js';
import type { YamlSource } from './yaml-source.js';

/**
 * The bundled CLI is compiled with vm.Script (fast-start.ts), where import() needs an experimental
 * option that prints a warning; the launcher passes its own import() in instead.
 */
declare const __unimachineImport: ((url: string) => Promise<unknown>) | undefined;
const importModule: (url: string) => Promise<unknown> = typeof __unimachineImport === 'function' ? __unimachineImport : (url) => import(url);

/** Thrown with a one-line reason; the builder adds the YAML position. */
export class PluginLoadError extends Error {}

export interface ListedPlugin {
  spec: string;
  /** Index in the YAML `plugins:` list, for error positions. */
  index: number;
  plugins: DevicePlugin[];
  backends: BackendPlugin[];
}

/** Load every `plugins:` entry of a description; failures are reported at the entry's position. */
export async function loadListedPlugins(source: YamlSource, baseDir: string): Promise<ListedPlugin[]> {
  const listed = source.toJS().plugins;
  if (!Array.isArray(listed)) return [];
  const out: ListedPlugin[] = [];
  for (let index = 0; index < listed.length; index++) {
    const spec = listed[index];
    if (typeof spec !== 'string') continue; // the schema check reports it
    try {
      out.push({ spec, index, ...(await loadPluginModule(spec, baseDir)) });
    } catch (e) {
      if (e instanceof PluginLoadError) throw source.error(e.message, ['plugins', index]);
      throw e;
    }
  }
  return out;
}

/**
 * Load a `plugins:` entry. Relative paths (./, ../) and absolute paths are taken from the YAML
 * file's folder; package names are looked up from the YAML's folder first, then from the
 * current directory and this package's own install (so a workspace-linked plugin is found).
 */
export async function loadPluginModule(spec: string, baseDir: string): Promise<{ plugins: DevicePlugin[]; backends: BackendPlugin[] }> {
  const file = resolvePlugin(spec, baseDir);
  let mod: Record<string, unknown>;
  try {
    mod = (await importModule(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new PluginLoadError(`plugin "${spec}" (${file}) failed to load: ${(e as Error).message.split('\n')[0]}`);
  }
  const plugins = pluginsInModule(mod);
  const backends = backendPluginsInModule(mod);
  if (plugins.length === 0 && backends.length === 0) {
    throw new PluginLoadError(
      `plugin "${spec}" exports no device or backend plugins; export const devicePlugins = [defineDevice({ type, description, schema, create })]` +
        ` or backendPlugins = [defineBackend({ kind, type, description, schema, create })]`,
    );
  }
  return { plugins, backends };
}

function resolvePlugin(spec: string, baseDir: string): string {
  if (spec.startsWith('./') || spec.startsWith('../') || path.isAbsolute(spec)) {
    const target = path.resolve(baseDir, spec);
    if (!existsSync(target)) throw new PluginLoadError(`plugin "${spec}" not found: ${target} does not exist`);
    const stats = statSync(target);
    if (stats.isDirectory()) return packageEntry(target, spec);
    // Importing a FIFO or /dev/zero would wait, or read, forever.
    if (!stats.isFile()) throw new PluginLoadError(`plugin "${spec}" (${target}) is not a regular file; give a JavaScript module or a package folder`);
    return target;
  }
  const searchFrom = [baseDir, process.cwd(), path.dirname(fileURLToPath(import.meta.url))];
  for (const from of searchFrom) {
    const dir = packageDir(spec, from);
    if (dir) return packageEntry(dir, spec);
  }
  throw new PluginLoadError(
    `plugin "${spec}" not found from ${baseDir}; install it (npm install ${spec}) or give a path starting with ./ or ../`,
  );
}

/** The folder of package `name` as Node would find it from `from` (node_modules up the tree). */
function packageDir(name: string, from: string): string | undefined {
  const require = createRequire(path.join(from, 'noop.js'));
  for (const dir of require.resolve.paths(name) ?? []) {
    const candidate = path.join(dir, name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
  }
  return undefined;
}

/** The ESM entry of a package folder: exports["."] (import/default), then module, main, index.js. */
function packageEntry(dir: string, spec: string): string {
  const pkgFile = path.join(dir, 'package.json');
  let entry = 'index.js';
  if (existsSync(pkgFile)) {
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as Record<string, any>;
    entry = exportTarget(pkg.exports) ?? pkg.module ?? pkg.main ?? 'index.js';
  }
  const file = path.resolve(dir, entry);
  if (!existsSync(file)) throw new PluginLoadError(`plugin "${spec}": entry ${file} does not exist`);
  if (!statSync(file).isFile()) throw new PluginLoadError(`plugin "${spec}": entry ${file} is not a regular file`);
  // As Node does: a linked package runs from its real location, so its own imports resolve there.
  return realpathSync(file);
}

function exportTarget(exp: unknown): string | undefined {
  if (typeof exp === 'string') return exp;
  if (typeof exp !== 'object' || exp === null) return undefined;
  const e = exp as Record<string, unknown>;
  if ('.' in e) return exportTarget(e['.']);
  for (const cond of ['import', 'node', 'default']) if (cond in e) return exportTarget(e[cond]);
  return undefined;
}
