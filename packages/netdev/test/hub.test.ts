import { afterEach, describe, expect, it } from 'vitest';
import { MachineClock, type HostActivity } from '@unimachine/core';
import { createHub, findHub, formatMac, HUB_LATENCY_NS, hubNames, joinHub, type Hub } from '../src/index.js';
import { BROADCAST, ethFrame } from './frames.js';
import { RecordingHost } from './helpers.js';

const A = '52:54:00:00:00:0a';
const B = '52:54:00:00:00:0b';
const C = '52:54:00:00:00:0c';

const hubs: Hub[] = [];
function newHub(name: string): Hub {
  const hub = createHub(name);
  hubs.push(hub);
  return hub;
}
afterEach(() => {
  for (const h of hubs.splice(0)) h.dispose();
});

/** A port with a receiver that records what arrives. */
function station(hub: Hub, label: string, clock?: MachineClock, host?: HostActivity) {
  const port = hub.port(label, clock, host);
  const got: Uint8Array[] = [];
  port.attach({ receive: (f) => got.push(Uint8Array.from(f)) });
  return { port, got };
}

describe('hub switching', () => {
  it('floods unknown and broadcast destinations, learns sources, and sends known unicast to one port only', () => {
    const hub = newHub('switching');
    const a = station(hub, 'a');
    const b = station(hub, 'b');
    const c = station(hub, 'c');
    // A's broadcast floods to B and C, never back to A; the hub learns A.
    a.port.send(ethFrame(BROADCAST, A, 0x0806));
    expect([a.got.length, b.got.length, c.got.length]).toEqual([0, 1, 1]);
    // B answers A: A is known, so only A gets it; the hub learns B.
    b.port.send(ethFrame(A, B, 0x0800));
    expect([a.got.length, b.got.length, c.got.length]).toEqual([1, 1, 1]);
    // C writes to B (known): only B.
    c.port.send(ethFrame(B, C, 0x0800));
    expect([a.got.length, b.got.length, c.got.length]).toEqual([1, 2, 1]);
    // A unicast to a MAC nobody has shown yet floods.
    a.port.send(ethFrame('52:54:00:00:00:99', A, 0x0800));
    expect([a.got.length, b.got.length, c.got.length]).toEqual([1, 3, 2]);
    // Multicast floods even though its address was never a source.
    b.port.send(ethFrame('01:00:5e:00:00:01', B, 0x0800));
    expect([a.got.length, b.got.length, c.got.length]).toEqual([2, 3, 3]);
  });

  it('never sends a frame back out of its own port, even when the destination was learned there', () => {
    const hub = newHub('hairpin');
    const a = station(hub, 'a');
    const b = station(hub, 'b');
    a.port.send(ethFrame(BROADCAST, A, 0x0806));
    a.port.send(ethFrame(A, C, 0x0800)); // to A, which lives behind port a itself (C also learned on a)
    expect(a.got.length).toBe(0);
    expect(b.got.length).toBe(1);
  });

  it('a station that moves is learned on its new port; a departed port is forgotten', () => {
    const hub = newHub('moves');
    const a = station(hub, 'a');
    const b = station(hub, 'b');
    const c = station(hub, 'c');
    a.port.send(ethFrame(BROADCAST, A, 0x0806));
    b.port.send(ethFrame(BROADCAST, A, 0x0806)); // A now talks from port b
    c.port.send(ethFrame(A, C, 0x0800));
    expect(a.got.length).toBe(1); // only the broadcast from b
    expect(b.got.length).toBe(2); // a's broadcast + the unicast to A
    b.port.dispose();
    c.port.send(ethFrame(A, C, 0x0800)); // A unknown again: floods to a
    expect(a.got.length).toBe(2);
  });

  it('delivers each frame as the same bytes and copies what the sender passed (its buffer may be reused)', () => {
    const hub = newHub('copies');
    station(hub, 'a');
    const b = station(hub, 'b');
    const frame = ethFrame(BROADCAST, A, 0x0806);
    hub.port('x').send(frame);
    frame.fill(0);
    expect(formatMac(b.got[0], 6)).toBe(A);
    expect(formatMac(hub.frames()[0].frame, 6)).toBe(A);
  });

  it('drops frames shorter than an Ethernet header', () => {
    const hub = newHub('runts');
    const a = station(hub, 'a');
    const b = station(hub, 'b');
    a.port.send(new Uint8Array(13));
    expect(b.got.length).toBe(0);
    expect(hub.runts).toBe(1);
    expect(hub.frames().length).toBe(0);
  });

  it('a clockless receiver that answers inside receive() gets no re-entrant call: deliveries queue', () => {
    const hub = newHub('reentry');
    const order: string[] = [];
    let inside = '';
    const a = hub.port('a');
    const echo = hub.port('echo');
    a.attach({ receive: (f) => order.push(`a got ${formatMac(f, 6)}${inside ? ` inside ${inside}` : ''}`) });
    echo.attach({
      receive: (f) => {
        inside = 'echo';
        order.push(`echo got ${formatMac(f, 6)}`);
        echo.send(ethFrame(A, B, 0x0800));
        order.push('echo returns');
        inside = '';
      },
    });
    a.send(ethFrame(BROADCAST, A, 0x0806));
    expect(order).toEqual([`echo got ${A}`, 'echo returns', `a got ${B}`]);
  });
});

