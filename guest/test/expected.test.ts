import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkDiskImage, createDiskImage, diskPattern, exitStatus, fnv1a32Hex, GUEST_DIR, loadGuestCases, matchExpected, qemuHardwareArgs,
  unimachineMachineFile,
} from './expected.js';
import {
  icmpEcho, inetChecksum, IP_PROTO_ICMP, IP_PROTO_UDP, ipv4Packet, parseIcmpEcho, parseIpv4, parseUdp, udpDatagram,
} from './net-frames.js';

describe('matchExpected', () => {
  it('accepts identical text', () => {
    expect(matchExpected('a\nb\n', 'a\nb\n')).toEqual({ ok: true, diff: '' });
  });

  it('reports the differing line', () => {
    const r = matchExpected('a\nb\n', 'a\nc\n');
    expect(r.ok).toBe(false);
    expect(r.diff).toContain('line 2');
    expect(r.diff).toContain('"b"');
    expect(r.diff).toContain('"c"');
  });

  it('reports missing and extra lines', () => {
    expect(matchExpected('a\nb\n', 'a\n').diff).toContain('expected 2 lines, got 1');
    expect(matchExpected('a\n', 'a\nb\n').ok).toBe(false);
    expect(matchExpected('a\n', 'a').ok).toBe(false);
  });

  it('matches {{n}} against decimal numbers only', () => {
    expect(matchExpected('took {{n}} ms\n', 'took 1234 ms\n').ok).toBe(true);
    expect(matchExpected('delta {{n}}\n', 'delta -5\n').ok).toBe(true);
    expect(matchExpected('took {{n}} ms\n', 'took 12a ms\n').ok).toBe(false);
    expect(matchExpected('took {{n}} ms\n', 'took  ms\n').ok).toBe(false);
  });

  it('matches {{x}} against hex digits and {{*}} against anything', () => {
    expect(matchExpected('RIP {{x}}\n', 'RIP 00000000001027b3\n').ok).toBe(true);
    expect(matchExpected('RIP {{x}}\n', 'RIP 0x1027b3\n').ok).toBe(false);
    expect(matchExpected('[{{*}}]\n', '[any thing]\n').ok).toBe(true);
    expect(matchExpected('[{{*}}]\n', '[]\n').ok).toBe(true);
  });

  it('treats regex characters in the expected text literally', () => {
    expect(matchExpected('a.b (c) $1 [x]*\n', 'a.b (c) $1 [x]*\n').ok).toBe(true);
    expect(matchExpected('a.b\n', 'axb\n').ok).toBe(false);
  });

  it('binds named placeholders across lines', () => {
    const expected = 'expect RIP {{x:rip}}\nRIP {{x:rip}} flags {{x}}\n';
    expect(matchExpected(expected, 'expect RIP 1027b3\nRIP 1027b3 flags 46\n').ok).toBe(true);
    const wrong = matchExpected(expected, 'expect RIP 1027b3\nRIP 1027b4 flags 46\n');
    expect(wrong.ok).toBe(false);
    expect(wrong.diff).toContain('line 2');
    expect(matchExpected('{{n:a}} {{n:a}}\n', '7 7\n').ok).toBe(true);
    expect(matchExpected('{{n:a}} {{n:a}}\n', '7 8\n').ok).toBe(false);
  });
});

describe('exitStatus', () => {
  it('follows isa-debug-exit: (code << 1) | 1', () => {
    expect(exitStatus(0)).toBe(1);
    expect(exitStatus(1)).toBe(3);
    expect(exitStatus(41)).toBe(83);
    expect(exitStatus(46)).toBe(93);
  });
});

