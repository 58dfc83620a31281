import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMachine } from '../src/create.js';
import { RegionFileStore, installRegionStore } from '../src/region-store.js';
import { ensureGuests, guestBuild, machines } from './support/paths.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'unimachine-region-store-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('RegionFileStore: the generated WebAssembly a run leaves for the next', () => {
  it('keeps what a run added, and writes nothing when a run added nothing', () => {
    const file = path.join(tmp, 'round-trip.regions');
    const first = new RegionFileStore(file);
    expect(first.get('a')).toBeUndefined();
    first.set('a', bytes(1, 2, 3));
    first.set('b,é', bytes()); // keys are latin1; an empty module is still an entry
    first.save();
    const second = new RegionFileStore(file);
    expect(Array.from(second.get('a')!)).toEqual([1, 2, 3]);
    expect(second.get('b,é')!.length).toBe(0);
    expect(second.get('c')).toBeUndefined();
    const written = readFileSync(file);
    second.save();
    expect(readFileSync(file).equals(written)).toBe(true);
  });

  it('reads a damaged or foreign file as an empty store, and replaces it at the next save', () => {
    const file = path.join(tmp, 'damaged.regions');
    const store = new RegionFileStore(file);
    store.set('key', bytes(9, 9, 9, 9));
    store.save();
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, whole.length - 1)); // truncated module
    expect(new RegionFileStore(file).get('key')).toBeUndefined();
    writeFileSync(file, Buffer.concat([whole, Buffer.from([1, 0])])); // a truncated entry header
    expect(new RegionFileStore(file).get('key')).toBeUndefined();
    writeFileSync(file, 'not a store at all');
    const again = new RegionFileStore(file);
    expect(again.get('key')).toBeUndefined();
    again.set('key', bytes(7));
    again.save();
    expect(Array.from(new RegionFileStore(file).get('key')!)).toEqual([7]);
  });

  it('when full, keeps the entries the last run used and drops older ones', () => {
    const file = path.join(tmp, 'full.regions');
    const entry = (n: number) => new Uint8Array(100).fill(n); // 112 bytes in the file with its 4-byte key: 5 fit in 600
    const old = new RegionFileStore(file, 600);
    for (let i = 0; i < 5; i++) old.set(`old${i}`, entry(i));
    old.save();
    const next = new RegionFileStore(file, 600);
    expect(next.get('old3')![0]).toBe(3); // used by this run
    for (let i = 0; i < 4; i++) next.set(`new${i}`, entry(10 + i));
    next.save();
    const kept = new RegionFileStore(file);
    expect(['old3', 'new0', 'new1', 'new2', 'new3'].map((k) => kept.get(k)?.[0])).toEqual([3, 10, 11, 12, 13]);
    expect(['old0', 'old1', 'old2', 'old4'].map((k) => kept.get(k))).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe('the WebAssembly tier with a store: a run from stored modules is the run it generated', () => {
  /** A deterministic hello with the tier compiling every block at once, through `store`. */
  async function hello(store: RegionFileStore | undefined) {
    installRegionStore(store as RegionFileStore);
    try {
      const m = await createMachine(path.join(machines, 'solo5-virtio.yaml'), {
        kernel: path.join(guestBuild, 'hello.elf'),
        append: 'foo bar=1',
        set: { 'cpu.jit': 0 },
      });
      try {
        const result = await m.run({ until: 'exit', timeoutMs: 60_000 });
        const jit = (m.cpu as unknown as { jit: { stats: { compiled: number } } }).jit.stats;
        return { end: result.end, console: Buffer.from(m.console('com1').bytes()).toString('latin1'), instructions: m.cpu.instructionsRetired, now: m.clock.now(), compiled: jit.compiled };
      } finally {
        await m.dispose();
      }
    } finally {
      installRegionStore(undefined as unknown as RegionFileStore);
    }
  }

  /** A store that counts what the tier asked and told, and can refuse to answer (so every region is generated). */
  class Watched extends RegionFileStore {
    gets = 0;
    hits = 0;
    readonly told = new Map<string, Uint8Array>();
    constructor(file: string, readonly answer = true) {
      super(file);
    }
    override get(key: string) {
      this.gets++;
      const found = this.answer ? super.get(key) : undefined;
      if (found) this.hits++;
      return found;
    }
    override set(key: string, b: Uint8Array) {
      this.told.set(key, b);
      super.set(key, b);
    }
  }

  it('the same console bytes, instructions and virtual time; equal keys give equal modules; a damaged entry is made again', async () => {
    ensureGuests('hello.elf');
    const file = path.join(tmp, 'hello.regions');
    const plain = await hello(undefined);
    expect(plain.end).toBe('exit');
    expect(plain.console).toContain('Hello from Unimachine!');
    expect(plain.compiled).toBeGreaterThan(3);

    const filling = new Watched(file);
    expect(await hello(filling)).toEqual(plain);
    // A region compiled again in the same run (its page decoded again) is already there.
    expect(filling.told.size + filling.hits).toBe(plain.compiled);
    expect(filling.told.size).toBeGreaterThan(3);
    filling.save();

    const replay = new Watched(file);
    expect(await hello(replay)).toEqual(plain);
    expect(replay.hits).toBe(plain.compiled);
    expect(replay.told.size).toBe(0);

    // Generated again for the same keys: the very same bytes.
    const regenerated = new Watched(path.join(tmp, 'unused.regions'), false);
    expect(await hello(regenerated)).toEqual(plain);
    expect([...regenerated.told.keys()].sort()).toEqual([...filling.told.keys()].sort());
    for (const [key, b] of regenerated.told) expect(Buffer.from(b).equals(Buffer.from(filling.told.get(key)!))).toBe(true);

    // An entry that is not WebAssembly (a damaged file that still parses): generated again, replaced.
    const damaged = new RegionFileStore(file);
    const someKey = [...filling.told.keys()][0];
    damaged.set(someKey, bytes(0, 1, 2, 3));
    damaged.save();
    const repaired = new Watched(file);
    expect(await hello(repaired)).toEqual(plain);
    expect([...repaired.told.keys()]).toEqual([someKey]);
    expect(Buffer.from(repaired.told.get(someKey)!).equals(Buffer.from(filling.told.get(someKey)!))).toBe(true);
  });
});
