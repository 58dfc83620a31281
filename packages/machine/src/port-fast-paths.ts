import { CLOCK_CELLS, type CompiledPortIo, type GuestMemory, type PortBus } from '@unimachine/core';
import { F64, FunctionBody, I32, Op, buildModule, instantiate, type FuncType } from '@unimachine/core/wasm-writer';

const FAST_PATH: FuncType = { params: [I32, I32, I32, I32, F64], results: [F64] };
const PORT = 0, SIZE = 1, VALUE = 2, WRITE = 3, RETIRED = 4;

/**
 * The CPU's CompiledPortIo for a deterministic machine with one CPU: what Machine's `ports.onAccess`
 * and PortBus do for an access, in WebAssembly, for the ports whose devices have a fast path. It
 * charges `costNs` of virtual time to the clock's cells (`cellsAt`, CLOCK_CELLS, byte offset in the
 * machine's memory) when the device takes the access. An access that brings a timer due is left to
 * the normal path, whose ports.onAccess ends the CPU's slice so the timer fires on time. Undefined
 * when no device has a fast path.
 */
export function buildCompiledPortIo(memory: GuestMemory, ports: PortBus, cellsAt: number, costNs: number): { io: CompiledPortIo; ports: number[] } | undefined {
  const paths = ports.fastPaths();
  if (paths.length === 0) return undefined;
  const cell = (n: number): number => cellsAt + 8 * n;
  const f = new FunctionBody(FAST_PATH);
  const now = f.local(F64), result = f.local(F64);
  const load = (n: number): FunctionBody => f.i32(0).mem(Op.f64Load, cell(n), 3);
  // The time the device sees, as MachineClock.now() adds it up after advance(costNs).
  load(CLOCK_CELLS.OFFSET).f64(costNs).op(Op.f64Add);
  f.get(RETIRED);
  load(CLOCK_CELLS.COUNTER_BASE).op(Op.f64Sub);
  load(CLOCK_CELLS.NS_PER_INSTRUCTION).op(Op.f64Mul).op(Op.f64Add).tee(now);
  load(CLOCK_CELLS.NEXT_DEADLINE).op(Op.f64Ge).if().f64(-1).op(Op.return).end();
  f.block();
  paths.forEach((p, i) => {
    f.get(PORT).i32(p.start).op(Op.i32Sub).i32(p.length).op(Op.i32LtU).if();
    f.get(PORT).get(SIZE).get(VALUE).get(WRITE).get(now).call(i).set(result).br(1);
    f.end();
  });
  f.f64(-1).op(Op.return);
  f.end();
  f.get(result).f64(0).op(Op.f64Lt).if().f64(-1).op(Op.return).end();
  // Taken: charge the access.
  f.i32(0);
  load(CLOCK_CELLS.OFFSET).f64(costNs).op(Op.f64Add).mem(Op.f64Store, cell(CLOCK_CELLS.OFFSET), 3);
  f.get(result);
  const imports = paths.map((_, i) => ({ module: 'd', name: `p${i}`, type: FAST_PATH }));
  const bytes = buildModule(memory.wasm.buffer.byteLength / 65536, imports, [f]);
  const exports = instantiate(bytes, { env: { mem: memory.wasm }, d: Object.fromEntries(paths.map((p, i) => [`p${i}`, p.fn])) });
  const served = paths.flatMap((p) => Array.from({ length: p.length }, (_, k) => p.start + k));
  return { io: exports.f0 as CompiledPortIo, ports: served };
}
