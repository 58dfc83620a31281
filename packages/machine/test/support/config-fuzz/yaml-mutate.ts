// Mutations of machine files: structural ones on the parsed document (delete, duplicate, rename
// keys, swap types, odd values) and textual ones on the bytes (flips, truncation, BOM, CRLF, tabs,
// tags, anchors and aliases, extra documents, deep nesting).
import { isMap, isPair, isScalar, isSeq, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { tooDeepAt } from '../../../src/yaml-source.js';
import type { Rng } from './random.js';

/** Values as YAML text: type swaps, limits, things YAML reads specially. */
export const ODD_VALUES = [
  '0', '-1', '1', '2', '7', '31', '32', '255', '256', '4096', '65535', '65536', '0x3f8', '0x501', '0xffff', '0x10000', '0xffffffff',
  '0x100000000', '9007199254740993', '-9007199254740993', '1e308', '1e400', '-1e400', '4.5', '-0', '0o777', '0b101', '1_000',
  '.inf', '-.inf', '.nan', '.NaN', 'NaN', 'Infinity', '~', 'null', 'true', 'false', 'yes', 'no', 'on', '""', "''", '" "',
  '[]', '{}', '[1, 2]', '[pic.4]', '{ type: i8259 }', '{ type: }', '[[[]]]', '- a', 'pic.4', 'pic.99', 'pic.-1', 'pic.', '.4', 'pic.4.5',
  'pci', 'nowhere', 'com1', 'exit', 'stdio', 'none', 'file:', 'file:out.txt', 'file:folder', 'file:fifo', 'file:null', 'file:full',
  'disk.img', 'folder', 'fifo', 'zero', 'missing.img', '128MiB', '4GiB', '4096MiB', '1MiB', '2MiB', '0MiB', '3.5MiB', '-5MiB',
  '128 apples', '1TiB', '18446744073709551616', 'utc', 'localtime', '2026-02-30', '2026-01-01T00:00:00Z', '9999-12-31T23:59:59Z',
  '0000-01-01', 'westmere', 'qemu64', 'max', 'pentium', 'deterministic', 'realtime', 'reboot', 'stop', 'legacy', 'modern',
  '52:54:00:12:34:56', 'ff:ff:ff:ff:ff:ff', '52:54:00:12:34', 'hub', 'memory', 'file', 'udp', 'virtio-blk-pci', 'virtio-net-pci',
  'pci-bridge', 'pci-host', 'uart-16550', 'i8259', 'i8254', 'mc146818', 'pc-reset', 'isa-debug-exit', 'demo-counter',
  '"\\u0000"', '"\\uD800"', '"é漢字🙂"', '"\\u202Eevil"', '"a\\nb"', '!!binary aGVsbG8=', '!!js/function "function(){}"',
  '!!js/undefined ""', '!!int "12"', '!!float 1', '!!str 5', '!!set { a, b }', '!!omap [ a: 1 ]', '!!timestamp 2001-12-14',
  '!foo bar', '!<tag:yaml.org,2002:int> 5', '*undefined', '*a', '&a 5', '? complex : key', '|\n  block\n  text', '>\n  folded',
  './fifo', './folder', './zero', './not-a-plugin.mjs', './throwing-plugin.mjs', './syntax-plugin.mjs', '[./fifo]', '[./throwing-plugin.mjs]',
  'file:zero', 'file:dangling', '"unterminated', "'unterminated", '[unclosed', '{unclosed', '@reserved', '`reserved', '%percent', '- - -', ': :', '? ?',
];

const KEY_POOL = [
  'type', 'port', 'irq', 'console', 'bus', 'slot', 'backend', 'path', 'size', 'image', 'readonly', 'snapshot', 'serial', 'name',
  'pcap', 'mac', 'transport', 'irqs', 'piix3', 'chassis', 'shpc', 'elcr', 'iosize', 'base', 'cf9', 'port92', 'keyboardController',
  'memory', 'clock', 'rtc', 'cpu', 'model', 'devices', 'boot', 'kernel', 'cmdline', 'plugins', 'on-reset', 'machine', 'local', 'remote',
  'prot', 'tpye', 'Type', '', ' ', '<<', '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '0', '-1', '1e3',
  'é', '🙂', 'a.b', 'a/b', 'a b', '"quoted"', 'x'.repeat(300), 'pic', 'com1', 'pci', 'disk0', 'net0', 'exit', 'bad id!', '9lives',
];

type Mutation = (text: string, rng: Rng) => string;

/** A random string: ASCII, unicode, control characters, or long. */
export function randomText(rng: Rng, max = 40): string {
  const alphabets = ['abcdefghijklmnopqrstuvwxyz', '0123456789abcdef', ' :-,.[]{}#&*!|>\'"%@`?\\\t', 'éß漢字🙂\u202e\u00a0\ufeff\u0085', '\u0000\u0001\u001b\u007f'];
  const alphabet = [...rng.pick(alphabets)];
  const n = rng.int(max + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += rng.pick(alphabet);
  return s;
}

function oddValue(rng: Rng): string {
  switch (rng.int(12)) {
    case 0:
      return JSON.stringify(randomText(rng));
    case 1:
      return String(rng.next() * (rng.chance(0.5) ? -1 : 1) * 2 ** rng.int(64));
    case 2:
      return `0x${rng.next().toString(16)}${rng.chance(0.3) ? rng.next().toString(16) : ''}`;
    case 3: // a long string, up to ~200 KB (the file limit is 1 MiB)
      return `"${'z'.repeat(rng.weighted([[6, 1000], [3, 65536], [1, 200_000]] as const))}"`;
    default:
      return rng.pick(ODD_VALUES);
  }
}

/** Value nodes in the document, with the map each belongs to (for key edits). */
function pairsOf(doc: Document): { pair: Pair; map: YAMLMap }[] {
  const out: { pair: Pair; map: YAMLMap }[] = [];
  visit(doc, {
    Map: (_k, map) => {
      for (const it of map.items) if (isPair(it)) out.push({ pair: it, map });
    },
  });
  return out;
}

function nodesOf(doc: Document): Node[] {
  const out: Node[] = [];
  visit(doc, {
    Scalar: (_k, n) => void out.push(n),
    Map: (_k, n) => void out.push(n),
    Seq: (_k, n) => void out.push(n),
  });
  return out;
}

/** Apply an edit to the parsed document and print it again; unparsable text is left as it is. */
function structural(edit: (doc: Document, rng: Rng) => void): Mutation {
  return (text, rng) => {
    if (tooDeepAt(text) !== undefined) return text; // the parser takes seconds on these; the CLI refuses them first
    const doc = parseDocument(text, { uniqueKeys: false, keepSourceTokens: false, logLevel: 'error' });
    if (doc.errors.length) return text;
    try {
      edit(doc, rng);
      return doc.toString({ lineWidth: 0 });
    } catch {
      return text; // an edit yaml cannot print (e.g. a key cycle): keep the input
    }
  };
}

const deleteKey = structural((doc, rng) => {
  const pairs = pairsOf(doc);
  if (!pairs.length) return;
  const { pair, map } = rng.pick(pairs);
  map.items.splice(map.items.indexOf(pair), 1);
});

const duplicateKey = structural((doc, rng) => {
  const pairs = pairsOf(doc);
  if (!pairs.length) return;
  const { pair, map } = rng.pick(pairs);
  const target = rng.chance(0.5) ? map : rng.pick(pairs).map;
  target.items.push(doc.createPair(isScalar(pair.key) ? pair.key.value : pair.key, (pair.value as Node | null)?.clone?.() ?? null));
});

const renameKey = structural((doc, rng) => {
  const pairs = pairsOf(doc);
  if (!pairs.length) return;
  const { pair } = rng.pick(pairs);
  pair.key = doc.createNode(rng.chance(0.7) ? rng.pick(KEY_POOL) : randomText(rng, 12));
});

const setValue = structural((doc, rng) => {
  const pairs = pairsOf(doc);
  if (!pairs.length) return;
  const { pair } = rng.pick(pairs);
  const odd = parseDocument(`v: ${oddValue(rng)}`, { uniqueKeys: false, logLevel: 'error' });
  pair.value = odd.errors.length ? doc.createNode(randomText(rng)) : ((odd.contents as YAMLMap).items[0] as Pair).value;
});

const addKey = structural((doc, rng) => {
  const maps: YAMLMap[] = [];
  visit(doc, { Map: (_k, m) => void maps.push(m) });
  if (!maps.length) return;
  const odd = parseDocument(`v: ${oddValue(rng)}`, { logLevel: 'error' });
  const value = odd.errors.length ? null : ((odd.contents as YAMLMap).items[0] as Pair).value;
  rng.pick(maps).items.push(doc.createPair(rng.pick(KEY_POOL), value));
});

const swapValues = structural((doc, rng) => {
  const pairs = pairsOf(doc);
  if (pairs.length < 2) return;
  const a = rng.pick(pairs).pair;
  const b = rng.pick(pairs).pair;
  [a.value, b.value] = [b.value, a.value];
});

/** A value becomes a list or map holding it, or a collection becomes a scalar. */
const wrapOrFlatten = structural((doc, rng) => {
  const nodes = nodesOf(doc);
  const pairs = pairsOf(doc);
  if (!pairs.length || !nodes.length) return;
  const { pair } = rng.pick(pairs);
  const v = pair.value as Node | null;
  if (rng.chance(0.5)) pair.value = rng.chance(0.5) ? doc.createNode([v ? doc.createNode(null) : null]) : doc.createNode({ inner: null });
  else if (isMap(v) || isSeq(v)) pair.value = doc.createNode(rng.pick(['x', 0, true, null]));
  if (isSeq(pair.value) && v) (pair.value as { items: unknown[] }).items[0] = v;
  if (isMap(pair.value) && v) ((pair.value as YAMLMap).items[0] as Pair).value = v;
});

const structuralMutations: Mutation[] = [deleteKey, duplicateKey, renameKey, setValue, setValue, addKey, swapValues, wrapOrFlatten];

/** Positions just after `key: ` on each line that has a value, for textual value swaps. */
function valueSpots(text: string): { start: number; end: number }[] {
  const spots: { start: number; end: number }[] = [];
  const re = /(^|[{,]\s*)[A-Za-z0-9_<-]+:[ \t]+([^\n,}#]*)/gm;
  for (let m; (m = re.exec(text)); ) {
    const start = m.index + m[0].length - m[2].length;
    spots.push({ start, end: start + m[2].length });
    if (re.lastIndex === m.index) re.lastIndex++;
  }
  return spots;
}

function replaceValueText(text: string, rng: Rng, value: string): string {
  const spots = valueSpots(text);
  if (!spots.length) return `${text}\nextra: ${value}\n`;
  const s = rng.pick(spots);
  return text.slice(0, s.start) + value + text.slice(s.end);
}

function insertAt(text: string, at: number, what: string): string {
  return text.slice(0, at) + what + text.slice(at);
}

function lineStart(text: string, rng: Rng): number {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return rng.pick(starts);
}

function aliasBomb(rng: Rng): string {
  const width = rng.between(2, 10);
  const depth = rng.between(2, 9);
  const lines = [`a0: &a0 [${Array(width).fill('"lol"').join(', ')}]`];
  for (let i = 1; i < depth; i++) lines.push(`a${i}: &a${i} [${Array(width).fill(`*a${i - 1}`).join(', ')}]`);
  return lines.join('\n') + '\n';
}

function deepNesting(rng: Rng): string {
  const depth = rng.weighted([[4, 50], [4, 500], [2, 5000], [1, 20000], [1, 100000]] as const);
  switch (rng.int(3)) {
    case 0:
      return '['.repeat(depth) + ']'.repeat(depth);
    case 1:
      return '{a: '.repeat(depth) + '1' + '}'.repeat(depth);
    default: // block style: each level indented one more space
      return Array.from({ length: Math.min(depth, 1500) }, (_, i) => `${' '.repeat(i + 2)}k${i}:`).join('\n') + ' 1';
  }
}

const textualMutations: Mutation[] = [
  (t, rng) => insertAt(t, rng.int(t.length + 1), randomText(rng, 8)),
  (t, rng) => {
    const at = rng.int(t.length + 1);
    return t.slice(0, at) + t.slice(at + rng.between(1, 40));
  },
  (t, rng) => t.slice(0, rng.int(t.length + 1)), // truncation
  (t, rng) => (rng.chance(0.7) ? '\ufeff' + t : insertAt(t, rng.int(t.length + 1), '\ufeff')), // BOM
  (t) => t.replace(/\n/g, '\r\n'),
  (t, rng) => t.replace(/\n/g, rng.pick(['\r', '\u2028', '\u0085', '\n\n'])),
  (t, rng) => t.replace(/^( +)/gm, (m) => (rng.chance(0.3) ? '\t'.repeat(Math.ceil(m.length / 2)) : m)), // tabs
  (t, rng) => `${t}\n---\n${rng.chance(0.5) ? t : 'memory: 1MiB\n'}`, // more documents
  (t, rng) => rng.pick(['%YAML 1.1\n---\n', '%YAML 9.9\n---\n', '%TAG ! tag:example.com,2000:\n---\n', '--- !!map\n', '---\n', '--- |\n']) + t,
  (t, rng) => replaceValueText(t, rng, oddValue(rng)),
  (t, rng) => replaceValueText(t, rng, oddValue(rng)),
  (t, rng) => replaceValueText(t, rng, rng.pick(['!!binary aGVsbG8=', '!!js/function "function () { return 1 }"', '!!js/regexp /x/', '!!python/object:os.system {}', '!custom 5', '!!null x', '!!bool maybe', '!!map [1]', '!!seq {a: 1}'])),
  // anchors and aliases: defined, undefined, merged, recursive
  (t, rng) => replaceValueText(t, rng, rng.pick(['*undefined', '*pic', '&x 5', '&x { type: i8259 }', '*x', '{ <<: *x }', '{ <<: [*x, *y] }', '{ <<: 5 }', '&a [*a]', '&anchor'])),
  (t, rng) => insertAt(t, lineStart(t, rng), rng.pick(['x: &x { type: i8259 }\n', 'anchors: &x [1, 2]\n', '<<: *x\n', '<<: { memory: 64MiB }\n', '*x : key\n', '&a a: &b b\n'])),
  (t, rng) => aliasBomb(rng) + t,
  (t, rng) => replaceValueText(t, rng, deepNesting(rng)),
  (t, rng) => insertAt(t, lineStart(t, rng), `${rng.pick(KEY_POOL) || 'k'}: ${oddValue(rng)}\n`),
  (t, rng) => t + '\n'.repeat(rng.int(3)) + rng.pick(['devices:\n  extra: { type: i8259 }\n', '...\n', '--- \n', '# trailing\n', '? [a]\n: b\n', '- item\n']),
];

/** A machine file as bytes: `latin1` text is one character per byte (after byte-level mutation). */
export interface MachineFileText {
  text: string;
  encoding: 'utf8' | 'latin1';
}

/** Flip 1 to 8 random bits: from here on the text is bytes (invalid UTF-8 included). */
function flipBits(f: MachineFileText, rng: Rng): MachineFileText {
  const bytes = Buffer.from(f.text, f.encoding);
  if (!bytes.length) return f;
  for (let i = rng.between(1, 8); i > 0; i--) bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
  return { text: bytes.toString('latin1'), encoding: 'latin1' };
}

/** One mutated machine file: 1 to 4 mutations, structural ones on the document, textual ones on the bytes. */
export function mutateMachineFile(seed: string, rng: Rng): MachineFileText {
  let f: MachineFileText = { text: seed, encoding: 'utf8' };
  for (let n = rng.weighted([[5, 1], [3, 2], [2, 3], [1, 4]] as const); n > 0; n--) {
    const r = rng.int(20);
    if (r < 2) f = flipBits(f, rng);
    else if (r < 11 && f.encoding === 'utf8') f = { ...f, text: rng.pick(structuralMutations)(f.text, rng) };
    else f = { ...f, text: rng.pick(textualMutations)(f.text, rng) };
  }
  return f;
}