describe('hub timing (virtual clocks)', () => {
  it('a frame sent at t reaches a clocked receiver at t + HUB_LATENCY_NS on its own clock', () => {
    const hub = newHub('timing');
    const clockA = new MachineClock('deterministic');
    const clockB = new MachineClock('deterministic');
    const hostB = new RecordingHost();
    const a = station(hub, 'a', clockA);
    const b = station(hub, 'b', clockB, hostB);
    clockA.advance(1_000_000);
    a.port.send(ethFrame(BROADCAST, A, 0x0806));
    expect(hub.frames()[0]).toMatchObject({ from: 'a', time: 1_000_000, seq: 0 });
    expect(b.got.length).toBe(0); // nothing synchronous
    expect(hostB.wakes).toBe(1); // but its run loop was told to look at the new deadline
    expect(clockB.nextDeadline()).toBe(1_000_000 + HUB_LATENCY_NS);
    clockB.advance(1_000_000 + HUB_LATENCY_NS - 1);
    clockB.runDue();
    expect(b.got.length).toBe(0);
    clockB.advance(1);
    clockB.runDue();
    expect(b.got.length).toBe(1);
  });

  it('a receiver already past the arrival time gets the frame at its own now (never in its past)', () => {
    const hub = newHub('late');
    const clockA = new MachineClock('deterministic');
    const clockB = new MachineClock('deterministic');
    const a = station(hub, 'a', clockA);
    station(hub, 'b', clockB);
    clockB.advance(5_000_000);
    a.port.send(ethFrame(BROADCAST, A, 0x0806));
    expect(clockB.nextDeadline()).toBe(5_000_000);
  });

  it('frames from several senders arrive in virtual-time order, the same way every run', () => {
    const run = () => {
      const hub = createHub('order');
      const clocks = [0, 1, 2].map(() => new MachineClock('deterministic'));
      const [a, b] = [station(hub, 'a', clocks[0]), station(hub, 'b', clocks[1])];
      const c = station(hub, 'c', clocks[2]);
      clocks[1].advance(3000);
      b.port.send(ethFrame(BROADCAST, B, 0x0800));
      clocks[0].advance(1000);
      a.port.send(ethFrame(BROADCAST, A, 0x0800));
      clocks[2].advance(20_000);
      clocks[2].runDue();
      const got = c.got.map((f) => formatMac(f, 6));
      hub.dispose();
      return got;
    };
    expect(run()).toEqual([A, B]);
    expect(run()).toEqual([A, B]);
  });

  it('disposing a port cancels deliveries still in flight to it', () => {
    const hub = newHub('inflight');
    const clockB = new MachineClock('deterministic');
    const a = station(hub, 'a');
    const b = station(hub, 'b', clockB);
    a.port.send(ethFrame(BROADCAST, A, 0x0806));
    expect(clockB.nextDeadline()).toBe(0);
    b.port.dispose();
    expect(clockB.nextDeadline()).toBe(Infinity);
  });
});

