import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDiskImage, createDiskImage, exitStatus, matchExpected } from './expected.js';

describe('matchExpected', () => {
  it('accepts identical text', () => {
    expect(matchExpected('a\nb\n', 'a\nb\n')).toEqual({ ok: true, diff: '' });
  });

  it('reports the differing line', () => {
    const r = matchExpected('a\nb\n', 'a\nc\n');
    expect(r.ok).toBe(false);
    expect(r.diff).toContain('line 2');
    expect(r.diff).toContain('"b"');
    expect(r.diff).toContain('"c"');
  });

  it('reports missing and extra lines', () => {
    expect(matchExpected('a\nb\n', 'a\n').diff).toContain('expected 2 lines, got 1');
    expect(matchExpected('a\n', 'a\nb\n').ok).toBe(false);
    expect(matchExpected('a\n', 'a').ok).toBe(false);
  });

  it('matches {{n}} against decimal numbers only', () => {
    expect(matchExpected('took {{n}} ms\n', 'took 1234 ms\n').ok).toBe(true);
    expect(matchExpected('delta {{n}}\n', 'delta -5\n').ok).toBe(true);
    expect(matchExpected('took {{n}} ms\n', 'took 12a ms\n').ok).toBe(false);
    expect(matchExpected('took {{n}} ms\n', 'took  ms\n').ok).toBe(false);
  });

  it('matches {{x}} against hex digits and {{*}} against anything', () => {
    expect(matchExpected('RIP {{x}}\n', 'RIP 00000000001027b3\n').ok).toBe(true);
    expect(matchExpected('RIP {{x}}\n', 'RIP 0x1027b3\n').ok).toBe(false);
    expect(matchExpected('[{{*}}]\n', '[any thing]\n').ok).toBe(true);
    expect(matchExpected('[{{*}}]\n', '[]\n').ok).toBe(true);
  });

  it('treats regex characters in the expected text literally', () => {
    expect(matchExpected('a.b (c) $1 [x]*\n', 'a.b (c) $1 [x]*\n').ok).toBe(true);
    expect(matchExpected('a.b\n', 'axb\n').ok).toBe(false);
  });

  it('binds named placeholders across lines', () => {
    const expected = 'expect RIP {{x:rip}}\nRIP {{x:rip}} flags {{x}}\n';
    expect(matchExpected(expected, 'expect RIP 1027b3\nRIP 1027b3 flags 46\n').ok).toBe(true);
    const wrong = matchExpected(expected, 'expect RIP 1027b3\nRIP 1027b4 flags 46\n');
    expect(wrong.ok).toBe(false);
    expect(wrong.diff).toContain('line 2');
    expect(matchExpected('{{n:a}} {{n:a}}\n', '7 7\n').ok).toBe(true);
    expect(matchExpected('{{n:a}} {{n:a}}\n', '7 8\n').ok).toBe(false);
  });
});

describe('exitStatus', () => {
  it('follows isa-debug-exit: (code << 1) | 1', () => {
    expect(exitStatus(0)).toBe(1);
    expect(exitStatus(1)).toBe(3);
    expect(exitStatus(41)).toBe(83);
    expect(exitStatus(46)).toBe(93);
  });
});

describe('disk images', () => {
  it('are created with the "before" texts and checked for the "after" texts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-disk-'));
    try {
      const path = join(dir, 'disk.img');
      const spec = { sizeBytes: 4096, before: [{ offset: 0, text: 'SIG' }], after: [{ offset: 1024, text: 'done' }] };
      createDiskImage(spec, path);
      const image = readFileSync(path);
      expect(image.length).toBe(4096);
      expect(image.toString('latin1', 0, 3)).toBe('SIG');
      expect(checkDiskImage(spec, path)).toEqual(['expected "done" at byte 1024 of the disk image']);
      createDiskImage({ ...spec, before: [...spec.before, { offset: 1024, text: 'done' }] }, path);
      expect(checkDiskImage(spec, path)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
