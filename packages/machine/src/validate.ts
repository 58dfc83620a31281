import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import {
  BACKEND_KEYWORD, CAPABILITY_KEYWORD, MAX_GUEST_MEMORY, parseByteSize, REF_KEYWORD, SIZE_PATTERN, type BackendKind, type BackendPlugin, type DevicePlugin,
} from '@unimachine/core';
import { didYouMean } from './edit-distance.js';
import { checkProcessorCount } from './smp-settings.js';
import { DEVICE_ID_PATTERN, MachineSchema, type MachineYaml } from './machine-schema.js';
import type { PathSegment, YamlSource } from './yaml-source.js';

/** A reference found in a device's properties (a property whose schema carries x-unimachine-ref). */
export interface DeviceReference {
  kind: 'irq' | 'device';
  value: string;
  /** The referenced device id (`pic` for `pic.4`). */
  target: string;
  path: PathSegment[];
  /** What the target must provide (`pci-bus` for `bus: pci`), from the schema's x-unimachine-capability. */
  capability?: string;
}

/** A device property holding a backend (`backend: { type: file, path: disk.img }`), validated against its plugin. */
export interface ValidatedBackend {
  kind: BackendKind;
  plugin: BackendPlugin;
  /** The backend's properties without `type`, defaults filled in. */
  props: Record<string, unknown>;
  path: PathSegment[];
}

/** Backend plugins by `${kind}:${type}`. */
export type BackendRegistry = ReadonlyMap<string, BackendPlugin>;

export function backendKey(kind: BackendKind, type: string): string {
  return `${kind}:${type}`;
}

export interface ValidatedDevice {
  id: string;
  plugin: DevicePlugin;
  /** The properties without `type`, defaults filled in from the schema. */
  props: Record<string, unknown>;
  references: DeviceReference[];
  /** Backends by property name (`backend`). */
  backends: Map<string, ValidatedBackend>;
}

export interface ValidatedMachine {
  yaml: MachineYaml;
  memoryBytes: number;
  devices: ValidatedDevice[];
}

const MIN_MEMORY = 2 * 1024 * 1024;
/** 4 GiB less the CPUs' host area (core's MAX_GUEST_MEMORY, 4088 MiB). */
const MAX_MEMORY = MAX_GUEST_MEMORY;

/** One compiled schema: ajv's ValidateFunction shape (a precompiled one has the same). */
type Validator = ValidateFunction;

/**
 * ajv options shared by run-time compilation and the build-time precompilation
 * (scripts/precompile-validators.mjs), so both validate and report alike.
 * validateSchema: false skips compiling the JSON Schema meta-schema (about 65 ms of start-up);
 * the data validated is a few dozen values, so unoptimised generated code is fast enough.
 */
export const AJV_OPTIONS = { allErrors: false, strict: false, useDefaults: true, verbose: true, validateSchema: false, code: { optimize: false } } as const;

let ajvInstance: Ajv | undefined;
async function ajv(): Promise<Ajv> {
  // Loaded only when a schema was not precompiled (a plugin's, or any under vitest / tsc output).
  const { Ajv } = await import('ajv');
  return (ajvInstance ??= new Ajv(AJV_OPTIONS));
}

/** Validators generated at build time (the bundled CLI), by schemaKey of the schema they check. */
const precompiled = new Map<string, Validator>();

/** The bundled CLI registers the validators scripts/precompile-validators.mjs generated. */
export function registerPrecompiledValidators(byKey: ReadonlyMap<string, Validator>): void {
  for (const [k, v] of byKey) precompiled.set(k, v);
}

/** Identifies a schema by content: a precompiled validator is used only for exactly the schema it was made from. */
export function schemaKey(schema: object): string {
  return JSON.stringify(closedObject(schema));
}

const compiled = new WeakMap<object, Validator>();
async function validatorFor(schema: object): Promise<Validator> {
  let v = compiled.get(schema);
  if (!v) {
    v = (precompiled.size ? precompiled.get(schemaKey(schema)) : undefined) ?? (await ajv()).compile(closedObject(schema));
    compiled.set(schema, v);
  }
  return v;
}

