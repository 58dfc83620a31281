export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function min(xs: number[]): number {
  return xs.length ? Math.min(...xs) : NaN;
}

export function max(xs: number[]): number {
  return xs.length ? Math.max(...xs) : NaN;
}

/** Fixed decimals, or '-' for a missing value. */
export function fmt(x: number | undefined, decimals: number): string {
  return x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(decimals);
}

/** Parse a positive integer command-line option, or throw naming the option. */
export function positiveInt(s: string, name: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${s}`);
  return n;
}

/** Progress goes to stderr so stdout stays clean for tables. */
export function log(s: string): void {
  process.stderr.write(s + '\n');
}
