// The one WebAssembly API guest memory needs. Node provides it at run time, but neither
// @types/node 20 nor the ES lib declares it (only lib.dom does).
declare global {
  namespace WebAssembly {
    interface MemoryDescriptor {
      initial: number;
      maximum?: number;
      shared?: boolean;
    }
    class Memory {
      constructor(descriptor: MemoryDescriptor);
      readonly buffer: ArrayBuffer;
      grow(delta: number): number;
    }
  }
}
export {};
