import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from '../harness/azurite.js';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy.js';
import {
  makeTempDir,
  removeTempDir,
  runCli,
  seedClaraDatabase,
  startCli,
  tableFingerprints,
  TEST_PG_PASSWORD,
  uniqueName,
  usePostgres,
  type CliResult,
} from '../harness/index.js';
import { guardSecret } from '../harness/secret-guard.js';

// The azure sink through the built CLI against Azurite (one per file): a
// backup stored and restored, ls and restore-help, an interrupted upload
// that leaves nothing committed, a wrong key in one line.

const pg = usePostgres();
let azurite: Azurite;
let proxy: FaultProxy;
let dir: string;
let pipeline: string;
const container = uniqueName('clara-backups');
const database = uniqueName('azure_clara');
const big = uniqueName('azure_big');

beforeAll(async () => {
  [azurite, dir] = await Promise.all([
    startAzurite(),
    makeTempDir('backupctl-azure-'),
    pg.createDatabase(database).then(() => seedClaraDatabase(pg, database)),
    pg.createDatabase(big),
  ]);
  proxy = await startFaultProxy(`http://127.0.0.1:${azurite.port}`);
  await azurite.createContainer(container);
  // ~4 MiB of SQL, not gzipped: several 1 MiB blocks, so an upload can be cut mid-way.
  await pg.psql(big, "CREATE TABLE t AS SELECT g AS id, md5(g::text) || md5((g + 1)::text) AS v FROM generate_series(1, 60000) g");
  pipeline = path.join(dir, 'backupctl.yml');
  const sink = (prefix: string, endpoint: string, extra = ''): string =>
    `{ use: azure, with: { container: ${container}, prefix: ${prefix}, account: "\${AZURE_STORAGE_ACCOUNT}", accountKey: "\${AZURE_STORAGE_KEY}", endpoint: "${endpoint}"${extra} } }`;
  await writeFile(
    pipeline,
    `version: 1
jobs:
  clara:
    title: Clara DB
    source: { use: postgres, with: { url: "\${DATABASE_URL}", retryAttempts: 1 } }
    transforms: [{ use: gzip }]
    sink: ${sink('backups/clara/', azurite.endpoint)}
  big:
    source: { use: postgres, with: { url: "\${BIG_URL}", retryAttempts: 1 } }
    sink: ${sink('backups/big/', `${proxy.url}/${azurite.account}`, ', blockSizeMiB: 1, concurrency: 2')}
`,
  );
  guardSecret('AZURITE_ACCOUNT_KEY', azurite.accountKey);
});

afterAll(async () => {
  await proxy?.close();
  await azurite?.stop();
  await removeTempDir(dir);
});

const env = (overrides: Record<string, string> = {}): Record<string, string> => ({
  DATABASE_URL: pg.url(database),
  BIG_URL: pg.url(big),
  AZURE_STORAGE_ACCOUNT: azurite.account,
  AZURE_STORAGE_KEY: azurite.accountKey,
  ...overrides,
});

function expectNoSecret(result: CliResult): void {
  const output = result.stdout + result.stderr;
  for (const secret of [TEST_PG_PASSWORD, azurite.accountKey]) expect(output).not.toContain(secret);
}

const errorLines = (result: CliResult): string[] => result.stderr.split('\n').filter((line) => /ERROR/.test(line));

