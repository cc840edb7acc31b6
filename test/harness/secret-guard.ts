import { appendFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Every e2e test's CLI output goes through one check: the global setup makes
// a directory, runCli/startCli append whatever each CLI printed to a file in
// it, and at the end of the run the global teardown fails the run if any
// output holds a test secret (the cluster's password, in plain or URL
// form, and anything a test registered with guardSecret).

/** Names the directory to the test workers, which inherit the global setup's environment. */
const DIRECTORY_VARIABLE = 'BACKUPCTL_TEST_SECRET_GUARD_DIR';
const OUTPUT_FILE = 'cli-output.jsonl';
const SECRETS_FILE = 'secrets.jsonl';

interface RecordedOutput {
  /** The CLI command (first argument); the rest may hold test secrets passed on purpose. */
  command: string;
  test?: string;
  stdout: string;
  stderr: string;
}

function directory(): string | undefined {
  return process.env[DIRECTORY_VARIABLE];
}

/** Records one CLI run's output for the end-of-run secret check (no-op outside the e2e run). */
export function recordCliOutput(output: RecordedOutput): void {
  const dir = directory();
  if (dir === undefined) return;
  appendFileSync(join(dir, OUTPUT_FILE), `${JSON.stringify(output)}\n`);
}

/**
 * Adds a secret a test made up (a role's password, a wrong secret key) to
 * those no CLI output may contain. `label` names it in the report; the value is never shown.
 */
export function guardSecret(label: string, value: string): void {
  const dir = directory();
  if (dir === undefined || value === '') return;
  appendFileSync(join(dir, SECRETS_FILE), `${JSON.stringify({ label, value })}\n`);
}

/** Starts the guard (global setup): returns the check to run at teardown. */
export async function startSecretGuard(baseSecrets: readonly { label: string; value: string }[]): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'backupctl-secret-guard-'));
  process.env[DIRECTORY_VARIABLE] = dir;
  return async () => {
    try {
      const leaks = findLeaks(dir, baseSecrets);
      if (leaks.length > 0) {
        // vitest reports a teardown error but still exits 0: set the exit code too.
        process.exitCode = 1;
        throw new Error(`secret guard: test secrets appeared in CLI output:\n  ${leaks.join('\n  ')}`);
      }
    } finally {
      delete process.env[DIRECTORY_VARIABLE];
      await rm(dir, { recursive: true, force: true });
    }
  };
}

function readLines<T>(file: string): T[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

/** One line per (secret, output) that contains it: which secret, which command, which test. */
export function findLeaks(dir: string, baseSecrets: readonly { label: string; value: string }[]): string[] {
  const secrets = [...baseSecrets, ...readLines<{ label: string; value: string }>(join(dir, SECRETS_FILE))].flatMap(({ label, value }) => {
    const encoded = encodeURIComponent(value);
    return encoded === value ? [{ label, value }] : [{ label, value }, { label: `${label} (URL-encoded)`, value: encoded }];
  });
  const leaks: string[] = [];
  for (const output of readLines<RecordedOutput>(join(dir, OUTPUT_FILE))) {
    for (const secret of secrets) {
      for (const stream of ['stdout', 'stderr'] as const) {
        if (output[stream].includes(secret.value)) {
          leaks.push(`${secret.label} in the ${stream} of \`backupctl ${output.command}\`${output.test ? ` (${output.test})` : ''}`);
        }
      }
    }
  }
  return leaks;
}
