import { describe, expect, it } from 'vitest';
import { runVirtqueueFuzz } from '@unimachine/virtio/testing';
import { buildNetFuzzTarget } from './fuzz-target.js';

describe('virtqueue fuzz: virtio-net', () => {
  it('100,000 random RX and TX rings: no exception, no write outside RAM, frames intact or dropped as the spec allows', () => {
    const result = runVirtqueueFuzz({ cases: 100_000, seed: 0x7e7, build: buildNetFuzzTarget });
    expect(result.failures).toEqual([]);
    expect(result.cases).toBe(100_000);
    expect(result.stats.completed).toBeGreaterThan(100_000);
    expect(result.stats.malformed).toBeGreaterThan(5_000);
    expect(result.stats.ringErrors).toBeGreaterThan(1_000);
  });
});
