/** An inclusive range of port numbers or MMIO addresses. */
export interface AddressRange {
  start: number;
  /** Number of ports/bytes claimed. */
  length: number;
}

export type AccessSize = 1 | 2 | 4;

export interface PortHandler {
  /** Returns the value read; only the low `size` bytes are used. */
  read(port: number, size: AccessSize): number;
  write(port: number, size: AccessSize, value: number): void;
  /** The same accesses in WebAssembly, for the common ones compiled guest code makes (PortFastPath). */
  readonly fastPath?: PortFastPath;
}

/**
 * A device's port accesses in WebAssembly, for compiled guest code, which then need not leave
 * WebAssembly for a timer or bus probe polled in a loop: an exported WebAssembly function
 * (port, size, value written, write ? 1 : 0, nowNs) -> the value read (0 after a write), or -1 when
 * this access must go to the handler's read/write instead. nowNs is the virtual time of the access
 * (its cost charged). Both paths work on one device state, kept in the machine's memory.
 */
export type PortFastPath = (port: number, size: number, value: number, write: number, nowNs: number) => number;

export interface MmioHandler {
  /** `offset` is relative to the claimed range's start. 8-byte accesses are split into two 4-byte ones. */
  read(offset: number, size: AccessSize): number;
  write(offset: number, size: AccessSize, value: number): void;
}

/** Two devices claimed overlapping ranges; the message names both. */
export class BusConflictError extends Error {
  constructor(
    readonly bus: string,
    readonly owner: string,
    readonly range: AddressRange,
    readonly existingOwner: string,
    readonly existingRange: AddressRange,
  ) {
    super(
      `${owner} claims ${bus} ${fmtRange(range)}, which overlaps ${fmtRange(existingRange)} already claimed by ${existingOwner}`,
    );
    this.name = 'BusConflictError';
  }
}

function fmtRange(r: AddressRange): string {
  const hex = (n: number) => '0x' + n.toString(16);
  return r.length === 1 ? hex(r.start) : `${hex(r.start)}-${hex(r.start + r.length - 1)}`;
}

interface Claim<H> {
  range: AddressRange;
  owner: string;
  handler: H;
}

/** A claim that can be dropped again, e.g. when a PCI BAR is moved or disabled. */
export interface Registration {
  release(): void;
}

abstract class RangeBus<H> {
  protected claims: Claim<H>[] = [];
  constructor(readonly name: string) {}

  claim(range: AddressRange, handler: H, owner: string): Registration {
    if (!(range.length > 0)) throw new RangeError(`${owner}: empty ${this.name} range`);
    const clash = this.overlapping(range);
    if (clash) throw new BusConflictError(this.name, owner, range, clash.owner, clash.range);
    const claim: Claim<H> = { range, owner, handler };
    this.claims.push(claim);
    this.added(claim);
    return {
      release: () => {
        const i = this.claims.indexOf(claim);
        if (i >= 0) {
          this.claims.splice(i, 1);
          this.removed(claim);
        }
      },
    };
  }

  /** Who owns `address`, for diagnostics. */
  ownerOf(address: number): string | undefined {
    return this.find(address)?.owner;
  }

  protected find(address: number): Claim<H> | undefined {
    for (const c of this.claims) {
      if (address >= c.range.start && address < c.range.start + c.range.length) return c;
    }
    return undefined;
  }

  /** The first claim overlapping `range`, if any. */
  protected overlapping(range: AddressRange): Claim<H> | undefined {
    for (const c of this.claims) {
      if (range.start < c.range.start + c.range.length && c.range.start < range.start + range.length) return c;
    }
    return undefined;
  }

  /** A claim was added (it overlaps no other) or released: a bus with a lookup table updates it here. */
  protected added(_claim: Claim<H>): void {}
  protected removed(_claim: Claim<H>): void {}
}

const ALL_ONES = [0, 0xff, 0xffff, 0, 0xffffffff];

