import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Decrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEST_PG_PASSWORD, makeTempDir, removeTempDir, runCli, seedClaraDatabase, tableFingerprints, uniqueName, usePostgres, useS3, type CliResult } from '../harness/index.js';

// Third-party plugins as a user installs them: the example packages in
// examples/, named by path in a pipeline file, run by the built CLI.
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENCRYPTED_PIPELINE = path.join(REPO, 'examples/encrypted.yml');
const AGE_PLUGIN = path.join(REPO, 'examples/plugin-age');
const ZSTD_PLUGIN = path.join(REPO, 'examples/plugin-zstd');

const pg = usePostgres();
const s3 = useS3();
const claraDb = uniqueName('clara_main');
const bucket = uniqueName('encrypted-backups');
let identity: string;
let recipient: string;
let keyFile: string;
let workDir: string;

function s3Env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: pg.url(claraDb),
    S3_BUCKET: bucket,
    S3_ENDPOINT_URL: inject('s3').endpoint,
    S3_ACCESS_KEY: 'S3RVER',
    S3_SECRET_KEY: 'S3RVER',
    DB_RETRY_ATTEMPTS: '1',
    ...extra,
  };
}

function expectNoSecrets(result: CliResult): void {
  const output = result.stdout + result.stderr;
  expect(output).not.toContain(TEST_PG_PASSWORD);
  expect(output).not.toContain(identity);
}

/** A pipeline file in a fresh directory: clara's database through `transforms` into a directory sink. */
async function pipelineFile(transforms: string[], name = 'backupctl.yml'): Promise<{ file: string; out: string }> {
  const dir = await mkdtemp(path.join(workDir, 'pipeline-'));
  const out = path.join(dir, 'out');
  const file = path.join(dir, name);
  await writeFile(
    file,
    [
      'version: 1',
      'jobs:',
      '  clara:',
      '    title: Clara DB',
      '    source: { use: postgres, with: { url: "${DATABASE_URL}", retryAttempts: 1 } }',
      ...(transforms.length ? ['    transforms:', ...transforms.map((step) => `      - ${step}`)] : []),
      `    sink: { use: file, with: { directory: ${JSON.stringify(out)}, prefix: backups/ } }`,
      '',
    ].join('\n'),
  );
  return { file, out };
}

beforeAll(async () => {
  await pg.createDatabase(claraDb);
  await seedClaraDatabase(pg, claraDb);
  await s3.createBucket(bucket);
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  workDir = await makeTempDir('backupctl-plugins-');
  keyFile = path.join(workDir, 'key.txt');
  await writeFile(keyFile, `# created: 2026-02-01T03:00:00Z\n# public key: ${recipient}\n${identity}\n`);
});
// workDir holds the identity file and every pipeline directory the tests make.
afterAll(() => removeTempDir(workDir));

