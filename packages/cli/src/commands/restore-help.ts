import { cliHost } from '../host.js';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { expandStoredJob, listBackupsOf, loadPipeline, selectJobs } from '@backupctl/core';
import { formatRestoreHelp, formatWholeServerRestoreHelp } from '../render/restore-help.js';
import { abortOnSignals } from '../runtime/abort-on-signals.js';
import { BaseCommand } from '../runtime/base-command.js';

export default class RestoreHelp extends BaseCommand {
  static override summary = 'Print the steps to restore the newest backup of each job by hand.';
  static override description =
    "The reference service's restore procedure (download, decompress, restore with psql, or into a new database " +
    'first), filled in with the real bucket, endpoint and newest key of each job, then the same with backupctl ' +
    'restore. Databases and credentials are named by their environment variables; no secret is printed.';
  static override examples = ['<%= config.bin %> restore-help', '<%= config.bin %> restore-help --job clara'];
  static override args = {
    file: Args.string({ description: 'Pipeline file.' }),
  };
  static override flags = {
    job: Flags.string({ char: 'j', multiple: true, description: 'Only this job (repeatable).' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RestoreHelp);
    const logger = this.createLogger();
    const pipeline = await loadPipeline({ host: cliHost(), file: args.file });
    const jobs = selectJobs(pipeline, flags.job ?? []);
    // Nothing below prints a database URL, but mask them in case a plugin's message would.
    // (A skipped job's url is still the literal `${VAR}`: nothing to mask.)
    for (const job of jobs) if (!job.skipReason) this.secrets.add(stringOf(job.source?.options.url));
    const cancel = abortOnSignals();
    try {
      const environment = { logger, secrets: this.secrets, signal: cancel.signal };
      const sections: string[] = [];
      for (const job of jobs) {
        // Whole servers (expand-job.ts): the parts the store holds, each with its own steps.
        const parts = await expandStoredJob(job, environment);
        const listing = await listBackupsOf(parts ?? [job], environment);
        // The file as written: the commands name ${VARIABLES} instead of their values.
        const options = { raw: pipeline.raw };
        sections.push(parts ? formatWholeServerRestoreHelp(job, parts, listing, options) : formatRestoreHelp([job], listing, options));
      }
      this.print(sections.filter(Boolean).join('\n\n'));
    } finally {
      cancel.dispose();
    }
  }
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
