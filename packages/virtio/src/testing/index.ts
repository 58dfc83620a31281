/** Test support for virtio device packages: a CPU-less PC, legacy and modern drivers, and the virtqueue fuzzer. */
export { TestPc, ConfigPorts } from './test-pc.js';
export { DriverQueue, LegacyTestDriver, ModernTestDriver, driverFor, chainBytes, type Buf, type VirtioTestDriver } from './drivers.js';
export { Rng, caseSeed } from './rng.js';
export { runVirtqueueFuzz, walk, type FuzzDevice, type FuzzOptions, type FuzzResult, type FuzzFailure, type RefChain } from './fuzz.js';
