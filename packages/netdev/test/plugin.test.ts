import { afterEach, describe, expect, it } from 'vitest';
import { MachineClock, type NetBackend } from '@unimachine/core';
import { BackendConfigError, findHub, hubBackendPlugin, HubPort, netBackendPlugins, standaloneBackendContext } from '../src/index.js';
import { BROADCAST, ethFrame } from './frames.js';
import { RecordingHost } from './helpers.js';

const disposables: NetBackend[] = [];
afterEach(async () => {
  for (const d of disposables.splice(0)) await d.dispose?.();
});

describe('net backend plugins', () => {
  it('exports hub, udp and tap as net backends, each with an optional pcap property and no unknown keys', () => {
    expect(netBackendPlugins.map((p) => `${p.kind}:${p.type}`)).toEqual(['net:hub', 'net:udp', 'net:tap']);
    for (const p of netBackendPlugins) {
      const schema = p.schema as unknown as { properties: Record<string, unknown>; required?: string[]; additionalProperties: boolean };
      expect(schema.properties.pcap).toMatchObject({ type: 'string' });
      expect(schema.required ?? []).not.toContain('pcap');
      expect(schema.additionalProperties).toBe(false);
    }
    const required = Object.fromEntries(netBackendPlugins.map((p) => [p.type, (p.schema as unknown as { required: string[] }).required]));
    expect(required).toEqual({ hub: ['name'], udp: ['local', 'remote'], tap: ['ifname'] });
  });

  it('hub: the machine joins the named hub with a port labelled by the device id, on the machine clock', async () => {
    const clock = new MachineClock('deterministic');
    const host = new RecordingHost();
    const net0 = (await hubBackendPlugin.create(standaloneBackendContext({ owner: 'net0', clock, host }), { name: 'plugin-lan' } as never)) as HubPort;
    disposables.push(net0);
    expect(net0).toBeInstanceOf(HubPort);
    const hub = findHub('plugin-lan')!;
    expect(hub.portLabels).toEqual(['net0']);
    clock.advance(42_000);
    net0.send(ethFrame(BROADCAST, '52:54:00:00:00:01', 0x0806));
    expect(hub.frames()[0]).toMatchObject({ from: 'net0', time: 42_000 });
    // Test code injecting a frame: delivered through the machine clock, machine woken, held open.
    const got: Uint8Array[] = [];
    net0.attach({ receive: (f) => got.push(Uint8Array.from(f)) });
    hub.send(ethFrame(BROADCAST, '52:54:00:00:00:02', 0x0806));
    expect(host.wakes).toBe(1);
    expect(host.reasons).toEqual(['hub plugin-lan']);
    clock.runDue();
    expect(got.length).toBe(1);
  });

  it('standalone hub ports (default clock) deliver on the event loop', async () => {
    const a = (await hubBackendPlugin.create(standaloneBackendContext({ owner: 'a' }), { name: 'plugin-standalone' } as never)) as NetBackend;
    const b = (await hubBackendPlugin.create(standaloneBackendContext({ owner: 'b' }), { name: 'plugin-standalone' } as never)) as NetBackend;
    disposables.push(a, b);
    const arrived = new Promise<Uint8Array>((resolve) => b.attach({ receive: (f) => resolve(Uint8Array.from(f)) }));
    const frame = ethFrame(BROADCAST, '52:54:00:00:00:03', 0x0806);
    a.send(frame);
    expect(await arrived).toEqual(frame);
  });

  it('ctx.fail reaches the caller as BackendConfigError with the property', async () => {
    const e = await Promise.resolve(netBackendPlugins[1].create(standaloneBackendContext(), { local: 'x', remote: '127.0.0.1:9' } as never)).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(BackendConfigError);
    expect((e as BackendConfigError).property).toBe('local');
  });
});
