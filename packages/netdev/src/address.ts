import net from 'node:net';

export interface HostPort {
  host: string;
  port: number;
  family: 4 | 6;
}

/** "127.0.0.1:5555", "[::1]:5555", "localhost:5555" → parts; undefined when malformed. */
export function parseHostPort(text: string): HostPort | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  const host = m[1];
  const literal = net.isIP(host);
  if (text.startsWith('[') && literal !== 6) return undefined;
  return { host, port, family: literal === 6 ? 6 : 4 };
}
