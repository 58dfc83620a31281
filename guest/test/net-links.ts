/**
 * Test ends of Unimachine network links that are not UDP sockets: a hub port played by test
 * code (so net-peers.ts's scripted peers run over an in-process hub), and small helpers the
 * network tests share (waiting on hub frames, reading a pcap file with tshark).
 */
import { spawnSync } from 'node:child_process';
import { HOST_PORT_LABEL, type Hub, type HubFrame } from '@unimachine/netdev';
import type { EthernetLink } from './net-peers.js';

/**
 * The test's side of a hub, as an EthernetLink: send() injects a frame as if from a host port
 * labelled `label` (no send time, so it reaches a machine at that machine's current virtual time);
 * receive() returns the hub's frames from anyone else, in the order the hub carried them,
 * starting with the first frame carried after the link was made.
 */
export class HubEthernetLink implements EthernetLink {
  /** The first hub sequence number receive() has not returned yet. */
  private nextSeq: number;
  private closed = false;
  private readonly abandon = new Set<(e: Error) => void>();

  constructor(
    readonly hub: Hub,
    readonly label: string = HOST_PORT_LABEL,
    /** Which other frames this link receives (default: all of them). */
    private readonly accept: (f: HubFrame) => boolean = () => true,
  ) {
    this.nextSeq = hub.frameCount;
  }

  send(frame: Buffer): void {
    if (this.closed) throw new Error('the link is closed');
    this.hub.send(frame, this.label);
  }

  async receive(timeoutMs: number): Promise<Buffer> {
    if (this.closed) throw new Error('the link is closed');
    const wanted = (f: HubFrame) => f.from !== this.label && this.accept(f);
    const found = this.hub.waitFor(wanted, { since: this.nextSeq, timeoutMs });
    // close() rejects a receive still waiting (the hub's own timer then runs out unheard).
    let reject!: (e: Error) => void;
    const closed = new Promise<never>((_, r) => this.abandon.add((reject = r)));
    try {
      const f = await Promise.race([found, closed]);
      this.nextSeq = f.seq + 1;
      return Buffer.from(f.frame);
    } finally {
      found.catch(() => {});
      this.abandon.delete(reject);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const reject of this.abandon) reject(new Error('the link was closed while waiting for a frame'));
    this.abandon.clear();
  }
}

/** Whether tshark runs here (Debian package tshark). */
export function tsharkAvailable(): boolean {
  return spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * `tshark -r FILE [options] -T fields -e ...`: one array of field values per frame, in capture order.
 * Throws with tshark's stderr when it cannot read the file.
 */
export function tsharkFields(file: string, fields: string[], options: string[] = []): string[][] {
  const args = ['-r', file, ...options, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])];
  const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`tshark -r ${file} failed (status ${r.status}): ${r.stderr.trim()}`);
  return r.stdout.split('\n').filter((line) => line !== '').map((line) => line.split('\t'));
}

export type { TapFloodResult } from './netns.js';
