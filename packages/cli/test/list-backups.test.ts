import { describe, expect, it } from 'vitest';
import { definePlugin, Secrets, Type, type SinkInstance } from '@backupctl/plugin-api';
import type { LoadedJob, LoadedStep } from '../../core/src/config/load-pipeline.js';
import { backupNameMatcher } from '../../core/src/naming/backup-name-matcher.js';
import { backupListItems, formatBackupList } from '../src/render/format-backup-list.js';
import { listBackups, type JobBackups } from '../../core/src/catalog/list-backups.js';
import { createLogger } from '../../core/src/log/logger.js';
import { recordVerification } from '../../core/src/catalog/verification-records.js';
import { createMemoryStore, type MemoryStore } from '@backupctl/plugin-api/testing';

const MB = 1024 * 1024;

function sinkStep(create: () => SinkInstance): LoadedStep {
  const plugin = definePlugin({ name: 'memory', kind: 'sink', schema: Type.Object({}), create });
  return { use: 'memory', kind: 'sink', from: 'test', options: {}, path: 'jobs.t.sink', plugin: plugin as never };
}

/** A source naming its objects `.sql.gz`, as postgres and gzip together do: what tells the job's backups. */
const sourceStep: LoadedStep = {
  use: 'fake',
  kind: 'source',
  from: 'test',
  options: {},
  path: 'jobs.t.source',
  plugin: definePlugin({
    name: 'fake',
    kind: 'source',
    schema: Type.Object({}),
    create: (_options, context) => {
      context.artifact.extension = '.sql.gz';
      return { open: () => Promise.reject(new Error('not used')) };
    },
  }) as never,
};

function job(name: string, title: string, store: () => SinkInstance, extra: Partial<LoadedJob> = {}): LoadedJob {
  return { name, title, nameTemplate: '{job}_{timestamp}{ext}', source: sourceStep, transforms: [], hooks: [], sink: sinkStep(store), ...extra };
}

/** A view of one memory store with its own prefix, as each job's sink would open it. */
function under(store: MemoryStore, prefix: string): () => SinkInstance {
  return () => ({ ...store, prefix });
}

function put(store: MemoryStore, key: string, size: number, lastModified = new Date('2026-02-02T00:00:00Z')): void {
  store.objects.set(key, { body: Buffer.alloc(size), lastModified });
}

function environment() {
  const secrets = new Secrets();
  return { logger: createLogger({ secrets, write: () => undefined }), secrets, signal: new AbortController().signal };
}

// The reference's own sample data (backup-service.md, "List Backups").
const sample: JobBackups[] = [
  {
    location: 'clara-backups',
    job: 'clara',
    title: 'Clara DB',
    copies: ['memory'],
    backups: [
      { key: 'backups/clara/clara_20260201_030000.sql.gz', size: 2.5 * MB, time: new Date('2026-02-01T03:00:00Z'), copies: ['memory'] },
      { key: 'backups/clara/clara_20260131_030000.sql.gz', size: Math.round(2.4 * MB), time: new Date('2026-01-31T03:00:00Z'), copies: ['memory'] },
    ],
  },
  {
    location: 'clara-backups',
    job: 'mem0',
    title: 'Mem0 DB',
    copies: ['memory'],
    backups: [
      { key: 'backups/mem0/mem0_20260201_030000.sql.gz', size: Math.round(1.2 * MB), time: new Date('2026-02-01T03:00:00Z'), copies: ['memory'] },
      { key: 'backups/mem0/mem0_20260131_030000.sql.gz', size: Math.round(1.1 * MB), time: new Date('2026-01-31T03:00:00Z'), copies: ['memory'] },
    ],
  },
];

