import { isCollection, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node, type Pair } from 'yaml';
import { MachineConfigError, type SourcePosition } from './errors.js';
import { InputFileError, MAX_MACHINE_FILE_BYTES, readInputFile } from './input-file.js';

/** Alias expansions allowed when reading a description: plenty for real files, nothing for an alias bomb. */
export const MAX_ALIAS_COUNT = 100;

export type PathSegment = string | number;

/** A parsed machine description that still knows where every value came from. */
export class YamlSource {
  readonly doc: Document;
  private readonly lines = new LineCounter();
  /** Paths set by --set overrides: they have no YAML position. */
  private readonly overrides = new Map<string, string>();

  constructor(readonly text: string, readonly file: string) {
    const deep = tooDeepAt(text);
    if (deep !== undefined) throw new MachineConfigError(TOO_DEEP, { file, ...lineAndColumn(text, deep) });
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: false, logLevel: 'error' });
    const err = this.doc.errors[0];
    if (err) throw new MachineConfigError(describeYamlError(err.code, err.message, text, err.pos[0]), this.positionAt(err.pos[0]));
    if (this.doc.contents === null) this.doc.contents = this.doc.createNode({}) as never;
    this.checkUniqueKeys();
    this.checkValues();
    this.toJS(); // an alias bomb is refused here, before anything else reads the document
  }

  /**
   * A key twice in one map is an error. Checked here with a set per map: yaml's own check
   * (uniqueKeys) compares each key with every earlier one, which takes seconds for 16,000 devices.
   */
  private checkUniqueKeys(): void {
    let problem: MachineConfigError | undefined;
    visit(this.doc, {
      Map: (_key, map) => {
        const seen = new Set<unknown>();
        for (const pair of map.items) {
          const key = isScalar(pair.key) ? pair.key.value : pair.key;
          if (!seen.has(key)) {
            seen.add(key);
            continue;
          }
          const at = isNodeWithRange(pair.key) ? pair.key : map;
          problem = this.errorAt(at, describeYamlError('DUPLICATE_KEY', '', this.text, at.range?.[0] ?? 0));
          return visit.BREAK;
        }
        return undefined;
      },
    });
    if (problem) throw problem;
  }

  /** Aliases that name no anchor, and numbers no machine can use (.inf, .nan, 1e400), with their positions. */
  private checkValues(): void {
    let problem: MachineConfigError | undefined;
    visit(this.doc, {
      Alias: (_key, node, ancestors) => {
        const target = node.resolve(this.doc);
        if (!target) problem ??= this.errorAt(node, `alias *${node.source} refers to no anchor; define &${node.source} before it, or write the value out`);
        // `&a [*a]` is a value that contains itself: endless to every reader after this one.
        else if (ancestors.includes(target as never)) problem ??= this.errorAt(node, `alias *${node.source} is inside the value &${node.source} names (a value containing itself); write the value out`);
      },
      Pair: (_key, pair) => {
        // yaml would turn `? [a, b]` into the key "a,b" (and warn on the process's stderr).
        if (isCollection(pair.key)) problem ??= this.errorAt(pair.key, 'a key must be a single word or number, not a list or map');
      },
      Scalar: (_key, node) => {
        if (typeof node.value === 'number' && !Number.isFinite(node.value)) {
          const written = node.range ? this.text.slice(node.range[0], node.range[1]) : String(node.value);
          problem ??= this.errorAt(node, notFinite(written));
        }
      },
    });
    if (problem) throw problem;
  }

  private errorAt(node: Node, problem: string): MachineConfigError {
    return new MachineConfigError(problem, node.range ? this.positionAt(node.range[0]) : { file: this.file, line: 1, col: 1 });
  }

  /** Read a machine description file; an unreadable file is bad input too. */
  static fromFile(file: string): YamlSource {
    let bytes: Buffer;
    try {
      bytes = readInputFile(file, MAX_MACHINE_FILE_BYTES);
    } catch (e) {
      if (!(e instanceof InputFileError)) throw e;
      throw new MachineConfigError(`cannot read machine description: ${e.message}; give the path of a YAML file, e.g. machines/hello.yaml`, undefined, file);
    }
    return new YamlSource(bytes.toString('utf8'), file);
  }

  positionAt(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }

  /** Apply a `--set a.b.c=value` override; the value is read as YAML (so 0x3f8 is a number). */
  setAssignment(assignment: string): void {
    const eq = assignment.indexOf('=');
    const origin = `--set ${assignment}`;
    if (eq <= 0) throw new MachineConfigError(`expected path=value, e.g. memory=256MiB`, undefined, origin);
    const raw = assignment.slice(eq + 1);
    let value: unknown;
    try {
      value = parseDocument(raw, { logLevel: 'error' }).toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch {
      // An alias (*x): a one-value document has no anchor it could name.
      throw new MachineConfigError(`"${raw}" is a YAML alias, and a --set value has no anchors; quote it or write the value out`, undefined, origin);
    }
    if (typeof value === 'number' && !Number.isFinite(value)) throw new MachineConfigError(notFinite(raw), undefined, origin);
    this.setValue(assignment.slice(0, eq).trim(), value ?? raw, origin);
  }

  /** Override the value at a dotted path (`devices.com1.console`); `origin` names it in messages. */
  setValue(dottedPath: string, value: unknown, origin: string): void {
    const path = dottedPath.split('.');
    if (path.some((p) => p === '')) throw new MachineConfigError(`"${dottedPath}" is not a path; write keys separated by dots, e.g. devices.com1.console`, undefined, origin);
    if (typeof value === 'number' && !Number.isFinite(value)) throw new MachineConfigError(notFinite(String(value)), undefined, origin);
    const { node, depth } = this.nodeAt(path);
    if (depth < path.length && node !== undefined && !isCollection(node)) {
      const at = path.slice(0, depth).join('.');
      throw new MachineConfigError(`${at} holds a single value, not a map; "${path[depth]}" cannot be set inside it`, undefined, origin);
    }
    try {
      this.doc.setIn(path, this.doc.createNode(value));
    } catch (e) {
      throw new MachineConfigError(`cannot set ${dottedPath}: ${(e as Error).message}`, undefined, origin);
    }
    this.overrides.set(path.join('.'), origin);
  }

  /**
   * Give `to` the value found at `from` (nothing when there is none). Messages about the copy point
   * where the value was written (its line and column, or the --set that gave it).
   */
  copyValue(from: PathSegment[], to: PathSegment[]): void {
    const { node, depth } = this.nodeAt(from);
    if (depth < from.length || node === undefined) return;
    this.doc.setIn(to, isNodeWithRange(node) ? node.clone() : node);
    const origin = this.overrideFor(from);
    if (origin) this.overrides.set(to.join('.'), origin);
  }

  toJS(): Record<string, unknown> {
    let v: unknown;
    try {
      v = this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const first = this.firstAlias();
      const message = (e as Error).message;
      const problem = /Excessive alias count/.test(message)
        ? `aliases expand to more than ${MAX_ALIAS_COUNT} values (a YAML alias bomb?); write the values out`
        : e instanceof RangeError && /call stack/.test(message)
          ? TOO_DEEP
          : `YAML: ${message}`;
      throw first ? this.errorAt(first, problem) : new MachineConfigError(problem, { file: this.file, line: 1, col: 1 });
    }
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  }

  private firstAlias(): Alias | undefined {
    let first: Alias | undefined;
    visit(this.doc, {
      Alias: (_key, node) => {
        first = node;
        return visit.BREAK;
      },
    });
    return first;
  }

  /** The node at `path` (value node), or the deepest existing ancestor. */
  nodeAt(path: PathSegment[]): { node: Node | undefined; pair: Pair | undefined; depth: number } {
    let node: unknown = this.doc.contents;
    let pair: Pair | undefined;
    let depth = 0;
    for (const seg of path) {
      if (isMap(node)) {
        const p = node.items.find((it) => isPair(it) && keyOf(it) === String(seg));
        if (!p) break;
        pair = p as Pair;
        node = p.value;
      } else if (isSeq(node) && /^\d+$/.test(String(seg))) {
        const item = node.items[Number(seg)];
        if (item === undefined) break;
        pair = undefined;
        node = item;
      } else break;
      depth++;
    }
    return { node: node as Node | undefined, pair, depth };
  }

  /** Where to point for a problem with the value at `path` (`key: true` points at its key instead). */
  locate(path: PathSegment[], opts: { key?: boolean } = {}): { position?: SourcePosition; origin?: string } {
    const override = this.overrideFor(path);
    if (override) return { origin: override };
    const { node, pair } = this.nodeAt(path);
    const target = opts.key && pair && isNodeWithRange(pair.key) ? pair.key : node;
    const range = (target as Node | undefined)?.range;
    if (range) return { position: this.positionAt(range[0]) };
    return { position: { file: this.file, line: 1, col: 1 } };
  }

  error(problem: string, path: PathSegment[], opts: { key?: boolean } = {}): MachineConfigError {
    const { position, origin } = this.locate(path, opts);
    return new MachineConfigError(problem, position, origin);
  }

  private overrideFor(path: PathSegment[]): string | undefined {
    for (let n = path.length; n > 0; n--) {
      const hit = this.overrides.get(path.slice(0, n).join('.'));
      if (hit) return hit;
    }
    return undefined;
  }
}

