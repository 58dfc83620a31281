/**
 * Console lines stamped with the host time they were completed, for benchmarks that time a
 * guest's phases by the host clock (a deterministic machine's guest clock is virtual).
 */
import { spawn } from 'node:child_process';

export interface StampedLine {
  /** performance.now() when the line's newline arrived. */
  at: number;
  text: string;
}

/** Splits a byte stream into lines; each complete line is stamped with the time of its last chunk. */
export class LineStamper {
  readonly lines: StampedLine[] = [];
  private partial = '';

  constructor(private readonly onLine?: (line: StampedLine) => void) {}

  feed(chunk: string, at = performance.now()): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop()!;
    for (const text of parts) {
      const line = { at, text: text.replace(/\r$/, '') };
      this.lines.push(line);
      this.onLine?.(line);
    }
  }

  /** The first line containing `needle`, if it has arrived. */
  find(needle: string): StampedLine | undefined {
    return this.lines.find((l) => l.text.includes(needle));
  }

  /** Everything received, the unfinished last line included. */
  text(): string {
    return this.lines.map((l) => l.text + '\n').join('') + this.partial;
  }
}

/** What a console (RecordingConsole of @unimachine/machine) offers: its bytes so far. */
export interface ByteConsole {
  bytes(): Uint8Array;
}

/**
 * Follows a Unimachine console from a run's `until` callback: the machine checks `until` right
 * after every byte the guest writes (the slice ends on output while a condition is watched), so
 * a line is stamped the moment its newline is written. Returns the callback to pass as `until`.
 */
export function followConsole(c: ByteConsole, stamper: LineStamper, stopWhen: () => boolean = () => false): () => boolean {
  let seen = 0;
  return () => {
    const bytes = c.bytes();
    if (bytes.length > seen) {
      stamper.feed(Buffer.from(bytes.subarray(seen)).toString('latin1'));
      seen = bytes.length;
    }
    return stopWhen();
  };
}

export interface LineProcess {
  stdout: LineStamper;
  stderr: () => string;
  /** Resolves with the exit status (-1 when killed by a signal). */
  exited: Promise<number>;
  kill(): void;
  /** Resolves with the first stdout line containing `needle`, or undefined if the process ends or time runs out first. */
  waitFor(needle: string, timeoutMs: number): Promise<StampedLine | undefined>;
}

/** Spawns a program (QEMU) whose stdout lines are stamped as they arrive. */
export function spawnStamped(command: string, args: string[], opts: { cwd?: string } = {}): LineProcess {
  const child = spawn(command, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const waiters = new Set<() => void>();
  const stdout = new LineStamper(() => waiters.forEach((w) => w()));
  let err = '';
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (s: string) => stdout.feed(s));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (err += s));
  let ended = false;
  const exited = new Promise<number>((resolve) => {
    child.on('error', (e) => {
      err += e.message;
    });
    child.on('close', (code) => {
      ended = true;
      waiters.forEach((w) => w());
      resolve(code ?? -1);
    });
  });
  return {
    stdout,
    stderr: () => err,
    exited,
    kill: () => {
      if (!ended) child.kill('SIGKILL');
    },
    waitFor(needle, timeoutMs) {
      return new Promise((resolve) => {
        const check = () => {
          const hit = stdout.find(needle);
          if (hit || ended) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          resolve(undefined);
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
