import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { NetBackend } from '@unimachine/core';
import { BackendConfigError, formatMac, standaloneBackendContext, udpBackendPlugin, UdpNetBackend } from '../src/index.js';
import { BROADCAST, ethFrame } from './frames.js';
import { freeUdpPort, RecordingHost, until, which } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function udp(local: string, remote: string, host = new RecordingHost()): Promise<UdpNetBackend> {
  const backend = (await udpBackendPlugin.create(standaloneBackendContext({ host, owner: 'net0' }), { local, remote } as never)) as UdpNetBackend;
  cleanups.push(() => backend.dispose());
  return backend;
}

function collect(backend: NetBackend): Uint8Array[] {
  const got: Uint8Array[] = [];
  backend.attach({ receive: (f) => got.push(Uint8Array.from(f)) });
  return got;
}

async function refusal(props: Record<string, unknown>): Promise<BackendConfigError> {
  const e = await Promise.resolve(udpBackendPlugin.create(standaloneBackendContext(), props as never)).then(
    (b) => (b as NetBackend).dispose?.(),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(BackendConfigError);
  return e as BackendConfigError;
}

describe('udp backend', () => {
  it('two backends on 127.0.0.1 exchange frames, one per datagram, byte for byte', async () => {
    const [pa, pb] = [await freeUdpPort(), await freeUdpPort()];
    const hostA = new RecordingHost();
    const a = await udp(`127.0.0.1:${pa}`, `127.0.0.1:${pb}`, hostA);
    const b = await udp(`127.0.0.1:${pb}`, `127.0.0.1:${pa}`);
    const gotA = collect(a);
    const gotB = collect(b);
    const small = ethFrame(BROADCAST, '52:54:00:00:00:0a', 0x0806);
    const big = ethFrame('52:54:00:00:00:0a', '52:54:00:00:00:0b', 0x0800, new Uint8Array(1500).map((_, i) => i));
    a.send(small);
    b.send(big);
    await until(() => gotA.length === 1 && gotB.length === 1, 2000, undefined, 'both frames');
    expect(gotB[0]).toEqual(small);
    expect(gotA[0]).toEqual(big);
    expect(hostA.wakes).toBe(1);
  });

  it('holds the machine open while the socket is open and releases it at dispose', async () => {
    const host = new RecordingHost();
    const backend = await udp('127.0.0.1:0', '127.0.0.1:9', host);
    expect(host.reasons).toEqual(['udp 127.0.0.1:0']);
    expect(backend.localPort).toBeGreaterThan(0);
    await backend.dispose();
    expect(host.holds.size).toBe(0);
  });

  it('a frame sent from a plain socket (any sender) reaches the NIC', async () => {
    const backend = await udp('127.0.0.1:0', '127.0.0.1:9');
    const got = collect(backend);
    const sock = dgram.createSocket('udp4');
    cleanups.push(() => sock.close());
    const frame = ethFrame(BROADCAST, '52:54:00:00:00:0c', 0x88b5);
    sock.send(frame, backend.localPort, '127.0.0.1');
    await until(() => got.length === 1, 2000);
    expect(formatMac(got[0], 6)).toBe('52:54:00:00:00:0c');
  });

  it('a local address in use is refused with the address, at `local`', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    cleanups.push(() => sock.close());
    const taken = `127.0.0.1:${sock.address().port}`;
    const e = await refusal({ local: taken, remote: '127.0.0.1:9' });
    expect(e.property).toBe('local');
    expect(e.message).toBe(`cannot bind UDP ${taken}: address already in use`);
  });

  it('an address this host does not have is refused at `local`', async () => {
    const e = await refusal({ local: '192.0.2.1:5555', remote: '127.0.0.1:9' });
    expect(e).toMatchObject({ property: 'local', message: 'cannot bind UDP 192.0.2.1:5555: no such local address' });
  });

  it('malformed addresses are refused at the property at fault', async () => {
    expect(await refusal({ local: '127.0.0.1', remote: '127.0.0.1:9' })).toMatchObject({ property: 'local', message: expect.stringMatching(/^local must be HOST:PORT/) });
    expect(await refusal({ local: '127.0.0.1:0', remote: '127.0.0.1:70000' })).toMatchObject({ property: 'remote' });
    expect(await refusal({ local: '127.0.0.1:0', remote: '127.0.0.1:0' })).toMatchObject({ property: 'remote', message: 'remote port must not be 0: "127.0.0.1:0"' });
    expect(await refusal({ local: '127.0.0.1:0', remote: '[::1]:9' })).toMatchObject({ property: 'remote', message: 'remote [::1]:9 is IPv6 but local 127.0.0.1:0 is IPv4; use the same family for both' });
  });

  it('IPv6 loopback works with [::1]:PORT', async () => {
    const a = await udp('[::1]:0', '[::1]:9');
    const b = await udp('[::1]:0', `[::1]:${a.localPort}`);
    const got = collect(a);
    b.send(ethFrame(BROADCAST, '52:54:00:00:00:0d', 0x0806));
    await until(() => got.length === 1, 2000);
  });
});

describe('udp backend with QEMU', () => {
  const qemu = which('qemu-system-x86_64');

  it.skipIf(!qemu)("interoperates with QEMU's -netdev dgram and -netdev socket,udp= (QEMU relays between the two through a hub)", async () => {
    // Our backend 1 <-> QEMU dgram netdev "a" <-> QEMU hub 0 <-> QEMU socket,udp netdev "b" <-> our backend 2.
    const [qa, qb] = [await freeUdpPort(), await freeUdpPort()];
    const ours1 = await udp('127.0.0.1:0', `127.0.0.1:${qa}`);
    const ours2 = await udp('127.0.0.1:0', `127.0.0.1:${qb}`);
    const got1 = collect(ours1);
    const got2 = collect(ours2);
    const q = spawn(
      qemu!,
      [
        '-machine', 'none', '-nodefaults', '-display', 'none',
        '-netdev', `dgram,id=a,local.type=inet,local.host=127.0.0.1,local.port=${qa},remote.type=inet,remote.host=127.0.0.1,remote.port=${ours1.localPort}`,
        '-netdev', `socket,id=b,udp=127.0.0.1:${ours2.localPort},localaddr=127.0.0.1:${qb}`,
        '-netdev', 'hubport,id=ha,hubid=0,netdev=a',
        '-netdev', 'hubport,id=hb,hubid=0,netdev=b',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    q.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise((r) => q.once('exit', r));
    cleanups.push(async () => {
      q.kill();
      await exited;
    });
    const toQemuA = ethFrame(BROADCAST, '52:54:00:00:00:01', 0x0806, new Uint8Array(100).fill(0x61));
    const toQemuB = ethFrame('52:54:00:00:00:01', '52:54:00:00:00:02', 0x0800, new Uint8Array(1400).map((_, i) => i * 7));
    // QEMU takes a moment to start: resend until the frame comes out of the other side.
    await until(() => got2.length > 0, 10_000, () => ours1.send(toQemuA), `the frame relayed by QEMU (stderr: ${stderr})`);
    expect(got2[0]).toEqual(toQemuA);
    await until(() => got1.length > 0, 5000, () => ours2.send(toQemuB), 'the reply relayed by QEMU');
    expect(got1[0]).toEqual(toQemuB);
  });
});
