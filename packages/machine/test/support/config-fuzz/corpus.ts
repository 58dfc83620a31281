// The machine files mutation starts from: the real ones in machines/, the built-in machine, and a
// few that use every device type, backend and YAML feature (anchors, merges, block and flow style).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_MACHINE_YAML } from '../../../src/default-machine.js';

const EVERY_DEVICE = `\
machine: every-device
memory: 64MiB
clock: realtime
rtc: { base: 2026-01-01T00:00:00Z }
cpu: { type: x86-64, model: max }
on-reset: reboot
devices:
  pic: { type: i8259, elcr: 0x0c00 }
  pit: { type: i8254, irq: pic.0 }
  rtc: { type: mc146818, irq: pic.8, base: localtime }
  com1: { type: uart-16550, port: 0x3f8, irq: pic.4, console: none }
  com2: { type: uart-16550, port: 0x2f8, irq: pic.3, console: file:com2.txt }
  exit: { type: isa-debug-exit, port: 0x501, iosize: 2 }
  reset: { type: pc-reset, cf9: true, port92: false, keyboardController: true }
  pci: { type: pci-host, irqs: [pic.10, pic.10, pic.11, pic.11], piix3: true }
  bridge: { type: pci-bridge, bus: pci, slot: 7, chassis: 2, shpc: false }
  disk0: { type: virtio-blk-pci, bus: pci, slot: 3, transport: legacy, backend: { type: memory, size: 64KiB, serial: fuzz } }
  disk1: { type: virtio-blk-pci, bus: bridge, backend: { type: file, path: disk.img, snapshot: true, readonly: false } }
  net0: { type: virtio-net-pci, bus: pci, slot: 4, mac: "52:54:00:12:34:56", backend: { type: hub, name: fuzz-lan, pcap: net0.pcap } }
  net1: { type: virtio-net-pci, transport: modern, backend: { type: udp, local: "127.0.0.1:0", remote: "127.0.0.1:9" } }
boot:
  kernel: hello.elf
  cmdline: "a b c"
`;

const BLOCK_STYLE = `\
%YAML 1.2
---
# block style, anchors and a merge key
machine: &name block-style
memory: 16777216
devices:
  pic:
    type: i8259
  com1: &uart
    type: uart-16550
    port: 0x3f8
    irq: pic.4
    console: none
  com2:
    <<: *uart
    port: 0x2f8
  pci:
    type: pci-host
    piix3: false
  disk0:
    type: virtio-blk-pci
    serial: *name
    backend:
      type: memory
      image: disk.img
      readonly: true
  exit:
    type: isa-debug-exit
boot:
  kernel: hello32.elf
  cmdline: >-
    folded
    line
...
`;

const WITH_PLUGINS = `\
plugins:
  - ./not-a-plugin.mjs
  - unimachine-plugin-demo
devices:
  pic: { type: i8259 }
  counter: { type: demo-counter, port: 0x510, magic: 7 }
  exit: { type: isa-debug-exit }
boot: { kernel: hello.elf }
`;

const MINIMAL = `devices: { exit: { type: isa-debug-exit } }\nboot: { kernel: flat.bin }\n`;

/** Every seed machine file, kernel paths pointing into the fuzz workspace. */
export function seedMachineFiles(machinesDir: string): string[] {
  const fromRepo = readdirSync(machinesDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => readFileSync(path.join(machinesDir, f), 'utf8').replace(/\.\.\/guest\/build\//g, ''));
  const uncommented = fromRepo.map((t) => t.replace(/^ {2}# (net0|disk0): /gm, '  $1: '));
  return [...fromRepo, ...uncommented, DEFAULT_MACHINE_YAML, `${DEFAULT_MACHINE_YAML}  kernel: hello.elf\n`, EVERY_DEVICE, BLOCK_STYLE, WITH_PLUGINS, MINIMAL];
}
