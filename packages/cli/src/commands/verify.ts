import { cliHost } from '../host.js';
import path from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { formatSize, isBackupctlError } from '@backupctl/plugin-api';
import {
  formatComparison,
  formatSeconds,
  formatUtcTime,
  loadPipeline,
  selectJobs,
  verifyJobOrParts,
  type ExpandedVerifyOutcome,
  type VerifyOutcome,
} from '@backupctl/core';
import { abortOnSignals } from '../runtime/abort-on-signals.js';
import { backupChoiceFlags, fromFlag, scratchUrlFlag } from '../runtime/backup-flags.js';
import { BaseCommand } from '../runtime/base-command.js';
import { EXIT_FAILED } from '../render/report-error.js';
import { restoredJson } from './restore.js';

export default class Verify extends BaseCommand {
  static override summary = 'Prove a backup restores: restore it into a scratch database and compare every table with its manifest.';
  static override description =
    'Restores the chosen backup (the newest unless --key or --at says otherwise) into a new scratch database on the ' +
    "job's server (or on the server of --scratch-url), checking its SHA-256 on the way, counts the rows of every " +
    "table there and compares them with the backup's manifest (the rows it held when it was taken: exact, so any " +
    'difference is a defect of the backup), prints the comparison, drops the scratch database whatever happened, ' +
    'and records the result in the store (metadata/verified/<key>.json; `ls` marks it, retention keeps the newest ' +
    'backup that passed). A backup without a manifest, or --against-source, is compared with the live database ' +
    'instead, where changes since the backup show as differences. Exits 0 only when the checksum holds and every ' +
    "table matches. The job's hooks (webhook) are told the result. A whole-server job (databases: all) verifies " +
    'each database in a scratch database of its own; the globals (roles, tablespaces) hold no tables and are skipped.';
  static override examples = ['<%= config.bin %> verify clara', '<%= config.bin %> verify mem0 --at 2026-02-01 --json'];
  static override args = {
    job: Args.string({ required: true, description: 'The job whose backup to verify.' }),
    file: Args.string({ description: 'Pipeline file (found as `run` finds it when omitted).' }),
  };
  static override flags = {
    ...backupChoiceFlags('verify'),
    'scratch-url': scratchUrlFlag('the scratch database'),
    'against-source': Flags.boolean({
      description: 'Compare with the live source database instead of the backup\'s manifest (changes since the backup then show as differences).',
    }),
    from: fromFlag,
    json: Flags.boolean({ description: 'Print the result as JSON on stdout.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Verify);
    this.secrets.add(flags['scratch-url']);
    const logger = this.createLogger();
    const pipeline = await loadPipeline({ host: cliHost(), file: args.file, jobs: [args.job] });
    const [job] = selectJobs(pipeline, [args.job]);
    const cancel = abortOnSignals();
    let outcome: VerifyOutcome | ExpandedVerifyOutcome;
    const options = { logger, secrets: this.secrets, signal: cancel.signal, selection: { key: flags.key, at: flags.at }, from: flags.from, scratchUrl: flags['scratch-url'], againstSource: flags['against-source'], notify: true };
    try {
      // Whole servers (expand-job.ts): each database part in a scratch database of its own.
      outcome = await verifyJobOrParts(job!, options);
    } catch (error) {
      if (flags.json && isBackupctlError(error)) {
        this.printJson({ ok: false, job: job!.name, error: { code: error.code, message: error.message } });
      }
      throw error;
    } finally {
      cancel.dispose();
    }
    if ('parts' in outcome) {
      const { parts, skipped } = outcome;
      if (flags.json) this.printJson({ ok: outcome.ok, job: job!.name, parts: parts.map(verifyJson), skipped });
      else this.print([...parts.map(formatOutcome), ...(skipped.length ? [`Skipped (nothing to count): ${skipped.join(', ')}`] : [])].join('\n\n'));
    } else {
      if (flags.json) this.printJson(verifyJson(outcome));
      else this.print(formatOutcome(outcome));
    }
    if (!outcome.ok) this.exit(EXIT_FAILED);
  }
}

function verifyJson(outcome: VerifyOutcome) {
  return {
    ok: outcome.ok,
    ...restoredJson(outcome.restored),
    against: outcome.against,
    scratch: outcome.scratch,
    tables: outcome.tables,
    differences: outcome.differences,
    durationSeconds: outcome.durationMs / 1000,
  };
}

function formatOutcome(outcome: VerifyOutcome): string {
  const { restored } = outcome;
  const taken = restored.takenAt ? `taken ${formatUtcTime(restored.takenAt)}, ` : '';
  const checksum = restored.checksum === 'verified' ? 'SHA-256 verified' : 'no checksum recorded (not written by backupctl?)';
  const rows = outcome.tables.reduce((sum, table) => sum + (table.restoredRows ?? 0), 0);
  const reference = outcome.against === 'manifest' ? 'its manifest' : 'the source database';
  const why = outcome.against === 'manifest' ? 'the backup does not hold what was dumped' : 'changed since the backup, or the backup is incomplete';
  const verdict = outcome.ok
    ? `OK: ${path.posix.basename(restored.key)} restores, and all ${outcome.tables.length} tables (${rows} rows) match ${reference}`
    : `FAILED: ${outcome.differences} of ${outcome.tables.length} tables differ from ${reference} (${why})`;
  return [
    `Backup:   ${restored.key}${restored.copy ? ` from copy ${restored.copy}` : ''} (${taken}${formatSize(restored.storedBytes)}, ${checksum})`,
    `Restored: ${formatSize(restored.restoredBytes)} of ${restored.result.format} into scratch database ${outcome.scratch} in ${formatSeconds(restored.durationMs)} (dropped)`,
    '',
    outcome.tables.length ? formatComparison(outcome.tables, outcome.against) : `(no tables in ${reference} or the backup)`,
    '',
    verdict,
  ].join('\n');
}
