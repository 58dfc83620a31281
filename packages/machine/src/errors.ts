/** A position in a machine description, 1-based as editors show it. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/**
 * Bad input: a YAML mistake, a missing kernel, a malformed ELF. The CLI prints `message` alone
 * (no stack trace) and exits with EXIT_BAD_INPUT.
 */
export class MachineConfigError extends Error {
  constructor(
    readonly problem: string,
    readonly position?: SourcePosition,
    /** Where no YAML position exists (a --set override, a --kernel argument), say where it came from. */
    readonly origin?: string,
  ) {
    super(formatProblem(problem, position, origin));
    this.name = 'MachineConfigError';
  }
}

function formatProblem(problem: string, position?: SourcePosition, origin?: string): string {
  if (position) return oneLine(`${position.file}:${position.line}:${position.col}: ${problem}`);
  if (origin) return oneLine(`${origin}: ${problem}`);
  return oneLine(problem);
}

/** Longer messages keep their start and end: a value quoted from the input may be megabytes long. */
const MAX_MESSAGE_CHARS = 2000;

/**
 * A message is one line: a value quoted from the input (a key with a newline, a --set value with a
 * line break, a control character) is shown escaped, and a huge one is shortened.
 */
export function oneLine(text: string): string {
  const escaped = text.replace(/[\u0000-\u0008\u000a-\u001f\u007f\u0085\u2028\u2029]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  if (escaped.length <= MAX_MESSAGE_CHARS) return escaped;
  const head = escaped.slice(0, MAX_MESSAGE_CHARS - 500);
  const tail = escaped.slice(-400);
  return `${head}...(${escaped.length - head.length - tail.length} characters left out)...${tail}`;
}

/** Process exit codes chosen by the machine. Guest codes from isa-debug-exit are always odd. */
export const EXIT_BAD_INPUT = 2;
/** The machine could not go on: CPU dead (triple fault, HLT with IF=0), no interrupt can ever arrive. */
export const EXIT_MACHINE_STOPPED = 4;
/** A bug in Unimachine (the CLI prints the stack). */
export const EXIT_INTERNAL = 70;
/** A test-API or --timeout limit ran out. */
export const EXIT_TIMEOUT = 124;
/** Ctrl-C / SIGINT. */
export const EXIT_INTERRUPTED = 130;
