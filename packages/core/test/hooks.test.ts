import { describe, expect, it } from 'vitest';
import { checkSchema, Secrets, type HookInstance, type HookRun } from '@backupctl/plugin-api';
import { recordBackup } from '../src/catalog/backup-records.js';
import { createLogger } from '../src/log/logger.js';
import { parseFlag } from '../src/hooks/flag.js';
import respawn, { formatAge } from '../src/hooks/respawn.js';
import retention, { applyRetention } from '../src/hooks/retention.js';
import { listJobBackups } from '../src/catalog/job-backups.js';
import { createMemoryStore, type MemoryStore } from '@backupctl/plugin-api/testing';

const now = new Date('2026-02-01T03:00:00Z');
const context = { job: 'clara', use: 'x', logger: createLogger({ secrets: new Secrets(), write: () => {} }), signal: new AbortController().signal, artifact: { extension: '', contentType: '' }, secrets: new Secrets() };

/** Options as the runner hands them over: validated, coerced and defaulted by the plugin's schema. */
function optionsFor(plugin: typeof respawn | typeof retention, given: Record<string, unknown>): never {
  const options = structuredClone(given);
  expect(checkSchema(plugin.schema, options)).toEqual([]);
  return options as never;
}

function hookRun(store: MemoryStore, at = now) {
  const lines: string[] = [];
  const logger = createLogger({ secrets: new Secrets(), write: (line) => lines.push(line.slice(22)), now: () => at, debug: true });
  const run: HookRun = { job: 'clara', extension: '.sql.gz', store, logger, signal: new AbortController().signal, now: at };
  return { run, lines };
}

function put(store: MemoryStore, key: string, body = 'x'): void {
  store.objects.set(key, { body: Buffer.from(body), lastModified: now });
}

describe('force: true/false, 1/0, yes/no in any case', () => {
  it.each([
    ['true', true], ['TRUE', true], ['Yes', true], ['1', true], [' yes ', true],
    ['false', false], ['False', false], ['NO', false], ['0', false],
  ])('parseFlag(%j) is %s', (text, expected) => {
    expect(parseFlag(text)).toBe(expected);
  });

  it('accepts YAML booleans and numbers through the schema (coerced to their spelling)', () => {
    for (const [given, expected] of [[true, true], [false, false], [1, true], [0, false], ['yEs', true]] as const) {
      const options = { force: given };
      expect(checkSchema(respawn.schema, options)).toEqual([]);
      expect(parseFlag((options as { force: string }).force)).toBe(expected);
    }
  });

  it('refuses anything else with a schema error at the option', () => {
    for (const bad of ['maybe', 'on', '', 'truee', 2]) {
      const problems = checkSchema(respawn.schema, { force: bad });
      expect(problems, String(bad)).toEqual([{ path: ['force'], message: 'must be true/false, 1/0 or yes/no' }]);
    }
    expect(() => parseFlag('maybe')).toThrow(/expected true\/false, 1\/0 or yes\/no, got "maybe"/);
  });

  it('defaults hours to 23, force to false, days to 7 and keep rules to off', () => {
    expect(optionsFor(respawn, {})).toEqual({ hours: 23, force: 'false' });
    expect(optionsFor(retention, {})).toEqual({ days: 7, keepLast: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 });
    expect(checkSchema(retention.schema, { days: -1, keepDaily: 1.5 }).map((p) => p.path[0])).toEqual(['days', 'keepDaily']);
  });
});

