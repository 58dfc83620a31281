import { isRtcBase, RTC_BASE_HINT } from '@unimachine/chipset';
import type { PathSegment, YamlSource } from './yaml-source.js';

/** A machine-level key that devices of one type inherit when they do not set the property themselves. */
interface InheritedSetting {
  from: PathSegment[];
  deviceType: string;
  property: string;
  /** What is wrong with a written value (a string the schema's pattern cannot judge), if anything. */
  problem(value: unknown): string | undefined;
}

const INHERITED: InheritedSetting[] = [
  // `rtc: { base: ... }` (and `run --rtc-base`) is the machine's wall clock: QEMU's `-rtc base=`.
  {
    from: ['rtc', 'base'],
    deviceType: 'mc146818',
    property: 'base',
    problem: (v) => (typeof v === 'string' && !isRtcBase(v) ? `rtc.base "${v}" is not a date; ${RTC_BASE_HINT}` : undefined),
  },
  // `cpus: N` is the CPU count QEMU's fw_cfg reports (FW_CFG_NB_CPUS, FW_CFG_MAX_CPUS).
  { from: ['cpus'], deviceType: 'fw-cfg', property: 'cpus', problem: () => undefined },
];

/**
 * Copy machine-wide settings into the devices they are meant for, before validation, so each
 * device's schema checks the value and an error still names the line where it was written.
 */
export function inheritMachineSettings(source: YamlSource): void {
  const data = source.toJS();
  for (const setting of INHERITED) {
    const value = valueAt(data, setting.from);
    if (value === undefined) continue;
    const problem = setting.problem(value);
    if (problem) throw source.error(problem, setting.from);
    const devices = data.devices;
    if (typeof devices !== 'object' || devices === null) continue;
    for (const [id, entry] of Object.entries(devices as Record<string, unknown>)) {
      if (typeof entry !== 'object' || entry === null) continue;
      const props = entry as Record<string, unknown>;
      if (props.type === setting.deviceType && !(setting.property in props)) {
        source.copyValue(setting.from, ['devices', id, setting.property]);
      }
    }
  }
}

function valueAt(data: unknown, path: PathSegment[]): unknown {
  let v = data;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[String(seg)];
  }
  return v;
}
