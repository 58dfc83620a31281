import type { Machine } from './machine.js';
import type { RecordingConsole } from './console.js';

/** A wait: virtual time by default (`'5s'`, `'250ms'`, or nanoseconds as a number), or host time. */
export interface WaitOptions {
  /** How long to wait: `'5s'`, `'100ms'`, `'20us'`, or a number of nanoseconds. Default '10s'. */
  timeout?: string | number;
  /** Measure the timeout in host time instead of the machine's virtual time. */
  hostTime?: boolean;
}

export interface LineMatch {
  line: string;
  match: RegExpMatchArray;
  /** 1-based line number in the console. */
  lineNumber: number;
}

const DEFAULT_TIMEOUT = '10s';
const TAIL_LINES = 20;
/** Host-time safety net for a virtual-time wait whose guest stops advancing its clock. */
const HOST_LIMIT_FOR_VIRTUAL_WAIT_MS = 120_000;
const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9 };

/** '5s' / '100ms' / 2500 (ns) to nanoseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!(value >= 0)) throw new RangeError(`a wait must be a non-negative number of nanoseconds, got ${value}`);
    return value;
  }
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ns|us|µs|ms|s|m)\s*$/.exec(value);
  if (!m) throw new RangeError(`"${value}" is not a duration; write e.g. 5s, 250ms, 20us`);
  return Number(m[1]) * UNITS[m[2]];
}

/**
 * A console seen line by line, the way a test talks to a serial port (Renode's "wait for line on
 * uart", QEMU qtest's expect): each wait looks at the lines after the last line it matched, and
 * runs the machine until one matches or the wait runs out.
 */
export class ConsoleWatch {
  /** Lines before this index are consumed (a snapshot keeps it, so a fork's waits go on from there). */
  cursor = 0;

  constructor(private readonly machine: Machine, readonly id: string, private readonly console: RecordingConsole) {}

  /** Every complete line so far (a trailing partial line is included once the machine has ended). */
  lines(): string[] {
    const lines = this.console.text().split('\n');
    const partial = lines.pop()!; // '' when the text ends with a newline
    if (partial !== '' && this.machine.result !== undefined) lines.push(partial);
    return lines.map((l) => l.replace(/\r$/, ''));
  }

  text(): string {
    return this.console.text();
  }

  /** Send text to the guest, paced like a serial line. */
  send(text: string | Uint8Array): void {
    this.console.send(text);
  }

  /** Send a line; `eol` is what Enter sends (a terminal sends '\r', the default). */
  sendLine(text: string, eol = '\r'): void {
    this.console.send(text + eol);
  }

  /**
   * Run the machine until a line after the last matched one matches `pattern`; resolves with it.
   * Fails with the pattern, the wait and the last console lines.
   */
  async waitForLine(pattern: RegExp | string, opts: WaitOptions = {}): Promise<LineMatch> {
    const regex = typeof pattern === 'string' ? new RegExp(escapeRegExp(pattern)) : pattern;
    const find = (): LineMatch | undefined => {
      const lines = this.lines();
      for (let i = this.cursor; i < lines.length; i++) {
        const match = lines[i].match(regex);
        if (match) return { line: lines[i], match, lineNumber: i + 1 };
      }
      return undefined;
    };
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
    const waitNs = parseDuration(timeout);
    const m = this.machine;
    const virtualDeadline = opts.hostTime ? Infinity : m.clock.now() + waitNs;
    let found = find();
    if (!found && m.result === undefined) {
      await m.run({
        until: () => (found = find()) !== undefined || m.clock.now() >= virtualDeadline,
        timeoutMs: opts.hostTime ? waitNs / 1e6 : HOST_LIMIT_FOR_VIRTUAL_WAIT_MS,
      });
      found ??= find();
    }
    if (!found) throw new Error(this.describeFailure(regex, timeout, opts.hostTime === true));
    this.cursor = found.lineNumber;
    return found;
  }

  /** Wait for each pattern in turn (each after the previous one's line), as an expect script. */
  async expect(sequence: readonly (RegExp | string)[], opts: WaitOptions = {}): Promise<LineMatch[]> {
    const out: LineMatch[] = [];
    for (const p of sequence) out.push(await this.waitForLine(p, opts));
    return out;
  }

  private describeFailure(regex: RegExp, timeout: string | number, host: boolean): string {
    const lines = this.lines();
    const tail = lines.slice(-TAIL_LINES);
    const ended = this.machine.result ? `the machine ended (${this.machine.result.end}, status ${this.machine.result.exitCode}) first` : `no line matched`;
    const wait = `${typeof timeout === 'number' ? `${timeout} ns` : timeout} of ${host ? 'host' : 'virtual'} time`;
    return (
      `${this.id}: waited ${wait} for a line matching ${regex}; ${ended}.\n` +
      `Searched lines ${this.cursor + 1}..${lines.length}. Last ${tail.length} console lines:\n` +
      tail.map((l, i) => `  ${String(lines.length - tail.length + i + 1).padStart(4)} | ${l}`).join('\n')
    );
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
