/**
 * The test's end of a guest's virtio-net link: an Ethernet link over UDP datagrams on
 * 127.0.0.1 (one frame per datagram: QEMU's -netdev dgram, Unimachine's udp backend) and
 * one scripted peer per net app (see NetPeerSpec in expected.ts). A peer returns the
 * problems it saw (empty when the guest behaved), never throws.
 */
import { createSocket, type Socket } from 'node:dgram';
import { NET_PEER_MAC, type NetPeerSpec } from './expected.js';
import {
  ARP_REPLY, ARP_REQUEST, arpPacket, BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ethernetFrame,
  ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, icmpEcho, IP_PROTO_ICMP, IP_PROTO_UDP, ipv4Packet, macString, parseArp, parseFrame,
  parseIcmpEcho, parseIpv4, parseUdp, udpDatagram, type ParsedFrame,
} from './net-frames.js';

/** Frames to and from a guest. */
export interface EthernetLink {
  send(frame: Buffer): void;
  /** The next frame from the guest, in arrival order; rejects after timeoutMs or on close. */
  receive(timeoutMs: number): Promise<Buffer>;
  close(): void;
}

/** A UDP port on 127.0.0.1 nobody uses right now (for the machine's end of a link). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * Ethernet over UDP on 127.0.0.1: frames go to machinePort; frames come from anyone
 * (the link also learns the machine's port from them, if it was not given).
 */
export class UdpEthernetLink implements EthernetLink {
  private readonly queue: Buffer[] = [];
  private waiter: ((frame: Buffer | undefined) => void) | undefined;
  private closed = false;

  private constructor(private readonly socket: Socket, public machinePort: number | undefined) {
    socket.on('message', (frame, from) => {
      this.machinePort ??= from.port;
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(frame);
      } else {
        this.queue.push(frame);
      }
    });
  }

  static async open(machinePort?: number): Promise<UdpEthernetLink> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new UdpEthernetLink(socket, machinePort);
  }

  /** The port this end listens on (the machine sends its frames here). */
  get port(): number {
    return this.socket.address().port;
  }

  send(frame: Buffer): void {
    if (this.machinePort === undefined) throw new Error('the machine end of the link is not known yet');
    this.socket.send(frame, this.machinePort, '127.0.0.1');
  }

  receive(timeoutMs: number): Promise<Buffer> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(new Error('the link is closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no frame from the guest within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (frame) => {
        clearTimeout(timer);
        if (frame) resolve(frame);
        else reject(new Error('the link was closed while waiting for a frame'));
      };
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiter?.(undefined);
    this.waiter = undefined;
    this.socket.close();
  }
}

class PeerFailure extends Error {}

function fail(message: string): never {
  throw new PeerFailure(message);
}

/** What a peer needs besides its spec. */
export interface PeerContext {
  link: EthernetLink;
  /** The MAC the guest's NIC must use. */
  guestMac: Buffer;
  /** How long to wait for each frame the guest must send (boot time included for the first). */
  frameTimeoutMs: number;
}

/**
 * Plays the peer a case needs until its script ends. Returns what went wrong (empty when
 * the guest did everything it should).
 */
export async function runNetPeer(spec: NetPeerSpec, ctx: PeerContext): Promise<string[]> {
  const peer = new Peer(ctx);
  try {
    switch (spec.peer) {
      case 'hello': await helloPeer(peer); break;
      case 'ping': await pingPeer(peer, spec); break;
      case 'udp-echo': await udpEchoPeer(peer, spec); break;
      case 'ping-client': await pingClientPeer(peer, spec); break;
    }
  } catch (e) {
    peer.problems.push(e instanceof Error ? e.message : String(e));
  }
  return peer.problems;
}

/** The helpers the scripts share. */
class Peer {
  readonly problems: string[] = [];
  constructor(readonly ctx: PeerContext) {}