describe('respawn hook', () => {
  async function beforeRun(store: MemoryStore, options: Record<string, unknown>, at = now) {
    const hook = (await respawn.create(optionsFor(respawn, options), context)) as HookInstance;
    const { run, lines } = hookRun(store, at);
    return { decision: await hook.beforeRun!(run), lines };
  }

  async function recordAt(store: MemoryStore, finishedAt: string) {
    const finished = new Date(finishedAt);
    const key = `backups/clara/clara_${finishedAt.replace(/[-:]/g, '').replace('T', '_').slice(0, 15)}.sql.gz`;
    put(store, key);
    await recordBackup(store, { job: 'clara', key, size: 1, sourceSize: 1, sha256: 'ab', startedAt: finished, finishedAt: finished }, context.logger);
  }

  it('skips when the job record says its last backup is younger than `hours`, saying when it ran and when the next may', async () => {
    const store = createMemoryStore({ prefix: 'backups/clara/' });
    await recordAt(store, '2026-01-31T23:48:00Z');
    const { decision } = await beforeRun(store, { hours: 23 });
    expect(decision).toEqual({
      skip: true,
      reason: 'last backup 2026-01-31 23:48:00 UTC (3.2 hours ago); next allowed after 2026-02-01 22:48:00 UTC (respawn protection: 23 hours)',
    });
  });

  it('lets the job run once the last backup is `hours` old, and when `hours` is 0', async () => {
    const store = createMemoryStore({ prefix: 'backups/clara/' });
    await recordAt(store, '2026-01-31T04:00:00Z');
    expect((await beforeRun(store, { hours: 23 })).decision).toBeUndefined();
    expect((await beforeRun(store, { hours: 24 })).decision).toMatchObject({ skip: true });
    expect((await beforeRun(store, { hours: 0 })).decision).toBeUndefined();
  });

  it('falls back to the newest dated object name when there is no record, ignoring other names', async () => {
    const store = createMemoryStore({ prefix: 'backups/clara/' });
    put(store, 'backups/clara/clara_20260131_020000.sql.gz');
    put(store, 'backups/clara/clara_20260201_010000.sql.gz');
    put(store, 'backups/clara/clara_latest.sql.gz');
    put(store, 'backups/clara/clara_x_20260201_025900.sql.gz'); // job clara_x's, not clara's
    const { decision } = await beforeRun(store, {});
    expect(decision).toMatchObject({ skip: true, reason: expect.stringMatching(/^last backup 2026-02-01 01:00:00 UTC \(2\.0 hours ago\)/) });
  });

  it('dates the last backup by the names when the recorded one was deleted by hand', async () => {
    const store = createMemoryStore({ prefix: 'backups/clara/' });
    await recordAt(store, '2026-02-01T02:00:00Z');
    put(store, 'backups/clara/clara_20260130_030000.sql.gz');
    store.objects.delete('backups/clara/clara_20260201_020000.sql.gz');
    const { decision } = await beforeRun(store, {});
    expect(decision).toBeUndefined();
  });

  it('ignores a record pointing outside the store prefix (another pipeline sharing the bucket) and runs with no backup at all', async () => {
    const store = createMemoryStore({ prefix: 'backups/clara/' });
    await recordAt(store, '2026-02-01T02:00:00Z');
    const moved = createMemoryStore({ prefix: 'elsewhere/' });
    for (const [name, value] of store.metadata) await moved.writeMetadata(name, value);
    expect((await beforeRun(moved, {})).decision).toBeUndefined();
  });

  it('with force, runs whatever the age and logs one line that protection is bypassed', async () => {
    const store = createMemoryStore({ prefix: 'backups/clara/' });
    await recordAt(store, '2026-02-01T02:59:00Z');
    const { decision, lines } = await beforeRun(store, { force: 'TRUE' });
    expect(decision).toBeUndefined();
    expect(lines).toEqual([expect.stringMatching(/^Respawn protection bypassed for clara \(force is set\)/)]);
  });

  it('formats ages in seconds, minutes or hours', () => {
    expect([formatAge(1_000), formatAge(59_000), formatAge(60_000), formatAge(3_599_000), formatAge(3_600_000), formatAge(11_520_000)]).toEqual([
      '1 second', '59 seconds', '1 minute', '59 minutes', '1.0 hours', '3.2 hours',
    ]);
  });
});