describe('formatBackupList', () => {
  it("prints the reference service's --list output for its sample data, line for line", () => {
    expect(formatBackupList(sample).split('\n')).toEqual([
      'Available backups in clara-backups:',
      '',
      'Clara DB backups:',
      '  - backups/clara/clara_20260201_030000.sql.gz (2.5 MB)',
      '  - backups/clara/clara_20260131_030000.sql.gz (2.4 MB)',
      '',
      'Mem0 DB backups:',
      '  - backups/mem0/mem0_20260201_030000.sql.gz (1.2 MB)',
      '  - backups/mem0/mem0_20260131_030000.sql.gz (1.1 MB)',
    ]);
  });

  it('prints one header per store, "(none)" for a job without backups, and small sizes in KB and bytes', () => {
    const listing: JobBackups[] = [
      { location: 'bucket-a', job: 'clara', title: 'Clara DB', copies: ['memory'], backups: [{ key: 'c/clara_20260201_030000.sql.gz', size: 1536, time: new Date(), copies: ['memory'] }] },
      { location: 'bucket-b', job: 'mem0', title: 'Mem0 DB', copies: ['memory'], backups: [] },
      { location: 'bucket-a', job: 'logs', title: 'logs', copies: ['memory'], backups: [{ key: 'logs_20260201_030000', size: 12, time: new Date(), copies: ['memory'] }] },
    ];
    expect(formatBackupList(listing)).toBe(
      [
        'Available backups in bucket-a:',
        '',
        'Clara DB backups:',
        '  - c/clara_20260201_030000.sql.gz (1.5 KB)',
        '',
        'logs backups:',
        '  - logs_20260201_030000 (12 B)',
        '',
        'Available backups in bucket-b:',
        '',
        'Mem0 DB backups:',
        '  (none)',
      ].join('\n'),
    );
  });

  it('flattens the listing for --json with ISO times', () => {
    expect(backupListItems(sample)[0]).toEqual({
      job: 'clara',
      location: 'clara-backups',
      key: 'backups/clara/clara_20260201_030000.sql.gz',
      size: 2.5 * MB,
      time: '2026-02-01T03:00:00.000Z',
      copies: ['memory'],
    });
    expect(backupListItems(sample).map((item) => item.job)).toEqual(['clara', 'clara', 'mem0', 'mem0']);
  });
});

describe('backupNameMatcher', () => {
  it("accepts only the job's own names under the prefix, with a valid timestamp", () => {
    const timeOf = backupNameMatcher({ name: 'clara', nameTemplate: '{job}_{timestamp}{ext}' }, 'backups/clara/');
    expect(timeOf('backups/clara/clara_20260201_030000.sql.gz')).toEqual({ time: new Date('2026-02-01T03:00:00Z'), extension: '.sql.gz' });
    expect(timeOf('backups/clara/clara_20260201_030000')).toEqual({ time: new Date('2026-02-01T03:00:00Z'), extension: '' });
    for (const other of [
      'backups/clara/clara_x_20260201_030000.sql.gz', // another job sharing the prefix
      'backups/clara/notes.txt',
      'backups/clara/clara_20261301_030000.sql.gz', // month 13
      'backups/clara/clara_20260201_030000_copy.sql.gz',
      'backups/clara/old/clara_20260201_030000.sql.gz',
      'elsewhere/clara_20260201_030000.sql.gz',
    ]) {
      expect(timeOf(other), other).toBeUndefined();
    }
  });

  it('follows a custom name template, sub-directories included', () => {
    const timeOf = backupNameMatcher({ name: 'db.main', nameTemplate: 'nightly/{job}-{timestamp}{ext}' }, '');
    expect(timeOf('nightly/db.main-20260201_030000.dump')).toEqual({ time: new Date('2026-02-01T03:00:00Z'), extension: '.dump' });
    expect(timeOf('nightly/dbxmain-20260201_030000.dump')).toBeUndefined();
  });
});

