import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupctlError } from '@backupctl/plugin-api';
import { redact, spawnPgDump, type PgDumpOptions } from '../src/pg-dump.js';
import { recordingLogger } from './fake-context.js';

let dir: string;

/** A stand-in for pg_dump: a shell script with the given body. */
async function script(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

function options(binary: string, overrides: Partial<PgDumpOptions> = {}): PgDumpOptions {
  return {
    binary,
    args: ['--format=plain'],
    env: { PATH: process.env.PATH, PGPASSWORD: 'hunter2' },
    target: 'db:5432/clara',
    logger: recordingLogger(),
    signal: new AbortController().signal,
    secrets: ['hunter2'],
    ...overrides,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pg-dump-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('spawnPgDump', () => {
  it('streams stdout, resolves done on exit 0 and logs warnings', async () => {
    const binary = await script('ok', 'echo "pg_dump: warning: there are circular foreign-key constraints" >&2\necho "args: $*"\necho "-- dump of $PGDATABASE"');
    const logger = recordingLogger();
    const dump = spawnPgDump(options(binary, { logger, env: { PGDATABASE: 'clara' } }));
    expect(await text(dump.stream)).toBe('args: --format=plain\n-- dump of clara\n');
    await expect(dump.done).resolves.toBeUndefined();
    expect(logger.lines).toEqual([{ level: 'warn', message: 'pg_dump: warning: there are circular foreign-key constraints', fields: undefined }]);
  });

  it("rejects with the exit code and the last 20 stderr lines, password redacted", async () => {
    const binary = await script(
      'fails',
      'i=1; while [ $i -le 30 ]; do echo "pg_dump: detail line $i" >&2; i=$((i+1)); done\n' +
        'echo "pg_dump: error: connection failed: password \\"$PGPASSWORD\\" rejected" >&2\nexit 3',
    );
    const dump = spawnPgDump(options(binary));
    void text(dump.stream);
    const error = (await dump.done.catch((caught: unknown) => caught)) as BackupctlError;
    expect(error).toBeInstanceOf(BackupctlError);
    expect(error.code).toBe('SOURCE_FAILED');
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('pg_dump failed for db:5432/clara (exit code 3):');
    expect(lines).toHaveLength(21);
    expect(lines[1]).toBe('pg_dump: detail line 12');
    expect(lines[20]).toBe('pg_dump: error: connection failed: password "***" rejected');
    expect(error.message).not.toContain('hunter2');
  });

  it('stops pg_dump on abort and rejects with ABORTED', async () => {
    const binary = await script('slow', 'echo started\nexec sleep 30');
    const controller = new AbortController();
    const dump = spawnPgDump(options(binary, { signal: controller.signal }));
    dump.stream.once('data', () => controller.abort());
    void text(dump.stream);
    await expect(dump.done).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('stop() ends a running pg_dump (close)', async () => {
    const binary = await script('slow2', 'exec sleep 30');
    const dump = spawnPgDump(options(binary));
    dump.stop();
    void text(dump.stream);
    await expect(dump.done).rejects.toThrow(/killed by SIGTERM/);
  });

  it('rejects with SOURCE_FAILED when the binary cannot be started', async () => {
    const dump = spawnPgDump(options(join(dir, 'missing-pg_dump')));
    await expect(dump.done).rejects.toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringContaining('ENOENT') });
  });

  it('does not start when the signal is already aborted', () => {
    const controller = new AbortController();
    controller.abort();
    expect(() => spawnPgDump(options('/bin/true', { signal: controller.signal }))).toThrow(/aborted/);
  });

  it('causes no unhandled rejection when nobody awaits done', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const binary = await script('fails-quietly', 'exit 1');
      const dump = spawnPgDump(options(binary));
      await new Promise((resolve) => dump.stream.on('close', resolve).resume());
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('redact', () => {
  it('blanks every secret, longest first', () => {
    expect(redact('a p%40ss and p@ss', ['p@ss', 'p%40ss'])).toBe('a *** and ***');
    expect(redact('nothing', [''])).toBe('nothing');
  });
});
