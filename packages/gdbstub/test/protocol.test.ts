import { afterEach, describe, expect, it } from 'vitest';
import { GdbServer, LAYOUTS, checksum, frame, targetXml } from '../src/index.js';
import { BareTarget, ScriptedGdb, asm } from './support/bare-target.js';

/**
 * The protocol as a scripted client speaks it over a real socket on 127.0.0.1, against a bare CPU
 * running 32-bit code (the x86-64 register layout, as for a 64-bit kernel before its long-mode switch).
 */
const GUEST = `
  mov ecx, 0
again:
  inc ecx                 ; 0x1005
  mov [0x3000], ecx       ; 0x1006
  cmp ecx, 3
  jne again
  mov eax, 0x2a
  mov dx, 0x501
  out dx, ax
  hlt
`;
const SPIN = `
spin:
  inc eax
  jmp spin
`;

let server: GdbServer | undefined;
let client: ScriptedGdb | undefined;
afterEach(async () => {
  client?.close();
  await server?.close();
  server = client = undefined;
});

async function start(src = GUEST, arch: 'x86-64' | 'i386' = 'x86-64') {
  const target = new BareTarget(arch, asm(src, 32));
  server = await GdbServer.listen(target, { port: 0 });
  client = await ScriptedGdb.connect(server.port);
  return { target, gdb: client };
}

/** A register's bytes out of a `g` reply. */
function regHex(g: string, arch: 'x86-64' | 'i386', name: string): string {
  const l = LAYOUTS[arch];
  const k = l.registers.findIndex((r) => r.name === name);
  return g.slice(2 * l.offsets[k], 2 * (l.offsets[k] + l.registers[k].bits / 8));
}
const le64 = (v: number) => Buffer.from(new BigUint64Array([BigInt(v)]).buffer).toString('hex');