describe('listBackups', () => {
  it("lists each job's backups newest first by the time in the name, leaving out other keys", async () => {
    const bucket = createMemoryStore({ location: 'clara-backups' });
    // Written out of order, with lastModified contradicting the names: the name decides.
    put(bucket, 'backups/clara/clara_20260131_030000.sql.gz', 200, new Date('2026-03-01T00:00:00Z'));
    put(bucket, 'backups/clara/clara_20260201_030000.sql.gz', 300, new Date('2026-01-01T00:00:00Z'));
    put(bucket, 'backups/clara/clara_20260130_030000.sql.gz', 100);
    put(bucket, 'backups/clara/README.txt', 5);
    put(bucket, 'backups/mem0/mem0_20260201_030000.sql.gz', 50);
    put(bucket, 'metadata/last_backup.json', 10);
    put(bucket, 'unrelated/clara_20260202_030000.sql.gz', 10);

    const listing = await listBackups(
      [
        job('clara', 'Clara DB', under(bucket, 'backups/clara/')),
        // Skipped for run (no database here), still listed.
        job('mem0', 'Mem0 DB', under(bucket, 'backups/mem0/'), { skipReason: 'MEM0_DATABASE_URL is not set' }),
      ],
      environment(),
    );
    expect(listing).toEqual([
      {
        location: 'clara-backups',
        job: 'clara',
        title: 'Clara DB',
        copies: ['memory'],
        backups: [
          { key: 'backups/clara/clara_20260201_030000.sql.gz', size: 300, time: new Date('2026-02-01T03:00:00Z'), copies: ['memory'] },
          { key: 'backups/clara/clara_20260131_030000.sql.gz', size: 200, time: new Date('2026-01-31T03:00:00Z'), copies: ['memory'] },
          { key: 'backups/clara/clara_20260130_030000.sql.gz', size: 100, time: new Date('2026-01-30T03:00:00Z'), copies: ['memory'] },
        ],
      },
      {
        location: 'clara-backups',
        job: 'mem0',
        title: 'Mem0 DB',
        copies: ['memory'],
        backups: [{ key: 'backups/mem0/mem0_20260201_030000.sql.gz', size: 50, time: new Date('2026-02-01T03:00:00Z'), copies: ['memory'] }],
      },
    ]);
  });

  it('closes every store it opened, also when listing fails, and passes the failure on', async () => {
    const closed: unknown[] = [];
    const good = createMemoryStore({ location: 'a' });
    const failing: SinkInstance = {
      ...createMemoryStore({ location: 'b' }),
      // eslint-disable-next-line require-yield
      async *list() {
        throw new Error('bucket b does not exist');
      },
      async close(error) {
        closed.push(error);
      },
    };
    const jobs = [job('one', 'One', () => ({ ...good, close: async (error) => void closed.push(error ?? 'clean') })), job('two', 'Two', () => failing)];
    await expect(listBackups(jobs, environment())).rejects.toThrow('bucket b does not exist');
    expect(closed).toEqual(['clean', expect.objectContaining({ message: 'bucket b does not exist' })]);
  });

  it('leaves out a skipped job whose sink is not configured here, and reports a missing sink otherwise', async () => {
    const skipped = job('mem0', 'Mem0 DB', () => createMemoryStore(), { sink: undefined, skipReason: 'MEM0_DATABASE_URL is not set' });
    expect(await listBackups([skipped], environment())).toEqual([]);
    const broken = job('clara', 'Clara DB', () => createMemoryStore(), { sink: undefined });
    await expect(listBackups([broken], environment())).rejects.toThrow('job clara: its sink is not configured here');
  });
});

