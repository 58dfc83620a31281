import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlockBackend } from '@unimachine/core';
import { BackendConfigError, blockBackendPlugins, CopyOnWriteBlockBackend, fileBackendPlugin, FileBlockBackend, standaloneBackendContext } from '../src/index.js';
import { runChild, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

async function open(props: Record<string, unknown>): Promise<BlockBackend> {
  return (await fileBackendPlugin.create(standaloneBackendContext({ baseDir: tmp.dir, owner: 'disk0' }), props as never)) as BlockBackend;
}

/** The BackendConfigError a configuration produces (fails the test if it opens). */
async function failure(props: Record<string, unknown>): Promise<BackendConfigError> {
  try {
    const disk = await open(props);
    await disk.dispose?.();
  } catch (e) {
    expect(e).toBeInstanceOf(BackendConfigError);
    return e as BackendConfigError;
  }
  throw new Error(`expected ${JSON.stringify(props)} to be refused`);
}

describe('file backend plugin', () => {
  it('exports file and memory as block backends', () => {
    expect(blockBackendPlugins.map((p) => `${p.kind}:${p.type}`)).toEqual(['block:file', 'block:memory']);
  });

  it('resolves the path against the YAML folder and opens read-write by default', async () => {
    fs.writeFileSync(path.join(tmp.dir, 'disk.img'), Buffer.alloc(1024 * 1024));
    const disk = await open({ path: 'disk.img' });
    expect(disk).toBeInstanceOf(FileBlockBackend);
    expect(disk.size).toBe(1024 * 1024);
    expect(disk.readOnly).toBe(false);
    expect(disk.serial).toBe('disk.img');
    await disk.dispose?.();
  });

  it('snapshot: true gives a copy-on-write disk that is writable', async () => {
    fs.writeFileSync(path.join(tmp.dir, 'disk.img'), Buffer.alloc(4096));
    const disk = await open({ path: 'disk.img', snapshot: true });
    expect(disk).toBeInstanceOf(CopyOnWriteBlockBackend);
    expect(disk.readOnly).toBe(false);
    await disk.dispose?.();
  });

  it('a missing image names the path', async () => {
    const e = await failure({ path: 'nope.img' });
    expect(e.property).toBe('path');
    expect(e.message).toBe(`disk image not found: ${path.join(tmp.dir, 'nope.img')}`);
  });

  it('a path through a missing folder is "not found" too', async () => {
    const e = await failure({ path: 'no/such/dir/disk.img' });
    expect(e.message).toMatch(/^disk image not found: /);
  });

  it('a directory is refused', async () => {
    fs.mkdirSync(path.join(tmp.dir, 'images'));
    const e = await failure({ path: 'images' });
    expect(e.property).toBe('path');
    expect(e.message).toMatch(/images is a directory; a disk image must be a regular file or a block device$/);
  });

  it('a FIFO is refused at once, without blocking in open()', async () => {
    const fifo = path.join(tmp.dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    for (const props of [{ path: 'pipe' }, { path: 'pipe', readonly: true }, { path: 'pipe', snapshot: true }]) {
      const e = await failure(props);
      expect(e.property).toBe('path');
      expect(e.message).toMatch(/pipe is a FIFO \(named pipe\)/);
    }
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a character device is refused', async () => {
    const e = await failure({ path: '/dev/null', readonly: true });
    expect(e.message).toBe('/dev/null is a character device; a disk image must be a regular file or a block device');
  });

  it('an empty image is refused with a hint to size it', async () => {
    fs.writeFileSync(path.join(tmp.dir, 'empty.img'), '');
    const e = await failure({ path: 'empty.img' });
    expect(e.message).toMatch(/is empty \(0 bytes\); give it a size first, e\.g\. truncate -s 64M/);
  });

  it('read-write on a file without write permission fails with a hint to use readonly: true', async () => {
    const file = path.join(tmp.dir, 'ro.img');
    fs.writeFileSync(file, Buffer.alloc(4096));
    fs.chmodSync(file, 0o444);
    fs.chmodSync(tmp.dir, 0o755);
    // root ignores file modes, so the check runs as "nobody" in a child process.
    const asNobody = process.getuid?.() === 0 ? ['--as-nobody'] : [];
    const rw = await runChild(['open', file, ...asNobody]);
    const rwResult = JSON.parse(rw.stdout || rw.stderr);
    expect(rwResult).toEqual({
      ok: false,
      name: 'BackendConfigError',
      property: 'path',
      message: `cannot open disk image ${file} for writing (permission denied); use readonly: true, or snapshot: true to keep writes in memory`,
    });
    const ro = await runChild(['open', file, '--readonly', ...asNobody]);
    expect(JSON.parse(ro.stdout || ro.stderr)).toEqual({ ok: true, size: 4096, readOnly: true });
  });

  it('an image nobody may read is refused as unreadable', async () => {
    const file = path.join(tmp.dir, 'secret.img');
    fs.writeFileSync(file, Buffer.alloc(4096));
    fs.chmodSync(file, 0o000);
    fs.chmodSync(tmp.dir, 0o755);
    const asNobody = process.getuid?.() === 0 ? ['--as-nobody'] : [];
    for (const mode of [['--readonly'], []]) {
      const r = await runChild(['open', file, ...mode, ...asNobody]);
      // Read-write too: no hint about readonly: true, which would not help.
      expect(JSON.parse(r.stdout || r.stderr)).toMatchObject({ ok: false, property: 'path', message: `cannot read disk image ${file}: permission denied` });
    }
  });

  it('a serial property overrides the base name', async () => {
    fs.writeFileSync(path.join(tmp.dir, 'disk.img'), Buffer.alloc(512));
    const disk = await open({ path: 'disk.img', serial: 'UNIMACHINE-0001' });
    expect(disk.serial).toBe('UNIMACHINE-0001');
    await disk.dispose?.();
  });
});
