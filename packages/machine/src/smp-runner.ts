import type { Cpu, CpuExit, MachineClock } from '@unimachine/core';

/**
 * Instructions each CPU runs per turn. Small enough that a spin lock held by a descheduled CPU
 * costs the others at most a few microseconds of guest time and an IPI reaches a busy target
 * within a microsecond (1000 ns at 1 ns per instruction, below Linux's and Solo5's timer
 * resolutions); large enough that switching CPUs (a few property writes and one run() call) stays
 * far below the cost of the 1000 instructions themselves.
 */
export const SMP_QUANTUM = 1000;

/** The reason X86Cpu gives for HLT with IF = 0: on an SMP machine the CPU just sleeps (parked). */
const PARKING_DEATH = 'HLT with interrupts disabled';

/** What the runner needs of a CPU beyond the core contract (X86Cpu has all of it). */
export interface SmpCpu extends Cpu {
  /** An AP after power-on or INIT, until a start-up IPI: not run at all. */
  readonly waitingForSipi?: boolean;
  /** Counts INITs, so a parked CPU (CLI; HLT) that gets one runs again after its SIPI. */
  readonly initSignals?: number;
}

/**
 * Runs the CPUs of one machine interleaved on one host thread, in rounds: every started CPU (not
 * waiting for a SIPI, not parked by CLI; HLT) runs up to one quantum, always in CPU order, so a
 * guest sees the same interleaving every run. Each instruction is atomic (nothing else runs
 * during it), which makes LOCK, XCHG and PAUSE trivially correct.
 *
 * Deterministic time: the CPUs of a round run in parallel, so a round of A CPUs advances the clock
 * by one quantum's worth (its length, 1 ns per instruction), not A of them. Inside a round the clock
 * reads round start + (instructions retired this round by all its CPUs) / A, so it never runs
 * backwards between CPUs; at the end it jumps to round start + length. A round is never longer than
 * the time to the next timer deadline, so timers fire on time; a halted CPU simply ends its turn,
 * and when every CPU is halted the round reports 'halted' and the machine jumps the clock to the
 * next deadline as for one CPU. With one started CPU time is exactly its instruction count, as on
 * a one-CPU machine.
 *
 * A run may stop anywhere (a stop request, the caller's budget): the round continues where it left
 * off on the next call, so pauses never change the interleaving.
 */
export class SmpRunner {
  /** The CPU inside run() now (requestStop goes to it), or undefined between turns. */
  current: SmpCpu | undefined;
  /** Set with a 'dead' exit. */
  deathReason: string | undefined;

  private members: number[] = [];
  private pos = 0;
  private roundLength = 0;
  private roundActive = false;
  private ranThisRound = false;
  private readonly roundStartCount: number[];
  /** Instructions of virtual time in the completed rounds. */
  private roundsTime = 0;
  /** CPUs parked by CLI; HLT: the INIT count they had then (an INIT wakes them). */
  private readonly parkedAt: (number | undefined)[];
  private readonly parkReason: (string | undefined)[];

  constructor(
    readonly cpus: readonly SmpCpu[],
    private readonly clock: MachineClock,
    private readonly deterministic: boolean,
    /** Called before CPU i runs (the xAPIC window then answers with CPU i's APIC). */
    private readonly select: (index: number) => void = () => {},
  ) {
    this.roundStartCount = cpus.map(() => 0);
    this.parkedAt = cpus.map(() => undefined);
    this.parkReason = cpus.map(() => undefined);
  }

  /** Deterministic mode's instruction counter for the machine clock (see the class comment). */
  virtualInstructions(): number {
    if (!this.roundActive) return this.roundsTime;
    let sum = 0;
    for (const k of this.members) sum += this.cpus[k].instructionsRetired - this.roundStartCount[k];
    return this.roundsTime + Math.min(this.roundLength, Math.floor(sum / this.members.length));
  }

  /** Instructions retired by all CPUs. */
  totalRetired(): number {
    let sum = 0;
    for (const c of this.cpus) sum += c.instructionsRetired;
    return sum;
  }