describe('retention hook', () => {
  const OLD = ['clara_20260101_030000.sql.gz', 'clara_20260120_030000.sql.gz', 'clara_20260128_030000.sql.gz'];

  function seeded(prefix = 'backups/clara/') {
    const store = createMemoryStore({ prefix });
    for (const name of OLD) {
      put(store, `${prefix}${name}`);
      store.metadata.set(`checksums/${prefix}${name}.json`, { sha256: 'ab' });
    }
    put(store, `${prefix}clara_latest.sql.gz`);
    put(store, `${prefix}README.txt`);
    put(store, `${prefix}mem0_20250101_030000.sql.gz`); // another job's, sharing the prefix
    return store;
  }

  it('after a commit, deletes what no rule keeps and its checksum document, and logs each key and the count', async () => {
    const store = seeded();
    const hook = (await retention.create(optionsFor(retention, { days: '7' }), context)) as HookInstance;
    const { run, lines } = hookRun(store);
    put(store, 'backups/clara/clara_20260201_030000.sql.gz');
    const artifact = { job: 'clara', key: 'backups/clara/clara_20260201_030000.sql.gz', size: 1, sourceSize: 1, sha256: 'ab', startedAt: now, finishedAt: now };
    await hook.afterCommit!({ ...run, artifact });

    expect([...store.objects.keys()].sort()).toEqual([
      'backups/clara/README.txt',
      'backups/clara/clara_20260128_030000.sql.gz',
      'backups/clara/clara_20260201_030000.sql.gz',
      'backups/clara/clara_latest.sql.gz',
      'backups/clara/mem0_20250101_030000.sql.gz',
    ]);
    expect([...store.metadata.keys()]).toEqual(['checksums/backups/clara/clara_20260128_030000.sql.gz.json']);
    expect(lines).toEqual([
      'Cleanup: ignoring 2 objects whose name carries no timestamp: backups/clara/clara_latest.sql.gz, backups/clara/README.txt',
      'Removed expired backup backups/clara/clara_20260101_030000.sql.gz',
      'Removed expired backup backups/clara/clara_20260120_030000.sql.gz',
      'Cleanup: removed 2 expired backups',
    ]);
  });

  it('never deletes the backup just written, even if its name dates it long ago', async () => {
    const store = seeded();
    const { run } = hookRun(store);
    const outcome = await applyRetention({ days: 1, keepLast: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 }, { ...run, protect: ['backups/clara/clara_20260101_030000.sql.gz'] });
    expect(outcome.expired).toEqual(['backups/clara/clara_20260120_030000.sql.gz']);
    expect(store.objects.has('backups/clara/clara_20260101_030000.sql.gz')).toBe(true);
    expect(store.objects.has('backups/clara/clara_20260128_030000.sql.gz')).toBe(true); // the newest
  });

  it('in a dry run, lists what would go and deletes nothing', async () => {
    const store = seeded();
    const before = [...store.objects.keys()];
    const { run, lines } = hookRun(store);
    const outcome = await applyRetention({ days: 7, keepLast: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 }, { ...run, dryRun: true });
    expect(outcome).toMatchObject({ expired: ['backups/clara/clara_20260101_030000.sql.gz', 'backups/clara/clara_20260120_030000.sql.gz'], kept: 1 });
    expect([...store.objects.keys()]).toEqual(before);
    expect(store.metadata.size).toBe(3);
    expect(lines.slice(1)).toEqual([
      'Would remove expired backup backups/clara/clara_20260101_030000.sql.gz',
      'Would remove expired backup backups/clara/clara_20260120_030000.sql.gz',
      'Cleanup (dry run): would remove 2 expired backups, keep 1',
    ]);
  });

  it('with an empty prefix, leaves the metadata documents and sub-folders alone', async () => {
    const store = createMemoryStore();
    put(store, 'clara_20250101_030000.sql.gz');
    put(store, 'clara_20260201_030000.sql.gz');
    put(store, 'metadata/checksums/clara_20250101_030000.sql.gz.json');
    put(store, 'old/clara_20240101_030000.sql.gz');
    const { run, lines } = hookRun(store);
    const outcome = await applyRetention({ days: 7, keepLast: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 }, run);
    expect(outcome).toEqual({ expired: ['clara_20250101_030000.sql.gz'], kept: 1, ignored: [] });
    expect([...store.objects.keys()].sort()).toEqual(['clara_20260201_030000.sql.gz', 'metadata/checksums/clara_20250101_030000.sql.gz.json', 'old/clara_20240101_030000.sql.gz']);
    expect(lines).toContain('Cleanup: removed 1 expired backups');
  });

  it('deletes nothing and says so when every rule is 0', async () => {
    const store = seeded();
    const count = store.objects.size;
    const { run, lines } = hookRun(store);
    const outcome = await applyRetention({ days: 0, keepLast: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 }, run);
    expect(outcome.expired).toEqual([]);
    expect(store.objects.size).toBe(count);
    expect(lines.at(-1)).toBe('Cleanup: no retention rule is set for clara (days and every keep* are 0), nothing is deleted');
  });

  it('says nothing at info level when nothing expired after a run', async () => {
    const store = createMemoryStore({ prefix: 'backups/clara/' });
    put(store, 'backups/clara/clara_20260201_030000.sql.gz');
    const { run, lines } = hookRun(store);
    await applyRetention({ days: 7, keepLast: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 }, run);
    expect(lines).toEqual(['DEBUG: Cleanup: nothing expired for clara (1 backup kept)']);
  });
});

describe('listJobBackups', () => {
  it('follows the job name template, as ls and restore do', async () => {
    const { createMemoryStore } = await import('@backupctl/plugin-api/testing');
    const { listJobBackups } = await import('../src/catalog/job-backups.js');
    const { Readable } = await import('node:stream');
    const store = createMemoryStore({ prefix: 'db/' });
    const signal = new AbortController().signal;
    for (const name of ['nightly-clara-20260101_030000.sql.gz', 'clara_20260102_030000.sql.gz', 'notes.txt']) {
      await store.write(Readable.from([Buffer.from(name)]), name, signal);
    }
    const scan = await listJobBackups(store, { name: 'clara', nameTemplate: 'nightly-{job}-{timestamp}{ext}', extension: '.sql.gz' });
    expect(scan.backups.map((backup) => [backup.key, backup.time.toISOString()])).toEqual([
      ['db/nightly-clara-20260101_030000.sql.gz', '2026-01-01T03:00:00.000Z'],
    ]);
    expect(scan.ignored).toEqual(['db/notes.txt']);
  });

  it('takes every object of a template without {ext} (a copy with anything added does not have its shape)', async () => {
    const store = createMemoryStore({ prefix: 'db/' });
    for (const key of ['db/clara-20260101_030000', 'db/clara-20260102_030000.bak', 'db/clara-20260103_030000 (1)']) {
      store.objects.set(key, { body: Buffer.from('x'), lastModified: new Date() });
    }
    const scan = await listJobBackups(store, { name: 'clara', nameTemplate: '{job}-{timestamp}', extension: '.sql.gz' });
    expect(scan.backups.map((backup) => backup.key)).toEqual(['db/clara-20260101_030000']);
  });
});
