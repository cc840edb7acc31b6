import { cliHost } from '../host.js';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { listBackups, loadPipeline, selectJobs } from '@backupctl/core';
import { backupListItems, formatBackupList } from '../render/format-backup-list.js';
import { abortOnSignals } from '../runtime/abort-on-signals.js';
import { BaseCommand } from '../runtime/base-command.js';

export default class Ls extends BaseCommand {
  static override summary = "List every job's backups, newest first.";
  static override description =
    'Reads the store behind each job\'s sink (bucket, directory) and prints its backups as the reference service\'s ' +
    '--list did: one "Available backups in <bucket>:" header per store, then "<title> backups:" with key and size. ' +
    'A job with none shows "(none)". Jobs skipped by run for want of their database (MEM0_DATABASE_URL unset) are ' +
    'listed too. Finds FILE as run does.';
  static override examples = ['<%= config.bin %> ls', '<%= config.bin %> ls --job clara --json'];
  static override args = {
    file: Args.string({ description: 'Pipeline file.' }),
  };
  static override flags = {
    job: Flags.string({ char: 'j', multiple: true, description: 'List only this job (repeatable).' }),
    json: Flags.boolean({ description: 'Print a JSON array of { job, location, key, size, time, copies } instead.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Ls);
    const logger = this.createLogger();
    const pipeline = await loadPipeline({ host: cliHost(), file: args.file });
    const jobs = selectJobs(pipeline, flags.job ?? []);
    const cancel = abortOnSignals();
    try {
      const listing = await listBackups(jobs, { logger, secrets: this.secrets, signal: cancel.signal });
      if (flags.json) this.printJson(backupListItems(listing));
      else this.print(formatBackupList(listing));
    } finally {
      cancel.dispose();
    }
  }
}