describe('backupctl plugins', () => {
  it('lists each plugin of examples/encrypted.yml with its kind, package, version and where it was loaded from', async () => {
    const result = await runCli(['plugins', 'examples/encrypted.yml'], { cwd: REPO });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('examples/encrypted.yml: 4 plugins');
    expect(lines[1]).toMatch(/^PLUGIN\s+KIND\s+PACKAGE\s+LOADED FROM\s+DESCRIPTION$/);
    const rows = lines.slice(2).map((line) => line.split(/\s{2,}/));
    expect(rows.map((row) => row.slice(0, 3))).toEqual([
      ['postgres', 'source', '@backupctl/plugin-postgres 0.1.0'],
      ['gzip', 'transform', '@backupctl/plugin-gzip 0.1.0'],
      ['./plugin-age', 'transform', 'backupctl-plugin-age 0.1.0'],
      ['s3', 'sink', '@backupctl/plugin-s3 0.1.0'],
    ]);
    expect(rows[0]![3]).toMatch(/^built-in, node_modules\/@backupctl\/plugin-postgres\/dist\/index\.js$/);
    expect(rows[2]![3]).toBe('examples/plugin-age/dist/index.js');
    expect(rows[2]![4]).toBe('Encrypts the stream with age (X25519 recipients or a passphrase); restore decrypts it.');
  });

  it('--json gives the same facts to scripts, and --schema a plugin’s options', async () => {
    const listed = await runCli(['plugins', ENCRYPTED_PIPELINE, '--json'], { cwd: REPO });
    expect(listed.code).toBe(0);
    const listing = JSON.parse(listed.stdout) as { plugins: { use: string; kind: string; usedAt: string[]; plugin: Record<string, unknown> }[] };
    expect(listing.plugins.find((entry) => entry.use === './plugin-age')).toEqual({
      use: './plugin-age',
      kind: 'transform',
      usedAt: ['jobs.clara.transforms.1'],
      plugin: {
        name: 'age',
        kind: 'transform',
        description: expect.stringContaining('age'),
        apiVersion: 1,
        from: AGE_PLUGIN,
        entry: path.join(AGE_PLUGIN, 'dist/index.js'),
        package: { name: 'backupctl-plugin-age', version: '0.1.0' },
      },
    });

    const schema = await runCli(['plugins', '--schema', ZSTD_PLUGIN]);
    expect(schema.code).toBe(0);
    expect(schema.stdout).toMatch(/^zstd options \(with:\)\nOPTION\s+TYPE\s+DEFAULT\s+DESCRIPTION\nlevel\s+integer\s+3\s+Compression level/);
  });
});

