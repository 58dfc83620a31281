/**
 * Target descriptions (gdb manual, "Target Descriptions" and "i386 Features"): gdb's standard
 * features org.gnu.gdb.i386.core, .sse and (x86-64) .segments, so `info registers` shows the usual
 * names with decoded flags, plus a feature of our own for the control registers and EFER. No
 * org.gnu.gdb.i386.linux (there is no orig_rax on bare metal).
 */
import { LAYOUTS, type Feature, type GdbArch, type RegisterDef } from './registers.js';

const FEATURE_NAMES: Record<Feature, string> = {
  core: 'org.gnu.gdb.i386.core',
  sse: 'org.gnu.gdb.i386.sse',
  segments: 'org.gnu.gdb.i386.segments',
  system: 'org.unimachine.x86.system',
};

type FlagField = [name: string, bit: number];

/** Bit names gdb prints for a flags register, e.g. eflags [ IF ZF ]. */
const EFLAGS: FlagField[] = [
  ['CF', 0], ['', 1], ['PF', 2], ['AF', 4], ['ZF', 6], ['SF', 7], ['TF', 8], ['IF', 9], ['DF', 10], ['OF', 11],
  ['NT', 14], ['RF', 16], ['VM', 17], ['AC', 18], ['VIF', 19], ['VIP', 20], ['ID', 21],
];
const MXCSR: FlagField[] = [
  ['IE', 0], ['DE', 1], ['ZE', 2], ['OE', 3], ['UE', 4], ['PE', 5], ['DAZ', 6], ['IM', 7], ['DM', 8], ['ZM', 9],
  ['OM', 10], ['UM', 11], ['PM', 12], ['FZ', 15],
];
const CR0: FlagField[] = [
  ['PE', 0], ['MP', 1], ['EM', 2], ['TS', 3], ['ET', 4], ['NE', 5], ['WP', 16], ['AM', 18], ['NW', 29], ['CD', 30], ['PG', 31],
];
const EFER: FlagField[] = [['SCE', 0], ['LME', 8], ['LMA', 10], ['NXE', 11]];

function flags(id: string, bytes: number, fields: FlagField[]): string {
  const body = fields.map(([name, bit]) => `    <field name="${name}" start="${bit}" end="${bit}"/>`).join('\n');
  return `  <flags id="${id}" size="${bytes}">\n${body}\n  </flags>`;
}

/** gdb's vec128 union: the ways `p $xmm0` shows one register. */
const VEC128 = `  <vector id="v4f" type="ieee_single" count="4"/>
  <vector id="v2d" type="ieee_double" count="2"/>
  <vector id="v16i8" type="int8" count="16"/>
  <vector id="v8i16" type="int16" count="8"/>
  <vector id="v4i32" type="int32" count="4"/>
  <vector id="v2i64" type="int64" count="2"/>
  <union id="vec128">
    <field name="v4_float" type="v4f"/>
    <field name="v2_double" type="v2d"/>
    <field name="v16_int8" type="v16i8"/>
    <field name="v8_int16" type="v8i16"/>
    <field name="v4_int32" type="v4i32"/>
    <field name="v2_int64" type="v2i64"/>
    <field name="uint128" type="uint128"/>
  </union>`;

const TYPES: Record<Feature, string> = {
  core: flags('i386_eflags', 4, EFLAGS),
  sse: `${VEC128}\n${flags('i386_mxcsr', 4, MXCSR)}`,
  segments: '',
  system: '',
};

function registerXml(r: RegisterDef, regnum: number): string {
  const group = r.group ? ` group="${r.group}"` : '';
  return `  <reg name="${r.name}" bitsize="${r.bits}" type="${r.type}" regnum="${regnum}"${group}/>`;
}

/** The target.xml gdb reads with qXfer:features:read. */
export function targetXml(arch: GdbArch): string {
  const layout = LAYOUTS[arch];
  const bytes = arch === 'x86-64' ? 8 : 4;
  const features: string[] = [];
  for (const feature of ['core', 'sse', 'segments', 'system'] as Feature[]) {
    const regs = layout.registers.map((r, n) => [r, n] as const).filter(([r]) => r.feature === feature);
    if (regs.length === 0) continue;
    let types = TYPES[feature];
    if (feature === 'system') types = [flags('i386_cr0', bytes, CR0), flags('i386_efer', bytes, EFER)].join('\n');
    const body = [types, ...regs.map(([r, n]) => registerXml(r, n))].filter(Boolean).join('\n');
    features.push(`<feature name="${FEATURE_NAMES[feature]}">\n${body}\n</feature>`);
  }
  return `<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
<architecture>${arch === 'x86-64' ? 'i386:x86-64' : 'i386'}</architecture>
${features.join('\n')}
</target>
`;
}
