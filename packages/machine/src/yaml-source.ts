import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair } from 'yaml';
import { MachineConfigError, type SourcePosition } from './errors.js';

export type PathSegment = string | number;

/** A parsed machine description that still knows where every value came from. */
export class YamlSource {
  readonly doc: Document;
  private readonly lines = new LineCounter();
  /** Paths set by --set overrides: they have no YAML position. */
  private readonly overrides = new Map<string, string>();

  constructor(readonly text: string, readonly file: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    const err = this.doc.errors[0];
    if (err) throw new MachineConfigError(describeYamlError(err.code, err.message, text, err.pos[0]), this.positionAt(err.pos[0]));
    if (this.doc.contents === null) this.doc.contents = this.doc.createNode({}) as never;
  }

  /** Read a machine description file; an unreadable file is bad input too. */
  static fromFile(file: string): YamlSource {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new MachineConfigError(`cannot read machine description: ${reason}; give the path of a YAML file, e.g. machines/hello.yaml`, undefined, file);
    }
    return new YamlSource(text, file);
  }

  positionAt(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }

  /** Apply a `--set a.b.c=value` override; the value is read as YAML (so 0x3f8 is a number). */
  setAssignment(assignment: string): void {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new MachineConfigError(`expected path=value, e.g. memory=256MiB`, undefined, `--set ${assignment}`);
    const raw = assignment.slice(eq + 1);
    const value: unknown = parseDocument(raw).toJS();
    this.setValue(assignment.slice(0, eq).trim(), value ?? raw, `--set ${assignment}`);
  }

  /** Override the value at a dotted path (`devices.com1.console`); `origin` names it in messages. */
  setValue(dottedPath: string, value: unknown, origin: string): void {
    const path = dottedPath.split('.');
    this.doc.setIn(path, this.doc.createNode(value));
    this.overrides.set(path.join('.'), origin);
  }

  toJS(): Record<string, unknown> {
    const v = this.doc.toJS({ maxAliasCount: 100 });
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {};
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

function describeYamlError(code: string, message: string, text: string, offset: number): string {
  if (code === 'DUPLICATE_KEY') {
    const key = /^[^\s:]+/.exec(text.slice(offset))?.[0] ?? '';
    return `duplicate key "${key}"; a key may appear only once in a map (under devices:, give each device its own id)`;
  }
  // yaml's messages end with a source excerpt after a blank line; keep the first line.
  return `YAML syntax error: ${message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
}
