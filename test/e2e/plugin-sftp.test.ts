import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, makeTempDir, removeTempDir, runCli, seedClaraDatabase, startCli, tableFingerprints, uniqueName, usePostgres, type CliResult } from '../harness/index.js';
import { sshdUnavailable, startSshd, type SshdServer } from '../harness/sshd.js';
import { HELD_SOURCE } from './held-source.js';
import { logLines, printedSecrets } from './restore-fixtures.js';

// The sftp sink through the built CLI against a real OpenSSH sshd: a
// database backed up and restored, password and key logins, the host key
// check, a connection dropped mid-upload, a directory the user may not
// write to, and ls / verify / restore-help.

const unavailable = sshdUnavailable();
const pg = usePostgres();
let sshd: SshdServer;
let dir: string;
let database: string;
/** This file's directory under the user's home (every sink writes below it), removed afterwards. */
const base = uniqueName('plugin_sftp');

beforeAll(async () => {
  if (unavailable) return;
  sshd = await startSshd();
  await mkdir(path.join(sshd.home, base));
  await chmod(path.join(sshd.home, base), 0o777); // made by root: the test user writes below it
  dir = await makeTempDir('backupctl-sftp-');
  await writeFile(path.join(dir, 'held-source.mjs'), HELD_SOURCE);
  database = uniqueName('sftp');
  await pg.createDatabase(database);
  await seedClaraDatabase(pg, database);
});

afterAll(async () => {
  if (unavailable) return;
  if (sshd) await rm(path.join(sshd.home, base), { recursive: true, force: true });
  await sshd?.stop();
  await removeTempDir(dir);
});

interface SinkSetting {
  /** Under the test user's home. */
  directory: string;
  login?: 'password' | 'key';
  hostKey?: string;
  source?: string;
  port?: number;
  /** Extra lines under `with:`. */
  extra?: string[];
}

async function pipeline(setting: SinkSetting): Promise<string> {
  const file = path.join(dir, `${uniqueName('pipeline')}.yml`);
  const login = setting.login === 'key' ? `privateKey: ${sshd.clientKeyFile}` : 'password: "${SFTP_PASSWORD}"';
  await writeFile(
    file,
    [
      'version: 1',
      'jobs:',
      '  clara:',
      '    title: Clara DB',
      `    source: ${setting.source ?? '{ use: postgres, with: { url: "${DATABASE_URL}", retryAttempts: 1 } }'}`,
      '    transforms: [{ use: gzip }]',
      '    sink:',
      '      use: sftp',
      '      with:',
      `        host: ${sshd.host}`,
      `        port: ${setting.port ?? sshd.port}`,
      `        username: ${sshd.user}`,
      `        ${login}`,
      `        hostKey: "${setting.hostKey ?? sshd.hostKeyFingerprint}"`,
      `        directory: ${setting.directory}`,
      '        prefix: backups/clara/',
      ...(setting.extra ?? ['retryAttempts: 1']).map((line) => `        ${line}`),
      '',
    ].join('\n'),
  );
  return file;
}

const env = () => ({ DATABASE_URL: pg.url(database), SFTP_PASSWORD: sshd.password });

async function cli(args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli(args, { env: { ...env(), ...extra } });
  const output = result.stdout + result.stderr;
  expect(printedSecrets(result)).toBe(false);
  expect(output).not.toContain(sshd.password);
  return result;
}

