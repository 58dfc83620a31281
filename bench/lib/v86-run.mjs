#!/usr/bin/env node
// Boots one 32-bit multiboot kernel on v86 (headless, SeaBIOS), prints the guest's COM1 output
// on stdout and exits like QEMU with isa-debug-exit: status (code << 1) | 1 after outw(0x501, code).
// v86 has no isa-debug-exit device, so this script adds one on port 0x501.
//   node bench/lib/v86-run.mjs KERNEL.elf [ARGS] [TIMEOUT_MS]
// Plain JavaScript on purpose: the child's start-up is part of what the side-by-side bench times.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { V86 } from 'v86';

const BIOS = process.env.SEABIOS ?? '/usr/share/seabios/bios.bin';
const DEBUG_EXIT_PORT = 0x501;
const [kernel, args = '', timeout = '60000'] = process.argv.slice(2);
if (!kernel) {
  process.stderr.write('usage: v86-run.mjs KERNEL.elf [ARGS] [TIMEOUT_MS]\n');
  process.exit(2);
}

// Node's own status for an uncaught exception is 1, which is also the guest's "exit 0" status:
// report a crash of the emulator with a status no guest can produce (odd statuses are guests').
const EMULATOR_CRASHED = 70;
process.on('uncaughtException', (e) => {
  process.stderr.write(`v86 crashed: ${e?.message ?? e}\n`);
  process.exit(EMULATOR_CRASHED);
});

const require = createRequire(import.meta.url);
const toArrayBuffer = (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
const output = [];
let finished = false;

const emulator = new V86({
  wasm_path: require.resolve('v86/build/v86.wasm'),
  memory_size: 128 * 1024 * 1024,
  bios: { buffer: toArrayBuffer(readFileSync(BIOS)) },
  multiboot: { buffer: toArrayBuffer(readFileSync(kernel)) },
  // QEMU's -kernel passes "<kernel path> <append>"; do the same so guests see one format.
  cmdline: args ? `${kernel} ${args}` : kernel,
  autostart: true,
  disable_keyboard: true,
  disable_mouse: true,
  disable_speaker: true,
});

emulator.add_listener('serial0-output-byte', (byte) => output.push(byte));
emulator.add_listener('emulator-ready', () => {
  const exit = (value) => finish(((value << 1) | 1) & 0xff);
  emulator.v86.cpu.io.register_write(DEBUG_EXIT_PORT, {}, exit, exit, exit);
});

const timer = setTimeout(() => finish(124, `v86: no exit after ${timeout} ms`), Number(timeout));

async function finish(status, message) {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  process.stdout.write(Buffer.from(output));
  if (message) process.stderr.write(message + '\n');
  await emulator.destroy();
  process.exit(status);
}
