import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { startProcess, type ProcessResult, type RunningProcess } from './process.js';
import { recordCliOutput } from './secret-guard.js';

/** The CLI's entry point in this checkout: packages/cli/bin/run.js. */
export const CLI_ENTRY = resolve(dirname(fileURLToPath(import.meta.url)), '../../packages/cli/bin/run.js');

const DEFAULT_TIMEOUT_MS = 120_000;

export interface CliOptions {
  /** Added to the clean environment (see {@link cliEnvironment}). */
  env?: Record<string, string>;
  cwd?: string;
  /** Kill the CLI after this long and reject with what it printed (default 120 s). */
  timeoutMs?: number;
  /** Written to the CLI's stdin, which is then closed. */
  input?: string;
}

export type CliResult = ProcessResult;
export type RunningCli = RunningProcess;

/**
 * The environment the CLI runs with: PATH, HOME, LANG/LC_ALL, TMPDIR and
 * nothing else from ours, so a developer's DATABASE_URL, S3_* or AWS_*
 * variables never leak into a test; then `extra`.
 */
export function cliEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { TMPDIR: process.env.TMPDIR ?? tmpdir() };
  for (const name of ['PATH', 'HOME', 'LANG', 'LC_ALL'] as const) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Starts `backupctl <args>` (the built CLI) for tests that need to signal it or watch its output. */
export function startCli(args: readonly string[], options: CliOptions = {}): RunningCli {
  const running = startProcess(process.execPath, [CLI_ENTRY, ...args], {
    env: cliEnvironment(options.env),
    cwd: options.cwd,
    input: options.input,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  // Whatever it printed goes to the end-of-run secret check (secret-guard.ts), also when it timed out.
  const test = expect.getState().currentTestName;
  const record = (output: { stdout: string; stderr: string }): void =>
    recordCliOutput({ command: args[0] ?? '', ...(test === undefined ? {} : { test }), stdout: output.stdout, stderr: output.stderr });
  running.result.then(record, () => record(running.output()));
  return running;
}

/** Runs `backupctl <args>` to the end; resolves with its exit code and output whatever the code. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}
