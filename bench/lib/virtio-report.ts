/** The virtio rows' results: cells from runs, the JSON shape, and the Markdown table. */
import { commitLabel, describeHost, type Provenance } from './provenance.js';
import { fmt, max, median, min } from './stats.js';

export type Emulator = 'unimachine' | 'qemu';

export interface RunValue {
  ok: boolean;
  problem?: string;
  /** The row's figure for this run, by the host clock. */
  value: number;
  /** The same figure by the guest's clock (Unimachine deterministic: virtual time), when there is one. */
  guestValue?: number;
  /** Host ms of the whole run or of the measured window, for the record. */
  totalMs?: number;
}

export interface Cell {
  /** 'ok': every run succeeded; 'failed': at least one did not (its reason kept); 'n/a': not run here. */
  state: 'ok' | 'failed' | 'n/a';
  reason?: string;
  runs: RunValue[];
  median?: number;
  min?: number;
  max?: number;
  guestMedian?: number;
}

export interface Row {
  id: string;
  title: string;
  unit: string;
  better: 'higher' | 'lower';
  cells: Record<Emulator, Cell>;
}

export interface VirtioResults {
  provenance: Provenance;
  versions: Record<string, string>;
  settings: {
    runs: number;
    diskMiB: number;
    pingCount: number;
    hubCount: number;
    quantumNs: number;
    timeoutMs: number;
    unimachineSet: Record<string, unknown>;
    warmUp: { blkMiB: number; hubCount: number; pingCount: number };
  };
  /** How each emulator ran each row. */
  how: Record<string, string>;
  rows: Row[];
}

const round = (x: number | undefined, decimals = 1) => (x === undefined || !Number.isFinite(x) ? undefined : Math.round(x * 10 ** decimals) / 10 ** decimals);

/** A cell from its runs: the median of the good ones; any bad run marks the cell failed with its reason. */
export function finishCell(runs: RunValue[]): Cell {
  const clean = runs.map((r) => ({ ...r, value: round(r.value) ?? NaN, guestValue: round(r.guestValue), totalMs: round(r.totalMs) }));
  const bad = clean.find((r) => !r.ok);
  const values = clean.filter((r) => r.ok).map((r) => r.value);
  const guest = clean.filter((r) => r.ok && r.guestValue !== undefined).map((r) => r.guestValue!);
  return {
    state: bad ? 'failed' : 'ok',
    reason: bad?.problem,
    runs: clean,
    median: values.length ? round(median(values)) : undefined,
    min: values.length ? min(values) : undefined,
    max: values.length ? max(values) : undefined,
    guestMedian: guest.length ? round(median(guest)) : undefined,
  };
}

function cellText(c: Cell, notes: string[]): string {
  if (c.state === 'n/a') return `n/a [${note(notes, c.reason ?? '')}]`;
  const figure = c.median === undefined ? '' : `${fmt(c.median, c.median < 100 ? 1 : 0)} (${fmt(c.min, 0)}–${fmt(c.max, 0)})`;
  if (c.state === 'failed') return `${figure ? `${figure}, ` : ''}failed [${note(notes, c.reason ?? '')}]`;
  return figure;
}

function note(notes: string[], reason: string): number {
  const text = reason.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 400);
  const i = notes.indexOf(text);
  if (i >= 0) return i + 1;
  notes.push(text);
  return notes.length;
}

function ratio(row: Row): string {
  const u = row.cells.unimachine;
  const q = row.cells.qemu;
  if (u?.median === undefined || q?.median === undefined || q.median === 0) return '-';
  return `${(u.median / q.median).toFixed(2)}×`;
}

/** The main table; reasons for failed and n/a cells go to `notes`. */
export function table(r: VirtioResults, notes: string[] = []): string {
  const lines = ['| row | unit | Unimachine | QEMU 7.2 TCG | Unimachine ÷ QEMU |', '|---|---|---:|---:|---:|'];
  for (const row of r.rows) {
    const arrow = row.better === 'higher' ? '↑' : '↓';
    lines.push(`| ${row.title} | ${row.unit} ${arrow} | ${cellText(row.cells.unimachine, notes)} | ${cellText(row.cells.qemu, notes)} | ${ratio(row)} |`);
  }
  return lines.join('\n');
}

