/**
 * Row 2, inside a private network namespace: `unshare -n node [--conditions=source --import tsx]
 * bench/lib/tap-ping-child.ts unimachine|qemu COUNT TIMEOUT_MS`. Creates tap0 (10.0.0.1/24), boots
 * the `ping` guest (10.0.0.2) on it, checks it answers, then times `ping -f -c COUNT` from the
 * host side. Prints one JSON line (TapPingResult) on stdout. Refuses to run outside a fresh
 * namespace, so no frame ever leaves it.
 */
import { assertFreshNamespace, createTap, pingCounts, runPing, TAP, TAP_GUEST_IP as GUEST_IP, type TapFloodResult } from '../../guest/test/netns.js';
import { spawnStamped } from './console-lines.js';
import { QEMU } from './qemu.js';
import { UNIMACHINE_SET, UNIMACHINE_YAML, WARM_UP, guestElf, qemuKernel, qemuTapNic, tail } from './virtio-machines.js';

/** One timed flood: the shape guest/test's tap test prints too. */
export type TapPingResult = TapFloodResult;

const READY = 'answering echo requests';

/** The guest is up: resolve it and get one echo back, flood it briefly untimed, then flood it timed. */
async function measure(count: number, timeoutMs: number): Promise<TapPingResult> {
  const probe = await runPing(['-c', '1', '-W', '10', '-I', TAP, GUEST_IP], 15_000);
  if (probe.status !== 0) return { ok: false, count, problem: `the guest does not answer a first ping: ${tail(probe.out)}` };
  const deadlineS = Math.max(1, Math.ceil(timeoutMs / 1000));
  await runPing(['-f', '-q', '-c', String(WARM_UP.pingCount), '-w', String(deadlineS), '-I', TAP, GUEST_IP], timeoutMs + 5000);
  const flood = await runPing(['-f', '-q', '-c', String(count), '-w', String(deadlineS), '-I', TAP, GUEST_IP], timeoutMs + 5000);
  const counts = pingCounts(flood.out);
  const summary = flood.out.trim().split('\n').slice(-2).join(' / ');
  if (!counts) return { ok: false, count, problem: `no ping summary: ${tail(flood.out)}` };
  const { transmitted, received } = counts;
  const problem = received < count ? `${count - received} of ${count} echo requests unanswered (${summary})` : undefined;
  return { ok: !problem, problem, count, transmitted, received, elapsedMs: flood.ms, summary };
}

async function onUnimachine(count: number, timeoutMs: number): Promise<TapPingResult> {
  const { createMachine } = await import('@unimachine/machine');
  const m = await createMachine(UNIMACHINE_YAML, {
    kernel: guestElf('ping'),
    append: `ip=${GUEST_IP}`,
    nets: [`tap:${TAP}`],
    set: { ...UNIMACHINE_SET, clock: 'realtime' },
  });
  try {
    const c = m.console('com1');
    const booted = await m.run({ until: () => c.text().includes(READY), timeoutMs: 30_000 });
    if (booted.end !== 'until') return { ok: false, count, problem: `the guest did not start answering (${booted.end}): ${tail(c.text())}` };
    const running = m.run({ timeoutMs: timeoutMs + 30_000 });
    const result = await measure(count, timeoutMs);
    m.interrupt();
    const end = await running;
    if (end.end !== 'interrupted' && result.ok) return { ...result, ok: false, problem: `the machine ended early (${end.end}): ${tail(c.text())}` };
    return result;
  } finally {
    await m.dispose();
  }
}

async function onQemu(count: number, timeoutMs: number): Promise<TapPingResult> {
  const q = spawnStamped(QEMU, [...qemuKernel('ping', `ip=${GUEST_IP}`), ...qemuTapNic(TAP)]);
  try {
    if (!(await q.waitFor(READY, 30_000))) return { ok: false, count, problem: `the guest did not start answering: ${tail(q.stdout.text())} ${q.stderr().trim()}` };
    return await measure(count, timeoutMs);
  } finally {
    q.kill();
    await q.exited;
  }
}

async function main(): Promise<void> {
  const [emulator, countText, timeoutText] = process.argv.slice(2);
  const count = Number(countText);
  const timeoutMs = Number(timeoutText ?? 60_000);
  let result: TapPingResult;
  try {
    if (emulator !== 'unimachine' && emulator !== 'qemu') throw new Error(`emulator must be unimachine or qemu, got ${emulator}`);
    if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive integer, got ${countText}`);
    assertFreshNamespace();
    createTap();
    result = emulator === 'unimachine' ? await onUnimachine(count, timeoutMs) : await onQemu(count, timeoutMs);
  } catch (e) {
    result = { ok: false, count, problem: (e as Error).message.split('\n')[0] };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

await main();
