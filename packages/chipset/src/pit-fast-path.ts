import type { PortFastPath } from '@unimachine/core';
import { FunctionBody, I32, I64, Op, PORT_IO_PARAM, PORT_IO_TYPE, compileFunction } from '@unimachine/core/wasm-writer';
import { CELL } from './pit-channel.js';
import { PIT_HZ } from './pit-time.js';

const { PORT, SIZE, VALUE, WRITE, TIME: NOW } = PORT_IO_PARAM;
const DECLINE = -1;

/**
 * The 8254's fast path (core PortFastPath) over the three counters' cells at `cellsAt` in `memory`
 * (CELL.BYTES each, pit-channel.ts): the accesses a guest makes to read a running counter, as
 * PitChannel does them. A latch command (OUT 0x43 with counter select 0-2 and access bits 00), and
 * byte reads of 0x40-0x42 while a count is latched, or while the counter runs in binary with nothing
 * pending (CELL.FAST_MODE). Anything else (control words, count writes, read-back, BCD, port 0x61)
 * goes to the JS device, which then publishes the counter's new state.
 */
export function buildPitFastPath(memory: WebAssembly.Memory, cellsAt: number): PortFastPath {
  const f = new FunctionBody(PORT_IO_TYPE);
  const ch = f.local(I32), count = f.local(I32), d = f.local(I64), n = f.local(I64), v = f.local(I32);
  const cell = (slot: number): number => cellsAt + 4 * slot;
  const load = (slot: number): FunctionBody => f.get(ch).mem(Op.i32Load, cell(slot), 2);
  const store = (slot: number, value: () => void): void => { f.get(ch); value(); f.mem(Op.i32Store, cell(slot), 2); };
  const ret = (value: () => void): void => { value(); f.op(Op.f64ConvertI32U).op(Op.return); };
  const decline = (): void => { f.f64(DECLINE).op(Op.return); };

  f.get(SIZE).i32(1).op(Op.i32Ne).if(); decline(); f.end();
  f.get(WRITE).if();
  {
    // OUT 0x43: only a counter latch command (SC 0-2, RW 00).
    f.get(PORT).i32(0x43).op(Op.i32Ne).get(VALUE).i32(0xc0).op(Op.i32And).i32(0xc0).op(Op.i32Eq).op(Op.i32Or)
      .get(VALUE).i32(0x30).op(Op.i32And).op(Op.i32Or).if(); decline(); f.end();
    f.get(VALUE).i32(6).op(Op.i32ShrU).i32(CELL.BYTES).op(Op.i32Mul).set(ch);
    // A second latch before the count is read is ignored (PitChannel.latchCount).
    load(CELL.LATCHED).if(); ret(() => f.i32(0)); f.end();
    load(CELL.FAST_MODE).i32(0).op(Op.i32LtS).if(); decline(); f.end();
    emitCount();
    store(CELL.LATCH_VALUE, () => f.get(count));
    store(CELL.LATCHED, () => f.i32(1));
    store(CELL.LATCH_HIGH_NEXT, () => load(CELL.ACCESS).i32(2).op(Op.i32Eq));
    ret(() => f.i32(0));
  }
  f.end();
  // IN 0x40-0x42 (PitChannel.readData), except with a read-back status waiting.
  f.get(PORT).i32(0x40).op(Op.i32Sub).tee(ch).i32(3).op(Op.i32GeU).if(); decline(); f.end();
  f.get(ch).i32(CELL.BYTES).op(Op.i32Mul).set(ch);
  load(CELL.STATUS_LATCHED).if(); decline(); f.end();
  load(CELL.LATCHED).if();
  {
    load(CELL.LATCH_VALUE).set(v);
    load(CELL.ACCESS).i32(3).op(Op.i32Eq);
    load(CELL.LATCH_HIGH_NEXT).op(Op.i32Eqz).op(Op.i32And).if();
    store(CELL.LATCH_HIGH_NEXT, () => f.i32(1));
    ret(() => f.get(v).i32(0xff).op(Op.i32And));
    f.end();
    store(CELL.LATCHED, () => f.i32(0));
    ret(() => { f.get(v).i32(8).op(Op.i32ShrU).get(v).i32(0xff).op(Op.i32And); load(CELL.LATCH_HIGH_NEXT).op(Op.select); });
  }
  f.end();
  // Not latched: the live count.
  load(CELL.FAST_MODE).i32(0).op(Op.i32LtS).if(); decline(); f.end();
  emitCount();
  load(CELL.ACCESS).i32(1).op(Op.i32Eq).if(); ret(() => f.get(count).i32(0xff).op(Op.i32And)); f.end();
  load(CELL.ACCESS).i32(2).op(Op.i32Eq).if(); ret(() => f.get(count).i32(8).op(Op.i32ShrU)); f.end();
  store(CELL.READ_HIGH_NEXT, () => load(CELL.READ_HIGH_NEXT).op(Op.i32Eqz));
  load(CELL.READ_HIGH_NEXT).if(); ret(() => f.get(count).i32(0xff).op(Op.i32And)); f.end();
  ret(() => f.get(count).i32(8).op(Op.i32ShrU));

  /**
   * count = PitChannel.count() & 0xffff for a counter in FAST_MODE: d clocks since LOAD_TICK, where
   * the clock count is core ticksAt(NOW, PIT_HZ) computed the same way (exact in float64).
   */
  function emitCount(): void {
    const t = (): FunctionBody => f.get(NOW).op(Op.f64Floor);
    const seconds = (): FunctionBody => t().f64(1e9).op(Op.f64Div).op(Op.f64Floor);
    seconds().f64(PIT_HZ).op(Op.f64Mul);
    t(); seconds().f64(1e9).op(Op.f64Mul).op(Op.f64Sub).f64(PIT_HZ).op(Op.f64Mul).f64(1e9).op(Op.f64Div).op(Op.f64Floor);
    f.op(Op.f64Add);
    f.get(ch).mem(Op.f64Load, cellsAt + 8 * CELL.LOAD_TICK_F64, 3).op(Op.f64Sub).op(Op.i64TruncF64S).set(d);
    load(CELL.PERIOD).op(Op.i64ExtendI32U).set(n);
    // mode 2: (n - d % n) % m; mode 3: counts down by two through each half period; else (n - d) mod m.
    load(CELL.FAST_MODE).i32(2).op(Op.i32Eq).if();
    f.get(n).get(d).get(n).op(Op.i64RemS).op(Op.i64Sub).op(Op.i32WrapI64).i32(0xffff).op(Op.i32And).set(count);
    f.op(Op.else);
    load(CELL.FAST_MODE).i32(3).op(Op.i32Eq).if();
    {
      // phase = d % n; half = (n + 1) >> 1; inHalf = phase < half ? phase : phase - half
      f.get(d).get(n).op(Op.i64RemS).set(d);
      f.get(d).get(d).get(n).i64(1).op(Op.i64Add).i64(1).op(Op.i64ShrS).op(Op.i64Sub)
        .get(d).get(n).i64(1).op(Op.i64Add).i64(1).op(Op.i64ShrS).op(Op.i64LtS).op(Op.select).set(d);
      f.get(n).i64(-2).op(Op.i64And).get(d).i64(1).op(Op.i64Shl).op(Op.i64Sub).op(Op.i32WrapI64).i32(0xffff).op(Op.i32And).set(count);
    }
    f.op(Op.else);
    f.get(n).get(d).op(Op.i64Sub).op(Op.i32WrapI64).i32(0xffff).op(Op.i32And).set(count);
    f.end();
    f.end();
  }

  return compileFunction(memory, f) as PortFastPath;
}
