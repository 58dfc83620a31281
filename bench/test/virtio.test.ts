/**
 * The virtio rows' machinery, not their speed (speed is measured by bench/virtio.ts, never
 * asserted): console lines are stamped when they complete, the blk-bench guest really writes,
 * flushes and reads back a disk on both machines, and cells summarise runs honestly.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineStamper, followConsole } from '../lib/console-lines.js';
import { ROOT } from '../lib/paths.js';
import { QEMU } from '../lib/qemu.js';
import { blkOnQemu, blkOnUnimachine, createImage } from '../lib/virtio-blk.js';
import { finishCell } from '../lib/virtio-report.js';

const CHUNK = 64 * 1024;
// "BLKBENCH" (0x424c4b42454e4348) xor the chunk number, as guest/apps/blk-bench/main.c stamps each chunk.
const STAMP_HIGH = 0x424c4b42;
const STAMP_LOW = 0x454e4348;
const qemuInstalled = spawnSync(QEMU, ['--version']).status === 0;

describe('LineStamper', () => {
  it('stamps a line when its newline arrives, across chunks', () => {
    const s = new LineStamper();
    s.feed('phase wr', 1);
    s.feed('ite start\nphase', 2);
    s.feed(' write end\r\ntail', 3);
    expect(s.lines).toEqual([
      { at: 2, text: 'phase write start' },
      { at: 3, text: 'phase write end' },
    ]);
    expect(s.find('end')?.at).toBe(3);
    expect(s.text()).toBe('phase write start\nphase write end\ntail');
  });

  it('follows a console from an until callback, reading only the new bytes', () => {
    let bytes = new TextEncoder().encode('a\nb');
    const s = new LineStamper();
    let stop = false;
    const until = followConsole({ bytes: () => bytes }, s, () => stop);
    expect(until()).toBe(false);
    bytes = new TextEncoder().encode('a\nbc\n');
    stop = true;
    expect(until()).toBe(true);
    expect(s.lines.map((l) => l.text)).toEqual(['a', 'bc']);
  });
});

describe('finishCell', () => {
  it('takes the median of good runs and marks the cell failed with the first bad run', () => {
    expect(finishCell([{ ok: true, value: 3 }, { ok: true, value: 1 }, { ok: true, value: 2 }])).toMatchObject({ state: 'ok', median: 2, min: 1, max: 3 });
    const c = finishCell([{ ok: true, value: 5 }, { ok: false, problem: 'timed out', value: NaN }]);
    expect(c).toMatchObject({ state: 'failed', reason: 'timed out', median: 5 });
  });
});

describe('blk-bench guest', () => {
  let dir: string;
  beforeAll(() => {
    execFileSync('make', ['-s', '-C', join(ROOT, 'guest')], { stdio: ['ignore', 'inherit', 'inherit'] });
    dir = mkdtempSync(join(tmpdir(), 'unimachine-blk-bench-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Every 64 KiB chunk of the image starts with its stamp, as the guest wrote it through the device. */
  function expectStamped(image: string, bytes: number): void {
    const data = readFileSync(image);
    for (let c = 0; c < bytes / CHUNK; c++) {
      const first = c * CHUNK;
      const last = first + CHUNK - 8;
      expect([data.readUInt32LE(first), data.readUInt32LE(first + 4)], `first stamp of chunk ${c}`).toEqual([(STAMP_LOW ^ c) >>> 0, STAMP_HIGH]);
      expect([data.readUInt32LE(last), data.readUInt32LE(last + 4)], `last stamp of chunk ${c}`).toEqual([~(STAMP_LOW ^ c) >>> 0, ~STAMP_HIGH >>> 0]);
    }
  }

  it('writes, flushes and reads back a file-backed disk on Unimachine, each phase between host-stamped markers', async () => {
    const image = join(dir, 'unimachine.img');
    createImage(image, 2 * 1024 * 1024);
    const r = await blkOnUnimachine(image, 60_000);
    expect(r.problem).toBeUndefined();
    expect(r.bytes).toBe(2 * 1024 * 1024);
    for (const phase of ['write', 'flush', 'read'] as const) expect(r.hostMs[phase]).toBeGreaterThanOrEqual(0);
    expect(r.guestNs.write).toBeGreaterThan(0);
    expectStamped(image, r.bytes);
  });

  it('stops at size=MiB and reports a disk smaller than one request', async () => {
    const image = join(dir, 'limited.img');
    createImage(image, 2 * 1024 * 1024);
    expect((await blkOnUnimachine(image, 60_000, 'size=1')).bytes).toBe(1024 * 1024);
    const tiny = join(dir, 'tiny.img');
    createImage(tiny, 32 * 1024);
    const r = await blkOnUnimachine(tiny, 60_000);
    expect(r.ok).toBe(false);
    expect(r.problem).toContain('smaller than one 64 KiB request');
  });

  it.skipIf(!qemuInstalled)('does the same on QEMU', async () => {
    const image = join(dir, 'qemu.img');
    createImage(image, 2 * 1024 * 1024);
    const r = await blkOnQemu(image, 60_000);
    expect(r.problem).toBeUndefined();
    expectStamped(image, r.bytes);
  });
});
