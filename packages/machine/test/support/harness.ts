import { createMachine, type CreateMachineOptions } from '../../src/index.js';
import { testDevices } from './test-devices.js';

/** Build a machine from YAML text with the test device types only; return the error message (or 'ok'). */
export async function buildError(yaml: string, baseDir: string, opts: CreateMachineOptions = {}): Promise<string> {
  try {
    const m = await createMachine({ yaml, baseDir, file: 'm.yaml' }, { builtins: false, plugins: testDevices, validateOnly: true, ...opts });
    await m.dispose();
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}
