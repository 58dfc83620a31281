import { CLOCK_CELLS, type CompiledPortIo, type GuestMemory, type PortFastPath } from '@unimachine/core';
import { F64, FunctionBody, Op, PORT_IO_PARAM, PORT_IO_TYPE, compileFunction } from '@unimachine/core/wasm-writer';

const { PORT, SIZE, VALUE, WRITE, TIME: RETIRED } = PORT_IO_PARAM;

/**
 * The CPU's CompiledPortIo for a deterministic machine with one CPU: what Machine's `ports.onAccess`
 * and PortBus do for an access, in WebAssembly, for the ports whose devices have a fast path
 * (`paths`, PortBus.fastPaths(), at least one). It charges `costNs` of virtual time to the clock's
 * cells (`cellsAt`, CLOCK_CELLS, byte offset in the machine's memory) when the device takes the
 * access. An access that brings a timer due is left to the normal path, whose ports.onAccess ends
 * the CPU's slice so the timer fires on time.
 */
export function buildCompiledPortIo(memory: GuestMemory, paths: readonly { start: number; length: number; fn: PortFastPath }[], cellsAt: number, costNs: number): { io: CompiledPortIo; ports: number[] } {
  const cell = (n: number): number => cellsAt + 8 * n;
  const f = new FunctionBody(PORT_IO_TYPE);
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
  const io = compileFunction(memory.wasm, f, paths.map((p) => ({ type: PORT_IO_TYPE, fn: p.fn }))) as CompiledPortIo;
  return { io, ports: paths.flatMap((p) => Array.from({ length: p.length }, (_, k) => p.start + k)) };
}
