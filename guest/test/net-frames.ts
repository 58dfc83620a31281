/**
 * Ethernet, ARP, IPv4, ICMP echo and UDP frames for the test peers: builders that can
 * also build deliberately broken frames, and parsers that check every checksum.
 * Addresses are dotted strings ('10.0.0.2') and 6-byte Buffers.
 */

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const IP_PROTO_ICMP = 1;
export const IP_PROTO_UDP = 17;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const BROADCAST_MAC = Buffer.alloc(6, 0xff);

const ETH_HEADER = 14;
const ETH_MIN_FRAME = 60;
const ARP_BYTES = 28;
const IPV4_HEADER = 20;
const ICMP_HEADER = 8;
const UDP_HEADER = 8;

export function ipBytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`bad IPv4 address ${ip}`);
  return Buffer.from(parts);
}

export function ipString(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4)).join('.');
}

export function macString(mac: Uint8Array): string {
  return Array.from(mac.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

/** The Internet checksum (RFC 1071): the one's complement of the one's-complement sum. */
export function inetChecksum(data: Uint8Array, partial = 0): number {
  let sum = partial;
  for (let i = 0; i + 1 < data.length; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (data.length % 2) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  return ((src[0]! << 8) | src[1]!) + ((src[2]! << 8) | src[3]!) + ((dst[0]! << 8) | dst[1]!) + ((dst[2]! << 8) | dst[3]!) +
    protocol + length;
}

export function ethernetFrame(dst: Buffer, src: Buffer, ethertype: number, payload: Buffer): Buffer {
  const frame = Buffer.alloc(Math.max(ETH_MIN_FRAME, ETH_HEADER + payload.length));
  dst.copy(frame, 0);
  src.copy(frame, 6);
  frame.writeUInt16BE(ethertype, 12);
  payload.copy(frame, ETH_HEADER);
  return frame;
}

export interface ArpPacket {
  op: number;
  senderMac: Buffer;
  senderIp: string;
  targetMac: Buffer;
  targetIp: string;
}

export function arpPacket(a: ArpPacket): Buffer {
  const p = Buffer.alloc(ARP_BYTES);
  p.writeUInt16BE(1, 0); // Ethernet
  p.writeUInt16BE(ETHERTYPE_IPV4, 2);
  p[4] = 6;
  p[5] = 4;
  p.writeUInt16BE(a.op, 6);
  a.senderMac.copy(p, 8);
  ipBytes(a.senderIp).copy(p, 14);
  a.targetMac.copy(p, 18);
  ipBytes(a.targetIp).copy(p, 24);
  return p;
}

export interface Ipv4Options {
  src: string;
  dst: string;
  protocol: number;
  payload: Buffer;
  ttl?: number;
  id?: number;
  /** Store a wrong header checksum. */
  badChecksum?: boolean;
  /** Claim a total length this much longer than what is sent. */
  extraLength?: number;
}

export function ipv4Packet(o: Ipv4Options): Buffer {
  const p = Buffer.alloc(IPV4_HEADER + o.payload.length);
  p[0] = 0x45;
  p.writeUInt16BE(IPV4_HEADER + o.payload.length + (o.extraLength ?? 0), 2);
  p.writeUInt16BE(o.id ?? 0, 4);
  p.writeUInt16BE(0x4000, 6); // DF
  p[8] = o.ttl ?? 64;
  p[9] = o.protocol;
  ipBytes(o.src).copy(p, 12);
  ipBytes(o.dst).copy(p, 16);
  p.writeUInt16BE(inetChecksum(p.subarray(0, IPV4_HEADER)) ^ (o.badChecksum ? 0x5555 : 0), 10);
  o.payload.copy(p, IPV4_HEADER);
  return p;
}

export function icmpEcho(type: number, id: number, seq: number, data: Buffer, badChecksum = false): Buffer {
  const p = Buffer.alloc(ICMP_HEADER + data.length);
  p[0] = type;
  p.writeUInt16BE(id, 4);
  p.writeUInt16BE(seq, 6);
  data.copy(p, ICMP_HEADER);
  p.writeUInt16BE(inetChecksum(p) ^ (badChecksum ? 0x00ff : 0), 2);
  return p;
}

export function udpDatagram(src: string, dst: string, srcPort: number, dstPort: number, data: Buffer,
  checksum: 'ok' | 'none' | 'bad' = 'ok'): Buffer {
  const p = Buffer.alloc(UDP_HEADER + data.length);
  p.writeUInt16BE(srcPort, 0);
  p.writeUInt16BE(dstPort, 2);
  p.writeUInt16BE(p.length, 4);
  data.copy(p, UDP_HEADER);
  if (checksum !== 'none') {
    const sum = inetChecksum(p, pseudoHeaderSum(ipBytes(src), ipBytes(dst), IP_PROTO_UDP, p.length)) || 0xffff;
    p.writeUInt16BE(checksum === 'bad' ? sum ^ 0x0f0f : sum, 6);
  }
  return p;
}

export interface ParsedFrame {
  dst: Buffer;
  src: Buffer;
  ethertype: number;
  payload: Buffer;
}

export function parseFrame(frame: Buffer): ParsedFrame {
  if (frame.length < ETH_HEADER) throw new Error(`a ${frame.length}-byte frame is shorter than an Ethernet header`);
  return { dst: frame.subarray(0, 6), src: frame.subarray(6, 12), ethertype: frame.readUInt16BE(12), payload: frame.subarray(ETH_HEADER) };
}

export function parseArp(payload: Buffer): ArpPacket {
  if (payload.length < ARP_BYTES) throw new Error(`ARP packet of ${payload.length} bytes`);
  if (payload.readUInt16BE(0) !== 1 || payload.readUInt16BE(2) !== ETHERTYPE_IPV4 || payload[4] !== 6 || payload[5] !== 4) {
    throw new Error(`ARP packet for other than Ethernet/IPv4: ${payload.subarray(0, 6).toString('hex')}`);
  }
  return {
    op: payload.readUInt16BE(6),
    senderMac: payload.subarray(8, 14),
    senderIp: ipString(payload.subarray(14, 18)),
    targetMac: payload.subarray(18, 24),
    targetIp: ipString(payload.subarray(24, 28)),
  };
}

export interface ParsedIpv4 {
  src: string;
  dst: string;
  protocol: number;
  ttl: number;
  flags: number;
  payload: Buffer;
  /** Source and destination as bytes, for the UDP pseudo-header. */
  srcBytes: Buffer;
  dstBytes: Buffer;
}

/** Parses an IPv4 packet (Ethernet padding after it is ignored); throws on any broken field. */
export function parseIpv4(payload: Buffer): ParsedIpv4 {
  if (payload.length < IPV4_HEADER || payload[0]! >> 4 !== 4) throw new Error('not an IPv4 packet');
  const headerLength = (payload[0]! & 0xf) * 4;
  const total = payload.readUInt16BE(2);
  if (headerLength < IPV4_HEADER || total < headerLength || total > payload.length) {
    throw new Error(`IPv4 lengths do not add up: header ${headerLength}, total ${total}, ${payload.length} bytes`);
  }
  if (inetChecksum(payload.subarray(0, headerLength)) !== 0) throw new Error('wrong IPv4 header checksum');
  return {
    src: ipString(payload.subarray(12, 16)),
    dst: ipString(payload.subarray(16, 20)),
    protocol: payload[9]!,
    ttl: payload[8]!,
    flags: payload.readUInt16BE(6),
    payload: payload.subarray(headerLength, total),
    srcBytes: payload.subarray(12, 16),
    dstBytes: payload.subarray(16, 20),
  };
}

export interface ParsedEcho {
  type: number;
  code: number;
  id: number;
  seq: number;
  data: Buffer;
}

export function parseIcmpEcho(ip: ParsedIpv4): ParsedEcho {
  if (ip.protocol !== IP_PROTO_ICMP) throw new Error(`IPv4 protocol ${ip.protocol}, not ICMP`);
  const p = ip.payload;
  if (p.length < ICMP_HEADER) throw new Error(`ICMP message of ${p.length} bytes`);
  if (inetChecksum(p) !== 0) throw new Error('wrong ICMP checksum');
  return { type: p[0]!, code: p[1]!, id: p.readUInt16BE(4), seq: p.readUInt16BE(6), data: p.subarray(ICMP_HEADER) };
}

export interface ParsedUdp {
  srcPort: number;
  dstPort: number;
  checksum: number;
  data: Buffer;
}

export function parseUdp(ip: ParsedIpv4): ParsedUdp {
  if (ip.protocol !== IP_PROTO_UDP) throw new Error(`IPv4 protocol ${ip.protocol}, not UDP`);
  const p = ip.payload;
  if (p.length < UDP_HEADER || p.readUInt16BE(4) !== p.length) throw new Error(`UDP length ${p.length >= 6 ? p.readUInt16BE(4) : '?'} in ${p.length} bytes`);
  const checksum = p.readUInt16BE(6);
  if (checksum !== 0 && inetChecksum(p, pseudoHeaderSum(ip.srcBytes, ip.dstBytes, IP_PROTO_UDP, p.length)) !== 0) {
    throw new Error('wrong UDP checksum');
  }
  return { srcPort: p.readUInt16BE(0), dstPort: p.readUInt16BE(2), checksum, data: p.subarray(UDP_HEADER) };
}