describe('listBackups of a job with several copies', () => {
  function copied(stores: Record<string, () => SinkInstance>): LoadedJob {
    const copies = Object.entries(stores).map(([name, store]) => ({ name, sink: { ...sinkStep(store), use: name }, hooks: [], required: true }));
    return job('clara', 'Clara DB', stores[copies[0]!.name]!, { sink: copies[0]!.sink, copies });
  }

  it('shows each backup once with the copies holding it, the first holder\'s key and its marks', async () => {
    const bucket = createMemoryStore({ location: 'clara-backups', prefix: 'backups/clara/' });
    const nas = createMemoryStore({ location: '/mnt/nas', prefix: 'clara/' });
    put(bucket, 'backups/clara/clara_20260201_030000.sql.gz', 300);
    put(bucket, 'backups/clara/clara_20260131_030000.sql.gz', 200);
    put(nas, 'clara/clara_20260201_030000.sql.gz', 300);
    put(nas, 'clara/clara_20260202_030000.sql.gz', 310); // the primary missed this run
    // Verified in the second copy only: ls still marks it.
    await recordVerification(nas, { key: 'clara/clara_20260201_030000.sql.gz', job: 'clara', result: 'passed', verifiedAt: '2026-02-01T04:00:00Z', where: 'x', durationMs: 1, tables: 1, differences: [], against: 'manifest' });

    const listing = await listBackups([copied({ s3: () => bucket, nas: () => nas })], environment());
    expect(listing).toEqual([
      {
        location: 'clara-backups',
        job: 'clara',
        title: 'Clara DB',
        copies: ['s3', 'nas'],
        backups: [
          { key: 'clara/clara_20260202_030000.sql.gz', size: 310, time: new Date('2026-02-02T03:00:00Z'), copies: ['nas'], places: { nas: { key: 'clara/clara_20260202_030000.sql.gz', location: '/mnt/nas' } } },
          {
            key: 'backups/clara/clara_20260201_030000.sql.gz',
            size: 300,
            time: new Date('2026-02-01T03:00:00Z'),
            copies: ['s3', 'nas'],
            verified: 'passed',
            // Where each copy keeps it: restore-help fetches from each.
            places: { s3: { key: 'backups/clara/clara_20260201_030000.sql.gz', location: 'clara-backups' }, nas: { key: 'clara/clara_20260201_030000.sql.gz', location: '/mnt/nas' } },
          },
          { key: 'backups/clara/clara_20260131_030000.sql.gz', size: 200, time: new Date('2026-01-31T03:00:00Z'), copies: ['s3'], places: { s3: { key: 'backups/clara/clara_20260131_030000.sql.gz', location: 'clara-backups' } } },
        ],
      },
    ]);
    expect(formatBackupList(listing).split('\n')).toEqual([
      'Available backups in clara-backups:',
      '',
      'Clara DB backups:',
      '  - clara/clara_20260202_030000.sql.gz (310 B) [copies: nas]',
      '  - backups/clara/clara_20260201_030000.sql.gz (300 B) [copies: s3, nas] [verified]',
      '  - backups/clara/clara_20260131_030000.sql.gz (200 B) [copies: s3]',
    ]);
    expect(backupListItems(listing).map((item) => item.copies)).toEqual([['nas'], ['s3', 'nas'], ['s3']]);
  });

  it('lists the other copies, with a warning, when one cannot be listed', async () => {
    const nas = createMemoryStore({ location: '/mnt/nas', prefix: 'clara/' });
    put(nas, 'clara/clara_20260201_030000.sql.gz', 300);
    const down: SinkInstance = {
      ...createMemoryStore({ location: 'clara-backups' }),
      // eslint-disable-next-line require-yield
      async *list() {
        throw new Error('connect ECONNREFUSED');
      },
    };
    const lines: string[] = [];
    const secrets = new Secrets();
    const listing = await listBackups([copied({ s3: () => down, nas: () => nas })], {
      logger: createLogger({ secrets, write: (line) => lines.push(line.slice(22)) }),
      secrets,
      signal: new AbortController().signal,
    });
    expect(listing[0]).toMatchObject({ location: '/mnt/nas', backups: [{ key: 'clara/clara_20260201_030000.sql.gz', copies: ['nas'] }] });
    expect(lines).toContainEqual(expect.stringMatching(/^WARN: Clara DB: copy s3 could not be listed \(.*ECONNREFUSED\); ls shows the other copies$/));
  });
});
