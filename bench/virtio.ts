/**
 * bench virtio: Unimachine's virtio devices side by side with QEMU 7.2 (TCG), in one run.
 *
 *   node --conditions=source --import tsx bench/virtio.ts [--runs 3] [--only blk,tap,hub]
 *        [--disk-mib 256] [--ping-count 5000] [--hub-count 2000] [--quantum-ns 100000] [--timeout 120000]
 *
 * Rows: blk sequential 64 KiB writes, flush and reads (guest app blk-bench on a file-backed disk);
 * ICMP echo round trips per second through a tap (`ping -f` into the `ping` guest, inside a network
 * namespace made for each run); frames per second between two machines on one wire (ping-client ->
 * ping: Unimachine hub + runTogether, QEMU -netdev dgram pair). Every figure is host wall-clock time.
 * Runs are interleaved (Unimachine, QEMU, Unimachine, ...). Writes results/virtio.json and
 * results/virtio.md and prints the table. `npm run bench` runs this after bench/run.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RESULTS_DIR, ROOT } from './lib/paths.js';
import { provenance, toolVersions } from './lib/provenance.js';
import { QEMU } from './lib/qemu.js';
import { log, positiveInt } from './lib/stats.js';
import { BLK_APP, blkOnQemu, blkOnUnimachine, blkQemuArgs, createImage, type BlkRun } from './lib/virtio-blk.js';
import { hubOnQemu, hubOnUnimachine, hubQemuDescribe, type HubRun } from './lib/virtio-hub.js';
import { UNIMACHINE_SET, WARM_UP, qemuKernel, qemuTapNic } from './lib/virtio-machines.js';
import { finishCell, markdown, table, type Cell, type Emulator, type Row, type VirtioResults } from './lib/virtio-report.js';
import { tapPing, tapUnavailable } from './lib/virtio-tap.js';

const EMULATORS: Emulator[] = ['unimachine', 'qemu'];
const ROW_GROUPS = ['blk', 'tap', 'hub'] as const;
type Group = (typeof ROW_GROUPS)[number];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      only: { type: 'string' },
      'disk-mib': { type: 'string', default: '256' },
      'ping-count': { type: 'string', default: '5000' },
      'hub-count': { type: 'string', default: '2000' },
      'quantum-ns': { type: 'string' },
      timeout: { type: 'string', default: '120000' },
    },
  });
  const runs = positiveInt(values.runs, 'runs');
  const diskMiB = positiveInt(values['disk-mib'], 'disk-mib');
  const pingCount = positiveInt(values['ping-count'], 'ping-count');
  const hubCount = positiveInt(values['hub-count'], 'hub-count');
  if (hubCount > 0xffff) throw new Error('--hub-count must be at most 65535 (ping-client sequence numbers are 16-bit)');
  const timeoutMs = positiveInt(values.timeout, 'timeout');
  const groups = (values.only?.split(',') ?? [...ROW_GROUPS]) as Group[];
  for (const g of groups) if (!ROW_GROUPS.includes(g)) throw new Error(`unknown row group ${g}; known: ${ROW_GROUPS.join(', ')}`);
  const { DEFAULT_QUANTUM_NS } = await import('@unimachine/machine');
  const quantumNs = values['quantum-ns'] ? positiveInt(values['quantum-ns'], 'quantum-ns') : DEFAULT_QUANTUM_NS;

  const started = provenance();
  buildGuests();
  const rows: Row[] = [];
  if (groups.includes('blk')) rows.push(...(await blkRows(runs, diskMiB, timeoutMs)));
  if (groups.includes('tap')) rows.push(await tapRow(runs, pingCount, timeoutMs));
  if (groups.includes('hub')) rows.push(await hubRow(runs, hubCount, quantumNs, timeoutMs));

  const results: VirtioResults = {
    provenance: started,
    versions: versions(),
    settings: { runs, diskMiB, pingCount, hubCount, quantumNs, timeoutMs, unimachineSet: UNIMACHINE_SET, warmUp: WARM_UP },
    how: describeRuns(),
    rows,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'virtio.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(RESULTS_DIR, 'virtio.md'), markdown(results));
  process.stdout.write(`\n${table(results)}\n\nwrote bench/results/virtio.json and bench/results/virtio.md\n`);
}

// ---------------------------------------------------------------- blk

async function blkRows(runs: number, diskMiB: number, timeoutMs: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'unimachine-bench-blk-'));
  const image = join(dir, 'disk.img');
  try {
    log(`blk: creating a ${diskMiB} MiB image (every block written once) in ${dir}`);
    createImage(image, diskMiB * 1024 * 1024);
    // One untimed short run first, so the timed runs see a warm JIT (the machine lives in this process).
    const warm = await blkOnUnimachine(image, timeoutMs, `size=${WARM_UP.blkMiB}`);
    if (!warm.ok) log(`blk: the warm-up run on unimachine failed: ${warm.problem}`);
    const byEmulator: Record<Emulator, BlkRun[]> = { unimachine: [], qemu: [] };
    for (let i = 0; i < runs; i++) {
      for (const e of EMULATORS) {
        let r: BlkRun;
        try {
          r = e === 'unimachine' ? await blkOnUnimachine(image, timeoutMs) : await blkOnQemu(image, timeoutMs);
        } catch (err) {
          r = { ok: false, problem: `host exception: ${String((err as Error).message).split('\n')[0]}`, bytes: NaN, hostMs: {}, guestNs: {}, totalMs: NaN };
        }
        byEmulator[e].push(r);
        const mbs = (p: 'write' | 'read') => (r.bytes / (r.hostMs[p] ?? NaN) / 1000).toFixed(0);
        log(`blk on ${e}: run ${i + 1}: ${r.ok ? `write ${mbs('write')} MB/s, flush ${r.hostMs.flush?.toFixed(0)} ms, read ${mbs('read')} MB/s` : `FAILED: ${r.problem}`}`);
      }
    }
    const cells = (value: (r: BlkRun) => number, guestValue?: (r: BlkRun) => number) =>
      Object.fromEntries(
        EMULATORS.map((e) => [
          e,
          finishCell(
            byEmulator[e].map((r) => ({ ok: r.ok, problem: r.problem, value: value(r), guestValue: guestValue?.(r), totalMs: r.totalMs })),
          ),
        ]),
      ) as Record<Emulator, Cell>;
    const mbPerS = (bytes: number, ms: number | undefined) => bytes / (ms ?? NaN) / 1000;
    return [
      {
        id: 'blk-write',
        title: `blk: sequential 64 KiB writes, ${diskMiB} MiB`,
        unit: 'MB/s',
        better: 'higher',
        cells: cells((r) => mbPerS(r.bytes, r.hostMs.write), (r) => mbPerS(r.bytes, (r.guestNs.write ?? NaN) / 1e6)),
      },
      {
        id: 'blk-flush',
        title: 'blk: flush after the writes',
        unit: 'ms',
        better: 'lower',
        cells: cells((r) => r.hostMs.flush ?? NaN, (r) => (r.guestNs.flush ?? NaN) / 1e6),
      },
      {
        id: 'blk-read',
        title: `blk: sequential 64 KiB reads, ${diskMiB} MiB`,
        unit: 'MB/s',
        better: 'higher',
        cells: cells((r) => mbPerS(r.bytes, r.hostMs.read), (r) => mbPerS(r.bytes, (r.guestNs.read ?? NaN) / 1e6)),
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- tap

async function tapRow(runs: number, count: number, timeoutMs: number): Promise<Row> {
  const row: Row = { id: 'tap-ping', title: `tap: ICMP echo, \`ping -f -c ${count}\` from the host`, unit: 'round trips/s', better: 'higher', cells: {} as Record<Emulator, Cell> };
  const unavailable = tapUnavailable();
  if (unavailable) {
    log(`tap: not run: ${unavailable}`);
    for (const e of EMULATORS) row.cells[e] = { state: 'n/a', reason: unavailable, runs: [] };
    return row;
  }
  const perRun: Record<Emulator, { ok: boolean; problem?: string; value: number; totalMs?: number }[]> = { unimachine: [], qemu: [] };
  for (let i = 0; i < runs; i++) {
    for (const e of EMULATORS) {
      const r = await tapPing(e, count, timeoutMs);
      const value = (r.received ?? NaN) / (r.elapsedMs ?? NaN) * 1000;
      perRun[e].push({ ok: r.ok, problem: r.problem, value, totalMs: r.elapsedMs });
      log(`tap on ${e}: run ${i + 1}: ${r.ok ? `${value.toFixed(0)} round trips/s (${r.summary})` : `FAILED: ${r.problem}`}`);
    }
  }
  for (const e of EMULATORS) row.cells[e] = finishCell(perRun[e]);
  return row;
}

// ---------------------------------------------------------------- hub

async function hubRow(runs: number, count: number, quantumNs: number, timeoutMs: number): Promise<Row> {
  const row: Row = {
    id: 'hub-frames',
    title: `wire: ping-client → ping, ${count} echoes (Unimachine hub / QEMU dgram)`,
    unit: 'frames/s',
    better: 'higher',
    cells: {} as Record<Emulator, Cell>,
  };
  // One untimed short exchange first, so the timed runs see a warm JIT (the machines live in this process).
  const warm = await hubOnUnimachine(WARM_UP.hubCount, quantumNs, timeoutMs).catch((e: Error) => ({ ok: false, problem: e.message }));
  if (!warm.ok) log(`hub: the warm-up run on unimachine failed: ${warm.problem}`);
  const perRun: Record<Emulator, { ok: boolean; problem?: string; value: number; guestValue?: number; totalMs?: number }[]> = { unimachine: [], qemu: [] };
  for (let i = 0; i < runs; i++) {
    for (const e of EMULATORS) {
      let r: HubRun;
      try {
        r = e === 'unimachine' ? await hubOnUnimachine(count, quantumNs, timeoutMs) : await hubOnQemu(count, timeoutMs);
      } catch (err) {
        r = { ok: false, count, frames: 0, problem: `host exception: ${String((err as Error).message).split('\n')[0]}` };
      }
      const value = (r.frames / (r.elapsedMs ?? NaN)) * 1000;
      // Unimachine's frames per second of virtual time: what the guests see on the shared timeline.
      const guestValue = r.virtualNs ? (r.frames / r.virtualNs) * 1e9 : undefined;
      perRun[e].push({ ok: r.ok, problem: r.problem, value, guestValue, totalMs: r.elapsedMs });
      log(`hub on ${e}: run ${i + 1}: ${r.ok ? `${value.toFixed(0)} frames/s (${r.elapsedMs?.toFixed(0)} ms)` : `FAILED: ${r.problem}`}`);
    }
  }
  for (const e of EMULATORS) row.cells[e] = finishCell(perRun[e]);
  return row;
}

// ---------------------------------------------------------------- provenance

function describeRuns(): Record<string, string> {
  const rel = (s: string) => s.split(`${ROOT}/`).join('');
  const command = (args: string[]) => rel([QEMU, ...args.map((a) => (a === '' || /\s/.test(a) ? `'${a}'` : a))].join(' '));
  const hub = hubQemuDescribe();
  return {
    'blk unimachine': `in-process createMachine('machines/solo5-virtio.yaml', { kernel: 'guest/build/${BLK_APP}.elf', disks: [IMG], set: ${JSON.stringify(UNIMACHINE_SET)} }), deterministic clock; phases timed by the host as the guest's marker lines are written (run's until callback)`,
    'blk qemu': command(blkQemuArgs('IMG')) + '; phases timed by the host as the marker lines arrive on the pipe',
    'tap unimachine': `unshare -n child: ip tuntap add tap0 mode tap, 10.0.0.1/24; createMachine(..., { kernel: 'guest/build/ping.elf', append: 'ip=10.0.0.2', nets: ['tap:tap0'], set: { clock: 'realtime', ... } }); ping -c 1, an untimed ping -f -q -c ${WARM_UP.pingCount}, then ping -f -q -c N -I tap0 10.0.0.2 timed from spawn to exit`,
    'tap qemu': `unshare -n child, same tap0: ${command([...qemuKernel('ping', 'ip=10.0.0.2'), ...qemuTapNic('tap0')])}; the same pings`,
    'hub unimachine': `two in-process deterministic machines (ping, ping-client; MACs 52:54:00:00:00:02/03) on one hub, runTogether (quantum as in the settings); timed from the client's ARP reply to its "sent N" line`,
    'hub qemu server': command(hub.server),
    'hub qemu client': command(hub.client) + ' (started once the server prints "answering"; timed like Unimachine from its console lines)',
  };
}

function versions(): Record<string, string> {
  return toolVersions(QEMU, {
    ping: () => execFileSync('ping', ['-V'], { encoding: 'utf8' }).trim().split('\n')[0]!,
  });
}

function buildGuests(): void {
  execFileSync('make', ['-s', '-C', join(ROOT, 'guest')], { stdio: ['ignore', 'inherit', 'inherit'] });
}

await main();
