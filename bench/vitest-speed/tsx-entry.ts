import { writeFileSync } from 'node:fs';
import { measureInterpreter } from './workload.js';
writeFileSync(process.env.SPEED_OUT ?? '/dev/stdout', JSON.stringify(measureInterpreter(Number(process.env.SPEED_RUNS ?? 3))) + '\n');