/** A device schema that says nothing about extra properties gets them refused: a typo should not pass silently. */
export function closedObject(schema: object): object {
  const s = schema as { type?: unknown; additionalProperties?: unknown };
  return s.type === 'object' && s.additionalProperties === undefined ? { ...s, additionalProperties: false } : s;
}

export async function validateMachine(
  source: YamlSource,
  plugins: ReadonlyMap<string, DevicePlugin>,
  backendPlugins: BackendRegistry = new Map(),
): Promise<ValidatedMachine> {
  const data = source.toJS();
  const check = await validatorFor(MachineSchema);
  if (!check(data)) throw explain(check.errors!, data, MachineSchema, [], source, 'the machine');
  const yaml = data as MachineYaml;

  const memoryBytes = parseByteSize(yaml.memory ?? '128MiB');
  if (memoryBytes === undefined) {
    throw source.error(`memory ${JSON.stringify(yaml.memory)} is not a whole number of bytes; give e.g. 128MiB, 3MiB or 3276800`, ['memory']);
  }
  if (memoryBytes < MIN_MEMORY || memoryBytes > MAX_MEMORY) {
    throw source.error(`memory ${JSON.stringify(yaml.memory)} is out of range; give between 2MiB and 4088MiB, e.g. 128MiB`, ['memory']);
  }

  const devices: ValidatedDevice[] = [];
  for (const [id, entry] of Object.entries(yaml.devices ?? {})) {
    const { type, ...props } = entry as { type: string } & Record<string, unknown>;
    const plugin = plugins.get(type);
    if (!plugin) {
      const known = [...plugins.keys()].sort();
      const hint = didYouMean(type, known);
      throw source.error(
        `unknown device type "${type}"` +
          (hint ? `; did you mean "${hint}"?` : ';') +
          ` known types: ${known.join(', ') || '(none)'}`,
        ['devices', id, 'type'],
      );
    }
    const checkProps = await validatorFor(plugin.schema);
    const base: PathSegment[] = ['devices', id];
    if (!checkProps(props)) throw explain(checkProps.errors!, props, plugin.schema, base, source, `device "${id}" (${type})`);
    const backends = await validateBackends(plugin.schema, props, base, backendPlugins, source, `device "${id}" (${type})`);
    devices.push({ id, plugin, props, references: references(plugin.schema, props, base), backends });
  }

  const ids = new Set(devices.map((d) => d.id));
  for (const d of devices) {
    for (const r of d.references) {
      if (!ids.has(r.target)) {
        const hint = didYouMean(r.target, ids);
        const { depth } = source.nodeAt(r.path);
        const implicit = depth < r.path.length ? ` (the default ${r.path.slice(2).join('.')} of ${d.plugin.type})` : '';
        throw source.error(
          `"${r.value}"${implicit} refers to device "${r.target}", which does not exist` +
            (hint ? `; did you mean "${hint}"?` : ';') +
            ` devices: ${[...ids].join(', ')}`,
          r.path,
        );
      }
      if (r.capability) checkCapability(r, d, devices, source);
    }
  }
  checkProcessorCount(yaml.cpus, devices, source);
  return { yaml, memoryBytes, devices };
}

/** `bus: com1` must be an error at validation: the target's plugin has to provide what the reference needs. */
function checkCapability(r: DeviceReference, d: ValidatedDevice, devices: readonly ValidatedDevice[], source: YamlSource): void {
  const target = devices.find((t) => t.id === r.target)!;
  if (target.plugin.provides?.includes(r.capability!)) return;
  const offering = devices.filter((t) => t.plugin.provides?.includes(r.capability!)).map((t) => t.id);
  throw source.error(
    `"${r.value}" is a ${target.plugin.type}, which is not a ${r.capability}; ${r.path.slice(2).join('.')} of ${d.plugin.type} needs a device that provides ${r.capability}` +
      (offering.length ? ` (here: ${offering.join(', ')})` : ` (this machine has none; add one, e.g. pci: { type: pci-host })`),
    r.path,
  );
}