function guestClockTable(r: VirtioResults): string[] {
  const rows = r.rows.filter((row) => row.cells.unimachine.guestMedian !== undefined || row.cells.qemu.guestMedian !== undefined);
  if (!rows.length) return [];
  return [
    '## The same figures by the guest clock',
    '',
    'What the guests measure themselves (blk-bench with its TSC; for the wire, Unimachine\'s frames per second of virtual time on the shared timeline). On QEMU TCG the TSC follows the host clock, so these match the table above. On deterministic Unimachine guest time is virtual (1 ns per instruction, 1 µs per port access, file I/O free), so these numbers describe the virtual machine, not the emulator\'s speed: they are not comparable with QEMU\'s and are here only so nobody mistakes one for the other.',
    '',
    '| row | unit | Unimachine (virtual time) | QEMU (host-backed TSC) |',
    '|---|---|---:|---:|',
    ...rows.map((row) => `| ${row.title} | ${row.unit} | ${fmt(row.cells.unimachine.guestMedian, 0)} | ${fmt(row.cells.qemu.guestMedian, 0)} |`),
    '',
  ];
}

export function markdown(r: VirtioResults): string {
  const p = r.provenance;
  const s = r.settings;
  const notes: string[] = [];
  const body = table(r, notes);
  return [
    '# bench virtio: Unimachine\'s virtio devices side by side with QEMU',
    '',
    `Commit ${commitLabel(p)}, ${p.date}, ${describeHost(p)}.`,
    `Versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `Each cell: median of ${s.runs} run(s) by the host's wall clock (min–max in parentheses), runs interleaved between the two emulators. ↑ higher is better, ↓ lower is better. MB = 10^6 bytes. Both machines have ${s.unimachineSet.memory ?? '256MiB'} of RAM and a Westmere CPU; virtio devices on the legacy transport, as Solo5 drives them.`,
    '',
    body,
    '',
    ...(notes.length ? ['Notes:', '', ...notes.map((n, i) => `${i + 1}. ${n}`), ''] : []),
    '## What each row measures',
    '',
    `- **blk**: the guest app \`blk-bench\` writes the first ${s.diskMiB} MiB of a raw image file in 64 KiB requests (one at a time, polled, as Solo5's driver does), flushes (VIRTIO_BLK_T_FLUSH: fsync on Unimachine, fdatasync on QEMU), then reads it all back in 64 KiB requests and checks a stamp in every chunk. The image has every block allocated before the first run (zeros written), so a pass overwrites blocks; after the first run it is in the host page cache for both emulators. The guest prints \`phase write start\` / \`phase write end\` (and flush, read) around each pass; the bench stamps each line with the host clock when its newline is written (Unimachine: the run's \`until\` callback, which the machine calls after every console byte) or arrives on QEMU's stdout pipe. MB/s = bytes / (end − start). Unimachine runs in the bench process, after one untimed run over ${s.warmUp.blkMiB} MiB (so its JIT is warm); QEMU is a process per run.`,
    `- **tap**: each run in a network namespace of its own (\`unshare -n\`) with tap0 = 10.0.0.1/24; the \`ping\` guest (10.0.0.2, answering forever) is booted on tap0 (Unimachine with \`clock: realtime\`), one \`ping -c 1\` resolves it, an untimed \`ping -f -c ${s.warmUp.pingCount}\` warms it up, then \`ping -f -q -c ${s.pingCount} -I tap0 10.0.0.2\` is timed from spawn to exit: round trips/s = replies / elapsed. The guest prints one console line per echo on both emulators.`,
    `- **wire**: \`ping-client count=${s.hubCount}\` (10.0.0.3) pings the \`ping\` guest (10.0.0.2) one echo at a time, each waiting for its reply. Unimachine: two deterministic machines in one process on an in-process hub, run in lockstep by \`runTogether\` (quantum ${s.quantumNs / 1000} µs of virtual time). QEMU: two processes joined by \`-netdev dgram\` on 127.0.0.1. Timed by the host clock from the client's "is at" line (ARP resolved, both booted) to its "sent N" line; frames = 2 × ${s.hubCount} (requests and replies). Unimachine runs after one untimed exchange of ${s.warmUp.hubCount} echoes in the same process.`,
    '',
    ...guestClockTable(r),
    '## How each was run',
    '',
    ...Object.entries(r.how).map(([k, v]) => `- **${k}**: \`${v}\``),
    '',
  ].join('\n');
}