  /** Forget the round in progress and the parked CPUs (a reboot). */
  restart(): void {
    this.roundsTime = this.virtualInstructions();
    this.roundActive = false;
    this.parkedAt.fill(undefined);
    this.parkReason.fill(undefined);
    this.current = undefined;
    this.deathReason = undefined;
  }

  /**
   * Run rounds until `budget` is used (deterministic: nanoseconds of virtual time; realtime:
   * instructions retired by all CPUs), a timer is due, a CPU stops ('stopped'), every CPU is halted
   * ('halted') or none can run again ('dead').
   */
  run(budget: number): CpuExit {
    const startTime = this.clock.now();
    const startTotal = this.deterministic ? 0 : this.totalRetired();
    const used = () => (this.deterministic ? this.clock.now() - startTime : this.totalRetired() - startTotal);
    for (;;) {
      if (!this.roundActive && !this.startRound()) return 'dead';
      while (this.pos < this.members.length) {
        const k = this.members[this.pos];
        const cpu = this.cpus[k];
        const left = this.roundLength - (cpu.instructionsRetired - this.roundStartCount[k]);
        if (cpu.waitingForSipi || this.isParked(k) || left <= 0) {
          this.pos++;
          continue;
        }
        // Deterministic: an instruction costs 1/A ns, so the budget allows A instructions per ns.
        const cap = this.deterministic ? Math.ceil((budget - used()) * this.members.length) : budget - used();
        if (cap <= 0) return 'budget';
        const slice = Math.min(left, cap);
        const before = cpu.instructionsRetired;
        this.select(k);
        this.current = cpu;
        const exit = cpu.run(slice);
        this.current = undefined;
        if (cpu.instructionsRetired !== before) this.ranThisRound = true;
        if (exit === 'dead') {
          // The CPU's reason is its first line; a register dump follows.
          if (cpu.deathReason?.split('\n')[0] !== PARKING_DEATH) {
            this.deathReason = `CPU ${k}: ${cpu.deathReason ?? 'stopped'}`;
            return 'dead';
          }
          this.parkedAt[k] = cpu.initSignals ?? 0;
          this.parkReason[k] = cpu.deathReason;
          this.pos++;
        } else if (exit === 'stopped') {
          return 'stopped';
        } else if (exit === 'halted' || slice === left) {
          this.pos++;
        } else {
          return 'budget';
        }
      }
      this.roundActive = false;
      // Every CPU halted and nothing ran: no time passed; the machine jumps to the next deadline.
      if (!this.ranThisRound) return 'halted';
      this.roundsTime += this.roundLength;
      if (used() >= budget || this.clock.now() >= this.clock.nextDeadline()) return 'budget';
    }
  }

  private isParked(k: number): boolean {
    const at = this.parkedAt[k];
    if (at === undefined) return false;
    if ((this.cpus[k].initSignals ?? 0) === at) return true;
    this.parkedAt[k] = undefined; // an INIT reset it: it waits for a SIPI now
    this.parkReason[k] = undefined;
    return false;
  }

  /** The CPUs that run this round, and its length; false when none ever can again. */
  private startRound(): boolean {
    this.members = [];
    for (let k = 0; k < this.cpus.length; k++) {
      if (!this.cpus[k].waitingForSipi && !this.isParked(k)) this.members.push(k);
    }
    if (this.members.length === 0) {
      const k = this.parkReason.findIndex((r) => r !== undefined);
      this.deathReason = k >= 0 ? `every CPU has stopped (CPU ${k}: ${this.parkReason[k]})` : 'every CPU waits for a start-up IPI';
      return false;
    }
    for (const k of this.members) this.roundStartCount[k] = this.cpus[k].instructionsRetired;
    let length = SMP_QUANTUM;
    if (this.deterministic) {
      const next = this.clock.nextDeadline();
      if (next !== Infinity) length = Math.max(1, Math.min(SMP_QUANTUM, Math.ceil(next - this.clock.now())));
    }
    this.roundLength = length;
    this.pos = 0;
    this.ranThisRound = false;
    this.roundActive = true;
    return true;
  }
}