describe('azure sink through the CLI (Azurite)', () => {
  let key: string;

  it('backs a database up to a block blob, and restore --create gives it back identical', async () => {
    const backup = await runCli(['run', pipeline, '--job', 'clara'], { env: env() });
    expectNoSecret(backup);
    expect(backup.code, backup.stderr).toBe(0);
    const names = await azurite.listBlobNames(container, 'backups/clara/');
    expect(names).toEqual([expect.stringMatching(/^backups\/clara\/clara_\d{8}_\d{6}\.sql\.gz$/)]);
    key = names[0]!;
    const props = await azurite.container(container).getBlobClient(key).getProperties();
    expect(props.contentType).toBe('application/gzip');

    const target = uniqueName('azure_restored');
    const restore = await runCli(['restore', 'clara', pipeline, '--create'], { env: env({ RESTORE_TARGET_URL: pg.url(target) }) });
    expectNoSecret(restore);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await tableFingerprints(pg, target)).toEqual(await tableFingerprints(pg, database));
  });

  it('ls lists the backup; restore-help downloads it with az, the key by its variable only', async () => {
    const ls = await runCli(['ls', pipeline, '--job', 'clara'], { env: env() });
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toContain(path.posix.basename(key));

    const help = await runCli(['restore-help', pipeline, '--job', 'clara'], { env: env() });
    expectNoSecret(help);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('AZURE_STORAGE_KEY="$AZURE_STORAGE_KEY" AZURE_STORAGE_ACCOUNT="$AZURE_STORAGE_ACCOUNT"');
    expect(help.stdout).toContain(`az storage blob download --container-name ${container} \\`);
    expect(help.stdout).toContain(`--name ${key} --file ${path.posix.basename(key)} \\`);
    expect(help.stdout).toContain(`--blob-endpoint ${azurite.endpoint}`);
  });

  it('SIGTERM mid-upload: blocks were staged, none committed, exit non-zero', async () => {
    // Answers come back a second late: the run is still staging when a block has landed.
    proxy.setMode({ kind: 'delay', ms: 1000 });
    const stagedBlobs = async (): Promise<string[]> => {
      const names: string[] = [];
      for await (const blob of azurite.container(container).listBlobsFlat({ prefix: 'backups/big/', includeUncommitedBlobs: true })) names.push(blob.name);
      return names;
    };
    try {
      const cli = startCli(['run', pipeline, '--job', 'big'], { env: env() });
      for (let waited = 0; (await stagedBlobs()).length === 0; waited += 50) {
        if (waited > 30_000) throw new Error(`no block was staged:\n${cli.output().stderr}`);
        await sleep(50);
      }
      cli.child.kill('SIGTERM');
      const result = await cli.result;
      expectNoSecret(result);
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      expect(result.stderr).toContain('ERROR: big backup failed: aborted: received SIGTERM');
    } finally {
      proxy.setMode({ kind: 'pass' });
    }
    expect(proxy.requests.some((request) => request.target.includes('comp=blocklist'))).toBe(false);
    expect(await azurite.listBlobNames(container, 'backups/big/')).toEqual([]);
    // The staged blocks stay, uncommitted and invisible (Azure discards them after a week).
    expect(await stagedBlobs()).toHaveLength(1);
  });

  it('a wrong key: exit 1 with one clear line naming the container, the key never shown', async () => {
    const wrong = Buffer.from('not-the-key-of-devstoreaccount1-at-all-0123456789').toString('base64');
    guardSecret('wrong Azure key', wrong);
    const result = await runCli(['run', pipeline, '--job', 'clara'], { env: env({ AZURE_STORAGE_KEY: wrong }) });
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain(wrong);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    const errors = errorLines(result);
    expect(errors[0], result.stderr).toMatch(
      new RegExp(`ERROR: Clara DB backup failed: ${azurite.endpoint.replace(/[.]/g, '\\.')} rejected the Azure credential for container ${container} \\(AuthorizationFailure\\)`),
    );
    expect(result.stderr).toContain('Check the credential (accountKey, sasToken or connectionString');
  });

  it('validate --connect reaches the container, and names a missing one in one line', async () => {
    const ok = await runCli(['validate', pipeline, '--connect'], { env: env() });
    expect(ok.code, ok.stderr).toBe(0);
    const missing = path.join(dir, 'missing.yml');
    await writeFile(
      missing,
      `version: 1
jobs:
  clara:
    source: { use: postgres, with: { url: "\${DATABASE_URL}" } }
    sink: { use: azure, with: { container: no-such-container, connectionString: "\${AZURE_STORAGE_CONNECTION_STRING}" } }
`,
    );
    const result = await runCli(['validate', missing, '--connect'], { env: env({ AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString }) });
    expectNoSecret(result);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain('container no-such-container does not exist at http://127.0.0.1:');
  });

  it('the harness stops Azurite without leaving its node process behind', async () => {
    const other = await startAzurite();
    const pid = other.child.pid!;
    await other.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
