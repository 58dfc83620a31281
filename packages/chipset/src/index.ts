import { isaDebugExitPlugin } from './debug-exit.js';
import { i8254Plugin, mc146818Plugin, pcResetPlugin } from './plugins.js';

export { IsaDebugExit, isaDebugExitPlugin } from './debug-exit.js';
export { I8254, I8254_STATE_VERSION, type I8254State } from './pit.js';
export { PitChannel, type PitChannelState } from './pit-channel.js';
export { PIT_HZ, nsToTicks, ticksToNs, toBcd, fromBcd } from './pit-time.js';
export { Mc146818, MC146818_STATE_VERSION, UIP_LEAD_NS, type Mc146818Options, type Mc146818State } from './rtc.js';
export { encodeTime, decodeTime, type RtcFields, type RtcFormat } from './rtc-time.js';
export { fillMemorySize } from './cmos-layout.js';
export { PcReset, PC_RESET_STATE_VERSION, type PcResetState } from './reset.js';
export { i8254Plugin, mc146818Plugin, pcResetPlugin } from './plugins.js';
export {
  rtcEpochMs, parseRtcDateTime, isRtcBase, RtcBaseSchema, RTC_BASE_DEFAULT, RTC_BASE_PATTERN, RTC_BASE_HINT, type RtcBase,
} from './rtc-base.js';

/** Every YAML device type this package provides. */
export const chipsetPlugins = [isaDebugExitPlugin, i8254Plugin, mc146818Plugin, pcResetPlugin] as const;