describe('hub registry and test API', () => {
  it('joinHub returns the same hub for the same name; createHub refuses a duplicate', () => {
    const hub = joinHub('shared');
    hubs.push(hub);
    expect(joinHub('shared')).toBe(hub);
    expect(findHub('shared')).toBe(hub);
    expect(() => createHub('shared')).toThrow(/already exists/);
  });

  it('a hub whose last port leaves is removed from the registry', () => {
    const hub = joinHub('ephemeral');
    const p1 = hub.port('a');
    const p2 = hub.port('b');
    p1.dispose();
    expect(hubNames()).toContain('ephemeral');
    p2.dispose();
    expect(findHub('ephemeral')).toBeUndefined();
    expect(joinHub('ephemeral')).not.toBe(hub);
    findHub('ephemeral')!.dispose();
  });

  it('send() injects as a host port: frames are flooded, logged with their label, and replies to its MAC go nowhere else', () => {
    const hub = newHub('inject');
    const a = station(hub, 'a');
    const b = station(hub, 'b');
    hub.send(ethFrame(BROADCAST, C, 0x0806));
    expect([a.got.length, b.got.length]).toEqual([1, 1]);
    a.port.send(ethFrame(C, A, 0x0800)); // to the host's MAC: only the log sees it
    expect(b.got.length).toBe(1);
    expect(hub.frames().map((f) => [f.from, f.seq])).toEqual([
      ['host', 0],
      ['a', 1],
    ]);
  });

  it('waitFor resolves with a frame already seen, or one that arrives later, and rejects after its timeout', async () => {
    const hub = newHub('wait');
    const a = station(hub, 'a');
    a.port.send(ethFrame(BROADCAST, A, 0x0806));
    const seen = await hub.waitFor((f) => f.from === 'a');
    expect(seen.seq).toBe(0);
    const later = hub.waitFor((f) => f.from === 'a', { since: 1, timeoutMs: 1000 });
    setTimeout(() => a.port.send(ethFrame(BROADCAST, A, 0x0800)), 5);
    expect((await later).seq).toBe(1);
    await expect(hub.waitFor((f) => f.from === 'nobody', { timeoutMs: 20 })).rejects.toThrow(/no matching frame within 20 ms \(2 frames carried\)/);
  });

  it('a machine port holds its machine while someone else is on the hub, and releases at dispose', () => {
    const hub = newHub('holds');
    const host1 = new RecordingHost();
    const host2 = new RecordingHost();
    const p1 = hub.port('m1', new MachineClock(), host1);
    expect(host1.holds.size).toBe(0); // alone on the hub: nothing can wake it
    const p2 = hub.port('m2', new MachineClock(), host2);
    expect([host1.holds.size, host2.holds.size]).toEqual([1, 1]);
    p2.dispose();
    expect([host1.holds.size, host2.holds.size]).toEqual([0, 0]);
    hub.send(ethFrame(BROADCAST, C, 0x0806)); // test code is now on the hub
    expect(host1.holds.size).toBe(1);
    p1.dispose();
    expect(host1.holds.size).toBe(0);
  });

  it('frames() keeps at most keepFrames, while seq keeps counting', () => {
    const hub = createHub('bounded', { keepFrames: 3 });
    hubs.push(hub);
    const a = hub.port('a');
    for (let i = 0; i < 5; i++) a.send(ethFrame(BROADCAST, A, 0x0800));
    expect(hub.frames().map((f) => f.seq)).toEqual([2, 3, 4]);
    expect(hub.frameCount).toBe(5);
  });
});
