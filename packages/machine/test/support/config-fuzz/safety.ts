// What a case may touch: files inside the workspace (and reading /dev/null, /dev/zero, /dev/full),
// network only on loopback, plugins only from the workspace or the demo fixture. A case that
// could do more (write a file elsewhere, open a tap, resolve a host name, import an installed
// package) is skipped, never run. Judged on the configuration the CLI would see: the machine
// file with every --set applied, read by the project's own YamlSource.
import path from 'node:path';
import { DEFAULT_MACHINE_YAML } from '../../../src/default-machine.js';
import { YamlSource } from '../../../src/yaml-source.js';
import type { ConfigFuzzCase } from './cases.js';

const READABLE_DEVICES = new Set(['/dev/null', '/dev/zero', '/dev/full']);
const ALLOWED_PACKAGES = new Set(['unimachine-plugin-demo']);
const LOOPBACK = /^127\.0\.0\.1:\d+$/;
/** Words a configuration that writes files, opens sockets or loads code must contain (or spell with an escape). */
const MIGHT_REACH_OUT = /file|path|image|pcap|tap|udp|plugin|\\/;

function inside(dir: string, base: string, p: string): boolean {
  const full = path.resolve(base, p);
  return full === dir || full.startsWith(dir + path.sep) || READABLE_DEVICES.has(full);
}

/** Why a configuration (parsed machine file) is unsafe, or undefined when it is safe. */
function unsafeConfig(data: unknown, dir: string): string | undefined {
  let problem: string | undefined;
  const seen = new Set<object>(); // a recursive alias makes a value that contains itself
  const walk = (v: unknown, key: string, parent: Record<string, unknown> | undefined) => {
    if (problem) return;
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return;
      seen.add(v);
    }
    if (typeof v === 'string') {
      const s = v.trim();
      if (s.startsWith('file:') && !inside(dir, dir, s.slice(5))) problem = `console ${s}`;
      if ((key === 'path' || key === 'image' || key === 'pcap') && !inside(dir, dir, s)) problem = `${key} ${s}`;
      if (key === 'type' && s === 'tap') problem = 'a tap backend';
      if (key === 'type' && s === 'udp' && !(LOOPBACK.test(String(parent?.local)) && LOOPBACK.test(String(parent?.remote)))) problem = 'udp off loopback';
      return;
    }
    if (Array.isArray(v)) v.forEach((x) => walk(x, key, undefined));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k, v as Record<string, unknown>);
  };
  walk(data, '', undefined);
  const plugins = (data as { plugins?: unknown } | null)?.plugins;
  for (const p of Array.isArray(plugins) ? plugins : []) {
    if (typeof p !== 'string') continue;
    const relative = p.startsWith('./') || p.startsWith('../') || path.isAbsolute(p);
    if (relative ? !inside(dir, dir, p) : !ALLOWED_PACKAGES.has(p)) problem ??= `plugin ${p}`;
  }
  return problem;
}

/** The configuration the CLI would build from `yaml` and the case's --set values, or undefined when it refuses earlier. */
function effectiveConfig(yaml: string, sets: string[]): unknown {
  try {
    const source = new YamlSource(yaml, 'case.yaml');
    for (const s of sets) source.setAssignment(s);
    return source.toJS();
  } catch {
    return undefined; // the CLI stops at the same place, before any device or plugin exists
  }
}

function optionValues(argv: string[], name: string): string[] {
  const out: string[] = [];
  argv.forEach((a, i) => {
    if (a === name && i + 1 < argv.length) out.push(argv[i + 1]);
    else if (a.startsWith(`${name}=`)) out.push(a.slice(name.length + 1));
  });
  return out;
}

/**
 * Why this case must not run here, or undefined. `argv` has the workspace already substituted;
 * the worker's current directory is the workspace (the CLI resolves option paths from there).
 */
export function unsafeCase(c: ConfigFuzzCase, argv: string[], fileText: string | undefined, dir: string): string | undefined {
  const sets = optionValues(argv, '--set');
  for (const yaml of [fileText, DEFAULT_MACHINE_YAML]) {
    // Most cases name nothing that reaches out: parse only those that might (escapes included).
    if (yaml === undefined || ![yaml.replace(/^\s*#.*$/gm, ''), ...sets].some((t) => MIGHT_REACH_OUT.test(t))) continue;
    const problem = unsafeConfig(effectiveConfig(yaml, sets), dir);
    if (problem) return problem;
  }
  for (const spec of optionValues(argv, '--disk')) {
    if (!inside(dir, dir, spec.split(',')[0])) return `--disk ${spec}`;
  }
  for (const spec of optionValues(argv, '--net')) {
    const [what, ...opts] = spec.split(',');
    if (/^tap:./.test(what)) return '--net tap';
    const udp = what.startsWith('udp:') ? what.slice(4).split(':') : [];
    if (udp.length === 4 && !(udp[0] === '127.0.0.1' && udp[2] === '127.0.0.1')) return `--net ${what}`; // two fields: ports on 127.0.0.1
    for (const o of opts) if (o.startsWith('pcap=') && !inside(dir, dir, o.slice(5))) return `--net ${spec}`;
  }
  return undefined;
}
