import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MachineClock, type NetBackend } from '@unimachine/core';
import { BackendConfigError, hubBackendPlugin, HUB_LATENCY_NS, PcapNetBackend, standaloneBackendContext, udpBackendPlugin } from '../src/index.js';
import { arpRequest, ethFrame } from './frames.js';
import { tempDir, until, which } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

const MAC_A = '52:54:00:00:00:0a';
const MAC_B = '52:54:00:00:00:0b';

interface PcapRecord {
  seconds: number;
  nanoseconds: number;
  frame: Buffer;
  origLen: number;
}

function readPcap(file: string): { magic: number; version: string; snaplen: number; linktype: number; records: PcapRecord[] } {
  const buf = fs.readFileSync(file);
  const records: PcapRecord[] = [];
  for (let at = 24; at < buf.length; ) {
    const incl = buf.readUInt32LE(at + 8);
    records.push({ seconds: buf.readUInt32LE(at), nanoseconds: buf.readUInt32LE(at + 4), origLen: buf.readUInt32LE(at + 12), frame: buf.subarray(at + 16, at + 16 + incl) });
    at += 16 + incl;
  }
  return { magic: buf.readUInt32LE(0), version: `${buf.readUInt16LE(4)}.${buf.readUInt16LE(6)}`, snaplen: buf.readUInt32LE(16), linktype: buf.readUInt32LE(20), records };
}

/**
 * Two "machines" with deterministic clocks on hub `name`: A (with a pcap) broadcasts an ARP
 * request at 1.5 s, B answers at 2 s, A's clock runs on until the answer is due.
 */
async function exchange(name: string, pcapFile: string): Promise<void> {
  const clockA = new MachineClock('deterministic');
  const clockB = new MachineClock('deterministic');
  const a = (await hubBackendPlugin.create(standaloneBackendContext({ owner: 'net0', clock: clockA, baseDir: tmp.dir }), { name, pcap: pcapFile } as never)) as NetBackend;
  const b = (await hubBackendPlugin.create(standaloneBackendContext({ owner: 'net1', clock: clockB }), { name } as never)) as NetBackend;
  expect(a).toBeInstanceOf(PcapNetBackend);
  const gotA: Uint8Array[] = [];
  a.attach({ receive: (f) => gotA.push(Uint8Array.from(f)) });
  b.attach({
    receive: () => {
      clockB.advanceTo(2_000_000_000);
      b.send(ethFrame(MAC_A, MAC_B, 0x0800, new Uint8Array(64).fill(0xbb)));
    },
  });
  clockA.advance(1_500_000_000);
  a.send(arpRequest(MAC_A, '10.0.0.1', '10.0.0.2'));
  clockB.advanceTo(1_500_000_000 + HUB_LATENCY_NS);
  clockB.runDue();
  clockA.advanceTo(2_000_000_000 + HUB_LATENCY_NS);
  clockA.runDue();
  expect(gotA.length).toBe(1);
  await a.dispose?.();
  await b.dispose?.();
}

describe('pcap capture', () => {
  it('records both directions of a hub port in libpcap format with virtual-clock timestamps', async () => {
    await exchange('pcap-lan', 'lan.pcap');
    const pcap = readPcap(path.join(tmp.dir, 'lan.pcap'));
    expect(pcap.magic).toBe(0xa1b23c4d); // nanosecond resolution
    expect(pcap.version).toBe('2.4');
    expect(pcap.linktype).toBe(1); // Ethernet
    expect(pcap.snaplen).toBeGreaterThanOrEqual(65535);
    expect(pcap.records.map((r) => [r.seconds, r.nanoseconds, r.frame.length, r.origLen])).toEqual([
      [1, 500_000_000, 60, 60], // sent ARP request
      [2, HUB_LATENCY_NS, 78, 78], // received answer, 10 µs after B sent it at 2 s
    ]);
    expect(pcap.records[0].frame.readUInt16BE(12)).toBe(0x0806);
    expect(pcap.records[1].frame.subarray(14).every((b) => b === 0xbb)).toBe(true);
  });

  it('two deterministic runs write byte-identical captures', async () => {
    await exchange('pcap-run1', 'run1.pcap');
    await exchange('pcap-run2', 'run2.pcap');
    const [one, two] = ['run1.pcap', 'run2.pcap'].map((f) => fs.readFileSync(path.join(tmp.dir, f)));
    expect(one.length).toBe(24 + 16 + 60 + 16 + 78);
    expect(one.equals(two)).toBe(true);
  });

  const tshark = which('tshark');
  it.skipIf(!tshark)('tshark reads the capture: sources, EtherTypes and times', async () => {
    await exchange('pcap-tshark', 'lan.pcap');
    const out = execFileSync(tshark!, ['-r', path.join(tmp.dir, 'lan.pcap'), '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'eth.src', '-e', 'eth.type'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(out.trim().split('\n').map((l) => l.split('\t'))).toEqual([
      ['1.500000000', MAC_A, '0x0806'],
      ['2.000010000', MAC_B, '0x0800'],
    ]);
  });
  if (!tshark) console.warn('tshark not installed: skipping the tshark check of pcap files');

  it('wraps any backend: a udp port with pcap records what it sends and receives', async () => {
    const ctx = standaloneBackendContext({ baseDir: tmp.dir, clock: new MachineClock('deterministic') });
    const a = (await udpBackendPlugin.create(ctx, { local: '127.0.0.1:0', remote: '127.0.0.1:9', pcap: 'udp.pcap' } as never)) as PcapNetBackend;
    const port = (a.inner as unknown as { localPort: number }).localPort;
    const b = (await udpBackendPlugin.create(standaloneBackendContext(), { local: '127.0.0.1:0', remote: `127.0.0.1:${port}` } as never)) as NetBackend;
    let received = 0;
    a.attach({ receive: () => received++ });
    a.send(ethFrame(MAC_B, MAC_A, 0x88b5));
    b.send(ethFrame(MAC_A, MAC_B, 0x88b6));
    await until(() => received === 1, 2000);
    await a.dispose();
    await b.dispose?.();
    expect(readPcap(path.join(tmp.dir, 'udp.pcap')).records.map((r) => r.frame.readUInt16BE(12))).toEqual([0x88b5, 0x88b6]);
  });

  it('a pcap file that cannot be created is refused at `pcap`', async () => {
    const e = await Promise.resolve(hubBackendPlugin.create(standaloneBackendContext({ baseDir: tmp.dir }), { name: 'pcap-bad', pcap: 'no/such/dir/x.pcap' } as never)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(BackendConfigError);
    expect(e).toMatchObject({ property: 'pcap', message: `cannot create pcap file ${path.join(tmp.dir, 'no/such/dir/x.pcap')}: ENOENT` });
  });
});
