import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Readable } from 'node:stream';

/** How a child process ended and everything it printed. */
export interface ProcessResult {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, if any. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options for {@link startProcess}: where and how to run, what to feed it, how long to wait. */
export interface ProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Written to stdin, which is then closed. Without it stdin is closed at once. */
  input?: string | Buffer | Readable;
  /** Kill the process (SIGKILL) after this long and reject `result`. No limit when omitted. */
  timeoutMs?: number;
}

/** A running child process, with its output collected as it arrives. */
export interface RunningProcess {
  child: ChildProcess;
  /** Settles when the process has exited and its output is closed. Rejects on timeout or spawn failure. */
  result: Promise<ProcessResult>;
  /** What it has printed so far. */
  output(): { stdout: string; stderr: string };
  /**
   * Resolves once stdout or stderr (whichever `stream` names; both by default)
   * matches `pattern`; rejects if the process ends first.
   */
  waitForOutput(pattern: RegExp | string, stream?: 'stdout' | 'stderr' | 'both'): Promise<void>;
}

/** Raised when a process outlives its `timeoutMs`; carries what it printed until then. */
export class ProcessTimeoutError extends Error {
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(
      `${command} did not finish within ${timeoutMs} ms and was killed\n` +
        `--- stdout so far ---\n${stdout}\n--- stderr so far ---\n${stderr}`,
    );
    this.name = 'ProcessTimeoutError';
  }
}

/**
 * Spawns `file` with `args` (never through a shell) and collects its output.
 * `command` in errors is the file name only: arguments may hold things a log must not show.
 */
export function startProcess(file: string, args: readonly string[], options: ProcessOptions = {}): RunningProcess {
  const spawnOptions: SpawnOptions = {
    env: options.env,
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  };
  if (options.uid !== undefined) spawnOptions.uid = options.uid;
  if (options.gid !== undefined) spawnOptions.gid = options.gid;
  const child = spawn(file, args, spawnOptions);

  let stdout = '';
  let stderr = '';
  let exited = false;
  const listeners = new Set<() => void>();
  const notify = (): void => listeners.forEach((listener) => listener());
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    notify();
  });

  const inputFailure = feedInput(child, options.input);

  const result = new Promise<ProcessResult>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs);
    }
    child.once('error', (error) => {
      clearTimeout(timer);
      exited = true;
      notify();
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      exited = true;
      notify();
      if (timedOut) {
        reject(new ProcessTimeoutError(file, options.timeoutMs ?? 0, stdout, stderr));
        return;
      }
      const error = inputFailure();
      if (error) reject(error);
      else resolve({ code, signal, stdout, stderr });
    });
  });

  return {
    child,
    result,
    output: () => ({ stdout, stderr }),
    waitForOutput(pattern, stream = 'both') {
      const matches = (): boolean => {
        const text = stream === 'stdout' ? stdout : stream === 'stderr' ? stderr : `${stdout}\n${stderr}`;
        return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
      };
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (matches()) {
            listeners.delete(check);
            resolve();
          } else if (exited) {
            listeners.delete(check);
            reject(new Error(`${file} ended before printing ${String(pattern)}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
          }
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Runs a process to the end; see {@link startProcess}. */
export function runProcess(file: string, args: readonly string[], options: ProcessOptions = {}): Promise<ProcessResult> {
  return startProcess(file, args, options).result;
}

/**
 * Writes `input` to the child's stdin and closes it. Returns a function that
 * tells whether the input itself failed (the child is then killed). A child
 * that exits without reading everything (EPIPE) is not an input error: its
 * exit code tells what happened.
 */
function feedInput(child: ChildProcess, input: ProcessOptions['input']): () => Error | undefined {
  let inputError: Error | undefined;
  const stdin = child.stdin;
  if (!stdin) return () => inputError;
  stdin.on('error', () => {
    // EPIPE when the child exits early; stop reading the input, quietly.
    if (input !== undefined && typeof input !== 'string' && !Buffer.isBuffer(input)) input.destroy();
  });
  if (input === undefined || typeof input === 'string' || Buffer.isBuffer(input)) {
    stdin.end(input);
  } else {
    input.once('error', (error) => {
      inputError = error;
      child.kill('SIGKILL');
    });
    input.pipe(stdin);
  }
  return () => inputError;
}
