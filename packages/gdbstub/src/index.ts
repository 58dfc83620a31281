export { GdbServer, type GdbServerOptions } from './server.js';
export { GDB_SIGNALS, type GdbTarget, type GdbTargetEvent, type GdbStopReason } from './target.js';
export { LAYOUTS, readAll, readOne, writeAll, writeOne, type GdbArch, type RegisterDef, type RegisterLayout } from './registers.js';
export { targetXml } from './target-xml.js';
export { debugTranslate, readVirtual, writeVirtual } from './memory.js';
export { PacketReader, frame, checksum, escapeBinary, unescapeBinary, parseAddress, type WireEvent } from './packets.js';
export { PACKET_SIZE } from './session.js';
