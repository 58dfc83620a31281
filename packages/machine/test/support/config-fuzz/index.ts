export { generateCase, CASE_FILE, WORKSPACE, RUN_TIMEOUT_MS, type ConfigFuzzCase, type CaseMode } from './cases.js';
export { seedMachineFiles } from './corpus.js';
export { mutateMachineFile, type MachineFileText } from './yaml-mutate.js';
export { Rng } from './random.js';
export { runCase, judge, type CaseOutcome } from './run-case.js';
export { describeCase, rerunCommand, superviseConfigFuzz, type ConfigFuzzFailure, type ConfigFuzzOptions, type ConfigFuzzReport } from './supervise.js';
export { runWorker, type WorkerMessage } from './worker.js';
export { createWorkspace, workspaceNames, type FuzzWorkspace } from './workspace.js';
