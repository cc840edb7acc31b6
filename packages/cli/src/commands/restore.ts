import { cliHost } from '../host.js';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { loadPipeline, restoreExpandedJob, restoreJob, selectJobs, type RestoredBackup } from '@backupctl/core';
import { abortOnSignals } from '../runtime/abort-on-signals.js';
import { backupChoiceFlags, fromFlag } from '../runtime/backup-flags.js';
import { BaseCommand } from '../runtime/base-command.js';

export default class Restore extends BaseCommand {
  static override summary = "Restore a job's backup into a database, checking its SHA-256 on the way.";
  static override description =
    'Streams the backup from the store through each transform\'s inverse (gunzip) into the source\'s client (postgres: psql, ' +
    'or pg_restore for a custom archive; mysql: mariadb or mysql): no temp file, flat memory. PostgreSQL restores in one transaction: it stops at the first SQL error, and ' +
    'a checksum mismatch or a damaged object rolls everything back, so the target is left as it was. MySQL and MariaDB ' +
    'commit DDL implicitly, so there a restore goes into a new or empty database, dropped or emptied again on any failure. The target ' +
    'defaults to the job\'s own database; one that already has tables is refused unless --yes is given (its schemas ' +
    'are then dropped and replaced, in the same transaction). Takes the newest backup unless --key or --at says otherwise. A job with several sinks reads the first copy holding it, and the next copy when that one is missing, unreadable or fails its checksum (--from picks one).';
  static override examples = [
    '<%= config.bin %> restore clara --target-url "$RESTORE_URL" --create',
    '<%= config.bin %> restore clara --at 2026-02-01 --yes',
    '<%= config.bin %> restore mem0 --key mem0_20260201_030000.sql.gz --target-url "$RESTORE_URL"',
    '<%= config.bin %> restore main --target-url "$NEW_SERVER_URL" --create   # a whole-server job: globals, then every database',
  ];
  static override args = {
    job: Args.string({ required: true, description: 'The job whose backup to restore.' }),
    file: Args.string({ description: 'Pipeline file (found as `run` finds it when omitted).' }),
  };
  static override flags = {
    ...backupChoiceFlags('restore'),
    'target-url': Flags.string({
      env: 'RESTORE_TARGET_URL',
      description: "Database to restore into (postgresql://..., mysql://...). Default: the job's own database. Prefer the RESTORE_TARGET_URL variable: argv is visible to other users.",
    }),
    create: Flags.boolean({ description: 'Create the target database first (it must not exist yet).' }),
    yes: Flags.boolean({ char: 'y', description: 'Replace what the target database already holds.' }),
    from: fromFlag,
    json: Flags.boolean({ description: 'Print a JSON summary on stdout.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Restore);
    this.secrets.add(flags['target-url']);
    const logger = this.createLogger();
    const pipeline = await loadPipeline({ host: cliHost(), file: args.file, jobs: [args.job] });
    const [job] = selectJobs(pipeline, [args.job]);
    const cancel = abortOnSignals();
    let restored: RestoredBackup | RestoredBackup[];
    try {
      const options = {
        logger,
        secrets: this.secrets,
        signal: cancel.signal,
        selection: { key: flags.key, at: flags.at },
        from: flags.from,
        target: { url: flags['target-url'], create: flags.create, replace: flags.yes },
      };
      // Whole servers (restore-expanded.ts): every part, globals first; --json then prints an array.
      restored = (await restoreExpandedJob(job!, options)) ?? (await restoreJob(job!, options));
    } finally {
      cancel.dispose();
    }
    if (flags.json) this.printJson(Array.isArray(restored) ? restored.map(restoredJson) : restoredJson(restored));
  }
}

/** The JSON shape of a restored backup, shared with `verify --json`. */
export function restoredJson(restored: RestoredBackup) {
  return {
    job: restored.job,
    key: restored.key,
    takenAt: restored.takenAt?.toISOString(),
    storedBytes: restored.storedBytes,
    restoredBytes: restored.restoredBytes,
    sha256: restored.sha256,
    checksum: restored.checksum,
    target: restored.result.target,
    format: restored.result.format,
    replacedTables: restored.result.replaced,
    durationSeconds: restored.durationMs / 1000,
    ...(restored.copy ? { copy: restored.copy } : {}),
  };
}
