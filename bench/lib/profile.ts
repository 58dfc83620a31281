/**
 * V8 CPU profiles of the bench process (node:inspector), so a slow figure comes with where the
 * time went: a .cpuprofile (open it in Chrome DevTools or VS Code) and a self-time summary.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './paths.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

export class Profiler {
  private readonly session = new Session();

  private post<T>(method: string, params?: object): Promise<T> {
    return new Promise((resolve, reject) => {
      this.session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T)));
    });
  }

  async start(): Promise<void> {
    this.session.connect();
    await this.post('Profiler.enable');
    await this.post('Profiler.setSamplingInterval', { interval: 200 }); // microseconds
    await this.post('Profiler.start');
  }

  /** Stop, write the profile to `file`, and return the functions with the most self time. */
  async stop(file: string, top = 15): Promise<string> {
    const { profile } = await this.post<{ profile: CpuProfile }>('Profiler.stop');
    this.session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
    return summarise(profile, top);
  }
}

function where(url: string, line: number): string {
  if (!url) return '(native)';
  let path = url;
  try {
    if (url.startsWith('file:')) path = relative(ROOT, fileURLToPath(url));
  } catch {
    // keep the URL as it is
  }
  // Under tsx (--conditions=source) every frame reports line 0; the compiled dist/ has real lines.
  return line > 0 ? `${path}:${line + 1}` : path;
}

function summarise(p: CpuProfile, top: number): string {
  const self = new Map<string, number>();
  let total = 0;
  for (const n of p.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const key = `${n.callFrame.functionName || '(anonymous)'}  ${where(n.callFrame.url, n.callFrame.lineNumber)}`;
    self.set(key, (self.get(key) ?? 0) + hits);
    total += hits;
  }
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
  return rows.map(([k, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
}