function keyOf(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

function isNodeWithRange(x: unknown): x is Node {
  return typeof x === 'object' && x !== null && Array.isArray((x as Node).range);
}

function lineAndColumn(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, col: offset - lineStart + 1 };
}

/** Flow lists and maps (`[`, `{`) nested deeper than this are refused before parsing. */
export const MAX_FLOW_NESTING = 64;

/** Lists and maps nested thousands deep take the parser seconds, then exhaust its stack: no machine needs that. */
const TOO_DEEP = `the YAML nests lists or maps more than ${MAX_FLOW_NESTING} deep; a machine description needs a few levels`;

/**
 * The offset of the first `[` or `{` nested deeper than MAX_FLOW_NESTING, skipping comments and
 * quoted text, or undefined. A linear scan, so a 1 MiB file of brackets costs a millisecond, not
 * the parser's seconds.
 */
export function tooDeepAt(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_FLOW_NESTING) return i;
    } else if (c === 0x5d || c === 0x7d) {
      if (depth > 0) depth--;
    } else if (c === 0x23 && (i === 0 || /\s/.test(text[i - 1]))) {
      const end = text.indexOf('\n', i);
      if (end < 0) break;
      i = end;
    } else if (c === 0x22 || c === 0x27) {
      // A quoted scalar: skip to its closing quote ("" escapes with \, '' doubles the quote).
      let j = i + 1;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (c === 0x22 && d === 0x5c) j += 2;
        else if (d === c && !(c === 0x27 && text.charCodeAt(j + 1) === 0x27)) break;
        else j += c === 0x27 && d === 0x27 ? 2 : 1;
      }
      i = j;
    }
  }
  return undefined;
}

function describeYamlError(code: string, message: string, text: string, offset: number): string {
  if (/call stack/i.test(message)) return TOO_DEEP;
  if (code === 'DUPLICATE_KEY') {
    const key = /^[^\s:]+/.exec(text.slice(offset))?.[0] ?? '';
    return `duplicate key "${key}"; a key may appear only once in a map (under devices:, give each device its own id)`;
  }
  // yaml's messages end with a source excerpt after a blank line; keep the first line.
  return `YAML syntax error: ${message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
}

function notFinite(written: string): string {
  return `${written} is not a finite number; write a whole number (0x3f8, 4096) or a size such as 128MiB`;
}
