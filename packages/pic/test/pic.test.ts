import { describe, expect, it } from 'vitest';
import { I8259Pair } from '../src/index.js';

/** The sequence Linux's init_8259A() writes (vectors 0x20 and 0x28). */
function linuxInit(pic: I8259Pair, autoEoi = false): void {
  const out = (port: number, v: number) => pic.ports.write(port, 1, v);
  out(0x21, 0xff);
  out(0xa1, 0xff);
  out(0x20, 0x11); // ICW1: edge, cascade, ICW4 needed
  out(0x21, 0x20); // ICW2: vector base 0x20
  out(0x21, 0x04); // ICW3: slave on IR2
  out(0x21, autoEoi ? 0x03 : 0x01); // ICW4: 8086 mode (+ auto-EOI)
  out(0xa0, 0x11);
  out(0xa1, 0x28);
  out(0xa1, 0x02); // ICW3: slave id 2
  out(0xa1, 0x01);
  out(0x21, 0x00); // unmask everything
  out(0xa1, 0x00);
}

const inb = (pic: I8259Pair, port: number) => pic.ports.read(port, 1);
const outb = (pic: I8259Pair, port: number, v: number) => pic.ports.write(port, 1, v);

describe('8259A pair', () => {
  it('programs vectors with the Linux init sequence and delivers IRQ 4 as vector 0x24', () => {
    const pic = new I8259Pair();
    linuxInit(pic);
    expect(pic.master.vectorBase).toBe(0x20);
    expect(pic.slave.vectorBase).toBe(0x28);
    expect(pic.master.mode8086).toBe(true);
    expect(pic.pending()).toBe(false);
    pic.line(4).pulse();
    expect(pic.pending()).toBe(true);
    expect(inb(pic, 0x20)).toBe(0x10); // IRR
    expect(pic.acknowledge()).toBe(0x24);
    expect(pic.pending()).toBe(false);
    outb(pic, 0x20, 0x0b); // OCW3: read ISR
    expect(inb(pic, 0x20)).toBe(0x10);
    outb(pic, 0x20, 0x20); // non-specific EOI
    expect(inb(pic, 0x20)).toBe(0);
  });

  it('holds masked requests in IRR and delivers them when unmasked', () => {
    const pic = new I8259Pair();
    linuxInit(pic);
    outb(pic, 0x21, 0x01);
    expect(inb(pic, 0x21)).toBe(0x01);
    pic.line(0).pulse();
    expect(pic.pending()).toBe(false);
    expect(inb(pic, 0x20) & 1).toBe(1);
    outb(pic, 0x21, 0x00);
    expect(pic.pending()).toBe(true);
    expect(pic.acknowledge()).toBe(0x20);
  });

  it('serves simultaneous requests by priority and nests a higher one during service', () => {
    const pic = new I8259Pair();
    linuxInit(pic);
    pic.line(5).pulse();
    pic.line(3).pulse();
    expect(pic.acknowledge()).toBe(0x23);
    expect(pic.pending()).toBe(false); // IRQ 5 waits behind IRQ 3 in service
    pic.line(1).pulse();
    expect(pic.pending()).toBe(true); // IRQ 1 outranks IRQ 3
    expect(pic.acknowledge()).toBe(0x21);
    outb(pic, 0x20, 0x20); // EOI clears the highest in service: IRQ 1
    expect(pic.pending()).toBe(false);
    outb(pic, 0x20, 0x63); // specific EOI for IRQ 3
    expect(pic.acknowledge()).toBe(0x25);
  });

  it('cascades IRQ 8..15 through the slave, setting both ISRs', () => {
    const pic = new I8259Pair();
    linuxInit(pic);
    pic.line(12).pulse();
    expect(pic.pending()).toBe(true);
    expect(pic.acknowledge()).toBe(0x2c);
    outb(pic, 0x20, 0x0b);
    outb(pic, 0xa0, 0x0b);
    expect(inb(pic, 0x20)).toBe(0x04);
    expect(inb(pic, 0xa0)).toBe(0x10);
    // Another slave request waits for both EOIs.
    pic.line(14).pulse();
    expect(pic.pending()).toBe(false);
    outb(pic, 0xa0, 0x20);
    expect(pic.pending()).toBe(false); // master still has IR2 in service
    outb(pic, 0x20, 0x20);
    expect(pic.pending()).toBe(true);
    expect(pic.acknowledge()).toBe(0x2e);
  });

  it('masks slave lines through the slave IMR and the cascade through the master IMR', () => {
    const pic = new I8259Pair();
    linuxInit(pic);
    outb(pic, 0x21, 0x04);
    pic.line(8).pulse();
    expect(pic.pending()).toBe(false);
    outb(pic, 0x21, 0x00);
    expect(pic.acknowledge()).toBe(0x28);
    outb(pic, 0xa1, 0x02);
    pic.line(9).pulse();
    expect(pic.pending()).toBe(false);
  });

  it('auto-EOI leaves no ISR bit behind', () => {
    const pic = new I8259Pair();
    linuxInit(pic, true);
    pic.line(6).pulse();
    expect(pic.acknowledge()).toBe(0x26);
    outb(pic, 0x20, 0x0b);
    expect(inb(pic, 0x20)).toBe(0);
    pic.line(6).pulse();
    expect(pic.pending()).toBe(true);
  });

  it('rotates priorities on EOI and with set-priority', () => {
    const pic = new I8259Pair();
    linuxInit(pic);
    pic.line(0).pulse();
    expect(pic.acknowledge()).toBe(0x20);
    outb(pic, 0x20, 0xa0); // rotate on non-specific EOI: IRQ 0 becomes lowest
    pic.line(0).pulse();
    pic.line(1).pulse();
    expect(pic.acknowledge()).toBe(0x21); // IRQ 1 is now the highest
    outb(pic, 0x20, 0xe1); // rotate on specific EOI 1: IRQ 2 now highest
    expect(pic.acknowledge()).toBe(0x20);
    outb(pic, 0x20, 0x60);
    outb(pic, 0x20, 0xc4); // set priority: IRQ 4 lowest, IRQ 5 highest
    pic.line(3).pulse();
    pic.line(6).pulse();
    expect(pic.acknowledge()).toBe(0x26);
  });

  it('rotates in automatic EOI mode when asked', () => {
    const pic = new I8259Pair();
    linuxInit(pic, true);
    outb(pic, 0x20, 0x80); // rotate in auto-EOI mode (set)
    pic.line(3).pulse();
    expect(pic.acknowledge()).toBe(0x23);
    pic.line(3).pulse();
    pic.line(5).pulse();
    expect(pic.acknowledge()).toBe(0x25); // 3 went to the bottom
  });

  it('special mask mode lets lower-priority lines in while a masked one is in service', () => {
    const pic = new I8259Pair();
    linuxInit(pic);
    pic.line(1).pulse();
    expect(pic.acknowledge()).toBe(0x21);
    pic.line(5).pulse();
    expect(pic.pending()).toBe(false);
    outb(pic, 0x21, 0x02); // mask IRQ 1 (in service)
    outb(pic, 0x20, 0x68); // OCW3: set special mask mode
    expect(pic.pending()).toBe(true);
    expect(pic.acknowledge()).toBe(0x25);
    outb(pic, 0x20, 0x48); // reset special mask mode
    expect(pic.master.specialMask).toBe(false);
  });

  it('poll mode returns the request as 0x80|irq and acknowledges it', () => {
    const pic = new I8259Pair();
    linuxInit(pic);
    outb(pic, 0x21, 0xff); // polling works with the INT output unused
    outb(pic, 0x21, 0x00);
    pic.line(7).pulse();
    outb(pic, 0x20, 0x0c); // OCW3 poll
    expect(inb(pic, 0x20)).toBe(0x87);
    outb(pic, 0x20, 0x0b);
    expect(inb(pic, 0x20)).toBe(0x80); // ISR bit 7 set by the poll
    outb(pic, 0x20, 0x20);
    outb(pic, 0x20, 0x0c);
    expect(inb(pic, 0x20)).toBe(0x00); // nothing pending
  });

  it('edge lines latch a pulse; level lines (ELCR) follow the wire', () => {
    const pic = new I8259Pair();
    linuxInit(pic);
    outb(pic, 0x4d1, 0x08); // IRQ 11 level-triggered
    expect(inb(pic, 0x4d1)).toBe(0x08);
    outb(pic, 0x4d0, 0xff);
    expect(inb(pic, 0x4d0)).toBe(0xf8); // IRQ 0-2 are edge only
    outb(pic, 0x4d0, 0x00);

    pic.line(11).raise();
    expect(pic.acknowledge()).toBe(0x2b);
    outb(pic, 0xa0, 0x20);
    outb(pic, 0x20, 0x20);
    expect(pic.pending()).toBe(true); // still asserted: requests again after EOI
    pic.line(11).lower();
    // The master latched the cascade edge; the slave's request is gone: spurious IRQ 15.
    expect(pic.acknowledge()).toBe(0x2f);
    outb(pic, 0x20, 0x20);
    expect(pic.pending()).toBe(false);

    pic.line(10).raise(); // edge line: one request per rising edge
    expect(pic.acknowledge()).toBe(0x2a);
    outb(pic, 0xa0, 0x20);
    outb(pic, 0x20, 0x20);
    expect(pic.pending()).toBe(false);
    pic.line(10).raise();
    expect(pic.pending()).toBe(false); // no new edge
    pic.line(10).lower();
    pic.line(10).raise();
    expect(pic.pending()).toBe(true);
  });

  it('gives spurious IRQ 7 with no ISR bit when a level request vanishes before INTA', () => {
    const pic = new I8259Pair(0x0020); // IRQ 5 level via the elcr property
    linuxInit(pic);
    pic.line(5).raise();
    expect(pic.pending()).toBe(true);
    pic.line(5).lower();
    expect(pic.acknowledge()).toBe(0x27);
    outb(pic, 0x20, 0x0b);
    expect(inb(pic, 0x20)).toBe(0);
  });

  it('gives spurious IRQ 15 with the master ISR bit 2 set', () => {
    const pic = new I8259Pair(0x0800);
    linuxInit(pic);
    pic.line(11).raise();
    pic.line(11).lower(); // gone before INTA, but the master latched the cascade edge
    expect(pic.acknowledge()).toBe(0x2f);
    outb(pic, 0x20, 0x0b);
    outb(pic, 0xa0, 0x0b);
    expect(inb(pic, 0x20)).toBe(0x04);
    expect(inb(pic, 0xa0)).toBe(0x00);
  });

  it('special fully nested mode lets a higher slave request nest inside IR2 service', () => {
    const normal = new I8259Pair();
    linuxInit(normal);
    normal.line(12).pulse();
    expect(normal.acknowledge()).toBe(0x2c);
    normal.line(9).pulse();
    expect(normal.pending()).toBe(false); // fully nested: IR2 in service blocks the cascade

    const sfnm = new I8259Pair();
    linuxInit(sfnm);
    outb(sfnm, 0x20, 0x11); // reinitialise the master: ICW4 with SFNM (0x10) | 8086
    outb(sfnm, 0x21, 0x20);
    outb(sfnm, 0x21, 0x04);
    outb(sfnm, 0x21, 0x11);
    outb(sfnm, 0x21, 0x00);
    expect(sfnm.master.specialFullyNested).toBe(true);
    sfnm.line(12).pulse();
    expect(sfnm.acknowledge()).toBe(0x2c);
    sfnm.line(14).pulse();
    expect(sfnm.pending()).toBe(false); // lower than 12 on the slave: blocked there
    sfnm.line(9).pulse();
    expect(sfnm.pending()).toBe(true);
    expect(sfnm.acknowledge()).toBe(0x29);
  });

  it('wires line 2 to IRQ 9 and rejects lines outside 0..15', () => {
    const pic = new I8259Pair();
    linuxInit(pic);
    pic.line(2).pulse();
    expect(pic.acknowledge()).toBe(0x29);
    expect(() => pic.line(16)).toThrow(RangeError);
  });

  it('ICW1 with LTIM makes every line level-triggered; reset restores power-on state', () => {
    const pic = new I8259Pair();
    outb(pic, 0x20, 0x19); // ICW1 + LTIM
    outb(pic, 0x21, 0x40);
    outb(pic, 0x21, 0x04);
    outb(pic, 0x21, 0x01);
    pic.line(6).raise();
    pic.line(6).lower();
    expect(pic.pending()).toBe(false);
    pic.line(6).raise();
    expect(pic.acknowledge()).toBe(0x46);
    outb(pic, 0x4d1, 0x0c);
    pic.reset();
    expect(pic.pending()).toBe(false);
    expect(pic.master.vectorBase).toBe(0);
    expect(pic.master.ltim).toBe(false);
    expect(inb(pic, 0x4d1)).toBe(0x0c); // the firmware-set ELCR survives
  });

  it('reads IMR, and word accesses hit both ports', () => {
    const pic = new I8259Pair();
    linuxInit(pic);
    pic.ports.write(0x20, 2, 0x5a0b); // OCW3 read ISR to 0x20, IMR 0x5a to 0x21
    expect(inb(pic, 0x21)).toBe(0x5a);
    expect(pic.ports.read(0x20, 2)).toBe(0x5a00);
  });
});

describe('8259A pair snapshot', () => {
  it('restores into a fresh pair that then behaves identically (JSON round trip)', () => {
    const a = new I8259Pair(0x0800);
    linuxInit(a);
    outb(a, 0x21, 0x08); // mask IRQ 3
    requestSome(a);
    const b = new I8259Pair();
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    expect(b.pending()).toBe(true);
    expect(b.elcr).toBe(0x0800);
    expect(inb(b, 0x21)).toBe(0x08);
    for (const pic of [a, b]) outb(pic, 0x20, 0x20);
    expect([a.acknowledge(), a.acknowledge()]).toEqual([b.acknowledge(), b.acknowledge()]);
  });
});

/** IRQ 5 in service, IRQ 6 and level IRQ 11 waiting. */
function requestSome(pic: I8259Pair): void {
  pic.line(5).pulse();
  pic.acknowledge();
  pic.line(6).pulse();
  pic.line(11).raise();
}