/** Every entry under `<home>/<directory>/backups/clara`, hidden ones included. */
async function entries(directory: string): Promise<string[]> {
  return (await readdir(path.join(sshd.home, directory, 'backups', 'clara')).catch(() => [] as string[])).sort();
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe.skipIf(unavailable !== undefined)(`sftp sink through the CLI${unavailable ? ` — skipped: ${unavailable}` : ''}`, () => {
  it('password login: backs up, ls and verify see it, restore --create gives the database back, restore-help fetches it with sftp', async () => {
    const directory = `${base}/${uniqueName('nas')}`;
    const file = await pipeline({ directory });
    const run = await cli(['run', file]);
    expect(run.code, run.stderr).toBe(0);
    const [name, ...others] = await entries(directory);
    expect(others).toEqual([]);
    expect(name).toMatch(/^clara_\d{8}_\d{6}\.sql\.gz$/);
    const stored = await readFile(path.join(sshd.home, directory, 'backups', 'clara', name!));
    const record = JSON.parse(await readFile(path.join(sshd.home, directory, 'metadata', 'checksums', 'backups', 'clara', `${name}.json`), 'utf8')) as { sha256: string };
    expect(record.sha256).toBe(sha(stored));

    const ls = await cli(['ls', file]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toContain(`backups/clara/${name}`);
    const verify = await cli(['verify', 'clara', file]);
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);

    const target = uniqueName('sftp_restored');
    const restored = await cli(['restore', 'clara', file, '--target-url', pg.url(target), '--create']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await tableFingerprints(pg, target)).toEqual(await tableFingerprints(pg, database));
    await pg.dropDatabase(target);

    const help = await cli(['restore-help', file]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain(`sftp -P ${sshd.port} ${sshd.user}@127.0.0.1:${directory}/backups/clara/${name} .`);
    expect(help.stdout).toContain('the value of $SFTP_PASSWORD');
  });

  it('key login: backs up with the private key file', async () => {
    const directory = `${base}/${uniqueName('nas')}`;
    const run = await cli(['run', await pipeline({ directory, login: 'key' })]);
    expect(run.code, run.stderr).toBe(0);
    expect(await entries(directory)).toEqual([expect.stringMatching(/^clara_\d{8}_\d{6}\.sql\.gz$/)]);
  });

  it('an unknown host key is refused: exit 1, one line showing the fingerprint to put in hostKey', async () => {
    const directory = `${base}/${uniqueName('nas')}`;
    const run = await cli(['run', await pipeline({ directory, hostKey: '' })]);
    expect(run.code).toBe(1);
    const lines = logLines(run).filter((line) => line.includes(sshd.hostKeyFingerprint));
    expect(lines.length, run.stderr).toBeGreaterThan(0);
    expect(lines[0]).toContain(`host key of sftp://${sshd.user}@127.0.0.1:${sshd.port}/~/${directory} is not known: refusing to connect (its fingerprint is ${sshd.hostKeyFingerprint})`);
    expect(run.stderr).toContain(`hostKey: "${sshd.hostKeyFingerprint}"`);
    expect(await entries(directory)).toEqual([]);
    // A different pinned key is refused the same way.
    const wrong = await cli(['run', await pipeline({ directory, hostKey: `SHA256:${'A'.repeat(43)}` })]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`is ${sshd.hostKeyFingerprint}, not the configured hostKey SHA256:${'A'.repeat(43)}`);
  });

  it('a connection dropped mid-upload fails the run and leaves neither the backup nor the temp file', async () => {
    const directory = `${base}/${uniqueName('nas')}`;
    const file = await pipeline({ directory, source: '{ use: ./held-source.mjs, with: { mib: 2 } }' });
    const running = startCli(['run', file], { env: env() });
    await running.waitForOutput('held source: 2 MiB sent, holding', 'stderr');
    // The upload is in flight: its hidden temp file is there.
    for (let tries = 0; !(await entries(directory)).some((entry) => entry.includes('.partial-')) && tries < 100; tries++) await delay(50);
    expect((await entries(directory)).some((entry) => entry.includes('.partial-'))).toBe(true);
    const sessions = await sshd.sessionPids();
    expect(sessions.length).toBeGreaterThan(0);
    for (const pid of sessions) process.kill(pid, 'SIGKILL');
    const result = await running.result;
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).not.toContain(sshd.password);
    // The sink reconnected to remove the temp file the drop left behind.
    expect(await entries(directory)).toEqual([]);
  });

  it('a server that refuses connections is retried with doubling waits, then one line; a wrong password fails at once without showing it', async () => {
    const directory = `${base}/${uniqueName('nas')}`;
    const down = await closedPort();
    const refused = await cli(['run', await pipeline({ directory, port: down, extra: ['retryAttempts: 3', 'retryDelaySeconds: 0.1'] })]);
    expect(refused.code).toBe(1);
    const lines = logLines(refused);
    expect(lines.filter((line) => line.startsWith('WARN: SFTP server'))).toEqual([
      expect.stringMatching(/not reachable \(.*ECONNREFUSED.*\), retrying in 0\.1s \(attempt 1 of 3\)$/),
      expect.stringMatching(/retrying in 0\.2s \(attempt 2 of 3\)$/),
    ]);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ERROR: Clara DB backup failed: could not connect to sftp://.*:${down}/~/${directory} after 3 attempts: `)));

    const wrong = await cli(['run', await pipeline({ directory })], { SFTP_PASSWORD: 'not the password' });
    expect(wrong.code).toBe(1);
    expect(logLines(wrong)).toContainEqual(expect.stringMatching(/^ERROR: Clara DB backup failed: could not connect to .*: All configured authentication methods failed$/));
    expect(wrong.stdout + wrong.stderr).not.toContain('not the password');
  });

  it('a directory the user may not write to: exit 1, one line saying permission denied', async () => {
    const directory = `${base}/${uniqueName('locked')}`;
    await mkdir(path.join(sshd.home, directory));
    await chmod(path.join(sshd.home, directory), 0o755); // owned by root: the test user may only read it
    const run = await cli(['run', await pipeline({ directory })]);
    expect(run.code).toBe(1);
    const errors = logLines(run).filter((line) => line.startsWith('ERROR:'));
    expect(errors.some((line) => line.includes('permission denied')), run.stderr).toBe(true);
    expect(await entries(directory)).toEqual([]);
  });
});
