import { defineBackend, Type, type BackendPlugin } from '@unimachine/core';
import { joinHub } from './hub.js';
import { withPcapOption } from './pcap.js';
import { TapError, TapNetBackend } from './tap.js';
import { UdpConfigError, UdpNetBackend } from './udp.js';

/** `backend: { type: hub, ... }` (plus `pcap: FILE`). */
export const hubBackendPlugin = withPcapOption(defineBackend({
  kind: 'net',
  type: 'hub',
  description: 'in-process Ethernet switch that machines and test code join by name',
  schema: Type.Object(
    { name: Type.String({ minLength: 1, description: 'hub name; every port with the same name is on the same wire' }) },
    { additionalProperties: false },
  ),
  create(ctx, props) {
    return joinHub(props.name).port(ctx.owner, ctx.clock, ctx.host);
  },
}) as BackendPlugin);

/** `backend: { type: udp, ... }` (plus `pcap: FILE`). */
export const udpBackendPlugin = withPcapOption(defineBackend({
  kind: 'net',
  type: 'udp',
  description: "one Ethernet frame per UDP datagram (QEMU's -netdev dgram / socket,udp=)",
  schema: Type.Object(
    {
      local: Type.String({ description: 'HOST:PORT to bind and receive frames on, e.g. 127.0.0.1:5555' }),
      remote: Type.String({ description: 'HOST:PORT the guest\'s frames are sent to, e.g. 127.0.0.1:5556' }),
    },
    { additionalProperties: false },
  ),
  async create(ctx, props) {
    try {
      return await UdpNetBackend.open(props.local, props.remote, ctx.host);
    } catch (e) {
      if (e instanceof UdpConfigError) ctx.fail(e.message, e.property);
      throw e;
    }
  },
}) as BackendPlugin);

/** `backend: { type: tap, ... }` (plus `pcap: FILE`). */
export const tapBackendPlugin = withPcapOption(defineBackend({
  kind: 'net',
  type: 'tap',
  description: 'Linux tap interface through /dev/net/tun',
  schema: Type.Object({ ifname: Type.String({ minLength: 1, maxLength: 15, description: 'tap interface name, e.g. tap0' }) }, { additionalProperties: false }),
  async create(ctx, props) {
    try {
      return await TapNetBackend.open(props.ifname, ctx.host);
    } catch (e) {
      if (e instanceof TapError) ctx.fail(e.message, 'ifname');
      throw e;
    }
  },
}) as BackendPlugin);

/** Every net backend type this package provides; each accepts `pcap: FILE`. */
export const netBackendPlugins: BackendPlugin[] = [hubBackendPlugin, udpBackendPlugin, tapBackendPlugin];
