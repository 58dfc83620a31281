// Every differential-execution family, in report order.
import type { Family } from './family.js';
import { aluFamily, atomicFamily, bitsFamily, condFamily, legacyFamily, movFamily, muldivFamily, shiftFamily } from './families-integer.js';
import { sseFloatFamily, sseIntFamily } from './families-sse.js';
import { branchFamily, stackFamily, stringFamily, systemFamily } from './families-control.js';
import { x87Family } from './families-x87.js';
import { x87EnvFamily } from './families-x87env.js';
import { bmiFamily, xsaveFamily } from './families-bmi.js';
import { legacy32Family } from './families-legacy32.js';
import { alignFamily } from './families-align.js';

export type { Draft, Family } from './family.js';

export const FAMILIES: Family[] = [
  aluFamily, movFamily, shiftFamily, muldivFamily, bitsFamily, condFamily, branchFamily, atomicFamily,
  stringFamily, stackFamily, sseFloatFamily, sseIntFamily, x87Family, x87EnvFamily, systemFamily, legacyFamily, bmiFamily, xsaveFamily,
  legacy32Family, alignFamily,
];

export const familyByName = (name: string): Family | undefined => FAMILIES.find((x) => x.name === name);
