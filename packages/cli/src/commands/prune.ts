import { cliHost } from '../host.js';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { loadPipeline, pruneJobs, selectJobs } from '@backupctl/core';
import { abortOnSignals } from '../runtime/abort-on-signals.js';
import { BaseCommand } from '../runtime/base-command.js';

export default class Prune extends BaseCommand {
  static override summary = "Apply each job's retention hook to its store now, without backing up.";
  static override description =
    'Deletes the backups that the rules of the job\'s `use: retention` hook no longer keep, exactly as `run` does after a ' +
    'successful backup: never the newest backup of a job, never an object whose name carries no timestamp. ' +
    'With --dry-run, shows what would be deleted and deletes nothing. Jobs without a retention hook are skipped.';
  static override examples = [
    '<%= config.bin %> prune --dry-run',
    '<%= config.bin %> prune backupctl.yml --job clara',
  ];
  static override args = {
    file: Args.string({ description: 'Pipeline file (found as `run` finds it when omitted).' }),
  };
  static override flags = {
    job: Flags.string({ char: 'j', multiple: true, description: 'Prune only this job (repeatable).' }),
    'dry-run': Flags.boolean({ description: 'Show what would be deleted; delete nothing.', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Prune);
    const logger = this.createLogger();
    const pipeline = await loadPipeline({ host: cliHost(), file: args.file });
    const jobs = selectJobs(pipeline, flags.job ?? []);
    const cancel = abortOnSignals();
    try {
      await pruneJobs(jobs, { logger, secrets: this.secrets, signal: cancel.signal, dryRun: flags['dry-run'] });
    } finally {
      cancel.dispose();
    }
  }
}