/**
 * A claimed port: its handler's methods bound when claimed. Calling `handler.read` directly makes
 * the call site see one object shape per device class (PIT, PCI host, UART, ...): V8 optimises
 * read() and the CPU's I/O instruction around the first shapes, then throws that code away at each
 * new device a guest touches (five times in a Solo5-style boot). Bound functions are one kind of
 * callee, so the optimised code stays.
 */
interface PortEntry {
  claim: Claim<PortHandler>;
  read: PortHandler['read'];
  write: PortHandler['write'];
}

/**
 * The x86 I/O port space (0..0xffff). Unclaimed ports read as all ones and ignore writes,
 * as on a PC. Every access may cost virtual time (ISA I/O takes about a microsecond).
 */
export class PortBus extends RangeBus<PortHandler> {
  private table: (PortEntry | undefined)[] = new Array(0x10000);
  /** Called once per access; the machine uses it to charge virtual time. */
  onAccess: (() => void) | undefined;
  /** Set by whoever wraps read/write to see every access (tracing): fastPaths() then offers none. */
  observed = false;

  constructor() {
    super('I/O ports');
  }

  read(port: number, size: AccessSize): number {
    this.onAccess?.();
    const e = this.table[port & 0xffff];
    if (e === undefined) return ALL_ONES[size];
    return (e.read(port & 0xffff, size) & ALL_ONES[size]) >>> 0;
  }

  write(port: number, size: AccessSize, value: number): void {
    this.onAccess?.();
    const e = this.table[port & 0xffff];
    if (e !== undefined) e.write(port & 0xffff, size, value & ALL_ONES[size]);
  }

  /** The claimed ranges whose handlers have a fast path (PortHandler.fastPath), in port order. */
  fastPaths(): { start: number; length: number; fn: PortFastPath }[] {
    if (this.observed) return [];
    return this.claims
      .filter((c) => c.handler.fastPath !== undefined)
      .map((c) => ({ start: c.range.start, length: c.range.length, fn: c.handler.fastPath! }))
      .sort((a, b) => a.start - b.start);
  }

  // Claims never overlap, so adding or releasing one touches only its own ports: building a
  // machine with n devices costs O(total ports claimed), not O(n * 64K).
  protected override overlapping(range: AddressRange): Claim<PortHandler> | undefined {
    const inTable = Number.isInteger(range.start) && range.start >= 0 && range.start + range.length <= 0x10000;
    if (!inTable) return super.overlapping(range);
    for (let p = range.start; p < range.start + range.length; p++) {
      const e = this.table[p];
      if (e) return e.claim;
    }
    return undefined;
  }

  protected override added(claim: Claim<PortHandler>): void {
    const { handler } = claim;
    this.fillRange(claim, { claim, read: handler.read.bind(handler), write: handler.write.bind(handler) });
  }

  protected override removed(claim: Claim<PortHandler>): void {
    this.fillRange(claim, undefined);
  }

  private fillRange(claim: Claim<PortHandler>, entry: PortEntry | undefined): void {
    const end = Math.min(claim.range.start + claim.range.length, 0x10000);
    for (let p = Math.max(0, claim.range.start); p < end; p++) this.table[p] = entry;
  }
}

/** Memory-mapped I/O regions above (or in holes of) guest RAM. Unclaimed addresses read all ones. */
export class MmioBus extends RangeBus<MmioHandler> {
  constructor() {
    super('MMIO');
  }

  read(address: number, size: AccessSize): number {
    const c = this.find(address);
    if (!c) return ALL_ONES[size];
    return (c.handler.read(address - c.range.start, size) & ALL_ONES[size]) >>> 0;
  }

  write(address: number, size: AccessSize, value: number): void {
    const c = this.find(address);
    if (c) c.handler.write(address - c.range.start, size, value & ALL_ONES[size]);
  }

  /** True if any region claims this address (the CPU uses it to choose RAM or MMIO). */
  isMapped(address: number): boolean {
    return this.find(address) !== undefined;
  }
}
