import { defineDevice, IrqRef, PortNumber, Type, type DevicePlugin } from '@unimachine/core';
import { FwCfg } from './fw-cfg/fw-cfg.js';
import { FW_CFG_DMA_PORT, FW_CFG_DMA_PORT_COUNT, FW_CFG_PORT, FW_CFG_PORT_COUNT } from './fw-cfg/registers.js';
import { AcpiPm } from './pm/acpi-pm.js';
import { APM_CNT_PORT } from './pm/registers.js';
import { PC_PM_BLOCK } from './acpi/config.js';
import { S5_SLEEP_TYPE } from './acpi/dsdt.js';

const fwCfgSchema = Type.Object(
  {
    port: Type.Optional({ ...PortNumber('selector port; the data port is the next one (QEMU: 0x510)'), default: FW_CFG_PORT }),
    dma: Type.Optional(Type.Boolean({ default: true, description: 'offer the DMA interface (FW_CFG_ID bit 1)' })),
    dmaPort: Type.Optional({ ...PortNumber('DMA address register, 8 ports (QEMU: 0x514)'), default: FW_CFG_DMA_PORT }),
    cpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 255, default: 1, description: 'FW_CFG_NB_CPUS' })),
    maxCpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 255, description: 'FW_CFG_MAX_CPUS (default: cpus)' })),
  },
  { additionalProperties: false },
);

/**
 * YAML `type: fw-cfg`: QEMU's firmware configuration device with the machine's RAM size, CPU
 * counts and `etc/e820`. The machine adds the ACPI files (`addAcpiFiles`) when ACPI is on.
 */
export const fwCfgPlugin: DevicePlugin = defineDevice({
  type: 'fw-cfg',
  description: "QEMU's fw_cfg: signature, RAM size, CPU count, file directory (etc/e820, ACPI tables) at 0x510/0x511, DMA at 0x514",
  schema: fwCfgSchema,
  create(ctx, props) {
    const port = props.port ?? FW_CFG_PORT;
    const dmaPort = props.dmaPort ?? FW_CFG_DMA_PORT;
    const fw = new FwCfg(ctx.memory, { dma: props.dma ?? true });
    const cpus = props.cpus ?? 1;
    fw.setMachine({ memoryBytes: ctx.memory.size, cpus, maxCpus: props.maxCpus ?? cpus });
    ctx.ports.claim({ start: port, length: FW_CFG_PORT_COUNT }, fw.ports, ctx.id);
    if (fw.dmaEnabled) ctx.ports.claim({ start: dmaPort, length: FW_CFG_DMA_PORT_COUNT }, fw.dmaPorts(dmaPort), ctx.id);
    return fw;
  },
});

const acpiPmSchema = Type.Object(
  {
    port: Type.Optional({ ...PortNumber('PM1a event block; PM1a_CNT at +4, PM_TMR at +8 (QEMU: 0x600)'), default: PC_PM_BLOCK.base }),
    sci: Type.Optional(IrqRef('SCI interrupt line (IRQ 9 on QEMU pc), e.g. pic.9 or irqs.9; omit for none')),
    timer32: Type.Optional(Type.Boolean({ default: false, description: '32-bit PM timer (FADT TMR_VAL_EXT); QEMU pc has 24 bits' })),
    gpe0: Type.Optional({ ...PortNumber('GPE0 block, 4 ports; 0 for none (QEMU: 0xafe0)'), default: PC_PM_BLOCK.gpe0 }),
    apm: Type.Optional(Type.Boolean({ default: true, description: 'claim the APM ports 0xb2/0xb3 (SMI command: 0xf1 enables ACPI mode)' })),
  },
  { additionalProperties: false },
);

/** YAML `type: acpi-pm`: the ACPI PM block (PM1 event/control, PM timer, GPE0, SMI command). */
export const acpiPmPlugin: DevicePlugin = defineDevice({
  type: 'acpi-pm',
  description: 'ACPI power management (PIIX4 style): PM1a event/control, 3.579545 MHz PM timer, GPE0, S5 soft-off',
  schema: acpiPmSchema,
  create(ctx, props) {
    const base = props.port ?? PC_PM_BLOCK.base;
    const gpe0 = props.gpe0 ?? PC_PM_BLOCK.gpe0;
    const pm = new AcpiPm(ctx.clock, props.sci ? ctx.irq(props.sci) : undefined, () => ctx.machine.exit(0), {
      timer32: props.timer32 ?? false,
      s5SleepType: S5_SLEEP_TYPE,
      acpiEnable: PC_PM_BLOCK.acpiEnable,
      acpiDisable: PC_PM_BLOCK.acpiDisable,
    });
    ctx.ports.claim({ start: base, length: 4 }, pm.pmPorts(base), ctx.id);
    ctx.ports.claim({ start: base + 4, length: 2 }, pm.pmPorts(base), ctx.id);
    ctx.ports.claim({ start: base + 8, length: 4 }, pm.pmPorts(base), ctx.id);
    if (gpe0) ctx.ports.claim({ start: gpe0, length: 4 }, pm.gpePorts(gpe0), ctx.id);
    if (props.apm ?? true) ctx.ports.claim({ start: APM_CNT_PORT, length: 2 }, pm.apmPorts(APM_CNT_PORT), ctx.id);
    return pm;
  },
});

export const firmwarePlugins: readonly DevicePlugin[] = [fwCfgPlugin, acpiPmPlugin];
