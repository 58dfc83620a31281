import type { Machine } from './machine.js';
import type { ConsoleWatch } from './console-watch.js';

type ConsoleSubject = Machine | ConsoleWatch | string;

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

/**
 * Vitest (and Jest) matchers for consoles: `expect.extend(consoleMatchers)`, then
 * `expect(m).toHaveConsoleLine(/ready/)` (com1), `expect(m.uart('com2')).toHaveConsoleLine('ok')`.
 * No test-runner import: a matcher is a plain function returning { pass, message }.
 */
export const consoleMatchers = {
  toHaveConsoleLine(received: ConsoleSubject, pattern: RegExp | string, consoleId = 'com1'): MatcherResult {
    const text = typeof received === 'string' ? received : 'uart' in received ? received.uart(consoleId).text() : received.text();
    const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
    const test = (l: string) => (typeof pattern === 'string' ? l.includes(pattern) : pattern.test(l));
    const at = lines.findIndex(test);
    const tail = lines.slice(-20).map((l) => `  | ${l}`).join('\n');
    return {
      pass: at >= 0,
      message: () =>
        at >= 0
          ? `expected no console line matching ${String(pattern)}, but line ${at + 1} is ${JSON.stringify(lines[at])}`
          : `expected a console line matching ${String(pattern)}; last ${Math.min(20, lines.length)} lines:\n${tail}`,
    };
  },
};

/** For `declare module 'vitest' { interface Assertion<T> extends ConsoleMatchers<T> {} }`. */
export interface ConsoleMatchers<R = unknown> {
  toHaveConsoleLine(pattern: RegExp | string, consoleId?: string): R;
}