/**
 * Every property the device schema marks as a backend: its `type` must name a backend plugin of
 * the right kind, and the rest must satisfy that plugin's schema (defaults filled in).
 */
async function validateBackends(
  schema: object,
  props: Record<string, unknown>,
  base: PathSegment[],
  registry: BackendRegistry,
  source: YamlSource,
  subject: string,
): Promise<Map<string, ValidatedBackend>> {
  const out = new Map<string, ValidatedBackend>();
  const properties = (schema as { properties?: Record<string, Record<string, unknown>> }).properties ?? {};
  for (const [name, propSchema] of Object.entries(properties)) {
    const kind = propSchema[BACKEND_KEYWORD] as BackendKind | undefined;
    const value = props[name];
    if (!kind || value === undefined) continue;
    const path = [...base, name];
    const { type, ...backendProps } = value as { type: string } & Record<string, unknown>;
    const plugin = registry.get(backendKey(kind, type));
    if (!plugin) {
      const known = [...registry.values()].filter((p) => p.kind === kind).map((p) => p.type).sort();
      const hint = didYouMean(type, known);
      throw source.error(
        `unknown ${kind} backend type "${type}"` + (hint ? `; did you mean "${hint}"?` : ';') + ` known ${kind} backends: ${known.join(', ') || '(none)'}`,
        [...path, 'type'],
      );
    }
    const check = await validatorFor(plugin.schema);
    if (!check(backendProps)) throw explain(check.errors!, backendProps, plugin.schema, path, source, `${subject} ${name} (${type})`);
    out.set(name, { kind, plugin, props: backendProps, path });
  }
  return out;
}

/**
 * The references in a device's validated properties (defaults filled in): every string value whose
 * schema carries x-unimachine-ref, found by walking the schema and the data together.
 */
function references(schema: object, props: unknown, base: PathSegment[]): DeviceReference[] {
  const out = new Map<string, DeviceReference>();
  const walk = (s: Record<string, any> | undefined, v: unknown, at: string[]) => {
    if (!s || typeof s !== 'object') return;
    const kind = s[REF_KEYWORD];
    if (kind !== undefined && typeof v === 'string') {
      const k = kind === 'irq' ? 'irq' : 'device';
      const capability = typeof s[CAPABILITY_KEYWORD] === 'string' ? (s[CAPABILITY_KEYWORD] as string) : undefined;
      out.set(at.join('/'), { kind: k, value: v, target: k === 'irq' ? v.slice(0, v.lastIndexOf('.')) : v, path: [...base, ...at], capability });
    }
    if (s[BACKEND_KEYWORD] !== undefined) return; // a backend's own strings are not device references
    for (const branch of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) walk(branch, v, at);
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(Array.isArray(s.items) ? s.items[i] : s.items, item, [...at, String(i)]));
    } else if (v !== null && typeof v === 'object') {
      for (const [key, value] of Object.entries(v)) {
        const pattern = Object.keys(s.patternProperties ?? {}).find((p) => new RegExp(p, 'u').test(key));
        const sub = s.properties?.[key] ?? (pattern !== undefined ? s.patternProperties[pattern] : undefined) ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
        walk(sub, value, [...at, key]);
      }
    }
  };
  walk(schema as Record<string, any>, props, []);
  return [...out.values()];
}

