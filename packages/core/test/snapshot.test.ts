// Clock snapshots and the state reader: timers re-armed from a snapshot keep their order.
import { describe, expect, it } from 'vitest';
import { MachineClock, rearmTimer, saveTimer, SnapshotError, StateReader } from '../src/index.js';

describe('MachineClock snapshot', () => {
  it('restores time and the sequence counter; re-armed timers due together fire in their original order', () => {
    let retired = 0;
    const a = new MachineClock();
    a.countInstructions(() => retired, 1);
    retired = 500;
    const fired: string[] = [];
    const t1 = a.schedule(1000, () => fired.push('first'));
    const t2 = a.schedule(1000, () => fired.push('second'));
    const saved = { clock: a.snapshot(), t1: saveTimer(t1), t2: saveTimer(t2) };

    const b = new MachineClock();
    let retiredB = 500; // the CPU restored first: same instruction count
    b.countInstructions(() => retiredB, 1);
    b.schedule(5, () => fired.push('stale')); // pending before the restore: dropped
    b.restore(saved.clock);
    expect(b.now()).toBe(500);
    // Re-armed in the opposite order: the saved sequence numbers put them back in place.
    rearmTimer(b, saved.t2, () => fired.push('second'));
    rearmTimer(b, saved.t1, () => fired.push('first'));
    b.schedule(1000, () => fired.push('new')); // a timer scheduled after the snapshot goes after both
    retiredB = 1000;
    b.runDue();
    expect(fired).toEqual(['first', 'second', 'new']);
  });
});

describe('StateReader', () => {
  it('names the owner, the field path and what was expected', () => {
    const r = StateReader.open('widget', { version: 3, a: { list: [1, 'x'] }, n: 7 }, 3);
    expect(() => r.child('a').ints('list', 2, 0, 9)).toThrow(new SnapshotError('widget', 'a.list[1] must be an integer 0..9, got the string "x"'));
    expect(() => r.uint('n', 2)).toThrow('widget: n must be an integer 0..3, got number 7');
    expect(() => StateReader.open('widget', { version: 2 }, 3)).toThrow('widget: saved state has version 2; this build restores version 3');
    expect(() => StateReader.open('widget', [1], 3)).toThrow('widget: saved state must be an object, got an array');
  });
});
