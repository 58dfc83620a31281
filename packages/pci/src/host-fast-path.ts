import type { PortFastPath } from '@unimachine/core';
import { FunctionBody, I32, Op, PORT_IO_PARAM, PORT_IO_TYPE, compileFunction } from '@unimachine/core/wasm-writer';

/**
 * The host's cells in the machine's memory (int32 slots): CONFIG_ADDRESS, then per bus number the
 * slots a configuration cycle for that bus finds a function in (bit n: slot n), as the bridges
 * route it now. PciHost writes the routing after every change to it.
 */
export const PCI_CELL = { ADDRESS: 0, SLOTS_OF_BUS: 1, BYTES: 4 + 256 * 4 } as const;

const CONFIG_ADDRESS_PORT = 0xcf8;
const ENABLE = 0x80000000 | 0;
const ADDRESS_MASK = 0x80fffffc | 0;
const { PORT, SIZE, VALUE, WRITE } = PORT_IO_PARAM;

/**
 * Configuration mechanism #1 in WebAssembly (core PortFastPath) over the cells at `cellsAt`: dword
 * accesses to CONFIG_ADDRESS, and data accesses (0xCFC-0xCFF) that reach no function, which read
 * all ones and drop writes, as PciHost's readData/writeData do. A firmware-style scan of every bus
 * is almost all such probes. An access to a slot that holds a function is declined to the JS host.
 */
export function buildPciHostFastPath(memory: WebAssembly.Memory, cellsAt: number): PortFastPath {
  const f = new FunctionBody(PORT_IO_TYPE);
  const a = f.local(I32);
  const address = (): FunctionBody => f.i32(0).mem(Op.i32Load, cellsAt + 4 * PCI_CELL.ADDRESS, 2);
  const ret = (value: () => void): void => { value(); f.op(Op.f64ConvertI32U).op(Op.return); };

  f.get(PORT).i32(CONFIG_ADDRESS_PORT).op(Op.i32Eq).if();
  {
    f.get(SIZE).i32(4).op(Op.i32Ne).if().f64(-1).op(Op.return).end();
    f.get(WRITE).if();
    f.i32(0).get(VALUE).i32(ADDRESS_MASK).op(Op.i32And).mem(Op.i32Store, cellsAt + 4 * PCI_CELL.ADDRESS, 2);
    ret(() => f.i32(0));
    f.end();
    ret(address);
  }
  f.end();
  // CONFIG_DATA: a function there (enabled, and its slot occupied on the bus the cycle reaches) is the JS host's.
  address().tee(a).i32(ENABLE).op(Op.i32And).if();
  {
    f.get(a).i32(16).op(Op.i32ShrU).i32(0xff).op(Op.i32And).i32(4).op(Op.i32Mul);
    f.mem(Op.i32Load, cellsAt + 4 * PCI_CELL.SLOTS_OF_BUS, 2);
    f.get(a).i32(11).op(Op.i32ShrU).i32(31).op(Op.i32And).op(Op.i32ShrU).i32(1).op(Op.i32And);
    f.if().f64(-1).op(Op.return).end();
  }
  f.end();
  f.get(WRITE).if(); ret(() => f.i32(0)); f.end();
  // All ones, as wide as the access: 0xff, 0xffff or 0xffffffff.
  ret(() => f.i32(-1).i32(1).get(SIZE).i32(3).op(Op.i32Shl).op(Op.i32Shl).i32(1).op(Op.i32Sub).get(SIZE).i32(4).op(Op.i32Eq).op(Op.select));

  return compileFunction(memory, f) as PortFastPath;
}