function splitPointer(p: string): string[] {
  return p === '' ? [] : p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function schemaAt(schemaPath: string, root: object): Record<string, any> | undefined {
  let s: any = root;
  for (const seg of splitPointer(schemaPath.replace(/^#/, ''))) {
    if (s === undefined) return undefined;
    s = s[seg];
  }
  return s;
}

function valueAt(data: unknown, path: string[]): unknown {
  let v: any = data;
  for (const seg of path) v = v?.[seg];
  return v;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return String(v);
}

function article(type: string): string {
  const names: Record<string, string> = {
    integer: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', object: 'a map', array: 'a list', null: 'null',
  };
  return names[type] ?? type;
}

/** Turn the first ajv error into one `file:line:col: what is wrong; what would be right` message. */
function explain(errors: ErrorObject[], data: unknown, schema: object, base: PathSegment[], source: YamlSource, subject: string) {
  // For a union (anyOf/oneOf) ajv lists each branch's failure before the union's own error: report the union.
  const union = errors.find((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const e = union ?? errors[0];
  const rel = splitPointer(e.instancePath);
  const path = [...base, ...rel];
  const name = path.join('.') || 'the document';
  const value = valueAt(data, rel);
  const s = schemaAt(e.schemaPath, schema);
  const described = (x: Record<string, any> | undefined) => (x?.description ? ` (${x.description})` : '');
  const parentSchema = e.parentSchema as Record<string, any> | undefined;

  switch (e.keyword) {
    case 'required': {
      const prop = (e.params as { missingProperty: string }).missingProperty;
      const propSchema = parentSchema?.properties?.[prop];
      const hint = propSchema?.description ? ` <${propSchema.description}>` : '';
      return source.error(`${subject} is missing required property "${prop}"; add ${prop}:${hint}`, path, { key: true });
    }
    case 'additionalProperties': {
      const prop = (e.params as { additionalProperty: string }).additionalProperty;
      if (parentSchema?.patternProperties?.[DEVICE_ID_PATTERN]) {
        return source.error(
          `"${prop}" is not a device id; an id starts with a letter or _ and goes on with letters, digits, _ or -, e.g. com1 or disk_0`,
          [...path, prop],
          { key: true },
        );
      }
      const known = Object.keys(parentSchema?.properties ?? {});
      const hint = didYouMean(prop, known);
      return source.error(
        `unknown property "${prop}" in ${subject === 'the machine' && rel.length === 0 ? 'the machine description' : name}` +
          (hint ? `; did you mean "${hint}"?` : ';') +
          ` known properties: ${known.join(', ') || '(none)'}`,
        [...path, prop],
        { key: true },
      );
    }
    case 'anyOf':
    case 'oneOf': {
      const branches = (s ?? []) as Record<string, any>[];
      if (branches.some((b) => b.pattern === SIZE_PATTERN)) {
        return source.error(`${name}: ${show(value)} is not a size; write a byte count or a number with a unit, e.g. 64KiB, 128MiB, 1GiB`, path);
      }
      const options = branches.map((b) => (b.const !== undefined ? JSON.stringify(b.const) : article(b.type ?? 'value'))).join(' or ');
      return source.error(`${name}: ${show(value)} is not allowed; expected ${options}${described(parentSchema)}`, path);
    }
    case 'type': {
      const want = String((e.params as { type: string }).type).split(',').map(article).join(' or ');
      return source.error(`${name} must be ${want}, not ${show(value)}; expected ${want}${described(parentSchema)}`, path);
    }
    case 'const':
    case 'enum': {
      const allowed = e.keyword === 'const' ? [(e.params as any).allowedValue] : (e.params as any).allowedValues;
      return source.error(`${name}: ${show(value)} is not allowed; expected ${allowed.map((a: unknown) => JSON.stringify(a)).join(' or ')}`, path);
    }
    case 'pattern': {
      if (parentSchema?.[REF_KEYWORD] === 'irq') {
        return source.error(`${name}: ${show(value)} is not an IRQ reference; write <controller-id>.<line>, e.g. pic.4`, path);
      }
      if (parentSchema?.[REF_KEYWORD] === 'device') {
        return source.error(`${name}: ${show(value)} is not a device id; write the id of another device, e.g. pci`, path);
      }
      return source.error(`${name}: ${show(value)} has the wrong form; expected${described(parentSchema) || ` text matching ${(e.params as any).pattern}`}`, path);
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const lo = parentSchema?.minimum, hi = parentSchema?.maximum;
      const range = lo !== undefined && hi !== undefined ? `between ${fmtNum(lo)} and ${fmtNum(hi)}` : `that ${e.message}`;
      return source.error(`${name}: ${show(value)} is out of range; expected a value ${range}${described(parentSchema)}`, path);
    }
    default:
      return source.error(`${name} ${e.message ?? 'is invalid'}${described(parentSchema)}`, path);
  }
}

function fmtNum(n: number): string {
  return n > 255 ? `${n} (0x${n.toString(16)})` : String(n);
}
