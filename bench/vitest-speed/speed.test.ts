// Not in any include list on purpose: bench/vitest-speed/run.ts starts it with a config of its own.
import { writeFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { measureInterpreter } from './workload.js';

test('interpreter speed under this vitest config', () => {
  const f = measureInterpreter(Number(process.env.SPEED_RUNS ?? 3));
  expect(f.cpuMips.length).toBeGreaterThan(0);
  if (process.env.SPEED_OUT) writeFileSync(process.env.SPEED_OUT, JSON.stringify(f));
});
