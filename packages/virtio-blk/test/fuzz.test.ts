import { describe, expect, it } from 'vitest';
import { runVirtqueueFuzz } from '@unimachine/virtio/testing';
import { buildBlkFuzzTarget } from './fuzz-target.js';

describe('virtqueue fuzz: virtio-blk', () => {
  it('100,000 random descriptor tables, indexes and lengths: no exception, no write outside RAM, every request completes or fails as the spec allows', () => {
    const result = runVirtqueueFuzz({ cases: 100_000, seed: 0xb10c, build: buildBlkFuzzTarget });
    expect(result.failures).toEqual([]);
    expect(result.cases).toBe(100_000);
    // The cases really reached every outcome.
    expect(result.stats.completed).toBeGreaterThan(100_000);
    expect(result.stats.malformed).toBeGreaterThan(5_000);
    expect(result.stats.ringErrors).toBeGreaterThan(1_000);
    expect(result.stats.chaos).toBeGreaterThan(10_000);
  });
});