describe('disk images', () => {
  it('are created with the "before" texts and checked for the "after" texts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-disk-'));
    try {
      const path = join(dir, 'disk.img');
      const spec = { sizeBytes: 4096, before: [{ offset: 0, text: 'SIG' }], after: [{ offset: 1024, text: 'done' }] };
      createDiskImage(spec, path);
      const image = readFileSync(path);
      expect(image.length).toBe(4096);
      expect(image.toString('latin1', 0, 3)).toBe('SIG');
      expect(checkDiskImage(spec, path)).toEqual(['expected "done" at byte 1024 of the disk image']);
      createDiskImage({ ...spec, before: [...spec.before, { offset: 1024, text: 'done' }] }, path);
      expect(checkDiskImage(spec, path)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('disk patterns', () => {
  it('blk-sectors: a header naming the sector, then bytes from the sector and offset', () => {
    const image = diskPattern('blk-sectors', 4 * 512);
    expect(image.toString('latin1', 512 * 3, 512 * 3 + 16)).toBe('sector 00000003\n');
    expect(image[512 * 2 + 16]).toBe((2 * 131 + 16 * 7) & 0xff);
    expect(image[512 * 3 + 511]).toBe((3 * 131 + 511 * 7) & 0xff);
  });

  it('is checked over the whole image', () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-disk-'));
    try {
      const path = join(dir, 'disk.img');
      const spec = { sizeBytes: 2048, before: [], after: [], pattern: 'blk-sectors' as const };
      writeFileSync(path, diskPattern('blk-sectors', 2048));
      expect(checkDiskImage(spec, path)).toEqual([]);
      const broken = diskPattern('blk-sectors', 2048);
      broken[1500] ^= 1;
      writeFileSync(path, broken);
      expect(checkDiskImage(spec, path)).toEqual(['the image differs from the blk-sectors pattern at byte 1500 (sector 2)']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('FNV-1a 32 matches the published test vectors', () => {
    expect(fnv1a32Hex(Buffer.alloc(0))).toBe('811c9dc5');
    expect(fnv1a32Hex(Buffer.from('a'))).toBe('e40c292c');
    expect(fnv1a32Hex(Buffer.from('foobar'))).toBe('bf9cf968');
  });
});

describe('cases.json hardware', () => {
  const cases = loadGuestCases();

  it('keeps the one-disk and net: true shorthands', () => {
    const blk = cases.find((c) => c.app === 'blk')!;
    expect(blk.disks).toHaveLength(1);
    expect(blk.disk).toBe(blk.disks[0]);
    expect(blk.disk!.after).toEqual([]);
    const net = cases.find((c) => c.app === 'net')!;
    expect(net.net).toBe(true);
    expect(net.netPeer).toEqual({ peer: 'hello' });
  });

  it('puts bridges before the disks behind them in QEMU arguments', () => {
    const disks = cases.find((c) => c.app === 'disks' && c.name === 'disks')!;
    const args = qemuHardwareArgs(disks, disks.disks.map((_, i) => `/tmp/d${i}.img`));
    const devices = args.filter((_, i) => args[i - 1] === '-device');
    expect(devices.slice(0, 3)).toEqual([
      'pci-bridge,id=br1,chassis_nr=1,addr=0x5', 'pci-bridge,id=br2,chassis_nr=2,addr=0x6', 'pci-bridge,id=br3,chassis_nr=3,bus=br1,addr=0x8',
    ]);
    expect(devices[3]).toBe('virtio-blk-pci,disable-modern=on,drive=disk0,addr=0x4');
    expect(devices[4]).toBe('virtio-blk-pci,disable-modern=on,drive=disk1,bus=br1,addr=0x1');
    expect(args).toContain('if=none,id=disk6,format=raw,file=/tmp/d6.img');
  });

  it('turns cpus into -smp and resolves machine files by name or by path', () => {
    const smp4 = cases.find((c) => c.app === 'smp' && c.name === 'smp4')!;
    expect(smp4.cpus).toBe(4);
    expect(qemuHardwareArgs(smp4, []).slice(0, 2)).toEqual(['-smp', '4']);
    expect(unimachineMachineFile(smp4)).toBe(join(GUEST_DIR, '..', 'machines', 'pc-smp.yaml'));
    const x2 = cases.find((c) => c.app === 'apic' && c.name === 'apic-x2')!;
    expect(x2.onlyOn).toBe('unimachine');
    expect(unimachineMachineFile(x2)).toBe(join(GUEST_DIR, 'test', 'machines', 'pc-apic-x2.yaml'));
    expect(existsSync(unimachineMachineFile(x2))).toBe(true);
    const hello = cases.find((c) => c.app === 'hello')!;
    expect(hello.cpus).toBeUndefined();
    expect(qemuHardwareArgs(hello, [])).not.toContain('-smp');
    expect(unimachineMachineFile(hello)).toBe(join(GUEST_DIR, '..', 'machines', 'hello.yaml'));
  });

  it('gives a net case a dgram netdev between the two ports', () => {
    const ping = cases.find((c) => c.app === 'ping')!;
    const args = qemuHardwareArgs(ping, [], { machinePort: 5001, peerPort: 5002 });
    expect(args.join(' ')).toContain('dgram,id=net0,local.type=inet,local.host=127.0.0.1,local.port=5001,remote.type=inet,remote.host=127.0.0.1,remote.port=5002');
    expect(args.join(' ')).toContain('virtio-net-pci,disable-modern=on,netdev=net0,mac=52:54:00:12:34:56');
  });
});

describe('test peer frames', () => {
  it('compute the Internet checksum of a known IPv4 header', () => {
    const header = Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex');
    expect(inetChecksum(header)).toBe(0xb861);
    header.writeUInt16BE(0xb861, 10);
    expect(inetChecksum(header)).toBe(0);
  });

  it('build packets their own parsers accept, and broken ones they refuse', () => {
    const echo = ipv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IP_PROTO_ICMP, payload: icmpEcho(8, 7, 9, Buffer.from('abc')) });
    expect(parseIcmpEcho(parseIpv4(echo))).toMatchObject({ type: 8, id: 7, seq: 9, data: Buffer.from('abc') });
    const badIcmp = ipv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IP_PROTO_ICMP, payload: icmpEcho(8, 7, 9, Buffer.from('abc'), true) });
    expect(() => parseIcmpEcho(parseIpv4(badIcmp))).toThrow('wrong ICMP checksum');
    const badHeader = ipv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IP_PROTO_ICMP, payload: Buffer.alloc(8), badChecksum: true });
    expect(() => parseIpv4(badHeader)).toThrow('wrong IPv4 header checksum');
    const udp = (checksum: 'ok' | 'none' | 'bad') =>
      ipv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IP_PROTO_UDP, payload: udpDatagram('10.0.0.1', '10.0.0.2', 1000, 7, Buffer.from('hello'), checksum) });
    expect(parseUdp(parseIpv4(udp('ok')))).toMatchObject({ srcPort: 1000, dstPort: 7, data: Buffer.from('hello') });
    expect(parseUdp(parseIpv4(udp('none'))).checksum).toBe(0);
    expect(() => parseUdp(parseIpv4(udp('bad')))).toThrow('wrong UDP checksum');
  });
});