  send(dst: Buffer, ethertype: number, payload: Buffer): void {
    this.ctx.link.send(ethernetFrame(dst, NET_PEER_MAC, ethertype, payload));
  }

  sendIpv4(src: string, dst: string, protocol: number, payload: Buffer, extra: { badChecksum?: boolean; extraLength?: number; ttl?: number } = {}): void {
    this.send(this.ctx.guestMac, ETHERTYPE_IPV4, ipv4Packet({ src, dst, protocol, payload, ...extra }));
  }

  async next(what: string): Promise<ParsedFrame> {
    let frame: Buffer;
    try {
      frame = await this.ctx.link.receive(this.ctx.frameTimeoutMs);
    } catch (e) {
      fail(`waiting for ${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return parseFrame(frame);
  }

  /** The next frame must come from the guest's MAC and be addressed to dst. */
  checkAddresses(f: ParsedFrame, dst: Buffer, what: string): void {
    if (!f.src.equals(this.ctx.guestMac)) fail(`${what}: Ethernet source ${macString(f.src)}, not the guest's ${macString(this.ctx.guestMac)}`);
    if (!f.dst.equals(dst)) fail(`${what}: Ethernet destination ${macString(f.dst)}, expected ${macString(dst)}`);
  }

  /** Waits for the guest's gratuitous ARP for its own address (it announces itself when ready). */
  async awaitAnnouncement(guestIp: string): Promise<void> {
    const f = await this.next('the guest\'s gratuitous ARP');
    if (f.ethertype !== ETHERTYPE_ARP) fail(`first frame has EtherType 0x${f.ethertype.toString(16)}, expected an ARP announcement`);
    this.checkAddresses(f, BROADCAST_MAC, 'ARP announcement');
    const a = parseArp(f.payload);
    if (a.op !== ARP_REQUEST || a.senderIp !== guestIp || a.targetIp !== guestIp || !a.senderMac.equals(this.ctx.guestMac)) {
      fail(`ARP announcement: op ${a.op} ${a.senderIp} (${macString(a.senderMac)}) asks for ${a.targetIp}`);
    }
  }

  /** Asks who has guestIp and checks the guest's answer. */
  async resolveGuest(guestIp: string, peerIp: string): Promise<void> {
    this.send(BROADCAST_MAC, ETHERTYPE_ARP, arpPacket({ op: ARP_REQUEST, senderMac: NET_PEER_MAC, senderIp: peerIp, targetMac: Buffer.alloc(6), targetIp: guestIp }));
    const f = await this.next(`the ARP reply for ${guestIp}`);
    this.checkArpReply(f, guestIp, peerIp);
  }

  checkArpReply(f: ParsedFrame, guestIp: string, peerIp: string): void {
    if (f.ethertype !== ETHERTYPE_ARP) fail(`expected an ARP reply, got EtherType 0x${f.ethertype.toString(16)}`);
    this.checkAddresses(f, NET_PEER_MAC, 'ARP reply');
    const a = parseArp(f.payload);
    if (a.op !== ARP_REPLY || a.senderIp !== guestIp || !a.senderMac.equals(this.ctx.guestMac) || a.targetIp !== peerIp || !a.targetMac.equals(NET_PEER_MAC)) {
      fail(`ARP reply: op ${a.op}, ${a.senderIp} is at ${macString(a.senderMac)}, to ${a.targetIp} (${macString(a.targetMac)})`);
    }
  }

  /** The next frame must be an intact IPv4 packet from guestIp to peerIp. */
  async nextIpv4(guestIp: string, peerIp: string, what: string) {
    const f = await this.next(what);
    if (f.ethertype !== ETHERTYPE_IPV4) fail(`${what}: EtherType 0x${f.ethertype.toString(16)}`);
    this.checkAddresses(f, NET_PEER_MAC, what);
    const ip = parseIpv4(f.payload);
    if (ip.src !== guestIp || ip.dst !== peerIp) fail(`${what}: IPv4 ${ip.src} -> ${ip.dst}, expected ${guestIp} -> ${peerIp}`);
    if (ip.ttl === 0) fail(`${what}: TTL 0`);
    return ip;
  }
}

// ---- hello: apps/net -------------------------------------------------------------------

const HELLO_ETHERTYPE = 0x88b5;

function helloPayload(f: ParsedFrame): string {
  return f.payload.toString('latin1').replace(/\0+$/, '');
}

async function helloPeer(p: Peer): Promise<void> {
  const hello = await p.next('the net app\'s hello');
  if (hello.ethertype !== HELLO_ETHERTYPE || helloPayload(hello) !== 'hello from the net app') {
    fail(`expected the net app's hello, got EtherType 0x${hello.ethertype.toString(16)} ${JSON.stringify(helloPayload(hello))}`);
  }
  p.send(hello.src, HELLO_ETHERTYPE, Buffer.from('hello from the peer', 'latin1'));
  const echo = await p.next('the net app\'s echo');
  p.checkAddresses(echo, NET_PEER_MAC, 'echo');
  if (echo.ethertype !== HELLO_ETHERTYPE || helloPayload(echo) !== 'echo: hello from the peer') {
    fail(`expected "echo: hello from the peer", got ${JSON.stringify(helloPayload(echo))}`);
  }
}

// ---- ping: apps/ping -------------------------------------------------------------------

const PING_ID = 0x1234;
/** Echo data sizes, in turn: a usual one, none, and an odd length near the MTU. */
const PING_SIZES = [56, 0, 1401];

function pingData(seq: number): Buffer {
  const size = PING_SIZES[(seq - 1) % PING_SIZES.length]!;
  return Buffer.from(Array.from({ length: size }, (_, i) => (seq * 7 + i) & 0xff));
}

/**
 * Announcement, ARP, then frames the guest must drop without answering (each counted in
 * its last "dropped" line), then echo requests 1..count, each answered before the next.
 */
async function pingPeer(p: Peer, s: { guestIp: string; peerIp: string; count: number }): Promise<void> {
  await p.awaitAnnouncement(s.guestIp);
  await p.resolveGuest(s.guestIp, s.peerIp);
  const other = '10.0.0.99';
  // bad checksum: ICMP, then the IPv4 header
  p.sendIpv4(s.peerIp, s.guestIp, IP_PROTO_ICMP, icmpEcho(ICMP_ECHO_REQUEST, PING_ID, 1000, pingData(1), true));
  p.sendIpv4(s.peerIp, s.guestIp, IP_PROTO_ICMP, icmpEcho(ICMP_ECHO_REQUEST, PING_ID, 1001, pingData(1)), { badChecksum: true });
  // not for us: another IPv4 address, an ARP request for it, another MAC
  p.sendIpv4(s.peerIp, other, IP_PROTO_ICMP, icmpEcho(ICMP_ECHO_REQUEST, PING_ID, 1002, pingData(1)));
  p.send(BROADCAST_MAC, ETHERTYPE_ARP, arpPacket({ op: ARP_REQUEST, senderMac: NET_PEER_MAC, senderIp: s.peerIp, targetMac: Buffer.alloc(6), targetIp: other }));
  p.ctx.link.send(ethernetFrame(Buffer.from([0x02, 0, 0, 0, 0, 0x77]), NET_PEER_MAC, ETHERTYPE_IPV4,
    ipv4Packet({ src: s.peerIp, dst: s.guestIp, protocol: IP_PROTO_ICMP, payload: icmpEcho(ICMP_ECHO_REQUEST, PING_ID, 1003, pingData(1)) })));
  // malformed: a total length longer than the frame
  p.sendIpv4(s.peerIp, s.guestIp, IP_PROTO_ICMP, icmpEcho(ICMP_ECHO_REQUEST, PING_ID, 1004, pingData(1)), { extraLength: 100 });
  // unsupported: IPv6
  p.send(p.ctx.guestMac, ETHERTYPE_IPV6, Buffer.alloc(40));

  for (let seq = 1; seq <= s.count; seq++) {
    const data = pingData(seq);
    p.sendIpv4(s.peerIp, s.guestIp, IP_PROTO_ICMP, icmpEcho(ICMP_ECHO_REQUEST, PING_ID, seq, data));
    const ip = await p.nextIpv4(s.guestIp, s.peerIp, `the echo reply to seq ${seq}`);
    const e = parseIcmpEcho(ip);
    if (e.type !== ICMP_ECHO_REPLY || e.code !== 0 || e.id !== PING_ID || e.seq !== seq) {
      fail(`echo reply to seq ${seq}: type ${e.type} code ${e.code} id 0x${e.id.toString(16)} seq ${e.seq}`);
    }
    if (!e.data.equals(data)) fail(`echo reply to seq ${seq}: ${e.data.length} data bytes, not the ${data.length} sent`);
  }
}

// ---- udp-echo: apps/udp-echo -----------------------------------------------------------

const UDP_PEER_PORT = 40000;

/**
 * Announcement, ARP, a datagram with a bad checksum (dropped), one to another port
 * (reported, not answered), then each message from its own source port, each echoed back
 * before the next; the second message goes without a UDP checksum.
 */
async function udpEchoPeer(p: Peer, s: { guestIp: string; peerIp: string; port: number; messages: string[] }): Promise<void> {
  await p.awaitAnnouncement(s.guestIp);
  await p.resolveGuest(s.guestIp, s.peerIp);
  const noise = Buffer.from('this one has a bad checksum\n', 'latin1');
  p.sendIpv4(s.peerIp, s.guestIp, IP_PROTO_UDP, udpDatagram(s.peerIp, s.guestIp, UDP_PEER_PORT, s.port, noise, 'bad'));
  const wrongPort = s.port === 9 ? 10 : 9;
  p.sendIpv4(s.peerIp, s.guestIp, IP_PROTO_UDP, udpDatagram(s.peerIp, s.guestIp, UDP_PEER_PORT, wrongPort, Buffer.from('discard me\n')));

  for (const [i, message] of s.messages.entries()) {
    const srcPort = UDP_PEER_PORT + 1 + i;
    const data = Buffer.from(message, 'latin1');
    p.sendIpv4(s.peerIp, s.guestIp, IP_PROTO_UDP, udpDatagram(s.peerIp, s.guestIp, srcPort, s.port, data, i === 1 ? 'none' : 'ok'));
    const what = `the echo of message ${i + 1}`;
    const u = parseUdp(await p.nextIpv4(s.guestIp, s.peerIp, what));
    if (u.srcPort !== s.port || u.dstPort !== srcPort) fail(`${what}: ports ${u.srcPort} -> ${u.dstPort}, expected ${s.port} -> ${srcPort}`);
    if (u.checksum === 0) fail(`${what}: sent without a UDP checksum`);
    if (!u.data.equals(data)) fail(`${what}: ${JSON.stringify(u.data.toString('latin1'))}, expected ${JSON.stringify(message)}`);
  }
}

// ---- ping-client: apps/ping-client -----------------------------------------------------

const CLIENT_ECHO_ID = 0x554d;
const CLIENT_DATA_BYTES = 56;
const REPLY_TTL = 61;

/**
 * Answers the guest's ARP request for peerIp, asks the guest's own address back, then
 * answers each echo request. Before the first answer it sends a reply with another
 * sequence number (the app reports and skips it) and one with a bad checksum (dropped).
 */
async function pingClientPeer(p: Peer, s: { guestIp: string; peerIp: string; count: number }): Promise<void> {
  const f = await p.next(`the guest's ARP request for ${s.peerIp}`);
  if (f.ethertype !== ETHERTYPE_ARP) fail(`first frame has EtherType 0x${f.ethertype.toString(16)}, expected an ARP request`);
  p.checkAddresses(f, BROADCAST_MAC, 'ARP request');
  const a = parseArp(f.payload);
  if (a.op !== ARP_REQUEST || a.senderIp !== s.guestIp || a.targetIp !== s.peerIp || !a.senderMac.equals(p.ctx.guestMac)) {
    fail(`ARP request: op ${a.op} from ${a.senderIp} (${macString(a.senderMac)}) for ${a.targetIp}`);
  }
  p.send(p.ctx.guestMac, ETHERTYPE_ARP, arpPacket({ op: ARP_REPLY, senderMac: NET_PEER_MAC, senderIp: s.peerIp, targetMac: p.ctx.guestMac, targetIp: s.guestIp }));
  p.send(BROADCAST_MAC, ETHERTYPE_ARP, arpPacket({ op: ARP_REQUEST, senderMac: NET_PEER_MAC, senderIp: s.peerIp, targetMac: Buffer.alloc(6), targetIp: s.guestIp }));

  let arpAnswered = false;
  for (let seq = 1; seq <= s.count; seq++) {
    const what = `echo request seq ${seq}`;
    let f = await p.next(what);
    // The guest answers our ARP request while it waits for its first reply; it may also
    // have repeated its own request before our answer reached it (ignored).
    while (f.ethertype === ETHERTYPE_ARP) {
      if (!isRepeatedRequest(f, s.peerIp)) {
        if (arpAnswered) fail(`${what}: a second ARP reply`);
        p.checkArpReply(f, s.guestIp, s.peerIp);
        arpAnswered = true;
      }
      f = await p.next(what);
    }
    if (f.ethertype !== ETHERTYPE_IPV4) fail(`${what}: EtherType 0x${f.ethertype.toString(16)}`);
    p.checkAddresses(f, NET_PEER_MAC, what);
    const ip = parseIpv4(f.payload);
    if (ip.src !== s.guestIp || ip.dst !== s.peerIp) fail(`${what}: IPv4 ${ip.src} -> ${ip.dst}`);
    const e = parseIcmpEcho(ip);
    if (e.type !== ICMP_ECHO_REQUEST || e.code !== 0 || e.id !== CLIENT_ECHO_ID || e.seq !== seq || e.data.length !== CLIENT_DATA_BYTES) {
      fail(`${what}: type ${e.type} id 0x${e.id.toString(16)} seq ${e.seq}, ${e.data.length} data bytes`);
    }
    if (seq === 1) {
      p.sendIpv4(s.peerIp, s.guestIp, IP_PROTO_ICMP, icmpEcho(ICMP_ECHO_REPLY, CLIENT_ECHO_ID, 99, e.data), { ttl: REPLY_TTL });
      p.sendIpv4(s.peerIp, s.guestIp, IP_PROTO_ICMP, icmpEcho(ICMP_ECHO_REPLY, CLIENT_ECHO_ID, seq, e.data, true), { ttl: REPLY_TTL });
    }
    p.sendIpv4(s.peerIp, s.guestIp, IP_PROTO_ICMP, icmpEcho(ICMP_ECHO_REPLY, e.id, e.seq, e.data), { ttl: REPLY_TTL });
  }
  while (!arpAnswered) {
    const f = await p.next(`the ARP reply for ${s.guestIp}`);
    if (isRepeatedRequest(f, s.peerIp)) continue;
    p.checkArpReply(f, s.guestIp, s.peerIp);
    arpAnswered = true;
  }
}

function isRepeatedRequest(f: ParsedFrame, peerIp: string): boolean {
  if (f.ethertype !== ETHERTYPE_ARP) return false;
  const a = parseArp(f.payload);
  return a.op === ARP_REQUEST && a.targetIp === peerIp;
}
