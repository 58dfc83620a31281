// The one WebAssembly API guest memory needs. Node provides it at run time, but neither
// @types/node 20 nor the ES lib declares it (only lib.dom does). Declared as lib.dom declares it
// (an interface and a var, not a class), so the two merge in a consumer that also has lib.dom.
declare global {
  namespace WebAssembly {
    interface MemoryDescriptor {
      initial: number;
      maximum?: number;
      shared?: boolean;
    }
    interface Memory {
      readonly buffer: ArrayBuffer;
      grow(delta: number): number;
    }
    var Memory: {
      prototype: Memory;
      new (descriptor: MemoryDescriptor): Memory;
    };
  }
}
export {};