describe('gdb remote protocol', () => {
  it('frames, checksums and acks; a bad checksum is refused with "-"', async () => {
    const { gdb } = await start();
    expect(frame('OK').toString()).toBe('$OK#9a');
    expect(checksum(Buffer.from('qSupported'))).toBe(0x37);
    const supported = await gdb.request('qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386');
    expect(supported).toContain('PacketSize=4000');
    expect(supported).toContain('qXfer:features:read+');
    expect(supported).toContain('QStartNoAckMode+');
    expect(gdb.acks).toBe(1);
    gdb.raw('$qAttached#00'); // wrong checksum (should be 8f)
    gdb.raw('$qAttached#8f');
    expect(await gdb.reply()).toBe('1');
    expect(gdb.nacks).toBe(1);
    expect(await gdb.request('vMustReplyEmpty')).toBe('');
    expect(await gdb.request('qfThreadInfo')).toBe('m01');
    expect(await gdb.request('qsThreadInfo')).toBe('l');
    expect(await gdb.request('?')).toBe('T05thread:01;');
    // No-ack mode: the OK is still acked, later packets are not.
    expect(await gdb.request('QStartNoAckMode')).toBe('OK');
    gdb.noAck = true;
    const acks = gdb.acks;
    expect(await gdb.request('qC')).toBe('QC01');
    expect(gdb.acks).toBe(acks);
  });

  it('serves target.xml in pieces that describe exactly the registers of g', async () => {
    const { gdb } = await start();
    let xml = '';
    for (;;) {
      const part = await gdb.request(`qXfer:features:read:target.xml:${xml.length.toString(16)},200`);
      xml += part.slice(1);
      if (part[0] === 'l') break;
      expect(part[0]).toBe('m');
    }
    expect(xml).toBe(targetXml('x86-64'));
    expect(xml).toContain('<architecture>i386:x86-64</architecture>');
    for (const f of ['org.gnu.gdb.i386.core', 'org.gnu.gdb.i386.sse', 'org.gnu.gdb.i386.segments']) expect(xml).toContain(`"${f}"`);
    const bits = [...xml.matchAll(/bitsize="(\d+)"/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    expect((await gdb.request('g')).length).toBe(bits / 4);
    expect(await gdb.request('qXfer:features:read:other.xml:0,100')).toBe('E00');
  });

  it('reads and writes registers with g/G/p/P in gdb order', async () => {
    const { gdb, target } = await start();
    const cpu = target.cpu;
    cpu.r[0] = 0x11223344; cpu.r[1] = 0x55667788 | 0; // rax
    cpu.r[6] = 0x1234; // rbx (CPU register 3)
    const g = await gdb.request('g');
    expect(regHex(g, 'x86-64', 'rax')).toBe('4433221188776655');
    expect(regHex(g, 'x86-64', 'rbx')).toBe(le64(0x1234));
    expect(regHex(g, 'x86-64', 'rip')).toBe(le64(0x1000));
    expect(regHex(g, 'x86-64', 'cs')).toBe('10000000');
    expect(regHex(g, 'x86-64', 'eflags')).toBe('02000000');
    expect(regHex(g, 'x86-64', 'cr0')).toBe(le64(0x11));
    expect(regHex(g, 'x86-64', 'fctrl')).toBe('7f030000');
    const ripNum = LAYOUTS['x86-64'].registers.findIndex((r) => r.name === 'rip');
    expect(await gdb.request(`P${ripNum.toString(16)}=${le64(0x1005)}`)).toBe('OK');
    expect(cpu.rip).toBe(0x1005);
    expect(await gdb.request(`p${ripNum.toString(16)}`)).toBe(le64(0x1005));
    expect(await gdb.request('p1ff')).toBe('E45');
    // G: change rcx (register 2) inside the full block.
    const rcx = LAYOUTS['x86-64'].offsets[2];
    const edited = g.slice(0, rcx * 2) + le64(0xabcdef) + g.slice(rcx * 2 + 16);
    expect(await gdb.request(`G${edited}`)).toBe('OK');
    expect(cpu.r[2]).toBe(0xabcdef);
    expect(cpu.rip).toBe(0x1000); // G wrote the old rip back
  });

  it('reads and writes memory; outside RAM is E14', async () => {
    const { gdb, target } = await start();
    const code = asm(GUEST, 32);
    expect(await gdb.request('m1000,6')).toBe(Buffer.from(code.subarray(0, 6)).toString('hex'));
    expect(await gdb.request('M3000,4:efbeadde')).toBe('OK');
    expect(target.memory.readU32(0x3000)).toBe(0xdeadbeef);
    // X: binary with the escaped bytes 0x23 '#', 0x24 '$', 0x7d '}' and 0x2a '*'.
    const payload = Buffer.concat([Buffer.from('X3010,5:'), Buffer.of(0x7d, 0x23 ^ 0x20, 0x7d, 0x24 ^ 0x20, 0x7d, 0x7d ^ 0x20, 0x7d, 0x2a ^ 0x20, 0x01)]);
    expect(await gdb.request(payload)).toBe('OK');
    expect([...target.memory.u8.subarray(0x3010, 0x3015)]).toEqual([0x23, 0x24, 0x7d, 0x2a, 0x01]);
    expect(await gdb.request('X3010,0:')).toBe('OK');
    // RAM is 4 MiB: a read that crosses its end, one above it, and writes there are refused.
    expect(await gdb.request('m3ffffe,4')).toBe('E14');
    expect(await gdb.request('mfee00000,4')).toBe('E14');
    expect(await gdb.request('M400000,1:00')).toBe('E14');
    expect(await gdb.request('X400000,1:a')).toBe('E14');
    expect(await gdb.request('m123456789abcdef0,1')).toBe('E14'); // not canonical
  });

  it('software breakpoint: stops before the instruction without patching memory; continue goes on', async () => {
    const { gdb, target } = await start();
    await gdb.request('qSupported:swbreak+;hwbreak+');
    const before = await gdb.request('m1005,1');
    expect(await gdb.request('Z0,1005,1')).toBe('OK');
    expect(await gdb.request('m1005,1')).toBe(before); // no int3 in guest memory
    expect(await gdb.request('vCont;c')).toBe('T05swbreak:;thread:01;');
    expect(target.cpu.rip).toBe(0x1005);
    expect(target.cpu.r[2]).toBe(0); // inc ecx has not run
    expect(await gdb.request('vCont;c')).toBe('T05swbreak:;thread:01;');
    expect(target.cpu.r[2]).toBe(1);
    expect(await gdb.request('z0,1005,1')).toBe('OK');
    expect(await gdb.request('Z1,1006,1')).toBe('OK');
    expect(await gdb.request('c')).toBe('T05hwbreak:;thread:01;');
    expect(target.cpu.rip).toBe(0x1006);
    expect(await gdb.request('z1,1006,1')).toBe('OK');
    expect(await gdb.request('vCont;c')).toBe('W2a');
    expect(await gdb.request('?')).toBe('W2a');
  });

  it('watchpoints report the watched address after the accessing instruction', async () => {
    const { gdb, target } = await start();
    expect(await gdb.request('Z2,3000,4')).toBe('OK');
    expect(await gdb.request('vCont;c')).toBe('T05watch:3000;thread:01;');
    expect(target.cpu.rip).toBe(0x100c);
    expect(target.memory.readU32(0x3000)).toBe(1);
    expect(await gdb.request('z2,3000,4')).toBe('OK');
    expect(await gdb.request('Z4,3002,2')).toBe('OK');
    expect(await gdb.request('vCont;c')).toBe('T05awatch:3002;thread:01;');
    expect(target.memory.readU32(0x3000)).toBe(2);
    expect(await gdb.request('z4,3002,2')).toBe('OK');
    expect(await gdb.request('Z3,3000,4')).toBe('OK'); // nothing reads it
    expect(await gdb.request('vCont;c')).toBe('W2a');
  });

  it('single step runs exactly one instruction; the legacy s too', async () => {
    const { gdb, target } = await start();
    expect(await gdb.request('vCont?')).toBe('vCont;c;C;s;S');
    const retired = target.cpu.instructionsRetired;
    expect(await gdb.request('vCont;s:1;c')).toBe('T05thread:01;');
    expect(target.cpu.rip).toBe(0x1005);
    expect(await gdb.request('s')).toBe('T05thread:01;');
    expect(target.cpu.rip).toBe(0x1006);
    expect(target.cpu.instructionsRetired - retired).toBe(2);
    expect(target.cpu.r[2]).toBe(1);
  });

  it('Ctrl-C stops a running guest with SIGINT; detach lets it run on', async () => {
    const { gdb, target } = await start(SPIN);
    gdb.send('vCont;c');
    await new Promise((r) => setTimeout(r, 50));
    expect(gdb.pending()).toBe(0);
    gdb.raw(Buffer.of(0x03));
    expect(await gdb.reply()).toBe('T02thread:01;');
    expect(target.stopped).toBe(true);
    const eax = target.cpu.r[0];
    expect(eax).toBeGreaterThan(0);
    expect(await gdb.request('Z0,1000,1')).toBe('OK');
    expect(await gdb.request('D')).toBe('OK');
    await new Promise((r) => setTimeout(r, 50));
    expect(target.stopped).toBe(false);
    expect(target.cpu.hostBreak).toBe(false); // breakpoints went with gdb
    expect(target.cpu.r[0]).not.toBe(eax);
    target.interrupt(); // end the spin for the test's cleanup
  });

  it('a second connection is refused while one gdb is attached; the i386 layout is 32-bit', async () => {
    const { gdb } = await start(GUEST, 'i386');
    const second = await ScriptedGdb.connect(server!.port);
    await new Promise((r) => setTimeout(r, 50));
    expect(second.closed).toBe(true);
    const g = await gdb.request('g');
    expect(regHex(g, 'i386', 'eip')).toBe('00100000');
    expect(g.length).toBe(LAYOUTS.i386.size * 2);
    expect(targetXml('i386')).toContain('<architecture>i386</architecture>');
    expect(await gdb.request('Z2,3000,4')).toBe('OK');
    expect(await gdb.request('c')).toBe('T05watch:3000;thread:01;');
  });
});
