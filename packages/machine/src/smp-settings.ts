import type { ValidatedDevice } from './validate.js';
import type { YamlSource } from './yaml-source.js';

/**
 * `cpus: N` with N > 1 needs a local APIC: the application processors are started with INIT and
 * start-up IPIs, which only an APIC sends, and each CPU gets its own. The `lapic` entry describes
 * every CPU's APIC, so the BSP's must have APIC ID 0 (the others get 1..N-1, as QEMU numbers them).
 */
export function checkProcessorCount(cpus: number | undefined, devices: readonly ValidatedDevice[], source: YamlSource): void {
  if (cpus === undefined || cpus <= 1) return;
  const lapics = devices.filter((d) => d.plugin.type === 'lapic');
  if (lapics.length === 0) {
    throw source.error(
      `cpus: ${cpus} needs a local APIC to start the other processors; add lapic: { type: lapic, pic: pic } to devices (see machines/pc-smp.yaml), or set cpus: 1`,
      ['cpus'],
    );
  }
  if (lapics.length > 1) {
    throw source.error(`cpus: ${cpus} takes one lapic entry, which describes the local APIC of every CPU; remove "${lapics[1].id}"`, ['devices', lapics[1].id], { key: true });
  }
  const id = (lapics[0].props.id as number | undefined) ?? 0;
  if (id !== 0) {
    throw source.error(`with cpus: ${cpus} the lapic's id must be 0 (the BSP; the other CPUs get APIC IDs 1..${cpus - 1}); remove id: ${id}`, ['devices', lapics[0].id, 'id']);
  }
}
