import { parseMac } from '../src/index.js';

export const BROADCAST = 'ff:ff:ff:ff:ff:ff';

/** An Ethernet frame: dst, src, EtherType, payload (padded to the 60-byte minimum). */
export function ethFrame(dst: string, src: string, etherType: number, payload: Uint8Array = new Uint8Array(46)): Uint8Array {
  const frame = new Uint8Array(Math.max(60, 14 + payload.length));
  frame.set(parseMac(dst), 0);
  frame.set(parseMac(src), 6);
  frame[12] = etherType >> 8;
  frame[13] = etherType & 0xff;
  frame.set(payload, 14);
  return frame;
}

export function ipv4(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

/** ARP request "who has targetIp? tell senderIp" (RFC 826), broadcast. */
export function arpRequest(senderMac: string, senderIp: string, targetIp: string): Uint8Array {
  const arp = new Uint8Array(28);
  const view = new DataView(arp.buffer);
  view.setUint16(0, 1); // hardware: Ethernet
  view.setUint16(2, 0x0800); // protocol: IPv4
  arp[4] = 6;
  arp[5] = 4;
  view.setUint16(6, 1); // request
  arp.set(parseMac(senderMac), 8);
  arp.set(ipv4(senderIp), 14);
  arp.set(ipv4(targetIp), 24);
  return ethFrame(BROADCAST, senderMac, 0x0806, arp);
}

export function etherType(frame: Uint8Array): number {
  return (frame[12] << 8) | frame[13];
}

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** ICMP echo request in IPv4 in Ethernet. */
export function icmpEcho(dstMac: string, srcMac: string, srcIp: string, dstIp: string, id: number, seq: number, data: Uint8Array): Uint8Array {
  const icmp = new Uint8Array(8 + data.length);
  icmp[0] = 8; // echo request
  new DataView(icmp.buffer).setUint16(4, id);
  new DataView(icmp.buffer).setUint16(6, seq);
  icmp.set(data, 8);
  new DataView(icmp.buffer).setUint16(2, checksum(icmp));
  const ip = new Uint8Array(20 + icmp.length);
  const v = new DataView(ip.buffer);
  ip[0] = 0x45;
  v.setUint16(2, ip.length);
  ip[8] = 64; // TTL
  ip[9] = 1; // ICMP
  ip.set(ipv4(srcIp), 12);
  ip.set(ipv4(dstIp), 16);
  v.setUint16(10, checksum(ip.subarray(0, 20)));
  ip.set(icmp, 20);
  return ethFrame(dstMac, srcMac, 0x0800, ip);
}