describe('the age plugin, by relative path: examples/encrypted.yml', () => {
  it('backs up ciphertext only, and `backupctl restore` with the key file gives identical tables', async () => {
    const backup = await runCli(['run', ENCRYPTED_PIPELINE, '--json'], { env: s3Env({ AGE_RECIPIENTS: recipient }) });
    expect(backup.stderr).not.toMatch(/ERROR|WARN/);
    expect(backup.code).toBe(0);
    expectNoSecrets(backup);
    const [key] = await s3.listKeys(bucket, 'backups/clara-encrypted/');
    expect(key).toMatch(/^backups\/clara-encrypted\/clara_\d{8}_\d{6}\.sql\.gz\.age$/);

    // A standard age file: the age library (or `age -d -i key.txt | gunzip`) reads it.
    const stored = await s3.getObject(bucket, key!);
    expect(stored.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    const decrypter = new Decrypter();
    decrypter.addIdentity(identity);
    expect(gunzipSync(await decrypter.decrypt(stored)).toString()).toContain('CREATE TABLE');

    const target = uniqueName('clara_decrypted');
    const restore = await runCli(['restore', 'clara', ENCRYPTED_PIPELINE, '--create'], {
      env: s3Env({ AGE_IDENTITY_FILE: keyFile, RESTORE_TARGET_URL: pg.url(target) }),
    });
    expect(restore.stderr).not.toMatch(/ERROR|WARN/);
    expect(restore.code).toBe(0);
    expectNoSecrets(restore);
    expect(await tableFingerprints(pg, target)).toEqual(await tableFingerprints(pg, claraDb));
  });

  it('refuses to restore without the secret key, saying which one is missing, and creates nothing', async () => {
    const backup = await runCli(['run', ENCRYPTED_PIPELINE], { env: s3Env({ AGE_RECIPIENTS: recipient }) });
    expect(backup.code).toBe(0);
    const target = uniqueName('clara_nokey');
    const restore = await runCli(['restore', 'clara', ENCRYPTED_PIPELINE, '--create'], {
      env: s3Env({ AGE_RECIPIENTS: recipient, RESTORE_TARGET_URL: pg.url(target) }),
    });
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain('age: no identity to decrypt with (only recipients, which are public keys, are set)');
    expect(restore.stderr).toContain('identityFile');
    expect(await pg.query('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [target])).toEqual([]);
  });
});

describe('the zstd plugin, by path: a transform that wraps a program', () => {
  it('runs pg_dump -> zstd -> age -> file and restores through both inverses', async () => {
    const { file, out } = await pipelineFile([
      `{ use: ${JSON.stringify(ZSTD_PLUGIN)}, with: { level: 5 } }`,
      `{ use: ${JSON.stringify(AGE_PLUGIN)}, with: { identityFile: ${JSON.stringify(keyFile)} } }`,
    ]);
    const env = { DATABASE_URL: pg.url(claraDb) };
    const backup = await runCli(['run', file], { env });
    expect(backup.code).toBe(0);
    const stored = await readdir(path.join(out, 'backups'));
    expect(stored).toEqual([expect.stringMatching(/^clara_\d{8}_\d{6}\.sql\.zst\.age$/)]);

    const target = uniqueName('clara_from_zstd');
    const restore = await runCli(['restore', 'clara', file, '--create'], { env: { ...env, RESTORE_TARGET_URL: pg.url(target) } });
    expect(restore.stderr).not.toMatch(/ERROR|WARN/);
    expect(restore.code).toBe(0);
    expect(await tableFingerprints(pg, target)).toEqual(await tableFingerprints(pg, claraDb));
  });
});

describe('plugins that cannot be used are reported clearly', () => {
  const fakeTransform = (fields: string) => `export default {
  ${fields}
  name: 'legacy', kind: 'transform', schema: { type: 'object', properties: {} },
  create() { return { encode() { throw new Error('unused'); }, decode() { throw new Error('unused'); } }; },
};
`;

  it('refuses a plugin written for another plugin API version, in validate, run and plugins (exit 2)', async () => {
    const { file } = await pipelineFile(['{ use: ./legacy.mjs }']);
    await writeFile(path.join(path.dirname(file), 'legacy.mjs'), fakeTransform('apiVersion: 0,'));
    const env = { DATABASE_URL: pg.url(claraDb) };
    for (const command of ['validate', 'run']) {
      const result = await runCli([command, file], { env });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('plugin "./legacy.mjs" was written for plugin API version 0; this backupctl serves version 1');
      expect(result.stderr).toContain('install a version of the plugin made for this backupctl, or upgrade backupctl');
    }
    const listed = await runCli(['plugins', file]);
    expect(listed.code).toBe(2);
    expect(listed.stdout).toMatch(/^\.\/legacy\.mjs\s+transform\s+-\s+NOT LOADED\s+PLUGIN_INVALID: plugin "\.\/legacy\.mjs" was written for plugin API version 0/m);
  });

  it('refuses a plugin whose options schema is not a JSON Schema, in one line naming the defect (exit 2)', async () => {
    const { file, out } = await pipelineFile(['{ use: ./typo.mjs }']);
    await writeFile(
      path.join(path.dirname(file), 'typo.mjs'),
      fakeTransform('apiVersion: 1,').replace('properties: {} }', "properties: { level: { type: 'int' } } }"),
    );
    for (const command of ['validate', 'run']) {
      const result = await runCli([command, file], { env: { DATABASE_URL: pg.url(claraDb) } });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        'plugin "./typo.mjs" has an invalid options schema: schema/properties/level/type must be equal to one of the allowed values ' +
          '(build the schema with Type from @backupctl/plugin-api (TypeBox), or fix it to be a JSON Schema (draft 7))',
      );
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    expect(await readdir(path.join(out, 'backups')).catch(() => [])).toEqual([]);
  });

  it('reports a plugin whose create throws as a failed job naming the plugin, and stores nothing (exit 1)', async () => {
    const { file, out } = await pipelineFile(['{ use: ./broken.mjs }']);
    await writeFile(
      path.join(path.dirname(file), 'broken.mjs'),
      fakeTransform("apiVersion: 1,").replace("create() {", "create() { throw new Error('licence key missing');"),
    );
    const result = await runCli(['run', file, '--json'], { env: { DATABASE_URL: pg.url(claraDb) } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Clara DB backup failed: \.\/broken\.mjs create: licence key missing$/m);
    const summary = JSON.parse(result.stdout) as { jobs: { error?: { code: string; message: string } }[] };
    expect(summary.jobs[0]?.error).toEqual({ code: 'TRANSFORM_FAILED', message: './broken.mjs create: licence key missing' });
    expect(await readdir(path.join(out, 'backups')).catch(() => [])).toEqual([]);
  });
});
