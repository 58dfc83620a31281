/** Spawn a process and time it from spawn to exit: what a user waits for. */
import { spawn } from 'node:child_process';

export interface TimedRun {
  stdout: string;
  stderr: string;
  /** Exit status; -1 when killed (timeout) or when it could not start. */
  status: number;
  timedOut: boolean;
  wallMs: number;
  /** Set when the program could not be started at all. */
  spawnError?: string;
}

export function timedRun(command: string, args: string[], opts: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<TimedRun> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let spawnError: string | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      spawnError = e.message;
    });
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('latin1'),
        stderr: Buffer.concat(err).toString('utf8'),
        status: timedOut || code === null ? -1 : code,
        timedOut,
        wallMs,
        spawnError,
      });
    });
  });
}
